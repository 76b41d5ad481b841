"""Program code handed to a tool (a ``python`` step, a script file being written).

Caught: ``shutil.rmtree`` of a literal path that is not scratch (or of an unknown path when the
code made no temporary folder), shell strings given to ``os.system``/``subprocess``, SQL given to
``execute``, SDK calls that delete (boto3 ``delete_*``/``terminate_*``, ``.objects.all().delete()``,
``stop_logging``), and migration code (via :mod:`~mapek.safety.rules.sql`).

Python is also parsed (``ast``), so what the text hides the tree shows: ``os.remove``/``unlink``
in a loop over a ``glob`` pattern, ``Path(...).unlink()``, ``subprocess.run([...])`` and
``os.system`` whatever the quoting, ``getattr(os, "sys" + "tem")`` and ``exec`` of a decoded
string (``shell.dynamic-command``/``shell.decoded-exec``), and code that opens a socket and runs a
shell over it (``shell.remote-shell``). Node, Perl, Ruby and PHP one-liners are read for their
file deletes (``fs.rmSync``, ``unlink``, ``FileUtils.rm_rf``).
"""

from __future__ import annotations

import ast
import base64
import binascii
import codecs
import re

from mapek.safety.rules._base import Finding, PlanState, classify_path, scan_embedded, snippet
from mapek.safety.rules.sql import SQL_ANCHOR, scan_migrations, scan_sql

__all__ = ["scan_code"]

_RMTREE = re.compile(r"\b(?:shutil\.rmtree|rmtree|os\.removedirs|Path\([^)]*\)\.rmdir)\s*\(\s*"
                     r"(?:(?P<q>[rbf]?['\"])(?P<lit>[^'\"]+)(?P=q)|(?P<var>[^),]+))")
_SHELL_CALL = re.compile(r"\b(?:os\.system|os\.popen|subprocess\.(?:run|call|check_call|"
                         r"check_output|Popen))\s*\(\s*(?P<q>[rbf]?['\"]{1,3})(?P<cmd>.+?)(?P=q)",
                         re.S)
_SHELL_LIST = re.compile(r"\bsubprocess\.\w+\s*\(\s*\[(?P<args>[^\]]+)\]")
_SQL_CALL = re.compile(r"\.(?:execute|executemany|executescript|exec_driver_sql|sql|query|raw)\s*"
                       r"\(\s*(?:text\()?\s*(?P<q>[rbf]?(?:'''|\"\"\"|'|\"))(?P<sql>.+?)(?P=q)",
                       re.S)
_SDK_AUDIT = re.compile(r"\.(?:stop_logging|delete_trail|delete_detector|"
                        r"delete_configuration_recorder|disable_security_hub)\s*\(")
_SDK_BACKUP = re.compile(r"\.(?:delete_(?:db_|db_cluster_)?snapshots?|delete_backup\w*|"
                         r"delete_recovery_point)\s*\(")
_SDK_DESTROY = re.compile(r"\.(?:delete_(?:bucket|db_instance|db_cluster|table|stack|cluster|"
                          r"volume|vpc|repository|project|namespace|database|instance|"
                          r"file_system|function|user|index|collection|objects)|"
                          r"terminate_instances|delete_namespaced_\w+|drop_database|"
                          r"drop_collection|drop_all)\s*\(|\.objects\.all\(\)\.delete\(\)|"
                          r"\.all\(\)\.delete\(\)|\.query\.delete\(\)|\bdrop_all\(")


_OTHER_DELETE = re.compile(
    r"\b(?:fs\.)?(?:rmSync|rmdirSync|rm|rmdir|unlinkSync|unlink|removeSync|emptyDirSync)\s*\(\s*"
    r"['\"`](?P<js>[^'\"`]+)['\"`]|\bunlink\s*\(?\s*(?:glob\s*\(?\s*)?['\"](?P<pl>[^'\"]+)['\"]|"
    r"\b(?:rmtree|remove_tree)\s*\(\s*['\"](?P<plt>[^'\"]+)['\"]|"
    r"FileUtils\.(?:rm_rf|rm_r|remove_dir|rm)\s*\(?\s*['\"](?P<rb>[^'\"]+)['\"]", re.S)
"""File deletes in Node, Perl, Ruby (and PHP's ``unlink``) one-liners, with a literal path."""


def _delete_literal(path: str, code: str, start: int, end: int, state: PlanState,
                    recursive: bool) -> Finding | None:
    cls = classify_path(path)
    if cls in ("scratch", "regenerable", "null") or state.owns(path):
        return None
    if recursive and cls in ("root", "system-top", "home"):
        rule = "shell.rm-root"
    elif recursive or "*" in path or cls in ("root", "system-top", "home", "system-deep"):
        rule = "shell.rm-recursive"
    else:
        rule = "shell.rm-file"
    return Finding(rule, snippet(code, start, end + 10), (path,))


