"""The loop's screen, approve and execute nodes on the tool gateway, in-process on a model
double (real SQLite log, real graph, real checkpoints)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from mapek.api import Session
from mapek.llm.offline import OfflineRequest
from mapek.llm.types import ModelRequest
from mapek.loop import scripts
from mapek.loop.human import ProgrammaticChannel
from mapek.loop.worker import run_session
from mapek.testing import FunctionModel

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"
PEOPLE = ["cfo", "engineer", "skeptic"]
_BY_TASK = {"persona_turn": scripts.persona_turn, "agenda": scripts.agenda_script,
            "synthesis": scripts.synthesis_script, "triage_judge": scripts.judge_script}


def _model(extra: dict[str, list[dict[str, Any]]]) -> FunctionModel:
    """The offline scripts, plus extra actions a persona proposes on its first turn."""

    def answer(request: ModelRequest) -> str:
        out: dict[str, Any] = _BY_TASK[request.task](OfflineRequest(
            messages=request.messages, task=request.task, context=request.context,
            schema=request.schema))
        if request.task == "persona_turn":
            ctx = request.context
            if ctx.get("my_turns") == 0 and ctx["persona"]["name"] in extra:
                out["actions"] = extra[ctx["persona"]["name"]]
        return json.dumps(out)

    return FunctionModel(answer, name="test/function")


def test_plan_screening_blocks_refusals_are_tool_call_events(home: Path) -> None:
    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=6)
    model = _model({"cfo": [{"tool": "kb_search", "args": {"query": "cost"}},
                            {"tool": "shell", "args": {"command": "rm -rf /var/lib/postgres"}},
                            {"tool": "write_note", "args": {"title": "t", "text": "x"}}]})
    run_session(s.run_id, model=model)
    ev = s.events()
    v = next(e.payload for e in ev if e.kind == "screen.verdict" and e.payload["refused"])
    refused = {r["tool"]: r for r in v["refused"]}
    assert {"shell", "write_note"} <= set(refused) and v["verdict"] == "deny"
    assert "shell-recursive-delete" in " ".join(refused["shell"]["catalogue_ids"])
    assert "read-only" in refused["write_note"]["reason"]
    calls = {(e.payload["tool"], e.payload["outcome"]) for e in ev if e.kind == "tool.call"}
    assert {("kb_search", "ok"), ("shell", "refused"), ("write_note", "refused")} <= calls
    s.close()


def test_a_destructive_call_waits_for_the_humans_approval_with_its_exact_args(
        home: Path) -> None:
    s = Session.create(TOPIC, PEOPLE, max_turns=6)
    s.kb.record(s.run_id, "grant", "human", {"tool": "write_note", "to": "cfo",
                                             "justification": "the cfo keeps the minutes"})
    model = _model({"cfo": [{"tool": "send_email", "args": {"to": "board@x.com",
                                                            "subject": "go"}},
                            {"tool": "write_note", "args": {"title": "minutes", "text": "m"}}]})
    seen: list[dict[str, Any]] = []

    def approve(req: dict[str, Any]) -> bool:
        seen.append(req)
        return True

    s.channel = ProgrammaticChannel(lambda q: "yes, within budget", approve)
    t = threading.Thread(target=run_session, args=(s.run_id,), kwargs={"model": model},
                         daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while not s.kb.events(s.run_id, kinds=["worker.started"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    events = list(s.stream())
    t.join(60)
    email = [r for r in seen if r["tool"] == "send_email"]
    assert email and email[0]["args"] == {"to": "board@x.com", "subject": "go"}
    kinds = [e.kind for e in events]
    assert "approval.requested" in kinds and "approval" in kinds
    calls = {e.payload["tool"]: e.payload for e in s.events() if e.kind == "tool.call"}
    # Approved, so it ran: the stub is not wired to a mail server, which is an error outcome.
    assert calls["send_email"]["approved"] is True and calls["send_email"]["outcome"] == "error"
    assert calls["write_note"]["outcome"] == "ok" and calls["write_note"]["grant"] is not None
    assert (home / "runs" / s.run_id / "notes" / "minutes.md").read_text() == "m"
    s.close()


def test_reask_tells_the_proposer_why_bounded(home: Path, monkeypatch: Any) -> None:
    from mapek.loop import screen as screen_mod
    from mapek.safety.policy import CheckSetting, ScreeningPolicy

    monkeypatch.setattr(screen_mod, "POLICY",
                        ScreeningPolicy(plan=CheckSetting(on_deny="reask", reask_limit=1)))
    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=8, speakers_per_round=3)
    model = _model({"cfo": [{"tool": "shell", "args": {"command": "rm -rf /"}}]})
    run_session(s.run_id, model=model)
    refused = [r for e in s.events() if e.kind == "screen.verdict" for r in e.payload["refused"]]
    assert refused and refused[0]["reask"] is True
    prompts = [m["content"] for r in model.requests if r.task == "persona_turn"
               and r.context["persona"]["name"] == "cfo" for m in r.messages]
    assert any("shell (refused)" in p and "catastrophic" in p for p in prompts)
    s.close()
