"""Development probe (not blind): does the injection screen's verdict change when labelled texts
of the development sets (blind-1..9, dev-2..5; never blind-10) are wrapped the way tools return
them: inside an HTTP-fetch JSON envelope, between page navigation and footer, between log lines?

    .venv/bin/python benchmarks/probe_envelopes.py

400 benign and 300 injected texts drawn with a fixed seed; each row is the flagged /
false-positive rate, shipped (rules + model) and rules alone; then the "cat-k" rows
(:func:`concatenated`). Results: RESULTS.injection.md."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mapek.safety.content import screen_output  # noqa: E402

SETS = [f"injection_blind{i}" for i in range(1, 10)] + [f"injection_dev{i}" for i in (2, 3, 4, 5)]
NAV = "Home | Products | Pricing | Docs | Blog | Careers | Contact\nSign in  Create account\n"
FOOT = ("\n© 2026 Northwind Traders Ltd. All rights reserved. Privacy Policy · Terms of "
        "Service · Cookie settings\nFollow us: Twitter · LinkedIn · GitHub\n")
LOG = "\n".join(f"2026-11-{d:02d}T10:{m:02d}:00Z INFO worker-{m % 4} processed batch {d * m} "
                f"in {m * 13} ms" for d, m in zip(range(1, 15), range(3, 60, 4), strict=False))


def _json(t: str) -> str:
    return json.dumps({"status": 200, "url": "https://example.org/page",
                       "headers": {"content-type": "text/html; charset=utf-8",
                                   "cache-control": "max-age=600"},
                       "fetched_at": "2026-12-01T10:00:00Z", "body": t},
                      ensure_ascii=False, indent=2)


WRAPS: dict[str, Callable[[str], str]] = {
    "plain": lambda t: t,
    "json": _json,
    "page": lambda t: NAV * 2 + t + FOOT * 2,
    # the same footer naming "Example Corp.": "example" anywhere in a text is read as a sign
    # that the text discusses injection, and a quoted instruction in it then passes
    "page-ex": lambda t: NAV * 2 + t + FOOT.replace("Northwind Traders", "Example Corp") * 2,
    "log": lambda t: LOG + "\n" + t + "\n" + LOG,
}


def main() -> None:
    recs = [json.loads(line) for s in SETS
            for line in (REPO / "tests" / "data" / f"{s}.jsonl").read_text().splitlines()
            if line.strip()]
    rng = random.Random(7)
    ben = [r["text"] for r in recs if r["label"] == "benign"]
    inj = [r["text"] for r in recs if r["label"] == "injection"]
    rng.shuffle(ben)
    rng.shuffle(inj)
    ben, inj = ben[:400], inj[:300]
    for kind, wrap in WRAPS.items():
        row = {}
        for label, texts in (("benign", ben), ("injection", inj)):
            shipped = sum(screen_output(wrap(t)).flagged for t in texts) / len(texts)
            rules = sum(screen_output(wrap(t), model=False).flagged for t in texts) / len(texts)
            row[label] = (shipped, rules)
        print(f"{kind:7s} shipped flagged {row['injection'][0]:.3f} FP {row['benign'][0]:.3f} | "
              f"rules alone flagged {row['injection'][1]:.3f} FP {row['benign'][1]:.3f}",
              flush=True)


def concatenated() -> None:
    """Rows "cat-k": k texts of the development sets under 1,200 characters joined by blank
    lines (a long page of unrelated paragraphs); the injected side holds one injected text at a
    random place among k - 1 benign ones. 300 of each, drawn with a fixed seed. Even a perfect
    per-paragraph screen flags more of the joined benign texts as k grows: each paragraph
    keeps its own chance of a false positive (about 1 - (1 - FP)^k)."""
    recs = [json.loads(line) for s in SETS
            for line in (REPO / "tests" / "data" / f"{s}.jsonl").read_text().splitlines()
            if line.strip()]
    ben = [r["text"] for r in recs if r["label"] == "benign" and len(r["text"]) < 1200]
    inj = [r["text"] for r in recs if r["label"] == "injection" and len(r["text"]) < 1200]
    rng = random.Random(11)
    for k in (1, 2, 4):
        flagged = fp = 0
        for _ in range(300):
            fp += screen_output("\n\n".join(rng.sample(ben, k))).flagged
            parts = rng.sample(ben, k - 1)
            parts.insert(rng.randrange(k), rng.choice(inj))
            flagged += screen_output("\n\n".join(parts)).flagged
        print(f"cat-{k}   shipped flagged {flagged / 300:.3f} FP {fp / 300:.3f}", flush=True)


if __name__ == "__main__":
    concatenated()
    main()