def scan_code(code: str, state: PlanState) -> list[Finding]:
    found: list[Finding] = []
    from mapek.safety.rules.shellparse import remote_shell_code

    if remote_shell_code(code):
        found.append(Finding("shell.remote-shell", snippet(code)))
    for od in _OTHER_DELETE.finditer(code):
        path = next(g for g in od.groups() if g)
        rec = "rmSync" in od.group(0) or "rm_rf" in od.group(0) or "rmtree" in od.group(0) or \
            "recursive" in code[od.end():od.end() + 60] or "remove_tree" in od.group(0)
        f = _delete_literal(path, code, od.start(), od.end(), state, rec)
        if f is not None:
            found.append(f)
    found.extend(_python_tree(code, state))
    m: re.Match[str] | None  # the loops' matches, then the searches' (None when none found)
    temp = "mkdtemp" in code or "TemporaryDirectory" in code or "tmp_path" in code
    for m in _RMTREE.finditer(code):
        lit = m.group("lit")
        if lit is not None:
            cls = classify_path(lit)
            if cls in ("scratch", "regenerable", "null") or state.owns(lit):
                continue
            rule = "shell.rm-root" if cls in ("root", "system-top", "home") else \
                "shell.rm-recursive"
            found.append(Finding(rule, snippet(code, m.start(), m.end() + 10), (lit,)))
        elif not temp:
            found.append(Finding("shell.rm-recursive", snippet(code, m.start(), m.end() + 10),
                                 ((m.group("var") or "").strip(),), certain=False))
    if "os." in code or "subprocess" in code:
        for m in _SHELL_CALL.finditer(code):
            found.extend(scan_embedded("shell", m.group("cmd"), state))
        for m in _SHELL_LIST.finditer(code):
            words = re.findall(r"['\"]([^'\"]*)['\"]", m.group("args"))
            if words:
                found.extend(scan_embedded("shell", " ".join(words), state))
    for m in _SQL_CALL.finditer(code):
        if SQL_ANCHOR.search(m.group("sql").upper()):
            found.extend(scan_sql(m.group("sql"), state))
    if (m := _SDK_AUDIT.search(code)) is not None:
        found.append(Finding("audit.disable", snippet(code, m.start(), m.end() + 40)))
    if (m := _SDK_BACKUP.search(code)) is not None:
        found.append(Finding("backup.delete", snippet(code, m.start(), m.end() + 40)))
    if (m := _SDK_DESTROY.search(code)) is not None:
        rule = "cloud.bucket-delete" if "bucket" in m.group(0).lower() or \
            ".objects.all()" in m.group(0) and "s3" in code.lower() else "cloud.delete"
        found.append(Finding(rule, snippet(code, max(0, m.start() - 40), m.end() + 20)))
    found.extend(scan_migrations(code))
    return found


# --------------------------------------------------------------------------------------------
# Python, parsed
# --------------------------------------------------------------------------------------------

_PY_DELETE = {"remove": False, "unlink": False, "rmdir": False, "removedirs": True,
              "rmtree": True}
_PY_SHELL = {"system", "popen", "run", "call", "check_call", "check_output", "Popen",
             "getoutput", "getstatusoutput", "spawnl", "spawnlp", "execl", "execlp", "execv",
             "execvp"}
_DECODE_CALLS = {"b64decode", "b32decode", "b16decode", "a85decode", "unhexlify", "fromhex",
                 "decompress", "decode"}


