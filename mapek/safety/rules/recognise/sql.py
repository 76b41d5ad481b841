"""SQL statements the recogniser recognises as safe (:func:`unrecognised_sql`).

A read (``SELECT``, ``SHOW``, ``EXPLAIN``... with no side effect in it), a narrow write (one
row by its key), a table the plan created dropped again, a ``COPY ... TO STDOUT``; any other
statement, or a function call that acts, is not recognised. Read for SQL steps and for the SQL
a shell command carries (``psql -c``).
"""

from __future__ import annotations

import re

from mapek.safety.rules.recognise.verbs import _CREATED, _class_of, _tokens, verb_class

__all__ = ["unrecognised_sql"]


_SQL_SAFE_HEAD = re.compile(
    r"^\s*(?:SELECT|WITH|EXPLAIN|SHOW|DESCRIBE|DESC|USE|BEGIN|START\s+TRANSACTION|COMMIT|"
    r"ROLLBACK|END|PRAGMA|VALUES|TABLE|ANALYZE|SET\s+(?:SESSION|LOCAL|search_path|"
    r"statement_timeout|TIME\s+ZONE|ROLE|NAMES|TRANSACTION|lock_timeout|work_mem|\w+\s*(?:=|TO))|"
    r"CREATE\s+(?:TEMP(?:ORARY)?\s+|UNIQUE\s+)?(?:TABLE|INDEX|VIEW|SCHEMA|DATABASE|"
    r"MATERIALIZED\s+VIEW|SEQUENCE|TYPE|EXTENSION)\b(?!.*\bAS\s+SELECT\b.*\bDROP)|"
    r"INSERT\s+INTO|COPY\s+\(?\s*SELECT|COPY\s+\w[\w.]*\s+TO\b|\\[a-z]+|"
    r"ALTER\s+TABLE\s+\S+\s+ADD\b|REFRESH\s+MATERIALIZED|VACUUM\s+ANALYZE|LOCK\s+TABLE|DECLARE|FETCH|CLOSE|SAVEPOINT|RELEASE|"
    r"RESET\s+\w+|LISTEN|NOTIFY|CHECKPOINT|CLUSTER\s+\w+|COMMENT\s+ON)", re.I)
_SQL_SELECT_SIDE = re.compile(r"\bINTO\s+(?!@|:)\w|\bpg_terminate_backend|\bpg_cancel_backend|"
                              r"\bpg_drop|\bset_config|\bpg_reload_conf|\bdblink_exec|\blo_unlink|"
                              r"\bpg_truncate|\bnextval\b|\bFOR\s+UPDATE\b", re.I)
_SQL_LITERAL = r"(?:'[^']*'|-?\d+|\$\d+|\?|:\w+)"
_SQL_BOUNDED_WRITE = re.compile(
    r"^\s*(?:UPDATE\b.*\bSET\b.*|DELETE\s+FROM\b.*)\bWHERE\s+(?:\w+\.)?(?:id|\w+_id|uuid|pk|key|"
    r"email|slug|name|code|sku)\s*(?:=\s*" + _SQL_LITERAL + r"|IN\s*\(\s*" + _SQL_LITERAL +
    r"(?:\s*,\s*" + _SQL_LITERAL + r"){0,200}\s*\))"
    r"\s*(?:AND\b(?:(?!\bOR\b).)*)?;?\s*(?:RETURNING\b.*)?$", re.I | re.S)
"""An UPDATE or DELETE of rows named by their key (``WHERE id = 42``, ``IN (1, 2)`` of
literals, never a subquery or an ``OR``): a write the rules recognise as narrow. Any other
predicate (a date range, a status) is left to the judge."""
_SQL_ACCESS_SET = re.compile(r"\bSET\b.*\b(?:\w*role\w*|\w*admin\w*|\w*permission\w*|"
                             r"\w*privilege\w*|\w*password\w*|\w*superuser\w*|is_staff|"
                             r"\w*scope\w*|owner\w*)\s*=", re.I | re.S)
"""An UPDATE that sets who may do what (a role, an admin flag, a password): an access change,
however narrow its WHERE."""
_SQL_RISKY_SETTING = re.compile(r"^\s*SET\s+(?:(?:SESSION|LOCAL|GLOBAL|PERSIST)\s+)?@*\w*(?:"
                                r"replication|log|audit|trigger|foreign_key|unique_checks|"
                                r"safe_updates|read_only|row_security|check)\w*", re.I)
"""Session settings that switch off a safeguard (``session_replication_role = replica`` skips
triggers and foreign keys, ``sql_log_bin = 0`` keeps writes out of the binary log)."""
_SQL_DROP_OWN = re.compile(r"^\s*DROP\s+(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+EXISTS\s+)?"
                           r"([#\w.\"`\[\]]+(?:\s*,\s*[#\w.\"`\[\]]+)*)\s*;?\s*$", re.I)
_SQL_COPY_OUT = re.compile(r"^\s*COPY\b.*\bTO\s+STDOUT\b|^\s*\\copy\b", re.I | re.S)


_SQL_PURE_FN = re.compile(r"replace|reverse|translate|overlay|format|trim|set_config|"
                          r"to_|date_|string_|array_|json|jsonb|regexp_|coalesce|nullif|"
                          r"current_|age|extract|substring|position", re.I)
"""Functions that compute a value though a word of their name is a change verb
(``regexp_replace``, ``reverse``, ``set_config`` for the session)."""


