"""Benchmark the model gateway (``mapek.llm``): what a call costs apart from the model itself.

Method: each figure is the median (p50) and p90 of N sequential calls in one process, after
warm-up calls, timed with ``time.perf_counter``; the bare litellm call and the gateway call are
timed in alternation so that drift on a shared machine affects both alike. The offline model
answers instantly, so a call to it measures litellm's own overhead plus the engine; a gateway over a
``FunctionModel`` (no litellm) measures the gateway's overhead alone (retry wrapper, budget
reserve/settle, recording to a list, request building). One-off costs (importing litellm, the first
call) are timed once.

    .venv/bin/python benchmarks/bench_llm.py [-n 300] [--no-write]

Writes ``benchmarks/RESULTS.llm.md`` unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pydantic import BaseModel  # noqa: E402

RESULTS = REPO / "benchmarks" / "RESULTS.llm.md"
QUESTION = "Should we migrate the billing database to managed Postgres this quarter?"


class Verdict(BaseModel):
    decision: Literal["go", "no-go"]
    confidence: float
    reasons: list[str]


def machine() -> dict[str, str]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    return {
        "uname -a": uname or platform.platform(),
        "CPU": f"{cpu} ({os.cpu_count()} logical CPUs)",
        "python": sys.version.split()[0],
    }


def timed(fn: Callable[[], Any], n: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def interleaved(fns: list[Callable[[], Any]], n: int, warmup: int = 5) -> list[list[float]]:
    """Time several functions call by call in turn, so drift on a shared machine hits all."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    out: list[list[float]] = [[] for _ in fns]
    for _ in range(n):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            out[i].append((time.perf_counter() - start) * 1000)
    return out


def atimed(fn: Callable[[], Any], n: int, warmup: int = 5) -> list[float]:
    async def run() -> list[float]:
        for _ in range(warmup):
            await fn()
        out = []
        for _ in range(n):
            start = time.perf_counter()
            await fn()
            out.append((time.perf_counter() - start) * 1000)
        return out

    return asyncio.run(run())


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if q != 50 else \
        statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="calls per figure")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    n = args.n

    rows: list[tuple[str, list[float] | float, str]] = []

    start = time.perf_counter()
    import mapek.llm  # noqa: F401

    rows.append(("`import mapek.llm` (litellm not imported)", (time.perf_counter() - start) * 1000,
                 "one-off"))

    from mapek.llm import Budget, Gateway
    from mapek.llm._litellm import get_litellm
    from mapek.llm.offline import OfflineRequest, respond
    from mapek.testing import FunctionModel

    start = time.perf_counter()
    litellm = get_litellm()
    rows.append(("`get_litellm()`: import litellm, register offline provider",
                 (time.perf_counter() - start) * 1000, "one-off"))

    events: list[Any] = []

    def recorder(*event: Any) -> None:
        events.append(event)

    gw = Gateway("mapek/offline", recorder=recorder, budget=Budget(max_tokens=10**12))
    start = time.perf_counter()
    gw.complete(QUESTION)
    rows.append(("first offline call through litellm (lazy set-up inside litellm)",
                 (time.perf_counter() - start) * 1000, "one-off"))

    messages = [{"role": "user", "content": QUESTION}]
    raw, full = interleaved(
        [lambda: litellm.completion(model="mapek/offline", messages=messages),
         lambda: gw.complete(QUESTION)],
        n,
    )
    rows.append(("`litellm.completion(model='mapek/offline')` (litellm + engine)", raw,
                 "per call"))
    rows.append(("`Gateway.complete` offline (full stack: retry, budget, record, litellm)",
                 full, "per call"))
    rows.append(("`Gateway.acomplete` offline",
                 atimed(lambda: gw.acomplete(QUESTION), n), "per call"))
    rows.append(("`Gateway.structured(Verdict)` offline (schema prompt, repair, validate)",
                 timed(lambda: gw.structured(QUESTION, Verdict), n), "per call"))

    fake = Gateway(FunctionModel(lambda req: "ok"), recorder=recorder,
                   budget=Budget(max_tokens=10**12))
    rows.append(("`Gateway.complete` over FunctionModel: gateway overhead, no litellm",
                 timed(lambda: fake.complete(QUESTION), n * 10), "per call"))
    bare = Gateway(FunctionModel(lambda req: "ok"))
    rows.append(("`Gateway.complete` over FunctionModel, no budget/recorder",
                 timed(lambda: bare.complete(QUESTION), n * 10), "per call"))
    request = OfflineRequest(messages=messages, task="persona_turn",
                             context={"topic": QUESTION, "turn": 3})
    rows.append(("offline engine alone: `respond(persona_turn)`",
                 timed(lambda: respond(request), n * 10), "per call"))

    litellm_p50 = statistics.median(rows[3][1])  # type: ignore[arg-type]
    gateway_p50 = statistics.median(rows[4][1])  # type: ignore[arg-type]

    info = machine()
    lines = [
        "# Model gateway benchmark (`benchmarks/bench_llm.py`)",
        "",
        __doc__.split("\n\n")[1].replace("\n", " ").strip(),
        "",
        *(f"- {k}: `{v}`" for k, v in info.items()),
        f"- litellm: `{_version('litellm')}`, pydantic: `{_version('pydantic')}`,"
        f" tenacity: `{_version('tenacity')}`; N = {n} (x10 for the sub-millisecond rows)",
        f"- date: {time.strftime('%Y-%m-%d %H:%M')}",
        f"- load average at the end: `{_load()}` (on a shared machine, figures vary run to run;"
        " compare rows of one run, not runs)",
        "",
        "| what | p50 ms | p90 ms | |",
        "|---|---:|---:|---|",
    ]
    for name, values, kind in rows:
        if isinstance(values, list):
            lines.append(f"| {name} | {p(values, 50):.3f} | {p(values, 90):.3f} | {kind} |")
        else:
            lines.append(f"| {name} | {values:.1f} | | {kind} |")
    lines += [
        "",
        f"Gateway stack on top of a bare litellm call (offline): "
        f"{gateway_p50 - litellm_p50:+.3f} ms at p50 "
        f"({gateway_p50:.3f} vs {litellm_p50:.3f} ms).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        RESULTS.write_text(text, encoding="utf-8")
        print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _version(name: str) -> str:
    from importlib.metadata import version

    try:
        return version(name)
    except Exception:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
