"""What every rule family shares: the finding record, the rule registry, path and name helpers.

A rule says *what* it saw (a :class:`Finding` naming a rule id); the registry says what that rule
means: the failure-catalogue entry behind it and its blast class. The screener turns findings into
a verdict with the context (who created the target, which environment).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Blast",
    "Finding",
    "RuleSpec",
    "RULES",
    "PlanState",
    "PathClass",
    "classify_path",
    "norm_target",
    "is_shared_branch",
    "has_prod_marker",
    "snippet",
    "Scanner",
    "EMBEDDED",
    "UNRECOGNISED",
    "scan_embedded",
    "SQL_ARGUMENT",
]

Blast = Literal["catastrophic", "destructive", "external", "opaque", "unknown"]
"""``catastrophic``: deny unless every target is provably this run's own (the root file system,
a device, audit logs, a shared branch's history). ``destructive``: deletes or overwrites what may
not come back; the context decides (this run's sandbox: allow; a human's or production: deny;
unknown: a human approves). ``external``: leaves the system (money, mass messages); a human
approves whatever the context, because no sandbox can call it back. ``opaque``: what will run is
only known at run time (a command name built by a substitution, a decoded payload, downloaded
code from a known vendor, a system configuration file): a human reads it first whatever the
context, and it is never allowed unattended, not even in the run's own sandbox. ``unknown``:
the rules do not recognise the action as safe (:mod:`mapek.safety.rules.recognise`); held for
the judge or a person (``needs_approval``, never ``deny``), allowed only when it is confined to
what this run created."""


@dataclass(frozen=True)
class RuleSpec:
    """What a rule id means."""

    catalogue_id: str
    """The failure-catalogue entry this rule detects."""
    blast: Blast
    summary: str
    """One line, used as the reason's message."""


def _r(cat: str, blast: Blast, summary: str) -> RuleSpec:
    return RuleSpec(cat, blast, summary)


