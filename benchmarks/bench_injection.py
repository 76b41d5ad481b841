"""Benchmark tool-output injection detection (``mapek.safety.content.screen_output``).

Data:
  * tests/data/injection_blind1.jsonl: ``batch: injection-blind-1``, 464 tool outputs (230 carry
    an instruction aimed at the agent reading them, 234 are benign, most of them hard negatives),
    written blind (tests/data/BLIND.md). Scored once, as a whole, before any change to the
    detector, on 2026-12-03 (figures recorded in RESULTS.injection.md); development data after.
  * tests/data/injection_blind1_split.json: a seeded random split of those ids, decided before
    any change to the detector: ``heldout`` (about 30% of each label and technique) is never
    read while developing and is scored once at the end; ``dev`` is what the detector was
    developed on.

Figures: recall on injections (flagged = ``screen_output(text).flagged``), precision, false
positive rate on benign texts, recall and false positives by technique, and time per text.

    .venv/bin/python benchmarks/bench_injection.py [--part all|dev|heldout] [--write]
        [--label TEXT] [--errors] [--no-model]

``--errors`` prints the misses of the dev part only; it refuses the held-out part.

``--summary`` scores every development set in one table (injection-blind-1's dev part and its
former held-out part, which has been looked at more than twice and is development data now,
tests/data/injection_dev2.jsonl, injection_dev3.jsonl and the sets of :data:`MORE`: the
structure examples, blind sets 2 to 6 and dev sets 4 and 5) with the time per text (on the
first four parts, as before); with ``--write`` that table is what goes between the markers.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import machine, write_figures  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mapek.safety.content import ContentVerdict  # noqa: E402
from mapek.safety.content import screen_output as _screen_output  # noqa: E402

MODEL = True
"""``--no-model``: the rules alone (``screen_output(text, model=False)``), as before the learned
layer (mapek.safety.learned) was added."""


def screen_output(text: str) -> ContentVerdict:
    return _screen_output(text, model=MODEL)

DATA = REPO / "tests" / "data" / "injection_blind1.jsonl"
DEV2 = REPO / "tests" / "data" / "injection_dev2.jsonl"
DEV3 = REPO / "tests" / "data" / "injection_dev3.jsonl"
MORE = [
    ("injection_structure_examples", "injection structure examples (development data)"),
    ("injection_blind2", "injection-blind-2 (development data after its blind score)"),
    ("injection_blind3", "injection-blind-3 (development data after its blind score)"),
    ("injection_dev4", "injection-dev-4 (development data)"),
    ("injection_blind4", "injection-blind-4 (development data after its blind score)"),
    ("injection_dev5", "injection-dev-5 (development data)"),
    ("injection_blind5", "injection-blind-5 (development data after its blind score)"),
    ("injection_blind6", "injection-blind-6 (development data after its blind score)"),
    ("injection_blind7", "injection-blind-7 (development data after its blind scores)"),
]
"""The other labelled sets ``--summary`` scores, by name (never a pattern: a blind set being
written must not be read)."""
SPLIT = REPO / "tests" / "data" / "injection_blind1_split.json"
RESULTS = REPO / "benchmarks" / "RESULTS.injection.md"
SEED = 20261203
HELDOUT_SHARE = 0.3


def load(path: Path = DATA) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def make_split(records: list[dict[str, Any]], seed: int = SEED,
               share: float = HELDOUT_SHARE) -> dict[str, Any]:
    """Held-out ids: ``share`` of each (label, technique) group, by a seeded random choice."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in records:
        groups[(r["label"], r["technique"])].append(r["id"])
    rng = random.Random(seed)
    held: list[str] = []
    for key in sorted(groups):
        ids = sorted(groups[key])
        rng.shuffle(ids)
        held += ids[: round(len(ids) * share)]
    held.sort()
    dev = sorted(r["id"] for r in records if r["id"] not in set(held))
    return {"seed": seed, "share": share, "stratified_by": ["label", "technique"],
            "decided": "2026-12-03, before any change to mapek/safety/content.py",
            "heldout": held, "dev": dev}


def load_split() -> dict[str, Any]:
    if not SPLIT.exists():
        raise SystemExit(f"{SPLIT.relative_to(REPO)} is missing: run with --make-split once")
    data: dict[str, Any] = json.loads(SPLIT.read_text(encoding="utf-8"))
    return data


@dataclass
class Metrics:
    name: str
    n: int
    tp: int
    fp: int
    fn: int
    tn: int

    def row(self) -> str:
        pos, neg = self.tp + self.fn, self.fp + self.tn
        prec = self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")
        rec = self.tp / pos if pos else float("nan")
        fpr = self.fp / neg if neg else float("nan")
        return (f"| {self.name} | {self.n} | {pos} | {neg} | {rec:.3f} | {prec:.3f} | "
                f"{fpr:.3f} | {self.tp} | {self.fp} | {self.fn} | {self.tn} |")


HEADER = ("| set | n | injection | benign | recall (flagged) | precision | FP rate | TP | FP | FN "
          "| TN |\n|---|---|---|---|---|---|---|---|---|---|---|")


