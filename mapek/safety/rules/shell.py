"""Shell commands: a small tokenizer (``shlex``) and one analyser per dangerous command.

A script is split into lines (backslash continuations joined), each line into simple commands at
``;``, ``&&``, ``||``, ``|``, ``&`` and parentheses (so ``$(...)`` and ``for ... do ...`` bodies are
seen as commands too). Wrappers are peeled off (``sudo``, ``env``, ``nohup``, ``timeout``,
``xargs``, assignments, ``do``/``then``), and nested commands are parsed again, to a depth of 3:
``ssh host 'cmd'``, ``sh -c '...'``, ``kubectl exec ... -- cmd``, ``docker exec ctr cmd``,
SQL given to ``psql -c``/``mysql -e``/``sqlite3``, and SQL lines of a here-document.

Targets are classified by :func:`~mapek.safety.rules._base.classify_path`: ``/``, a top-level
system folder or a home folder, or a path that starts with a variable that may be empty
(``$DIR/``, ``"${X}/"*``) make a recursive delete catastrophic; scratch (``/tmp/<name>``) and
regenerable folders (``node_modules``, ``build``, ``__pycache__``...) make it harmless.
"""

from __future__ import annotations

import re
import shlex

from mapek.safety.rules._base import (
    LOCAL_KINDS,
    LOCAL_VERBS,
    SQL_ARGUMENT,
    Finding,
    PlanState,
    classify_path,
    is_shared_branch,
    norm_target,
    scan_embedded,
    snippet,
)
from mapek.safety.rules.cloud import CLOUD_COMMANDS, RETENTION_GATE, is_dry_run, scan_retention
from mapek.safety.rules.saas import http_delete
from mapek.safety.rules.shellparse import scan_structure
from mapek.safety.rules.sql import SQL_ANCHOR, scan_migrations, scan_sql

__all__ = ["scan_shell", "scan_command_line", "COMMAND_WORDS", "looks_like_command"]

_MAX_DEPTH = 3
_MAX_LINES = 5000
_SEPARATORS = frozenset({";", "&&", "||", "|", "&", "(", ")", ";;", "|&", "$", "{", "}", "!"})
_WRAPPERS = frozenset({"sudo", "doas", "env", "nohup", "time", "nice", "ionice", "timeout",
                       "stdbuf", "command", "builtin", "exec", "xargs", "watch", "then", "do",
                       "else", "elif", "if", "while", "until", "strace", "unbuffer", "caffeinate",
                       "parallel", "runuser"})
