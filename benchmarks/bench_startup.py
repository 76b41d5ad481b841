"""Start-up cost: `import mapek` and `mapek --help`, each in a fresh interpreter.

Method: N fresh processes each (python -c 'import mapek'; python -m mapek.cli --help), timed by
wall clock from spawn to exit with time.perf_counter, alternating the two so machine noise hits
both alike. Reports min, median and max; also the bare interpreter (python -c pass) as the floor.
Targets: `import mapek` <= 0.3 s, `mapek --help` <= 0.5 s. Also checks that neither imports
litellm, chromadb, langgraph or textual.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

N = 20
OUT = Path(__file__).with_name("RESULTS.startup.md")
CASES = {
    "python -c pass (floor)": [sys.executable, "-c", "pass"],
    "import mapek": [sys.executable, "-c", "import mapek"],
    "mapek --help": [sys.executable, "-m", "mapek.cli", "--help"],
}
HEAVY = ("litellm", "chromadb", "langgraph", "textual")


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    samples: dict[str, list[float]] = {k: [] for k in CASES}
    for _ in range(N):
        for name, cmd in CASES.items():
            samples[name].append(timed(cmd))
    probe = ("import sys, mapek, mapek.cli\n"
             "try:\n    mapek.cli.app(['--help'], standalone_mode=False)\nexcept SystemExit:\n"
             f"    pass\nprint([m for m in {HEAVY!r} if m in sys.modules])")
    heavy = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           check=True).stdout.strip().splitlines()[-1]
    lines = [
        "# Start-up (`benchmarks/bench_startup.py`)", "", (__doc__ or "").strip(), "",
        f"- uname -a: `{' '.join(platform.uname())}`",
        f"- CPUs: {os.cpu_count()}; python {platform.python_version()}; N = {N} per case",
        f"- load average at the end: `{os.getloadavg()}`", "",
        "| case | min s | median s | max s |", "|---|---:|---:|---:|",
    ]
    for name, xs in samples.items():
        lines.append(f"| {name} | {min(xs):.3f} | {statistics.median(xs):.3f} | {max(xs):.3f} |")
    lines += ["", f"Heavy modules imported by `import mapek` + `mapek --help`: {heavy}", ""]
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
