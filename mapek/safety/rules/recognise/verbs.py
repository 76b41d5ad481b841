"""The verb vocabulary the recogniser reads actions by, and the helpers every reader shares.

The four verb classes (``read``, ``make``, ``change``, ``destroy``) and how a word is put in one
(:func:`verb_class`: its tokens, their stems, a fused ``listusers``); the verb a name says
(:func:`name_verb`); the flags that make a read or a make destructive or unattended; and the
plan's created targets (``_CREATED``), which the shell, SQL, code and step readers all consult.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextvars import ContextVar
from functools import lru_cache

__all__ = ["DESTROY_VERB", "MAX_CHARS", "READ_VERBS", "MAKE_VERBS", "CHANGE_VERBS", "DESTROY_VERBS",
           "verb_class", "name_verb"]


DESTROY_VERB = "a verb that removes an object"
"""Said in a reason when a command no destructive rule reads names a removal as its verb
(``restic forget``, ``dvc gc``): the screener turns it into a recognised removal."""

MAX_CHARS = 65_536
"""Text longer than the rules read in full (their per-field budget) is not recognised: what
was not read cannot be vouched for."""

READ_VERBS = frozenset("""get gets list lists ls enum enumerate describe describes show shows status
info inspect
cat view views read reads search searches query lookup look find finds diff plan validate
validates lint test tests check checks verify version help whoami top logs log history tail head
print count stat stats explain preview estimate compare analyze analyse summarize summarise
review report reports watch monitor trace ping probe scan fetch retrieve browse display measure
calculate select dump audit doctor health healthcheck ready tree du df ps env printenv
grep which where who whois dig vet outdated diagnose debug print-config config-get peek
render lookup resolve evaluate eval-only simulate dryrun dry whatif what-if
events top-level details detail usage quota quotas metrics graph blame shortlog reflog
rev-parse ls-files ls-remote ls-tree cat-file for-each-ref list-objects size
about lsd lsl lsjson inventory output outputs specification""".split())
"""Verbs that only read: a command, tool or operation named by one is recognised as safe."""

MAKE_VERBS = frozenset("""create creates add adds new make init initialize build builds compile
generate draft write writes save-file post posts send reply ask comment open clone copy cp
backup snapshot export save tag label install commit stage pull checkout switch branch fork
bookmark star pin note annotate mkdir touch upload-draft submit-draft package pack bundle
format-code fmt prettier
archive-copy dump-to mktemp schedule-report enqueue queue start ack acknowledge assign-self
download sign encrypt hash checksum login auth authenticate connect subscribe-self link invite
attach-note push merge rebase stash fetch-all import-check upgrade-check freeze lock-file
restore-check mb capture ci""".split())
"""Constructive verbs: they add something and remove nothing (the destructive rules look at
their targets: a copy over a system file, a force push)."""

CHANGE_VERBS = frozenset("""update updates patch set sets put edit modify replace apply sync import
migrate restore rollback revert scale upgrade downgrade move mv rename publish deploy release
enable disable grant revoke assign unassign transfer pay refund charge payout archive close
cancel stop restart reload kill suspend pause resume unlock rotate expire invalidate evict drain
cordon uncordon taint promote demote approve reject overwrite upsert insert chmod chown
chgrp mount unmount umount detach associate disassociate unlink upload submit execute invoke
restart-all seed
trigger dispatch broadcast notify shutdown reboot poweroff halt resize reindex rebuild recreate
reinstall reconfigure configure activate deactivate block ban unban mute kick unsubscribe
failover switchover cutover undo run-migration exec sudo chattr setfacl truncate-log
commit-transfer withdraw wire settle void reverse deny allow override force replicate
decrypt re-encrypt rekey reset-password passwd usermod groupmod modprobe sysctl iptables
ufw firewall-cmd route swapoff swapon quiesce fence isolate quarantine retire
offboard deprovision-user retag relabel mark unmark bulk batch mass""".split())
"""Verbs that change what exists: not recognised as safe (the rules found nothing certain)."""

DESTROY_VERBS = frozenset("""delete deletes del rm rmdir remove removes drop drops truncate purge
destroy wipe erase reset prune terminate format shred nuke flush flushall flushdb clear clean
expunge obliterate uninstall deregister unregister discard zap scrub deprovision decommission
teardown rmi evacuate forget gc vacuum compact unset kill-all killall pkill dropdb empty
zero blank nullify unpublish unshare rb
""".split())
"""Verbs that remove: not recognised as safe (the destructive rules decide when they know)."""

_NEUTRAL = frozenset("""run exec x do invoke call sh bash script job jobs task tasks cmd command
with and then all the a an of to for on in at by from into""".split())
"""Words that carry no verb of their own (``npm run build``: the verb is ``build``)."""

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_CAMEL1 = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL2 = re.compile(r"([A-Z]+)([A-Z][a-z])")


@lru_cache(maxsize=8192)
def _tokens(word: str) -> tuple[str, ...]:
    s = _CAMEL2.sub(r"\1 \2", _CAMEL1.sub(r"\1 \2", word))
    return tuple(t.lower() for t in _WORD.findall(s))


def _stem(t: str) -> tuple[str, ...]:
    """The forms a word may be an inflection or an agent noun of (``deletes``, ``deleted``,
    ``deleting``; ``analyzer`` -> analyze, ``planner`` -> plan, ``wiper`` -> wipe)."""
    out = [t]
    for suf, rep in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""),
                     ("ing", "e"), ("d", ""), ("er", ""), ("er", "e"), ("or", ""), ("or", "e")):
        if t.endswith(suf) and len(t) - len(suf) >= 2:
            base = t[: len(t) - len(suf)]
            out.append(base + rep)
            if not rep and len(base) > 3 and base[-1] == base[-2] and base[-1] not in "aeiou":
                out.append(base[:-1])  # planner -> plan, stopped -> stop
    return tuple(out)


_DRY_WORDS = frozenset({"preview", "dryrun", "dry", "simulate", "simulation", "whatif"})


def _class_of(t: str, stem: bool) -> str | None:
    for f in (_stem(t) if stem else (t,)):
        if f in DESTROY_VERBS:
            return "destroy"
        if f in CHANGE_VERBS:
            return "change"
        if f in READ_VERBS:
            return "read"
        if f in MAKE_VERBS:
            return "make"
    return None


def verb_class(word: str, *, stem: bool = False) -> str | None:
    """``destroy`` / ``change`` / ``read`` / ``make`` for the verb a word names, None when it
    names none. A word split on ``:`` or ``.`` is read from its last part that names a verb
    (``db:migrate:status`` -> read, ``users.delete`` -> destroy); a part split on ``-``, ``_``
    or camel case by its first verb (``describe-instances`` -> read, ``get_transfer_status`` ->
    read), a destroy verb anywhere in it winning (``list-and-purge`` -> destroy)."""
    whole = word.lower()
    c = _class_of(whole, False)
    if c is not None:
        return c
    if set(_tokens(word)) & _DRY_WORDS:
        return "read"  # suspend_preview, delete-dry-run, simulate_refund: only shows
    fused = _fused(whole)
    if fused is not None:
        return fused
    parts = [p for p in re.split(r"[:.]", word) if p]
    for part in reversed(parts):
        toks = _tokens(part)
        classes = [c for c in (_class_of(t, stem) for t in toks) if c is not None]
        if not classes:
            continue
        if "destroy" in classes:
            return "destroy"
        firsts = [next((c for c in (_class_of(t, stem) for t in g) if c is not None), None)
                  for g in _conjoined(toks)]
        if len(firsts) > 1 and ("change" in firsts or None in firsts[1:]):
            return "change"  # list_then_disable_users: two acts, the stricter (or unknown) one
        return classes[0]  # get_transfer_status: the verb, then its nouns
    return None


_CONJ = frozenset({"and", "then", "or", "plus", "after", "before", "also"})


def _conjoined(toks: tuple[str, ...]) -> list[tuple[str, ...]]:
    """A name's words split where a conjunction joins two acts (``fetch_and_archive``)."""
    groups: list[list[str]] = [[]]
    for t in toks:
        if t in _CONJ:
            groups.append([])
        else:
            groups[-1].append(t)
    return [tuple(g) for g in groups if g]


