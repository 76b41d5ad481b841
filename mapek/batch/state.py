"""A batch and its cells, folded from the event log (the log is the only state there is).

The batch is a run of its own in the workspace's log (id ``batch-...``):

====================  ===========================================================================
``batch.started``     the plan (``plan``), where it came from, its cell keys; key ``started``
``batch.cell``        one cell: ``cell`` (its key) -> ``run`` (the session's run id), written
                      before that session exists; key ``cell:<cell key>``
``batch.driver``      a driver runs the batch (``pid``, ``attempt``, ``action``: run or resume);
                      key ``driver:<n>``
``batch.override``    the batch's limits raised (``raise``: ``usd``/``tokens``/``time``),
                      with ``reason`` and ``by``; key ``override:<attempt>``
``batch.tripped``     the batch budget is spent (``limit``, ``threshold``, ``used``); key
                      ``tripped:<attempt>``
``batch.answer``      a question group answered once for every cell that asked it
``batch.error``       a cell's job ended with an error (``cell``, ``run``, ``error``)
``batch.stopped``     a driver stopped before the end (``reason``: ``interrupted``, ``budget``);
                      key ``stopped:<attempt>``
``batch.finished``    every cell has ended; key ``finished``
====================  ===========================================================================

Each cell's figures come from its own run's events, folded by :class:`mapek.fold.RunFold`
(tokens and cost from ``llm.call``, turns, questions), plus the worker's segments for time;
read incrementally: a cell that has ended is not read again.
"""

from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mapek.batch.plan import BatchPlan, Cell
from mapek.fold import QuestionRecord, RunFold
from mapek.models import Event

__all__ = ["BATCH_KINDS", "BatchFold", "BatchStatus", "CellFold", "CellState", "CellStatus",
           "ENDED", "HEARTBEAT_FRESH", "RESUMABLE", "pid_alive", "worker_alive"]

BATCH_KINDS = frozenset({"batch.started", "batch.cell", "batch.driver", "batch.override",
                         "batch.tripped", "batch.answer", "batch.error", "batch.stopped",
                         "batch.finished"})

CellState = Literal["queued", "running", "waiting", "done", "stopped", "failed", "tripped",
                    "interrupted"]
"""``queued``: not started; ``running``; ``waiting``: stopped at a question or an approval
until a person answers; ``done``: the discussion ended (converged, stalled or at max_turns);
``stopped``: its own limit (tokens, USD) stopped it; ``failed``; ``tripped``: its own watchdog
tripped (``mapek resume RUN --raise ...``); ``interrupted``: stopped by a person, killed, or
stopped by the batch breaker: the batch's resume continues it."""

ENDED = frozenset({"done", "stopped", "failed", "tripped"})
"""Cells the batch does not run again (``failed`` ones only with ``retry_failed``)."""
RESUMABLE = frozenset({"interrupted"})

HEARTBEAT_FRESH = 10.0
"""Seconds within which a watchdog's heartbeat file says its worker on another machine lives
(the watchdog beats several times a second; a shared file system may show it late)."""


def pid_alive(pid: int | None) -> bool:
    """True while a process with this id runs on this machine (a zombie counts as gone)."""
    from mapek.breaker.watchdog import process_alive

    if not pid or pid < 0:
        return False
    try:
        return process_alive(pid)
    except (ValueError, OverflowError):
        return False


