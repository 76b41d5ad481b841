"""Files that run later: a CI pipeline, a task runner's file, a Makefile, a unit, a hook, a
package's scripts.

Writing one is not a constructive act like writing a note: what it holds runs on the next push,
build, boot or install, with whatever that runner can reach. :func:`runnable_commands` reads the
commands such a file holds, so that the destructive rules read them as commands and the
recogniser vouches for the write only when it recognises every one of them; a file of such a
kind whose commands cannot be read is not recognised (fail closed).
"""

from __future__ import annotations

import json
import re

__all__ = ["runnable_kind", "runnable_commands", "yaml_commands"]

_PIPELINE_YAML = re.compile(
    r"(?:^|/)(?:\.gitlab-ci|bitbucket-pipelines|azure-pipelines|\.travis|\.drone|cloudbuild|"
    r"buildspec|taskfile|\.?pipelines?|codemagic|appveyor|\.woodpecker|\.pre-commit-config|"
    r"lefthook)(?:[.-][\w-]+)*\.ya?ml$|"
    r"(?:^|/)\.github/workflows/[^/]+\.ya?ml$|(?:^|/)\.github/actions/[^/]+/action\.ya?ml$|"
    r"(?:^|/)\.circleci/[^/]+\.ya?ml$|(?:^|/)\.buildkite/[^/]+\.ya?ml$|"
    r"(?:^|/)\.woodpecker/[^/]+\.ya?ml$|(?:^|/)\.tekton/[^/]+\.ya?ml$", re.I)
"""YAML files whose ``run:``/``script:``/``cmds:`` entries a runner executes."""
_MAKEFILE = re.compile(r"(?:^|/)(?:GNU)?[Mm]akefile$|\.mk$|(?:^|/)\.?[Jj]ustfile$", re.I)
_SCRIPT = re.compile(r"\.(?:sh|bash|zsh|ksh|command)$|(?:^|/)\.git/hooks/[\w-]+$|"
                     r"(?:^|/)\.husky/[\w-]+$|(?:^|/)(?:\.envrc|\.bashrc|\.zshrc|\.profile|"
                     r"\.bash_profile|rc\.local)$", re.I)
_CRON = re.compile(r"(?:^|/)(?:etc/cron\.d/[^/]+|etc/crontab|var/spool/cron/(?:crontabs/)?[^/]+|"
                   r"[\w.-]*crontab[\w.-]*|etc/anacrontab)$", re.I)
"""A cron table: each line runs its command on schedule (with a user field in the system
tables: ``/etc/crontab``, ``/etc/cron.d/*``)."""
_CRON_DIRS = re.compile(r"(?:^|/)etc/cron\.(?:hourly|daily|weekly|monthly)/[^/]+$", re.I)
_UNIT = re.compile(r"\.(?:service|timer|socket|path|mount)$", re.I)
_PACKAGE_JSON = re.compile(r"(?:^|/)(?:package|composer)\.json$", re.I)
_JENKINS = re.compile(r"(?:^|/)Jenkinsfile[\w.-]*$|\.jenkinsfile$|\.groovy$", re.I)

_RUN_KEYS = frozenset("""run script scripts cmd cmds command commands before_script after_script
before_install install before_deploy after_deploy deploy after_success after_failure
before_script pre_build build post_build entrypoint sh shell exec inline steps_script
pre-commit pre-push post-checkout""".split())
"""Keys whose value (a string, a block or a list of strings) is a command line."""


def runnable_kind(path: str) -> str | None:
    """``cron`` / ``pipeline`` / ``make`` / ``script`` / ``unit`` / ``package`` / ``jenkins``
    for a file
    whose content runs later, None for any other file."""
    p = path.strip().strip("'\"").replace("\\", "/")
    for kind, rx in (("cron", _CRON), ("script", _CRON_DIRS), ("pipeline", _PIPELINE_YAML),
                     ("make", _MAKEFILE), ("script", _SCRIPT),
                     ("unit", _UNIT), ("package", _PACKAGE_JSON), ("jenkins", _JENKINS)):
        if rx.search(p):
            return kind
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _unquote(v: str) -> str:
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
        return v[1:-1]
    return v


def _block(lines: list[str], j: int, ind: int) -> tuple[str, int]:
    """The lines more indented than ``ind`` from ``j``: a ``|`` or ``>`` block."""
    out: list[str] = []
    while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > ind):
        out.append(lines[j].strip())
        j += 1
    return "\n".join(out).strip(), j


def _flow_list(v: str) -> list[str]:
    try:
        data = json.loads(v)
    except ValueError:
        return [_unquote(x) for x in v.strip("[]").split(",") if x.strip()]
    return [str(x) for x in data] if isinstance(data, list) else [str(data)]


