"""What runs a batch's cells: the :class:`Executor` seam and the local pool.

A cell is one session; its graph already runs in a worker process of its own, guarded by a
watchdog process. An executor's job is only to keep each submitted cell's worker going until
it ends (start it, resume it from its checkpoint, or follow one already running) and to say
when it has; how the cell ended is read from the log, never from the executor.

:func:`run_cell` is that job for one cell, as a plain function of plain data
(:class:`CellJob`), so an executor for other machines can ship it as it is; :func:`drive_cell`
is the same, safe to call again for a job whose process was lost (the Ray executor,
:mod:`mapek.batch.ray_executor`, runs it as a Ray task, so Ray's retries resume a lost node's
cells elsewhere from their checkpoints). :class:`LocalExecutor` runs each job in a
thread of the driver (the thread only follows the log; the work is in the cell's processes).
"""

from __future__ import annotations

import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from mapek.api import Session

__all__ = ["Action", "CellDone", "CellJob", "Executor", "LocalExecutor", "InboxChannel", "run_cell",
           "drive_cell", "EXECUTORS", "make_executor"]


Action = Literal["start", "resume", "follow"]


@dataclass(frozen=True)
class CellJob:
    """One cell to run: plain data, to travel to wherever the cell runs."""

    run_id: str
    home: str
    """The workspace folder (its log, checkpoints and runs)."""
    action: Action
    """``start`` a created session, ``resume`` an interrupted one from its checkpoint, or
    ``follow`` a worker that is already running (its driver was killed)."""
    wait: bool = False
    """The plan's ``questions: wait``: the cell stops at a question until it is answered."""
    since: int | None = None
    """The run's last event when the job was submitted: a ``worker.started`` after it was
    written by an earlier attempt of this job (see :func:`drive_cell`)."""


@dataclass(frozen=True)
class CellDone:
    """A job that ended: the run's status as its session saw it, or the error that ended it."""

    run_id: str
    status: str
    error: str | None = None


def _inbox_channel() -> Any:
    from mapek.loop.human import Approvals, HumanChannel

    class _Inbox(HumanChannel):
        """An interactive session's channel that asks nobody: the worker waits for the answer
        in the log, where the batch inbox writes it (``mapek batch answer``)."""

        mode = "interactive"

        def ask(self, questions: Any) -> dict[str, str | None]:
            return {}

        def approve(self, requests: Any) -> Approvals:
            return {}  # approvals too wait in the log (``mapek approve RUN CALL``)

    return _Inbox()


InboxChannel = _inbox_channel
"""The human channel of a ``wait`` cell (a factory: the class lives in the loop package)."""


def run_cell(job: CellJob, *, register: Callable[[Session], None] | None = None,
             cancelled: Callable[[], bool] | None = None) -> str:
    """Run one cell's session to its end here and return its status. ``register`` receives
    the session before its worker starts (so it can be stopped); ``cancelled`` is asked once
    more just before, so a stop that came first leaves the cell as it was."""
    from mapek.api import Session

    channel = _inbox_channel() if job.wait else None
    with Session.attach(job.run_id, home=job.home, channel=channel) as s:
        if register is not None:
            register(s)
        if cancelled is not None and cancelled():
            return s.result().status
        if job.action == "follow":
            while s.is_running():
                time.sleep(0.25)
            return s.result().status
        res = s.resume() if job.action == "resume" else s.run()
        return res.status


def drive_cell(job: CellJob, *, register: Callable[[Session], None] | None = None,
               poll: float = 0.25, interrupted: str | None = None) -> str:
    """:func:`run_cell`, safe to call again for the same job, as a retried task does after
    the process (or the machine) running it was lost: the log says how far the earlier attempts
    got. None started a worker: the job runs as asked. One did: a worker that still lives is
    followed to its end; a cell that has ended is left as it is; one whose worker died with
    the attempt resumes from its last checkpoint. So a cell finishes once, and the events its
    worker wrote before are not written again (they carry idempotency keys besides).

    ``interrupted``: a ``KeyboardInterrupt`` (what ``ray.cancel`` raises in a task) stops the
    cell's worker in order, recording this reason, and the cell's status is returned."""
    from mapek.api import Session

    if job.since is None and interrupted is None:
        return run_cell(job, register=register)
    channel = _inbox_channel() if job.wait else None
    with Session.attach(job.run_id, home=job.home, channel=channel) as s:
        if register is not None:
            register(s)
        try:
            return _drive(s, job, poll)
        except KeyboardInterrupt:
            if interrupted is None:
                raise
            _stop_in_order(s, interrupted)
            return s.result().status


