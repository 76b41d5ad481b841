"""The worker's side of the breaker: a graceful stop on SIGTERM, and the dead man's switch.

:class:`WorkerGuard` is installed by the worker when a watchdog guards it (``--watched``):

- SIGTERM sets a flag and raises :class:`WorkerStopped` in the main thread at once, unless the
  main thread is inside a log append or a checkpoint write: then that write finishes first and
  the exception is raised as it returns. The last round's checkpoint written stands
  (:mod:`mapek.loop.rounds`) and ``mapek resume`` continues from it, replaying from the log
  what came after. Once the flag is
  set, every further log append (from any thread) raises instead of writing: after a trip the
  worker records nothing, it only exits.
- Before every model call and tool call, :meth:`WorkerGuard.before_call` checks the watchdog's
  heartbeat file. If it is older than ``stale`` seconds the worker pauses (recording
  ``worker.unwatched`` once the pause passes a second) until a watchdog beats again: it never
  runs unwatched. Whoever started the worker starts a new watchdog when the old one exits; if
  nobody has after ``respawn_after`` seconds (the front end died too), the worker starts one for
  itself (``watchdog.respawned``; threads paused together start one, and at most one every
  ``respawn_after`` seconds) with :func:`spawn_watchdog`: the watchdog's lock lets only one of
  several started at once guard the run. A worker left paused anyway
  shows as ``paused: no watchdog`` (:mod:`mapek.breaker.orphans`) and ``mapek resume`` takes
  it over.

:class:`WorkerStopped` derives from ``BaseException`` like ``KeyboardInterrupt``, so the
``except Exception`` around a tool or a node cannot swallow the stop.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mapek.errors import WorkerStopped

__all__ = ["WorkerGuard", "WorkerStopped", "GuardedGateway", "STALE_AFTER", "spawn_watchdog"]

STALE_AFTER = 1.0
"""Seconds without a heartbeat after which the watchdog is taken for dead."""


def spawn_watchdog(run_id: str, pid: int, home: Path, run_dir: Path) -> subprocess.Popen[bytes]:
    """Start ``python -m mapek.breaker.watchdog RUN --pid PID --home HOME`` in its own session
    (a trip's kill of the worker's process group spares it), writing to the run's
    ``watchdog.log``."""
    from mapek.private import open_private

    with open_private(run_dir / "watchdog.log") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "mapek.breaker.watchdog", run_id, "--pid", str(pid),
             "--home", str(home)], stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)


class WorkerGuard:
    def __init__(self, heartbeat: Path, *, stale: float = STALE_AFTER,
                 on_pause: Callable[[str, dict[str, Any]], Any] | None = None,
                 respawn: Callable[[], subprocess.Popen[bytes]] | None = None,
                 respawn_after: float = 0.0) -> None:
        self.heartbeat = heartbeat
        self.stale = stale
        self.on_pause = on_pause
        """Called as ``on_pause(kind, payload)`` to record ``worker.unwatched`` / ``watched``
        and ``watchdog.respawned``."""
        self.respawn, self.respawn_after = respawn, respawn_after
        """Starts a watchdog for this worker, after ``respawn_after`` seconds of a pause (0 or
        no ``respawn``: never)."""
        self._child: subprocess.Popen[bytes] | None = None
        self._spawn_lock = threading.Lock()  # threads paused together start one watchdog
        self._spawned_at = float("-inf")
        self.stopping = threading.Event()
        self._main_writing = 0
        self._main = threading.main_thread()

    # -- SIGTERM ---------------------------------------------------------------------------

    def install(self) -> WorkerGuard:
        signal.signal(signal.SIGTERM, self._on_term)
        return self

    def _on_term(self, signum: int, frame: Any) -> None:
        self.stopping.set()
        if not self._main_writing:
            raise WorkerStopped("SIGTERM")

    def wrap_write(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` (a log append, a checkpoint put) made atomic with respect to SIGTERM and
        refused once the worker is stopping."""

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self.stopping.is_set():
                raise WorkerStopped("stopping: no more writes")
            main = threading.current_thread() is self._main
            if main:
                self._main_writing += 1
            try:
                return fn(*args, **kwargs)
            finally:
                if main:
                    self._main_writing -= 1
                    if self.stopping.is_set() and not self._main_writing:
                        raise WorkerStopped("SIGTERM")  # deferred until the write finished

        return guarded

    def guard_kb(self, kb: Any) -> None:
        """Route every append of ``kb``'s log through :meth:`wrap_write`."""
        kb.log.append_many = self.wrap_write(kb.log.append_many)

    def guard_saver(self, saver: Any) -> Any:
        for name in ("put", "put_writes"):
            setattr(saver, name, self.wrap_write(getattr(saver, name)))
        return saver

    # -- the dead man's switch -------------------------------------------------------------

    def watched(self) -> bool:
        try:
            return time.time() - os.stat(self.heartbeat).st_mtime <= self.stale
        except FileNotFoundError:
            return False

    def before_call(self, what: str = "call") -> None:
        """Return when a watchdog is alive; raise :class:`WorkerStopped` if stopping."""
        if self.stopping.is_set():
            raise WorkerStopped("stopping")
        if self.watched():
            return
        t0, told = time.monotonic(), False
        while not self.watched():
            if self.stopping.is_set():
                raise WorkerStopped("stopping")
            paused = time.monotonic() - t0
            if not told and paused > 1.0 and self.on_pause is not None:
                told = True
                self.on_pause("worker.unwatched", {"before": what, "heartbeat": str(
                    self.heartbeat), "text": "no watchdog heartbeat: paused until one is back"})
            if self.respawn is not None and 0 < self.respawn_after < paused:
                self._spawn(paused)
            time.sleep(0.05)
        if told and self.on_pause is not None:
            self.on_pause("worker.watched", {"paused_s": round(time.monotonic() - t0, 2)})

    def _spawn(self, paused: float) -> None:
        """Start a watchdog for this worker, unless it started one less than ``respawn_after``
        seconds ago or that one still runs (reaping it when it has exited)."""
        assert self.respawn is not None
        with self._spawn_lock:
            if time.monotonic() - self._spawned_at < self.respawn_after or (
                    self._child is not None and self._child.poll() is None):
                return
            self._spawned_at = time.monotonic()
            try:
                self._child = self.respawn()
            except OSError as exc:
                detail: dict[str, Any] = {"error": str(exc)}
            else:
                detail = {"pid": self._child.pid}
        if self.on_pause is not None:
            self.on_pause("watchdog.respawned", {
                **detail, "by": "worker", "paused_s": round(paused, 2),
                "text": f"no watchdog for {paused:.0f} s: the worker started one itself"})

    def wrap_tools(self, registry: Any) -> Any:
        """The same registry, each tool's function checking :meth:`before_call` first."""
        for name, t in list(registry.tools.items()):
            fn = t.fn

            @functools.wraps(fn)  # keeps the signature: the tool's argument schema, its key
            def checked(*a: Any, _fn: Any = fn, _n: str = name, **k: Any) -> Any:
                self.before_call(f"tool {_n}")
                return _fn(*a, **k)

            registry.tools[name] = dataclasses.replace(t, fn=checked)
        return registry


class GuardedGateway:
    """A model gateway that checks the guard before each call (``using`` keeps the check)."""

    def __init__(self, gateway: Any, guard: WorkerGuard) -> None:
        self._gw, self._guard = gateway, guard

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gw, name)

    def using(self, *args: Any, **kwargs: Any) -> GuardedGateway:
        return GuardedGateway(self._gw.using(*args, **kwargs), self._guard)

    def structured(self, *args: Any, **kwargs: Any) -> Any:
        self._guard.before_call(f"model {kwargs.get('task', '')}".strip())
        return self._gw.structured(*args, **kwargs)

    def complete(self, *args: Any, **kwargs: Any) -> Any:
        self._guard.before_call("model")
        return self._gw.complete(*args, **kwargs)

    async def astructured(self, *args: Any, **kwargs: Any) -> Any:
        self._guard.before_call("model")
        return await self._gw.astructured(*args, **kwargs)

    async def acomplete(self, *args: Any, **kwargs: Any) -> Any:
        self._guard.before_call("model")
        return await self._gw.acomplete(*args, **kwargs)
