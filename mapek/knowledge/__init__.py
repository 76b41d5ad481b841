"""Knowledge: the append-only, hash-chained event log (the truth) and the vector index over it.

::

    KnowledgeBase            record / events / follow / verify / search / reindex  (base.py)
    ├── EventLog             the log interface (log.py); SQLiteEventLog implements it, and
    │   │                    PostgresEventLog in PostgreSQL (pg_log.py, imports psycopg)
    │   └── check_run        hash-chain verification, shared by every backend (verify.py)
    └── IndexProjector       catches the vector index up from the log, in batches (projector.py)
        └── VectorIndex      the index interface (vectors.py); ChromaIndex implements it
            └── embeddings   offline feature hashing by default (embeddings.py, imports chromadb)

Importing this package is cheap: chromadb is imported when a vector index is first opened,
psycopg when ``PostgresEventLog`` is first named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mapek._lazy import lazy_exports
from mapek.knowledge.base import KnowledgeBase
from mapek.knowledge.log import EventLog, Follow, RunInfo
from mapek.knowledge.projector import IndexProjector
from mapek.knowledge.sqlite_log import SQLiteEventLog
from mapek.knowledge.vectors import ChromaIndex, SearchHit, VectorIndex
from mapek.knowledge.verify import RunStatus, VerifyReport

__all__ = [
    "ChromaIndex",
    "EventLog",
    "Follow",
    "IndexProjector",
    "KnowledgeBase",
    "PostgresEventLog",
    "RunInfo",
    "RunStatus",
    "SQLiteEventLog",
    "SearchHit",
    "VectorIndex",
    "VerifyReport",
]

if TYPE_CHECKING:  # pragma: no cover
    from mapek.knowledge.pg_log import PostgresEventLog

__getattr__, __dir__ = lazy_exports(globals(), {"PostgresEventLog": "mapek.knowledge.pg_log"})
