"""Whole sessions on the offline model: real worker processes, real SQLite, real Chroma."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from mapek.api import Session
from mapek.errors import ConfigError, PersonaError, UserError

INFRA = "Should we migrate our customer database to a managed cloud service this quarter?"
PEOPLE = ["cfo", "engineer", "skeptic", "legal"]


def _kinds(s: Session) -> Counter[str]:
    return Counter(e.kind for e in s.history())


def test_discussion_runs_to_a_synthesis(home: Path) -> None:
    s = Session.create(INFRA, PEOPLE, human="queue", max_turns=16)
    res = s.run()
    assert res.status in ("converged", "stalled", "max_turns"), res
    ev = s.history()
    kinds = _kinds(s)
    assert kinds["message"] >= 8 and kinds["agenda"] == 1 and kinds["synthesis"] == 1
    # Trivial questions go to a peer, who answers them; consequential ones to the human.
    qs = s.questions()
    routed = [q for q in qs.values() if q.routed_to]
    assert routed and all(q.label == "trivial" for q in routed)
    assert any(q.status == "answered" and q.answered_by == q.routed_to for q in routed)
    assert any(q.label == "consequential" and q.status == "escalated" for q in qs.values())
    # The destructive plan step waits for a person (`mapek approve`); nobody decided it in a
    # person's name, so it never ran.
    held = [r for e in ev if e.kind == "approval.requested" for r in e.payload["approvals"]]
    assert any(r["tool"] == "shell" and "destructive" in " ".join(r["reasons"]) for r in held)
    assert not any(e.kind == "approval" for e in ev)
    assert not any(e.kind == "tool.call" and e.payload["tool"] == "shell"
                   and e.payload["outcome"] != "refused" for e in ev)
    # Synthesis files in the run's folder, dissent named.
    data = json.loads((home / "runs" / s.run_id / "synthesis.json").read_text())
    assert data["summary"] and data["open_questions"]
    assert "## Dissent" in (home / "runs" / s.run_id / "synthesis.md").read_text()
    # Supervision is cheap: observer and orchestrator model calls per persona turn.
    calls = [e for e in ev if e.kind == "llm.call"]
    supervision = sum(1 for e in calls if e.actor in ("observer", "orchestrator"))
    assert supervision / kinds["message"] <= 0.25
    # Nothing written twice, and the chain holds.
    keys = [e.key for e in ev if e.key]
    assert len(keys) == len(set(keys))
    assert s.kb.verify(s.run_id).ok
    s.close()


def test_human_answer_goes_back_to_the_asker(home: Path) -> None:
    asked: list[dict] = []

    def human(q: dict) -> str:
        asked.append(q)
        return "Yes, approved up to 200k"

    s = Session.create(INFRA, PEOPLE, max_turns=14)
    res = s.run(answer=human)
    assert res.status != "died"
    assert asked, "a consequential question should have reached the human"
    qs = s.questions()
    first = qs[asked[0]["qid"]]
    assert first.status == "answered" and first.answered_by == "human"
    reacts = [e for e in s.history() if e.kind == "message" and e.payload["task"] == "react"]
    assert any(e.actor == first.asked_by for e in reacts)
    assert any(e.kind == "escalation.requested" for e in s.history())
    s.close()


def test_escalation_budget_defers_the_rest(home: Path) -> None:
    s = Session.create(INFRA, ["cfo", "legal", "security", "customer"], human="queue",
                       escalation_budget=1, max_turns=12)
    s.run()
    deferred = [e for e in s.history() if e.kind == "question.deferred"]
    escalated = [q for q in s.questions().values() if q.status == "escalated"]
    assert len(escalated) <= 1
    assert deferred and "escalation budget" in deferred[0].payload["note"]
    s.close()


def test_bad_input(home: Path) -> None:
    with pytest.raises(PersonaError, match="unknown persona 'ghost'"):
        Session.create("a topic", ["cfo", "ghost"])
    with pytest.raises(ConfigError, match="topic"):
        Session.create("   ", PEOPLE)
    s = Session.create(INFRA, PEOPLE, human="queue", max_turns=8)
    s.run()
    with pytest.raises(UserError, match="no question 'q999'"):
        s.answer("q999", "yes")
    answered = next(q for q in s.questions().values() if q.status == "answered")
    with pytest.raises(UserError, match="already answered"):
        s.answer(answered.qid, "again")
    pending = s.pending()
    if pending:
        s.answer(pending[0].qid, "ok")
        assert s.questions()[pending[0].qid].status == "answered"
    s.close()


def test_step_by_step_then_to_the_end(home: Path) -> None:
    s = Session.create(INFRA, PEOPLE, human="defer", max_turns=10)
    first = s.step()
    assert first[-1].kind == "run.paused"
    assert sum(e.kind == "message" for e in first) == 2
    second = s.step()
    assert second[-1].kind == "run.paused" and second[0].seq > first[-1].seq
    res = s.run()
    assert res.status in ("converged", "stalled", "max_turns")
    rounds = [e.payload["round"] for e in s.history() if e.kind == "plan"]
    assert rounds == sorted(rounds) and len(rounds) == len(set(rounds))
    s.close()


def test_killed_worker_resumes_without_loss_or_duplicates(home: Path) -> None:
    s = Session.create(INFRA, PEOPLE, human="queue", max_turns=16)
    s.start()
    deadline = time.time() + 60
    while sum(e.kind == "message" for e in s.history()) < 4 and time.time() < deadline:
        time.sleep(0.02)
    assert s.owns_worker
    with Session.attach(s.run_id) as other:  # another front end sees the worker, cannot stop it
        assert other.is_running() and not other.owns_worker
        for refused in (other.stop, other.kill):
            with pytest.raises(UserError, match=f"mapek trip {s.run_id}"):
                refused()
    assert s.is_running()
    s.kill()
    assert s.result().status == "died"
    before = s.history()
    res = s.resume()
    assert res.status in ("converged", "stalled", "max_turns")
    after = s.history()
    assert [e.hash for e in after[: len(before)]] == [e.hash for e in before]  # nothing lost
    turns = Counter((e.payload["round"], e.actor) for e in after if e.kind == "message")
    assert max(turns.values()) == 1  # no turn doubled
    assert s.kb.verify(s.run_id).ok
    s.close()


def test_model_returning_garbage_stops_clearly_and_keeps_state(home: Path) -> None:
    s = Session.create(INFRA, PEOPLE, human="queue", model="mapek/offline-garbage-always")
    res = s.run()
    assert res.status == "failed"
    assert "gave no valid Agenda in 3 attempts" in res.reason
    assert s.kb.verify(s.run_id).ok
    assert (home / "checkpoints.sqlite3").exists()
    s.close()


def test_attach_to_finished_run(home: Path) -> None:
    s = Session.create(INFRA, PEOPLE, human="defer", max_turns=6)
    status = s.run().status
    s.close()
    other = Session.attach(s.run_id)
    assert other.result().status == status
    assert "<b>mapek session" in other._repr_html_()
    other.close()
    with pytest.raises(UserError, match="no run 'nope'"):
        Session.attach("nope")


def test_async_api(home: Path) -> None:
    import asyncio

    async def main() -> tuple[str, list[str]]:
        s = Session.create(INFRA, PEOPLE, human="defer", max_turns=6)
        res = await s.arun()
        kinds = [ev.kind async for ev in s.astream()]
        s.close()
        return res.status, kinds

    status, kinds = asyncio.run(main())
    assert status in ("converged", "stalled", "max_turns")
    assert kinds[0] == "run.started" and kinds[-1] == "run.finished"
    assert kinds.count("message") >= 4


def test_interjection_reaches_the_next_round_and_the_addressee(home: Path) -> None:
    s = Session.create(INFRA, PEOPLE, human="defer", max_turns=12)
    assert s.result().status == "created"
    s.step()
    with pytest.raises(UserError, match="'ghost' is not in this session"):
        s.interject("hello", to="ghost")
    note = s.interject("Please consider a hybrid option as well.", to="legal")
    nxt = s.step()
    plan = next(e for e in nxt if e.kind == "plan")
    assert {"persona": "legal", "task": "interjection", "qid": None,
            "note": "Please consider a hybrid option as well."} in plan.payload["speakers"]
    said = [e for e in nxt if e.kind == "message"]
    assert any(e.actor == "legal" and "hybrid option" in e.payload["text"] for e in said)
    assert all(e.seq > note.seq for e in said)
    # Addressed to legal alone: the others neither hear nor quote it, now or a round later.
    later = [e for e in [*nxt, *s.step()] if e.kind == "message" and e.actor != "legal"]
    assert later and not any("hybrid option" in e.payload["text"] for e in later)
    s.close()


def test_a_killed_worker_not_yet_reaped_is_not_running(home: Path) -> None:
    """A SIGKILLed worker whose parent has not reaped it yet (a zombie) is not running: a
    resume from another process is not refused with "already has a live worker"."""
    import subprocess
    import sys

    s = Session.create("Should we open an office in Berlin?", personas=["cfo", "skeptic"])
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        s.kb.record(s.run_id, "worker.started", "worker", {"pid": child.pid})
        other = Session.attach(s.run_id)
        assert other.is_running()
        child.kill()
        deadline = time.monotonic() + 10  # killed, not waited for: a zombie until reaped
        while other.is_running() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not other.is_running()
        other.close()
    finally:
        child.kill()
        child.wait()
        s.close()
