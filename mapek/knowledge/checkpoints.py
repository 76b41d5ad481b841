"""Where LangGraph's checkpoints go: beside the event log.

With the workspace's SQLite log (the default, or ``sqlite:///``) they go to
``checkpoints.sqlite3`` in the workspace (WAL mode), as they always have; with a PostgreSQL log
(``MAPEK_LOG_URL=postgresql://...``) to LangGraph's PostgreSQL checkpointer in the same
database, so a run started on one machine can be resumed on another.

>>> with open_checkpointer(settings, workspace) as saver:         # doctest: +SKIP
...     graph = build_graph(ctx, saver)

A checkpoint file that cannot be read (random bytes, a torn page) is named in one
:class:`~mapek.errors.CheckpointCorrupt` error (:func:`check_checkpoints` before a worker
starts, :func:`as_corrupt` for what a worker meets) with the way out: ``mapek resume RUN
--from-log``, which calls :func:`discard_checkpoints` (the corrupt file is moved aside, or only
the run's own checkpoints dropped from a sound one) and lets the worker replay the run from
its event log: every node finds what it wrote there by its key and reads it back, so no turn is
asked for or written twice.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mapek.config import Settings, Workspace

if TYPE_CHECKING:
    from mapek.errors import CheckpointCorrupt

__all__ = ["open_checkpointer", "check_checkpoints", "discard_checkpoints", "as_corrupt"]

_SETUP_LOCK = (0x6D61706B + 2, 0)
"""The advisory lock that serialises ``PostgresSaver.setup()`` (its migrations are not safe
to run twice at once, and a batch starts many workers together)."""


_CORRUPT = ("not a database", "malformed", "encrypted", "corrupt", "unsupported file format")
"""What SQLite says of a file it cannot read as a database (lower case)."""


def as_corrupt(exc: BaseException, workspace: Workspace,
               run_id: str | None = None) -> CheckpointCorrupt | None:
    """``exc`` (an error the checkpointer raised) as :class:`CheckpointCorrupt` when it says
    the checkpoint file is damaged; None for anything else (a locked file, a full disk)."""
    from mapek.errors import CheckpointCorrupt

    if isinstance(exc, CheckpointCorrupt):
        return exc
    text = str(exc).strip()
    if isinstance(exc, sqlite3.DatabaseError) and any(c in text.lower() for c in _CORRUPT):
        return CheckpointCorrupt(str(workspace.checkpoints_path), run_id, text)
    return None


def _probe(path: Path, run_id: str | None) -> str | None:
    """Why the SQLite checkpoint file at ``path`` cannot be read (None: it can, or is absent)."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        row = conn.execute("PRAGMA quick_check(1)").fetchone()
        if row is None or row[0] != "ok":
            return f"quick_check: {row[0] if row else 'no answer'}"
        return None
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and \
                not any(c in str(exc).lower() for c in _CORRUPT):
            return None  # locked, busy: not damage; the worker will see for itself
        return str(exc)
    finally:
        conn.close()


def check_checkpoints(settings: Settings, workspace: Workspace, run_id: str) -> None:
    """Raise :class:`CheckpointCorrupt` (naming the file and ``--from-log``) when the
    workspace's checkpoint file cannot be read; a PostgreSQL checkpointer is the database's
    to check."""
    from mapek.errors import CheckpointCorrupt
    from mapek.knowledge._pg_schema import is_postgres_url

    if is_postgres_url(settings.log_url):
        return
    why = _probe(workspace.checkpoints_path, run_id)
    if why is not None:
        raise CheckpointCorrupt(str(workspace.checkpoints_path), run_id, why)


def discard_checkpoints(settings: Settings, workspace: Workspace, run_id: str) -> str:
    """Make the run start over from its event log: a corrupt checkpoint file is moved aside
    (``checkpoints.sqlite3.corrupt-TIME``, with its ``-wal`` and ``-shm``), a sound one loses
    this run's checkpoints only. Returns what was done, in a sentence."""
    from mapek.knowledge._pg_schema import is_postgres_url

    if not is_postgres_url(settings.log_url):
        path = workspace.checkpoints_path
        why = _probe(path, run_id)
        if why is not None:
            aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
            for suffix in ("-wal", "-shm", ""):
                part = path.with_name(path.name + suffix)
                if part.exists():
                    os.replace(part, aside.with_name(aside.name + suffix))
            return (f"the corrupt checkpoint file ({why}) was moved to {aside}; the run is "
                    "rebuilt from its event log")
        if not path.exists():
            return "no checkpoint file: the run is rebuilt from its event log"
    with open_checkpointer(settings, workspace) as saver:
        saver.delete_thread(run_id)
    return "the run's checkpoints were dropped; the run is rebuilt from its event log"


@contextmanager
def open_checkpointer(settings: Settings, workspace: Workspace,
                      run_id: str | None = None) -> Iterator[Any]:
    """The checkpointer for a run of this workspace, open for the ``with`` block: a
    ``PostgresSaver`` (its tables made if missing) when ``settings.log_url`` is PostgreSQL,
    else a ``SqliteSaver`` on the workspace's ``checkpoints.sqlite3`` (a file SQLite cannot
    read: :class:`~mapek.errors.CheckpointCorrupt`)."""
    from mapek.knowledge._pg_schema import is_postgres_url

    if is_postgres_url(settings.log_url):
        assert settings.log_url is not None
        with _postgres_saver(settings.log_url) as saver:
            yield saver
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    from mapek.private import private_file

    conn = sqlite3.connect(private_file(workspace.checkpoints_path), check_same_thread=False)
    with closing(conn):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            # as the event log: a commit is durable once written to the WAL (a killed process
            # loses none); only a power cut may take the last ones, in both files alike
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise as_corrupt(exc, workspace, run_id) or exc from exc
        yield SqliteSaver(conn)


@contextmanager
def _postgres_saver(url: str) -> Iterator[Any]:
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    from mapek.errors import StorageError
    from mapek.knowledge._pg_schema import open_connection, redact

    # what PostgresSaver.from_conn_string opens, with our errors for a failed connection
    conn = open_connection(url, prepare_threshold=0, row_factory=dict_row)
    with conn:
        saver = PostgresSaver(conn)
        try:
            conn.execute("SELECT pg_advisory_lock(%s, %s)", _SETUP_LOCK)
            try:
                saver.setup()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", _SETUP_LOCK)
        except psycopg.Error as exc:
            raise StorageError(f"cannot set up the checkpoints at {redact(url)}: "
                               f"{str(exc).strip().splitlines()[0]}") from exc
        yield saver