RULES: dict[str, RuleSpec] = {
    # shell
    "shell.rm-root": _r("shell-recursive-delete-root", "catastrophic",
                        "recursive delete of /, a top-level system folder or a home folder"),
    "shell.rm-empty-var": _r("shell-unguarded-variable-delete", "catastrophic",
                             "recursive delete of a path built on a variable that may be empty "
                             "(use ${VAR:?})"),
    "shell.rm-recursive": _r("shell-recursive-delete", "destructive",
                             "recursive or wildcard delete of files that are not scratch"),
    "shell.rm-file": _r("shell-recursive-delete", "destructive",
                        "delete of a system, database or backup file"),
    "shell.find-delete": _r("shell-find-delete", "destructive",
                            "find with -delete or -exec rm over a broad tree"),
    "shell.device-write": _r("shell-device-overwrite", "catastrophic",
                             "raw write to, format or wipe of a block device"),
    "shell.truncate": _r("shell-overwrite-truncate", "destructive",
                         "file truncated or overwritten in place"),
    "shell.system-overwrite": _r("shell-overwrite-truncate", "catastrophic",
                                 "redirection or truncation over a system file"),
    "shell.perm-recursive": _r("shell-recursive-permissions", "catastrophic",
                               "recursive chmod/chown over a system or home folder"),
    "shell.shred": _r("shell-recursive-delete", "destructive", "secure erase (shred/srm)"),
    "shell.crontab-remove": _r("shell-scheduler-wipe", "destructive",
                               "removes every scheduled job (crontab -r)"),
    "shell.user-delete": _r("shell-recursive-delete", "destructive",
                            "deletes a user account with its home folder"),
    "shell.user-remove": _r("system-control-write", "destructive",
                            "deletes a user account (its files are left, but who may log in "
                            "changes and the account's groups and ids are lost)"),
    "shell.container-volumes": _r("container-volume-delete", "destructive",
                                  "deletes container volumes (data)"),
    "shell.sync-delete": _r("shell-recursive-delete", "destructive",
                            "sync with --delete removes files at the destination"),
    "shell.http-delete": _r("api-delete-call", "destructive", "HTTP DELETE against an API"),
    "shell.nested-schedule": _r("scheduled-destruction", "destructive",
                                "a destructive command installed to run later (cron line, "
                                "at job, a command string piped to a shell)"),
    "shell.dynamic-command": _r("obfuscated-command", "opaque",
                                "the command's name is built at run time (substitution, "
                                "variable, alias, brace or ${IFS} tricks)"),
    "shell.decoded-exec": _r("obfuscated-command", "opaque",
                             "a decoded payload (base64, hex, rot13, reversed) is fed to an "
                             "interpreter"),
    "shell.pipe-to-interpreter": _r("remote-code-execution", "opaque",
                                    "downloaded code is run (piped, substituted or "
                                    "process-substituted into an interpreter)"),
    "shell.remote-shell": _r("remote-shell", "catastrophic",
                             "a shell or a port of this host is handed to another machine "
                             "(/dev/tcp, nc -e, socat exec:, ssh -R, a socket one-liner)"),
    "shell.system-write": _r("system-control-write", "catastrophic",
                             "writes a file that controls the host (sudoers, passwd/shadow, "
                             "authorized_keys, PAM, sshd, hosts, cron, units, binaries)"),
    "shell.setuid": _r("system-control-write", "catastrophic",
                       "sets a setuid/setgid bit (chmod u+s, install -m 4755)"),
    "api.delete": _r("api-delete-call", "destructive",
                     "structured HTTP call with method DELETE"),
    "cli.generic-delete": _r("unfamiliar-cli-delete", "destructive",
                             "an unfamiliar CLI deletes, purges or flushes (del, --delete, "
                             "-purge, flushall, gc after a stop)"),
    # git
    "git.force-push-shared": _r("git-rewrite-shared-history", "catastrophic",
                                "force-push (history rewrite) to a shared branch"),
    "git.force-push": _r("git-rewrite-shared-history", "destructive",
                         "force-push without --force-with-lease, branch not known to be personal"),
    "git.delete-shared-branch": _r("git-delete-shared-branch", "catastrophic",
                                   "deletes a shared branch (main, master, release...)"),
    "git.reset-hard-shared": _r("git-rewrite-shared-history", "destructive",
                                "reset --hard drops commits on a shared branch"),
    "git.clean": _r("git-discard-work", "destructive",
                    "git clean -f removes untracked (never committed) files"),
    "git.history-rewrite": _r("git-rewrite-shared-history", "destructive",
                              "rewrites repository history (filter-branch, filter-repo, "
                              "mirror push)"),
    # sql and data stores
    "sql.drop": _r("sql-drop", "destructive", "DROP TABLE / DATABASE / SCHEMA"),
    "sql.truncate": _r("sql-truncate", "destructive", "TRUNCATE empties a table"),
    "sql.unbounded-delete": _r("sql-unbounded-write", "destructive",
                               "DELETE without a WHERE clause (or WHERE always true)"),
    "sql.unbounded-update": _r("sql-unbounded-write", "destructive",
                               "UPDATE without a WHERE clause (or WHERE always true)"),
    "sql.drop-column": _r("sql-destructive-migration", "destructive",
                          "migration drops a column, partition or table"),
    "sql.migration-dsl": _r("sql-destructive-migration", "destructive",
                            "migration code removes a field, model, column or table"),
    "store.flush": _r("datastore-flush", "destructive",
                      "data store emptied (FLUSHALL, dropDatabase, deleteMany({}), dropdb)"),
    # cloud and cluster
    "cloud.iac-destroy": _r("iac-destroy", "destructive",
                            "infrastructure-as-code destroy (terraform/pulumi/cdk destroy)"),
    "cloud.iac-replace-stateful": _r("iac-replace-stateful", "destructive",
                                     "apply replaces a stateful resource (database, bucket, disk)"),
    "cloud.iac-plan-destroys": _r("iac-replace-stateful", "destructive",
                                  "the plan output destroys or replaces resources"),
    "cloud.iac-state": _r("iac-destroy", "destructive",
                          "edits or deletes infrastructure state (state rm, workspace delete)"),
    "cloud.delete": _r("cloud-resource-delete", "destructive",
                       "cloud CLI deletes or terminates a resource"),
    "cloud.retention-wipe": _r("retention-expire-all", "destructive",
                               "lifecycle or retention setting expires everything within a day"),
    "cloud.bucket-delete": _r("cloud-storage-wipe", "destructive",
                              "object storage bucket removed or emptied"),
    "cloud.key-delete": _r("cloud-key-destruction", "destructive",
                           "schedules deletion of or disables an encryption key"),
    "cluster.delete": _r("cluster-delete", "destructive",
                         "cluster resources deleted (namespace, volumes, stateful sets, --all)"),
    "cluster.release-uninstall": _r("cluster-delete", "destructive", "helm release uninstalled"),
    "cluster.cluster-delete": _r("cluster-delete", "destructive", "a whole cluster deleted"),
    "backup.delete": _r("backup-delete", "destructive",
                        "backups, snapshots or recovery points deleted or disabled"),
    "audit.disable": _r("audit-log-disable", "catastrophic",
                        "audit logging stopped, deleted or cleared"),
    # tool calls
    "tool.destroy": _r("saas-destructive-call", "destructive",
                       "tool call deletes or wipes a valuable object"),
    "tool.tamper": _r("data-tampering", "destructive",
                      "tool states a tampering, falsifying or covert-alteration purpose"),
    "tool.money": _r("money-movement", "external", "moves money (refund, transfer, payout)"),
    "tool.mass-message": _r("mass-communication", "external",
                            "sends a message to a broad external audience"),
    "tool.declared-destructive": _r("declared-destructive-tool", "destructive",
                                    "the tool itself is declared destructive"),
    "tool.declared-external": _r("declared-external-tool", "external",
                                 "the tool itself is declared external (acts outside the system)"),
    "tool.delete-repo": _r("saas-destructive-call", "destructive", "deletes a repository"),
    # prose
    "prose.destroy": _r("intent-destroy", "destructive",
                        "the text asks to delete, drop or wipe something valuable"),
    "prose.euphemism": _r("intent-euphemism", "destructive",
                          "a euphemism for destroying an environment or data "
                          "(start fresh, wipe and reprovision, reset to known-good)"),
    "prose.backup": _r("backup-delete", "destructive",
                       "the text asks to delete backups or snapshots"),
    "prose.audit": _r("audit-log-disable", "catastrophic",
                      "the text asks to stop or delete audit logging"),
    "prose.force-push": _r("git-rewrite-shared-history", "catastrophic",
                           "the text asks to force-push to a shared branch"),
    "prose.money": _r("money-movement", "external", "the text asks to move money"),
    "prose.mass-message": _r("mass-communication", "external",
                             "the text asks to message every customer or user"),
    "prose.retention": _r("retention-expire-all", "destructive",
                          "the text asks for a lifecycle/retention rule that expires everything "
                          "within a day"),
    "unknown.action": _r("unrecognised-action", "unknown",
                         "an action the rules do not recognise as safe (an unknown command, "
                         "verb, tool or operation): held until someone who knows looks"),
    "prose.restore-overwrite": _r("intent-destroy", "destructive",
                                  "restoring or rolling back over live data overwrites it"),
}
"""Every rule the engine can fire, by id. A test checks every catalogue id exists."""