def yaml_commands(text: str) -> list[str]:
    """The command lines a YAML pipeline, task file or manifest holds under its run keys."""
    out: list[str] = []
    lines = text.splitlines()
    key_line = re.compile(r"^(\s*)(-\s+)?([\w.-]+)\s*:(?:\s+(.*))?$")
    i = 0
    while i < len(lines):
        m = key_line.match(lines[i])
        if not m or m.group(3).lower() not in _RUN_KEYS:
            i += 1
            continue
        ind = len(m.group(1)) + (len(m.group(2)) if m.group(2) else 0)
        val = (m.group(4) or "").strip()
        if val.startswith("#"):
            val = ""
        if val[:1] in ("|", ">"):
            body, i = _block(lines, i + 1, ind)
            out.append(body)
            continue
        if val.startswith("["):
            out.extend(_flow_list(val))
            i += 1
            continue
        if val:
            out.append(_unquote(val))
            i += 1
            continue
        j = i + 1  # a list (or a mapping) under the key, possibly at the key's own indent
        while j < len(lines):
            line = lines[j]
            s = line.strip()
            if not s or s.startswith("#"):
                j += 1
                continue
            d = _indent(line)
            if d < ind or d == ind and not s.startswith("- "):
                break
            if s.startswith("- "):
                item = s[2:].strip()
                sub = key_line.match(" " * d + item)
                if item[:1] in ("|", ">"):
                    body, j = _block(lines, j + 1, d)
                    out.append(body)
                    continue
                if sub and not item.startswith(("'", '"')):
                    if sub.group(3).lower() in _RUN_KEYS and sub.group(4):
                        out.append(_unquote(sub.group(4)))
                    # ``- task: other``, ``- name: x``: not a command line of its own; a run
                    # key further in is read when the loop reaches it
                    break
                out.append(_unquote(item))
            j += 1
        i = j if j > i + 1 else i + 1
    return [c for c in out if c.strip()]


def _make_commands(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        if line.startswith("\t") or re.match(r"^ {2,}\S", line):
            s = line.strip().lstrip("@-+").strip()
            if s and not s.startswith("#"):
                out.append(s)
    return out


def _unit_commands(text: str) -> list[str]:
    return [re.sub(r"^[-@:+!]+", "", m.group(1)).strip()
            for m in re.finditer(r"(?m)^\s*Exec\w*\s*=\s*(.+)$", text)]


def runnable_commands(path: str, text: str) -> tuple[list[str], bool] | None:
    """The command lines a file that runs later holds, and whether they were all read; None
    when ``path`` names no such file. (A pipeline with no ``run``/``script`` entry reads as
    complete with no command; a Jenkinsfile with steps other than ``sh`` is not complete.)"""
    kind = runnable_kind(path)
    if kind is None:
        return None
    if kind == "script":
        return [text], True
    if kind == "cron":
        return _cron_commands(path, text)
    if kind == "make":
        return _make_commands(text), True
    if kind == "unit":
        return _unit_commands(text), True
    if kind == "pipeline":
        return yaml_commands(text), True
    if kind == "package":
        try:
            data = json.loads(text)
        except ValueError:
            return [], False
        scripts = data.get("scripts") if isinstance(data, dict) else None
        if scripts is None:
            return [], True
        if not isinstance(scripts, dict):
            return [], False
        return [str(v) for v in scripts.values()], True
    cmds = [m.group(2) for m in re.finditer(
        r"\bsh\s*\(?\s*(?:script\s*:\s*)?('''|\"\"\"|'|\")(.*?)\1", text, re.S)]
    other = re.search(r"\b(?:bat|powershell|pwsh|evaluate|load)\s*\(?\s*['\"]", text)
    return cmds, other is None


def _cron_commands(path: str, text: str) -> tuple[list[str], bool]:
    """The commands of a cron table: what follows the five time fields (or ``@daily``...) and,
    in a system table, the user; environment lines are skipped. A line the rules cannot split
    leaves the table not fully read."""
    system = bool(re.search(r"(?:^|/)etc/(?:cron\.d/|crontab$)", path.strip(), re.I))
    cmds: list[str] = []
    complete = True
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*=", line):
            continue
        m = re.match(r"^(?:@\w+|(?:\S+\s+){4}\S+)\s+(.*)$", line)
        if m is None:
            complete = False
            continue
        rest = m.group(1)
        if system:
            parts = rest.split(None, 1)
            rest = parts[1] if len(parts) > 1 else ""
        if rest.strip():
            cmds.append(rest.replace("\\%", "%"))
    return cmds, complete
