"""The log backends the contract tests run against, and raw access to their storage."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest

from mapek.knowledge import EventLog, SQLiteEventLog

BACKENDS = ["sqlite", "postgres"]
both = pytest.mark.parametrize("backend", BACKENDS, indirect=True)
"""Run a test once per log backend (its ``log``, ``log_url`` and ``raw`` fixtures follow)."""


def open_url(url: str, *, create: bool = True) -> EventLog:
    """The log at a ``sqlite:///`` or ``postgresql://`` URL."""
    if url.startswith("sqlite:///"):
        return SQLiteEventLog(url.removeprefix("sqlite:///"), create=create)
    from mapek.knowledge.pg_log import PostgresEventLog

    return PostgresEventLog(url, create=create)


class Raw:
    """A plain connection to a log's storage, beside the log: SQL as a person (or an
    attacker) with the database in hand would write it, in SQLite's dialect (``?`` parameters,
    tables ``events`` and ``heads``), translated for PostgreSQL."""

    def __init__(self, url: str):
        self.postgres = not url.startswith("sqlite:///")
        if self.postgres:
            import psycopg

            self.con: Any = psycopg.connect(url, autocommit=True)
        else:
            self.con = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)

    def execute(self, sql: str, args: tuple[object, ...] = ()) -> Any:
        if self.postgres:
            sql = re.sub(r"\b(events|heads)\b", r"mapek_\1", sql.replace("?", "%s"))
        return self.con.execute(sql, args)

    def errors(self) -> tuple[type[BaseException], ...]:
        """What refused writes raise here."""
        if self.postgres:
            import psycopg

            return (psycopg.errors.IntegrityConstraintViolation,)
        return (sqlite3.IntegrityError,)

    def drop_guards(self) -> None:
        """Turn off the append-only triggers (and SQLite's head trigger), as an attacker
        would."""
        if self.postgres:
            for name in ("no_update", "no_delete"):
                self.con.execute(f"ALTER TABLE mapek_events DISABLE TRIGGER mapek_events_{name}")
        else:
            for trigger in ("events_no_update", "events_no_delete", "events_head"):
                self.con.execute(f"DROP TRIGGER {trigger}")

    def close(self) -> None:
        self.con.close()