@dataclass(slots=True)
class Finding:
    """One thing a rule saw."""

    rule: str
    evidence: str
    """A short snippet of what matched."""
    targets: tuple[str, ...] = ()
    """What the action would hit (paths, tables, buckets, names), for ownership checks."""
    certain: bool = True
    """False when the rule is unsure (a weak cue): a judge may be consulted."""
    owned: bool = False
    """Every target was created earlier in this same plan or is run scratch."""
    blast: Blast | None = None
    """Overrides the rule's blast class (e.g. a delete whose target is a backup)."""


@dataclass
class PlanState:
    """What earlier steps of the plan established, for later steps."""

    created: set[str] = field(default_factory=set)
    """Targets created earlier in this plan (mkdir, CREATE TABLE, s3 mb, namespaces)."""
    branch: str | None = None
    """The git branch last checked out in the plan."""
    depth: int = 0
    """Recursion depth of nested command parsing (ssh 'cmd', sh -c)."""
    audience_listed: bool = False
    """An earlier step listed users, members, subscribers or customers (a fan-out source)."""
    stopped: set[str] = field(default_factory=set)
    """Unfamiliar CLIs that stopped or deleted something earlier in the plan (``nomad job stop``):
    a later ``gc``/``prune`` of the same CLI makes that final."""

    written: dict[str, str] = field(default_factory=dict)
    """Files an earlier step wrote through a tool, by path, with what was written: a later step
    that runs one (``sh /tmp/x.sh``, ``mysql db < check.sql``) runs what the rules read."""
    fetched: set[str] = field(default_factory=set)
    """Files earlier steps (or this one) downloaded from a URL (``curl -o /tmp/h.apk URL``):
    installing one installs what a host the rules cannot vouch for served."""

    def owns(self, target: str) -> bool:
        t = norm_target(target)
        return any(t == c or t.startswith(c + "/") for c in self.created)


Scanner = Callable[[str, PlanState], list[Finding]]
"""A reader of one language (shell, code): its text in, what the rules saw out."""

EMBEDDED: dict[str, Scanner] = {}
"""The reader of each language one language embeds (``shell``: the command in ``os.system``;
``code``: the program of ``python -c``). Filled in by :mod:`mapek.safety.rules`, which puts the
readers together: ``shell`` and ``code`` read each other's text through here, so neither module
imports the other."""


