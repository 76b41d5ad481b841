"""SQL and data-store rules: statements are split, literals and comments removed, then checked.

Caught: ``DROP TABLE/DATABASE/SCHEMA``, ``TRUNCATE``, ``DELETE`` or ``UPDATE`` with no ``WHERE``
(or a ``WHERE`` that is always true), ``ALTER TABLE ... DROP COLUMN/PARTITION``; migration code
that drops (Django ``RemoveField``/``DeleteModel``, Rails ``drop_table``/``remove_column``,
Alembic ``op.drop_*``, Laravel, Knex, Sequelize, Liquibase); and store-wide wipes (Redis
``FLUSHALL``, Mongo ``dropDatabase()``/``drop()``/``deleteMany({})``, ``dropdb``).

Not caught on purpose: a ``SELECT`` whose string literal says delete, a commented-out statement,
``DELETE ... WHERE id = 7``, ``DROP INDEX``/``VIEW`` (recreatable), a table created earlier in
the same plan (``CREATE TEMP TABLE t ...; DROP TABLE t``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from mapek.safety.rules._base import Finding, PlanState, norm_target, snippet

__all__ = ["scan_sql", "scan_migrations", "split_statements", "SQL_ANCHOR"]

_MAX_STATEMENTS = 2000


_KEYWORDS = frozenset("""DROP DELETE TRUNCATE UPDATE ALTER TABLE DATABASE SCHEMA FROM WHERE INTO
INSERT REPLACE GRANT REVOKE CREATE SET""".split())


def _splits_keyword(before: str, after: str) -> bool:
    """The letters around a comment make a keyword that neither side is alone."""
    a = re.search(r"[A-Za-z]+$", before)
    b = re.match(r"[A-Za-z]+", after)
    if a is None or b is None:
        return False
    left, right = a.group().upper(), b.group().upper()
    return (left + right) in _KEYWORDS and left not in _KEYWORDS and right not in _KEYWORDS


_TEMP_NAME_BEFORE = re.compile(r"\b(?:TABLE|INTO|FROM|JOIN|EXISTS|UPDATE|TRUNCATE)\s+$", re.I)
"""``DROP TABLE #day``, ``SELECT ... INTO #day``: a ``#`` after a table keyword starts a T-SQL
temporary table's name, not a MySQL comment."""


def split_statements(sql: str) -> list[str]:
    """Statements with comments and string literals blanked out (``''`` kept as a placeholder).

    A comment inside a word (``DR/**/OP``) joins it (read as the keyword an evasion means), and
    a MySQL executable comment (``/*!50000 DROP */``) is read as the statement it runs."""
    out: list[str] = []
    buf: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "#" and (i == 0 or sql[i - 1] in "\n \t;") and not _TEMP_NAME_BEFORE.search(
                sql[max(0, i - 24):i]):
            j = sql.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "/" and sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            body = sql[i + 2:n if j < 0 else j]
            if body.startswith("!"):  # MySQL runs /*!50000 ... */: its text is the statement
                buf.append(" " + re.sub(r"^!\d*", "", body) + " ")
            elif j >= 0 and _splits_keyword("".join(buf[-12:]), sql[j + 2:j + 14]):
                pass  # DR/**/OP: a comment splitting a keyword reads as the keyword
            else:
                buf.append(" ")
            i = n if j < 0 else j + 2
            continue
        if c == "'":
            j = i + 1
            while j < n:
                if sql[j] == "'" and j + 1 < n and sql[j + 1] == "'":
                    j += 2
                    continue
                if sql[j] == "'":
                    break
                j += 1
            buf.append("''")
            i = j + 1
            continue
        if c == "$":
            m = re.match(r"\$[A-Za-z_]*\$", sql[i:i + 40])
            if m:
                tag = m.group(0)
                j = sql.find(tag, i + len(tag))
                buf.append("''")
                i = n if j < 0 else j + len(tag)
                continue
        if c == ";":
            s = "".join(buf).strip()
            if s:
                out.append(s)
                if len(out) >= _MAX_STATEMENTS:
                    return out
            buf = []
            i += 1
            continue
        buf.append(c)
        i += 1
    s = "".join(buf).strip()
    if s:
        out.append(s)
    return out


_IDENT = r"(?:[\w$.\"`\[\]]+)"
_DROP = re.compile(r"^DROP\s+(?:TEMPORARY\s+|TEMP\s+)?(TABLE|DATABASE|SCHEMA|KEYSPACE|COLLECTION|"
                   r"TABLESPACE|OWNED|USER|ROLE)\s+(?:IF\s+EXISTS\s+)?(.*)$", re.S)
_TRUNC = re.compile(r"^TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?(.*)$", re.S)
_DELETE = re.compile(r"\bDELETE\s+(?:FROM\s+)?(?:ONLY\s+)?(" + _IDENT + r")(.*)$", re.S)
_UPDATE = re.compile(r"\bUPDATE\s+(?:ONLY\s+)?(" + _IDENT + r")(?:\s+(?:AS\s+)?\w+)?\s+SET\b(.*)$",
                     re.S)
_ALTER_DROP = re.compile(r"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(" + _IDENT + r")\s+"
                         r"(.*?\bDROP\s+(?:COLUMN\s+|PARTITION\s+)?(?!CONSTRAINT|INDEX|KEY|"
                         r"PRIMARY|FOREIGN|DEFAULT|NOT\b|IDENTITY|EXPRESSION|CHECK)(" + _IDENT +
                         r")|.*?\bTRUNCATE\s+PARTITION\b.*)", re.S)
