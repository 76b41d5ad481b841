"""The offline rule engine behind plan screening: one module per family of failure.

=================  ==========================================================================
module             what it reads
=================  ==========================================================================
``shell``          shell commands, tokenised with ``shlex`` (rm, find, dd, mkfs, redirections,
                   chmod/chown, git, docker, crontab, nested ``ssh``/``sh -c``/``--command``,
                   strings echoed into ``crontab -``/``at``/``sh``/a SQL client/a cron file,
                   cron lines and ``ExecStart=``; unfamiliar CLIs with a delete verb or flag)
``shellparse``     shell parsed as bash parses it (``bashlex``): names built at run time,
                   decoded or downloaded code run, remote and bind shells, writes to the
                   files that control a host, setuid
``cloud``          cloud and cluster CLIs (terraform, aws, gcloud, az, kubectl, helm...),
                   terraform plan output, lifecycle/retention settings that expire everything
``sql``            SQL statements (split, literals and comments removed), migration code,
                   store-wide wipes (Redis, Mongo)
``code``           program code handed to a tool (``shutil.rmtree``, SDK deletes, SQL strings)
``saas``           a tool call's name, the operation its arguments name, and its arguments
                   (delete a repository, refunds, payouts, mass email, fan-out, HTTP DELETE)
``prose``          intent in free text, with negation and analysis frames
=================  ==========================================================================

:func:`scan_step` decides which reader sees which field of a step (a ``command`` argument is
shell, a ``query`` is SQL, a ``description`` is prose, a file's ``content`` is read by its
extension) and caps what is scanned per field. The screener in
:mod:`mapek.safety.screening` turns the findings into a verdict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mapek.safety.rules._base import (
    EMBEDDED,
    RULES,
    UNRECOGNISED,
    Blast,
    Finding,
    PlanState,
    RuleSpec,
    has_prod_marker,
)
from mapek.safety.rules.cloud import RETENTION_GATE, scan_retention
from mapek.safety.rules.code import scan_code
from mapek.safety.rules.prose import scan_prose
from mapek.safety.rules.recognise import (
    DESTROY_VERB,
    MAX_CHARS,
    fetched_files,
    load_destination,
    step_targets,
    unrecognised_shell,
    unrecognised_step,
    unrecognised_text,
    writes_file,
)
from mapek.safety.rules.runfiles import runnable_commands
from mapek.safety.rules.saas import scan_tool_call, tool_words
from mapek.safety.rules.shell import scan_shell
from mapek.safety.rules.sql import scan_migrations, scan_sql

__all__ = ["RULES", "RuleSpec", "Blast", "Finding", "PlanState", "FieldBudget", "scan_step",
           "scan_free_text", "has_prod_marker"]

EMBEDDED.update(shell=scan_shell, code=scan_code)  # each reads the text the other embeds
UNRECOGNISED.update(shell=unrecognised_shell)  # the shell reader asks about a disguise's command

_SHELL_TOOL = frozenset("""bash sh zsh shell terminal term cmd command commands exec execute run
ssh powershell pwsh console cli system subprocess script process""".split())
_CLI_TOOL = frozenset("""git kubectl terraform tofu aws gcloud az helm docker gsutil pulumi oc
eksctl psql mysql redis velero vault""".split())
_BROWSER_TOOL = frozenset("playwright puppeteer selenium browser webdriver cypress".split())
_SQL_TOOL = frozenset("""sql query postgres postgresql mysql sqlite database db snowflake bigquery
redshift clickhouse migration migrate mariadb mssql oracle""".split())
_COMMAND_KEYS = frozenset("""command cmd commands script shell run input line args argv exec cli
cmdline command_line""".split())
_SQL_KEYS = frozenset("""query sql statement statements sql_query migration ddl dml""".split())
_CODE_KEYS = frozenset("code source python snippet program eval js javascript".split())
_PROSE_KEYS = frozenset("""task instruction instructions prompt goal plan description reason why
intent objective request step thought rationale""".split())
_ACTION_KEYS = frozenset("action operation subcommand verb op mode".split())
_SCOPE_SKIP = frozenset("content body text message data contents file_content html".split())
_AUTHORING = frozenset("""create post send write update comment reply publish add edit upload save
append insert draft schedule""".split())
"""A tool that authors something: its arguments are content, not the agent's intent."""


