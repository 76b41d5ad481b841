"""The loop's screen, approve and execute nodes on the tool gateway, in-process on a model
double (real SQLite log, real graph, real checkpoints)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mapek.api import Session
from mapek.errors import UserError
from mapek.llm.types import ModelRequest
from mapek.loop.human import ProgrammaticChannel
from mapek.loop.worker import run_session
from mapek.testing import FunctionModel
from mapek.testing.discussion import discussion_model

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"
PEOPLE = ["cfo", "engineer", "skeptic"]


def _model(extra: dict[str, list[dict[str, Any]]]) -> FunctionModel:
    """The offline scripts, plus extra actions a persona proposes on its first turn."""
    return discussion_model(first_turn={name: {"actions": acts} for name, acts in extra.items()})


def test_plan_screening_blocks_refusals_are_tool_call_events(home: Path) -> None:
    s = Session.create(TOPIC, PEOPLE, human="defer", max_turns=6)  # nobody to approve
    model = _model({"cfo": [{"tool": "kb_search", "args": {"query": "cost"}},
                            {"tool": "shell", "args": {"command": "rm -rf /var/lib/postgres"}},
                            {"tool": "write_note", "args": {"title": "t", "text": "x"}}]})
    run_session(s.run_id, model=model)
    ev = s.history()
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
    calls = {e.payload["tool"]: e.payload for e in s.history() if e.kind == "tool.call"}
    # Approved, so it ran: the stub is not wired to a mail server, which is an error outcome.
    assert calls["send_email"]["approved"] is True and calls["send_email"]["outcome"] == "error"
    assert calls["write_note"]["outcome"] == "ok" and calls["write_note"]["grant"] is not None
    assert (home / "runs" / s.run_id / "notes" / "minutes.md").read_text() == "m"
    s.close()


def test_reask_tells_the_proposer_why_bounded(home: Path, tmp_path: Path) -> None:
    policy = tmp_path / "reask.yaml"  # the session's policy file sets what a failed check does
    policy.write_text("extends: default\nscreening:\n  plan: {on_deny: reask, reask_limit: 1}\n")
    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=8, speakers_per_round=3,
                       policy=policy)
    model = _model({"cfo": [{"tool": "shell", "args": {"command": "rm -rf /"}}]})
    run_session(s.run_id, model=model)
    refused = [r for e in s.history() if e.kind == "screen.verdict" for r in e.payload["refused"]]
    assert refused and refused[0]["reask"] is True
    prompts = [m["content"] for r in model.requests if r.task == "persona_turn"
               and r.context["persona"]["name"] == "cfo" for m in r.messages]
    assert any("shell (refused)" in p and "catastrophic" in p for p in prompts)
    s.close()


def test_the_synthesis_is_screened_before_it_reaches_the_human(home: Path, tmp_path: Path
                                                               ) -> None:
    def leak(request: ModelRequest, out: dict[str, Any]) -> None:
        if request.task == "synthesis":
            out["recommendations"].append(
                "Connect with postgres://admin:s3cr3tpw@db.internal/prod to check the numbers.")

    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=4)
    run_session(s.run_id, model=discussion_model(edit=leak))
    md = (home / "runs" / s.run_id / "synthesis.md").read_text()
    assert "s3cr3tpw" not in md and "[REDACTED connection-string]" in md
    syn, = (e for e in s.history() if e.kind == "synthesis")
    assert "s3cr3tpw" not in json.dumps(syn.payload)
    found, = (e for e in s.history() if e.kind == "screen.human")
    assert found.parent == syn.seq and "connection-string" in found.payload["kinds"]
    last = len(syn.payload["synthesis"]["recommendations"]) - 1
    assert list(found.payload["fields"]) == [f"recommendations[{last}]"]
    s.close()

    block = tmp_path / "block.yaml"  # a stricter setting withholds the text instead
    block.write_text("screening:\n  human: {on_deny: block}\n")
    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=4, policy=block)
    run_session(s.run_id, model=discussion_model(edit=leak))
    md = (home / "runs" / s.run_id / "synthesis.md").read_text()
    assert "s3cr3tpw" not in md and "withheld before it reached you" in md
    s.close()


def test_a_queue_session_parks_a_call_until_a_human_answers(home: Path) -> None:
    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=12, speakers_per_round=3)
    model = _model({"cfo": [{"tool": "send_email", "args": {"to": "board@x.com",
                                                            "subject": "go"}}],
                    "engineer": [{"tool": "send_email", "args": {"to": "all@x.com",
                                                                 "subject": "news"}}],
                    "skeptic": [{"tool": "send_email", "args": {"to": "press@x.com",
                                                                "subject": "leak"}}]})
    run_session(s.run_id, model=model, rounds=2)
    waiting = {r["args"]["to"]: r for r in s.pending_approvals() if r["tool"] == "send_email"}
    assert set(waiting) == {"board@x.com", "all@x.com", "press@x.com"}
    queued = [e for e in s.history() if e.kind == "approval.requested"]
    assert all(e.payload["queued"] for e in queued)
    # Nothing ran, and the discussion did not stop for the human.
    assert not [e for e in s.history() if e.kind == "tool.call" and e.payload["tool"] ==
                "send_email"]
    assert [e for e in s.history() if e.kind == "message" and e.seq > queued[0].seq]
    s.approve(waiting["board@x.com"]["call_id"])
    s.approve(waiting["all@x.com"]["call_id"], approved=False)
    run_session(s.run_id, model=model)
    calls = {e.payload["args"]["to"]: e for e in s.history() if e.kind == "tool.call"
             and e.payload["tool"] == "send_email"}
    assert calls["board@x.com"].payload["approved"] is True
    assert calls["board@x.com"].key == waiting["board@x.com"]["call_id"]
    assert calls["all@x.com"].payload["outcome"] == "refused" and "a human refused" in \
        calls["all@x.com"].payload["reason"]
    assert "press@x.com" not in calls  # never answered: it did not run
    syn, = (e for e in s.history() if e.kind == "synthesis")
    assert any("press@x.com" in q and "waiting for a human's approval" in q
               for q in syn.payload["synthesis"]["open_questions"])
    with pytest.raises(UserError, match="has finished"):
        s.approve(waiting["press@x.com"]["call_id"])
    s.close()


def test_calls_proposed_in_the_last_round_are_screened_not_dropped(home: Path) -> None:
    # Three speakers, three turns: the round that proposes the calls is the last one.
    s = Session.create(TOPIC, PEOPLE, human="defer", max_turns=3, speakers_per_round=3)
    model = _model({"cfo": [{"tool": "kb_search", "args": {"query": "cost"}},
                            {"tool": "shell", "args": {"command": "rm -rf /var/lib/postgres"}}]})
    assert run_session(s.run_id, model=model) == "max_turns"
    ev = s.history()
    settle = [e.payload for e in ev if e.kind == "plan" and e.payload.get("settle")]
    assert len(settle) == 1 and not settle[0]["speakers"]
    calls = {e.payload["tool"]: e.payload["outcome"] for e in ev if e.kind == "tool.call"
             and e.actor == "cfo"}
    assert calls == {"kb_search": "ok", "shell": "refused"}
    kinds = [e.kind for e in ev]
    assert kinds.index("tool.call") < kinds.index("synthesis")
    assert sum(e.kind == "message" for e in ev) == 3  # the settling round has no turns
    s.close()


def test_a_queued_call_approved_after_the_last_round_runs_before_the_synthesis(
        home: Path) -> None:
    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=6, speakers_per_round=3)
    model = _model({"cfo": [{"tool": "send_email", "args": {"to": "board@x.com",
                                                            "subject": "go"}}]})
    run_session(s.run_id, model=model, rounds=2)  # round 2 parks it and spends the last turns
    waiting, = (r for r in s.pending_approvals() if r["tool"] == "send_email")
    s.approve(waiting["call_id"])
    assert run_session(s.run_id, model=model) == "max_turns"
    ev = s.history()
    ran = [e for e in ev if e.kind == "tool.call" and e.payload["tool"] == "send_email"]
    # it ran (the built-in send_email is wired to no mail server: its error is the proof)
    assert [(e.key, e.payload["outcome"], e.payload["approved"]) for e in ran] == [
        (waiting["call_id"], "error", True)]
    assert "not wired to a mail server" in ran[0].payload["output"]
    syn, = (e for e in ev if e.kind == "synthesis")
    assert not any("board@x.com" in q for q in syn.payload["synthesis"]["open_questions"])
    assert sum(e.kind == "message" for e in ev) == 6
    s.close()


def test_a_queued_call_cannot_be_approved_once_the_run_has_planned_its_end(home: Path) -> None:
    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=12, speakers_per_round=3)
    model = _model({"cfo": [{"tool": "send_email", "args": {"to": "board@x.com",
                                                            "subject": "go"}}]})
    run_session(s.run_id, model=model, rounds=2)
    waiting, = (r for r in s.pending_approvals() if r["tool"] == "send_email")
    # what a worker writes as it finishes, caught before its run.finished: no screening is
    # to come, so an approval now would be a promise nothing keeps
    s.kb.record(s.run_id, "plan", "orchestrator", {"round": 3, "finish": True,
                                                   "why": "max_turns", "speakers": [],
                                                   "actions": []}, key="plan:3")
    with pytest.raises(UserError, match="is finishing .its last screening has passed.: call "
                       f"'{waiting['call_id']}' was not run"):
        s.approve(waiting["call_id"])
    assert not [e for e in s.history() if e.kind == "approval"]
    s.close()
