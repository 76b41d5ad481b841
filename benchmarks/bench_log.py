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

``--backend postgres`` measures the PostgreSQL log against the SQLite log instead (the "Event
log on PostgreSQL" part), on a real server this script starts (``mapek.testing.postgres``:
``initdb`` + ``postgres`` in a temporary folder, 127.0.0.1, PostgreSQL's default settings, so
``fsync`` and ``synchronous_commit`` on; one row repeats the single appends with
``synchronous_commit=off``, the closest to SQLite's ``synchronous=NORMAL``). Each round, for
each backend, on a fresh log: single appends, ``append_many`` in batches of 100 and ``verify``
(``-n`` events, default 5,000 here); four writer processes appending at once, to four runs and
to one run (``-n``/4 events each, aggregate events/s from the go signal to the last writer's
end); and follow latency: a follower in another process (``follow(run, poll=0.05)``, the
worker's and the API's setting) and one writer appending an event every 20 ms, 200 events;
latency is the follower's receive time minus the writer's time just after ``append``
returned (one clock: same machine). SQLite's follower polls; PostgreSQL's waits on ``LISTEN``.
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

from mapek.knowledge import EventLog, KnowledgeBase, SQLiteEventLog  # noqa: E402
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
    parser.add_argument("-n", type=int, default=None,
                        help="events per measurement (20,000; 5,000 with --backend postgres)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)  # a writer or follower
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.backend == "postgres":
        postgres_main(args.n or 5_000, args.repeat, write=not args.no_write)
        return
    args.n = args.n or 20_000
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
        write_section(REPO / "benchmarks" / "RESULTS.knowledge.md", "## Event log (", text)


# -- PostgreSQL against SQLite -----------------------------------------------------------------

def open_url(url: str) -> EventLog:
    if url.startswith("sqlite:///"):
        return SQLiteEventLog(url.removeprefix("sqlite:///"))
    from mapek.knowledge.pg_log import PostgresEventLog

    return PostgresEventLog(url)


def child(mode: str, url: str, run: str, n: str, go: str = "") -> None:
    """``writer URL RUN N GO``: append N events once file GO exists; ``follower URL RUN N``:
    print ``seq received`` for N events."""
    with open_url(url) as log:
        if mode == "writer":
            ds = drafts(int(n), run)
            Path(go + ".ready." + str(os.getpid())).touch()
            while not Path(go).exists():
                time.sleep(0.001)
            for d in ds:
                log.append(d)
            return
        seen = 0
        for ev in log.follow(run, poll=0.05, timeout=60):
            print(ev.seq, time.time(), flush=True)
            seen += 1
            if seen >= int(n):
                return


def concurrent(url: str, folder: Path, writers: int, n: int, same_run: bool) -> float:
    """Aggregate events/s of ``writers`` processes appending ``n`` events each at once."""
    go = folder / f"go-{time.monotonic_ns()}"
    procs = [subprocess.Popen([sys.executable, __file__, "--child", "writer", url,
                               "shared" if same_run else f"run{i}", str(n), str(go)])
             for i in range(writers)]
    while len(list(folder.glob(go.name + ".ready.*"))) < writers:
        if any(p.poll() not in (None, 0) for p in procs):
            raise RuntimeError("a writer failed")
        time.sleep(0.01)
    start = time.perf_counter()
    go.touch()
    for p in procs:
        if p.wait() != 0:
            raise RuntimeError("a writer failed")
    return writers * n / (time.perf_counter() - start)


def follow_latency(url: str, count: int = 200, gap: float = 0.02) -> list[float]:
    """Milliseconds from a committed append to a follower in another process having it."""
    sent_at: dict[int, float] = {}
    with open_url(url) as log:
        log.append(EventDraft(run_id="lat", kind="tick"))
        follower = subprocess.Popen([sys.executable, __file__, "--child", "follower", url, "lat",
                                     str(count + 1)], stdout=subprocess.PIPE, text=True)
        time.sleep(3.0)  # it has started and caught up with the first event
        for _ in range(count):
            ev = log.append(EventDraft(run_id="lat", kind="tick"))
            sent_at[ev.seq] = time.time()
            time.sleep(gap)
        out, _ = follower.communicate(timeout=120)
    got = {int(line.split()[0]): float(line.split()[1]) for line in out.splitlines()}
    return [(got[seq] - sent) * 1000 for seq, sent in sent_at.items() if seq in got]


def pg_round(n: int, urls: dict[str, Callable[[], str]], folder: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, fresh in urls.items():
        with open_url(fresh()) as log:
            ds = drafts(n)
            out[f"{name}: append, one event per transaction"] = rate(
                n, lambda: [log.append(d) for d in ds])  # noqa: B023
            out[f"{name}: verify (re-hash the chain)"] = rate(n, log.verify)
        if "synchronous_commit=off" in name:
            continue
        with open_url(fresh()) as log:
            ds = drafts(n)
            out[f"{name}: append_many, batches of 100"] = rate(
                n, lambda: [log.append_many(ds[i:i + 100])  # noqa: B023
                            for i in range(0, n, 100)])
        for same in (False, True):
            where = "one run" if same else "four runs"
            out[f"{name}: 4 writer processes, {where} (aggregate)"] = concurrent(
                fresh(), folder, 4, max(n // 4, 100), same)
    return out


def postgres_main(n: int, repeat: int, *, write: bool) -> None:
    import psycopg

    from mapek.testing.postgres import PostgresServer

    info = machine()
    latencies: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(dir=REPO / "benchmarks") as tmp, \
            PostgresServer(durable=True) as server:
        folder = Path(tmp)
        counter = iter(range(1, 1_000_000))
        with psycopg.connect(server.url()) as con:
            row = con.execute("SHOW server_version").fetchone()
        info.append(f"PostgreSQL {row[0] if row else '?'} on 127.0.0.1 (TCP), started by the "
                    "script with its default settings (fsync, synchronous_commit and "
                    f"full_page_writes on), psycopg {psycopg.__version__}")
        urls: dict[str, Callable[[], str]] = {
            "SQLite": lambda: f"sqlite:///{folder / f'l{next(counter)}.sqlite3'}",
            "PostgreSQL": server.create_database,
            "PostgreSQL, synchronous_commit=off": lambda: server.create_database()
            + "?options=-csynchronous_commit%3Doff",
        }
        for name in ("SQLite", "PostgreSQL"):  # first: before the appends below load the server
            latencies[name] = [ms for _ in range(repeat) for ms in follow_latency(urls[name]())]
        rounds = [pg_round(n, urls, folder) for _ in range(repeat)]
    lines = ["## Event log on PostgreSQL against SQLite (benchmarks/bench_log.py --backend "
             "postgres)", "", *[f"- {m}" for m in info],
             f"- method: median of {repeat} rounds; {n:,} events per single-writer "
             f"measurement, {max(n // 4, 100):,} per writer with four writers; fresh log (file "
             "or database) per measurement (see the script's docstring)", "",
             "| operation | events/s (median) | min | max |", "|---|---:|---:|---:|"]
    for name in rounds[0]:
        vals = [r[name] for r in rounds]
        lines.append(f"| {name} | {statistics.median(vals):,.0f} | {min(vals):,.0f} | "
                     f"{max(vals):,.0f} |")
    lines += ["", "Follow latency, commit to a follower in another process "
              f"({len(next(iter(latencies.values())))} events per backend):", "",
              "| backend | how the follower waits | p50 ms | p95 ms | max ms |",
              "|---|---|---:|---:|---:|"]
    how = {"SQLite": "polls every 50 ms", "PostgreSQL": "LISTEN/NOTIFY (poll 50 ms as well)"}
    for name, ms in latencies.items():
        ms = sorted(ms)
        lines.append(f"| {name} | {how[name]} | {statistics.median(ms):.1f} | "
                     f"{ms[int(len(ms) * 0.95) - 1]:.1f} | {ms[-1]:.1f} |")
    text = "\n".join(lines)
    print(text)
    if write:
        write_section(REPO / "benchmarks" / "RESULTS.knowledge.md", "## Event log on PostgreSQL",
                      text)


def write_section(path: Path, heading: str, text: str) -> None:
    """Replace (or add) the section that starts with ``heading`` in a results file."""
    old = path.read_text() if path.exists() else "# Knowledge base: benchmark results\n"
    parts = old.split("\n## ")
    kept = [p for p in parts[1:] if not ("## " + p).startswith(heading)]
    body = "\n## ".join([parts[0].rstrip() + "\n", *kept])
    path.write_text(body.rstrip() + "\n\n" + text.rstrip() + "\n")


if __name__ == "__main__":
    main()
