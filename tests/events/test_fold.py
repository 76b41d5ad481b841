"""RunFold on real runs: its figures against the log read directly, the same figures wherever
they are shown (breaker, post-mortem, decision summary, app), and a fold built event by event
equal to a fold of the whole log."""

from __future__ import annotations

import math
import random
from collections import Counter
from typing import Any

import pytest

from mapek.api import Session
from mapek.breaker.policies import BreakerFold, load_policy
from mapek.breaker.postmortem import build_report
from mapek.decisions import summarise
from mapek.fold import STATUS_KINDS, RunFold, fold_questions
from mapek.knowledge import KnowledgeBase
from mapek.models import Event

from .conftest import PRICE, Runs


def _direct(events: list[Event]) -> dict[str, Any]:
    """The figures, summed from the raw payload dicts (the way every reader used to)."""
    calls = [e.payload for e in events if e.kind == "llm.call"]
    return {"calls": len(calls),
            "tokens": sum(p["prompt_tokens"] + p["completion_tokens"] for p in calls),
            "usd": sum(p["cost_usd"] for p in calls),
            "turns": sum(e.kind == "message" for e in events),
            "rounds": sum(e.kind == "plan" and not e.payload["finish"]
                          and not e.payload.get("settle") for e in events),
            "tools": Counter(e.payload["outcome"] for e in events if e.kind == "tool.call")}


def _state(f: RunFold) -> dict[str, Any]:
    return {"summary": f.summary(), "timeline": f.timeline, "questions": f.questions,
            "by_actor": f.by_actor, "by_task": f.by_task, "status": f.status,
            "pending": f.pending_approvals(), "trips": f.trips, "round": f.round,
            "messages_by": f.messages_by, "config": f.config}


@pytest.mark.parametrize("which", ["offline", "priced"])
def test_the_folds_figures_are_the_logs(runs: Runs, which: str) -> None:
    run = getattr(runs, which)
    events = runs.events(run)
    fold = RunFold.of(events)
    d = _direct(events)
    assert fold.run_id == run and fold.events == len(events) and fold.last_seq == events[-1].seq
    assert fold.spend.calls == fold.model_calls == d["calls"] > 0
    assert fold.spend.tokens == d["tokens"] > 0
    assert math.isclose(fold.spend.usd, d["usd"])
    assert fold.turns == d["turns"] == sum(fold.messages_by.values())
    assert fold.rounds == d["rounds"] and fold.tool_calls == dict(d["tools"])
    # Per persona and per task the spend adds up to the whole; the timeline ends there.
    for split in (fold.by_actor, fold.by_task):
        assert sum(s.tokens for s in split.values()) == fold.spend.tokens
        assert sum(s.calls for s in split.values()) == fold.spend.calls
    assert [p.seq for p in fold.timeline] == [e.seq for e in events if e.kind == "llm.call"]
    assert fold.timeline[-1].tokens == fold.spend.tokens
    assert all(a.tokens <= b.tokens and a.t <= b.t
               for a, b in zip(fold.timeline, fold.timeline[1:], strict=False))
    # The configuration, status and ending as the session reads them.
    with Session.attach(run, home=runs.home) as s:
        assert fold.config.session() == s.config
        assert fold.status == s.result().status == fold.outcome
        assert fold.synthesis_path is not None and fold.synthesis_path.endswith("synthesis.md")
        assert fold.synthesis is not None and fold.synthesis.text
    done = {e.payload["call_id"] for e in events if e.kind == "approval"}
    asked = {r["call_id"]: r for e in events if e.kind == "approval.requested"
             for r in e.payload["approvals"]}
    assert [w.request for w in fold.pending_approvals()] == \
        [r for cid, r in asked.items() if cid not in done]


def test_statuses_questions_and_approvals_of_a_real_run(runs: Runs) -> None:
    events = runs.events(runs.offline)
    fold = RunFold.of(events)
    assert fold.status == runs.offline_status
    asked = [e.payload["qid"] for e in events if e.kind == "question"]
    assert list(fold.questions) == asked and len(asked) >= 2
    answered = {e.payload["qid"] for e in events if e.kind == "answer"}
    escalated = {q for e in events if e.kind == "question.escalated" for q in e.payload["qids"]}
    for q in fold.questions.values():
        assert (q.status == "answered") == (q.qid in answered)
        if q.status == "escalated":
            assert q.qid in escalated and q.consequential
    assert fold.pending_questions(), "the offline run leaves a consequential question pending"
    assert fold.questions == fold_questions(events)
    # Escalations count each question and each call put to the human.
    assert fold.escalations == len(escalated) + sum(
        len(e.payload["approvals"]) for e in events if e.kind == "approval.requested")
    waiting = fold.pending_approvals()
    assert waiting and all(w.call.tool and w.seq > 0 for w in waiting)