_FUSED_READ = ("list", "get", "show", "dump", "describe", "enum", "print", "query", "search",
               "view", "fetch", "lookup")
_FUSED_REMOVE = ("delete", "remove", "purge", "destroy", "wipe", "erase")
_ACT_INSIDE = re.compile(r"(?:delete|remove|purge|destroy|wipe|erase|drop|kill|reset|clear|flush|"
                         r"set|put|update|write|reload|restart|stop|move|apply|grant|revoke|"
                         r"disable|enable|add|create|send|exec|run)", re.I)


def _fused(word: str) -> str | None:
    """A verb run together with its noun, as some CLIs spell their subcommands
    (``listbackups``, ``dumpxml``, ``getallvms``, ``deletejob``): ``read`` or ``destroy`` by
    the leading verb, when the rest is letters that name no other act."""
    if not word.isalpha() or not word.islower():
        return None
    for verbs, cls in ((_FUSED_READ, "read"), (_FUSED_REMOVE, "destroy")):
        for v in verbs:
            rest = word[len(v):]
            if word.startswith(v) and len(rest) >= 3 and not _ACT_INSIDE.search(rest):
                return cls
    return None


def _long_bad_flag(rest: list[str]) -> bool:
    """A long flag that makes a read destructive or unattended (``--delete-after``,
    ``--force``); short flags of an unknown tool say nothing the rules can read (``-x``)."""
    return any(a.startswith("--") and _BAD_FLAG.match(a.split("=", 1)[0]) for a in rest)


