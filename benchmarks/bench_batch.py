"""Benchmark batches (``mapek.batch``): a many-cell batch on a model with 200 ms latency per
call, on the local pool and on Ray, against the same cells run one after another.

Method. The model is a double with real latency: the OpenAI stand-in
(``mapek.testing.openai_server``, a real HTTP server on 127.0.0.1 in this process) in its
``stall`` mode, which answers every call after ``--latency`` seconds (default 0.2); the
cells reach it through the real model path (litellm's ``openai/`` provider, ``api_base``). A
cell is a whole session with its own worker and watchdog processes: a 3-persona panel,
``--turns`` persona turns (default 2), so every figure includes starting those processes.
The plan is ``--cells`` topics (default 100) x one panel, at ``--concurrency`` (default 8).
Each part runs on a fresh workspace (SQLite log), timed with ``time.perf_counter`` from
``Batch.run`` to its return:

1. one after another: ``--sample`` cells (default 3) with concurrency 1 on the local pool, and again
   on Ray; the sequential time of N cells is this per-cell wall time x N, labelled as scaled;
2. the N-cell batch at ``--concurrency`` on the local pool;
3. the same on a local Ray (``ray.init(num_cpus=2)``, started once before the Ray parts and
   not counted; ``cpus_per_cell = 2 / concurrency`` so that Ray runs as many cells at once).

Overhead per cell of an executor: the per-cell wall time at concurrency 1 minus the cell's
worker time (its ``worker.started`` to its last event): creating the session, starting its
processes up to the worker's first event, following and reaping it. The PostgreSQL log's
appends per second and follow latency against SQLite are measured by ``bench_log.py --backend
postgres`` (``RESULTS.knowledge.md``); this script does not repeat them.

    .venv/bin/python benchmarks/bench_batch.py [--cells 100] [--concurrency 8] [--sample 3]
        [--turns 2] [--latency 0.2] [--no-ray] [--no-write]

Writes ``benchmarks/RESULTS.batch.md`` unless ``--no-write`` (a run with ``--cells`` under
100 is a quick check and writes only with ``--write-small``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TOPICS = ["open an office in Berlin", "migrate the customer database to a managed cloud",
          "raise subscription prices by ten percent", "hire a second support team",
          "drop the on-premise edition", "enter the Japanese market",
          "build our own payment processing", "move to a four-day week"]


def machine() -> list[str]:
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [f"uname -a: `{uname}`", f"CPUs: {os.cpu_count()}; load average at the start: {load} "
            "(the machine is shared with other engineers' test runs: compare the ratios of one "
            "run, not runs)", f"Python {platform.python_version()}"]


def plan(n: int, url: str, turns: int, concurrency: int) -> dict[str, Any]:
    topics = [{"id": f"q{i + 1:03d}",
               "text": f"Should we {TOPICS[i % len(TOPICS)]} (case {i + 1})?"}
              for i in range(n)]
    return {"name": f"bench {n}", "topics": topics,
            "panels": {"finance": ["cfo", "skeptic", "legal"]},
            "models": [{"name": "openai/stand-in", "api_base": url,
                        "api_key_env": "MAPEK_BENCH_KEY", "label": "double"}],
            "session": {"max_turns": turns}, "limits": {"concurrency": concurrency}}


def run_part(label: str, n: int, url: str, turns: int, concurrency: int,
             executor: Any) -> dict[str, Any]:
    from mapek import Batch

    home = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    b = Batch.create(plan(n, url, turns, concurrency), home=home)
    start = time.perf_counter()
    st = b.run(executor=executor)
    wall = time.perf_counter() - start
    b.close()
    worker = [c.seconds for c in st.cells]
    out = {"part": label, "cells": n, "concurrency": concurrency, "wall_s": round(wall, 2),
           "per_cell_s": round(wall / n, 3), "state": st.state, "counts": st.counts,
           "worker_s_mean": round(statistics.mean(worker), 3),
           "overhead_s": round(wall / n - statistics.mean(worker), 3) if concurrency == 1
           else None}
    print(json.dumps(out), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cells", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--sample", type=int, default=3)
    ap.add_argument("--turns", type=int, default=2)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--write-small", action="store_true")
    ap.add_argument("--json", type=Path, help="also keep the raw figures here")
    args = ap.parse_args()
    os.environ["MAPEK_BENCH_KEY"] = "not-a-real-key"
    from mapek.batch.executor import LocalExecutor
    from mapek.testing.openai_server import OpenAIStandIn

    head = machine()
    rows: list[dict[str, Any]] = []
    with OpenAIStandIn("stall", stall_seconds=args.latency) as server:
        rows.append(run_part("local, one after another", args.sample, server.url, args.turns,
                             1, LocalExecutor()))
        rows.append(run_part("local pool", args.cells, server.url, args.turns,
                             args.concurrency, LocalExecutor()))
        calls_local = server.request_count
        ray_init = None
        if not args.no_ray:
            import ray

            from mapek.batch.ray_executor import RayExecutor

            t = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            ray_init = time.perf_counter() - t
            try:
                rows.append(run_part("Ray, one after another", args.sample, server.url,
                                     args.turns, 1, RayExecutor()))
                rows.append(run_part("Ray", args.cells, server.url, args.turns,
                                     args.concurrency,
                                     RayExecutor(cpus_per_cell=2 / args.concurrency)))
            finally:
                ray.shutdown()
        calls = server.request_count
    result = {"machine": head, "args": vars(args) | {"json": str(args.json or "")},
              "rows": rows, "ray_init_s": None if ray_init is None else round(ray_init, 2),
              "model_calls": calls, "model_calls_per_cell":
              round(calls_local / (args.sample + args.cells), 2)}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if not args.no_write and (args.cells >= 100 or args.write_small):
        write(result)


def write(r: dict[str, Any]) -> None:
    rows = {x["part"]: x for x in r["rows"]}
    a = r["args"]
    n = a["cells"]
    seq_local = rows["local, one after another"]["per_cell_s"]
    lines = ["# Batch benchmark", "", "Measured by `benchmarks/bench_batch.py` "
             f"(`--cells {n} --concurrency {a['concurrency']} --sample {a['sample']} "
             f"--turns {a['turns']} --latency {a['latency']}`), "
             + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()) + ".", "",
             "## Machine", "", *[f"- {m}" for m in r["machine"]], "",
             "## Method", "", __doc__.split("Method. ", 1)[1].split("    .venv")[0].strip(), "",
             "## Results", "",
             f"Model calls per cell: {r['model_calls_per_cell']} (each {a['latency'] * 1000:.0f}"
             " ms at the double).", "",
             "| part | cells | concurrency | wall time | per cell | worker time per cell "
             "| executor overhead per cell |", "|---|---|---|---|---|---|---|"]
    for x in r["rows"]:
        over = "" if x["overhead_s"] is None else f"{x['overhead_s']:.2f} s"
        lines.append(f"| {x['part']} | {x['cells']} | {x['concurrency']} | {x['wall_s']:.1f} s "
                     f"| {x['per_cell_s']:.2f} s | {x['worker_s_mean']:.2f} s | {over} |")
    lines += ["", f"Sequential estimate for {n} cells (**scaled** from the {a['sample']} cells "
              f"run one after another on the local pool): {seq_local * n:.0f} s."]
    if "local pool" in rows:
        w = rows["local pool"]["wall_s"]
        lines.append(f"- local pool, {n} cells at concurrency {a['concurrency']}: {w:.0f} s, "
                     f"{w / (seq_local * n):.2f} of the sequential estimate "
                     f"({seq_local * n / w:.1f}x faster).")
    if "Ray" in rows:
        w = rows["Ray"]["wall_s"]
        seq_ray = rows["Ray, one after another"]["per_cell_s"]
        lines.append(f"- Ray, {n} cells at concurrency {a['concurrency']}: {w:.0f} s, "
                     f"{w / (seq_local * n):.2f} of the sequential estimate "
                     f"({seq_local * n / w:.1f}x faster); against the local pool "
                     f"{w / rows['local pool']['wall_s']:.2f}. Ray one after another: "
                     f"{seq_ray:.2f} s per cell against {seq_local:.2f} s locally. Starting the "
                     f"local Ray (not counted above): {r['ray_init_s']:.1f} s.")
    lines += ["", "## Reading it", "",
              "A cell is a whole session in processes of its own, so on 2 shared cores the "
              "batch is bound by CPU (Python start-up, imports, the loop's work per turn), not "
              "by the model's latency; running cells at once hides the latency and the "
              "waiting, not the CPU. The executor overhead is the part of a cell's wall time "
              "outside its worker (session creation in the driver, process start-up to the "
              "worker's first event, following and reaping). Ray adds its task dispatch and "
              "keeps its own worker processes (one per running cell) beside the sessions'.", "",
              "PostgreSQL log against SQLite (appends per second, follow latency): "
              "`bench_log.py --backend postgres`, in [RESULTS.knowledge.md]"
              "(RESULTS.knowledge.md), section \"Event log on PostgreSQL against SQLite\".",
              ""]
    (REPO / "benchmarks" / "RESULTS.batch.md").write_text("\n".join(lines))
    print("wrote benchmarks/RESULTS.batch.md")


if __name__ == "__main__":
    main()