class CellFold:
    """One cell's run: :class:`mapek.fold.RunFold` (status, tokens and cost summed from
    ``llm.call`` once, turns, questions, approvals), plus what a batch needs besides: the
    worker's time segments, whether a trip was the batch breaker's, and whether the worker is
    stopped at a question."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.run = RunFold(run_id)
        self.segments: list[list[float]] = []
        """Worker segments: ``[start, last event]`` seconds since the epoch."""
        self.trip_by_batch = False
        self.worker_host: str | None = None
        """The machine of the current worker (None in logs from before it was recorded)."""
        self._forcer = ""
        self._waiting_on: list[str] = []
        """The qids of the last ``escalation.requested`` (a cell in ``wait`` mode stops there)."""
        self._escalated: list[str] = []
        """Every qid that reached a person, in order."""

    # -- folding -----------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The last event folded."""
        return self.run.last_seq

    def add(self, ev: Event) -> None:
        if self.segments and ev.kind != "worker.started":
            self.segments[-1][1] = max(self.segments[-1][1], ev.ts)
        self.run.add(ev)
        kind, p = ev.kind, ev.payload
        if kind == "worker.started":
            self.segments.append([ev.ts, ev.ts])
            self.worker_host = p.get("host") or None
            self.trip_by_batch = False
            self._waiting_on = []
        elif kind == "breaker.override" and p.get("force_open"):
            self._forcer = str(p.get("by") or "")
        elif kind == "breaker.tripped":
            self.trip_by_batch = (p.get("policy") == "forced_open"
                                  and self._forcer.startswith("batch "))
        elif kind == "escalation.requested":
            self._waiting_on = [q["qid"] for q in p.get("questions") or []]
            self._escalated += [q for q in self._waiting_on if q not in self._escalated]
        elif kind == "question.escalated":
            self._escalated += [q for q in p.get("qids") or [] if q not in self._escalated]

    # -- reading -----------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self.run.started is not None

    @property
    def worker_pid(self) -> int | None:
        return self.run.worker_pid

    @property
    def final(self) -> Event | None:
        """The final event of the current worker, if it has one."""
        return self.run.current_final

    @property
    def tokens(self) -> int:
        return self.run.spend.tokens

    @property
    def usd(self) -> float:
        return self.run.spend.usd

    @property
    def turns(self) -> int:
        return self.run.turns

    def questions(self) -> dict[str, QuestionRecord]:
        return self.run.questions

    def pending(self) -> list[QuestionRecord]:
        """Questions waiting for a person (queued, or stopping a ``wait`` cell)."""
        return self.run.pending_questions()

    def escalated(self) -> list[QuestionRecord]:
        """The questions that reached a person, with how each was answered (if it was)."""
        qs = self.run.questions
        return [qs[q] for q in self._escalated if q in qs]

    def pending_approvals(self) -> list[dict[str, Any]]:
        return [w.request for w in self.run.pending_approvals()]

    def blocked(self) -> bool:
        """The worker is stopped at a question or an approval until a person answers."""
        if self.run.pending_approvals():
            return True
        qs = self.run.questions
        return any(qs[q].status == "escalated" for q in self._waiting_on if q in qs)

    @property
    def seconds(self) -> float:
        """Worker time, summed over its segments (a resumed cell's pauses not counted)."""
        return sum(end - start for start, end in self.segments)

    def state(self, alive: bool | None = None) -> CellState:
        """Where the cell is. ``alive``: whether its worker lives (None: ask the OS for the
        pid the log gives, which only works on this machine)."""
        run = self.run
        if run.started is None or run.worker_seq is None:
            return "queued"
        if run.current_trip is not None:
            return "interrupted" if self.trip_by_batch else "tripped"
        final = run.current_final
        if final is not None:
            p = final.payload
            if final.kind == "run.finished":
                return "done"
            if final.kind == "run.stopped":
                return "stopped" if p.get("budget") else "interrupted"
            if final.kind == "run.failed":
                return "failed"
            return "interrupted"  # run.paused
        if alive is None:
            alive = worker_alive(self)
        if not alive:
            return "interrupted"  # the worker died without a final event
        return "waiting" if self.blocked() else "running"

    @property
    def outcome(self) -> str:
        """How the discussion ended (``converged``, ``stalled``, ``max_turns``, ``stopped``,
        ...), or ``""`` while it has not."""
        final = self.run.current_final
        if final is None:
            return ""
        return str(final.payload.get("status") or final.kind.split(".", 1)[1])


def worker_alive(cell: CellFold, run_dir: Any = None) -> bool:
    """Whether the cell's current worker lives. On this machine its pid says so; on another,
    the watchdog's heartbeat file in ``run_dir`` (a workspace shared by the machines), and
    without one there is no telling: it counts as alive (what its own machine says wins)."""
    if cell.run.worker_seq is None or cell.final is not None:
        return False
    if cell.worker_host in (None, socket.gethostname()):
        return pid_alive(cell.worker_pid)
    if run_dir is None:
        return True
    from pathlib import Path

    from mapek.breaker.orphans import heartbeat_age

    age = heartbeat_age(Path(run_dir))
    return age is not None and age < HEARTBEAT_FRESH


