"""Effects ledger figures: exactly-once under SIGKILL, and resume time of a long run.

    python benchmarks/bench_ledger.py [--trials 200] [--steps 10000] [--out FILE]

1. Crash trials. Each trial runs a workflow of 8 side effects (4 ``append_entry``: not
   idempotent, knows nothing of keys; 4 ``upsert``: idempotent, forwards the ledger's key as
   ``Idempotency-Key``; plus a read) in its own process (``python -m mapek.workflow``) against an
   HTTP counter on 127.0.0.1 that this process owns (``tests/ledger/_counter.py``; it sleeps
   0-30 ms after applying an effect and before answering, as a slow service would). The worker
   is SIGKILLed at a random moment: in 85% of trials uniformly within the effects phase (timed
   from the counter's first request, over the measured span from the first request to the last
   answer of an unkilled run), in 15% uniformly from the process start over a whole run. Then it is
   resumed until it finishes; a call in doubt that is not idempotent makes the resumed worker exit
   5, and a "human" answers by looking at the counter (``happened`` if the counter applied it, else
   ``run``), as a person checking the outside system would. Each trial has a fresh workspace.
   Counted at the end, by the counter: effects applied twice (duplicates) and never (lost).
2. Resume time. A run of N completed steps (one ``upsert`` each): the events are recorded
   through the gateway's own recording path (``Ledger.intend`` then ``ToolGateway._finish``,
   what ``call`` does around a tool), since building it through ``call`` is quadratic (the
   gateway's pre-call check reads the provenance of the whole workspace, see the results). Then
   the run is resumed: in process (open the log, ``run_workflow(..., resume=True)``: every step
   answered from the ledger, ``workflow.finished`` recorded) and as a whole process
   (``python -m mapek.workflow FILE --resume``, interpreter start included). The workflow file
   is JSON (a 10,000-step YAML file takes 2 s to parse with libyaml).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The checkout and the test helpers (_counter) come first: the imports below follow on purpose.
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "ledger"))

from _counter import CounterServer, tools, trial, worker, workflow_file  # noqa: E402

from mapek.knowledge import KnowledgeBase  # noqa: E402
from mapek.ledger import effect_key  # noqa: E402
from mapek.safety.gateway import CallCheck, ToolGateway  # noqa: E402
from mapek.safety.sandbox import load_workflow  # noqa: E402
from mapek.safety.sandbox_tools import sandbox_tools  # noqa: E402
from mapek.safety.tools import ToolRegistry  # noqa: E402
from mapek.workflow import run_workflow  # noqa: E402


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def crash_trials(n: int, seed: int) -> dict:
    rng = random.Random(seed)
    out: dict = {"trials": n}
    with CounterServer(delay=(0.0, 0.03)) as server, tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        wf, names = workflow_file(d, server.url, steps=8)
        # calibrate: the length of the effects phase and of a whole run, unkilled
        phases, wholes = [], []
        for i in range(3):
            server.reset()
            t0 = time.perf_counter()
            p = worker(wf, d / f"cal{i}", f"cal-{i}", resume=False)
            server.first.wait(30)
            p.communicate(timeout=60)
            wholes.append(time.perf_counter() - t0)
            ts = [r["t"] for r in server.requests]  # the last effect answered ~ +30 ms
            phases.append(max(ts) - min(ts) + 0.03)
        phase, whole = statistics.median(phases), statistics.median(wholes)
        out.update(effects_phase_s=round(phase, 3), whole_run_s=round(whole, 3))
        rows = []
        t_all = time.perf_counter()
        for i in range(n):
            server.reset()
            early = rng.random() < 0.15
            after = rng.uniform(0, whole if early else phase)
            t = trial(wf, names, d / f"ws{i}", server, f"trial-{i}", after,
                      from_first_effect=not early)
            rows.append(t)
            if (i + 1) % 20 == 0:
                print(f"  {i + 1}/{n} trials, duplicates so far "
                      f"{sum(r.duplicates for r in rows)}, lost {sum(r.lost for r in rows)}",
                      flush=True)
        resumes = [s for r in rows for s in r.resume_s]
        out.update(
            seconds=round(time.perf_counter() - t_all, 1),
            killed=sum(r.killed for r in rows),
            finished_before_kill=sum(not r.killed for r in rows),
            resumes=sum(r.resumes for r in rows),
            escalations=sum(r.escalations for r in rows),
            idempotent_retries=sum(r.retried_idempotent for r in rows),
            trials_with_a_call_in_doubt=sum(1 for r in rows
                                            if r.escalations or r.retried_idempotent),
            duplicates=sum(r.duplicates for r in rows),
            lost=sum(r.lost for r in rows),
            effects_expected=len(names) * n,
            effects_applied=sum(sum(r.applied.values()) for r in rows),
            resume_process_s_p50=round(statistics.median(resumes), 3) if resumes else None,
            resume_process_s_p95=round(_pct(resumes, 0.95), 3) if resumes else None,
        )
    return out


def _big_workflow(folder: Path, n: int, url: str) -> Path:
    path = folder / "long-run.json"
    path.write_text(json.dumps({
        "name": "long-run", "grants": ["upsert"],
        "steps": [{"tool": "upsert", "args": {"url": url, "name": f"u-{i}"}} for i in range(n)],
    }), encoding="utf-8")
    return path


def resume_time(n: int) -> dict:
    out: dict = {"steps": n}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        home, root = d / "ws", d / "files"
        wf_path = _big_workflow(d, n, "http://127.0.0.1:9")  # never called: all steps are done
        wf = load_workflow(wf_path)
        reg = sandbox_tools(_mk(root), None)
        for t in tools(root):
            reg.register(t)
        run, actor = "long-run-1", "workflow:long-run"
        t0 = time.perf_counter()
        with KnowledgeBase.open(home, index_on_record=False) as kb:
            gw = ToolGateway(reg, kb, run)
            gw.grant("upsert", justification="durable run of workflow long-run", to=actor,
                     by="workflow")
            kb.record(run, "workflow.started", "workflow",
                      {"workflow": wf.name, "digest": wf.digest, "steps": n, "root": str(root),
                       "tools": "_counter:tools"}, key="workflow.started")
            for i, step in enumerate(wf.steps):
                key = effect_key(run, f"workflow/{i}/0", step.tool, step.args)
                gw.ledger.intend(key, step.tool, step.args, actor=actor, effect="write",
                                 idempotent=True, node=f"workflow/{i}")
                c = CallCheck(step.tool, "allow", effect="write")
                gw._finish(c, dict(step.args), actor, key, "ok",
                           output=f"applied u-{i} #1", tool=reg.get(step.tool))
            out["events"] = kb.log.last_seq(run)
        out["build_s"] = round(time.perf_counter() - t0, 1)
        # in process, three times on copies of the log (the resume records workflow.finished)
        import shutil

        inproc, ledger_load = [], []
        for k in range(3):
            copy = d / f"ws-copy{k}"
            shutil.copytree(home, copy)
            t0 = time.perf_counter()
            with KnowledgeBase.open(copy, index_on_record=False) as kb:
                t1 = time.perf_counter()
                from mapek.ledger import Ledger

                Ledger(kb, run).refresh()
                ledger_load.append(time.perf_counter() - t1)
            t0 = time.perf_counter()
            with KnowledgeBase.open(copy, index_on_record=False) as kb:
                res = run_workflow(wf_path, kb, run_id=run, resume=True, tools=reg, root=root)
            inproc.append(time.perf_counter() - t0)
            assert res.status == "finished" and res.replayed == n, res.status
        # as a process: interpreter start, imports, log open, workflow parse, resume
        procs = []
        for k in range(3):
            copy = d / f"ws-proc{k}"
            shutil.copytree(home, copy)
            t0 = time.perf_counter()
            p = worker(wf_path, copy, run, resume=True)
            so, se = p.communicate(timeout=300)
            procs.append(time.perf_counter() - t0)
            assert p.returncode == 0, se
            assert json.loads(so)["replayed"] == n
        out.update(ledger_load_s=round(min(ledger_load), 3),
                   resume_in_process_s=round(statistics.median(inproc), 3),
                   resume_in_process_s_max=round(max(inproc), 3),
                   resume_process_s=round(statistics.median(procs), 3),
                   resume_process_s_max=round(max(procs), 3))
    return out


def _mk(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p.resolve()


def real_build(n: int) -> dict:
    """A run of n steps through ``ToolGateway.call`` (check, intent, tool, result), timed, and
    its resume: the build cost the synthetic one avoids."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        wf = _big_workflow(d, n, "http://127.0.0.1:9")
        reg = ToolRegistry()
        for t in sandbox_tools(_mk(d / "files"), None).tools.values():
            reg.register(t)
        from mapek.safety.tools import tool

        @tool(effect="write", resource="counter", idempotent=True)
        def upsert(url: str, name: str) -> str:
            return f"applied {name}"

        reg.register(upsert)
        t0 = time.perf_counter()
        with KnowledgeBase.open(d / "ws", index_on_record=False) as kb:
            run_workflow(wf, kb, run_id="real", tools=reg, root=d / "files")
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        with KnowledgeBase.open(d / "ws", index_on_record=False) as kb:
            res = run_workflow(wf, kb, run_id="real", resume=True, tools=reg, root=d / "files")
        return {"steps": n, "build_s": round(build, 1),
                "resume_in_process_s": round(time.perf_counter() - t0, 3),
                "replayed": res.replayed}


def machine() -> str:
    return (f"`{' '.join(platform.uname())}`; Python {platform.python_version()}; "
            f"{os.cpu_count()} CPUs (shared with other work while measured)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--real", type=int, default=1000, help="steps of the run built for real")
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    print("resume time ...", flush=True)
    rt = resume_time(a.steps)
    print(json.dumps(rt), flush=True)
    rb = real_build(a.real) if a.real else None
    print(json.dumps(rb), flush=True)
    print("crash trials ...", flush=True)
    ct = crash_trials(a.trials, a.seed)
    print(json.dumps(ct), flush=True)
    result = {"machine": machine(), "resume": rt, "real_build": rb, "crash": ct}
    if a.out:
        a.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
