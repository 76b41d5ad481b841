"""Decision records on real offline runs: written at each point, once, with outcomes linked;
``mapek runs compare`` and ``mapek runs export`` as a user runs them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mapek.api import Session
from mapek.decisions import KIND, LEGACY_KIND, POINTS, compare, decisions_of, export, summarise
from mapek.errors import ConfigError, UnknownRunError
from mapek.knowledge import KnowledgeBase
from mapek.loop.worker import run_session
from mapek.models import EventDraft
from mapek.testing.discussion import discussion_model

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"
PEOPLE = ["cfo", "engineer", "skeptic", "legal"]


@dataclass
class Runs:
    home: Path
    a: str
    """Four personas, 8 turns."""
    b: str
    """Three personas, 8 turns: diverges from ``a``."""
    c: str
    """Four personas, 4 turns: finishes before ``a``."""
    r: str
    """Like ``a``, paused after two rounds, a trip and an evidence verdict written into its log,
    resumed, then replayed from scratch against its log (checkpoints deleted)."""
    replayed_calls: int
    replayed_kinds: list[str]

    def kb(self) -> KnowledgeBase:
        return KnowledgeBase.open(self.home)


def _run(people: list[str], max_turns: int, rounds: int | None = None) -> tuple[Session, str]:
    s = Session.create(TOPIC, people, human="queue", max_turns=max_turns)
    return s, run_session(s.run_id, model=discussion_model(),
                          rounds=rounds)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    home = tmp_path_factory.mktemp("decisions") / "ws"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MAPEK_HOME", str(home))
        mp.delenv("MAPEK_PERSONAS", raising=False)
        mp.delenv("MAPEK_MODEL", raising=False)
        ids = []
        for people, turns in ((PEOPLE, 8), (["cfo", "engineer", "skeptic"], 8), (PEOPLE, 4)):
            s, status = _run(people, turns)
            assert status == "max_turns"
            ids.append(s.run_id)
            s.close()
        s, status = _run(PEOPLE, 8, rounds=2)
        assert status == "paused"
        # What the watchdog and an evidence check would write about round 2's tool call.
        call = next(e for e in s.history() if e.kind == "tool.call" and e.key == "tool:2:0")
        # (The evidence verdict cites the call in ``events``, as mapek.evidence writes it.)
        s.kb.append(EventDraft(run_id=s.run_id, kind="evidence.rejected", actor="observer",
                               payload={"task": {"type": "kb_search", "id": "s1"},
                                        "producer": "cfo", "events": [call.seq],
                                        "reasons": ["no results examined"], "passed": False}))
        s.kb.append(EventDraft(run_id=s.run_id, kind="breaker.tripped", actor="watchdog",
                               parent=call.seq, payload={"policy": "tool_rate", "reason":
                                                         "too many tool calls", "threshold": 0,
                                                         "observed": 1, "seqs": [call.seq]}))
        # ... and what the effects ledger and an evidence quorum put to the human.
        s.kb.append(EventDraft(run_id=s.run_id, kind="effect.in_doubt", actor="ledger",
                               payload={"key": "tool:2:0", "attempt": 1, "tool": "kb_search",
                                        "message": "no result recorded"}))
        s.kb.append(EventDraft(run_id=s.run_id, kind="evidence.escalated", actor="observer",
                               payload={"qid": "evidence-0123456789ab", "envelope": "0123",
                                        "text": "The verifiers disagree"}))
        model = discussion_model()
        assert run_session(s.run_id, model=model) == "max_turns"
        # Replay: every checkpoint of the run gone, so the whole graph runs again on its log.
        from langgraph.checkpoint.sqlite import SqliteSaver

        with sqlite3.connect(s.workspace.checkpoints_path) as conn:
            SqliteSaver(conn).delete_thread(s.run_id)
        before = s.kb.log.last_seq(s.run_id)
        calls = len(model.requests)
        assert run_session(s.run_id, model=model) == "max_turns"
        replayed = [e.kind for e in s.history(after=before)]
        r = s.run_id
        replayed_calls = len(model.requests) - calls
        s.close()
        yield Runs(home, *ids, r, replayed_calls, replayed)


def test_a_record_at_each_decision_point(runs: Runs) -> None:
    with runs.kb() as kb:
        recs = decisions_of(kb, runs.a)
        events = kb.events(runs.a)
    points = Counter(r.decision.point for r in recs)
    assert set(points) == set(POINTS), points
    assert not [e for e in events if e.kind == LEGACY_KIND]
    rounds = sorted({e.payload["round"] for e in events if e.kind == "plan"})
    # One plan per round, one speaker choice per round with turns: the last plan decides to
    # finish (after a settling round without turns when the last turns proposed calls).
    talks = [e for e in events if e.kind == "plan" and not e.payload["finish"]
             and not e.payload.get("settle")]
    assert points["plan"] == len(rounds) and points["speakers"] == len(talks)
    assert points["triage"] == sum(e.kind == "question.triaged" for e in events)
    assert points["route"] == sum(e.kind == "question.routed" for e in events)
    # One screening decision for each round whose plan carried actions.
    assert points["screen"] == sum(bool(e.payload["actions"])
                                   for e in events if e.kind == "plan")
    for r in recs:
        d = r.decision
        assert r.key == f"decision:{d.point}:{d.subject}" and d.options and d.why
        chosen = d.chosen if isinstance(d.chosen, list) else [d.chosen]
        assert set(chosen) <= set(d.options), r.key
    by_key = {r.key: r.decision for r in recs}
    last = max(rounds)
    assert by_key[f"decision:plan:{last}"].chosen == "finish"
    assert by_key[f"decision:plan:{last}"].context["turns"] == 8
    assert all(by_key[f"decision:plan:{n}"].chosen == "continue" for n in rounds[:-1])
    # The speakers chosen are the ones the plan sent, in its order.
    for e in events:
        if e in talks:
            d = by_key[f"decision:speakers:{e.payload['round']}"]
            assert d.chosen == [s["persona"] for s in e.payload["speakers"]]
    # Routing sent each question where the log says it went; triage gave the logged label.
    for e in events:
        if e.kind == "question.routed":
            assert by_key[f"decision:route:{e.payload['qid']}"].chosen == e.payload["to"]
        if e.kind == "question.triaged":
            t = by_key[f"decision:triage:{e.payload['qid']}"]
            assert t.chosen == e.payload["label"]
            assert t.options["consequential"] == e.payload["score"]
    # The engineer's terraform destroy was screened out: risk 2, not chosen (a peer's read
    # call in the same round may be).
    screens = [r.decision for r in recs if r.decision.point == "screen"]
    shell = next(d for d in screens if any(k.endswith(":shell") for k in d.options))
    assert not [k for k in shell.chosen if k.endswith(":shell")]
    assert max(shell.options.values()) >= 1.0
    assert shell.context["refused"] or shell.context["pending"]


def test_outcomes_link_back_to_the_decisions(runs: Runs) -> None:
    with runs.kb() as kb:
        recs = decisions_of(kb, runs.a)
        events = kb.events(runs.a)
        total = summarise(kb, runs.a)
    by_key = {r.key: r for r in recs}
    calls = [e for e in events if e.kind == "llm.call"]
    # Each round's plan decision owns that round's model calls; with the agenda's call,
    # every call of the run is counted exactly once.
    plans = [r for r in recs if r.decision.point == "plan"]
    agenda = [e for e in calls if e.payload["task"] == "agenda"]
    assert sum(r.outcomes.llm_calls for r in plans) + len(agenda) == len(calls)
    assert sum(r.outcomes.tokens for r in plans) + sum(
        e.payload["prompt_tokens"] + e.payload["completion_tokens"] for e in agenda) == \
        total.tokens and total.llm_calls == len(calls)
    assert plans[-1].outcomes.ended == "max_turns"
    assert any(c.payload["task"] == "synthesis" for c in calls
               if c.seq in plans[-1].outcomes.linked)
    # Speaker choice: the chosen speakers' turns of that round and their model calls.
    sp = by_key["decision:speakers:1"]
    turns = [e for e in events if e.kind == "message" and e.payload["round"] == 1]
    assert sorted(t["persona"] for t in sp.outcomes.turns) == sorted(sp.decision.chosen)
    assert {t["seq"] for t in sp.outcomes.turns} == {e.seq for e in turns}
    turn_calls = [e for e in calls if e.payload["task"] == "persona_turn"
                  and e.seq in sp.outcomes.linked]
    assert len(turn_calls) == sp.outcomes.llm_calls == 2 and sp.outcomes.tokens == sum(
        e.payload["prompt_tokens"] + e.payload["completion_tokens"] for e in turn_calls)
    # Routing: the routed peer's answer and the turn that gave it.
    for r in recs:
        if r.decision.point == "route":
            assert [a["by"] for a in r.outcomes.answers] == [r.decision.chosen]
            assert r.outcomes.llm_calls == 1 and r.outcomes.turns[0]["persona"] == r.decision.chosen
    # Screening: the terraform destroy waits in the log for a human (a queue session), and
    # that request is linked to the screening that made it; nobody answered, so it never ran.
    screens = [r for r in recs if r.decision.point == "screen"]
    parked = [r for r in screens if r.decision.context["pending"]]
    assert parked and all(x["kind"] == "approval" and x["call_id"] == f"tool:{r.decision.round}:"
                          + r.decision.context["pending"][0].split(":")[0]
                          for r in parked for x in r.outcomes.escalations)
    assert all(not [t for t in r.outcomes.tool_calls if t["tool"] == "shell"]
               and not r.outcomes.approvals for r in parked)
    ran = [r for r in screens if r.decision.chosen]
    assert ran and all(len(r.outcomes.tool_calls) == len(r.decision.chosen) for r in ran)


def test_escalations_link_to_the_triage_that_sent_them(runs: Runs) -> None:
    with runs.kb() as kb:
        recs = decisions_of(kb, runs.b)
        escalated = {q for e in kb.events(runs.b, kinds=["question.escalated"])
                     for q in e.payload["qids"]}
    assert escalated, "this run escalates a question to the human"
    for r in recs:
        if r.decision.point == "triage" and r.decision.subject in escalated:
            assert r.decision.chosen == "consequential"
            assert [x["qid"] for x in r.outcomes.escalations] == [r.decision.subject]
        elif r.decision.point == "triage":
            assert not r.outcomes.escalations
    plans = [r for r in recs if r.decision.point == "plan"]
    assert {x["qid"] for r in plans for x in r.outcomes.escalations
            if x["kind"] == "question"} == escalated


def test_trips_and_evidence_verdicts_link_to_the_decision_that_led_to_them(runs: Runs) -> None:
    with runs.kb() as kb:
        recs = decisions_of(kb, runs.r)
        s = summarise(kb, runs.r)
    by_key = {r.key: r for r in recs}
    screen = by_key["decision:screen:2"].outcomes
    assert [t["policy"] for t in screen.trips] == ["tool_rate"]
    assert [(v["verdict"], v["task"], v["detail"]) for v in screen.evidence] == \
        [("rejected", "kb_search:s1", "no results examined")]
    # The round's plan and speaker choice led to them too; the other rounds' did not.
    assert by_key["decision:plan:2"].outcomes.trips and by_key["decision:speakers:2"].outcomes.trips
    assert not by_key["decision:plan:1"].outcomes.trips
    assert not by_key["decision:screen:4"].outcomes.trips
    assert s.trips == 1 and s.status == "max_turns"
    # The effect in doubt goes to the screening that let the call run; the quorum's question
    # to the round's decisions; both count as escalations of the run.
    assert [(x["kind"], x["call_id"]) for x in screen.escalations] == [("effect", "tool:2:0")]
    kinds = {x["kind"] for x in by_key["decision:plan:2"].outcomes.escalations}
    assert {"effect", "evidence"} <= kinds
    with runs.kb() as kb:
        asked = sum(len(e.payload.get("qids") or e.payload.get("approvals")) for e in
                    kb.events(runs.r, kinds=["question.escalated", "approval.requested"]))
    assert s.escalations == asked + 2


def test_a_resumed_and_replayed_run_records_each_decision_once(runs: Runs) -> None:
    with runs.kb() as kb:
        events = kb.events(runs.r)
        cmp = compare(kb, runs.a, runs.r)
    keys = [e.key for e in events if e.kind == KIND]
    assert len(keys) == len(set(keys)) and len(keys) >= 15
    # Replaying the whole graph against the log wrote no decision and asked no model again.
    assert runs.replayed_calls == 0 and KIND not in runs.replayed_kinds
    # Paused, resumed and replayed, it decided exactly as the uninterrupted run did.
    assert not cmp.diverged and cmp.same_decisions == len(keys)


def test_compare_finds_where_two_runs_diverged(runs: Runs) -> None:
    with runs.kb() as kb:
        fewer_turns = compare(kb, runs.a, runs.c)
        other_people = compare(kb, runs.a, runs.b)
        same = compare(kb, runs.a, runs.a)
        recs_a = {r.key: r for r in decisions_of(kb, runs.a)}
    # The 4-turn run finishes where the 8-turn run goes on; everything before is the same.
    d = fewer_turns.to_dict()["divergence"]
    assert d["a"]["point"] == "plan" and d["a"]["chosen"] == "continue"
    assert d["b"]["chosen"] == "finish" and d["b"]["options"] == {"continue": 0.0, "finish": 1.0}
    assert d["key"] == f"decision:plan:{d['a']['round']}"
    before = [r for r in recs_a.values() if r.seq < recs_a[d["key"]].seq]
    assert fewer_turns.same_decisions == len(before)
    assert fewer_turns.b.turns == 4 and fewer_turns.a.turns == 8
    delta = fewer_turns.delta()
    assert delta["turns"] == -4 and delta["llm_calls"] == fewer_turns.b.llm_calls - \
        fewer_turns.a.llm_calls < 0 and delta["tokens"] < 0
    # Different panels choose different speakers at some round.
    assert other_people.diverged
    da, db = other_people.first, other_people.second
    assert da is not None and db is not None and da["chosen"] != db["chosen"]
    # A run compared with itself: no divergence, nothing differs.
    assert not same.diverged and same.same_decisions == len(recs_a)
    assert set(same.delta().values()) == {0}


def mapek(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAPEK_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=120, env=env)


def test_cli_compare(runs: Runs) -> None:
    r = mapek(runs.home, "runs", "compare", runs.a, runs.c, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["diverged"] and out["divergence"]["b"]["chosen"] == "finish"
    assert out["a"]["run_id"] == runs.a and out["delta"]["turns"] == -4
    # What followed each side's choice: A's round went on with its turns, B's run ended.
    then_a, then_b = out["divergence"]["a"]["outcomes"], out["divergence"]["b"]["outcomes"]
    assert then_a["turns"] == 2 and then_a["llm_calls"] >= 2 and then_a["ended"] is None
    assert then_b["turns"] == 0 and then_b["ended"] == "max_turns"
    r = mapek(runs.home, "runs", "compare", runs.a, runs.c)
    assert r.returncode == 0 and "diverged at round" in r.stdout and "chose finish" in r.stdout
    assert "run ended: max_turns" in r.stdout
    r = mapek(runs.home, "runs", "compare", runs.a, runs.a)
    assert r.returncode == 0 and "no divergence" in r.stdout
    r = mapek(runs.home, "runs", "compare", runs.a, "no-such-run")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == ["mapek: error: no run 'no-such-run' in this "
                                             "workspace (see `mapek runs list`)"]


def test_export_writes_one_line_per_decision(runs: Runs, tmp_path: Path) -> None:
    out = tmp_path / "decisions.jsonl"
    r = mapek(runs.home, "runs", "export", runs.a, runs.b, "--decisions", str(out))
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    with runs.kb() as kb:
        recs = decisions_of(kb, runs.a) + decisions_of(kb, runs.b)
    assert f"wrote {len(recs)} decisions of 2 run(s)" in r.stdout
    assert [(x["run_id"], x["key"]) for x in rows] == [(d.run_id, d.key) for d in recs]
    for row, rec in zip(rows, recs, strict=True):
        assert row["options"] == rec.decision.options and row["chosen"] == rec.decision.chosen
        assert row["outcomes"]["tokens"] == rec.outcomes.tokens
        assert row["point"] in POINTS and row["round"] >= 1 and row["why"]
    assert any(x["outcomes"]["escalations"] for x in rows)
    assert any(x["point"] == "screen" and x["outcomes"]["escalations"] for x in rows)
    assert [p.name for p in tmp_path.iterdir()] == ["decisions.jsonl"]


def test_export_bad_input_leaves_no_file(runs: Runs, tmp_path: Path) -> None:
    out = tmp_path / "decisions.jsonl"
    out.write_text("earlier export\n")
    r = mapek(runs.home, "runs", "export", runs.a, "no-such-run", "--decisions", str(out))
    assert r.returncode == 2 and "no run 'no-such-run'" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert out.read_text() == "earlier export\n"  # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["decisions.jsonl"]
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    r = mapek(runs.home, "runs", "export", runs.a, "--decisions", str(blocker / "x.jsonl"))
    assert r.returncode == 2 and "is not a folder" in r.stderr and r.stdout == ""
    r = mapek(runs.home, "runs", "export", runs.a, "--decisions", str(tmp_path))
    assert r.returncode == 2 and "is a folder, not a file" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "decisions.jsonl"]
    r = mapek(runs.home, "runs", "export", "--decisions", str(out))
    assert r.returncode == 2 and out.read_text() == "earlier export\n"


def test_library_errors(runs: Runs, tmp_path: Path) -> None:
    with runs.kb() as kb:
        with pytest.raises(UnknownRunError):
            decisions_of(kb, "nope")
        with pytest.raises(UnknownRunError):
            compare(kb, "nope", runs.a)
        with pytest.raises(ConfigError, match="no such folder"):
            export(kb, [runs.a], tmp_path / "missing" / "x.jsonl")
    assert not (tmp_path / "missing").exists()


@pytest.mark.slow  # ~15 s: a worker process and its watchdog (the queued test covers it fast)
def test_an_approval_links_to_the_screening_that_asked_for_it(home: Path) -> None:
    # A real worker process on the offline model; the engineer proposes a terraform destroy,
    # which waits for the human (interactive), who refuses it and answers every question.
    s = Session.create(TOPIC, ["cfo", "engineer", "skeptic"], max_turns=8)
    res = s.run(answer=lambda q: "Yes, within budget", approve=lambda req: False)
    assert res.status == "max_turns"
    recs = decisions_of(s.kb, s.run_id)
    screen = next(r for r in recs if r.decision.point == "screen"
                  and any(k.endswith(":shell") for k in r.decision.options))
    step = next(k for k in screen.decision.options if k.endswith(":shell"))
    call_id = f"tool:{screen.decision.round}:{step.split(':')[0]}"
    # Asked of the human, not chosen by the screen itself; the human refused it.
    assert step not in screen.decision.chosen and screen.decision.options[step] == 1.0
    assert screen.decision.context["pending"] == [step]
    assert [(x["kind"], x["call_id"]) for x in screen.outcomes.escalations] == \
        [("approval", call_id)]
    assert screen.outcomes.approvals == [{"seq": screen.outcomes.approvals[0]["seq"],
                                          "call_id": call_id, "approved": False}]
    assert [t["outcome"] for t in screen.outcomes.tool_calls if t["tool"] == "shell"] == \
        ["refused"]
    # A question the human answered links to the triage that sent it to them.
    answered = [r for r in recs if r.decision.point == "triage"
                and any(a["by"] == "human" for a in r.outcomes.answers)]
    assert answered and all(r.decision.chosen == "consequential" and r.outcomes.escalations
                            for r in answered)
    s.close()


def test_a_queued_call_refused_later_links_to_the_screening_that_parked_it(home: Path) -> None:
    s, status = _run(PEOPLE, 8, rounds=3)
    assert status == "paused"
    asked = next(e for e in s.history() if e.kind == "approval.requested")
    cid = asked.payload["approvals"][0]["call_id"]
    s.approve(cid, False, "not in this quarter")
    assert run_session(s.run_id, model=discussion_model()) \
        == "max_turns"
    recs = decisions_of(s.kb, s.run_id)
    rnd = int(cid.split(":")[1])
    parked = next(r for r in recs if r.key == f"decision:screen:{rnd}")
    assert parked.decision.context["pending"]
    assert not set(parked.decision.chosen) & set(parked.decision.context["pending"])
    assert parked.decision.context["calls"][parked.decision.context["pending"][0]] == cid
    assert [(x["kind"], x["call_id"]) for x in parked.outcomes.escalations] == \
        [("approval", cid)]
    assert [(a["call_id"], a["approved"]) for a in parked.outcomes.approvals] == [(cid, False)]
    # Refused in a later round, under the key it was parked with: still this decision's.
    call = next(e for e in s.history() if e.kind == "tool.call" and e.key == cid)
    assert [(t["seq"], t["outcome"]) for t in parked.outcomes.tool_calls
            if t["tool"] == call.payload["tool"]] == [(call.seq, "refused")]
    later = [r for r in recs if r.decision.point == "screen" and r.decision.round > rnd]
    assert all(call.seq not in r.outcomes.linked for r in later)
    s.close()


def test_a_verbose_replay_shows_each_decision(runs: Runs) -> None:
    r = mapek(runs.home, "runs", "show", runs.a, "--verbose")
    assert r.returncode == 0, r.stderr
    with runs.kb() as kb:
        recs = decisions_of(kb, runs.a)
    first = next(d.decision for d in recs if d.decision.point == "speakers")
    assert f"⤷ speakers {first.subject}: chose {', '.join(first.chosen)} of" in r.stdout
    last = max((d.decision for d in recs if d.decision.point == "plan"),
               key=lambda d: int(d.subject))
    assert f"⤷ plan {last.subject}: chose finish of continue 0, finish 1 " \
        "(finish: max_turns)" in r.stdout
    assert r.stdout.count("⤷") == len(recs)
    quiet = mapek(runs.home, "runs", "show", runs.a)
    assert "⤷" not in quiet.stdout


def test_older_runs_decisions_are_read_too(home: Path) -> None:
    # Before decision.made, routing and speaker choice were orchestrator.decision events.
    with KnowledgeBase.open(home) as kb:
        kb.append(EventDraft(run_id="old", kind="run.started", payload={"config": {}}))
        kb.append(EventDraft(run_id="old", kind=LEGACY_KIND, actor="orchestrator", payload={
            "round": 2, "decision": "route:q1", "options": {"cfo": 1.5, "legal": 0},
            "chosen": "cfo", "why": "best expertise"}, key="decision:2:route:q1"))
        kb.append(EventDraft(run_id="old", kind=LEGACY_KIND, actor="orchestrator", payload={
            "round": 2, "decision": "speakers", "options": {"cfo": 0, "legal": -2},
            "chosen": ["cfo"], "why": "agenda item: costs"}, key="decision:2:speakers"))
        msg = kb.append(EventDraft(run_id="old", kind="message", actor="cfo",
                                   payload={"text": "x", "round": 2, "qid": "q1"}))
        kb.append(EventDraft(run_id="old", kind="answer", actor="cfo", parent=msg.seq,
                             payload={"qid": "q1", "text": "x"}))
        recs = decisions_of(kb, "old")
    assert [(r.key, r.decision.chosen) for r in recs] == [("decision:route:q1", "cfo"),
                                                         ("decision:speakers:2", ["cfo"])]
    assert recs[0].decision.options == {"cfo": 1.5, "legal": 0.0}
    assert [a["by"] for a in recs[0].outcomes.answers] == ["cfo"]
    assert [t["seq"] for t in recs[1].outcomes.turns] == [msg.seq]
