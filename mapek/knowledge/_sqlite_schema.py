"""The SQLite event log's file: its schema, and opening it with one clear error per failure.

A file is ours when its ``meta`` table names the schema ``mapek.eventlog``. A missing folder or
file, an unreadable or read-only file, a file that is not SQLite, a SQLite database of someone
else, and a log written by a newer mapek each give one ``WorkspaceError`` line; a file is never
modified unless it is empty or already ours.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from mapek.errors import StorageError, WorkspaceError

__all__ = ["COLS", "INSERT", "SCHEMA", "SCHEMA_NAME", "SCHEMA_VERSION", "connect"]

SCHEMA_NAME = "mapek.eventlog"
SCHEMA_VERSION = 1

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL,
    actor TEXT NOT NULL, parent INTEGER, payload TEXT NOT NULL, key TEXT,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
    UNIQUE (run_id, seq));
CREATE UNIQUE INDEX IF NOT EXISTS events_key ON events (run_id, key) WHERE key IS NOT NULL;
CREATE TABLE IF NOT EXISTS heads (
    run_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, last_hash TEXT NOT NULL,
    first_ts REAL NOT NULL, last_ts REAL NOT NULL);
CREATE TRIGGER IF NOT EXISTS events_head AFTER INSERT ON events BEGIN
    INSERT INTO heads VALUES (NEW.run_id, NEW.seq, NEW.hash, NEW.ts, NEW.ts)
    ON CONFLICT (run_id) DO UPDATE SET
    last_seq = excluded.last_seq, last_hash = excluded.last_hash, last_ts = excluded.last_ts; END;
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
INSERT OR IGNORE INTO meta VALUES ('schema', '{SCHEMA_NAME}'), ('version', '{SCHEMA_VERSION}');
"""
COLS = "position, run_id, seq, ts, kind, actor, parent, payload, key, prev_hash, hash"
INSERT = (
    "INSERT INTO events (run_id, seq, ts, kind, actor, parent, payload, key, prev_hash, hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def connect(path: Path, *, create: bool, busy_timeout: float) -> sqlite3.Connection:
    """Open (and if new, initialise) the log file; translate failures to our errors."""
    if not path.parent.is_dir():
        raise WorkspaceError(f"workspace {path.parent} does not exist", path=str(path.parent))
    if not create and not path.exists():
        raise WorkspaceError(f"no event log at {path} (nothing was recorded here yet)",
                             path=str(path))
    if create:
        from mapek.private import private_file

        try:
            private_file(path)  # 0600, and so its -wal and -shm files
        except OSError as exc:
            raise WorkspaceError(f"cannot create the event log {path}: {exc.strerror}",
                                 path=str(path)) from exc
    uri = f"file:{quote(str(path.resolve()))}?mode={'rwc' if create else 'rw'}"
    conn = None
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout, isolation_level=None,
                               check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        _check_schema(conn, path)
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise _open_error(path, exc) from exc
    except WorkspaceError:
        if conn is not None:
            conn.close()
        raise
    return conn


def _check_schema(conn: sqlite3.Connection, path: Path) -> None:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:  # a new (or empty) file: create our tables, racing openers are fine
        try:
            conn.executescript("BEGIN IMMEDIATE;" + SCHEMA + "COMMIT;")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
        return
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta")) if "meta" in tables else {}
    except sqlite3.OperationalError:  # someone else's table called meta
        meta = {}
    if meta.get("schema") != SCHEMA_NAME or not {"events", "heads"} <= tables:
        raise WorkspaceError(f"{path} is a SQLite database but not a mapek event log",
                             path=str(path))
    if int(meta.get("version", 0)) > SCHEMA_VERSION:
        raise WorkspaceError(f"{path} was written by a newer mapek (log schema "
                             f"v{meta['version']}); upgrade mapek", path=str(path))


def _open_error(path: Path, exc: sqlite3.Error) -> WorkspaceError | StorageError:
    name = getattr(exc, "sqlite_errorname", "")
    if name == "SQLITE_NOTADB":
        return WorkspaceError(f"{path} is not a SQLite database, so not a mapek event log",
                              path=str(path))
    if name in {"SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH"}:
        return WorkspaceError(f"cannot open the event log {path}: not readable and writable",
                              path=str(path))
    if name.startswith("SQLITE_READONLY"):
        return WorkspaceError(f"the event log {path} is read-only", path=str(path))
    return StorageError(f"cannot open the event log {path}: {exc}")