def _drive(s: Session, job: CellJob, poll: float) -> str:
    """:func:`drive_cell`'s work, on the cell's open session."""
    from mapek.batch.state import CellFold, pid_alive, worker_alive

    action: str = job.action
    if job.since is not None and s.kb.events(job.run_id, after=job.since,
                                             kinds=["worker.started"], limit=1):
        action = "again"
    if action in ("follow", "again"):
        fold = CellFold(job.run_id)
        run_dir = s.workspace.run_dir(job.run_id)
        while True:
            for ev in s.kb.events(job.run_id, after=fold.seq):
                fold.add(ev)
            if not worker_alive(fold, run_dir):
                break
            time.sleep(poll)
        state = fold.state(alive=False)
        if action == "follow" or state != "interrupted" or fold.trip_by_batch:
            return s.result().status
        # The worker died with the earlier attempt. Its pid is gone once its new parent
        # has reaped it; until then the session would take the zombie for a live worker.
        deadline = time.monotonic() + 30
        while fold.worker_host in (None, socket.gethostname()) \
                and _pid_exists(fold.worker_pid) and not pid_alive(fold.worker_pid) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        action = "resume"
    res = s.resume() if action == "resume" else s.run()
    return res.status


def _stop_in_order(s: Session, reason: str) -> None:
    """Stop the cell's worker, keeping its state: the one this session started (SIGTERM, and
    reaped), one on this machine it follows (SIGTERM), or one on another machine (its breaker
    forced open, as the batch breaker does: its watchdog stops it there)."""
    from mapek.batch.state import CellFold, worker_alive

    if s.owns_worker:
        s.stop(reason)
        return
    fold = CellFold(s.run_id)
    for ev in s.kb.events(s.run_id):
        fold.add(ev)
    if not worker_alive(fold, s.workspace.run_dir(s.run_id)):
        return
    if fold.worker_host in (None, socket.gethostname()):
        _stop_foreign(s, reason)
    else:
        from mapek.breaker.review import record_override

        record_override(s.kb, s.run_id, force_open=True, by="batch driver", reason=reason)


def _pid_exists(pid: int | None) -> bool:
    import os

    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


class Executor(ABC):
    """Runs cells; the driver submits them, at most ``concurrency`` at once, and reaps them."""

    name: ClassVar[str] = "executor"

    @abstractmethod
    def submit(self, job: CellJob) -> None:
        """Start running a cell (returns at once)."""

    @abstractmethod
    def active(self) -> set[str]:
        """The run ids of the cells submitted and not yet reaped."""

    @abstractmethod
    def reap(self) -> list[CellDone]:
        """The cells whose job ended since the last call."""

    @abstractmethod
    def stop(self, run_id: str, reason: str) -> None:
        """Stop one cell gracefully; it keeps its state and can be resumed."""

    def stop_all(self, reason: str) -> None:
        """Stop every active cell gracefully and wait for their jobs to end."""
        for run_id in sorted(self.active()):
            self.stop(run_id, reason)

    @abstractmethod
    def close(self) -> None:
        """Release what the executor holds (after :meth:`stop_all` or when every job ended)."""