@dataclass
class CellStatus:
    """One cell, as ``mapek batch status`` shows it."""

    key: str
    topic: str
    panel: str
    model: str
    repeat: int
    seed: int | None
    run_id: str | None
    state: CellState
    outcome: str = ""
    tokens: int = 0
    usd: float = 0.0
    turns: int = 0
    seconds: float = 0.0
    questions_waiting: int = 0


@dataclass
class BatchStatus:
    """The whole batch: its state, every cell, spend against the budget."""

    batch_id: str
    name: str
    state: str
    """``created``, ``running``, ``finished``, ``stopped`` (interrupted, or the batch breaker
    tripped: resumable), or ``died`` (the driver was killed: resumable)."""
    reason: str
    cells: list[CellStatus]
    counts: dict[str, int]
    tokens: int
    usd: float
    limits: dict[str, Any]
    """The batch limits in force (the plan's, raised by overrides)."""
    elapsed: float
    """Seconds of driver wall time so far."""
    questions_waiting: int = 0
    executor: str = "local"

    @property
    def time_left(self) -> float | None:
        limit = self.limits.get("time_limit")
        return None if limit is None else max(0.0, float(limit) - self.elapsed)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["time_left"] = self.time_left
        return out


@dataclass
class _Attempt:
    start: float
    pid: int | None
    number: int
    end: float | None = None


