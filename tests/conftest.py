"""Shared fixtures. Real parts: temporary workspaces with real SQLite files and real Chroma."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mapek.testing.postgres import PostgresServer

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh workspace folder, set as MAPEK_HOME for the test and its subprocesses."""
    path = tmp_path / "ws"
    monkeypatch.setenv("MAPEK_HOME", str(path))
    monkeypatch.delenv("MAPEK_PERSONAS", raising=False)
    monkeypatch.delenv("MAPEK_MODEL", raising=False)
    return path


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole test session (initdb + postgres in a temporary
    folder, 127.0.0.1 only); skipped, saying why, only where the server binaries are missing."""
    from mapek.testing.postgres import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer()
    except PostgresUnavailable as exc:
        pytest.skip(f"no PostgreSQL server here: {exc}")
    with server:
        yield server


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty database on the test server, dropped after the test."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url.rsplit("/", 1)[1])


SERIAL_PATHS = (
    "tests/breaker/",  # trip latency, heartbeats, orphans: timings of real processes
    "tests/ledger/test_crash.py",  # SIGKILL at chosen points
    "tests/ledger/test_loop_doubt.py",
    "tests/knowledge/test_kb_processes.py",  # lock contention between processes
    "tests/knowledge/test_log_processes.py",
    "tests/knowledge/test_kb_chroma_server.py",  # a Chroma server process
    "tests/tui/",  # screenshots and a pilot waiting on a live worker
    "tests/batch/test_batch_ray.py",  # a local Ray of 2 CPUs: cells held at chosen points
    "tests/otel/",  # a worker exports as its run ends, within a bounded wait
    # pure tests that assert a wall-clock bound: alone, so the other worker's load is not theirs
    "tests/safety/test_content.py::test_several_megabytes_are_scanned_whole_and_fast",
    "tests/safety/test_gateway.py::test_a_tool_output_of_several_megabytes",
    "tests/safety/test_injection.py::test_large_outputs_stay_fast",
    "tests/safety/test_learned_injection.py::test_a_large_output_is_scored_on_its_head_and_stays_fast",
    "tests/safety/test_learned_injection.py::test_long_runs_and_repeated_cues_cost_little",
    "tests/llm/test_server_path.py::test_stall_times_out_after_bounded_retries",
    "tests/knowledge/test_log_basics.py::test_follow_timeout_is_idle_time",
    "tests/knowledge/test_kb_search.py::test_with_a_model_embedding_only_a_short_run_is_embedded",
)
"""Tests (folders, files, ``file::test`` names) that run in the serial pass of ``python3 tasks.py
test`` (marker ``serial``): those whose assertions depend on timing or on a resource one at a
time, and every test on the
PostgreSQL server (one server, started once). The rest run in parallel (pytest-xdist): each
has its own temporary workspace and free ports."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the serial tests (``SERIAL_PATHS``, the PostgreSQL server's users); with
    MAPEK_SLOW_SAMPLE=N, run only N of the tests marked slow (CI's bounded sample): N
    different test functions, one parametrized case of each.

    The sample rotates daily (seed MAPEK_SLOW_SEED, default: today's date), so over a week CI
    covers every slow test while each run stays bounded. It is drawn from every collected test,
    before ``-m`` selects a pass, so the parallel and the serial pass (and each xdist worker)
    draw the same sample and together run N slow tests.
    """
    for item in items:
        path = Path(str(item.path))
        where = path.relative_to(REPO).as_posix() + "::" + item.name.split("[")[0] \
            if path.is_relative_to(REPO) else ""
        if where.startswith(SERIAL_PATHS) or "pg_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.serial)
    sample = os.environ.get("MAPEK_SLOW_SAMPLE")
    if sample is None:
        return
    try:
        keep_n = int(sample)
    except ValueError:
        keep_n = -1
    if keep_n < 0:  # one clear error, not a pass that quietly runs nothing
        raise pytest.UsageError(f"MAPEK_SLOW_SAMPLE must be a whole number of slow tests to "
                                f"run (0 or more), not {sample!r}; unset it to run them all")
    slow = [it for it in items if it.get_closest_marker("slow")]
    if len(slow) <= keep_n:
        return
    seed = os.environ.get("MAPEK_SLOW_SEED", time.strftime("%Y-%m-%d"))
    rng = random.Random(seed)
    # N different slow tests, one case of each: the cases of one test (seeds, sizes) are
    # drawn one at a time, so a day's sample is not two shards of the same chaos test
    groups: dict[str, list[int]] = {}
    for i, it in enumerate(slow):
        groups.setdefault(it.nodeid.split("[")[0], []).append(i)
    names = sorted(groups)
    keep = {rng.choice(groups[name]) for name in rng.sample(names, min(keep_n, len(names)))}
    dropped = [it for i, it in enumerate(slow) if i not in keep]
    config.hook.pytest_deselected(items=dropped)
    drop_ids = {id(it) for it in dropped}
    items[:] = [it for it in items if id(it) not in drop_ids]