_WRAPPER_VALUE_FLAGS = {
    "sudo": {"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U"},
    "env": {"-u", "-C", "-S"}, "nice": {"-n"}, "ionice": {"-c", "-n", "-p"},
    "xargs": {"-I", "-n", "-P", "-L", "-d", "-E", "-s", "-a"}, "watch": {"-n", "-d"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"}, "runuser": {"-u", "-g"},
}
_AUDIT_LOG = re.compile(r"^/var/log/(?:audit\b|auth\.log|secure|wtmp|btmp|lastlog|syslog|messages|"
                        r"journal\b|sudo\.log|kern\.log)", re.I)
_DATA_FILE = re.compile(r"\.(?:db|sqlite3?|mdb|accdb|dump|bak|tfstate|ibd|frm|wal|parquet)$|"
                        r"backup|/\.git/?$|(?:^|/)\.git$", re.I)
_LIVE_DATA = re.compile(r"\.(?:db|sqlite3?|mdb|accdb|tfstate|ibd|frm|wal)$", re.I)
"""Files whose in-place overwrite loses live data (a new dump into /backups is not one)."""
_DEVICE = re.compile(r"^/dev/(?:sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|mmcblk\d|disk\d|rdisk\d|"
                     r"mapper/|md\d|dm-\d|nbd\d|loop\d|sr\d)", re.I)
_SYSTEM_CONFIG = ("/etc/", "/boot/", "/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/",
                  "/System/", "/Library/")
"""Configuration and binaries of the host: overwriting one breaks the machine."""
_SQL_CLIENTS = {"psql": ("-c", "--command"), "mysql": ("-e", "--execute"),
                "mariadb": ("-e", "--execute"), "clickhouse-client": ("-q", "--query"),
                "snowsql": ("-q", "--query"), "cqlsh": ("-e", "--execute"),
                "duckdb": ("-c",), "cockroach": ("-e", "--execute"), "bq": ("query",)}

COMMAND_WORDS = frozenset("""rm srm shred wipe find dd mkfs mke2fs mkswap wipefs sgdisk sfdisk
parted blkdiscard diskutil format truncate chmod chown chgrp git docker podman docker-compose
crontab userdel deluser rsync redis-cli dropdb psql mysql mariadb sqlite3 mongo mongosh
clickhouse-client snowsql cqlsh duckdb bq systemctl service auditctl history unset curl mv cp
ssh sh bash zsh su eval terraform tofu terragrunt pulumi cdk cdktf aws gcloud gsutil az kubectl oc
helm eksctl kind minikube k3d velero restic kopia borg zfs lvremove vgremove pvremove tmutil
snapper btrfs vault Remove-Item Format-Volume Clear-Disk rd rmdir del erase python python3
cryptsetup hdparm""".split())


def looks_like_command(word: str) -> bool:
    w = word.rsplit("/", 1)[-1]
    return w in COMMAND_WORDS or w.startswith("mkfs")


def _lines(text: str) -> list[str]:
    joined = re.sub(r"\\\r?\n", " ", text)
    lines = joined.splitlines()
    return lines[:_MAX_LINES]


_TOKEN = re.compile(r"""\s*(?:(&&|\|\||;;|\|&|&>>?|>>|>\||<<<|<<-?|<>|[;&|()<>])|"""
                    r"""((?:[^\s;&|()<>'"\\]|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+)|(\S))""", re.S)
_UNQUOTE = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)""", re.S)
_DQ_ESCAPE = re.compile(r"""\\([\\"$`])""")


def _unquote(m: re.Match[str]) -> str:
    if m.group(1) is not None:
        return m.group(1)
    if m.group(2) is not None:
        return _DQ_ESCAPE.sub(r"\1", m.group(2))
    return m.group(3)


def _tokenize(line: str) -> list[str]:
    """POSIX-like words: quotes removed, escapes applied, operators split off (as shlex would,
    but with one regex pass; an unbalanced quote just ends the word)."""
    line = line.replace("`", " ( ")  # command substitution: a nested command
    toks: list[str] = []
    for m in _TOKEN.finditer(line):
        op, word, stray = m.group(1), m.group(2), m.group(3)
        if op is not None:
            toks.append(op)
        elif word is not None:
            if word.startswith("#"):
                break
            toks.append(_UNQUOTE.sub(_unquote, word) if ("'" in word or '"' in word or
                                                          "\\" in word) else word)
        elif stray is not None:
            toks.append(stray.strip("'\""))
    return toks


def _split_commands(tokens: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    cur: list[str] = []
    for t in tokens:
        if t in _SEPARATORS or (t and set(t) <= set(";&|()") and ">" not in t):
            if cur:
                out.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        out.append(cur)
    return out


def _peel(tokens: list[str]) -> tuple[list[str], bool]:
    """Strip wrappers and assignments; ``True`` when arguments arrive on stdin (xargs)."""
    stdin = False
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if re.match(r"^[A-Za-z_]\w*=", t):
            i += 1
            continue
        base = t.rsplit("/", 1)[-1]
        if base in _WRAPPERS:
            stdin = stdin or base in ("xargs", "parallel")
            flags = _WRAPPER_VALUE_FLAGS.get(base, set())
            i += 1
            while i < len(tokens) and (tokens[i].startswith("-") or
                                       re.match(r"^[A-Za-z_]\w*=", tokens[i]) or
                                       (base in ("timeout", "nice") and
                                        re.match(r"^\d", tokens[i]))):
                if tokens[i] in flags:
                    i += 1
                i += 1
            continue
        break
    return tokens[i:], stdin


def _redirections(tokens: list[str]) -> tuple[list[str], list[str]]:
    """Separate ``> target`` overwrites from the argument list (appends are dropped)."""
    argv: list[str] = []
    over: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t in (">", ">|", "&>", ">&") or (t.endswith(">") and set(t) <= set("0123456789&>|")
                                             and ">>" not in t):
            if i + 1 < len(tokens) and not tokens[i + 1].startswith("&"):
                if argv and re.fullmatch(r"\d", argv[-1]) and argv[-1] != "1":
                    argv.pop()  # 2> file: error output, not an overwrite of data we care about
                    i += 2
                    continue
                if argv and argv[-1] == "1":
                    argv.pop()
                over.append(tokens[i + 1])
            i += 2
            continue
        if t in (">>", "&>>", "<", "<<", "<<<", "<<-", "<>"):
            i += 2
            continue
        argv.append(t)
        i += 1
    return argv, over


def _flags(argv: list[str]) -> set[str]:
    """Short flags exploded (``-rf`` -> r, f) and long flags kept (``--recursive``)."""
    out: set[str] = set()
    for a in argv:
        if a == "--":
            break
        if a.startswith("--"):
            out.add(a.split("=", 1)[0])
        elif a.startswith("-") and len(a) > 1:
            out.update(a[1:])
    return out


def _operands(argv: list[str]) -> list[str]:
    out, dashdash = [], False
    for a in argv:
        if not dashdash and a == "--":
            dashdash = True
            continue
        if not dashdash and a.startswith("-") and len(a) > 1:
            continue
        out.append(a)
    return out


# --------------------------------------------------------------------------------------------
# per-command analysers: (argv without the command, full line, state, stdin) -> findings
# --------------------------------------------------------------------------------------------

def _delete_targets(rule_recursive: bool, targets: list[str], line: str, state: PlanState,
                    stdin: bool) -> list[Finding]:
    found: list[Finding] = []
    if stdin and not targets:
        return [Finding("shell.rm-recursive", snippet(line), ("<stdin>",))]
    risky: list[str] = []
    for t in targets:
        cls = classify_path(t)
        if cls in ("scratch", "regenerable", "null"):
            continue
        if state.owns(t):
            continue
        if rule_recursive and cls in ("root", "system-top", "home"):
            found.append(Finding("shell.rm-root", snippet(line), (t,)))
        elif rule_recursive and cls == "var-empty":
            found.append(Finding("shell.rm-empty-var", snippet(line), (t,)))
        elif rule_recursive:
            risky.append(t)
        elif cls in ("root", "system-top", "home", "var-empty", "glob-all") or \
                (cls == "system-deep" and not _AUDIT_LOG.match(t)) or _DATA_FILE.search(t):
            found.append(Finding("shell.rm-file", snippet(line), (t,)))
        if _AUDIT_LOG.match(t):
            found.append(Finding("audit.disable", snippet(line), (t,)))
    if risky:
        backup = [t for t in risky if re.search(r"backup|snapshot", t, re.I)]
        if backup:
            found.append(Finding("backup.delete", snippet(line), tuple(backup)))
        found.append(Finding("shell.rm-recursive", snippet(line), tuple(risky)))
    return found


def _rm(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    fl = _flags(argv)
    low = {a.lower() for a in argv}
    recursive = bool({"r", "R", "--recursive"} & fl) or bool({"-recurse", "/s"} & low)
    ops = [o for o in _operands(argv) if not o.startswith("/") or len(o) > 2 or o == "/"]
    ops = [o for o in ops if o.lower() not in ("/s", "/q", "/f")]
    return _delete_targets(recursive, ops, line, state, stdin)


def _remove_item(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    low = [a.lower() for a in argv]
    recursive = "-recurse" in low or "/s" in low
    targets = [a for a in argv if not a.startswith(("-", "/"))] or \
        [a for a in argv if a.startswith("/") and a.lower() not in ("/s", "/q", "/f")]
    return _delete_targets(recursive, targets, line, state, stdin)


def _shred(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    ops = _operands(argv)
    keep = [o for o in ops if classify_path(o) not in ("scratch", "null") and not state.owns(o)]
    if _DEVICE.match(ops[0] if ops else ""):
        return [Finding("shell.device-write", snippet(line), tuple(ops[:3]))]
    if keep or (stdin and not ops):
        return [Finding("shell.shred", snippet(line), tuple(keep[:6]))]
    return []


def _find(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    deleting = "-delete" in argv
    for i, a in enumerate(argv):
        if a in ("-exec", "-execdir", "-ok") and i + 1 < len(argv) and \
                argv[i + 1].rsplit("/", 1)[-1] in ("rm", "shred", "unlink", "srm"):
            deleting = True
    if not deleting:
        return []
    paths = []
    for a in argv:
        if a.startswith(("-", "(", "!", "\\(")):
            break
        paths.append(a)
    paths = paths or ["."]
    named = any(a in ("-name", "-iname", "-path", "-ipath", "-regex", "-wholename") and
                i + 1 < len(argv) and argv[i + 1] not in ("*", "*.*", ".*")
                for i, a in enumerate(argv))
    classes = [classify_path(p) for p in paths]
    if all(c in ("scratch", "regenerable") or state.owns(p)
           for c, p in zip(classes, paths, strict=True)):
        return []
    if any(c in ("root", "system-top", "home", "var-empty") for c in classes):
        return [Finding("shell.rm-root", snippet(line), tuple(paths))]
    if any(re.search(r"backup|snapshot", p, re.I) for p in paths):
        return [Finding("backup.delete", snippet(line), tuple(paths))]
    if any(_AUDIT_LOG.match(p) for p in paths):
        return [Finding("audit.disable", snippet(line), tuple(paths))]
    if named and all(c in ("path", "glob-all") and not p.startswith("/") for c, p in
                     zip(classes, paths, strict=True)):
        return []
    names = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-name", "-iname")]
    if names and _aged(argv) and all(_DISPOSABLE.search(n) and not _DATA_FILE.search(n)
                                     for n in names):
        return []  # retention: rotated logs, temp and cache files older than a week
    return [Finding("shell.find-delete", snippet(line), tuple(paths))]


_DISPOSABLE = re.compile(r"log|\.gz$|\.tmp$|\.temp$|tmp|cache|\.old$|^core|\.pid$|\.swp$|"
                         r"\.part$|\.trace$|\.dmp$|\.out$", re.I)
"""File names a retention job may age out (rotated logs, temp, cache, core dumps)."""


def _aged(argv: list[str]) -> bool:
    """``-mtime +N`` (N >= 7) or ``-mmin +M`` (a week or more): only old files are matched."""
    for i, a in enumerate(argv[:-1]):
        m = re.fullmatch(r"\+(\d+)", argv[i + 1])
        if m and (a in ("-mtime", "-ctime", "-atime") and int(m.group(1)) >= 7 or
                  a in ("-mmin", "-cmin", "-amin") and int(m.group(1)) >= 7 * 24 * 60):
            return True
    return False


def _dd(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    for a in argv:
        if a.startswith("of="):
            tgt = a[3:]
            if _DEVICE.match(tgt):
                return [Finding("shell.device-write", snippet(line), (tgt,))]
            if classify_path(tgt) == "system-deep" and not tgt.startswith("/dev/"):
                return [Finding("shell.system-overwrite", snippet(line), (tgt,))]
    return []


def _device_tool(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    ops = _operands(argv)
    devs = [o for o in ops if _DEVICE.match(o)]
    if devs:
        return [Finding("shell.device-write", snippet(line), tuple(devs))]
    return []


def _diskutil(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    if argv and argv[0].lower() in ("erasedisk", "erasevolume", "zerodisk", "secureerase",
                                    "randomdisk", "partitiondisk", "apfs"):
        if argv[0].lower() != "apfs" or "deleteVolume" in argv or "deleteContainer" in argv:
            return [Finding("shell.device-write", snippet(line), tuple(argv[-1:]))]
    return []


def _win_format(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    if any(re.fullmatch(r"[A-Za-z]:\\?", a) for a in argv) or "-driveletter" in \
            {a.lower() for a in argv} or "-number" in {a.lower() for a in argv}:
        return [Finding("shell.device-write", snippet(line), tuple(argv[:1]))]
    return []


def _truncate(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    size = None
    for i, a in enumerate(argv):
        if a in ("-s", "--size") and i + 1 < len(argv):
            size = argv[i + 1]
        elif a.startswith("--size="):
            size = a.split("=", 1)[1]
        elif a.startswith("-s") and len(a) > 2:
            size = a[2:]
    if size is None or not (size.strip() in ("0", "0K", "0M") or size.startswith(("-", "<"))):
        return []
    ops = [o for o in _operands(argv) if o != size]
    return _overwrite(ops, line, state, truncation=True)


def _overwrite(targets: list[str], line: str, state: PlanState, *,
               truncation: bool) -> list[Finding]:
    found = []
    for t in targets:
        cls = classify_path(t)
        if cls in ("null", "scratch") or state.owns(t):
            continue
        if _AUDIT_LOG.match(t) or re.search(r"(?:^|/)\.?(?:bash_|zsh_)?history$", t):
            found.append(Finding("audit.disable", snippet(line), (t,)))
        elif _DEVICE.match(t):
            found.append(Finding("shell.device-write", snippet(line), (t,)))
        elif cls in ("system-top", "root") or t.startswith(_SYSTEM_CONFIG):
            found.append(Finding("shell.system-overwrite", snippet(line), (t,)))
        elif truncation or _LIVE_DATA.search(t):
            if truncation and not (_LIVE_DATA.search(t) or cls in ("system-deep", "path")
                                   and re.search(r"\.(?:db|log|csv|json|sql)$|/data/", t)):
                continue
            found.append(Finding("shell.truncate", snippet(line), (t,)))
    return found


def _perm(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    fl = _flags(argv)
    if not ({"R", "--recursive"} & fl):
        return []
    ops = _operands(argv)[1:]  # the first operand is the mode or owner
    bad = [o for o in ops if classify_path(o) in ("root", "system-top", "home", "var-empty")]
    if bad:
        return [Finding("shell.perm-recursive", snippet(line), tuple(bad))]
    deep = [o for o in ops if classify_path(o) == "system-deep" and o.startswith(
        ("/etc", "/usr", "/bin", "/sbin", "/lib", "/boot", "/var/lib"))]
    if deep:
        return [Finding("shell.perm-recursive", snippet(line), tuple(deep), blast="destructive")]
    return []


def _git(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    # drop global options (-C dir, -c k=v)
    while argv and argv[0] in ("-C", "-c", "--git-dir", "--work-tree"):
        argv = argv[2:]
    if not argv:
        return []
    sub, rest = argv[0], argv[1:]
    ops = _operands(rest)
    fl = _flags(rest)
    if sub in ("checkout", "switch"):
        if ops:
            if ({"b", "B", "c", "C", "--orphan"} & fl):
                state.created.add(norm_target(ops[0]))
            state.branch = ops[0] if "--" not in rest else state.branch
        return []
    if sub == "push":
        if {"n", "--dry-run"} & fl:
            return []
        refs = ops[1:] if len(ops) > 1 else []
        dsts = []
        forced = bool({"f", "--force"} & fl)
        lease = any(a.startswith(("--force-with-lease", "--force-if-includes")) for a in rest)
        deleting = bool({"d", "--delete"} & fl)
        for r in refs:
            if r.startswith("+"):
                forced = True
                r = r[1:]
            if r.startswith(":"):
                deleting = True
            dsts.append(r.split(":", 1)[-1] if ":" in r else r)
        if "--mirror" in fl:
            return [Finding("git.history-rewrite", snippet(line), tuple(ops[:1]),
                            blast="catastrophic")]
        if deleting:
            shared = [d for d in dsts if is_shared_branch(d)]
            if shared:
                return [Finding("git.delete-shared-branch", snippet(line), tuple(shared))]
            return []
        if forced or lease:
            names = dsts or ([state.branch] if state.branch else [])
            if any(is_shared_branch(n) for n in names):
                return [Finding("git.force-push-shared", snippet(line), tuple(names))]
            if lease and not forced:
                return []
            if names and all(state.owns(n) for n in names):
                return []
            return [Finding("git.force-push", snippet(line), tuple(names), certain=False)]
        return []
    if sub == "branch":
        if {"D", "d", "--delete"} & fl:
            shared = [o for o in ops if is_shared_branch(o)]
            if shared:
                return [Finding("git.delete-shared-branch", snippet(line), tuple(shared))]
        return []
    if sub == "reset" and "--hard" in fl:
        ref = ops[0] if ops else ""
        if ref.startswith(("origin/", "upstream/", "@{u}", "@{upstream}")) or not ref:
            return []
        if is_shared_branch(state.branch):
            return [Finding("git.reset-hard-shared", snippet(line), (state.branch or "",))]
        if re.match(r"^(?:HEAD)?[~^]\d*|^HEAD[~^]|^[0-9a-f]{7,40}$", ref):
            return [Finding("git.reset-hard-shared", snippet(line), (state.branch or ref,),
                            certain=False)]
        return []
    if sub == "clean":
        if {"n", "--dry-run"} & fl or not ({"f", "--force"} & fl):
            return []
        return [Finding("git.clean", snippet(line), (), certain=False)]
    if sub in ("filter-branch", "filter-repo"):
        return [Finding("git.history-rewrite", snippet(line), ())]
    if sub == "update-ref" and "-d" in rest:
        shared = [o for o in ops if is_shared_branch(o.removeprefix("refs/heads/"))]
        if shared:
            return [Finding("git.delete-shared-branch", snippet(line), tuple(shared))]
    return []


def _docker(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    ops = _operands(argv)
    fl = _flags(argv)
    if not ops:
        return []
    if ops[0] == "run":
        for i, a in enumerate(argv):
            if a == "--name" and i + 1 < len(argv):
                state.created.add(norm_target(argv[i + 1]))
            elif a.startswith("--name="):
                state.created.add(norm_target(a[7:]))
        return []
    if ops[0] == "volume" and len(ops) > 1:
        if ops[1] == "create" and len(ops) > 2:
            state.created.add(norm_target(ops[2]))
            return []
        if ops[1] in ("rm", "remove", "prune"):
            names = tuple(ops[2:6])
            return [Finding("shell.container-volumes", snippet(line), names,
                            owned=bool(names) and all(state.owns(n) for n in names))]
    if ops[:2] == ["system", "reset"] and not {"--help", "h"} & fl:  # all of it, volumes too
        return [Finding("shell.container-volumes", snippet(line), ())]
    if ops[0] == "system" and ops[1:2] == ["prune"] and "--volumes" in fl:
        return [Finding("shell.container-volumes", snippet(line), ())]
    if ops[0] in ("down",) or ops[:2] == ["compose", "down"]:
        if {"v", "--volumes"} & fl:
            return [Finding("shell.container-volumes", snippet(line), ())]
    return []


def _crontab(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    if "r" in _flags(argv):
        return [Finding("shell.crontab-remove", snippet(line), ())]
    return []


def _userdel(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    fl = _flags(argv)
    if {"r", "--remove", "--remove-home", "--remove-all-files"} & fl:
        return [Finding("shell.user-delete", snippet(line), tuple(_operands(argv)[:2]))]
    if _operands(argv):
        return [Finding("shell.user-remove", snippet(line), tuple(_operands(argv)[:2]))]
    return []


def _rsync(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    fl = _flags(argv)
    if {"n", "--dry-run"} & fl:
        return []
    if any(f.startswith("--delete") for f in fl):
        ops = _operands(argv)
        dst = ops[-1:] if ops else []
        if dst and (classify_path(dst[0]) in ("scratch", "regenerable") or state.owns(dst[0])):
            return []
        src = ops[-2] if len(ops) >= 2 else ""
        return [Finding("shell.sync-delete", snippet(line), tuple(dst),
                        certain=_EMPTY_SOURCE.match(src.rstrip("/\\").replace("\\", "/")
                                                    .rsplit("/", 1)[-1]) is not None)]
    return []


_EMPTY_SOURCE = re.compile(r"^(?:empty|blank|void|nothing|null)(?:[\w.-]*)$", re.I)
"""A mirror's source named as empty (``rsync -a --delete /tmp/empty/ DEST``): the mirror
deletes everything in the destination, which is what it is for."""


def _redis(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    if any(a.upper() in ("FLUSHALL", "FLUSHDB") for a in argv):
        return [Finding("store.flush", snippet(line), ())]
    return []


def _dropdb(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    names = tuple(_operands(argv)[-1:])
    return [Finding("sql.drop", snippet(line), names)]


def _sql_client(cmd: str) -> object:
    flags = _SQL_CLIENTS.get(cmd, ())

    def run(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
        sqls = []
        for i, a in enumerate(argv):
            if a in flags and i + 1 < len(argv):
                sqls.append(argv[i + 1])
            elif any(a.startswith(f + "=") for f in flags if f.startswith("--")):
                sqls.append(a.split("=", 1)[1])
        if cmd in ("sqlite3", "duckdb") and len(_operands(argv)) >= 2:
            sqls.append(_operands(argv)[-1])
        if cmd == "bq" and argv and argv[0] == "query":
            sqls.extend(_operands(argv)[1:2])
        found: list[Finding] = []
        for s in sqls:
            found.extend(scan_sql(s, state))
        return found

    return run


def _mongo(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    for i, a in enumerate(argv):
        if a == "--eval" and i + 1 < len(argv):
            return scan_migrations(argv[i + 1])
    return []


def _service(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    words = [a.lower() for a in _operands(argv)]
    if any(w in ("stop", "disable", "mask", "kill") for w in words) and any(
            re.match(r"^(?:auditd|rsyslog|syslog|syslog-ng|systemd-journald|osqueryd|"
                     r"falcon-sensor|wazuh-agent|auditbeat|filebeat)(?:\.service)?$", w)
            for w in words):
        return [Finding("audit.disable", snippet(line), tuple(words[-1:]))]
    return []


def _auditctl(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    if "-D" in argv or ("-e" in argv and argv[argv.index("-e") + 1:argv.index("-e") + 2] == ["0"]):
        return [Finding("audit.disable", snippet(line), ())]
    return []


def _history(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    if "-c" in argv or "-w" in argv and "/dev/null" in argv:
        return [Finding("audit.disable", snippet(line), ("shell history",))]
    return []


def _unset(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    if "HISTFILE" in argv:
        return [Finding("audit.disable", snippet(line), ("shell history",), certain=False)]
    return []


def _method_delete(argv: list[str], flags: tuple[str, ...]) -> bool:
    for i, a in enumerate(argv):
        if a in flags and i + 1 < len(argv) and argv[i + 1].upper() == "DELETE" or \
                a.upper() in {f.upper() + "DELETE" for f in flags if not f.startswith("--")} | \
                {f.upper() + "=DELETE" for f in flags if f.startswith("--")}:
            return True
    return False


def _curl(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    if _method_delete(argv, ("-X", "--request")):
        urls = tuple(o for o in _operands(argv) if "://" in o or o.startswith("localhost"))
        return http_delete(urls[:2], snippet(line), state, rule="shell.http-delete",
                           certain=bool(urls) and not _soft(list(urls), line))
    return []


def _gh(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    """GitHub's CLI: ``gh api -X DELETE <path>`` (judged by its path, like ``curl``), ``gh repo
    delete``; anything else goes to the generic CLI rule."""
    if argv[:1] == ["api"]:
        if not _method_delete(argv, ("-X", "--method")):
            return []
        vals = {"-X", "--method", "-H", "--header", "-f", "-F", "--field", "--raw-field",
                "--jq", "-q", "--template", "-t", "--hostname", "--input", "-p", "--preview"}
        paths, i = [], 1
        while i < len(argv):
            if argv[i] in vals:
                i += 2
                continue
            if not argv[i].startswith("-"):
                paths.append(argv[i])
            i += 1
        return http_delete(tuple(paths[:2]), snippet(line), state, rule="shell.http-delete",
                           certain=bool(paths) and not _soft(paths, line))
    if argv[:2] == ["repo", "delete"]:
        names = tuple(_operands(argv)[2:3])
        return [Finding("tool.delete-repo", snippet(line), names,
                        owned=bool(names) and all(state.owns(n) for n in names))]
    return _generic_cli("gh-cli", argv, line, state)


def _mv(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    ops = _operands(argv)
    if len(ops) >= 2 and ops[-1] == "/dev/null":
        return _delete_targets(True, ops[:-1], line, state, stdin)
    return []


def _cp(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    ops = _operands(argv)
    if len(ops) == 2 and ops[0] == "/dev/null":
        return _overwrite(ops[1:], line, state, truncation=True)
    if len(ops) >= 2 and classify_path(ops[-1]) == "system-deep" and \
            ops[-1].startswith(("/etc/", "/boot/", "/usr/", "/bin/", "/sbin/", "/lib")):
        return [Finding("shell.system-overwrite", snippet(line), (ops[-1],), certain=False,
                        blast="destructive")]
    return []


def _mkdir(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    for o in _operands(argv):
        state.created.add(norm_target(o))
    return []


def _python(argv: list[str], line: str, state: PlanState, stdin: bool) -> list[Finding]:
    if "-c" in argv:
        i = argv.index("-c")
        if i + 1 < len(argv):
            return scan_embedded("code", argv[i + 1], state)
    return []


_HANDLERS = {
    "rm": _rm, "srm": _shred, "shred": _shred, "wipe": _shred, "unlink": _rm,
    "find": _find, "dd": _dd, "mke2fs": _device_tool, "mkswap": _device_tool,
    "wipefs": _device_tool, "sgdisk": _device_tool, "sfdisk": _device_tool,
    "parted": _device_tool, "blkdiscard": _device_tool, "cryptsetup": _device_tool,
    "hdparm": _device_tool, "diskutil": _diskutil, "format": _win_format,
    "format-volume": _win_format, "clear-disk": _win_format,
    "truncate": _truncate, "chmod": _perm, "chown": _perm, "chgrp": _perm, "git": _git,
    "docker": _docker, "podman": _docker, "docker-compose": _docker, "crontab": _crontab,
    "userdel": _userdel, "deluser": _userdel, "rsync": _rsync, "redis-cli": _redis,
    "dropdb": _dropdb, "mongo": _mongo, "mongosh": _mongo, "systemctl": _service,
    "service": _service, "auditctl": _auditctl, "history": _history, "unset": _unset,
    "curl": _curl, "gh": _gh, "mv": _mv, "cp": _cp, "mkdir": _mkdir, "mktemp": _mkdir,
    "remove-item": _remove_item, "ri": _remove_item, "rd": _remove_item, "del": _remove_item,
    "erase": _remove_item, "rmdir": _remove_item, "python": _python, "python3": _python,
}
for _c in _SQL_CLIENTS:
    _HANDLERS[_c] = _sql_client(_c)  # type: ignore[assignment]
_HANDLERS["sqlite3"] = _sql_client("sqlite3")  # type: ignore[assignment]

_NESTED_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "su", "eval", "fish"})
_SSH_VALUE_FLAGS = frozenset("-i -p -l -o -J -F -L -R -D -b -c -E -e -m -O -Q -S -W -w -P".split())


def _rejoin(words: list[str]) -> str:
    """Words of a nested command as a command line again: one word is the line itself
    (``ssh h 'rm -rf x'``); several keep their quoting (``-- psql -c 'DROP TABLE t'``)."""
    return words[0] if len(words) == 1 else shlex.join(words)


def _nested(cmd: str, argv: list[str], state: PlanState) -> list[Finding] | None:
    """Commands that carry another command line; ``None`` when ``cmd`` is not one."""
    if state.depth >= _MAX_DEPTH:
        return None
    inner: str | None = None
    if cmd in _NESTED_SHELLS:
        if "-c" in argv:
            i = argv.index("-c")
            inner = argv[i + 1] if i + 1 < len(argv) else None
        elif cmd == "eval" and not (len(argv) == 1 and re.fullmatch(r"\$\(.*\)|`.*`", argv[0],
                                                                        re.S)):
            inner = " ".join(argv)  # eval "$(tool init)": the structure scan reads that
    elif cmd in ("ssh", "gcloud-ssh"):
        i = 0
        while i < len(argv) and argv[i].startswith("-"):
            i += 2 if argv[i] in _SSH_VALUE_FLAGS else 1
        if i + 1 < len(argv):
            inner = _rejoin(argv[i + 1:])
    elif cmd not in _SQL_CLIENTS and cmd != "sqlite3" and (
            i := next((j for j, a in enumerate(argv) if a.split("=", 1)[0] in _COMMAND_FLAGS),
                      -1)) >= 0:
        a = argv[i]
        inner = a.split("=", 1)[1] if "=" in a else (argv[i + 1] if i + 1 < len(argv) else None)
    elif cmd in ("kubectl", "oc", "docker", "podman") and argv[:1] == ["exec"]:
        if "--" in argv:
            inner = _rejoin(argv[argv.index("--") + 1:])
        elif cmd in ("docker", "podman"):
            ops = [a for a in argv[1:] if not a.startswith("-")]
            inner = _rejoin(ops[1:]) if len(ops) > 1 else None
    if inner is None:
        return None
    state.depth += 1
    try:
        return scan_shell(inner, state)
    finally:
        state.depth -= 1


_COMMAND_FLAGS = frozenset({"--command", "--cmd", "--exec", "--run-command", "--remote-command",
                            "--commands"})
"""Flags whose value is a command line run elsewhere (``gcloud compute ssh --command=...``)."""
_SINKS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "crontab", "at", "batch", "ssh", "tee"})
_SCHEDULERS = frozenset({"crontab", "at", "batch"})
_CRON_PATH = re.compile(r"/etc/cron|/var/spool/cron|/etc/crontab|/etc/anacrontab")
_CRON_SCHEDULE = re.compile(r"^\s*(?:@\w+|(?:[\d*/,?LW#-]+|[A-Za-z]{3}(?:-[A-Za-z]{3})?)"
                            r"(?:\s+(?:[\d*/,?LW#-]+|[A-Za-z]{3}(?:[-,][A-Za-z]{3})*)){4})\s+")
_ECHOES = frozenset({"echo", "printf"})
_UNIT_EXEC = re.compile(r"^\s*Exec(?:Start|StartPre|StartPost|Stop|StopPost|Reload)=[-@:+!]*")


def _sinks(tokens: list[str]) -> tuple[bool, bool, bool]:
    """(a command string on this line is executed, it is scheduled, it is SQL): text piped to a
    shell, ``crontab -``, ``at``, ``ssh host``, ``tee`` into a cron file (or redirected into one),
    or to a SQL client (``echo 'DROP ...' | psql``)."""
    run = sched = sql = False
    for i, t in enumerate(tokens):
        if t == "|" and i + 1 < len(tokens):
            nxt, _ = _peel(tokens[i + 1:])
            base = nxt[0].rsplit("/", 1)[-1] if nxt else ""
            if base in _SINKS and (base != "tee" or any(_CRON_PATH.match(a) for a in nxt[1:])):
                run = True
                sched = sched or base in _SCHEDULERS or base == "tee"
            elif base in _SQL_CLIENTS or base == "sqlite3":
                sql = True
        elif _CRON_PATH.match(t) and i and tokens[i - 1] in (">", ">>", ">|"):
            run = sched = True
    return run, sched, sql


def _payload_lines(text: str) -> str:
    """A command string as a script: ``\\n`` escapes as lines, cron schedules (and a cron
    file's user field) dropped."""
    out = []
    for ln in text.replace("\\n", "\n").split("\n"):
        m = _CRON_SCHEDULE.match(ln)
        if m:
            ln = ln[m.end():]
            first, _, rest = ln.partition(" ")
            if rest and not looks_like_command(first) and looks_like_command(rest.split()[0]):
                ln = rest
        out.append(ln)
    return "\n".join(out)


def _nested_strings(toks: list[str], cmds: list[list[str]], line: str,
                    state: PlanState) -> list[Finding]:
    """``echo 'cmd' | crontab -``, ``printf '...' | sh``, ``echo '...' >> /etc/cron.d/x``: the
    echoed text is screened as commands; a scheduled one is also ``shell.nested-schedule``."""
    run, sched, sql = _sinks(toks)
    if state.depth >= _MAX_DEPTH:
        return []
    found: list[Finding] = []
    for i, t in enumerate(toks[:-1]):  # here-strings: at now <<< 'cmd', psql <<< 'DROP ...'
        if t != "<<<":
            continue
        j = i
        while j > 0 and toks[j - 1] not in _SEPARATORS:
            j -= 1
        head, _ = _peel(toks[j:i])
        base = head[0].rsplit("/", 1)[-1] if head else ""
        if base in _SQL_CLIENTS or base == "sqlite3":
            found.extend(scan_sql(toks[i + 1], state))
        elif base in _SINKS - {"tee"}:
            state.depth += 1
            try:
                inner = scan_shell(_payload_lines(toks[i + 1]), state)
            finally:
                state.depth -= 1
            found.extend(inner)
            if base in _SCHEDULERS and inner:
                found.append(Finding("shell.nested-schedule", snippet(line),
                                     tuple(t for f in inner for t in f.targets)[:6],
                                     owned=all(f.owned for f in inner)))
    if not (run or sql):
        return found
    for c in cmds:
        argv, _ = _peel(c)
        argv, _ = _redirections(argv)
        if not argv or argv[0].rsplit("/", 1)[-1] not in _ECHOES:
            continue
        payload = " ".join(a for a in argv[1:] if not (a.startswith("-") and len(a) <= 3))
        if sql:
            found.extend(scan_sql(payload.replace("\\n", "\n"), state))
            continue
        state.depth += 1
        try:
            inner = scan_shell(_payload_lines(payload), state)
        finally:
            state.depth -= 1
        found.extend(inner)
        if sched and inner:
            targets = tuple(t for f in inner for t in f.targets)[:6]
            found.append(Finding("shell.nested-schedule", snippet(line), targets,
                                 owned=all(f.owned for f in inner)))
    return found


def scan_command_line(tokens: list[str], line: str, state: PlanState) -> list[Finding]:
    """One simple command, as tokens (redirections included)."""
    argv, stdin = _peel(tokens)
    argv, over = _redirections(argv)
    found: list[Finding] = []
    if not argv:
        # ``> file`` or ``: > file``: truncation
        return _overwrite(over, line, state, truncation=True)
    cmd = argv[0].rsplit("/", 1)[-1]
    low = cmd.lower()
    rest = argv[1:]
    if over:
        trunc = low in (":", "true") or (low == "cat" and rest[:1] == ["/dev/null"]) or \
            (low == "echo" and (not rest or rest == ["-n"])) or (low == "printf" and
                                                                 rest in ([""], []))
        found.extend(_overwrite(over, line, state, truncation=trunc))
    nested = _nested(low, rest, state)
    if nested is not None:
        return found + nested
    if low in CLOUD_COMMANDS or low.startswith("mkfs") or low in _HANDLERS:
        if is_dry_run(rest) and low not in ("rm",):
            return found
        if low.startswith("mkfs"):
            return found + _device_tool(rest, line, state, stdin)
        if low in CLOUD_COMMANDS:
            return found + CLOUD_COMMANDS[low]([low, *rest], line, state)
        return found + _HANDLERS[low](rest, line, state, stdin)
    if cmd in ("DROP", "TRUNCATE", "DELETE", "UPDATE", "ALTER"):
        return found + scan_sql(line, state)
    return found + _generic_cli(low, rest, line, state)


_PACKAGE_TOOLS = frozenset("""npm pnpm yarn pip pip3 pipx uv poetry conda mamba apt apt-get dnf yum
brew cargo gem go rustup nvm sdk choco winget snap flatpak asdf mise helmfile echo printf cat
grep rg less more head tail man ls dpkg rpm pacman zypper apk port pkg opkg""".split())
_CLI_VERB = re.compile(r"(?:^|[:._/-])(delete|destroy|drop|purge|wipe|rm|terminate|nuke|erase|"
                       r"truncate|flush|remove|reset|del|flushall|flushdb|deregister|"
                       r"expunge|obliterate|deleteall|delall|rmr|dropall|rb)(?:$|[:._/-])", re.I)
_CLI_FLAG = re.compile(r"^--?(?:delete|purge|destroy|drop|wipe|nuke|erase|flush|flushall|"
                       r"truncate|expunge|(?:delete|purge|remove|drop|wipe|destroy)-(?:all[\w-]*|"
                       r"data|volumes?|storage|everything|topics?|keys?|prefix|recursive|"
                       r"snapshots?|backups?|disks?)|force-delete|hard-delete|"
                       r"permanently-delete)$", re.I)
"""A flag that turns an unfamiliar CLI's command into a delete (``kafka-topics.sh --delete``,
``nomad job stop -purge``)."""
_STOPS = frozenset("stop kill halt delete purge destroy remove rm deregister".split())
_GC = frozenset("gc prune vacuum compact".split())
"""After a stop/delete of the same CLI in the plan, these make the removal final."""
_NOT_CLI = frozenset("""do not never no please then we i you the and to dont also will should
must can just let lets it this that""".split())
"""English words that start prose mistaken for a command line."""
_SUBCOMMAND = re.compile(r"[A-Za-z][\w:-]*")
_CLI_NAME = re.compile(r"[A-Za-z][\w:.-]*")
"""A command name, possibly with a script suffix (``kafka-topics.sh``)."""
"""A subcommand word (``delete``, ``db:drop``, ``firestore:delete``), not a path or a file."""
_DB_WORD = re.compile(r"(?:^|[:._/-])(?:db|pg|database|mysql|redis|data|store|firestore|"
                      r"migrate|migration|prisma)", re.I)


def _generic_cli(cmd: str, argv: list[str], line: str, state: PlanState) -> list[Finding]:
    """An unfamiliar CLI whose subcommand says delete/destroy/drop/purge/del/flushall/reset, or
    that carries a delete flag (``--delete``, ``-purge``), or whose own name says it
    (``kafka-delete-records.sh``): a removal the rules recognise (``foo-cli project destroy X``,
    ``nomadctl job purge``, ``xyz remove-all``), whatever the CLI. It is unsure (a human or the
    judge looks) only where the rules cannot weigh it: the target is marked as a test or
    scratch object (``cus_test_...``, ``smoke-7f3a``), or the removal is inferred
    (``gc``/``prune`` after a stop earlier in the plan, ansible's ``state=absent``). A
    subcommand that asks about a removal (``safe-to-destroy``, ``can-delete``,
    ``list-deleted``) is not one. ``reset`` counts only next to a database word; package
    managers and dry runs (``--dry-run``, ``make -n``) are left alone."""
    if cmd in _PACKAGE_TOOLS or cmd in _HANDLERS or cmd in _NOT_CLI or is_dry_run(argv) or \
            not _CLI_NAME.fullmatch(cmd) or _dry_short_flag(cmd, argv):
        return []
    if any(a == "state=absent" or "state=absent" in a for a in argv):
        return [Finding("cloud.delete", snippet(line), (), certain=False)]
    sql = [f for a in argv[:64] if SQL_ARGUMENT.match(a) for f in scan_sql(a, state)]
    if sql:  # wp db query "DELETE FROM wp_posts", drush sqlq "TRUNCATE cache": SQL as an argument
        return sql
    subs = [a for a in argv[:4] if _SUBCOMMAND.fullmatch(a) and not _ASKS.match(a)]
    if "." in cmd and not cmd.endswith((".sh", ".py", ".rb", ".pl")):
        return []  # a file name (``notes.txt``), not a command
    stopped = cmd in state.stopped
    if {a.lower() for a in subs} & _STOPS:
        state.stopped.add(cmd)
    for a in subs:
        m = _CLI_VERB.search(a)
        if m is None:
            if stopped and a.lower() in _GC:
                return [Finding("cli.generic-delete", snippet(line), (), certain=False)]
            continue
        if m.group(1).lower() == "reset" and not (_DB_WORD.search(a) or _DB_WORD.search(cmd)):
            continue
        if m.group(1).lower() in _OLD_VERBS:
            names = _removal_targets(argv[argv.index(a) + 1:]) or \
                tuple(x for x in argv if not x.startswith("-") and x != a)[:4]
            owned = bool(names) and all(state.owns(n) for n in names)
            return [Finding("cloud.delete", snippet(line), names, certain=not _soft(argv, line),
                            owned=owned)]
        names = _cli_objects(argv[argv.index(a) + 1:])
        owned = bool(names) and all(state.owns(n) for n in names)
        return [Finding("cli.generic-delete", snippet(line), names, certain=not _soft(argv, line),
                        owned=owned)]
    flags = [a for a in argv if a.startswith("-") and _CLI_FLAG.match(a.split("=", 1)[0])]
    if flags or (argv and _CLI_VERB.search(cmd.rsplit(".", 1)[0] if "." in cmd else cmd) and
                 "-" in cmd):  # the verb in the command's own name: kafka-delete-records.sh
        state.stopped.add(cmd)
        names = _cli_objects(argv)
        owned = bool(names) and all(state.owns(n) for n in names)
        return [Finding("cli.generic-delete", snippet(line), names, certain=not _soft(argv, line),
                        owned=owned)]
    return []


_ASKS = re.compile(r"^(?:safe|can|is|has|check|test|list|get|show|describe|count|verify|"
                   r"preview|plan|estimate)[-_](?:to[-_])?\w", re.I)
"""A subcommand that asks about a removal (``safe-to-destroy``, ``can-delete``,
``list-deleted``, ``plan-destroy``): a question, not the act."""
_SOFT = re.compile(r"(?:^|[^a-z])(?:test|tmp|temp|scratch|smoke|throwaway|ephemeral|sandbox|"
                   r"dummy|fixture|demo)(?:$|[^a-z])", re.I)
"""Words in a removal's operands that mark the object as a test or scratch one (``cus_test_1``,
``mapek-smoke-7f3a``): the rules cannot weigh them, so the finding is left to the judge."""


_TEST_ENV = re.compile(r"^[A-Z_]*ENV(?:IRONMENT)?=(?:test|testing|ci|local)$")


def _soft(argv: list[str], line: str = "") -> bool:
    """Operands marking a test or scratch object, a test environment, or a removal of what a
    tool keeps for itself (``git remote remove``, ``pyenv uninstall``, ``cache delete``)."""
    words = [a.lower() for a in argv if not a.startswith("-")]
    return any(_SOFT.search(a) for a in words) or any(
        _TEST_ENV.match(w) for w in line.split()[:4]) or any(
        w in LOCAL_KINDS or w in LOCAL_VERBS or any(t in LOCAL_KINDS for t in
                                                    re.split(r"[-_:.]", w))
        for w in words[:3])


_DRY_SHORT_FLAG = {"make": "n", "gmake": "n", "rsync": "n", "brew": "n", "apt": "s",
                   "apt-get": "s", "ansible-playbook": "C", "ansible": "C"}


def _dry_short_flag(cmd: str, argv: list[str]) -> bool:
    """A tool's own short dry-run flag (``make -n purge-data``): it prints, it does nothing."""
    letters = _DRY_SHORT_FLAG.get(cmd, "")
    return bool(letters) and any(re.fullmatch(r"-[A-Za-z]+", a) and bool(set(a[1:]) &
                                                                        set(letters))
                                 for a in argv)


_OBJECT_FLAGS = frozenset("""--topic --name --group --bucket --namespace --id --job --database
--db --table --index --queue --key --cluster --app --project -name -job -topic -n""".split())


def _cli_objects(argv: list[str]) -> tuple[str, ...]:
    """What an unfamiliar CLI acts on: the values of object flags (``--topic t``), else its
    last operand (``nomad job stop -purge JOB``, ``etcdctl del --prefix KEY``)."""
    named = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in _OBJECT_FLAGS]
    named += [a.split("=", 1)[1] for a in argv if "=" in a and a.split("=", 1)[0] in _OBJECT_FLAGS]
    if named:
        return tuple(named[:4])
    ops = [a for a in argv if not a.startswith("-")]
    return tuple(ops[-1:])


_BOOL_FLAG = re.compile(r"^--?(?:f|y|a|r|R|q|force|yes|all|recursive|cascade|quiet|now|noprompt|"
                        r"no-prompt|no-input|permanent|permanently|hard|confirm|purge|"
                        r"non-interactive|assume-yes)$")


def _removal_targets(rest: list[str]) -> tuple[str, ...]:
    """The objects of a removal verb: the operands after it (a flag's value is not one:
    ``--org acme``) and the values of object flags (``--name run-1``)."""
    out: list[str] = []
    skip = False
    for i, x in enumerate(rest):
        if skip:
            skip = False
            continue
        if x.startswith("-"):
            key = x.split("=", 1)[0]
            if "=" in x:
                if key in _OBJECT_FLAGS:
                    out.append(x.split("=", 1)[1])
            elif key in _OBJECT_FLAGS and i + 1 < len(rest):
                out.append(rest[i + 1])
                skip = True
            elif not _BOOL_FLAG.match(key) and not _CLI_FLAG.match(key):
                skip = True  # --org acme: the flag's value
            continue
        out.append(x)
    return tuple(dict.fromkeys(out))[:4]


_OLD_VERBS = frozenset("""delete destroy drop purge wipe rm terminate nuke erase truncate flush
remove reset""".split())
"""Verbs the generic rule knew before ``cli.generic-delete``: their reason stays
``cloud.delete``."""


_QUOTING = re.compile(r"""["'\\]|\$\{IFS\}|\$IFS\b""")
"""Quotes and escapes inside words (``r"m"``, ``r\\m``): removed before the gate looks for a
command word, as the shell removes them."""
_GATE = re.compile(r"[>]|\b(?:" + "|".join(sorted(re.escape(w) for w in COMMAND_WORDS)) +
                   r"|mkfs[\w.]*|DROP|TRUNCATE|DELETE|UPDATE|ALTER|destroy|purge|wipe|terminate|"
                   r"nuke|erase|flush|flushall|flushdb|remove|reset|absent|gc|prune|vacuum|"
                   r"compact|deregister|expunge|obliterate|deleteall|rmr|stop|rb)\b|"
                   r"(?:delete|drop|purge|remove|destroy|wipe)_|_(?:delete|drop|purge|remove|destroy)",
                   re.I)


_CMD_C = re.compile(r"^(?:cmd|cmd\.exe)\s+/[ck]\s+", re.I)
_SIGNED = re.compile(r"(?:^|\s)--?(?:private-key|privkey|priv-key|private_key|keystore|"
                     r"mnemonic|mnemonic-path|seed-phrase|signer-key|from-key)(?:[=\s]|$)", re.I)
_TRANSFER = re.compile(r"(?:^|[\s'\"(])(?:send|transfer|transferfrom|withdraw|pay|payout|"
                       r"approve|sendtransaction|send-transaction|tx-send)(?:[\s'\"(]|$)", re.I)


def _signed_transfer(text: str) -> list[Finding]:
    """A command signing with a key it is handed and sending a value transfer
    (``cast send TOKEN 'transfer(address,uint256)' TO AMOUNT --private-key $KEY``): money
    leaves, and no one calls it back."""
    found: list[Finding] = []
    for line in text.splitlines():
        if _SIGNED.search(line) and _TRANSFER.search(line) and not is_dry_run(line.split()):
            found.append(Finding("tool.money", snippet(line)))
    return found


def scan_shell(text: str, state: PlanState) -> list[Finding]:
    """Every command of a shell script (or a single command line): first as the shell parses
    it (:func:`~mapek.safety.rules.shellparse.scan_structure`: names built at run time,
    decoded or downloaded code, remote shells, writes to control files), then line by line."""
    found: list[Finding] = scan_structure(text, state)
    if _SIGNED.search(text):
        found.extend(_signed_transfer(text))
    unquoted = _QUOTING.sub("", text)
    if not _GATE.search(unquoted) and not RETENTION_GATE.search(text):
        return found
    for line in _lines(text):
        if not line.strip():
            continue
        m = _CRON_SCHEDULE.match(line) or _UNIT_EXEC.match(line)
        if m:  # a crontab line (here-document, cron file) or a unit's ExecStart=: its command
            line = _payload_lines(line) if m.re is _CRON_SCHEDULE else line[m.end():]
        stripped = _CMD_C.sub("", line.strip())  # cmd /c rd /s /q X: the command cmd runs
        if SQL_ANCHOR.match(stripped):
            found.extend(scan_sql(stripped, state))
            continue
        if stripped.lower().startswith(("remove-item", "format-volume", "clear-disk", "rd ",
                                        "del ", "rmdir /s", "format ")):
            toks = re.findall(r'"[^"]*"|\'[^\']*\'|\S+', stripped)
            toks = [t.strip("'\"") for t in toks]
            for cmd in _split_commands(toks):
                found.extend(scan_command_line(cmd, stripped, state))
            continue
        toks = _tokenize(line)
        cmds = _split_commands(toks)
        if RETENTION_GATE.search(line) and not is_dry_run(toks):
            names = tuple(toks[i + 1] for i, t in enumerate(toks[:-1])
                          if t in ("--bucket", "--topic", "--entity-name", "--name", "-b"))
            found.extend(scan_retention(line, names[:2]))
        for cmd in cmds:
            found.extend(scan_command_line(cmd, stripped, state))
        if len(cmds) > 1 or ">" in line or "<<<" in line:
            found.extend(_nested_strings(toks, cmds, line, state))
    return found
