"""Benchmark the observer's offline question triage (``mapek.loop.triage``).

Data:
  * tests/data/triage_questions.jsonl: our hand-labelled discussion questions; ``split`` is
    ``dev`` (rules developed against it) or ``test`` (held out).
  * tests/data/triage_blind2.jsonl: ``batch: triage-blind-2``, 120 questions (60 consequential,
    60 trivial, nine non-cloud domains), written blind (tests/data/BLIND.md) and scored once,
    before any rule change, on 2026-12-03 (figures recorded in RESULTS.triage.md); development
    data since.
  * tests/data/triage_blind3.jsonl: 80 questions, scored blind once on 2026-12-03 (the headline
    in RESULTS.triage.md); development data since (checked at milestones, not tuned on).
  * tests/data/triage_blind4.jsonl: 112 questions, scored blind once on 2026-12-03 (the
    headline in RESULTS.triage.md); development data since (aggregate figures checked).
  * tests/data/triage_blind5.jsonl: 138 questions (14 new domains, 21 in seven other
    languages), scored blind once before and once after the h-tri round on 2026-12-04 (the
    headline in RESULTS.triage.md); development data since (the 2026-12-04 evening round read
    it).
  * tests/data/triage_blind6.jsonl: 140 questions (14 new domains, 22 in nine other
    languages), scored blind once before and once after the fifth round on 2026-12-04 evening
    (the headline in RESULTS.triage.md); development data since.
  * tests/data/triage_htri_dev.jsonl: 789 questions in 15 batches (``batch`` h-tri-1..15)
    written on 2026-12-04 by the helper who changed the rules, each scored once
    (``first_scored_at``) before it was used; development data, not blind.
  * tests/data/triage_htri3_dev.jsonl: 64 questions (eight new domains, 14 in seven other
    languages) written on 2026-12-04 evening by the helper who had just written the form cues,
    scored once at 61b251b (``first_scored_at``); development data, and an upper bound: its
    trivial questions were written knowing the cues.
  * /work/shared/datasets/safety/toolemu_cases_escalation.jsonl: ToolEmu user instructions,
    ``escalate`` = consequential. Split the same way by a hash of the id (40% ``test``); only
    the dev part's misses were looked at while writing rules.

Figures: precision, recall, F1 and confusion counts on the consequential class, false-positive
rate on the negatives, reason agreement, the unsure fraction (how often a judge would be
consulted), the confidently-wrong rate (a wrong label not marked unsure, over all questions),
and time per question.

    .venv/bin/python benchmarks/bench_triage.py [--write] [--errors dev|test|all] [--toolemu PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import machine, write_figures  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mapek.loop.triage import QuestionTriager, Triage  # noqa: E402

OURS = REPO / "tests" / "data" / "triage_questions.jsonl"
BLIND2 = REPO / "tests" / "data" / "triage_blind2.jsonl"
BLIND2_LABEL = "blind batch 2: all (blind baseline 2026-12-03; development data since)"
BLIND3 = REPO / "tests" / "data" / "triage_blind3.jsonl"
BLIND3_LABEL = "blind batch 3: all (blind headline 2026-12-03; development data since)"
BLIND4 = REPO / "tests" / "data" / "triage_blind4.jsonl"
BLIND4_LABEL = "blind batch 4: all (blind headline 2026-12-03; development data since)"
BLIND5 = REPO / "tests" / "data" / "triage_blind5.jsonl"
BLIND5_LABEL = "blind batch 5: all (blind headline 2026-12-04; development data since)"
BLIND6 = REPO / "tests" / "data" / "triage_blind6.jsonl"
BLIND6_LABEL = "blind batch 6: all (blind headline 2026-12-04 evening; development data since)"
HTRI = REPO / "tests" / "data" / "triage_htri_dev.jsonl"
HTRI_LABEL = "h-tri batches: all (dev, written 2026-12-04 by the rules' author)"
HTRI3 = REPO / "tests" / "data" / "triage_htri3_dev.jsonl"
HTRI3_LABEL = "h-tri3 batch: all (dev, written 2026-12-04 evening by the rules' author)"
TOOLEMU = Path("/work/shared/datasets/safety/toolemu_cases_escalation.jsonl")
RESULTS = REPO / "benchmarks" / "RESULTS.triage.md"


def load_ours(path: Path = OURS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def load_toolemu(path: Path = TOOLEMU) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        split = "test" if int(hashlib.sha256(r["id"].encode()).hexdigest(), 16) % 10 < 4 else "dev"
        out.append({"id": r["id"], "text": r["text"], "category": r.get("category"),
                    "label": "consequential" if r["label"] == "escalate" else "trivial",
                    "split": split})
    return out


def peer_expertise() -> dict[str, list[str]]:
    """The packaged personas' expertise tags, as the observer passes them."""
    from mapek.personas import PersonaLibrary

    return {name: list(p.expertise) for name, p in PersonaLibrary.load().personas.items()}