UNRECOGNISED: dict[str, Callable[[str, int], str | None]] = {}
"""What in a resolved command is not positively recognised as safe (``shell``: None when every
command is), from :mod:`mapek.safety.rules.recognise`. Filled in by :mod:`mapek.safety.rules`
like ``EMBEDDED``, so that the shell reader can ask about a disguise's real command without
importing the recogniser, which imports it."""


def scan_embedded(language: str, text: str, state: PlanState) -> list[Finding]:
    """Read ``text`` embedded in another language as ``language`` (``shell`` or ``code``)."""
    return EMBEDDED[language](text, state)


# --------------------------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------------------------

PathClass = Literal["root", "system-top", "home", "var-empty", "var", "glob-all", "scratch",
                    "regenerable", "system-deep", "null", "path"]

_SYSTEM_TOP = frozenset("""etc usr var bin sbin lib lib32 lib64 boot opt srv home root sys proc
dev mnt media snap run system library applications users private windows""".split())
_SYSTEM_DEEP = ("/etc/", "/usr/", "/boot/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/var/lib/",
                "/var/log/", "/var/", "/opt/", "/srv/", "/root/", "/system/", "/library/")
_SCRATCH = ("/tmp/", "/var/tmp/", "/dev/shm/", "/private/tmp/")
_SCRATCH_ROOTS = frozenset(s.rstrip("/") for s in _SCRATCH)
"""The scratch areas themselves: what is under them is scratch, but the whole area (``/tmp``,
``/tmp/*``) holds every other process's files (sockets, locks, uploads in flight)."""
_REGENERABLE = frozenset("""node_modules build dist target out __pycache__ .pytest_cache
.mypy_cache .ruff_cache .cache .tox .nox .venv venv .eggs coverage htmlcov .coverage .next .nuxt
.gradle .parcel-cache .terraform .turbo .svelte-kit bin obj tmp temp .tmp""".split())
_VAR = re.compile(r"^\$(?:\{(?P<b>[A-Za-z_]\w*|\d|[@*])(?P<mod>[^}]*)\}|"
                  r"(?P<n>[A-Za-z_]\w*|\d|[@*]))")
_WIN_ROOT = re.compile(r"^[a-z]:[\\/]*(?:\*|windows|users|program files[^\\/]*)?[\\/]*$", re.I)


def classify_path(raw: str) -> PathClass:
    """Where a delete/overwrite target points, as far as the text can tell."""
    p = raw.strip().strip("'\"")
    if not p:
        return "path"
    m = _VAR.match(p)
    if m:
        name = m.group("b") or m.group("n") or ""
        mod = m.group("mod") or ""
        rest = p[m.end():].lstrip("'\"")
        if name == "HOME":
            p = "~" + rest
        elif mod.startswith((":?", "?")):
            return "var"
        elif rest.startswith("/"):
            return "var-empty"
        elif rest.startswith("*"):
            return "glob-all"
        else:
            return "var"
    if _WIN_ROOT.match(p):
        return "root"
    p = collapse_dots(p)  # /tmp/x/../../etc is /etc
    if p in ("~", "~/", "~/*", "~/.*") or re.fullmatch(r"~[\w.-]+/?", p):
        return "home"
    if p.startswith("~/"):
        return "path"
    if p in {".", "./", "./*", "*", ".*", "..", "../", "../*", "./.*", "*.*"}:
        return "glob-all"
    if p.startswith("/"):
        q = re.sub(r"/+", "/", p)
        while q.endswith(("/.", "/*", "/.*")) and len(q) > 2:
            q = q[: q.rfind("/")] or "/"
        q = q.rstrip("/") or "/"
        low = q.lower()
        if low == "/":
            return "root"
        if low.startswith(("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/fd/")):
            return "null"
        parts = low.strip("/").split("/")
        if len(parts) == 1 and parts[0] in _SYSTEM_TOP:
            return "system-top"
        if len(parts) == 2 and parts[0] in ("home", "users"):
            return "home"
        if any(low.startswith(s) and len(low) > len(s) for s in _SCRATCH) and "*" not in parts[1]:
            return "scratch"
        if low in _SCRATCH_ROOTS:
            return "path"
        if parts[-1] in _REGENERABLE and parts[0] not in ("etc", "usr", "bin", "sbin", "boot"):
            return "regenerable"
        if any((low + "/").startswith(s) for s in _SYSTEM_DEEP):
            return "system-deep"
        return "path"
    leaf = p.rstrip("/").rsplit("/", 1)[-1]
    if leaf in _REGENERABLE or leaf.endswith(".egg-info"):
        return "regenerable"
    return "path"


