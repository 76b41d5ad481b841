"""The test rig: one workspace with one run, a stand-in worker and the watchdog as processes."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mapek.knowledge.sqlite_log import SQLiteEventLog
from mapek.models import Event, EventDraft

STANDIN = Path(__file__).with_name("_standin.py")


class Rig:
    """One workspace with one run, and the processes a test starts in it."""

    def __init__(self, home: Path) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.log = SQLiteEventLog(home / "log.sqlite3")
        self.run = "r1"
        self.procs: list[subprocess.Popen[str]] = []

    def start_run(self, config: dict[str, Any] | None = None, **breaker: Any) -> None:
        self.log.append(EventDraft(run_id=self.run, kind="run.started", actor="human",
                                   payload={"config": config or {}, "breaker": breaker}))

    def policy(self, text: str) -> Path:
        path = self.home / "policy.yaml"
        path.write_text(text)
        return path

    def worker(self, mode: str, n: int = 0) -> subprocess.Popen[str]:
        p = subprocess.Popen([sys.executable, str(STANDIN), str(self.home), self.run, mode,
                              str(n)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
        self.procs.append(p)
        return p

    def watchdog(self, pid: int, *extra: str) -> subprocess.Popen[str]:
        p = subprocess.Popen([sys.executable, "-m", "mapek.breaker.watchdog", self.run,
                              "--pid", str(pid), "--home", str(self.home), *extra],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def events(self, kind: str | None = None) -> list[Event]:
        return self.log.events(self.run, kinds=[kind] if kind else None)

    def wait_for(self, cond: Callable[[], Any], timeout: float = 10.0) -> Any:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            got = cond()
            if got:
                return got
            time.sleep(0.02)
        raise AssertionError("timed out waiting")

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            for f in (p.stdout, p.stderr):
                if f is not None:
                    f.close()
        self.log.close()
