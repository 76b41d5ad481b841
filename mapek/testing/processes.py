"""Holding a worker process still in a test, without locking everyone else out.

A test that stops a worker with SIGSTOP to catch a run mid-way can stop it in the middle of a
write to the shared SQLite log: every other writer (another cell of a batch, the front end,
``mapek approve``) then waits on the lock until the worker goes on. :func:`hold_between_writes`
stops the worker only at a moment it holds no write lock (on the log, nor on the workspace's
anchor file).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mapek.knowledge.anchor import ANCHOR_FILE

try:
    import fcntl
except ImportError:  # not on Windows: there the anchor file is not locked either
    fcntl = None  # type: ignore[assignment]

__all__ = ["hold_between_writes", "interruptible", "wait_pending", "wait_stopped"]


@contextmanager
def interruptible() -> Iterator[None]:
    """Processes started inside take Ctrl-C as a terminal gives it: SIGINT at its default, so
    that Python raises KeyboardInterrupt in them. A shell that starts a job in the background
    without job control (``( bash .ci/run & )``) makes it ignore SIGINT, every child inherits
    that, and a test that sends a child SIGINT waits in vain. A handler set here is reset to
    the default in the child by exec (an ignored signal would stay ignored); the caller's own
    disposition is restored on leaving. Main thread only."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def wait_stopped(pid: int, timeout: float = 5.0) -> None:
    """Wait until process ``pid`` is stopped (state ``T`` in /proc), not just signalled: a
    SIGSTOP lands asynchronously."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return  # gone, or no /proc: nothing more to wait for
        if stat.rsplit(")", 1)[-1].split()[0] in ("T", "t"):
            return
        time.sleep(0.001)


def wait_pending(pid: int, sig: int, timeout: float = 60.0) -> bool:
    """Wait until signal ``sig`` is pending on process ``pid`` (held by SIGSTOP, a signal sent
    to it waits in /proc's ``SigPnd``/``ShdPnd`` masks until it is continued). True when it is;
    False when the timeout passed or the process is gone."""
    bit = 1 << (sig - 1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
        masks = [int(line.split()[1], 16) for line in status.splitlines()
                 if line.startswith(("SigPnd:", "ShdPnd:"))]
        if any(m & bit for m in masks):
            return True
        time.sleep(0.01)
    return False


def _log_locked(db: Path) -> bool:
    """True while another connection holds the SQLite log's write lock."""
    probe = sqlite3.connect(db, timeout=0.2)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.rollback()
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def _anchor_locked(path: Path) -> bool:
    """True while another process holds the workspace's anchor file (``flock``, taken after
    each append's commit, with no timeout: a writer stopped holding it blocks every other)."""
    if fcntl is None or not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def hold_between_writes(pid: int, db: Path, attempts: int = 200) -> None:
    """Stop process ``pid`` (SIGSTOP) at a moment it holds no write lock on the SQLite log
    ``db`` nor on the anchor file beside it; raises AssertionError when it never lets go
    within ``attempts`` tries."""
    for _ in range(attempts):
        os.kill(pid, signal.SIGSTOP)
        wait_stopped(pid)
        if not _log_locked(db) and not _anchor_locked(Path(db).parent / ANCHOR_FILE):
            return
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.01)
    raise AssertionError(f"process {pid} never let go of the write locks on {db}")