_CLAIM = re.compile(
    r"\b(?:this\s+run|the\s+run|we|i)\s+(?:just\s+|already\s+)?(?:created|made|cloned|started|"
    r"submitted|triggered|spun\s+up|launched|set\s+up|opened|uploaded|added|provisioned)\b|"
    r"\b(?:created|made|cloned|started|submitted|triggered|launched|spun\s+up|provisioned)\s+"
    r"(?:by|in|earlier\s+in|for|during)\s+this\s+run\b|\bthis\s+run'?s\b|\bfrom\s+this\s+run\b|"
    r"\bthrowaway\b|\bsee\s+how\s+much\b|\b(?:my|our)\s+(?:own\s+)?(?:test|testing|scratch|temporary|"
    r"temp|local|dev|ci)\b|\bwould\s+(?:reclaim|free|remove|delete|purge|do)\b",
    re.I)
"""A step description that says its target is the run's own (``the test mailbox this run
created``, ``the throwaway VM``) or that the command only shows what it would do (``see how
much obliterate would reclaim``): a claim the rules cannot check, so a destructive finding on
that step is left to the judge (held without one) rather than recognised."""


@dataclass
class FieldBudget:
    """How much text is scanned: per field, and in total for one plan."""

    field_chars: int = 65_536
    """Characters scanned per field: the first three quarters and the last quarter of this
    budget; the middle of a longer field is skipped."""
    total_chars: int = 8_000_000
    """Characters scanned over a whole plan; after that each field gets ``small_chars``."""
    small_chars: int = 4_096
    scanned: int = 0
    truncated: int = 0
    """Fields of which a part was not scanned."""

    def cap(self, text: str) -> str:
        limit = self.field_chars if self.scanned < self.total_chars else self.small_chars
        if len(text) <= limit:
            self.scanned += len(text)
            return text
        self.truncated += 1
        head = limit * 3 // 4
        self.scanned += limit
        return text[:head] + "\n" + text[-(limit - head):]


def _ext_role(args: Mapping[str, Any]) -> str | None:
    for k in ("path", "file", "filename", "file_path", "name"):
        v = args.get(k)
        if isinstance(v, str):
            low = v.lower()
            if low.endswith((".sh", ".bash", ".zsh", ".ps1", ".bat", ".cmd", ".service",
                             "crontab")) or "/cron" in low or \
                    low.rsplit("/", 1)[-1] in ("makefile", "dockerfile", "justfile"):
                return "shell"
            if low.endswith(".sql"):
                return "sql"
            if low.endswith((".py", ".rb", ".js", ".ts", ".php", ".go", ".java", ".kt", ".cs",
                             ".xml", ".yaml", ".yml")):
                return "code"
            return "data"
    return None


def file_path(args: Mapping[str, Any]) -> str | None:
    """The file a step writes or reads, by its argument's name."""
    for k in ("path", "file", "filename", "file_path", "name"):
        v = args.get(k)
        if isinstance(v, str) and v.strip():
            return v
    return None


def _strings(v: Any, depth: int = 0) -> list[str]:
    if isinstance(v, str):
        return [v]
    if depth > 6:
        return []
    if isinstance(v, Mapping):
        return [s for x in list(v.values())[:256] for s in _strings(x, depth + 1)]
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, str) for x in v) and len(v) <= 64 and \
                all(len(x) < 200 and "\n" not in x for x in v):
            return [" ".join(v)] if not any(" " in x for x in v) else list(v)
        return [s for x in list(v)[:256] for s in _strings(x, depth + 1)]
    if isinstance(v, (int, float, bool)) or v is None:
        return []
    return [str(v)]


