"""Warm workers: a worker process started before it is needed, and kept between steps.

A worker's imports (LangGraph and what it pulls in) take most of a second or more; a front end
pays them while it is doing its own work by starting ``python -m mapek.loop.worker --serve``
early (:func:`prewarm`, called by ``mapek discuss`` before it imports the API, and by
``Session.create``). That process imports what a worker needs and then waits for one line on
its standard input: the run to work on (:func:`hand_over`). From then on it is that run's
worker like any other, in its own process and its own session, stopped by its watchdog with
SIGTERM and SIGKILL as before. After ``--rounds`` rounds it records ``run.paused`` and waits for
the next line (``{"rounds": N}``: ``Session.step`` again) instead of exiting; the end of its
standard input (the front end closed it, or died) ends it.

This module is light (no mapek imports beyond the standard library): the CLI calls it first.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
from typing import Any

__all__ = ["prewarm", "take_warm", "spawn_serving", "hand_over", "send_rounds", "release",
           "WARM_ENV"]

WARM_ENV = "MAPEK_WARM_WORKER"
"""Set to ``0`` to start no worker ahead of time (a worker is still started on demand)."""

_slot: subprocess.Popen[bytes] | None = None
_slot_lock = threading.Lock()


def spawn_serving() -> subprocess.Popen[bytes]:
    """A worker process waiting for its run on standard input (``--serve``), in its own
    session (a Ctrl-C at the terminal reaches the front end only)."""
    return subprocess.Popen([sys.executable, "-m", "mapek.loop.worker", "--serve"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def prewarm() -> None:
    """Start a waiting worker for this process's next session, unless one waits already (or
    ``MAPEK_WARM_WORKER=0``)."""
    global _slot
    if os.environ.get(WARM_ENV, "1").strip() == "0":
        return
    with _slot_lock:
        if _slot is not None and _slot.poll() is None:
            return
        _slot = spawn_serving()


def take_warm() -> subprocess.Popen[bytes] | None:
    """The waiting worker, if one is alive (the slot is emptied)."""
    global _slot
    with _slot_lock:
        proc, _slot = _slot, None
    if proc is not None and proc.poll() is not None:
        return None
    return proc


def hand_over(proc: subprocess.Popen[bytes], *, run_id: str, home: str, rounds: int | None,
              watched: bool, log: str, env: dict[str, str] | None = None) -> bool:
    """Give a waiting worker its run, and the environment it runs in (default: this
    process's); False when it is gone (the caller starts another)."""
    order: dict[str, Any] = {"run_id": run_id, "home": home, "rounds": rounds,
                             "watched": watched, "log": log, "cwd": os.getcwd(),
                             "env": dict(os.environ) if env is None else env}
    return _send(proc, order)


def send_rounds(proc: subprocess.Popen[bytes], rounds: int | None) -> bool:
    """Ask a paused worker for ``rounds`` more rounds (None: to the end)."""
    return _send(proc, {"rounds": rounds})


def _send(proc: subprocess.Popen[bytes], order: dict[str, Any]) -> bool:
    if proc.poll() is not None or proc.stdin is None:
        return False
    try:
        proc.stdin.write(json.dumps(order).encode() + b"\n")
        proc.stdin.flush()
    except (BrokenPipeError, OSError, ValueError):
        return False
    return True


def release(proc: subprocess.Popen[bytes]) -> None:
    """End a waiting worker in order: the end of its input (paused, resumable); killed if it
    does not go within 5 s."""
    if proc.stdin is not None:
        try:
            proc.stdin.close()  # it exits on the end of its input
        except OSError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _close_slot() -> None:
    proc = take_warm()
    if proc is not None:
        release(proc)


atexit.register(_close_slot)
