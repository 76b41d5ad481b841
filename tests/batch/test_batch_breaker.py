"""The batch-wide breaker and Ctrl-C: when the batch's token budget is spent the running cells
stop as a trip does (state kept); resuming needs a raised limit (recorded); Ctrl-C stops the
cells in order; a last resume finishes every cell."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from _batchrig import (
    assert_nothing_twice,
    batch_events,
    mapek,
    run_events,
    start_mapek,
    wait_for,
)

from mapek.cli import EXIT_TRIPPED

PLAN = """\
topics:
  - Should we open an office in Berlin?
panels:
  finance: [cfo, skeptic, legal]
  product: [engineer, customer, strategist]
session: {max_turns: 6}
limits: {concurrency: 2, max_tokens: 3000}
"""


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_the_batch_budget_trips_the_cells_and_a_raised_limit_resumes_them(
        home: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    r = mapek("batch", "run", str(plan), "--json")
    assert r.returncode == EXIT_TRIPPED, r.stdout + r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]  # JSON lines only
    assert lines[0]["event"] == "progress" and lines[-1]["event"] == "status"
    assert any(x.get("counts", {}).get("running") for x in lines)
    batch_id = lines[-1]["batch_id"]
    assert "the batch budget is spent" in lines[-1]["reason"]
    st = json.loads(mapek("batch", "status", batch_id, "--json").stdout)
    assert st["state"] == "stopped" and st["tokens"] >= 3000
    runs = {c["run_id"]: c["state"] for c in st["cells"]}
    assert "interrupted" in runs.values()  # stopped by the batch breaker, resumable
    evs = batch_events(home, batch_id)
    trip, = [e for e in evs if e.kind == "batch.tripped"]
    assert trip.payload["limit"] == "tokens" and trip.payload["threshold"] == 3000
    for run, state in runs.items():
        if state == "interrupted":  # its own watchdog stopped it, as `mapek trip` does
            cell = run_events(home, run)
            tripped = [e for e in cell if e.kind == "breaker.tripped"]
            assert tripped and tripped[-1].payload["policy"] == "forced_open"
            assert not any(e.kind == "run.finished" for e in cell)

    # still spent: refused, nothing written
    r = mapek("batch", "resume", batch_id)
    assert r.returncode == 2 and "--raise tokens=N" in r.stderr, r.stderr
    assert len(batch_events(home, batch_id)) == len(evs)
    r = mapek("batch", "resume", batch_id, "--raise", "tokens=900000")
    assert r.returncode == 2 and "--reason" in r.stderr
    assert len(batch_events(home, batch_id)) == len(evs)

    # a raised limit: the cells go on; Ctrl-C stops them in order
    driver = start_mapek("batch", "resume", batch_id, "--raise", "tokens=900000", "--reason",
                         "the pilot showed the value", out=tmp_path / "resume.out")
    try:
        wait_for(lambda: any(
            e.kind == "worker.started" and e.seq > max(
                x.seq for x in run_events(home, run) if x.kind == "breaker.tripped")
            for run, state in runs.items() if state == "interrupted"
            for e in run_events(home, run)), what="a tripped cell's new worker")
        driver.send_signal(signal.SIGINT)
        assert driver.wait(timeout=300) == 130, (tmp_path / "resume.out").read_text()
    finally:
        if driver.poll() is None:
            driver.kill()
    assert "mapek batch resume" in (tmp_path / "resume.out").read_text()
    st = json.loads(mapek("batch", "status", batch_id, "--json").stdout)
    assert st["state"] == "stopped" and "interrupted" in st["reason"]
    assert st["limits"]["max_tokens"] == 900000
    override, = [e for e in batch_events(home, batch_id) if e.kind == "batch.override"]
    assert override.payload["raise"] == {"tokens": 900000} and override.payload["by"]
    assert override.payload["reason"] == "the pilot showed the value"
    assert not any(c["state"] == "running" for c in st["cells"])  # nothing left behind

    r = mapek("batch", "resume", batch_id)
    assert r.returncode == 0, r.stdout + r.stderr
    st = json.loads(mapek("batch", "status", batch_id, "--json").stdout)
    assert st["state"] == "finished" and st["counts"] == {"done": 2}
    kinds = [e.kind for e in batch_events(home, batch_id)]
    assert kinds.count("batch.driver") == 3 and kinds.count("batch.cell") == 2
    assert kinds.count("batch.stopped") == 2 and kinds.count("batch.finished") == 1
    for run in runs:
        evs = assert_nothing_twice(home, run)
        assert sum(e.kind == "run.finished" for e in evs) == 1
    assert mapek("kb", "verify").returncode == 0