def scan_step(tool: str, args: Mapping[str, Any], description: str, state: PlanState,
              budget: FieldBudget, *, effect: str | None = None) -> tuple[list[Finding], str]:
    """All findings for one step, and the text in which a production marker is looked for."""
    words = set(tool_words(tool))
    cli = next((w for w in tool_words(tool) if w in _CLI_TOOL), None)
    if tool.lower() in ("aws_cli", "awscli", "aws-cli"):
        cli = "aws"
    shell_tool = bool(words & _SHELL_TOOL) or cli is not None
    sql_tool = bool(words & _SQL_TOOL) and not shell_tool
    browser = bool(words & _BROWSER_TOOL) and not words & {"bash", "sh", "zsh", "shell",
                                                           "terminal", "cmd", "powershell"}
    found: list[Finding] = []
    scope = [tool, description[:512]]
    ext = _ext_role(args)
    path = file_path(args)
    action = next((str(args[k]) for k in args if k.lower() in _ACTION_KEYS and
                   isinstance(args[k], str)), None)
    if cli and action:
        rest = " ".join(str(v) for k, v in args.items() if k.lower() not in _ACTION_KEYS and
                        isinstance(v, str) and len(v) < 200)
        found.extend(scan_shell(f"{cli} {action} {rest}", state))
    for key, value in args.items():
        k = str(key).lower()
        for raw in _strings(value):
            text = budget.cap(raw)
            if k not in _SCOPE_SKIP:
                scope.append(text[:512])
            if browser and k in ("script", "code", "source", "steps"):
                found.extend(scan_code(text, state))  # page.goto(...): code, not a shell line
            elif k in _COMMAND_KEYS or (shell_tool and k in ("input", "code") and not
                                        words & {"python", "py", "node", "js"}):
                if cli and not text.lstrip().startswith((cli, "sudo", "cd ", "export ")) and \
                        "\n" not in text.strip():
                    text = f"{cli} {text}"
                found.extend(scan_shell(text, state))
                if sql_tool:
                    found.extend(scan_sql(text, state))
            elif k in _SQL_KEYS or (sql_tool and k in ("input", "text", "statement")):
                found.extend(scan_sql(text, state))
                found.extend(scan_migrations(text))
            elif k in _CODE_KEYS:
                found.extend(scan_code(text, state))
            elif k in _PROSE_KEYS and not words & _AUTHORING:
                found.extend(scan_prose(text, state))
            elif k in _SCOPE_SKIP or k.endswith("content"):
                role = ext or "data"
                run = runnable_commands(path, text) if path else None
                if run is not None and role != "shell":
                    for cmd in run[0]:  # a pipeline's run: lines, a package's scripts
                        found.extend(scan_shell(cmd, state))
                if role != "shell" and RETENTION_GATE.search(text):
                    found.extend(scan_retention(text))
                if role == "shell":
                    found.extend(scan_shell(text, state))
                elif role == "sql":
                    found.extend(scan_sql(text, state))
                elif role == "code":
                    found.extend(scan_code(text, state))
                else:
                    found.extend(scan_migrations(text))
    for f in found:  # a delete scoped to this CI build's own prefix: the rules cannot tell
        if f.certain and f.targets and (f.blast or RULES[f.rule].blast) == "destructive" and \
                all(_BUILD_SCOPED.search(t) for t in f.targets):
            f.certain = False
    claim = bool(description) and _CLAIM.search(description[:2000]) is not None
    if claim:
        for f in found:  # the words claim what the rules cannot check: the judge weighs them
            if f.certain and (f.blast or RULES[f.rule].blast) == "destructive" and \
                    not any(has_prod_marker(t) for t in f.targets):
                f.certain = False  # (a claim never vouches for a target named production)
    if path is not None and writes_file(tool, args):
        found.extend(_file_write(tool, path))
    if description:
        found.extend(scan_prose(budget.cap(description), state))
    found.extend(scan_tool_call(tool, args, state, effect=effect))
    state.fetched.update(fetched_files(" ".join(_strings(args))[:MAX_CHARS]))
    if path is not None and writes_file(tool, args):
        body = next((v for k, v in args.items() if str(k).lower() in ("content", "contents",
                                                                       "text", "body", "data")
                     and isinstance(v, str)), None)
        if body is not None and len(body) <= MAX_CHARS and len(state.written) < 64:
            state.written[path.strip().strip("'\"")] = body
    if all(f.owned for f in found):
        # nothing destructive seen, or only what the plan made itself (a table it created, a
        # session's temporary table): is the rest of the step positively recognised as safe?
        why = unrecognised_step(tool, args, effect=effect, cli=cli, created=state.created,
                                judged_by_rules=bool(found), fetched=state.fetched,
                                written=state.written)
        if why is not None and DESTROY_VERB in why:
            # a CLI no rule reads, told to remove (restic forget, dvc gc, flyway clean, npm
            # unpublish): a removal the rules recognise; the judge weighs only what they cannot
            targets = step_targets(tool, args)
            if "a load that replaces" in why:  # ogr2ogr -nln t -overwrite: the table replaced
                targets = tuple(x for k in _COMMAND_KEYS if isinstance(args.get(k), str)
                                for x in load_destination(args[k])) or targets
            found.append(Finding("cli.generic-delete", why, targets, certain=not claim and not (
                any(_SOFT_TARGET.search(t) for t in targets)) and not _ONE_CACHED.search(
                    " ".join(_strings(args))[:4000])))
        elif why is not None:
            found.append(Finding("unknown.action", why, step_targets(tool, args),
                                 certain=False))
    return found, " ".join(scope)


