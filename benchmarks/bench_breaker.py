"""Breaker figures: trip latency, stopping a worker that ignores SIGTERM, watchdog CPU.

    python benchmarks/bench_breaker.py [--trips 120] [--events 10000] [--out FILE]

1. Trip latency: a stand-in worker (``tests/breaker/_standin.py``) waits for its watchdog's first
   heartbeat, then commits an ``llm.call`` over the token budget. Latency runs from that event's
   ``ts`` (taken inside the appending transaction, just before its commit) to the moment this
   process, the worker's parent, reaps it (``Popen.wait`` returns when the process is gone).
2. A worker blocked in ``os.read`` on a pipe with SIGTERM ignored: from the breach to gone,
   against the grace period (default 2 s) + 1 s.
3. Watchdog CPU: user+system CPU seconds of the watchdog process (``/proc/PID/stat``) while
   10,000 events are appended to its run, and while idle.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mapek.knowledge.sqlite_log import SQLiteEventLog  # noqa: E402
from mapek.models import EventDraft  # noqa: E402

STANDIN = REPO / "tests" / "breaker" / "_standin.py"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(home: Path, run: str, mode: str,
          *extra: str) -> tuple[subprocess.Popen, subprocess.Popen]:
    w = subprocess.Popen([sys.executable, str(STANDIN), str(home), run, mode, "3"],
                         stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert w.stdout is not None and w.stdout.readline() == "ready\n"  # signals set up
    d = subprocess.Popen([sys.executable, "-m", "mapek.breaker.watchdog", run, "--pid",
                          str(w.pid), "--home", str(home), *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return w, d


def trip_latency(home: Path, log: SQLiteEventLog, n: int) -> list[float]:
    out = []
    for i in range(n):
        run = f"trip-{i}"
        log.append(EventDraft(run_id=run, kind="run.started",
                              payload={"config": {"max_tokens": 100}}))
        w, d = start(home, run, "breach-watched")
        w.wait()
        gone = time.time()
        d.wait()
        breach = log.events(run, kinds=["llm.call"])[-1]
        out.append((gone - breach.ts) * 1000)
    return out


def blocked(home: Path, log: SQLiteEventLog, n: int) -> list[float]:
    out = []
    for i in range(n):
        run = f"blocked-{i}"
        log.append(EventDraft(run_id=run, kind="run.started",
                              payload={"config": {"max_tokens": 1}}))
        w, d = start(home, run, "ignore-term")
        hb = home / "runs" / run / "watchdog.heartbeat"
        while not hb.exists():
            time.sleep(0.005)
        ev = log.append(EventDraft(run_id=run, kind="llm.call", payload={"prompt_tokens": 5}))
        w.wait()
        out.append(time.time() - ev.ts)
        d.wait()
    return out


def cpu(home: Path, log: SQLiteEventLog, events: int) -> dict[str, float]:
    run = "cpu"
    log.append(EventDraft(run_id=run, kind="run.started", payload={"config": {}}))
    pol = home / "no-limits.yaml"  # nothing may trip: measure following alone
    pol.write_text("extends: default\nmax_turns: null\nmax_tokens: null\n")
    w, d = start(home, run, "hang", "--policy", str(pol))
    hb = home / "runs" / run / "watchdog.heartbeat"
    while not hb.exists():
        time.sleep(0.01)
    time.sleep(1.0)
    c0, t0 = cpu_seconds(d.pid), time.time()
    time.sleep(5.0)
    idle = (cpu_seconds(d.pid) - c0) / (time.time() - t0)
    kinds = ["llm.call", "message", "observer.analysis", "tool.call", "plan"]
    c0, t0 = cpu_seconds(d.pid), time.time()
    for i in range(0, events, 50):  # a busy run: 50 events a transaction
        log.append_many(EventDraft(run_id=run, kind=kinds[j % 5], actor="cfo",
                                   payload={"text": f"turn {j}", "prompt_tokens": 10,
                                            "completion_tokens": 5, "outcome": "ok",
                                            "latency_ms": 3.0, "tool": "kb_search",
                                            "args": {"q": j}, "new_claims": [j]})
                        for j in range(i, i + 50))
    write_s = time.time() - t0
    time.sleep(1.0)  # let it catch up
    used = cpu_seconds(d.pid) - c0 - idle * (time.time() - t0)
    alive = d.poll() is None
    d.terminate()
    w.kill()
    d.wait()
    w.wait()
    return {"events": events, "cpu_s": used, "per_1k_ms": used / events * 1e6,
            "idle_pct": idle * 100, "write_s": write_s, "alive": alive}


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trips", type=int, default=120)
    ap.add_argument("--blocked", type=int, default=5)
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "ws"
        home.mkdir()
        log = SQLiteEventLog(home / "log.sqlite3")
        lat = trip_latency(home, log, a.trips)
        blk = blocked(home, log, a.blocked)
        c = cpu(home, log, a.events)
        log.close()
    lines = [
        f"machine: {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        f"trip latency over {len(lat)} trips (ms): p50 {pct(lat, 50):.1f}, p90 {pct(lat, 90):.1f}"
        f", p99 {pct(lat, 99):.1f}, max {max(lat):.1f}, mean {statistics.mean(lat):.1f}",
        f"blocked worker ignoring SIGTERM, grace 2 s ({len(blk)} runs, s): "
        f"min {min(blk):.2f}, max {max(blk):.2f} (target <= 3.00)",
        f"watchdog CPU following {c['events']:,} events: {c['cpu_s']:.2f} s "
        f"({c['per_1k_ms']:.0f} ms per 1,000 events; written in {c['write_s']:.1f} s); "
        f"idle {c['idle_pct']:.2f}% of a core; watchdog still alive: {c['alive']}",
    ]
    text = "\n".join(lines)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