class LocalExecutor(Executor):
    """Cells on this machine: each job in a thread that starts the cell's worker and
    watchdog processes and follows the log until the cell ends."""

    name = "local"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self._sessions: dict[str, Session] = {}
        self._jobs: dict[str, CellJob] = {}
        self._done: list[CellDone] = []
        self._cancelled: set[str] = set()

    def submit(self, job: CellJob) -> None:
        with self._lock:
            if job.run_id in self._threads:
                raise RuntimeError(f"cell {job.run_id} is already running here")
            self._jobs[job.run_id] = job
            t = threading.Thread(target=self._work, args=(job,), name=f"cell-{job.run_id}",
                                 daemon=True)
            self._threads[job.run_id] = t
        t.start()

    def _work(self, job: CellJob) -> None:
        def register(s: Session) -> None:
            with self._lock:
                self._sessions[job.run_id] = s

        try:
            status = run_cell(job, register=register,
                              cancelled=lambda: job.run_id in self._cancelled)
            done = CellDone(job.run_id, status)
        except Exception as exc:  # noqa: BLE001 - reported to the driver, which reads the log
            done = CellDone(job.run_id, "error", f"{type(exc).__name__}: {exc}")
        with self._lock:
            self._sessions.pop(job.run_id, None)
            self._done.append(done)

    def active(self) -> set[str]:
        with self._lock:
            return set(self._threads)

    def reap(self) -> list[CellDone]:
        with self._lock:
            out, self._done = self._done, []
            for d in out:
                t = self._threads.pop(d.run_id, None)
                self._jobs.pop(d.run_id, None)
                if t is not None:
                    t.join(timeout=5)
        return out

    def stop(self, run_id: str, reason: str) -> None:
        self._cancelled.add(run_id)
        with self._lock:
            t = self._threads.get(run_id)
            job = self._jobs.get(run_id)
        if t is None or job is None:
            return
        # A job that saw the cancel before starting ends by itself; one already past that
        # point starts its worker in a moment: wait for it, then stop it.
        deadline = time.monotonic() + 30
        s = None
        while time.monotonic() < deadline and t.is_alive():
            with self._lock:
                s = self._sessions.get(run_id)
            if s is not None and s.is_running():
                break
            time.sleep(0.05)
        if s is None or not t.is_alive():
            return
        if job.action == "follow":
            _stop_foreign(s, reason)
        else:
            s.stop(reason)
        t.join(timeout=60)

    def stop_all(self, reason: str) -> None:
        threads = [threading.Thread(target=self.stop, args=(r, reason), daemon=True)
                   for r in sorted(self.active())]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)

    def close(self) -> None:
        with self._lock:
            threads = list(self._threads.values())
        for t in threads:
            t.join(timeout=5)


def _stop_foreign(s: Session, reason: str) -> None:
    """Stop a worker this process did not start (a killed driver's): SIGTERM it (a watched
    worker stops gracefully), then record the stop as :meth:`Session.stop` does."""
    from mapek.batch.state import CellFold
    from mapek.breaker.watchdog import stop_process

    fold = CellFold(s.run_id)
    for ev in s.kb.events(s.run_id, kinds=["worker.started"]):
        fold.add(ev)
    if fold.worker_pid and stop_process(fold.worker_pid, 5.0) != "gone":
        s.kb.record(s.run_id, "run.stopped", "human", {"reason": reason})


def _local(ray_address: str | None = None) -> Executor:
    if ray_address:
        from mapek.errors import ConfigError

        raise ConfigError("--ray-address is for --executor ray")
    return LocalExecutor()


EXECUTORS: dict[str, Callable[..., Executor] | str] = {
    "local": _local, "ray": "mapek.batch.ray_executor:RayExecutor"}
"""Executors by name (``mapek batch run --executor NAME``): factories, or import strings of
them (the Ray executor's module builds on this one), called with no arguments, or with the Ray
address when one is given."""


def make_executor(name: str, *, ray_address: str | None = None) -> Executor:
    """The executor called ``name``, ready to run cells (Ray: connected, or started here)."""
    from mapek.errors import ConfigError

    factory = EXECUTORS.get(name)
    if factory is None:
        raise ConfigError(f"unknown executor {name!r} (executors: {', '.join(EXECUTORS)})")
    if isinstance(factory, str):
        from mapek._imports import import_object

        factory = import_object(factory, what=f"executor {name!r}")
    made: Executor = factory() if ray_address is None else factory(ray_address)
    return made
