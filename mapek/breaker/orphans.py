"""Runs left with no watchdog: keeping one alive, noticing an orphan, and taking it over.

A watched worker never runs unwatched: when its watchdog's heartbeat stops it pauses before
its next model or tool call (:mod:`mapek.breaker.guard`). So a watchdog that exits while its
worker lives (a SIGTERM, a crash, a kill) must be replaced, by whoever is alive:

- the front end that started the worker restarts it as soon as it sees it gone
  (:class:`WatchdogKeeper`, used by :class:`mapek.Session`), backing off when one dies at once
  again and again;
- the worker itself starts one after ``Settings.watchdog_respawn`` seconds of pause;
- a worker paused with no watchdog for longer than ``Settings.orphan_after`` seconds anyway is
  an *orphan*: its run shows ``paused: no watchdog`` (:func:`orphaned_for`), and
  ``mapek resume RUN`` takes it over (:func:`take_over`): SIGTERM, on which the worker leaves
  its pause at once with its last checkpoint standing, ``run.stopped`` recorded, and the run
  resumes from the checkpoint in a new worker under a new watchdog.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mapek.breaker.guard import STALE_AFTER
from mapek.breaker.watchdog import EXIT_TRIPPED, heartbeat_path, stop_process

__all__ = ["ORPHAN_STATUS", "WatchdogKeeper", "heartbeat_age", "orphan_status", "orphaned_for",
           "take_over"]

ORPHAN_STATUS = "paused: no watchdog"
"""The status of a run whose worker is paused with no watchdog (``SessionResult.status``)."""
EXIT_BUSY = 2
"""A watchdog's exit code when it refuses to start (another holds the run's lock, or a bad
setting)."""
TAKE_OVER_GRACE = 30.0
"""Seconds an orphan has to leave on SIGTERM before it is killed (it is paused: it leaves at
once, unless it is inside a write, which finishes first)."""


def heartbeat_age(run_dir: Path) -> float | None:
    """Seconds since the run's watchdog last beat; None when none ever did."""
    try:
        return max(0.0, time.time() - os.stat(heartbeat_path(run_dir)).st_mtime)
    except FileNotFoundError:
        return None


def orphaned_for(kb: Any, run_id: str, run_dir: Path, *, after: float) -> float | None:
    """Seconds the run's current worker has been paused with no watchdog, if more than
    ``after``; else None. Call it for a run whose worker is alive (``Session.is_running``)."""
    age = heartbeat_age(run_dir)
    if age is not None and age < after:
        return None
    marks = kb.events(run_id, kinds=["worker.started", "worker.unwatched", "worker.watched"])
    last = marks[-1] if marks else None
    if last is None or last.kind != "worker.unwatched":
        return None  # not paused (waiting for a person, say, or never watched)
    paused = time.time() - last.ts + 1.0  # recorded a second into the pause
    return paused if paused > after else None


def orphan_status(kb: Any, run_id: str, home: Path, *, after: float) -> str | None:
    """:data:`ORPHAN_STATUS` for a run with a live worker (status ``running``) that is an
    orphan, else None; ``home`` is the workspace folder."""
    paused = orphaned_for(kb, run_id, home / "runs" / run_id, after=after)
    return None if paused is None else ORPHAN_STATUS


def take_over(kb: Any, run_id: str, run_dir: Path, *, after: float,
              grace: float = TAKE_OVER_GRACE) -> bool:
    """Stop the run's worker in order if it is an orphan (see :func:`orphaned_for`): SIGTERM,
    SIGKILL after ``grace``; record ``run.stopped``. False (and nothing done) otherwise."""
    paused = orphaned_for(kb, run_id, run_dir, after=after)
    started = kb.events(run_id, kinds=["worker.started"])
    if paused is None or not started:
        return False
    pid = int(started[-1].payload["pid"])
    how = stop_process(pid, grace)
    kb.record(run_id, "run.stopped", "human", {
        "reason": f"taken over: its worker was paused {paused:.0f} s with no watchdog",
        "pid": pid, "how": how, "resume": True})
    return True


class WatchdogKeeper:
    """A front end's side: restart the watchdog of the worker it started whenever it exits while
    the worker lives (whatever its exit code, but a trip's, or a refusal because another
    watchdog beats), at once, then waiting twice as long after each one that dies within
    ``quick`` seconds (at most ``cap``)."""

    def __init__(self, run_dir: Path, start: Callable[[], Any], *, quick: float = 5.0,
                 cap: float = 30.0) -> None:
        self.run_dir, self.start, self.quick, self.cap = run_dir, start, quick, cap
        self.restarts = 0
        self._started = time.monotonic()
        self._delay = 0.0

    def started(self) -> None:
        """Note that a watchdog was just started (by the front end)."""
        self._started = time.monotonic()

    def check(self, code: int) -> bool:
        """The watchdog exited with ``code`` under a live worker: start another if one is
        needed now. True when it did."""
        if code == EXIT_TRIPPED:
            return False  # it stopped the worker, which is on its way out
        age = heartbeat_age(self.run_dir)
        if code == EXIT_BUSY and age is not None and age <= STALE_AFTER:
            return False  # it found another watchdog (the worker's own) guarding the run
        now = time.monotonic()
        if now - self._started < self._delay:
            return False
        lived = now - self._started
        self._delay = min(self.cap, max(1.0, self._delay * 2)) if lived < self.quick else 0.0
        self.restarts += 1
        self.start()
        self._started = now
        return True
