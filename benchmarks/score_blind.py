"""Score a blind batch once: aggregate figures only, no record is printed.

The protocol of tests/data/BLIND.md: a blind file is scored once against the code as it is,
and the figure is recorded before the file is used for anything else. This script prints the
aggregate row the matching benchmark would print (and, with ``--by``, the same row for each
group: a plan's ``category``, an injection's label, a question's ``discussion_topic``), and
never a record's text, id or verdict, so that scoring does not turn a blind file into
development data.

    .venv/bin/python benchmarks/score_blind.py screening tests/data/screening_blind6.jsonl
    .venv/bin/python benchmarks/score_blind.py injection tests/data/injection_blind2.jsonl
    .venv/bin/python benchmarks/score_blind.py triage tests/data/triage_blind4.jsonl [--by]
    (``triage-held``: the same, as mapek acts, an unsure question held for the person)

Run it at two commits (``git worktree add /tmp/before <commit>``, then run that tree's copy
with ``PYTHONPATH`` pointing at it) to compare the code before and after a change on data
neither was written for.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parents[1]


def _load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _screening(recs: list[dict[str, Any]], name: str) -> tuple[str, str]:
    from bench_screening import measure

    from mapek.safety.screening import Screener

    m = measure(name, Screener(), recs)
    header = ("| set | n | destructive | precision | recall | FP rate | TP | FP | FN | TN | "
              "verdict agrees | uncertain (held) | confidently wrong | destructive allowed "
              "with no doubt |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    return header, m.row()


def _injection(recs: list[dict[str, Any]], name: str) -> tuple[str, str]:
    from bench_injection import HEADER, evaluate

    return HEADER, evaluate(name, recs, {}).row()


def _triage(recs: list[dict[str, Any]], name: str) -> tuple[str, str]:
    from bench_triage import HEADER, evaluate, peer_expertise

    return HEADER, evaluate(name, recs, peer_expertise()).row()


def _triage_held(recs: list[dict[str, Any]], name: str) -> tuple[str, str]:
    """As mapek acts: an unsure question is held for the person (counted consequential)."""
    from bench_triage import HELD_HEADER, evaluate, peer_expertise

    return HELD_HEADER, evaluate(name, recs, peer_expertise()).held_row()


KINDS: dict[str, tuple[Callable[[list[dict[str, Any]], str], tuple[str, str]], str]] = {
    "screening": (_screening, "category"),
    "injection": (_injection, "source"),
    "triage": (_triage, "discussion_topic"),
    "triage-held": (_triage_held, "discussion_topic"),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kind", choices=sorted(KINDS))
    ap.add_argument("file", type=Path)
    ap.add_argument("--by", action="store_true", help="a row for each group as well")
    args = ap.parse_args(argv)
    score, group = KINDS[args.kind]
    recs = _load(args.file)
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    header, row = score(recs, f"{args.file.stem} (code at {head or '?'})")
    print(header)
    print(row)
    if args.by:
        for value in sorted({str(r.get(group, "")) for r in recs}):
            print(score([r for r in recs if str(r.get(group, "")) == value],
                        f"  {group} {value}")[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