@dataclass
class BatchFold:
    """The batch's own events and every cell's run, folded; :meth:`refresh` reads what is new."""

    batch_id: str
    plan: BatchPlan | None = None
    source: str = ""
    executor: str = "local"
    runs: dict[str, str] = field(default_factory=dict)
    """Cell key -> run id (from ``batch.cell``)."""
    cells: dict[str, CellFold] = field(default_factory=dict)
    """Run id -> its fold."""
    attempts: list[_Attempt] = field(default_factory=list)
    raised: dict[str, float] = field(default_factory=dict)
    overrides: list[Event] = field(default_factory=list)
    trips: list[Event] = field(default_factory=list)
    answers: list[Event] = field(default_factory=list)
    errors: list[Event] = field(default_factory=list)
    closing: Event | None = None
    """The last ``batch.stopped`` or ``batch.finished``, if it closes the last attempt."""
    seq: int = 0

    def refresh(self, kb: Any, *, only: set[str] | None = None) -> None:
        """Fold new events of the batch and of its cells (``only``: just these runs; a cell
        that has ended is read again only when asked for)."""
        for ev in kb.events(self.batch_id, after=self.seq):
            self._batch(ev)
        for run in (self.runs.values() if only is None else only):
            cell = self.cells.setdefault(run, CellFold(run))
            for ev in kb.events(run, after=cell.seq):
                cell.add(ev)

    def _batch(self, ev: Event) -> None:
        self.seq = ev.seq
        p = ev.payload
        if ev.kind == "batch.started":
            self.plan = BatchPlan.model_validate(p["plan"])
            self.source = str(p.get("source") or "")
        elif ev.kind == "batch.driver":
            self.executor = str(p.get("executor") or "local")
            self.attempts.append(_Attempt(ev.ts, _int(p.get("pid")), len(self.attempts) + 1))
            self.closing = None
        elif ev.kind == "batch.cell":
            self.runs[str(p["cell"])] = str(p["run"])
            self.cells.setdefault(str(p["run"]), CellFold(str(p["run"])))
        elif ev.kind == "batch.override":
            self.overrides.append(ev)
            for k, v in (p.get("raise") or {}).items():
                self.raised[k] = v
        elif ev.kind == "batch.tripped":
            self.trips.append(ev)
        elif ev.kind == "batch.answer":
            self.answers.append(ev)
        elif ev.kind == "batch.error":
            self.errors.append(ev)
        elif ev.kind in ("batch.stopped", "batch.finished"):
            self.closing = ev
            if self.attempts and self.attempts[-1].end is None:
                self.attempts[-1].end = ev.ts

    # -- reading -----------------------------------------------------------------------------

    @property
    def attempt(self) -> int:
        return len(self.attempts)

    def limits(self) -> dict[str, Any]:
        """The batch limits in force: the plan's, with every override laid over."""
        assert self.plan is not None
        out: dict[str, Any] = self.plan.limits.model_dump()
        names = {"usd": "max_usd", "tokens": "max_tokens", "time": "time_limit"}
        for k, v in self.raised.items():
            out[names.get(k, k)] = v
        return out

    def spend(self) -> tuple[int, float]:
        """Tokens and USD over every cell."""
        return (sum(c.tokens for c in self.cells.values()),
                sum(c.usd for c in self.cells.values()))

    def elapsed(self, now: float | None = None) -> float:
        """Seconds of driver wall time: every closed attempt, the open one until ``now``, and
        for a driver killed without closing its attempt, until the last thing its cells wrote
        before the next attempt began."""
        import time as _time

        total = 0.0
        for i, a in enumerate(self.attempts):
            bound = self.attempts[i + 1].start if i + 1 < len(self.attempts) else None
            if a.end is not None:
                total += a.end - a.start
            elif bound is None and pid_alive(a.pid):
                total += (now if now is not None else _time.time()) - a.start
            else:
                ends = [seg[1] if bound is None else min(seg[1], bound)
                        for c in self.cells.values() for seg in c.segments
                        if bound is None or seg[0] < bound]
                total += max([a.start, *ends]) - a.start
        return total

    def driver_alive(self) -> bool:
        """The driver of the last attempt still runs (and has not closed it)."""
        if not self.attempts or self.closing is not None:
            return False
        pid = self.attempts[-1].pid
        return pid is not None and pid != os.getpid() and pid_alive(pid)

    def cell_state(self, cell: Cell, alive: dict[str, bool] | None = None) -> CellState:
        run = self.runs.get(cell.key)
        if run is None:
            return "queued"
        live = None if alive is None else alive.get(run, False)
        return self.cells[run].state(live)

    def status(self, alive: dict[str, bool] | None = None,
               now: float | None = None) -> BatchStatus:
        """A snapshot. ``alive``: run id -> whether its worker lives, as the executor knows
        it (None: ask the OS for each cell's worker pid)."""
        assert self.plan is not None
        rows: list[CellStatus] = []
        for cell in self.plan.cells():
            run = self.runs.get(cell.key)
            f = self.cells.get(run) if run else None
            state = self.cell_state(cell, alive)
            rows.append(CellStatus(
                key=cell.key, topic=cell.topic.id, panel=cell.panel, model=cell.model,
                repeat=cell.repeat, seed=cell.seed, run_id=run, state=state,
                outcome=f.outcome if f else "", tokens=f.tokens if f else 0,
                usd=round(f.usd, 6) if f else 0.0, turns=f.turns if f else 0,
                seconds=round(f.seconds, 2) if f else 0.0,
                questions_waiting=len(f.pending()) if f else 0))
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.state] = counts.get(r.state, 0) + 1
        tokens, usd = self.spend()
        whole, reason = self._state()
        return BatchStatus(
            batch_id=self.batch_id, name=self.plan.name, state=whole, reason=reason,
            cells=rows, counts=counts, tokens=tokens, usd=round(usd, 6), limits=self.limits(),
            elapsed=round(self.elapsed(now), 2),
            questions_waiting=sum(r.questions_waiting for r in rows), executor=self.executor)

    def _state(self) -> tuple[str, str]:
        if not self.attempts:
            return "created", ""
        if self.closing is not None:
            p = self.closing.payload
            if self.closing.kind == "batch.finished":
                return "finished", str(p.get("text") or "")
            return "stopped", str(p.get("text") or p.get("reason") or "")
        pid = self.attempts[-1].pid
        if pid is not None and pid_alive(pid):
            return "running", f"driver pid {pid}"
        return "died", "the driver stopped without closing the batch: resume it"


def _int(v: Any) -> int | None:
    try:
        return int(v) if v is not None else None
    except (TypeError, ValueError):
        return None
