"""Fixtures for the knowledge tests: real SQLite logs and real embedded Chroma in ``tmp_path``,
and real PostgreSQL databases on the session's test server (``pg_server`` in tests/conftest.py).

The event log's contract tests run against both backends: decorate a test with ``@both``
(tests/knowledge/backends.py) and its ``log`` (and ``log_url``, ``raw``) fixtures are SQLite in
one run and PostgreSQL in the other. Undecorated, they are SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mapek.knowledge import EventLog
from mapek.models import EventDraft
from tests.knowledge.backends import Raw, open_url


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "log.sqlite3"


@pytest.fixture
def log_url(backend: str, log_path: Path, request: pytest.FixtureRequest) -> str:
    """Where the test's log lives: the SQLite file ``log_path``, or a fresh PostgreSQL
    database."""
    if backend == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{log_path}"


@pytest.fixture
def log(log_url: str) -> Iterator[EventLog]:
    with open_url(log_url) as lg:
        yield lg


@pytest.fixture
def raw(log: EventLog, log_url: str) -> Iterator[Raw]:
    """A raw connection to the test's log (the append-only guards still on)."""
    con = Raw(log_url)
    yield con
    con.close()


def _fill(log: EventLog, run_id: str, n: int, kind: str = "message") -> None:
    for i in range(n):
        log.append(EventDraft(run_id=run_id, kind=kind, actor=f"p{i % 3}",
                              payload={"text": f"event {i} of {run_id}", "i": i}))


@pytest.fixture
def fill() -> Callable[..., None]:
    """``fill(log, run_id, n)`` appends ``n`` events to a run, one at a time."""
    return _fill
