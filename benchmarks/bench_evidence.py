"""Benchmark evidence envelopes (``mapek.evidence``): signing, checking, checking against the log.

Set-up: a real workspace (SQLite log) in a temp folder, a ToolGateway with an in-process scanner;
each envelope is a security audit of ``--files`` files (1 listing + N scan calls cited, N input
and N+1 output digests), sealed by an EvidenceCollector. Timed per envelope, over ``--n``
envelopes after a warm-up, with ``time.perf_counter``:

The gateway is slow to produce audits (it re-reads the workspace's provenance on every call),
so ``--real`` audits run through it and the ``--n`` envelopes re-seal their evidence under
distinct task ids: each cites real ``tool.call`` events and is checked in full.

Each row gives wall-clock time and the CPU time of the benchmark's thread
(``time.thread_time``): on a shared machine the wall-clock p99 mostly measures waiting for a
CPU; the CPU columns measure the work.

* sign: ``Envelope.sign(key)`` (canonical JSON + HMAC-SHA256)
* verify: ``Envelope.signature_ok(key)``
* parse + verify: JSON text -> ``load_envelope`` -> ``signature_ok`` (what a receiver does first)
* check against the log: ``EvidenceChecker.evaluate`` (signature, requirement, every cited
  event read from SQLite, facts recomputed from the calls' outputs); writes nothing
* check + record: ``EvidenceChecker.check`` (the above + an ``evidence.accepted`` event, i.e. one
  durable SQLite append)

The log-size row repeats the check in a run with ``--noise`` extra events before the audit.

    .venv/bin/python benchmarks/bench_evidence.py [--n 2000] [--files 9] [--write]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mapek.config import Workspace  # noqa: E402
from mapek.evidence import (  # noqa: E402
    Envelope,
    EvidenceChecker,
    EvidenceCollector,
    Requirements,
    TaskRef,
    load_envelope,
    run_key,
)
from mapek.knowledge import KnowledgeBase  # noqa: E402
from mapek.models import EventDraft  # noqa: E402
from mapek.safety.gateway import ToolGateway  # noqa: E402
from mapek.safety.tools import ToolRegistry, tool  # noqa: E402

RESULTS = REPO / "benchmarks" / "RESULTS.evidence.md"
BEGIN, END = "<!-- bench_evidence:begin -->", "<!-- bench_evidence:end -->"


def tools() -> ToolRegistry:
    @tool(effect="read")
    def list_files(root: str) -> str:
        files = sorted(str(p) for p in Path(root).glob("*.py"))
        return json.dumps({"count": len(files), "files": files})

    @tool(effect="read")
    def scan_file(path: str) -> str:
        data = Path(path).read_bytes()
        return json.dumps({"path": path, "sha256": hashlib.sha256(data).hexdigest(),
                           "rules_run": 8, "errors": 0, "warnings": data.count(b"TODO")},
                          sort_keys=True)

    reg = ToolRegistry()
    reg.register(list_files)
    reg.register(scan_file)
    return reg


def audit(gw: ToolGateway, key: bytes, repo: Path, task_id: str) -> Envelope:
    c = EvidenceCollector(gw, "security", ("security_audit", task_id), key=key)
    listing = json.loads(c.call("list_files", {"root": str(repo)}).output)
    res = []
    for f in listing["files"]:
        res.append(json.loads(c.call("scan_file", {"path": f}).output))
        c.input(f, Path(f).read_bytes())
    n = listing["count"]
    return c.seal("continue", "clean", {
        "items_examined": len(res), "files_total": n, "coverage": len(res) / n, "rules_run": 8,
        "errors": 0, "warnings": sum(r["warnings"] for r in res)})


def variants(real: list[Envelope], n: int, key: bytes) -> list[Envelope]:
    """``n`` distinct signed envelopes citing the real audits' events (other task ids)."""
    return [real[i % len(real)].model_copy(
        update={"task": TaskRef(type="security_audit", id=f"v{i}")}).sign(key)
        for i in range(n)]


def timed(fn: Callable[[Any], Any], items: list[Any]) -> tuple[list[float], list[float]]:
    """Wall-clock and this thread's CPU milliseconds of each call."""
    wall, cpu = [], []
    for item in items:
        c0, t0 = time.thread_time(), time.perf_counter()
        fn(item)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
    return wall, cpu


