"""Fixtures for the knowledge tests: real SQLite logs and real embedded Chroma in ``tmp_path``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mapek.knowledge import SQLiteEventLog
from mapek.models import EventDraft


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "log.sqlite3"


@pytest.fixture
def log(log_path: Path) -> Iterator[SQLiteEventLog]:
    with SQLiteEventLog(log_path) as lg:
        yield lg


def _fill(log: SQLiteEventLog, run_id: str, n: int, kind: str = "message") -> None:
    for i in range(n):
        log.append(EventDraft(run_id=run_id, kind=kind, actor=f"p{i % 3}",
                              payload={"text": f"event {i} of {run_id}", "i": i}))


@pytest.fixture
def fill() -> Callable[..., None]:
    """``fill(log, run_id, n)`` appends ``n`` events to a run, one at a time."""
    return _fill
