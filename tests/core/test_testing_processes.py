"""``mapek.testing.processes``: holding a process still only between its writes, and seeing a
signal wait on a stopped process. Real processes and real locks."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mapek.knowledge.anchor import ANCHOR_FILE
from mapek.testing.processes import hold_between_writes, wait_pending, wait_stopped

HOLDER = """
import fcntl, os, sqlite3, sys, time
kind, path = sys.argv[1], sys.argv[2]
if kind == "sqlite":
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("BEGIN IMMEDIATE")
else:
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(300)
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    db = tmp_path / "log.sqlite3"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.close()
    (tmp_path / ANCHOR_FILE).touch()
    return tmp_path


@pytest.fixture
def holder() -> Iterator[list[subprocess.Popen[str]]]:
    made: list[subprocess.Popen[str]] = []
    yield made
    for p in made:
        os.kill(p.pid, signal.SIGCONT)
        p.kill()
        p.wait(timeout=30)


def _hold(made: list[subprocess.Popen[str]], kind: str, path: Path) -> int:
    p = subprocess.Popen([sys.executable, "-c", HOLDER, kind, str(path)],
                         stdout=subprocess.PIPE, text=True)
    made.append(p)
    assert p.stdout is not None and p.stdout.readline().strip() == "held"
    return p.pid


@pytest.mark.parametrize("kind", ["sqlite", "anchor"])
def test_a_process_holding_a_lock_is_never_left_stopped(
        workspace: Path, holder: list[subprocess.Popen[str]], kind: str) -> None:
    db = workspace / "log.sqlite3"
    pid = _hold(holder, kind, db if kind == "sqlite" else workspace / ANCHOR_FILE)
    with pytest.raises(AssertionError, match="never let go"):
        hold_between_writes(pid, db, attempts=5)
    time.sleep(0.05)
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    assert state not in ("T", "t")  # let go after each try


def test_a_process_holding_nothing_is_stopped(workspace: Path) -> None:
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        hold_between_writes(p.pid, workspace / "log.sqlite3")
        state = Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        assert state in ("T", "t")
        assert not wait_pending(p.pid, signal.SIGTERM, timeout=0.2)
        os.kill(p.pid, signal.SIGTERM)
        assert wait_pending(p.pid, signal.SIGTERM, timeout=10)  # waits while it is stopped
        os.kill(p.pid, signal.SIGCONT)
        assert p.wait(timeout=30) == -signal.SIGTERM
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGCONT)
            p.kill()
            p.wait(timeout=30)
    wait_stopped(p.pid, timeout=0.1)  # a process gone: returns at once