def _literal(node: ast.AST, names: dict[str, str]) -> str | None:
    """A string the expression always evaluates to (constants, + and f-strings of them)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        v = node.value
        return v.decode("utf-8", "replace") if isinstance(v, bytes) else v
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = _literal(node.left, names), _literal(node.right, names)
        return a + b if a is not None and b is not None else None
    if isinstance(node, ast.JoinedStr):
        parts = [_literal(v.value if isinstance(v, ast.FormattedValue) else v, names)
                 for v in node.values]
        return "".join(p for p in parts if p is not None) if all(p is not None for p in parts) \
            else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id in ("Path", "PurePath", "str") and node.args:
        return _literal(node.args[0], names)
    return None


def _attr_name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _decoded_literal(node: ast.AST, names: dict[str, str]) -> str | None:
    """``base64.b64decode("...")`` (and ``.decode()`` of it, hex, rot13) of a literal."""
    if not isinstance(node, ast.Call):
        return None
    name = _attr_name(node.func)
    if name == "decode" and isinstance(node.func, ast.Attribute):
        inner = _decoded_literal(node.func.value, names)
        if inner is not None:
            return inner
        if node.args and _literal(node.args[-1], names) in ("rot13", "rot_13"):
            src = _literal(node.args[0], names) if len(node.args) > 1 else \
                _literal(node.func.value, names)
            return codecs.encode(src, "rot13") if src is not None else None
        return None
    if name not in _DECODE_CALLS or not node.args:
        return None
    raw = _literal(node.args[0], names)
    if raw is None:
        return None
    try:
        if name == "b64decode":
            return base64.b64decode(raw + "=" * (-len(raw) % 4)).decode("utf-8", "replace")
        if name == "b32decode":
            return base64.b32decode(raw).decode("utf-8", "replace")
        if name in ("unhexlify", "fromhex", "b16decode"):
            return binascii.unhexlify(raw).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None
    return None


def _python_tree(code: str, state: PlanState) -> list[Finding]:
    """Deletes, shell calls, dynamic names and decoded code found in the parsed program."""
    if len(code) > 200_000 or not re.search(r"\b(?:import|os|shutil|Path|subprocess|exec|eval|"
                                            r"getattr|__import__)\b", code):
        return []
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    names: dict[str, str] = {}
    loops: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            v = _literal(node.value, names)
            if v is not None:
                names[node.targets[0].id] = v
        if isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.target, ast.Name):
            it = node.iter
            if isinstance(it, ast.Call) and _attr_name(it.func) in ("glob", "iglob", "rglob",
                                                                   "listdir", "scandir",
                                                                   "iterdir", "walk") and it.args:
                pat = _literal(it.args[0], names)
                if pat is not None:
                    loops[node.target.id] = pat + ("/*" if _attr_name(it.func) in (
                        "listdir", "scandir", "iterdir", "walk") else "")
    found: list[Finding] = []
    seen: set[tuple[str, str]] = set()

    def add(f: Finding | None) -> None:
        if f is not None and (f.rule, f.targets[:1][0] if f.targets else "") not in seen:
            seen.add((f.rule, f.targets[:1][0] if f.targets else ""))
            found.append(f)

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _attr_name(node.func)
        ev = ast.get_source_segment(code, node) or code[:120]
        if name == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1],
                                                                         ast.Constant):
            add(Finding("shell.dynamic-command", snippet(ev)))
        if name in ("exec", "eval", "compile") and node.args:
            dec = _decoded_literal(node.args[0], names)
            if dec is not None:
                add(Finding("shell.decoded-exec", snippet(ev)))
                found.extend(scan_code(dec, state))
            elif isinstance(node.args[0], ast.Call) and _attr_name(node.args[0].func) in \
                    _DECODE_CALLS:
                add(Finding("shell.decoded-exec", snippet(ev)))
        if name in _PY_DELETE or name == "unlink" and isinstance(node.func, ast.Attribute):
            target: str | None = None
            if node.args:
                arg = node.args[0]
                target = loops.get(arg.id) if isinstance(arg, ast.Name) and arg.id in loops \
                    else _literal(arg, names)
            elif isinstance(node.func, ast.Attribute):  # Path("x").unlink()
                base = node.func.value
                target = loops.get(base.id) if isinstance(base, ast.Name) and base.id in \
                    loops else _literal(base, names)
            if target:
                seg = getattr(node, "col_offset", 0)
                line_start = sum(len(x) + 1 for x in code.split("\n")[:node.lineno - 1])
                add(_delete_literal(target, code, line_start + seg, line_start + seg + 60,
                                    state, _PY_DELETE.get(name, False) or "*" in target))
        if name in _PY_SHELL and node.args and (
                isinstance(node.func, ast.Attribute) and _attr_name(node.func.value) in
                ("os", "subprocess") or isinstance(node.func, ast.Attribute) and
                isinstance(node.func.value, ast.Call)):
            arg = node.args[0]
            if isinstance(arg, (ast.List, ast.Tuple)):
                words = [_literal(e, names) for e in arg.elts]
                if all(w is not None for w in words):
                    found.extend(scan_embedded("shell", " ".join(
                        _quote(w) for w in words if w is not None), state))
            else:
                cmd = _literal(arg, names)
                if cmd is not None and not re.search(r"['\"]" + re.escape(cmd[:20]), code):
                    found.extend(scan_embedded("shell", cmd, state))
    return found


def _quote(word: str) -> str:
    import shlex

    return shlex.quote(word)
