"""Where LangGraph's checkpoints go: beside the event log.

With the workspace's SQLite log (the default, or ``sqlite:///``) they go to
``checkpoints.sqlite3`` in the workspace (WAL mode), as they always have; with a PostgreSQL log
(``MAPEK_LOG_URL=postgresql://...``) to LangGraph's PostgreSQL checkpointer in the same
database, so a run started on one machine can be resumed on another.

>>> with open_checkpointer(settings, workspace) as saver:         # doctest: +SKIP
...     graph = build_graph(ctx, saver)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

from mapek.config import Settings, Workspace

__all__ = ["open_checkpointer"]

_SETUP_LOCK = (0x6D61706B + 2, 0)
"""The advisory lock that serialises ``PostgresSaver.setup()`` (its migrations are not safe
to run twice at once, and a batch starts many workers together)."""


@contextmanager
def open_checkpointer(settings: Settings, workspace: Workspace) -> Iterator[Any]:
    """The checkpointer for a run of this workspace, open for the ``with`` block: a
    ``PostgresSaver`` (its tables made if missing) when ``settings.log_url`` is PostgreSQL,
    else a ``SqliteSaver`` on the workspace's ``checkpoints.sqlite3``."""
    from mapek.knowledge._pg_schema import is_postgres_url

    if is_postgres_url(settings.log_url):
        assert settings.log_url is not None
        with _postgres_saver(settings.log_url) as saver:
            yield saver
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    from mapek._private import private_file

    conn = sqlite3.connect(private_file(workspace.checkpoints_path), check_same_thread=False)
    with closing(conn):
        conn.execute("PRAGMA journal_mode=WAL")
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