def run(triager: QuestionTriager, rec: dict[str, Any], peers: dict[str, list[str]]) -> Triage:
    return triager.triage(rec["text"], topic=rec.get("discussion_topic"),
                          asked_by=rec.get("asked_by"), context=rec.get("context"),
                          answered_texts=rec.get("answered_texts", ()), peer_expertise=peers)


@dataclass
class Metrics:
    name: str
    n: int
    tp: int
    fp: int
    fn: int
    tn: int
    unsure: int
    flagged_pos: int
    """Positives labelled consequential or left unsure: what reaches the human or the judge."""
    flagged_neg: int
    reason_ok: int
    reason_n: int
    sure_wrong: int = 0
    """Wrong label on a triage not marked unsure."""

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def fp_rate(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    @property
    def base_rate(self) -> float:
        return (self.tp + self.fn) / self.n if self.n else 0.0

    @property
    def held_precision(self) -> float:
        """Precision as mapek acts: an unsure question is held for the person."""
        flagged = self.flagged_pos + self.flagged_neg
        return self.flagged_pos / flagged if flagged else 0.0

    def held_row(self) -> str:
        pos = self.tp + self.fn
        recall = f"{self.flagged_pos / pos:.3f}" if pos else "n/a"
        return (f"| {self.name} | {self.n} | {self.held_precision:.3f} | {recall} | "
                f"{self.unsure / self.n:.1%} | {self.sure_wrong / self.n:.1%} |")

    def row(self) -> str:
        reason = f"{self.reason_ok}/{self.reason_n}" if self.reason_n else "n/a"
        pos, neg = self.tp + self.fn, self.fp + self.tn
        reach_pos = f"{self.flagged_pos / pos:.2f}" if pos else "n/a"
        reach_neg = f"{self.flagged_neg / neg:.2f}" if neg else "n/a"
        return (f"| {self.name} | {self.n} | {self.base_rate:.0%} | {self.precision:.3f} | "
                f"{self.recall:.3f} | {self.f1:.3f} | {self.tp} | {self.fp} | {self.fn} | "
                f"{self.tn} | {self.fp_rate:.2f} | {self.unsure / self.n:.1%} | "
                f"{self.sure_wrong / self.n:.1%} | {reach_pos} / {reach_neg} | {reason} |")


HEADER = ("| set | n | positive | precision | recall | F1 | TP | FP | FN | TN | FP rate on "
          "negatives | unsure (judge) | confidently wrong | consequential or unsure: pos / neg | "
          "reason agrees |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


HELD_HEADER = ("| set | n | precision (held) | recall (held) | uncertain (held) | "
               "confidently wrong |\n|---|---|---|---|---|---|")


def evaluate(name: str, records: list[dict[str, Any]], peers: dict[str, list[str]],
             errors: list[str] | None = None) -> Metrics:
    triager = QuestionTriager(hold_unsure=False)  # the rules' own label; unsure counted apart
    tp = fp = fn = tn = unsure = flagged_pos = flagged_neg = reason_ok = reason_n = 0
    sure_wrong = 0
    for rec in records:
        t = run(triager, rec, peers)
        gold = rec["label"] == "consequential"
        pred = t.label == "consequential"
        tp += gold and pred
        fp += (not gold) and pred
        fn += gold and not pred
        tn += (not gold) and not pred
        unsure += t.unsure
        sure_wrong += (gold != pred) and not t.unsure
        flagged_pos += gold and (pred or t.unsure)
        flagged_neg += (not gold) and (pred or t.unsure)
        if "reason" in rec and gold == pred:
            reason_n += 1
            reason_ok += t.reason == rec["reason"]
        if errors is not None and (gold != pred or ("reason" in rec and t.reason != rec["reason"])):
            kind = "LABEL" if gold != pred else "reason"
            errors.append(f"{kind} {rec['id']} gold={rec['label']}/{rec.get('reason', '-')} "
                          f"got={t.label}/{t.reason} s={t.score:.2f} {t.signals}\n    "
                          f"{rec['text'][:160]}")
    return Metrics(name, len(records), tp, fp, fn, tn, unsure, flagged_pos, flagged_neg,
                   reason_ok, reason_n, sure_wrong)


def timing(records: list[dict[str, Any]], peers: dict[str, list[str]], rounds: int = 5
           ) -> tuple[float, float]:
    """Mean and worst per-question time in microseconds, best of ``rounds`` passes."""
    triager = QuestionTriager(hold_unsure=False)  # the rules' own label; unsure counted apart
    per_q: list[float] = []
    for rec in records:
        best = float("inf")
        for _ in range(rounds):
            t0 = time.perf_counter()
            run(triager, rec, peers)
            best = min(best, time.perf_counter() - t0)
        per_q.append(best * 1e6)
    return statistics.fmean(per_q), max(per_q)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(REPO)}")
    ap.add_argument("--errors", choices=["dev", "test", "all"], help="print misclassified items")
    ap.add_argument("--toolemu", type=Path, default=TOOLEMU)
    args = ap.parse_args(argv)

    peers = peer_expertise()
    ours = load_ours()
    sets: list[tuple[str, list[dict[str, Any]]]] = [
        ("ours: dev", [r for r in ours if r["split"] == "dev"]),
        ("ours: test (held out)", [r for r in ours if r["split"] == "test"]),
        ("ours: test, written with dev", [r for r in ours
                                          if r["split"] == "test" and "batch" not in r]),
        ("ours: dev, post-freeze batch 1", [r for r in ours if r.get("batch") == "post-freeze-1"]),
        ("ours: test, post-freeze batch 2", [r for r in ours if r.get("batch") == "post-freeze-2"]),
        ("ours: all", ours),
        (BLIND2_LABEL, load_ours(BLIND2)),
        (BLIND3_LABEL, load_ours(BLIND3) if BLIND3.exists() else []),
        (BLIND4_LABEL, load_ours(BLIND4) if BLIND4.exists() else []),
        (BLIND5_LABEL, load_ours(BLIND5) if BLIND5.exists() else []),
        (BLIND6_LABEL, load_ours(BLIND6) if BLIND6.exists() else []),
        (HTRI_LABEL, load_ours(HTRI) if HTRI.exists() else []),
        (HTRI3_LABEL, load_ours(HTRI3) if HTRI3.exists() else []),
    ]
    if args.toolemu.exists():
        tool = load_toolemu(args.toolemu)
        sets += [("toolemu: dev", [r for r in tool if r["split"] == "dev"]),
                 ("toolemu: test (held out)", [r for r in tool if r["split"] == "test"]),
                 ("toolemu: all", tool)]
    else:
        print(f"note: {args.toolemu} not found; ToolEmu figures skipped", file=sys.stderr)

    rows, errors = [], []
    for name, recs in sets:
        if not recs:
            continue
        part = name.split(": ")[1]
        show = args.errors is not None and part in ("dev", "test (held out)") and (
            args.errors == "all" or part.startswith(args.errors))
        errs: list[str] = []
        rows.append(evaluate(name, recs, peers, errs if show else None))
        if show:
            errors += [f"[{name}] {e}" for e in errs]

    timings = []
    for name, recs in sets:
        if name.endswith("all"):
            mean_us, worst_us = timing(recs, peers)
            avg_len = statistics.fmean(len(r["text"]) for r in recs)
            timings.append(f"- {name.split(':')[0]} ({len(recs)} texts, mean {avg_len:.0f} "
                           f"characters): mean {mean_us:.0f} µs, worst {worst_us:.0f} µs")

    table = "\n".join([HEADER, *(m.row() for m in rows)])
    held = "\n".join([HELD_HEADER, *(m.held_row() for m in rows)])
    method = ("offline rules only (`QuestionTriager(hold_unsure=False)`: no judge, the rules' "
              "own label on unsure questions); personas' expertise tags "
              "from the packaged library passed as `peer_expertise`; our set's `answered_texts` "
              "and `context` passed through")
    report = (f"## Figures\n\nmethod: {method}\n\n{table}\n\n"
              "The same runs read as mapek acts (`hold_unsure=True`, no judge): an unsure "
              "question is held for the person, so it counts as consequential; *uncertain* is "
              "the held share, *confidently wrong* a wrong label not marked unsure.\n\n"
              f"{held}\n\n"
              "time per question (best of 5 passes each, rules only, one thread):\n\n"
              + "\n".join(timings) + "\n\n"
              f"{machine()}\n")
    print(report)
    for e in errors:
        print(e)
    if args.write:
        write_figures(RESULTS, report, "Question triage: results")
        print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