def test_a_paused_and_resumed_run(runs: Runs) -> None:
    events = runs.events(runs.priced)
    assert runs.priced_statuses[0] == "paused"
    fold = RunFold()
    statuses = []
    for ev in events:
        fold.add(ev)
        statuses.append(fold.status)
    # created, running (first worker), paused, running again (second worker), its ending.
    seen = [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]
    assert seen == ["created", "running", "paused", "running", runs.priced_statuses[1]]
    assert fold.workers == 2 and math.isclose(fold.spend.usd, fold.spend.tokens * PRICE)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_incremental_fold_equals_the_fold_of_the_whole_log(runs: Runs, seed: int) -> None:
    rnd = random.Random(seed)
    for run in (runs.offline, runs.priced):
        events = runs.events(run)
        whole = RunFold.of(events)
        step, i = RunFold(), 0
        while i < len(events):  # as a follower reads the log: batches of any size
            n = rnd.randint(1, 12)
            for ev in events[i:i + n]:
                step.add(ev)
            i += n
        assert _state(step) == _state(whole)


def test_a_fold_of_some_kinds_gives_their_figures(runs: Runs) -> None:
    with KnowledgeBase.open(runs.home, index_on_record=False) as kb:
        for run in (runs.offline, runs.priced):
            whole = RunFold.of(kb.events(run))
            status = RunFold.of(kb.events(run, kinds=list(STATUS_KINDS)))
            assert (status.status, status.reason, status.topic, status.workers) == \
                (whole.status, whole.reason, whole.topic, whole.workers)
            spend = RunFold.of(kb.events(run, kinds=["llm.call"]))
            assert spend.spend == whole.spend and spend.by_actor == whole.by_actor


def test_one_sum_wherever_it_is_shown(runs: Runs) -> None:
    with KnowledgeBase.open(runs.home, index_on_record=False) as kb:
        for run in (runs.offline, runs.priced):
            events = kb.events(run)
            fold = RunFold.of(events)
            breaker = BreakerFold(load_policy("default"))
            for ev in events:
                breaker.apply(ev)
            assert (breaker.tokens, breaker.usd, breaker.turns) == \
                (fold.spend.tokens, fold.spend.usd, fold.turns)
            report = build_report(kb, run)
            assert report.fold.spend == fold.spend
            assert report.series == [(p.t, p.tokens, p.usd) for p in fold.timeline]
            assert f"tokens {fold.spend.tokens:,}" in report.markdown()
            s = summarise(kb, run)
            assert (s.llm_calls, s.tokens, s.usd, s.turns, s.rounds, s.escalations, s.status) \
                == (fold.spend.calls, fold.spend.tokens, fold.spend.usd, fold.turns,
                    fold.rounds, fold.escalations, fold.status)


def _scripted(kb: Any, run: str) -> None:
    """A log as a worker, a watchdog and a human write it: an approval asked and answered, a
    second left waiting, a trip, a resume."""
    rec = kb.record
    cfg = {"topic": "t", "personas": ["cfo", "legal"], "model": "mapek/offline"}
    rec(run, "run.started", "human", {"config": cfg, "text": "t", "breaker": {}})
    rec(run, "worker.started", "worker", {"pid": 1})
    rec(run, "llm.call", "cfo", {"task": "persona_turn", "prompt_tokens": 90,
                                 "completion_tokens": 10, "cost_usd": 0.25, "outcome": "ok"})
    rec(run, "approval.requested", "screen", {"approvals": [
        {"call_id": "tool:1:0", "tool": "send_email", "args": {"to": "a@b.c"}},
        {"call_id": "tool:1:1", "tool": "rm", "args": {"path": "x"}}], "queued": True})
    rec(run, "approval", "human", {"call_id": "tool:1:0", "approved": False})
    rec(run, "breaker.tripped", "watchdog", {"policy": "cost", "reason": "cost: 0.25 > 0.1",
                                             "threshold": 0.1, "observed": 0.25, "seqs": [3]})


def test_trips_pending_approvals_and_a_resume(tmp_path: Any) -> None:
    from mapek.config import Settings

    with KnowledgeBase.open(Settings(home=tmp_path / "ws").workspace(),
                            index_on_record=False) as kb:
        _scripted(kb, "r1")
        fold = RunFold.of(kb.events("r1"))
        assert fold.status == "tripped" and fold.reason == "cost: 0.25 > 0.1"
        assert fold.current_trip == fold.last_trip and fold.last_trip is not None
        assert (fold.last_trip.policy, fold.last_trip.seqs) == ("cost", (3,))
        assert [w.call_id for w in fold.pending_approvals()] == ["tool:1:1"]
        assert fold.approvals["tool:1:0"].approved is False
        assert fold.escalations == 2 and fold.spend.usd == 0.25
        kb.record("r1", "worker.started", "worker", {"pid": 2})  # resumed: running again
        fold.add(kb.events("r1")[-1])
        assert fold.status == "running" and fold.worker_trip is None and fold.ended is False
        assert fold.outcome == "tripped"  # how it last ended, whatever came after
        assert fold.live_status() == ("running" if _alive(2) else "died")
        kb.record("r1", "run.finished", "worker", {"status": "converged"})
        fold.add(kb.events("r1")[-1])
        assert fold.status == fold.outcome == "converged" and fold.trips


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