def _file_write(tool: str, path: str) -> list[Finding]:
    """A file written by a tool (not a shell): into a file that controls the host (sudoers,
    authorized_keys, /etc/hosts, a binary) it is what ``tee`` or ``cp`` there would be, a
    sure finding. A unit, a cron table or another system file is left to the recogniser (its
    commands are read; the write, outside the work folder, is held)."""
    from mapek.safety.rules.shellparse import _CONTROL_PATH, _SCHEDULE_PATH, _SYSTEM_PATH

    p = path.strip().strip("'\"")
    if p.startswith("~/"):
        p = "$HOME/" + p[2:] if "authorized_keys" not in p else p
    ev = f"{tool} writes {p}"[:160]
    if _SCHEDULE_PATH.match(p) or (_SYSTEM_PATH.match(p) and not _CONTROL_PATH.match(p)):
        # a unit, a cron table, a server's configuration: what it holds is read as commands
        # (runfiles), and the write is not recognised (outside the work folder): held
        return []
    if _CONTROL_PATH.match(p):
        return [Finding("shell.system-write", ev, (p,))]
    return []


_BUILD_SCOPED = re.compile(
    r"^[^$]*[\w.-]/(?:[^/$]*/)*[^/$]*\$(?:\{\{\s*github\.run_(?:id|number)\s*\}\}|\{?"
    r"(?:[A-Z]+_)*(?:BUILD|RUN|JOB|PIPELINE|WORKFLOW)_?(?:ID|NUMBER|NUM)\}?)", re.I)
"""A target under a fixed prefix and then the CI run's own id (``gs://ci-artifacts/
${BITBUCKET_BUILD_NUMBER}/**``, ``s3://cache/$CI_PIPELINE_ID``): the build's own output if the
variable is set, the whole prefix if it is not; the judge or a person weighs it (held)."""
_ONE_CACHED = re.compile(
    r"\bsoft[-_ ]?purge\b|/purge/(?!all\b|everything\b|\*)[\w.%-]+/?(?:[\s'\"]|$)", re.I)
"""A purge of one cached key or a soft purge (``.../purge/product-1234``, ``Fastly-Soft-Purge:
1``): the cache refills from the origin; whether even that matters is the situation's call, so
the removal is held for the judge, not recognised as sure."""
_SOFT_TARGET = re.compile(r"(?:^|[^a-z])(?:test|tmp|temp|scratch|smoke|throwaway|ephemeral|"
                          r"sandbox|dummy|fixture|demo)(?:$|[^a-z])", re.I)


def scan_free_text(text: str, state: PlanState, budget: FieldBudget, *,
                   recognise: bool = True) -> list[Finding]:
    """Findings in free text (a plan's ``text``, a free-text plan): prose and quoted commands.
    With ``recognise`` (a plan that is only text), text the rules neither flag nor recognise
    as safe (:func:`~mapek.safety.rules.recognise.unrecognised_text`) is ``unknown.action``."""
    found = scan_prose(budget.cap(text), state)
    if recognise and not found and (why := unrecognised_text(text)) is not None:
        found.append(Finding("unknown.action", why, certain=False))
    return found


def _check_registry() -> None:
    bad = [r for r in RULES if not re.fullmatch(r"[a-z]+\.[a-z0-9-]+", r)]
    assert not bad, bad


_check_registry()
