"""A session run in this process on a model double: ``run_session(run_id, model=...)``."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from mapek.api import Session
from mapek.llm.types import ModelRequest
from mapek.loop.worker import run_session
from mapek.testing import ScriptedModel
from mapek.testing.discussion import discussion_model

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"
PEOPLE = ["cfo", "engineer", "skeptic", "legal"]


def test_session_runs_in_process_on_a_function_model(home: Path) -> None:
    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=6)
    model = discussion_model()
    status = run_session(s.run_id, model=model)
    assert status in ("converged", "stalled", "max_turns")

    events = s.history()
    kinds = Counter(e.kind for e in events)
    tasks = Counter(r.task for r in model.requests)
    # The double answered every call: agenda, each persona turn, the synthesis.
    assert tasks["agenda"] == 1 and tasks["synthesis"] == 1
    assert tasks["persona_turn"] == kinds["message"] >= 2
    calls = [e for e in events if e.kind == "llm.call"]
    assert len(calls) == len(model.requests)
    assert {e.payload.get("model") for e in calls} == {"test/function"}
    # In this process, not a worker subprocess; the run ends and its log holds.
    assert [e.payload["pid"] for e in events if e.kind == "worker.started"] == [os.getpid()]
    assert events[-1].kind == "run.finished" and events[-1].payload["status"] == status
    assert (home / "runs" / s.run_id / "synthesis.md").is_file()
    assert s.kb.verify(s.run_id).ok
    s.close()


def test_the_double_replaces_a_personas_own_model(home: Path, tmp_path: Path) -> None:
    # A persona that names its own model would otherwise go to litellm for that model.
    folder = tmp_path / "personas"
    folder.mkdir()
    cfo = (Path(__file__).resolve().parents[2] / "personas" / "cfo.yaml").read_text()
    (folder / "cfo.yaml").write_text(cfo + "model: openai/not-a-model-for-tests\n")
    s = Session.create(TOPIC, ["cfo", "skeptic"], human="defer", max_turns=2,
                       personas_dir=folder)
    replies = [json.dumps({"items": ["Costs", "Risks"]})]
    replies += [json.dumps({"text": f"Turn {i}: the cost is the risk.", "stance": "conditional",
                            "claims": [f"claim {i}"]}) for i in range(2)]
    replies += [json.dumps({"summary": "Staged, if at all."})]
    model = ScriptedModel(replies, name="test/scripted")
    assert run_session(s.run_id, model=model) == "max_turns"
    assert [r.task for r in model.requests] == ["agenda", "persona_turn", "persona_turn",
                                                "synthesis"]
    assert {r.actor for r in model.requests if r.task == "persona_turn"} == {"cfo", "skeptic"}
    s.close()


def test_the_discussion_double_applies_first_turn_fields_and_edits() -> None:
    def turn(name: str, my_turns: int) -> ModelRequest:
        ctx = {"persona": {"name": name, "concern": "cost"}, "my_turns": my_turns,
               "round": my_turns + 1, "topic": TOPIC, "transcript": []}
        return ModelRequest(messages=[{"role": "user", "content": "speak"}],
                            task="persona_turn", context=ctx)

    proposal = [{"tool": "write_note", "args": {"text": "x"}}]
    seen: list[str] = []
    model = discussion_model(first_turn={"cfo": {"actions": proposal}},
                             edit=lambda req, out: seen.append(req.task))
    first = json.loads(model.complete(turn("cfo", 0)).text)
    later = json.loads(model.complete(turn("cfo", 1)).text)
    other = json.loads(model.complete(turn("legal", 0)).text)
    assert first["actions"] == proposal
    assert later.get("actions") != proposal and other.get("actions") != proposal
    assert seen == ["persona_turn"] * 3 and len(model.requests) == 3


def test_the_discussion_double_names_a_task_it_cannot_answer() -> None:
    model = discussion_model()
    with pytest.raises(ValueError, match="no offline script answers the task 'haiku'"):
        model.complete(ModelRequest(messages=[{"role": "user", "content": "x"}], task="haiku"))
