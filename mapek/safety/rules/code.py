"""Program code handed to a tool (a ``python`` step, a script file being written).

Caught: ``shutil.rmtree`` of a literal path that is not scratch (or of an unknown path when the
code made no temporary folder), shell strings given to ``os.system``/``subprocess``, SQL given to
``execute``, SDK calls that delete (boto3 ``delete_*``/``terminate_*``, ``.objects.all().delete()``,
``stop_logging``), and migration code (via :mod:`~mapek.safety.rules.sql`).
"""

from __future__ import annotations

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


def scan_code(code: str, state: PlanState) -> list[Finding]:
    found: list[Finding] = []
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