def stats(times: tuple[list[float], list[float]]) -> dict[str, float]:
    out: dict[str, float] = {"n": len(times[0])}
    for name, ms in zip(("", "cpu_"), times, strict=True):
        ms = sorted(ms)
        out |= {f"{name}p50": statistics.median(ms),
                f"{name}p99": ms[min(len(ms) - 1, int(len(ms) * 0.99))],
                f"{name}mean": statistics.fmean(ms)}
    return out


def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in
                   Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()
    return (f"- `uname -a`: {uname}\n- python {platform.python_version()}, "
            f"{os.cpu_count()} CPUs ({cpu or 'unknown'}), load average at start "
            f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} (the machine is shared)\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000, help="envelopes per measurement")
    ap.add_argument("--files", type=int, default=9, help="files per audit (cited calls - 1)")
    ap.add_argument("--real", type=int, default=40,
                    help="audits run through the gateway; the n envelopes re-seal their evidence")
    ap.add_argument("--noise", type=int, default=10_000, help="extra events for the size row")
    ap.add_argument("--write", action="store_true", help=f"update {RESULTS.name}")
    a = ap.parse_args()
    rows: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as tmp:
        root = Path(tmp)
        repo = root / "repo"
        repo.mkdir()
        for i in range(a.files):
            (repo / f"m{i}.py").write_text(f"x = {i}  # TODO\n" * 20)
        ws = Workspace.open(root / "ws")
        with KnowledgeBase.open(ws) as kb:
            reqs = Requirements.load()
            t0 = time.perf_counter()
            run = "bench"
            gw = ToolGateway(tools(), kb, run)
            key = run_key(ws, run)
            real = [audit(gw, key, repo, f"a{i}") for i in range(a.real)]
            produce = (time.perf_counter() - t0) / a.real * 1000
            envs = variants(real, a.n, key)
            unsigned = [e.model_copy(update={"signature": ""}) for e in envs]
            texts = [e.to_json() for e in envs]
            for e in envs[:50]:  # warm-up
                e.sign(key)
                e.signature_ok(key)
            rows.append(("sign", stats(timed(lambda e: e.sign(key), unsigned))))
            rows.append(("verify signature", stats(timed(lambda e: e.signature_ok(key), envs))))
            rows.append(("parse JSON + verify signature",
                         stats(timed(lambda t: load_envelope(t).signature_ok(key), texts))))
            log_events = kb.log.last_seq(run)
            chk = EvidenceChecker(kb, run, key=key, requirements=reqs)
            assert all(chk.evaluate(e).accepted for e in envs[:20])
            rows.append((f"check against the log ({a.files + 1} cited events)",
                         stats(timed(chk.evaluate, envs))))
            rows.append(("check + record evidence.accepted",
                         stats(timed(chk.check, envs))))
            # the same check in a run whose log is --noise events longer
            run2 = "bench-big"
            kb.record_many(EventDraft(run_id=run2, kind="message", actor="x",
                                      payload={"i": i}) for i in range(a.noise))
            gw2 = ToolGateway(tools(), kb, run2)
            key2 = run_key(ws, run2)
            m = a.real
            envs2 = variants([audit(gw2, key2, repo, f"b{i}") for i in range(m)], a.n, key2)
            chk2 = EvidenceChecker(kb, run2, key=key2, requirements=reqs)
            rows.append((f"check against the log, run of {a.noise + m * (a.files + 1):,} events",
                         stats(timed(chk2.evaluate, envs2))))
    table = ["| what (per envelope) | n | p50 ms | p99 ms | mean ms | CPU p50 ms | CPU p99 ms |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    table += [f"| {name} | {s['n']} | {s['p50']:.3f} | {s['p99']:.3f} | {s['mean']:.3f} | "
              f"{s['cpu_p50']:.3f} | {s['cpu_p99']:.3f} |" for name, s in rows]
    block = "\n".join([
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        f"`python benchmarks/bench_evidence.py --n {a.n} --files {a.files} --real {a.real}`; "
        f"envelopes of {a.files + 1} cited calls, {a.files} input digests ({a.real} audits run "
        f"through the gateway, their evidence re-sealed under {a.n} task ids); the first run's log "
        f"held {log_events:,} events before the checks (each check + record adds one). "
        f"Producing one envelope (its {a.files + 1} "
        f"gateway calls, each recorded) took {produce:.2f} ms on average (not part of the "
        "figures).", "", *table, "", machine()])
    print(block)
    if a.write:
        text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else f"{BEGIN}\n{END}\n"
        head, rest = text.split(BEGIN, 1)
        RESULTS.write_text(head + BEGIN + "\n" + block + "\n" + END + rest.split(END, 1)[1],
                           encoding="utf-8")


if __name__ == "__main__":
    main()