def _acting_function(body: str) -> str | None:
    """A function a SELECT calls whose name is a change or destroy verb (``setval``,
    ``lo_unlink``, ``pg_drop_replication_slot``): it acts, whatever the statement's head."""
    for m in re.finditer(r"\b([A-Za-z_][\w.]*)\s*\(", re.sub(r"'[^']*'", "''", body)):
        name = m.group(1).rsplit(".", 1)[-1].lower()
        if name in ("select", "in", "exists", "values", "over", "filter", "any", "all") or \
                _SQL_PURE_FN.match(name) or name.startswith(("pg_stat", "pg_get", "pg_size")):
            continue
        toks = [t for t in _tokens(name) if t not in ("pg", "lo", "sp", "fn")]
        if any(_class_of(t, False) in ("change", "destroy") for t in toks) or \
                verb_class(name) in ("change", "destroy"):
            return name
        if name.startswith("set") and len(name) > 3 and _class_of(name[3:], False) is None:
            return name  # setval, setseed-like setters run together
    return None


_WRITE_TABLE = re.compile(r"^\s*(?:UPDATE|DELETE\s+FROM)\s+(?:ONLY\s+)?([\w.\"`\[\]]+)\s.*?"
                          r"\bWHERE\s+(?:\w+\.)?(\w+)", re.I | re.S)


def _foreign_key(body: str) -> bool:
    """An UPDATE or DELETE whose key is another table's (``UPDATE orders ... WHERE event_id =
    42``: every order of the event), not the table's own (``order_id``, ``id``): one value,
    but as many rows as the other thing has."""
    m = _WRITE_TABLE.match(body)
    if m is None:
        return False
    col = m.group(2).lower()
    if not col.endswith("_id") or col in ("row_id", "record_id", "uid"):
        return False
    owner = col[:-3].rsplit("_", 1)[-1]
    table = m.group(1).strip('"`[]').rsplit(".", 1)[-1].lower()
    return owner not in table and table.rstrip("s") not in owner


def unrecognised_sql(sql: str) -> str | None:
    """What in SQL is not recognised as safe: each statement must be a read (SELECT without
    INTO, SHOW, EXPLAIN...), a constructive one (CREATE, INSERT, ALTER ... ADD), session
    control, or an UPDATE/DELETE bounded by a WHERE (the rules judge the WHERE)."""
    from mapek.safety.rules.sql import split_statements

    stmts = [s for s in split_statements(sql) if s.strip()]
    bare = re.sub(r"--[^\n]*|/\*.*?\*/|#[^\n]*", " ", sql, flags=re.S).strip(" ;\n\t")
    if not stmts:
        return None if not bare else "no SQL statement the rules can read"
    for s in stmts[:2000]:
        body = re.sub(r"--[^\n]*|/\*.*?\*/", " ", s, flags=re.S).strip()
        if not body:
            continue
        if re.search(r"\bDRY\s+RUN\s*;?\s*$", body, re.I) and not re.search(
                r"\bDRY\s+RUN\b.*\S", body.rstrip("; \n"), re.I | re.S):
            continue  # VACUUM ... DRY RUN (Databricks): lists the files it would remove
        if re.match(r"^\s*CALL\s+([\w.]+)", body, re.I):
            proc = re.match(r"^\s*CALL\s+([\w.]+)", body, re.I)
            if proc is not None and verb_class(proc.group(1).rsplit(".", 1)[-1]) == "read":
                continue  # CALL get_daily_totals(): a procedure named for a read
            return f"SQL procedure not recognised as a read: {body[:60]}"
        if re.match(r"^\s*COPY\b", body, re.I) and not _SQL_COPY_OUT.match(body):
            return f"COPY to or from a program or a server file: {body[:60]}"
        if _SQL_RISKY_SETTING.match(body):
            return f"a setting that switches off a safeguard: {body[:60]}"
        if _SQL_SAFE_HEAD.match(body):
            if re.match(r"^\s*(?:SELECT|WITH)", body, re.I) and _SQL_SELECT_SIDE.search(body):
                return "SELECT with a side effect"
            if re.match(r"^\s*(?:SELECT|WITH)", body, re.I) and (
                    fn := _acting_function(body)) is not None:
                return f"SELECT calls a function that acts ({fn})"  # setval, lo_unlink
            if re.match(r"^\s*WITH", body, re.I) and re.search(
                    r"\b(?:DELETE|UPDATE|INSERT|MERGE|TRUNCATE|DROP)\b", body, re.I):
                return "WITH around a write"
            if re.match(r"^\s*EXPLAIN\s+ANALY[SZ]E\b", body, re.I) and re.search(
                    r"\b(?:DELETE|UPDATE|INSERT|MERGE)\b", body, re.I):
                return "EXPLAIN ANALYZE runs a write"
            continue
        if (m := _SQL_DROP_OWN.match(body)) is not None and all(
                (t.startswith("#") and not t.startswith("##")) or
                t.lower() in _CREATED.get() for t in
                (x.strip().strip('"`[]') for x in m.group(1).split(","))):
            continue  # a session's temporary table, or one this plan created
        if _SQL_BOUNDED_WRITE.match(body) and not (body.lstrip()[:6].upper() == "UPDATE" and
                                                   _SQL_ACCESS_SET.search(body)) and \
                not _foreign_key(body):
            continue
        return f"SQL statement not recognised as safe: {body[:60]}"
    return None
