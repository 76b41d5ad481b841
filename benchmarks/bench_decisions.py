"""Benchmark decision records (``mapek.decisions``): what recording costs the loop, and what
reading a run's decisions with their outcomes costs as a run grows.

1. **Record**: ``decide()`` through a real :class:`~mapek.loop.context.LoopContext` on a real
   workspace (SQLite log, hash chain): a new decision, and the same decision again (a re-run
   node: found by its key, nothing written).
2. **In the loop**: real offline sessions run in this process (the offline scripts behind a
   ``FunctionModel``, 4 personas, up to 24 turns), with ``decide`` and ``record_screening``
   timed where the nodes call them: decisions per run, milliseconds per run and per persona
   turn, share of the run's wall time.
3. **Read**: runs of 1,000 / 10,000 / 50,000 events written in the loop's event shapes (per
   round: plan, route, speakers, screen and triage decisions, two ``llm.call`` and two
   ``message`` events, a routing, an answer, a tool call; an escalation every tenth round):
   ``decisions_of``, ``summarise``, ``compare`` (a run with itself) and ``export`` to JSONL.

    .venv/bin/python benchmarks/bench_decisions.py [--sessions 5] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "loop"))

RESULTS = REPO / "benchmarks" / "RESULTS.decisions.md"


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def bench_record(home: Path, n: int = 2000) -> dict[str, float]:
    from mapek.decisions import decide
    from mapek.knowledge import KnowledgeBase
    from mapek.loop.context import LoopContext
    from mapek.models import EventDraft
    from mapek.safety.tools import ToolRegistry

    with KnowledgeBase.open(home) as kb:
        kb.append(EventDraft(run_id="bench", kind="run.started", payload={"config": {}}))
        ctx = LoopContext(run_id="bench", kb=kb, gateway=None, model="mapek/offline",
                          personas={}, tools=ToolRegistry(), triager=None, run_dir=home)
        options = {f"persona{i}": float(i) for i in range(4)}
        new, again = [], []
        for i in range(n):
            t = time.perf_counter()
            decide(ctx, "speakers", i, i, "plan", options, ["persona3", "persona2"],
                   "agenda item: costs", {"agenda_item": "costs", "slots": 2})
            new.append((time.perf_counter() - t) * 1000)
        for i in range(n):
            t = time.perf_counter()
            decide(ctx, "speakers", i, i, "plan", options, ["persona3", "persona2"],
                   "agenda item: costs", {"agenda_item": "costs", "slots": 2})
            again.append((time.perf_counter() - t) * 1000)
    return {"n": n, "new_p50": statistics.median(new), "new_p99": _pct(new, 0.99),
            "again_p50": statistics.median(again), "again_p99": _pct(again, 0.99)}


def bench_loop(home: Path, sessions: int) -> dict[str, Any]:
    from test_inprocess import PEOPLE, TOPIC, _answer

    import mapek.decisions as dec
    import mapek.loop.analyse as analyse
    import mapek.loop.screen as screen
    from mapek.api import Session
    from mapek.loop.worker import run_session
    from mapek.testing import FunctionModel

    spent: list[float] = []

    def timed(fn: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent.append(time.perf_counter() - t)
        return wrapper

    decide, record_screening = dec.decide, dec.record_screening
    dec.decide = timed(decide)  # plan.py imports it from the module at each call
    analyse.decide = dec.decide
    screen.record_screening = timed(record_screening)
    rows = []
    try:
        os.environ["MAPEK_HOME"] = str(home)
        for _ in range(sessions):
            spent.clear()
            s = Session.create(TOPIC, PEOPLE, human="defer", max_turns=24)
            t = time.perf_counter()
            run_session(s.run_id, model=FunctionModel(_answer, name="bench/function"))
            wall = time.perf_counter() - t
            turns = sum(e.kind == "message" for e in s.history())
            rows.append({"decisions": len(spent), "ms": sum(spent) * 1000, "wall_s": wall,
                         "turns": turns})
            s.close()
    finally:
        dec.decide, analyse.decide, screen.record_screening = decide, decide, record_screening
    return {"sessions": sessions, "rows": rows}


def _synthetic_run(kb: Any, run_id: str, events: int) -> int:
    """A run of about ``events`` events in the shapes the loop writes; returns the count."""
    from mapek.decisions import KIND, Decision
    from mapek.models import EventDraft

    def d(point: str, subject: Any, rnd: int, node: str, options: dict[str, float],
          chosen: Any) -> EventDraft:
        dd = Decision(point=point, subject=str(subject), round=rnd, node=node, options=options,
                      chosen=chosen, why="bench")
        return EventDraft(run_id=run_id, kind=KIND, actor="orchestrator",
                          payload=dd.model_dump(), key=dd.key)

    people = ["cfo", "engineer", "skeptic", "legal"]
    kb.append(EventDraft(run_id=run_id, kind="run.started", payload={"config": {}}))
    n, rnd = 1, 0
    while n < events:
        rnd += 1
        a, b = people[rnd % 4], people[(rnd + 1) % 4]
        qid = f"q{rnd}"
        drafts = [
            d("plan", rnd, rnd, "plan", {"continue": 1.0, "finish": 0.0}, "continue"),
            d("route", qid, rnd, "plan", {p: 0.5 for p in people}, a),
            EventDraft(run_id=run_id, kind="question.routed", actor="orchestrator",
                       payload={"qid": qid, "to": a, "why": "bench"}),
            d("speakers", rnd, rnd, "plan", {p: 0.0 for p in people}, [a, b]),
            d("screen", rnd, rnd, "screen", {"0:kb_search": 0.0}, ["0:kb_search"]),
        ]
        for who in (a, b):
            drafts.append(EventDraft(run_id=run_id, kind="llm.call", actor=who, payload={
                "task": "persona_turn", "prompt_tokens": 500, "completion_tokens": 80,
                "cost_usd": 0.001, "latency_ms": 900.0, "outcome": "ok"}))
        drafts.append(EventDraft(run_id=run_id, kind="message", actor=a, payload={
            "text": "bench turn", "round": rnd, "qid": qid}))
        msgs = kb.record_many(drafts)
        answer = EventDraft(run_id=run_id, kind="answer", actor=a, parent=msgs[-1].seq,
                            payload={"qid": qid, "text": "bench answer"})
        rest = [answer,
                EventDraft(run_id=run_id, kind="message", actor=b, payload={
                    "text": "bench turn", "round": rnd, "qid": None}),
                EventDraft(run_id=run_id, kind="tool.call", actor=b, key=f"tool:{rnd}:0",
                           payload={"tool": "kb_search", "outcome": "ok"}),
                d("triage", f"q{rnd}b", rnd, "analyse", {"consequential": 0.1,
                                                         "trivial": 0.9}, "trivial")]
        if rnd % 10 == 0:
            rest.append(EventDraft(run_id=run_id, kind="question.escalated", actor="observer",
                                   payload={"qids": [f"q{rnd}b"], "mode": "queue",
                                            "reasons": {}}))
        kb.record_many(rest)
        n += len(drafts) + len(rest)
    kb.append(EventDraft(run_id=run_id, kind="run.finished", payload={"status": "max_turns"}))
    return n + 1


def bench_read(home: Path, sizes: list[int]) -> list[dict[str, Any]]:
    from mapek.decisions import compare, decisions_of, export, summarise
    from mapek.knowledge import KnowledgeBase

    out = []
    with KnowledgeBase.open(home) as kb:
        for size in sizes:
            run = f"synthetic-{size}"
            n = _synthetic_run(kb, run, size)
            row: dict[str, Any] = {"events": n}
            # run=run binds this iteration's run into each lambda.
            for name, fn in (("read events", lambda run=run: kb.events(run)),
                             ("decisions_of", lambda run=run: decisions_of(kb, run)),
                             ("summarise", lambda run=run: summarise(kb, run)),
                             ("compare (run, itself)", lambda run=run: compare(kb, run, run)),
                             ("export", lambda run=run: export(kb, [run], home / f"{run}.jsonl"))):
                times = []
                for _ in range(3):
                    t = time.perf_counter()
                    res = fn()
                    times.append(time.perf_counter() - t)
                row[name] = min(times) * 1000
                if name == "decisions_of":
                    row["decisions"] = len(res)
            out.append(row)
    return out


def machine() -> str:
    return (f"{platform.system()} {platform.release()} {platform.machine()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=5)
    ap.add_argument("--sizes", default="1000,10000,50000")
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.name}")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-decisions-") as tmp:
        rec = bench_record(Path(tmp) / "record")
        loop = bench_loop(Path(tmp) / "loop", args.sessions)
        read = bench_read(Path(tmp) / "read", [int(x) for x in args.sizes.split(",")])
    lines = [f"- record a decision (n={rec['n']}): p50 {rec['new_p50']:.3f} ms, p99 "
             f"{rec['new_p99']:.3f} ms; the same decision again (found by key): p50 "
             f"{rec['again_p50']:.3f} ms, p99 {rec['again_p99']:.3f} ms"]
    for r in loop["rows"]:
        lines.append(f"- session: {r['turns']} turns, {r['decisions']} decisions, "
                     f"{r['ms']:.1f} ms recording them ({r['ms'] / max(1, r['turns']):.2f} ms "
                     f"per turn), run {r['wall_s']:.2f} s "
                     f"({100 * r['ms'] / 1000 / r['wall_s']:.1f} %)")
    for r in read:
        lines.append(f"- {r['events']:,} events, {r['decisions']:,} decisions: " + ", ".join(
            f"{k} {v:.0f} ms" for k, v in r.items() if k not in ("events", "decisions")))
    print("\n".join(lines))
    if args.write:
        _write(rec, loop, read)
    return 0


def _write(rec: dict[str, Any], loop: dict[str, Any], read: list[dict[str, Any]]) -> None:
    rows = loop["rows"]
    per_turn = [r["ms"] / r["turns"] for r in rows]
    share = [100 * r["ms"] / 1000 / r["wall_s"] for r in rows]
    text = [
        "# Decision records figures", "",
        f"Script: `benchmarks/bench_decisions.py --sessions {loop['sessions']}` (other "
        f"engineers' jobs were running on the same machine). Machine: {machine()}, SQLite log "
        "in a temporary folder.", "",
        "## Method", "",
        (__doc__ or "").split("\n\n", 1)[1].split("\n\n    .venv")[0].strip(), "",
        "## Results", "",
        "| figure | result |", "|---|---|",
        f"| record a new decision (n={rec['n']}) | p50 {rec['new_p50']:.3f} ms, p99 "
        f"{rec['new_p99']:.3f} ms |",
        f"| the same decision again (re-run node, found by key) | p50 {rec['again_p50']:.3f} "
        f"ms, p99 {rec['again_p99']:.3f} ms |",
        f"| decisions per offline session, up to 24 turns ({len(rows)} sessions, "
        f"{min(r['turns'] for r in rows)}–{max(r['turns'] for r in rows)} turns before they "
        f"ended) | {min(r['decisions'] for r in rows)}–{max(r['decisions'] for r in rows)} |",
        f"| time recording them, per persona turn | median {statistics.median(per_turn):.2f} "
        f"ms (range {min(per_turn):.2f}–{max(per_turn):.2f}) |",
        f"| share of the session's wall time | median {statistics.median(share):.1f} % |",
    ]
    for r in read:
        text.append(f"| {r['events']:,}-event run ({r['decisions']:,} decisions): read events /"
                    f" decisions_of / summarise / compare / export | {r['read events']:.0f} / "
                    f"{r['decisions_of']:.0f} / {r['summarise']:.0f} / "
                    f"{r['compare (run, itself)']:.0f} / {r['export']:.0f} ms |")
    derive = ", ".join(f"{r['events']:,} events: {r['decisions_of'] - r['read events']:.0f} ms"
                       for r in read)
    text += ["", "## Reading", "",
             "Recording is one keyed append to the log per decision; a re-run node finds the key "
             "and writes nothing. Reading is one read of the run's log (SQLite rows to events) "
             "plus one pass that indexes outcomes by question, call key, parent and round window "
             f"and links them (decisions_of minus the read: {derive}). compare reads and derives "
             "both runs; export also serialises every decision with its outcomes.", ""]
    RESULTS.write_text("\n".join(text))


if __name__ == "__main__":
    sys.exit(main())