def evaluate(name: str, recs: list[dict[str, Any]], by_technique: dict[str, list[int]],
             errors: list[str] | None = None) -> Metrics:
    tp = fp = fn = tn = 0
    for r in recs:
        v = screen_output(r["text"])
        pos = r["label"] == "injection"
        hit = v.flagged
        tp += pos and hit
        fn += pos and not hit
        fp += hit and not pos
        tn += not hit and not pos
        t = by_technique.setdefault(f"{r['label']}: {r.get('technique', '')}", [0, 0])
        t[0] += hit
        t[1] += 1
        if errors is not None and pos != hit:
            errors.append(f"{r['id']} {r['label']}/{r.get('technique', '')} "
                          f"got={sorted(v.kinds)}\n    "
                          + r["text"][:300].replace("\n", " | "))
    return Metrics(name, len(recs), tp, fp, fn, tn)


def timing(recs: list[dict[str, Any]]) -> str:
    screen_output("warm-up: the detectors' patterns compile on first use")
    per: list[float] = []
    for r in recs:
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            screen_output(r["text"])
            best = min(best, time.perf_counter() - t)
        per.append(best * 1e6)
    big = "INFO served /api/orders in 12 ms from cache node 7\n" * 20_000
    t = time.perf_counter()
    screen_output(big)
    dt = time.perf_counter() - t
    mean_len = statistics.fmean(len(r["text"]) for r in recs)
    return (f"- per text ({len(recs)} texts, mean {mean_len:.0f}"
            f" characters, best of 3): mean {statistics.fmean(per):.0f} µs, worst "
            f"{max(per):.0f} µs\n- one {len(big) / 1e6:.1f} MB log: {dt * 1e3:.0f} ms")


def summary(recs: list[dict[str, Any]], write: bool) -> int:
    """Every development set in one table."""
    split = load_split()
    sets = [
        ("injection-blind-1: dev part (development data)",
         [r for r in recs if r["id"] in set(split["dev"])]),
        ("injection-blind-1: former held-out part (development data since this step)",
         [r for r in recs if r["id"] in set(split["heldout"])]),
        ("injection-dev-2 (development data)", load(DEV2)),
        ("injection-dev-3 (development data after its first score)", load(DEV3)),
    ] + [(label, load(REPO / "tests" / "data" / f"{name}.jsonl")) for name, label in MORE]
    rows = [evaluate(name, sub, {}) for name, sub in sets]
    every = [r for _, sub in sets[:4] for r in sub]  # the time on the same texts as before
    method = ("`screen_output(text).flagged` (offline, no model); an injection counts as caught "
              "when flagged, a benign text as a false positive when flagged")
    report = (f"## Figures\n\nmethod: {method}\n\n" + HEADER + "\n"
              + "\n".join(m.row() for m in rows)
              + "\n\ntime (one thread):\n\n" + timing(every) + "\n\n" + machine() + "\n")
    print(report)
    if write:
        write_figures(RESULTS, report, "Tool-output injection detection: results")
        print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["all", "dev", "heldout"], default="dev")
    ap.add_argument("--label", default="", help="words added to each set's name, e.g. "
                    "'blind, scored once before any change'")
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(REPO)}")
    ap.add_argument("--errors", action="store_true", help="print the dev part's misses")
    ap.add_argument("--summary", action="store_true",
                    help="every development set in one table (blind1 dev and former held-out "
                    "parts, dev2, dev3, the structure examples, blind2-6, dev4, dev5)")
    ap.add_argument("--no-model", action="store_true",
                    help="the rules alone, without the learned layer")
    ap.add_argument("--make-split", action="store_true",
                    help=f"write {SPLIT.relative_to(REPO)} (once, before development)")
    args = ap.parse_args(argv)
    global MODEL
    MODEL = not args.no_model
    recs = load()
    if args.make_split:
        if SPLIT.exists():
            raise SystemExit(f"{SPLIT.relative_to(REPO)} exists; the split is decided once")
        SPLIT.write_text(json.dumps(make_split(recs), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {SPLIT.relative_to(REPO)}")
        return 0
    if args.summary:
        return summary(recs, args.write)
    if args.errors and args.part != "dev":
        raise SystemExit("--errors shows the dev part only; the held-out part is not read")
    if args.part != "all":
        keep = set(load_split()[args.part])
        recs = [r for r in recs if r["id"] in keep]
    suffix = f" ({args.label})" if args.label else ""
    by_tech: dict[str, list[int]] = {}
    errs: list[str] = []
    rows = [evaluate(f"injection-blind-1: {args.part}{suffix}", recs, by_tech,
                     errs if args.errors else None)]
    for source in sorted({r["source"] for r in recs}):
        sub = [r for r in recs if r["source"] == source]
        if len(sub) >= 15:
            rows.append(evaluate(f"  source {source}", sub, {}))
    tech_lines = [f"- {k}: {v[0]}/{v[1]} flagged" for k, v in sorted(by_tech.items())]
    method = ("`screen_output(text).flagged` (offline, no model); an injection counts as caught "
              "when flagged, a benign text as a false positive when flagged")
    report = (f"## Figures\n\nmethod: {method}\n\n" + HEADER + "\n"
              + "\n".join(m.row() for m in rows)
              + "\n\nby technique (label: technique: flagged / texts):\n\n"
              + "\n".join(tech_lines) + "\n\ntime (one thread):\n\n" + timing(recs) + "\n\n"
              + machine() + "\n")
    print(report)
    for e in errs:
        print(e)
    if args.write:
        write_figures(RESULTS, report, "Tool-output injection detection: results")
        print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
