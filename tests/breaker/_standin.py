"""A stand-in worker: writes events into a run like a worker would, cheaply, then misbehaves.

``python tests/breaker/_standin.py HOME RUN MODE [N]``. Modes: ``breach`` (N events, then an
``llm.call`` over any token budget, then wait; ``breach-watched`` waits for the watchdog
first), ``hang`` (write nothing more), ``ignore-term`` (ignore SIGTERM and block in a sync
call), ``guarded`` (install the WorkerGuard and wait for SIGTERM, printing what happened),
``watched`` (model calls through the dead man's switch).
"""

from __future__ import annotations

import os
import signal
import sys
import time

from mapek.knowledge.sqlite_log import SQLiteEventLog
from mapek.models import EventDraft


def main() -> int:
    home, run, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    log = SQLiteEventLog(os.path.join(home, "log.sqlite3"))

    def rec(kind: str, **payload: object) -> None:
        log.append(EventDraft(run_id=run, kind=kind, actor="worker", payload=payload))

    if mode in ("guarded", "watched"):
        from pathlib import Path

        from mapek.breaker.guard import WorkerGuard, WorkerStopped

        class KB:
            pass

        kb = KB()
        kb.log = log  # type: ignore[attr-defined]
        guard = WorkerGuard(Path(home) / "runs" / run / "watchdog.heartbeat",
                            on_pause=lambda k, p: rec(k, **p)).install()
        guard.guard_kb(kb)
        try:
            rec("worker.started", pid=os.getpid())
            print("ready", flush=True)
            while True:
                if mode == "watched":
                    guard.before_call("model")
                    rec("llm.call", prompt_tokens=1, completion_tokens=1, outcome="ok",
                        latency_ms=1.0)
                    print("call", time.time(), flush=True)
                time.sleep(0.05)
        except WorkerStopped:
            print("stopped", flush=True)
            return 143
    rec("worker.started", pid=os.getpid())
    for i in range(n):
        rec("message", text=f"turn {i}")
    if mode == "ignore-term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ready", flush=True)
        r, _ = os.pipe()
        os.read(r, 1)  # blocks for ever in one system call
    print("ready", flush=True)
    if mode == "breach-watched":  # wait for the watchdog's first heartbeat, then breach
        hb = os.path.join(home, "runs", run, "watchdog.heartbeat")
        while not os.path.exists(hb):
            time.sleep(0.005)
        time.sleep(0.05)
    if mode in ("breach", "breach-watched"):
        rec("llm.call", prompt_tokens=10**9, completion_tokens=0, outcome="ok", latency_ms=1.0)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
