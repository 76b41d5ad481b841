"""Sandbox runs (clean and under chaos) of the shipped example workflow, and promotion."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mapek.errors import UserError
from mapek.knowledge import KnowledgeBase
from mapek.safety.sandbox import Workflow, load_workflow, promote, run_sandbox

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "knowledge" / "workflows" / "weekly-report.yaml"


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[Any]:
    with KnowledgeBase.open(tmp_path / "ws", index_on_record=False) as k:
        yield k


def test_the_example_runs_clean_and_leaves_the_originals_alone(kb: Any) -> None:
    before = {p: p.read_bytes() for p in EXAMPLE.parent.rglob("*") if p.is_file()}
    r = run_sandbox(EXAMPLE, kb)
    assert r.clean and [s["outcome"] for s in r.steps] == ["ok"] * 7, r
    assert before == {p: p.read_bytes() for p in EXAMPLE.parent.rglob("*") if p.is_file()}
    calls = kb.events(r.run_id, kinds=["tool.call"])
    delete = [e.payload for e in calls if e.payload["tool"] == "fs_delete"][0]
    assert delete["owner"] == f"run:{r.run_id}" and delete["approved"] is None
    assert kb.events(f"workflow:{r.workflow}", kinds=["sandbox.run"])[-1].payload["clean"]


def test_chaos_is_seeded_and_its_faults_make_a_run_unclean(kb: Any) -> None:
    a = run_sandbox(EXAMPLE, kb, chaos=True, seed=1)
    b = run_sandbox(EXAMPLE, kb, chaos=True, seed=1)
    assert a.chaos and a.chaos["injected"] == b.chaos["injected"]  # type: ignore[index]
    assert not a.clean and "output:prompt-injection-tool-output" in a.triggers
    faults = {x["fault"] for s in range(6)
              for x in run_sandbox(EXAMPLE, kb, chaos=True, seed=s).chaos["injected"]}
    assert faults == {"error", "timeout", "malformed", "injection", "misconfigured"}


def test_promotion_needs_n_clean_runs_of_this_version(kb: Any, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="needs 3 clean runs"):
        promote(EXAMPLE, kb)
    for _ in range(2):
        run_sandbox(EXAMPLE, kb)
    run_sandbox(EXAMPLE, kb, chaos=True, seed=1)
    with pytest.raises(UserError, match="not clean"):
        promote(EXAMPLE, kb)
    for _ in range(3):
        run_sandbox(EXAMPLE, kb)
    rec = promote(EXAMPLE, kb)
    assert len(rec["runs"]) == 3
    assert kb.events("workflow:weekly-report", kinds=["workflow.promoted"])
    # An edited workflow is a new version: its record starts again.
    edited = tmp_path / "weekly-report.yaml"
    edited.write_text(EXAMPLE.read_text().replace("Week 48", "Week 49"))
    (tmp_path / "fixtures").symlink_to(EXAMPLE.parent / "fixtures")
    with pytest.raises(UserError, match="0 sandbox run"):
        promote(edited, kb)


def test_a_workflow_that_deletes_what_a_human_made_is_refused(kb: Any, tmp_path: Path) -> None:
    base = load_workflow(EXAMPLE).model_dump()
    wf = Workflow.model_validate(base | {"steps": [
        {"tool": "fs_delete", "args": {"path": "monday.md", "created_by": "run:me"}}]})
    r = run_sandbox(wf, kb)  # the plan check stops it before the first step
    assert not r.clean and not r.steps and "plan:declared-destructive-tool" in r.triggers
    assert (EXAMPLE.parent / "fixtures" / "weekly-report" / "notes" / "monday.md").is_file()


def test_a_python_callable_workflow_and_a_10000_step_plan(kb: Any) -> None:
    def body(call: Any) -> None:
        call("fs_write", path="out.txt", text="hi")
        call("fs_read", path="out.txt")

    wf = Workflow.from_callable("callable-demo", body, grants=["fs_write"])
    assert run_sandbox(wf, kb).clean
    base = load_workflow(EXAMPLE).model_dump()
    big = Workflow.model_validate(base | {"steps": [{"tool": "fs_list", "args": {"path": "."}}]
                                          * 9_999 + [{"tool": "fs_delete",
                                                      "args": {"path": "monday.md"}}]})
    r = run_sandbox(big, kb)  # screened as a whole before the first step: nothing runs
    assert not r.clean and not r.steps and any(t.startswith("plan:") for t in r.triggers)


def test_a_bad_workflow_file_is_one_clear_error(tmp_path: Path) -> None:
    f = tmp_path / "wf.yaml"
    f.write_text("name: Bad Name\nsteps: []\n")
    with pytest.raises(UserError, match="name"):
        load_workflow(f)
    f.write_text("name: [unclosed\n")
    with pytest.raises(UserError, match="not valid YAML"):
        load_workflow(f)
