"""The PostgreSQL event log's tables, and connecting to it with one clear error per failure.

The log lives in four tables named ``mapek_*`` in the first schema of the connection's
``search_path`` (``public`` unless the URL says otherwise, e.g.
``?options=-csearch_path%3Dmyschema``), so it can share a database with LangGraph's checkpoint
tables and other applications. A database is ours when ``mapek_meta`` names the schema
``mapek.eventlog``; a database whose ``mapek_meta`` says otherwise, or a log written by a newer
mapek, gives one ``WorkspaceError`` line. Creating the tables is serialised by an advisory lock,
so several processes may open a new log at once.

Triggers (``mapek_events_no_update`` / ``_no_delete`` / ``_no_truncate``) refuse rewriting
history. What the SQLite log's other triggers do, an append does itself, in one call of the
function ``mapek_append`` (one statement, once per batch rather than once per row): it takes
the lock of each run it writes to, checks that the runs' heads are those the events were
chained to, takes the position lock, so log positions (from the ``mapek_positions``
sequence) become visible in the order they were drawn, inserts the events, moves each run's
head (last ``seq`` and hash) and sends ``NOTIFY mapek_events, '<run_id>'`` (delivered at
commit) to wake followers at once. A row inserted behind the log's back moves no head, so
``verify`` names it.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mapek.errors import ConfigError, StorageError, WorkspaceError
from mapek.models import GENESIS_HASH

if TYPE_CHECKING:
    import psycopg

__all__ = ["APPEND_SQL", "CHANNEL", "COLS", "RUN_LOCK_SQL", "SCHEMA", "SCHEMA_NAME",
           "SCHEMA_VERSION", "STALE", "connect", "is_postgres_url", "open_connection", "redact",
           "run_lock"]

SCHEMA_NAME = "mapek.eventlog"
SCHEMA_VERSION = 1
CHANNEL = "mapek_events"
"""The ``LISTEN`` channel; each notification's payload is the run id (empty if very long)."""

_LOCKS = 0x6D61706B
"""The first key of the log's advisory locks ("mapk"); runs' locks use the next number."""
_POSITION_LOCK = 1
_SCHEMA_LOCK = 2

COLS = "position, run_id, seq, ts, kind, actor, parent, payload, key, prev_hash, hash"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS mapek_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE SEQUENCE IF NOT EXISTS mapek_positions AS bigint;
CREATE TABLE IF NOT EXISTS mapek_events (
    position bigint PRIMARY KEY DEFAULT nextval('mapek_positions'),
    run_id text NOT NULL, seq bigint NOT NULL, ts double precision NOT NULL, kind text NOT NULL,
    actor text NOT NULL, parent bigint, payload text NOT NULL, key text,
    prev_hash text NOT NULL, hash text NOT NULL,
    UNIQUE (run_id, seq));
ALTER SEQUENCE mapek_positions OWNED BY mapek_events.position;
CREATE UNIQUE INDEX IF NOT EXISTS mapek_events_key ON mapek_events (run_id, key)
    WHERE key IS NOT NULL;
CREATE TABLE IF NOT EXISTS mapek_heads (
    run_id text PRIMARY KEY, last_seq bigint NOT NULL, last_hash text NOT NULL,
    first_ts double precision NOT NULL, last_ts double precision NOT NULL);
