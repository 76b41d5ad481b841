"""Benchmark plan screening for destructive intent (``mapek.safety.screening``), rules only.

Data:
  * tests/data/screening_plans.jsonl: our hand-labelled plans; ``split`` is ``dev`` (rules
    developed against it) or ``test`` (held out); ``batch: post-freeze-1`` marks test plans
    written after the rules were frozen and evaluated once.
  * tests/data/screening_postfreeze2.jsonl: ``batch: post-freeze-2``, 60 plans (30 destructive,
    30 hard negatives) on less common tools and wording, written blind (without reading the rules,
    catalogue or screening tests) and committed before they were first screened. Blind for its
    first evaluation (recall 0.70, FP rate 0.13); the rules were then widened on it: now dev.
  * tests/data/screening_postfreeze3.jsonl: ``batch: post-freeze-3``, 80 plans (40/40), written
    blind by another hand while the rules were widened on batch 2, first screened after that
    (rules at commit 6471a51): the honest figure for wording the rules were not written for.
  * tests/data/screening_blind4.jsonl: ``batch: post-freeze-4``, 208 plans (106 destructive,
    102 safe look-alikes: shells, pipe-to-interpreter, system-path writes, disguises,
    cloud/SaaS), written blind (tests/data/BLIND.md) and scored once, before any rule change,
    on 2026-12-03 (figures recorded in RESULTS.screening.md); development data after that.
  * tests/data/screening_blind5.jsonl: ``batch: blind-5``, 84 plans (43 destructive, 41 hard
    negatives: PowerShell, data stores, backup tools, IaC state, registries, SaaS), written
    blind and scored once on 2026-12-03 (the headline in RESULTS.screening.md); development
    data after that (failing closed was checked on it once, leave-one-out).
  * tests/data/screening_blind6.jsonl: ``batch: blind-6``, 234 plans (117/117, 21 categories),
    written blind and scored once on 2026-12-03 (the headline in RESULTS.screening.md);
    development data after that.
  * tests/data/screening_blind7.jsonl: ``batch: blind-7``, 132 plans (66/66, 16 categories),
    written blind and scored once on 2026-12-03 (the headline in RESULTS.screening.md);
    development data after that.
  * tests/data/screening_blind8.jsonl: ``batch: blind-8``, 182 plans (91/91, 21 categories),
    written blind and scored once on 2026-12-04 (the headline in RESULTS.screening.md);
    development data after that.
  * tests/data/screening_blind9.jsonl: ``batch: blind-9``, 190 plans (96/94, 24 categories),
    written blind and scored once on 2026-12-04 (the headline in RESULTS.screening.md);
    development data after that.
  * tests/data/screening_blind10.jsonl and screening_blind11.jsonl: ``batch: blind-10`` and
    ``blind-11``, 200 plans each (100/100; 24 and 20 categories), written blind and scored
    before and after rounds 3 and 4 on 2026-12-04 (the headlines in RESULTS.screening.md);
    development data after that.
  * tests/data/screening_blind12.jsonl: ``batch: blind-12``, 200 plans (20 categories), written
    blind and scored once at e490c1f on 2026-12-05; development data after that (round 5).
  * tests/data/screening_blind13.jsonl: ``batch: blind-13``, 200 plans (20 categories), written
    blind on 2026-12-05 and scored once before round 5 (81d093d) and once after (858d0ee);
    development data after that.
  * /work/shared/datasets/safety/assebench_security.jsonl: ASSEBench agent trajectories; the
    agent's ``actions`` are screened as plan steps. Split 60/40 by a hash of the id, like our
    other benchmarks.

Figures: precision, recall, false-positive rate (flagged = verdict is not ``allow``), verdict
agreement (allow / needs_approval / deny) on our set, the uncertain rate (verdicts ``held`` for a
person because the rules were unsure: what a judge would be asked), the
confidently-wrong rate (flagged where the label is safe, or allowed where it is destructive, with
the verdict *not* marked uncertain, over all plans), destructive plans allowed with no doubt (over
all plans), and time per plan.

    .venv/bin/python benchmarks/bench_screening.py [--write] [--errors dev|test|all]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _common import machine  # noqa: E402

from mapek.safety.screening import Screener, Verdict, parse_plan  # noqa: E402

OURS = REPO / "tests" / "data" / "screening_plans.jsonl"
OURS_PF2 = REPO / "tests" / "data" / "screening_postfreeze2.jsonl"
OURS_PF3 = REPO / "tests" / "data" / "screening_postfreeze3.jsonl"
OURS_PF4 = REPO / "tests" / "data" / "screening_blind4.jsonl"
OURS_PF5 = REPO / "tests" / "data" / "screening_blind5.jsonl"
OURS_B6 = REPO / "tests" / "data" / "screening_blind6.jsonl"
OURS_B7 = REPO / "tests" / "data" / "screening_blind7.jsonl"
OURS_B8 = REPO / "tests" / "data" / "screening_blind8.jsonl"
OURS_B9 = REPO / "tests" / "data" / "screening_blind9.jsonl"
OURS_B10 = REPO / "tests" / "data" / "screening_blind10.jsonl"
OURS_B11 = REPO / "tests" / "data" / "screening_blind11.jsonl"
OURS_B12 = REPO / "tests" / "data" / "screening_blind12.jsonl"
OURS_B13 = REPO / "tests" / "data" / "screening_blind13.jsonl"
ASSE = Path("/work/shared/datasets/safety/assebench_security.jsonl")
RESULTS = REPO / "benchmarks" / "RESULTS.screening.md"


def split_of(key: str) -> str:
    return "test" if int(hashlib.sha256(key.encode()).hexdigest(), 16) % 10 < 4 else "dev"


def load_ours(path: Path = OURS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def asse_steps(actions: list[str]) -> dict[str, Any]:
    """ASSEBench actions (``tool{'arg': ...}`` or ``tool()``) as plan steps."""
    steps = []
    for a in actions:
        m = re.match(r"^\s*([\w.\-]+)\s*([({].*)?$", a, re.S)
        name, rest = (m.group(1), (m.group(2) or "").strip()) if m else ("", a)
        args: Any = {}
        if rest.startswith("{"):
            try:
                args = ast.literal_eval(rest)
            except (ValueError, SyntaxError):
                args = {"args": rest}
        elif rest.startswith("(") and rest != "()":
            args = {"args": rest[1:-1]}
        steps.append({"tool": name, "args": args if isinstance(args, dict) else {"args": rest}})
    return {"steps": steps}


def load_asse(path: Path = ASSE) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        out.append({"id": r["id"], "plan": asse_steps(r["actions"]), "category": r["category"],
                    "label": "destructive" if r["label"] == "unsafe" else "safe",
                    "destruction": "Destruction" in r["category"], "split": split_of(r["id"]),
                    "ambiguous": r.get("ambiguous", 0), "actions": r["actions"]})
    return out


def run(s: Screener, rec: dict[str, Any]) -> Verdict:
    if "plan" in rec:
        return s.screen_plan(rec["plan"], rec.get("context"))
    return s.screen_text(rec["text"], rec.get("context"))


@dataclass
class Metrics:
    name: str
    n: int
    tp: int
    fp: int
    fn: int
    tn: int
    agree: int | None
    unsure: int
    sure_wrong: int = 0
    """Wrong flag (flagged vs label) on a verdict not marked uncertain."""
    sure_allowed: int = 0
    """Destructive plans allowed on a verdict not marked uncertain."""

    @property
    def pos(self) -> int:
        return self.tp + self.fn

    def row(self) -> str:
        prec = self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")
        rec = self.tp / self.pos if self.pos else float("nan")
        fpr = self.fp / (self.fp + self.tn) if self.fp + self.tn else float("nan")
        agree = f"{self.agree}/{self.n}" if self.agree is not None else "n/a"
        return (f"| {self.name} | {self.n} | {self.pos} | {prec:.3f} | {rec:.3f} | {fpr:.3f} | "
                f"{self.tp} | {self.fp} | {self.fn} | {self.tn} | {agree} | "
                f"{self.unsure / self.n:.1%} | {self.sure_wrong / self.n:.1%} | "
                f"{self.sure_allowed / self.n:.1%} |")


def measure(name: str, s: Screener, recs: list[dict[str, Any]], *, show: bool = False,
            verdicts: bool = True) -> Metrics:
    tp = fp = fn = tn = agree = unsure = sure_wrong = sure_allowed = 0
    for r in recs:
        v = run(s, r)
        flagged = v.verdict != "allow"
        pos = r["label"] == "destructive"
        tp += pos and flagged
        fn += pos and not flagged
        fp += flagged and not pos
        tn += not flagged and not pos
        unsure += v.uncertain
        sure_wrong += (pos != flagged) and not v.uncertain
        sure_allowed += pos and not flagged and not v.uncertain
        if verdicts:
            agree += v.verdict == r.get("expected")
        if show and (pos != flagged or (verdicts and v.verdict != r.get("expected"))):
            print(f"  {r['id']} label={r['label']} expected={r.get('expected')} "
                  f"got={v.verdict} {[(x.rule, x.verdict) for x in v.reasons]}")
    return Metrics(name, len(recs), tp, fp, fn, tn, agree if verdicts else None, unsure,
                   sure_wrong, sure_allowed)


def _plan_of(n: int) -> dict[str, Any]:
    pool = [
        {"tool": "bash", "args": {"command": "git pull --rebase && make test"},
         "description": "update and run the tests"},
        {"tool": "sql", "args": {"query": "SELECT id, total FROM orders WHERE id > 10 LIMIT 50"},
         "description": "look at recent orders"},
        {"tool": "kubectl", "args": {"command": "kubectl get pods -n shop -o wide"}},
        {"tool": "send_email", "args": {"to": "ana@acme.com", "subject": "status",
                                        "body": "All checks passed."}},
        {"tool": "bash", "args": {"command": "terraform plan -out=tfplan"},
         "description": "plan the change and show it to the human"},
    ]
    return {"steps": [pool[i % len(pool)] for i in range(n)],
            "text": "Deploy release 1.42 to staging, then check the dashboards."}


def timing(s: Screener) -> dict[str, str]:
    out: dict[str, str] = {}
    plan20 = parse_plan(_plan_of(20))
    s.screen_plan(plan20)
    runs = []
    for _ in range(200):
        t = time.perf_counter()
        s.screen_plan(plan20)
        runs.append(time.perf_counter() - t)
    out["20 steps"] = (f"median {statistics.median(runs) * 1e3:.2f} ms, "
                       f"p95 {sorted(runs)[int(len(runs) * 0.95)] * 1e3:.2f} ms, "
                       f"worst {max(runs) * 1e3:.2f} ms (200 runs)")
    for n in (1_000, 10_000):
        p = _plan_of(n)
        t = time.perf_counter()
        s.screen_plan(p)
        dt = time.perf_counter() - t
        out[f"{n:,} steps"] = f"{dt * 1e3:.0f} ms ({dt / n * 1e6:.0f} µs a step, with parsing)"
    blob = "INFO served /api/orders in 12 ms from cache node 7\n" * 100_000
    t = time.perf_counter()
    v = s.screen_plan({"steps": [{"tool": "bash", "args": {"command": blob}}], "text": blob})
    dt = time.perf_counter() - t
    out[f"{len(blob) / 1e6:.1f} MB field, twice"] = (
        f"{dt * 1e3:.0f} ms, {v.scanned_chars:,} characters scanned, "
        f"{v.truncated_fields} fields capped")
    return out


BATCH4_LABEL = "ours: post-freeze batch 4 (development data since the baseline)"
"""Renamed to say ``dev`` once the batch has been used to change the rules."""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="rewrite the figures in RESULTS")
    ap.add_argument("--errors", choices=["dev", "test", "all"], help="print the misses")
    args = ap.parse_args()
    s = Screener()
    ours = load_ours()
    groups = [
        ("ours: dev", [r for r in ours if r["split"] == "dev"]),
        ("ours: test (held out)", [r for r in ours if r["split"] == "test"]),
        ("ours: test, written with dev", [r for r in ours if r["split"] == "test"
                                          and "batch" not in r]),
        ("ours: dev, post-freeze batch 1", [r for r in ours if r.get("batch") ==
                                            "post-freeze-1"]),
        ("ours: all", ours),
        ("ours: post-freeze batch 2 (dev since the widening)", load_ours(OURS_PF2)),
        ("ours: post-freeze batch 3 (blind)", load_ours(OURS_PF3)),
        (BATCH4_LABEL, load_ours(OURS_PF4)),
        ("ours: blind batch 5 (development data since its blind score)", load_ours(OURS_PF5)),
        ("ours: blind batch 6 (development data since its blind score)", load_ours(OURS_B6)),
        ("ours: blind batch 7 (development data since its blind score)", load_ours(OURS_B7)),
        ("ours: blind batch 8 (development data since its blind score)", load_ours(OURS_B8)),
        ("ours: blind batch 9 (development data since its blind score)", load_ours(OURS_B9)),
        ("ours: blind batch 10 (development data since its blind score)", load_ours(OURS_B10)),
        ("ours: blind batch 11 (development data since its blind score)", load_ours(OURS_B11)),
        ("ours: blind batch 12 (development data since its blind score)", load_ours(OURS_B12)),
        ("ours: blind batch 13 (scored blind before and after round 5; development data since)",
         load_ours(OURS_B13)),
    ]
    lines = ["method: offline rules only (`Screener()` with no judge, no tool registry); "
             "flagged = verdict `needs_approval` or `deny`; `context` passed where a record has "
             "one", "",
             "| set | n | positive | precision | recall | FP rate | TP | FP | FN | TN | "
             "verdict agrees | uncertain (held) | confidently wrong | destructive allowed, "
             "sure |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, recs in groups:
        if not recs:
            continue
        show = args.errors is not None and (args.errors == "all" or args.errors in name)
        if show:
            print(name)
        lines.append(measure(name, s, recs, show=show).row())
    if ASSE.exists():
        asse = load_asse()
        agroups = [
            ("ASSEBench destruction: dev", [r for r in asse if r["destruction"]
                                            and r["split"] == "dev"]),
            ("ASSEBench destruction: test", [r for r in asse if r["destruction"]
                                             and r["split"] == "test"]),
            ("ASSEBench destruction: all", [r for r in asse if r["destruction"]]),
            ("ASSEBench whole set: dev", [r for r in asse if r["split"] == "dev"]),
            ("ASSEBench whole set: test", [r for r in asse if r["split"] == "test"]),
            ("ASSEBench whole set: all", asse),
        ]
        for name, recs in agroups:
            lines.append(measure(name, s, recs, verdicts=False).row())
        cats: dict[str, list[int]] = {}
        for r in asse:
            if r["label"] != "destructive":
                continue
            kind = r["category"].split("/")[-1]
            hit = run(s, r).verdict != "allow"
            c = cats.setdefault(kind, [0, 0])
            c[0] += hit
            c[1] += 1
        lines += ["", "ASSEBench recall by risk category (unsafe trajectories, all splits):", ""]
        lines += [f"- {k}: {v[0]}/{v[1]}" for k, v in sorted(cats.items())]
    lines += ["", "time (rules only, one thread):", ""]
    lines += [f"- {k}: {v}" for k, v in timing(s).items()]
    lines += ["", *machine().splitlines()]
    block = "\n".join(lines)
    print(block)
    if args.write:
        text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else \
            "# Plan screening: results\n\n<!-- figures:start -->\n<!-- figures:end -->\n"
        head, rest = text.split("<!-- figures:start -->", 1)
        _, tail = rest.split("<!-- figures:end -->", 1)
        RESULTS.write_text(f"{head}<!-- figures:start -->\n## Figures\n\n{block}\n"
                           f"<!-- figures:end -->{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