_CREATE = re.compile(r"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP|TEMPORARY|"
                     r"UNLOGGED\s+)?\s*(?:TABLE|DATABASE|SCHEMA)\s+(?:IF\s+NOT\s+EXISTS\s+)?("
                     + _IDENT + ")", re.S)
_TAUTOLOGY = re.compile(r"^\s*(?:1\s*=\s*1|TRUE|1|''\s*=\s*''|(\w+)\s*=\s*\1)\s*(?:;|$|RETURNING)",
                        re.S)


def _names(rest: str) -> tuple[str, ...]:
    head = re.split(r"\b(?:CASCADE|RESTRICT|RESTART|CONTINUE|WITH|PURGE)\b", rest)[0]
    return tuple(t.strip().strip('"`[]') for t in head.split(",") if t.strip())[:8]


def _where_bounded(tail: str) -> bool:
    m = re.search(r"\bWHERE\b(.*)$", tail, re.S)
    if not m:
        return False
    return _TAUTOLOGY.match(m.group(1)) is None


SQL_ANCHOR = re.compile(
    r"\b(?:DROP\s+(?:TEMPORARY\s+)?(?:TABLE|DATABASE|SCHEMA|KEYSPACE|COLLECTION)|TRUNCATE\s+"
    r"(?:TABLE\s+)?[\w\"`]|DELETE\s+FROM|UPDATE\s+[\w\"`.]+\s+SET|ALTER\s+TABLE)\b")
"""Upper-case SQL statement starts, for finding SQL inside prose or scripts."""


def _session_temp(name: str) -> bool:
    """A T-SQL local temporary table (``#day``): it lives in the session that made it and
    goes with it; a global one (``##day``) is shared."""
    return name.startswith("#") and not name.startswith("##") and len(name) > 1


def scan_sql(sql: str, state: PlanState) -> list[Finding]:
    """Check every statement of ``sql``; records tables it creates in ``state``."""
    found: list[Finding] = []
    for stmt in split_statements(sql):
        s = " ".join(stmt.split())
        u = s.upper()
        if u.startswith("EXPLAIN") and not re.match(r"EXPLAIN\s+(?:\(\s*)?ANALY[SZ]E", u):
            continue
        u = re.sub(r"^EXPLAIN\s+(?:\([^)]*\)\s*|ANALY[SZ]E\s+(?:VERBOSE\s+)?)", "", u)
        if (m := _CREATE.match(u)) is not None:
            state.created.add(norm_target(m.group(1).strip('"`[]')))
            continue
        if (m := _DROP.match(u)) is not None:
            names = _names(m.group(2))
            owned = bool(names) and all(state.owns(t) or _session_temp(t) for t in names)
            found.append(Finding("sql.drop", snippet(s), names, owned=owned))
            continue
        if (m := _TRUNC.match(u)) is not None:
            names = _names(m.group(1))
            found.append(Finding("sql.truncate", snippet(s), names,
                                 owned=bool(names) and all(state.owns(t) or _session_temp(t)
                                                           for t in names)))
            continue
        if (m := _ALTER_DROP.match(u)) is not None:
            name = m.group(1).strip('"`[]')
            found.append(Finding("sql.drop-column", snippet(s), (name,), owned=state.owns(name)))
            continue
        if not re.search(r"\b(?:DELETE|UPDATE)\b", u):
            continue
        if (m := _DELETE.search(u)) is not None and not _where_bounded(m.group(2)):
            name = m.group(1).strip('"`[]')
            found.append(Finding("sql.unbounded-delete", snippet(s), (name,),
                                 owned=state.owns(name)))
            continue
        if (m := _UPDATE.search(u)) is not None and not _where_bounded(m.group(2)):
            name = m.group(1).strip('"`[]')
            found.append(Finding("sql.unbounded-update", snippet(s), (name,),
                                 owned=state.owns(name)))
    return found


_MIGRATIONS = re.compile(
    r"migrations\.(?:RemoveField|DeleteModel)\s*\(|"           # Django
    r"\b(?:drop_table|remove_column|remove_columns|remove_reference|drop_join_table)\s*[:(]?\s*"
    r"[:'\"]\w|"                                               # Rails
    r"\bop\.(?:drop_table|drop_column)\s*\(|"                  # Alembic
    r"Schema::(?:drop|dropIfExists)\s*\(|->dropColumn\s*\(|"   # Laravel
    r"\.(?:dropTable|dropTableIfExists|dropColumn|dropColumns|removeColumn|dropSchema)\s*\(|"
    r"<(?:dropTable|dropColumn)\b")                            # Liquibase
_STORE = re.compile(
    r"\b(?:FLUSHALL|FLUSHDB)\b|\.dropDatabase\s*\(\s*\)|\bdb\.(?:[\w]+\.)?\w+\.drop\s*\(\s*\)|"
    r"\.(?:deleteMany|remove)\s*\(\s*\{\s*\}\s*\)", re.I)


def scan_migrations(text: str, negated: Callable[[str, int], bool] | None = None
                    ) -> list[Finding]:
    """Migration DSL calls that drop, and store-wide wipes; any text (files, code, prose).
    ``negated(text, pos)``: for prose, a mention the words negate ("do not FLUSHDB") is
    skipped."""
    found: list[Finding] = []
    for m in _MIGRATIONS.finditer(text):
        if negated is None or not negated(text, m.start()):
            found.append(Finding("sql.migration-dsl", snippet(text, m.start(), m.end() + 60)))
            break
    for m in _STORE.finditer(text):
        if negated is None or not negated(text, m.start()):
            found.append(Finding("store.flush",
                                 snippet(text, max(0, m.start() - 40), m.end() + 20)))
            break
    return found
