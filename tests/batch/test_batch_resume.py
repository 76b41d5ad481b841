"""A batch killed halfway (SIGKILL: the driver and its cells' workers) and resumed: every cell
finishes once, the finished ones are not touched, the interrupted ones continue from their
checkpoints, no event is written twice and the log's hash chains hold."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from _batchrig import (
    assert_nothing_twice,
    batch_events,
    batch_ids,
    mapek,
    run_events,
    start_mapek,
    wait_for,
)

from mapek.batch.state import BatchFold
from mapek.knowledge import KnowledgeBase

PLAN = """\
topics:
  - Should we open an office in Berlin?
  - Should we migrate our customer database to a managed cloud service this quarter?
panels:
  finance: [cfo, skeptic, legal]
  product: [engineer, customer, strategist]
session: {max_turns: 8}
limits: {concurrency: 2}
"""


def _fold(home: Path, batch_id: str) -> BatchFold:
    with KnowledgeBase.open(home, index_on_record=False) as kb:
        f = BatchFold(batch_id)
        f.refresh(kb)
    return f


def _halfway(home: Path) -> str | None:
    """The batch id once a cell has finished and another is mid-discussion."""
    ids = batch_ids(home)
    if not ids:
        return None
    f = _fold(home, ids[0])
    states = [c.state() for c in f.cells.values()]
    talking = [c for c in f.cells.values() if c.final is None and c.turns >= 2]
    return ids[0] if "done" in states and talking else None


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_a_killed_batch_resumes_every_cell_once(home: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    driver = start_mapek("batch", "run", str(plan), out=tmp_path / "run.out")
    try:
        batch_id = wait_for(lambda: _halfway(home), what="a finished and a talking cell")
    finally:
        driver.kill()  # SIGKILL: no chance to stop anything in order
        driver.wait()
    f = _fold(home, batch_id)
    for c in f.cells.values():  # and the workers of its running cells
        if c.final is None and c.worker_pid:
            try:
                os.kill(c.worker_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    wait_for(lambda: all(c.state() != "running" for c in _fold(home, batch_id).cells.values()),
             timeout=60, what="the killed workers to be gone")

    st = json.loads(mapek("batch", "status", batch_id, "--json").stdout)
    assert st["state"] == "died"
    states = {c["key"]: c["state"] for c in st["cells"]}
    assert "done" in states.values() and "interrupted" in states.values()
    done_before = {c["run_id"]: len(run_events(home, c["run_id"]))
                   for c in st["cells"] if c["state"] == "done"}
    cut = {c["run_id"]: run_events(home, c["run_id"]) for c in st["cells"]
           if c["state"] == "interrupted"}

    r = mapek("batch", "resume", batch_id)
    assert r.returncode == 0, r.stdout + r.stderr
    st = json.loads(mapek("batch", "status", batch_id, "--json").stdout)
    assert st["state"] == "finished" and st["counts"] == {"done": 4}, (st, r.stdout, r.stderr)

    kinds = [e.kind for e in batch_events(home, batch_id)]
    assert kinds.count("batch.cell") == 4  # each cell's run recorded once, across both drivers
    assert kinds.count("batch.driver") == 2 and kinds.count("batch.finished") == 1
    keys = [e.key for e in batch_events(home, batch_id)]
    assert len(keys) == len(set(keys))
    for run, n in done_before.items():  # finished cells were skipped
        assert len(run_events(home, run)) == n
    for run, before in cut.items():  # interrupted ones went on from where they were
        after = assert_nothing_twice(home, run)
        assert [e.hash for e in after[:len(before)]] == [e.hash for e in before]
        assert sum(e.kind == "worker.started" for e in after) == 2
        assert sum(e.kind == "run.finished" for e in after) == 1
    for c in st["cells"]:
        evs = assert_nothing_twice(home, c["run_id"])
        assert sum(e.kind == "run.started" for e in evs) == 1
        assert (home / "runs" / c["run_id"] / "synthesis.json").is_file()
    v = mapek("kb", "verify")
    assert v.returncode == 0, v.stdout + v.stderr
