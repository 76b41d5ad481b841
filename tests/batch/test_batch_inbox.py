"""One inbox: a question asked in several cells shows once; answered once with `mapek batch
answer`, it reaches every cell that asked it, and those cells go on (``questions: wait``: each
cell stops at the question until the answer is in the log)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _batchrig import assert_nothing_twice, batch_events, batch_ids, mapek, start_mapek, wait_for

PLAN = """\
topics:
  - Should we open an office in Berlin?
  - Should we migrate our customer database to a managed cloud service this quarter?
panels:
  money: [cfo, legal, skeptic]
session: {max_turns: 8}
limits: {concurrency: 2}
questions: wait
"""


def _shared_question(home: Path) -> tuple[str, dict] | None:  # type: ignore[type-arg]
    ids = batch_ids(home)
    if not ids:
        return None
    r = mapek("batch", "questions", ids[0], "--json")
    groups = [g for g in json.loads(r.stdout)["questions"] if g["cells"] >= 2]
    return (ids[0], groups[0]) if groups else None


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_a_question_asked_in_several_cells_is_answered_once(home: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    driver = start_mapek("batch", "run", str(plan), out=tmp_path / "run.out")
    try:
        batch_id, group = wait_for(lambda: _shared_question(home),
                                   what="a question waiting in two cells")
        st = json.loads(mapek("batch", "status", batch_id, "--json").stdout)
        assert st["counts"].get("waiting", 0) >= 1  # a cell stopped, waiting on a person
        text = mapek("batch", "questions", batch_id).stdout
        assert text.count(group["gid"]) == 1 and text.count(group["text"][:30]) == 1
        r = mapek("batch", "answer", batch_id, group["gid"], "Yes, up to 200k this quarter")
        assert r.returncode == 0 and "in 2 cell(s)" in r.stdout, r.stderr
        again = mapek("batch", "answer", batch_id, group["gid"], "again")
        assert again.returncode == 2 and "no question" in again.stderr
        assert driver.wait(timeout=900) == 0, (tmp_path / "run.out").read_text()
    finally:
        if driver.poll() is None:
            driver.kill()
    out = (tmp_path / "run.out").read_text()
    assert "waiting on a person 2" in out or "waiting on a person 1" in out
    st = json.loads(mapek("batch", "status", batch_id, "--json").stdout)
    assert st["counts"] == {"done": 2}
    for w in group["asked_in"]:
        evs = assert_nothing_twice(home, w["run_id"])
        answers = [e for e in evs if e.kind == "answer" and e.payload["qid"] == w["qid"]]
        assert len(answers) == 1 and answers[0].actor == "human"
        assert answers[0].payload["text"] == "Yes, up to 200k this quarter"
        # the cell went on: the asker reacted to the answer, and the run ended after it
        reacts = [e for e in evs if e.kind == "message" and e.seq > answers[0].seq
                  and e.actor == w["asked_by"] and e.payload.get("task") == "react"]
        assert reacts, f"{w['run_id']}: no reaction after the answer"
        assert evs[-1].kind == "run.finished" and evs[-1].seq > answers[0].seq
    recorded = [e for e in batch_events(home, batch_id) if e.kind == "batch.answer"]
    assert len(recorded) == 1 and len(recorded[0].payload["cells"]) == 2
    data = json.loads(mapek("batch", "report", batch_id, "--json").stdout)
    answered = [e for t in data["topics"] for e in t["escalations"]
                if e["answer"] == "Yes, up to 200k this quarter"]
    assert len(answered) == 2  # the report says what was escalated and how it was answered
