"""Knowledge: the append-only, hash-chained event log (the truth) and the vector index over it."""

from __future__ import annotations

from mapek.knowledge.log import EventLog, Follow, RunInfo
from mapek.knowledge.sqlite_log import SQLiteEventLog
from mapek.knowledge.verify import RunStatus, VerifyReport

__all__ = ["EventLog", "SQLiteEventLog", "Follow", "RunInfo", "RunStatus", "VerifyReport"]