_DOT_SEGMENT = re.compile(r"(?:^|/)\.\.?(?:/|$)")


def collapse_dots(path: str) -> str:
    """``.`` and ``..`` segments resolved the way the kernel walks them (``/tmp/x/../../etc`` is
    ``/etc``; ``/srv/app/..`` is ``/srv``), so a path cannot climb out of a place by its
    spelling; a path without such segments is returned as it is."""
    if not _DOT_SEGMENT.search(path):
        return path
    lead = path[:1] if path.startswith(("/", "~")) else ""
    if lead == "~":
        rest = posixpath.normpath("/" + path[1:].lstrip("/"))
        return "~" if rest == "/" else "~" + rest
    out = posixpath.normpath(path)
    return "/" + out.lstrip("/") if lead == "/" else out


LOCAL_KINDS = frozenset("""cache caches alias aliases context contexts remote remotes profile
profiles label labels tag
tags kernelspec kernelspecs box boxes toolchain toolchains version versions plugin plugins
extension extensions completion completions session sessions worktree worktrees bookmark
bookmarks shim shims credential-helper locals""".split())
"""What a tool keeps for itself on the machine it runs on (a cache, an alias, a context, a
label, a toolchain): removing one loses nothing another copy cannot give back, or only a
setting. The rules recognise removals of data; these they leave to the judge. A device's
configuration is not among them (``/system reset-configuration`` wipes a router)."""
LOCAL_VERBS = frozenset({"uninstall"})
"""Removals that a reinstall undoes (``pyenv uninstall 3.8``, ``nvm uninstall 16``)."""


def norm_target(t: str) -> str:
    """A comparable form of a target name: lower case, no scheme, no trailing slash or glob,
    ``.`` and ``..`` segments resolved."""
    s = t.strip().strip("'\"").lower()
    s = re.sub(r"^[a-z][a-z0-9+.-]*://", "", s)
    s = collapse_dots(s)
    while s.startswith("./") and len(s) > 2:  # ./data is data
        s = s[2:]
    while s.endswith(("/*", "/")) and len(s) > 1:
        s = s[:-2] if s.endswith("/*") else s[:-1]
    return s


_SHARED = re.compile(
    r"^(?:refs/heads/)?(?:main|master|trunk|develop|development|dev|prod|production|stable|live|"
    r"gh-pages|release|releases?[/-].+|hotfix[/-].+|v?\d+\.\d+(?:\.x)?)$", re.I)


def is_shared_branch(name: str | None) -> bool:
    """main, master, trunk, develop, production, release/*, hotfix/*, version branches."""
    return bool(name) and bool(_SHARED.match(name.strip().lstrip("+:")))  # type: ignore[union-attr]


_PROD = re.compile(r"(?<![a-z0-9])(?:prod|production|prd|live)(?![a-z])", re.I)
_NOT_PROD = re.compile(r"(?<![a-z])(?:pre-?prod|non-?prod|live-?reload|go-?live)", re.I)


def has_prod_marker(text: str) -> bool:
    """The text names a production target: ``prod``, ``production``, ``-prd``, ``live``
    as a separate word or name part (``orders-prod``, ``env=prod``), but not ``preprod``."""
    for m in _PROD.finditer(text):
        start = max(0, m.start() - 4)
        if _NOT_PROD.search(text[start: m.end() + 7]):
            continue
        return True
    return False


def snippet(text: str, start: int = 0, end: int | None = None, width: int = 160) -> str:
    """A one-line excerpt of at most ``width`` characters."""
    end = len(text) if end is None else end
    s = " ".join(text[start:end].split())
    return s if len(s) <= width else s[: width - 1] + "…"


SQL_ARGUMENT = re.compile(
    r"^\s*(?:DELETE\s+FROM|UPDATE\s+[\w.\"`\[\]]+\s+SET|DROP\s+(?:TABLE|DATABASE|SCHEMA|VIEW|"
    r"INDEX|USER|ROLE)|TRUNCATE\s|ALTER\s+TABLE|INSERT\s+INTO|REPLACE\s+INTO|MERGE\s+INTO|GRANT\s|"
    r"REVOKE\s|CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|DATABASE|USER|ROLE|FUNCTION|TRIGGER)|"
    r"SELECT\s|WITH\s+\w+\s+AS\b)", re.I)
"""An argument of a CLI that is an SQL statement (``wp db query "DELETE FROM wp_posts"``,
``drush sql:query "TRUNCATE cache"``, ``rails runner``-less ``dbcli -e``): read as SQL whatever
the CLI, by the destructive rules and the recogniser alike."""