CREATE OR REPLACE FUNCTION mapek_append(doc json) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k json;
BEGIN
    -- the runs' locks first, held to the commit; every statement after them sees the latest
    -- commits (a fresh snapshot per statement)
    FOR k IN SELECT * FROM json_array_elements(doc->'locks') LOOP
        PERFORM pg_advisory_xact_lock({_LOCKS + 1}, k::text::int);
    END LOOP;
    IF EXISTS (SELECT 1 FROM json_array_elements(doc->'expect') AS e
               LEFT JOIN mapek_heads AS h ON h.run_id = e->>0
               WHERE coalesce(h.last_seq, 0) <> (e->>1)::bigint
                  OR coalesce(h.last_hash, '{GENESIS_HASH}') <> e->>2) THEN
        RAISE EXCEPTION 'mapek: a run''s head moved' USING ERRCODE = 'MK001';
    END IF;
    -- positions are drawn under this lock, held to the commit: they become visible in order
    PERFORM pg_advisory_xact_lock({_LOCKS}, {_POSITION_LOCK});
    INSERT INTO mapek_events (run_id, seq, ts, kind, actor, parent, payload, key, prev_hash, hash)
        SELECT e->>0, (e->>1)::bigint, (e->>2)::float8, e->>3, e->>4, (e->>5)::bigint, e->>6,
               e->>7, e->>8, e->>9
        FROM json_array_elements(doc->'events') AS e;
    INSERT INTO mapek_heads (run_id, last_seq, last_hash, first_ts, last_ts)
        SELECT h->>0, (h->>1)::bigint, h->>2, (h->>3)::float8, (h->>4)::float8
        FROM json_array_elements(doc->'heads') AS h
        ON CONFLICT (run_id) DO UPDATE SET last_seq = excluded.last_seq,
            last_hash = excluded.last_hash, last_ts = excluded.last_ts;
    PERFORM pg_notify('{CHANNEL}', CASE WHEN octet_length(h->>0) < 4000 THEN h->>0 ELSE '' END)
        FROM json_array_elements(doc->'heads') AS h;
END $$;
CREATE OR REPLACE FUNCTION mapek_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only' USING ERRCODE = 'integrity_constraint_violation';
END $$;
DROP TRIGGER IF EXISTS mapek_events_no_update ON mapek_events;
CREATE TRIGGER mapek_events_no_update BEFORE UPDATE ON mapek_events
    FOR EACH ROW EXECUTE FUNCTION mapek_events_append_only();
DROP TRIGGER IF EXISTS mapek_events_no_delete ON mapek_events;
CREATE TRIGGER mapek_events_no_delete BEFORE DELETE ON mapek_events
    FOR EACH ROW EXECUTE FUNCTION mapek_events_append_only();
DROP TRIGGER IF EXISTS mapek_events_no_truncate ON mapek_events;
CREATE TRIGGER mapek_events_no_truncate BEFORE TRUNCATE ON mapek_events
    FOR EACH STATEMENT EXECUTE FUNCTION mapek_events_append_only();
INSERT INTO mapek_meta VALUES ('schema', '{SCHEMA_NAME}'), ('version', '{SCHEMA_VERSION}')
    ON CONFLICT (key) DO NOTHING;
"""

RUN_LOCK_SQL = f"SELECT pg_advisory_xact_lock({_LOCKS + 1}, %s)"
"""Takes one run's lock (:func:`run_lock` gives its key) until the transaction ends."""
APPEND_SQL = "SELECT mapek_append(%s::json)"
"""One append, given as one JSON document (``{"locks", "expect", "events", "heads"}``): the
runs' locks, a check that their heads are as expected (else SQLSTATE ``MK001``), the position
lock, the events, the heads and the notifications. JSON because one text parameter is far
cheaper for psycopg to send than nineteen arrays; each value reads back exactly (texts as
they were, floats through their shortest round-trip form)."""
STALE = "MK001"


def is_postgres_url(url: str | None) -> bool:
    """Whether a log URL names a PostgreSQL database (``postgresql://`` or ``postgres://``)."""
    return url is not None and url.startswith(("postgresql://", "postgres://"))


