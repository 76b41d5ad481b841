"""No run is left hanging when its watchdog goes: real front ends (``mapek discuss``), workers
and watchdogs as processes, real signals. Each test waits on events in the log, with generous
timeouts (a loaded two-core machine), and asserts what happened, never how fast.

The offline model can finish a whole discussion within the second a worker takes to notice its
watchdog is gone; so the worker is held (SIGSTOP) while its watchdog and front end are killed
and until the heartbeat is stale, and let go (SIGCONT) after: it then finds no heartbeat at its
next model call, as a worker in the middle of a real model's run would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mapek.breaker.guard import STALE_AFTER
from mapek.breaker.orphans import heartbeat_age
from mapek.breaker.watchdog import process_alive
from mapek.knowledge import SQLiteEventLog
from mapek.models import Event
from mapek.testing.processes import hold_between_writes

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"
FINISHED = ("converged", "stalled", "max_turns")

pytestmark = pytest.mark.timeout(900)  # whole discussions on a loaded machine


def wait_for(cond: Callable[[], Any], timeout: float, what: str) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = cond()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


class Discussion:
    """``mapek discuss`` in a workspace of its own, as a real process, and what it starts."""

    def __init__(self, home: Path, **env: str) -> None:
        self.home = home
        self.env = {**os.environ, "MAPEK_HOME": str(home), "COLUMNS": "200", **env}
        self.front = subprocess.Popen(
            [sys.executable, "-m", "mapek.cli", "discuss", TOPIC, "--personas",
             "cfo,engineer,skeptic", "--non-interactive", "--on-question", "defer",
             "--max-turns", "20"], env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.log: SQLiteEventLog | None = None
        self.run = ""
        self.extra: list[int] = []

    def events(self, *kinds: str) -> list[Event]:
        assert self.log is not None
        return self.log.events(self.run, kinds=list(kinds) or None)

    def started(self) -> None:
        """Wait until the worker runs under its watchdog and has spoken."""
        wait_for(lambda: (self.home / "log.sqlite3").exists(), 120, "the log")
        self.log = SQLiteEventLog(self.home / "log.sqlite3", create=False)
        log = self.log
        self.run = wait_for(lambda: [r.run_id for r in log.runs()], 120, "the run")[0]
        wait_for(lambda: self.events("message"), 180, "a first turn")
        wait_for(lambda: self.watchdog_pid(), 60, "the watchdog")

    def run_dir(self) -> Path:
        return self.home / "runs" / self.run

    def watchdog_pid(self) -> int | None:
        """The pid of the watchdog holding the run's lock, if one is alive."""
        try:
            pid = int((self.run_dir() / "watchdog.lock").read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if process_alive(pid) else None

    def worker_pid(self) -> int:
        return int(self.events("worker.started")[-1].payload["pid"])

    @contextmanager
    def held(self) -> Iterator[int]:
        """The worker stopped (SIGSTOP) for the block, continued (SIGCONT) after; never in the
        middle of a log transaction: a worker stopped holding the log's write lock keeps the
        front end from recording anything until it is let go (on a loaded machine that
        failed the SIGTERM test about once in 80 runs, after 120 s)."""
        pid = self.worker_pid()
        hold_between_writes(pid, self.home / "log.sqlite3")
        try:
            yield pid
        finally:
            os.kill(pid, signal.SIGCONT)

    def stale(self) -> None:
        """Wait until the run's heartbeat is older than the worker's dead man's switch allows."""
        wait_for(lambda: (heartbeat_age(self.run_dir()) or 0) > 2 * STALE_AFTER, 60,
                 "the heartbeat to go stale")

    def final(self) -> Event | None:
        ends = self.events("run.finished")
        return ends[-1] if ends else None

    def mapek(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mapek.cli", *args], env=self.env,
                              capture_output=True, text=True, timeout=300)

    def close(self) -> None:
        pids = [self.front.pid, *self.extra]
        if self.log is not None:
            pids += [p for p in (self.watchdog_pid(),) if p] + [
                int(e.payload["pid"]) for e in self.events("worker.started")]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.front.communicate(timeout=30)
        if self.log is not None:
            self.log.close()


@pytest.fixture
def discussion(tmp_path: Path) -> Iterator[Callable[..., Discussion]]:
    made: list[Discussion] = []

    def make(**env: str) -> Discussion:
        d = Discussion(tmp_path / "ws", **env)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def test_sigterm_to_the_watchdog_the_front_end_starts_another(
        discussion: Callable[..., Discussion]) -> None:
    d = discussion(MAPEK_WATCHDOG_RESPAWN="0")  # the worker will not: the front end must
    d.started()
    first = d.watchdog_pid()
    assert first is not None
    with d.held():
        os.kill(first, signal.SIGTERM)
        wait_for(lambda: d.events("watchdog.restarted"), 120, "the front end to restart it")
    out, err = d.front.communicate(timeout=480)
    assert d.front.returncode == 0, out[-3000:] + err[-3000:]
    final = d.final()
    assert final is not None and final.payload["status"] in FINISHED
    restarted = d.events("watchdog.restarted")
    assert restarted and restarted[0].payload["by"] == "front end", restarted
    assert restarted[0].payload["exit_code"] == 0 and restarted[0].payload["pid"] != first
    assert not d.events("breaker.tripped")
    r = d.mapek("kb", "verify", "--run", d.run)
    assert r.returncode == 0, r.stdout


def test_front_end_and_watchdog_killed_the_worker_starts_its_own(
        discussion: Callable[..., Discussion]) -> None:
    d = discussion(MAPEK_WATCHDOG_RESPAWN="2")
    d.started()
    dog = d.watchdog_pid()
    assert dog is not None
    with d.held():
        d.front.kill()
        d.front.communicate(timeout=30)
        os.kill(dog, signal.SIGKILL)
        d.stale()
    wait_for(lambda: d.events("watchdog.respawned"), 240, "the worker to start a watchdog")
    final = wait_for(d.final, 420, "the run to finish")
    assert final.payload["status"] in FINISHED
    respawned, = d.events("watchdog.respawned")
    assert respawned.actor == "worker" and respawned.payload["pid"] != dog
    unwatched = d.events("worker.unwatched")
    assert unwatched and unwatched[0].seq < respawned.seq < d.events("worker.watched")[-1].seq
    wait_for(lambda: not process_alive(d.worker_pid()), 60, "the worker to exit")
    wait_for(lambda: d.watchdog_pid() is None, 60, "its watchdog to leave after it")
    r = d.mapek("runs", "list", "--json")
    assert [x["status"] for x in json.loads(r.stdout)] == [final.payload["status"]]


def test_an_orphan_shows_and_resume_takes_it_over(discussion: Callable[..., Discussion]) -> None:
    d = discussion(MAPEK_WATCHDOG_RESPAWN="0", MAPEK_ORPHAN_AFTER="3")
    d.started()
    dog = d.watchdog_pid()
    assert dog is not None
    with d.held():
        d.front.kill()
        d.front.communicate(timeout=30)
        os.kill(dog, signal.SIGKILL)
        d.stale()
    orphan = d.worker_pid()
    wait_for(lambda: d.events("worker.unwatched"), 120, "the worker to pause")

    def listed() -> dict[str, Any] | None:
        r = d.mapek("runs", "list", "--json")
        assert r.returncode == 0, r.stderr
        row = json.loads(r.stdout)[0]
        return row if row["status"] == "paused: no watchdog" else None

    wait_for(listed, 120, "runs list to show the orphan")
    r = d.mapek("runs", "list")
    assert "paused: no watchdog" in r.stdout, r.stdout
    assert process_alive(orphan)  # paused, not gone: nothing was killed by hand
    r = d.mapek("resume", d.run)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert not process_alive(orphan)
    stopped = d.events("run.stopped")
    assert stopped and "taken over" in stopped[-1].payload["reason"]
    assert stopped[-1].payload["how"] == "term"  # it left in order, on SIGTERM
    final = d.final()
    assert final is not None and final.payload["status"] in FINISHED and final.seq > \
        stopped[-1].seq
    assert len(d.events("worker.started")) == 2
    r = d.mapek("kb", "verify", "--run", d.run)
    assert r.returncode == 0, r.stdout