def name_verb(name: str) -> str | None:
    """The verb a command's own name ends with (``ldapsearch``, ``sysinfo`` -> read;
    ``ldapdelete``, ``userdel`` -> destroy), when a prefix of three letters or more names
    what it acts on."""
    low = name.lower()
    if re.fullmatch(r"[a-z]+(?:[-_][a-z]+)+", low):  # dirsvc-search, vm_delete
        last = re.split(r"[-_]", low)[-1]
        c = _class_of(last, False)
        return c if c in ("read", "destroy") else None
    if not low.isalpha():
        return None
    for v in ("list", "get", "show", "dump", "describe", "print", "query", "search", "check",
              "lookup", "inspect", "verify"):
        tail = low[len(v):]
        if low.startswith(v) and len(tail) >= 3 and tail.isalpha() and \
                not _ACT_INSIDE.search(tail) and "install" not in tail:
            return "read"  # checkdmarc, getfacl, showmount: a read verb, then what it reads
    if re.fullmatch(r"[a-z]{2,}stat", low) and not _ACT_INSIDE.search(low[:-4]):
        return "read"  # lpstat, vmstat, iostat, netstat: a state report
    for verbs, cls in ((("search", "query", "info", "show", "dump"), "read"),
                       (("delete", "remove", "purge", "destroy", "wipe", "erase", "del"),
                        "destroy")):
        for v in verbs:  # not cat, list, stat: netcat, tomcat, blacklist are no reads
            if low.endswith(v) and len(low) - len(v) >= (4 if v == "del" else 3):
                return cls
    return None


_LISTERS = frozenset("list ls show status describe get view info inspect".split())
"""Read verbs that, after a noun that is also a verb, are the act (``gh release list``,
``nomad job status``: the release and the job are what is listed)."""
_PREDICATE = re.compile(r"^(?:(?:is|has|can|does)[-_]|(?:safe|ok)[-_]to[-_])[a-z]", re.I)
"""``systemctl is-enabled``, ``has-...``, ``ceph osd safe-to-destroy``: a question about
state."""
_RENDERS_SQL = re.compile(r"^(?:\w+[-_]?sql|sql[-_]?\w+)$", re.I)
"""``updateSQL``, ``rollback-sql``, ``sqlmigrate``: a migration verb that prints its SQL."""


def _first_verb(words: Iterable[str]) -> str | None:
    """The class of the first word that names a verb (``kubectl rollout status`` -> read,
    ``gcloud compute instances delete`` -> destroy)."""
    words = list(words)
    ws = [w for w in words if w.lower() not in _NEUTRAL]
    pairs = set(zip(words, words[1:], strict=False))
    for i, w in enumerate(ws):
        if _PREDICATE.match(w) or _RENDERS_SQL.match(w) and \
                verb_class(re.sub(r"(?i)[-_]?sql[-_]?", "", w)) != "destroy":
            return "read"
        if verb_class(w) is not None:
            if verb_class(w) in ("change", "make") and any(
                    x.lower() in _LISTERS for x in ws[i + 1:i + 3]) and not any(
                    verb_class(x) == "destroy" for x in ws[i + 1:]):
                return "read"  # gh release list, nomad job status
            break
    for i, w in enumerate(ws):  # a word that is a verb by itself first: ``az dns record-set list``
        c = _class_of(w.lower(), False)
        if c is not None:
            later = [_class_of(x.lower(), False) for x in ws[i + 1:i + 2]]
            if c == "read" and i == 0 and w.lower() in ("show", "display") and \
                    len(ws) <= 3 and not any(verb_class(x) == "destroy" for x in ws[1:]):
                return "read"  # show reload, display current-configuration: what is shown
            if c == "read" and later and later[0] in ("destroy", "change"):
                return later[0]  # ``git reflog expire``, ``logs delete``: the act that follows
            if c == "make" and later and later[0] in ("destroy", "change") and \
                    ws[i + 1].lower() not in ("bulk", "batch", "mass") and (w, ws[i + 1]) in pairs:
                return later[0]  # ``consul snapshot restore``, ``backup delete``
            if c == "read" and not _PREDICATE.match(w):
                # ``gcloud compute instances add-metadata``, ``aws logs create-export-task``:
                # a read word that names a service or a noun, then the verb that acts
                after = [verb_class(x) for x in ws[i + 1:] if not re.search(r"[\d.]", x) and
                         _tokens(x) and _class_of(_tokens(x)[0], False) is not None]
                for worse in ("destroy", "change", "make"):
                    if worse in after:
                        return worse
            return c
    for w in ws:
        c = verb_class(w)
        if c is not None:
            return c
    for w in ws:  # restic snapshots, heroku pg:backups: a plural noun naming its listing
        c = verb_class(w, stem=True)
        if c is not None:
            return c
    return None
_BAD_FLAG = re.compile(r"^--?(?:[\w-]*(?:delete|purge|remove|drop|wipe|destroy|force|overwrite|"
                       r"prune|truncate|reset|erase|clean|clear|cascade|nuke|flush|"
                       r"kill|terminate|yes|confirm|approve|auto-approve|accept|assume-yes|"
                       r"no-preserve-root|hard|replace|in-place|inplace)[\w-]*|i|f|y|rf|fr|"
                       r"fd|fdx|d|D|x)$")
"""Flags that make a read or a make command destructive or unattended."""
_CREATED: ContextVar[frozenset[str]] = ContextVar("created", default=frozenset())
"""Targets the plan created in earlier steps (``PlanState.created``), for the step screened."""