def run_lock(run_id: str) -> int:
    """The second key of the advisory lock that serialises appends to one run (a 32-bit hash
    of its id: two runs rarely share one, and sharing only makes them wait for each other)."""
    digest = hashlib.blake2b(run_id.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def redact(url: str) -> str:
    """The URL without its password (for messages)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.split(':', 1)[0]}:***@{host}"
        query = urlencode([(k, "***" if k == "password" else v)
                           for k, v in parse_qsl(parts.query, keep_blank_values=True)])
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "<a PostgreSQL URL that cannot be parsed>"


def connect(url: str, *, create: bool, connect_timeout: float = 10.0) -> psycopg.Connection[Any]:
    """An autocommit connection to the log at ``url``, its tables checked (and made if
    ``create``); our errors for every failure."""
    conn = open_connection(url, connect_timeout=connect_timeout)
    try:
        _check_schema(conn, url, create=create)
    except BaseException:
        conn.close()
        raise
    return conn


def open_connection(url: str, *, connect_timeout: float = 10.0,
                    **options: Any) -> psycopg.Connection[Any]:
    """A plain autocommit connection (also the followers' ``LISTEN`` connections)."""
    try:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict
    except ImportError as exc:  # pragma: no cover - the extra is part of the test set-up
        raise ConfigError(f"log URL {redact(url)}: a PostgreSQL log needs psycopg "
                          "(pip install 'mapek[postgres]')") from exc
    try:
        given = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"log URL {redact(url)} is not a PostgreSQL URL: "
                          f"{_first_line(exc)}") from None
    extra: dict[str, Any] = {"application_name": "mapek"} if "application_name" not in given \
        else {}
    if "connect_timeout" not in given:
        extra["connect_timeout"] = max(1, round(connect_timeout))
    try:
        return psycopg.connect(url, autocommit=True, **extra, **options)
    except psycopg.Error as exc:
        raise _connect_error(url, exc) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1].strip() if text else type(exc).__name__


def _connect_error(url: str, exc: BaseException) -> WorkspaceError | ConfigError | StorageError:
    text = str(exc)
    reason = _first_line(exc).removeprefix("FATAL:").strip()
    if "does not exist" in text and "database" in text:
        return WorkspaceError(f"cannot open the event log at {redact(url)}: {reason} "
                              "(create it first, e.g. createdb)", path=redact(url))
    if "password authentication failed" in text or "no password supplied" in text or \
            "role" in text and "does not exist" in text:
        return ConfigError(f"cannot open the event log at {redact(url)}: {reason}")
    return StorageError(f"cannot connect to the event log at {redact(url)}: {reason}")


def _check_schema(conn: psycopg.Connection[Any], url: str, *, create: bool) -> None:
    import psycopg

    try:
        meta = _meta(conn)
        if meta is None:
            if not create:
                raise WorkspaceError(f"no event log at {redact(url)} (nothing was recorded "
                                     "there yet)", path=redact(url))
            with conn.transaction():
                conn.execute(f"SELECT pg_advisory_xact_lock({_LOCKS}, {_SCHEMA_LOCK})")
                if _meta(conn) is None:  # not made by another process meanwhile
                    conn.execute(SCHEMA)
            meta = _meta(conn) or {}
    except psycopg.Error as exc:
        raise StorageError(f"cannot open the event log at {redact(url)}: "
                           f"{_first_line(exc)}") from None
    if meta.get("schema") != SCHEMA_NAME:
        raise WorkspaceError(f"{redact(url)} has a mapek_meta table that is not a mapek event "
                             "log's", path=redact(url))
    version = meta.get("version", "0")
    if not version.isdigit() or int(version) > SCHEMA_VERSION:
        raise WorkspaceError(f"{redact(url)} was written by a newer mapek (log schema "
                             f"v{version}); upgrade mapek", path=redact(url))


def _meta(conn: psycopg.Connection[Any]) -> dict[str, str] | None:
    """The ``mapek_meta`` table's content; None when there is no such table."""
    import psycopg

    row = conn.execute("SELECT to_regclass('mapek_meta') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return None
    try:
        return {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM mapek_meta")}
    except psycopg.Error:  # someone else's mapek_meta, with other columns
        return {}
