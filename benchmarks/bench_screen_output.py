"""Benchmark the speed of tool-output injection screening (``screen_output``, and its two parts
``learned.features`` and ``injection.find``), this tree against another commit, alternating.

Texts: a fixed mix drawn from tests/data/injection_*.jsonl (:data:`SETS`) by a seeded
choice: for each size (200 B, 1 KB, 4 KB, 64 KB) and each of benign/injected and
English/non-English (a text with more than 20% non-ASCII letters), labelled texts joined
with a newline until the size is reached, cut there. Each call is timed on its own, in CPU
time of the worker process (the machine is shared: wall time counts the other jobs); the
figure is the median ms per call.
A round times every text once per part in turn, so that a text comes back only after the
fifteen others (the code keeps the views and scans of the last few texts).

Before and after run in two worker processes (``--before REF``: that commit's ``mapek``,
extracted with ``git archive`` into a temporary directory; after: this tree), each warmed up
once, then rounds alternate between them so that other load on the machine falls on both.

    .venv/bin/python benchmarks/bench_screen_output.py [--before main] [--rounds 5] [--write]

``--write`` appends a dated section "screen_output speed" to RESULTS.injection.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from _common import machine  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "RESULTS.injection.md"
SIZES = {"200B": 200, "1KB": 1024, "4KB": 4096, "64KB": 65536}
PARTS = ("screen_output", "features", "find")
SETS = ("injection_blind1", "injection_blind2", "injection_blind3", "injection_blind4",
        "injection_blind5", "injection_blind6", "injection_blind7", "injection_blind8",
        "injection_dev2", "injection_dev3", "injection_dev4", "injection_dev5",
        "injection_structure_examples")
"""The labelled sets the mix is drawn from (fixed: a set added later does not change it)."""


def _foreign(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(not c.isascii() for c in letters) > 0.2 * len(letters)


def texts(seed: int = 16) -> dict[str, str]:
    """The fixed mix: name ("1KB injected en") -> text."""
    pools: dict[tuple[str, str], list[str]] = {}
    for path in (REPO / "tests" / "data" / f"{name}.jsonl" for name in SETS):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                label = "injected" if row["label"] == "injection" else "benign"
                lang = "other" if _foreign(row["text"]) else "en"
                pools.setdefault((label, lang), []).append(row["text"])
    rnd = random.Random(seed)
    out: dict[str, str] = {}
    for size_name, size in SIZES.items():
        for (label, lang), pool in sorted(pools.items()):
            parts: list[str] = []
            while sum(len(p) + 1 for p in parts) < size:
                parts.append(rnd.choice(pool))
            if label == "injected" and size > 1024:
                rnd.shuffle(parts)  # the injected text somewhere inside, not always first
            out[f"{size_name} {label} {lang}"] = "\n".join(parts)[:size]
    return out


def worker() -> None:
    """Read round requests on stdin, answer each with the ms per call of every text and part."""
    from mapek.safety import injection, learned
    from mapek.safety.content import screen_output

    fns = {"screen_output": screen_output, "features": learned.features, "find": injection.find}
    mix = texts()
    for line in sys.stdin:
        reps = int(line)
        out: dict[str, dict[str, list[float]]] = {}
        # a text comes back only after the fifteen others: what the code keeps of the last
        # few texts (their views, their scans) is not reused, as in use, where each tool
        # output is screened once
        for rep in range(reps):
            for part, fn in fns.items():
                for name, text in mix.items():
                    if rep and name.startswith("64KB"):
                        continue
                    t0 = time.process_time()
                    fn(text)
                    out.setdefault(name, {}).setdefault(part, []).append(
                        (time.process_time() - t0) * 1000)
        print(json.dumps(out), flush=True)


def _tree(ref: str, into: Path) -> Path:
    data = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref, "mapek"],
                          capture_output=True, check=True).stdout
    tar = into / "tree.tar"
    tar.write_bytes(data)
    with tarfile.open(tar) as tf:
        tf.extractall(into, filter="data")
    return into


def run(before: str, rounds: int, reps: int) -> tuple[dict[str, dict[str, dict[str, float]]], str]:
    with tempfile.TemporaryDirectory() as tmp:
        base = _tree(before, Path(tmp))
        sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", before],
                             capture_output=True, text=True, check=True).stdout.strip()
        procs = {}
        for side, root in (("before", base), ("after", REPO)):
            env = {**os.environ, "PYTHONPATH": str(root)}
            procs[side] = subprocess.Popen(
                [sys.executable, __file__, "--worker"], cwd=REPO / "benchmarks", env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        times: dict[str, dict[str, dict[str, list[float]]]] = {"before": {}, "after": {}}
        for r in range(rounds + 1):  # round 0 warms up (compiles the patterns, fills caches)
            for side, p in procs.items():
                assert p.stdin is not None and p.stdout is not None
                p.stdin.write(f"{1 if r == 0 else reps}\n")
                p.stdin.flush()
                got = json.loads(p.stdout.readline())
                if r:
                    for name, parts in got.items():
                        for part, ts in parts.items():
                            times[side].setdefault(name, {}).setdefault(part, []).extend(ts)
        for p in procs.values():
            assert p.stdin is not None
            p.stdin.close()
            p.wait()
    med = {side: {name: {part: statistics.median(ts) for part, ts in parts.items()}
                  for name, parts in byname.items()} for side, byname in times.items()}
    return med, sha


def report(med: dict[str, dict[str, dict[str, float]]], sha: str, rounds: int, reps: int) -> str:
    after = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True, check=True).stdout.strip()
    lines = [f"## screen_output speed, {dt.date.today().isoformat()}", "",
             f"Median ms per call, before = `{sha}` and after = this tree (HEAD `{after}`), in "
             f"two worker processes alternating round by round ({rounds} rounds of {reps} "
             "calls per text, 1 for 64 KB, after one warm-up round); ratio = before / after. "
             "`benchmarks/bench_screen_output.py`.", "", machine(), "",
             "| text | screen_output before | after | ratio | features before | after | ratio "
             "| find before | after | ratio |", "|---|" + "---:|" * 9]
    for name in med["before"]:
        row = [name]
        for part in PARTS:
            b, a = med["before"][name][part], med["after"][name][part]
            row += [f"{b:.2f}", f"{a:.2f}", f"{b / a:.1f}x"]
        lines.append("| " + " | ".join(row) + " |")
    for size in SIZES:
        names = [n for n in med["before"] if n.startswith(size + " ")]
        b = sum(med["before"][n]["screen_output"] for n in names)
        a = sum(med["after"][n]["screen_output"] for n in names)
        lines.append(f"\n{size}: screen_output over the four texts {b:.1f} ms before, "
                     f"{a:.1f} ms after ({b / a:.1f}x).")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="main")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker()
        return
    med, sha = run(args.before, args.rounds, args.reps)
    text = report(med, sha, args.rounds, args.reps)
    print(text)
    if args.write:
        RESULTS.write_text(RESULTS.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + text,
                           encoding="utf-8")


if __name__ == "__main__":
    main()
