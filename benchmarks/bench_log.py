"""Benchmark the event log (``mapek.knowledge``): hash-chained appends, one writer.

Method: a fresh SQLite log (WAL, synchronous=NORMAL) in a temporary folder on the same disk as
the repository; events carry a realistic small payload (a sentence and a few numbers). Each
figure is the median of ``--repeat`` rounds of ``-n`` events, timed with ``time.perf_counter``:

* ``append`` in a loop: one transaction per event (BEGIN IMMEDIATE, read the run's head, hash,
  insert, commit); drafts built beforehand. Anchored: the same, plus after each commit one
  HMAC-signed line in the workspace's ``anchors.jsonl`` (``mapek.knowledge.anchor``), as every
  process that opens a workspace's log does; and its verify, which also checks the anchors.
* ``KnowledgeBase.record`` in a loop: the same plus building and validating the draft
  (non-semantic kind, so no indexing).
* ``append_many``: batches of 100, and one batch of all ``-n`` events.
* ``verify``: re-hashing the whole chain.
* a plain SQLite baseline: single-row inserts with the same columns, one transaction each,
  no hashing, no head lookup (what "plain SQLite WAL" does on this machine).

    .venv/bin/python benchmarks/bench_log.py [-n 20000] [--repeat 3] [--no-write]

Writes the "Event log" part of ``benchmarks/RESULTS.knowledge.md`` unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mapek.knowledge import KnowledgeBase, SQLiteEventLog  # noqa: E402
from mapek.models import EventDraft  # noqa: E402

TARGET = 10_000


def machine() -> list[str]:
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [f"uname -a: `{uname}`", f"CPUs: {os.cpu_count()}; load average at the start: {load} "
            "(the machine is shared with other work)",
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"]


def drafts(n: int, run: str = "bench") -> list[EventDraft]:
    return [EventDraft(run_id=run, kind="message", actor=f"persona{i % 8}",
                       payload={"text": f"Point {i}: the migration budget looks about right",
                                "tokens": 40 + i % 17, "turn": i // 8}) for i in range(n)]


def rate(n: int, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def baseline(folder: Path, n: int) -> float:
    con = sqlite3.connect(folder / "plain.sqlite3", isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, run_id TEXT, seq INTEGER, ts REAL, "
                "kind TEXT, actor TEXT, payload TEXT)")
    rows = [("bench", i, time.time(), "message", "p", '{"text":"x"}') for i in range(n)]

    def go() -> None:
        for r in rows:
            con.execute("BEGIN")
            con.execute("INSERT INTO t (run_id, seq, ts, kind, actor, payload) "
                        "VALUES (?, ?, ?, ?, ?, ?)", r)
            con.execute("COMMIT")

    try:
        return rate(n, go)
    finally:
        con.close()


def one_round(n: int) -> dict[str, float]:
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir=REPO / "benchmarks") as tmp:
        folder = Path(tmp)
        out["plain SQLite insert (baseline)"] = baseline(folder, n)
        with SQLiteEventLog(folder / "a.sqlite3") as log:
            ds = drafts(n)
            out["append, one event per transaction"] = rate(n, lambda: [log.append(d) for d in ds])
            out["verify (re-hash the chain)"] = rate(n, log.verify)
        (folder / "ws-d").mkdir()
        with SQLiteEventLog(folder / "d.sqlite3", anchors=folder / "ws-d") as log:
            ds = drafts(n)
            out["append, anchored (an HMAC'd anchor line per transaction)"] = rate(
                n, lambda: [log.append(d) for d in ds])
            out["verify, anchored (chain and anchors)"] = rate(n, log.verify)
        with SQLiteEventLog(folder / "b.sqlite3") as log:
            ds = drafts(n)
            out["append_many, batches of 100"] = rate(
                n, lambda: [log.append_many(ds[i:i + 100]) for i in range(0, n, 100)])
        with SQLiteEventLog(folder / "c.sqlite3") as log:
            ds = drafts(n)
            out[f"append_many, one batch of {n}"] = rate(n, lambda: log.append_many(ds))
        with KnowledgeBase.open(folder / "ws") as kb:
            out["KnowledgeBase.record (builds the draft)"] = rate(
                n, lambda: [kb.record("bench", "llm.call", "cfo", {"text": "x", "tokens": i})
                            for i in range(n)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    info = machine()
    rounds = [one_round(args.n) for _ in range(args.repeat)]
    lines = ["## Event log (benchmarks/bench_log.py)", "", *[f"- {m}" for m in info],
             f"- method: median of {args.repeat} rounds of {args.n:,} events each, one writer "
             "process, fresh log per measurement (see the script's docstring)", "",
             "| operation | events/s (median) | min | max |", "|---|---:|---:|---:|"]
    for name in rounds[0]:
        vals = [r[name] for r in rounds]
        lines.append(f"| {name} | {statistics.median(vals):,.0f} | {min(vals):,.0f} | "
                     f"{max(vals):,.0f} |")
    single = statistics.median(r["append, one event per transaction"] for r in rounds)
    verdict = "met" if single >= TARGET else "MISSED"
    lines += ["", f"Target: >= {TARGET:,} events/s for single hash-chained appends: **{verdict}** "
              f"({single:,.0f} events/s)."]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(REPO / "benchmarks" / "RESULTS.knowledge.md", "## Event log", text)


def write_section(path: Path, heading: str, text: str) -> None:
    """Replace (or add) the section that starts with ``heading`` in a results file."""
    old = path.read_text() if path.exists() else "# Knowledge base: benchmark results\n"
    parts = old.split("\n## ")
    kept = [p for p in parts[1:] if not ("## " + p).startswith(heading)]
    body = "\n## ".join([parts[0].rstrip() + "\n", *kept])
    path.write_text(body.rstrip() + "\n\n" + text.rstrip() + "\n")


if __name__ == "__main__":
    main()
