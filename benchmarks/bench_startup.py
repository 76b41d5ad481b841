"""Start-up cost: `import mapek` and `mapek --help`, each in a fresh interpreter.

Method: N fresh processes each (python -c 'import mapek'; python -m mapek.cli --help), timed by
wall clock from spawn to exit with time.perf_counter, alternating the two so machine noise hits
both alike. Reports min, median and max; also the bare interpreter (python -c pass) as the floor.
Targets: `import mapek` <= 0.3 s, `mapek --help` <= 0.5 s. Also checks that neither imports
litellm, chromadb, langgraph or textual.

First persona message (issue 16; target <= 2 s each, quiet machine): M runs each, in a fresh
workspace, of (a) `mapek discuss TOPIC --non-interactive --json --max-turns 4`, timed from spawn
to the first `message` line on its output; (b) in a fresh interpreter that has imported
mapek.api, `Session.create(...)` then `.step()`, timed from the call to `create` to the first
`message` event the step streams, and to `step()` returning; then a second `step()` on the same,
live session. Each as shipped, and with the earlier path switched back on in the same run
(`MAPEK_OFFLINE_VIA_LITELLM=1`: the offline model through litellm; `MAPEK_WARM_WORKER=0`: no
worker started ahead of time), alternating, so the ratio is of one load. Medians, min and max.
The earlier path is not all of the earlier code: search scoring without chromadb and the worker
kept between steps stay on in both.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N = 20
M = 5
TOPIC = "Should we move our customer database to a managed cloud service this quarter?"
EARLIER = {"MAPEK_OFFLINE_VIA_LITELLM": "1", "MAPEK_WARM_WORKER": "0"}
API_PROBE = """
import json, sys, time
t = time.perf_counter()
from mapek.api import Session
imported = time.perf_counter() - t
t0 = time.perf_counter()
s = Session.create(sys.argv[1], human="defer", max_turns=8)
after = s.kb.log.last_seq(s.run_id)
s.start(rounds=1)  # what step() does: start, then stream what the round writes
first = None
for ev in s.stream(after):
    if ev.kind == "message" and first is None:
        first = time.perf_counter() - t0
step = time.perf_counter() - t0
t1 = time.perf_counter()
again = s.step()
second = time.perf_counter() - t1
pids = {e.payload["pid"] for e in s.history() if e.kind == "worker.started"}
s.close()
print(json.dumps({"import": imported, "first": first, "step": step, "second": second,
                  "workers": len(pids), "ok": again[-1].kind == "run.paused"}))
"""
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


def _env(extra: dict[str, str]) -> dict[str, str]:
    home = tempfile.mkdtemp(prefix="mapek-bench-start-")
    env = {k: v for k, v in os.environ.items() if k not in EARLIER}
    return {**env, "MAPEK_HOME": home, **extra}


def discuss_first(extra: dict[str, str]) -> float:
    """Seconds from spawning `mapek discuss` to its first persona message."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "mapek.cli", "discuss", TOPIC,
                             "--non-interactive", "--json", "--max-turns", "4"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=_env(extra))
    first = float("nan")
    assert proc.stdout is not None
    for line in proc.stdout:
        if first != first and json.loads(line).get("kind") == "message":
            first = time.perf_counter() - t
    proc.wait()
    return first


def api_first(extra: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", API_PROBE, TOPIC], capture_output=True,
                         text=True, check=True, env=_env(extra))
    got: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return got


def first_message() -> list[str]:
    rows: dict[str, list[float]] = {}
    workers: dict[str, set[float]] = {}
    for _ in range(M):
        for label, extra in (("as shipped", {}), ("earlier path", EARLIER)):
            rows.setdefault(f"`mapek discuss`: first message ({label})", []).append(
                discuss_first(extra))
            api = api_first(extra)
            rows.setdefault(f"`Session.create().step()`: first message ({label})", []).append(
                api["first"])
            rows.setdefault(f"`Session.create().step()`: step returned ({label})", []).append(
                api["step"])
            rows.setdefault(f"second `step()` on the live session ({label})", []).append(
                api["second"])
            rows.setdefault(f"`import mapek.api` before it ({label})", []).append(api["import"])
            workers.setdefault(label, set()).add(api["workers"])
    lines = [f"## First persona message (M = {M} each, alternating)", "",
             f"- load average before: `{LOAD_BEFORE}`; after: `{os.getloadavg()}`", "",
             "| case | min s | median s | max s |", "|---|---:|---:|---:|"]
    for name, xs in sorted(rows.items(), key=lambda kv: kv[0]):
        lines.append(f"| {name} | {min(xs):.2f} | {statistics.median(xs):.2f} | "
                     f"{max(xs):.2f} |")
    lines += ["", "Worker processes per session of two steps (worker.started pids): "
              + ", ".join(f"{k}: {sorted(v)}" for k, v in workers.items()), ""]
    return lines


LOAD_BEFORE: tuple[float, float, float] = (0.0, 0.0, 0.0)


def main() -> None:
    global LOAD_BEFORE
    LOAD_BEFORE = os.getloadavg()
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
    if "--no-first" not in sys.argv:
        lines += first_message()
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
