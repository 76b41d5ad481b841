"""The batch driver: records the batch, runs its cells through an executor, keeps the batch
breaker, and stops in order.

One driver at a time runs a batch (``batch.driver`` records its pid; a second is refused while
the first lives). It decides what each cell needs from the log alone: a cell that has ended is
skipped, one whose worker outlived a killed driver is followed, an interrupted one is resumed
from its checkpoint, one not yet started is created (``batch.cell`` first, then its session)
and started. So ``run`` and every ``resume`` write each event once.

The batch breaker: the batch's tokens and USD (summed over its cells' ``llm.call`` events) and
the driver's wall time are checked against the batch limits on every tick. When one is spent,
``batch.tripped`` is recorded and each running cell's breaker is forced open, as ``mapek trip``
does: its watchdog stops it, its state stays in its checkpoint. ``resume`` with a raised limit
(``batch.override``) continues them.
"""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mapek.batch.executor import Action, CellDone, CellJob, Executor
from mapek.batch.plan import BatchPlan, Cell
from mapek.batch.state import ENDED, BatchFold, BatchStatus
from mapek.errors import UserError

__all__ = ["BatchRunner", "Breach", "create_batch", "new_batch_id", "parse_batch_raise",
           "BATCH_LIMITS"]

BATCH_LIMITS = {"usd": "max_usd", "tokens": "max_tokens", "time": "time_limit"}
"""Names ``--raise NAME=VALUE`` takes for a batch, and the limit each one raises."""


def new_batch_id() -> str:
    import secrets

    return "batch-" + time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def parse_batch_raise(items: list[str]) -> dict[str, float]:
    """``["usd=5", "tokens=200000"]`` -> ``{"usd": 5, "tokens": 200000}``: the breaker's
    parser, with the batch's limits."""
    from mapek.breaker.review import parse_raise

    return parse_raise(items, BATCH_LIMITS, positive=True)


def create_batch(kb: Any, plan: BatchPlan, *, source: str) -> str:
    """Record a new batch (``batch.started``, with the plan) and return its id."""
    batch_id = new_batch_id()
    kb.record(batch_id, "batch.started", "human",
              {"plan": plan.model_dump(mode="json"), "source": source,
               "cells": [c.key for c in plan.cells()],
               "text": plan.name or f"batch of {len(plan.cells())} cells"}, key="started")
    return batch_id


@dataclass(frozen=True)
class Breach:
    """A batch limit spent."""

    limit: str
    """``usd``, ``tokens`` or ``time``."""
    threshold: float
    used: float

    @property
    def reason(self) -> str:
        what = {"usd": "USD", "tokens": "tokens", "time": "seconds of wall time"}[self.limit]
        used = f"{self.used:.4f}" if self.limit == "usd" else f"{self.used:.0f}"
        return f"the batch budget is spent: {used} {what} used of {self.threshold:g}"


class BatchRunner:
    """Runs (or resumes) one batch to its end in this process."""

    def __init__(self, kb: Any, batch_id: str, *, home: Path, executor: Executor,
                 on_progress: Callable[[BatchStatus], None] | None = None,
                 poll: float = 0.25) -> None:
        self.kb, self.batch_id, self.home = kb, batch_id, home
        self.executor = executor
        self.on_progress = on_progress
        self.poll = poll
        self.fold = BatchFold(batch_id)
        self.fold.refresh(kb)
        if self.fold.plan is None:
            raise UserError(f"no batch {batch_id!r} in this workspace")
        self.plan: BatchPlan = self.fold.plan
        self._attempts: dict[str, int] = {}
        self._trip: Breach | None = None

    # -- the checks before anything is written ------------------------------------------------

    def check(self, action: str, raise_limits: dict[str, float] | None,
              retry_failed: bool) -> list[tuple[Cell, Action]]:
        """What this run would do, cell by cell; raises if it must not run at all."""
        f = self.fold
        if f.driver_alive():
            raise UserError(f"batch {self.batch_id} is being run by process "
                            f"{f.attempts[-1].pid}; stop it first (Ctrl-C there)")
        if action == "run" and f.attempts:
            raise UserError(f"batch {self.batch_id} has run before: "
                            f"mapek batch resume {self.batch_id}")
        todo = self._todo(retry_failed)
        if action == "resume" and not todo and not raise_limits:
            return []
        limits = dict(f.limits())
        for k, v in (raise_limits or {}).items():
            limits[BATCH_LIMITS[k]] = v
        breach = self._breach(limits)
        if breach is not None and todo:
            raise UserError(f"{breach.reason}; resume with a raised limit: mapek batch resume "
                            f"{self.batch_id} --raise {breach.limit}=N --reason ...")
        return todo

    def _todo(self, retry_failed: bool) -> list[tuple[Cell, Action]]:
        """(cell, action) for every cell that needs this run: followed first (their workers
        run already), then resumed, then started, each in plan order."""
        follow: list[tuple[Cell, Action]] = []
        resume: list[tuple[Cell, Action]] = []
        start: list[tuple[Cell, Action]] = []
        for cell in self.plan.cells():
            state = self.fold.cell_state(cell)
            if state in ("running", "waiting"):
                follow.append((cell, "follow"))
            elif state == "interrupted" or (state == "failed" and retry_failed):
                resume.append((cell, "resume"))
            elif state == "queued":
                start.append((cell, "start"))
        return follow + resume + start

    def _breach(self, limits: dict[str, Any], now: float | None = None) -> Breach | None:
        tokens, usd = self.fold.spend()
        if limits.get("max_usd") is not None and usd >= float(limits["max_usd"]):
            return Breach("usd", float(limits["max_usd"]), usd)
        if limits.get("max_tokens") is not None and tokens >= int(limits["max_tokens"]):
            return Breach("tokens", float(limits["max_tokens"]), tokens)
        if limits.get("time_limit") is not None:
            elapsed = self.fold.elapsed(now)
            if elapsed >= float(limits["time_limit"]):
                return Breach("time", float(limits["time_limit"]), elapsed)
        return None

    # -- running ------------------------------------------------------------------------------

    def run(self, action: str = "run", *, raise_limits: dict[str, float] | None = None,
            reason: str = "", retry_failed: bool = False) -> BatchStatus:
        """Run every cell that needs it, ``concurrency`` at once, to the end. A
        ``KeyboardInterrupt`` stops the running cells gracefully (resumable), records
        ``batch.stopped`` and is raised again. The executor is closed at the end, whatever
        happened (a Ray this run started is shut down)."""
        try:
            return self._run(action, raise_limits, reason, retry_failed)
        finally:
            self.executor.close()

    def _run(self, action: str, raise_limits: dict[str, float] | None, reason: str,
             retry_failed: bool) -> BatchStatus:
        todo = self.check(action, raise_limits, retry_failed)
        f = self.fold
        if not todo and not raise_limits and f.closing is not None \
                and f.closing.kind == "batch.finished":
            return f.status()  # nothing to do, nothing written
        attempt = f.attempt + 1
        if raise_limits:
            if not reason.strip():
                raise UserError("raising a batch limit needs a --reason (it is recorded with "
                                "who raised it)")
            who = getpass.getuser()
            parts = ", ".join(f"{k} to {v:g}" for k, v in raise_limits.items())
            self.kb.record(self.batch_id, "batch.override", "human",
                           {"raise": raise_limits, "reason": reason.strip(), "by": who,
                            "text": f"{who}: raise {parts} ({reason.strip()})"},
                           key=f"override:{attempt}")
        self.kb.record(self.batch_id, "batch.driver", "human",
                       {"pid": os.getpid(), "attempt": attempt, "action": action,
                        "executor": self.executor.name, "cells": len(todo)},
                       key=f"driver:{attempt}")
        f.refresh(self.kb, only=set())
        pending = list(todo)
        try:
            self._loop(pending, attempt)
        except KeyboardInterrupt:
            self.executor.stop_all("the batch was interrupted (Ctrl-C)")
            self.executor.close()
            self._close(attempt, "interrupted",
                        "interrupted: the running cells were stopped; "
                        f"mapek batch resume {self.batch_id}")
            raise
        except Exception as exc:  # the driver cannot go on: leave no cell running unwatched
            self.executor.stop_all(f"the batch's driver stopped: {exc}")
            self.executor.close()
            self._close(attempt, "error",
                        f"the driver stopped on an error ({type(exc).__name__}: {exc}); "
                        f"mapek batch resume {self.batch_id}")
            raise
        self.executor.close()
        f.refresh(self.kb)
        left = [c for c in self.plan.cells() if f.cell_state(c) not in ENDED]
        if self._trip is not None:
            self._close(attempt, "budget",
                        f"{self._trip.reason}; mapek batch resume {self.batch_id} --raise "
                        f"{self._trip.limit}=N --reason ...",
                        limit=self._trip.limit, threshold=self._trip.threshold,
                        used=self._trip.used)
        elif left:
            self._close(attempt, "incomplete",
                        f"{len(left)} cell(s) did not end (see batch.error); "
                        f"mapek batch resume {self.batch_id}")
        else:
            counts = f.status().counts
            self._close(attempt, "finished",
                        "every cell has ended: " + ", ".join(f"{n} {k}" for k, n in
                                                             sorted(counts.items())),
                        counts=counts, key="finished")
        return f.status()

    def _close(self, attempt: int, reason: str, text: str, *, key: str | None = None,
               **more: Any) -> None:
        """``batch.finished`` (reason ``finished``) or ``batch.stopped`` (any other)."""
        self.kb.record(self.batch_id,
                       "batch.finished" if reason == "finished" else "batch.stopped", "human",
                       {"reason": reason, "text": text, **more},
                       key=key or f"stopped:{attempt}")
        self.fold.refresh(self.kb, only=set())

    def _loop(self, pending: list[tuple[Cell, Action]], attempt: int) -> None:
        f, ex = self.fold, self.executor
        stop_wait: float | None = None
        while True:
            active = ex.active()
            f.refresh(self.kb, only=active)
            now = time.time()
            if self._trip is None:
                breach = self._breach(f.limits(), now)
                if breach is not None:
                    self._trip_cells(breach, attempt, active)
                    stop_wait = time.monotonic() + 60
            if self._trip is None:
                while pending and len(ex.active()) < f.limits()["concurrency"]:
                    cell, action = pending.pop(0)
                    self._launch(cell, action)
            elif stop_wait is not None and time.monotonic() > stop_wait:
                ex.stop_all(f"batch {self.batch_id}: {self._trip.reason}")
                stop_wait = None
            for done in ex.reap():
                f.refresh(self.kb, only={done.run_id})
                self._reaped(done, pending, attempt)
            if self.on_progress is not None:
                self.on_progress(f.status({r: True for r in ex.active()}, now))
            if not ex.active() and (not pending or self._trip is not None):
                return
            time.sleep(self.poll)

    def _launch(self, cell: Cell, action: Action) -> None:
        run = self.fold.runs.get(cell.key)
        if action == "start":
            if run is None:
                run = self._record_cell(cell)
            if not self.fold.cells[run].started:
                self._create_session(cell, run)
        assert run is not None
        self._attempts[cell.key] = self._attempts.get(cell.key, 0) + 1
        self.executor.submit(CellJob(run, str(self.home), action,
                                     wait=self.plan.questions == "wait",
                                     since=self.kb.log.last_seq(run)))

    def _record_cell(self, cell: Cell) -> str:
        index = [c.key for c in self.plan.cells()].index(cell.key) + 1
        ev = self.kb.record(self.batch_id, "batch.cell", "human",
                            {"cell": cell.key, "run": f"{self.batch_id}.{index:03d}",
                             "topic": cell.topic.id, "panel": cell.panel, "model": cell.model,
                             "repeat": cell.repeat, "seed": cell.seed},
                            key=f"cell:{cell.key}")
        self.fold.refresh(self.kb, only=set())
        return str(ev.payload["run"])

    def _create_session(self, cell: Cell, run: str) -> None:
        from mapek.api import Session
        from mapek.batch.executor import InboxChannel

        plan, lim = self.plan, self.plan.session
        human: Any = InboxChannel() if plan.questions == "wait" else plan.questions
        s = Session.create(cell.topic.text, plan.personas(cell.panel),
                           model=plan.model_spec(cell), human=human, max_turns=lim.max_turns,
                           max_tokens=lim.max_tokens, max_usd=lim.max_usd,
                           time_limit=lim.time_limit, escalation_budget=lim.escalation_budget,
                           speakers_per_round=lim.speakers_per_round,
                           personas_dir=plan.personas_dir, policy=plan.policy, home=self.home,
                           run_id=run)
        s.close()
        self.fold.refresh(self.kb, only={run})

    def _reaped(self, done: CellDone, pending: list[tuple[Cell, Action]], attempt: int) -> None:
        cell = next(c for c in self.plan.cells() if self.fold.runs.get(c.key) == done.run_id)
        if done.error:
            self.kb.record(self.batch_id, "batch.error", "worker",
                           {"cell": cell.key, "run": done.run_id, "error": done.error},
                           key=f"error:{attempt}:{cell.key}:{self._attempts.get(cell.key)}")
        state = self.fold.cell_state(cell, {done.run_id: False})
        # Its worker died under us, or its resume was refused for a moment (a killed
        # driver's worker still being reaped): once more, then twice; the error is recorded.
        if state == "interrupted" and self._trip is None \
                and self._attempts.get(cell.key, 0) < (3 if done.error else 2):
            if done.error:
                time.sleep(min(5.0, self.poll * 10))
            pending.insert(0, (cell, "resume"))

    def _trip_cells(self, breach: Breach, attempt: int, active: set[str]) -> None:
        """Record the batch trip and force each running cell's breaker open."""
        from mapek.breaker.review import record_override

        self._trip = breach
        self.kb.record(self.batch_id, "batch.tripped", "watchdog",
                       {"limit": breach.limit, "threshold": breach.threshold,
                        "used": breach.used, "reason": breach.reason,
                        "cells": sorted(active), "text": breach.reason},
                       key=f"tripped:{attempt}")
        for run in sorted(active):
            record_override(self.kb, run, force_open=True, by=f"batch {self.batch_id}",
                            reason=breach.reason)
