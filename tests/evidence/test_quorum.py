"""Quorum: k-of-n independent verifiers; disagreement goes to the human with both sides."""

from __future__ import annotations

import json
from typing import Any

import pytest
from _evidence_rig import Rig

from mapek.errors import ConfigError, EvidenceRejected
from mapek.evidence import (
    FunctionVerifier,
    LogVerifier,
    ModelVerifier,
    Quorum,
    RecheckVerifier,
    Vote,
)
from mapek.llm import Gateway
from mapek.loop.human import ProgrammaticChannel
from mapek.testing import FunctionModel

YES = FunctionVerifier("yes-man", lambda env, chk: (True, ["looks fine"]))
NO = FunctionVerifier("skeptic", lambda env, chk: (False, ["coverage is suspicious"]))


def quorum_event(rig: Rig) -> dict[str, Any]:
    evs = rig.kb.events(rig.run_id, kinds=["evidence.quorum"])
    assert len(evs) == 1
    return evs[0].payload


def test_independent_verifiers_that_agree_accept(rig: Rig) -> None:
    q = Quorum([LogVerifier(), RecheckVerifier("second-scanner", rig.gw)], k=2)
    res = rig.checker(q).require(rig.audit())
    assert res.proceed and res.quorum is not None and res.quorum.outcome == "accepted"
    p = quorum_event(rig)
    assert p["outcome"] == "accepted" and p["k"] == 2 and p["n"] == 2
    assert [v["approve"] for v in p["votes"]] == [True, True]
    rechecks = [e for e in rig.kb.events(rig.run_id, kinds=["tool.call"])
                if e.actor == "second-scanner"]
    assert len(rechecks) == 3  # it re-ran the scans itself, under its own name
    assert rig.kb.get(rig.run_id, res.seq).payload["quorum"] == "accepted"  # type: ignore[union-attr]


def test_a_non_consequential_task_needs_no_quorum(rig: Rig) -> None:
    c = rig.collector(task=("security_audit", "a"))
    q = Quorum([NO], k=1)
    chk = rig.checker(q)
    chk.requirements.add("security_audit", {**chk.requirements.get("security_audit")
                                            .model_dump(), "consequential": False})
    assert chk.check(rig.audit(c)).quorum is None


def test_unanimous_rejection_stops_without_asking(rig: Rig) -> None:
    asked: list[Any] = []
    channel = ProgrammaticChannel(answer=lambda q: asked.append(q) or "accept")
    q = Quorum([NO, FunctionVerifier("other", lambda e, c: (False, ["no"]))], k=1,
               channel=channel)
    with pytest.raises(EvidenceRejected, match="quorum: 0 of 2 verifiers approve"):
        rig.checker(q).require(rig.audit())
    assert not asked and quorum_event(rig)["outcome"] == "rejected"


def test_disagreement_escalates_with_both_sides_evidence(rig: Rig) -> None:
    asked: list[dict[str, Any]] = []

    def human(q: dict[str, Any]) -> str:
        asked.append(q)
        return "accept: I read both sides"

    q = Quorum([LogVerifier(), NO], k=1, channel=ProgrammaticChannel(answer=human))
    res = rig.checker(q).require(rig.audit())
    assert res.proceed and res.quorum is not None and res.quorum.outcome == "human-accepted"
    (question,) = asked
    assert question["approve"][0]["verifier"] == "log-auditor"
    assert question["reject"][0]["reasons"] == ["coverage is suspicious"]
    assert question["envelope"]["task"] == {"type": "security_audit", "id": "audit-1"}
    assert "log-auditor" in question["text"] and "skeptic" in question["text"]
    esc = rig.kb.events(rig.run_id, kinds=["evidence.escalated"])
    assert len(esc) == 1 and esc[0].payload["reject"][0]["verifier"] == "skeptic"
    assert quorum_event(rig)["human"]["answer"] == "accept: I read both sides"


@pytest.mark.parametrize("answer", [None, "reject", "hmm, not sure"])
def test_an_unanswered_or_unclear_escalation_fails_closed(rig: Rig, answer: str | None) -> None:
    q = Quorum([YES, NO], k=1, channel=ProgrammaticChannel(answer=lambda q: answer))
    with pytest.raises(EvidenceRejected, match="human-rejected"):
        rig.checker(q).require(rig.audit())


def test_no_channel_means_disagreement_is_a_rejection(rig: Rig) -> None:
    res = rig.checker(Quorum([YES, NO], k=1)).check(rig.audit())
    assert not res.accepted and res.quorum is not None and res.quorum.human["answer"] is None  # type: ignore[index]


def test_a_crashing_verifier_abstains_and_too_few_approvals_reject(rig: Rig) -> None:
    def boom(env: Any, chk: Any) -> tuple[bool, list[str]]:
        raise RuntimeError("verifier down")

    q = Quorum([YES, FunctionVerifier("flaky", boom)], k=2)
    res = rig.checker(q).check(rig.audit())
    assert not res.accepted and res.quorum is not None
    assert res.quorum.votes[1] == Vote("flaky", None, ["RuntimeError: verifier down"])
    assert res.quorum.outcome == "rejected"


def test_recheck_catches_a_result_that_does_not_reproduce(rig: Rig) -> None:
    env = rig.audit()
    (rig.repo / "m0.py").write_text("eval(input())\n")  # what was scanned is not what is there
    q = Quorum([RecheckVerifier("second-scanner", rig.gw, sample=1, tools=["scan_file"])], k=1)
    res = rig.checker(q).check(env)
    assert not res.accepted
    assert "re-running" in res.quorum.votes[0].reasons[0]  # type: ignore[union-attr]
    digests = res.quorum.votes[0].evidence  # type: ignore[union-attr]
    (one,) = digests.values()
    assert one["logged"] != one["recomputed"]


def test_log_auditor_finds_calls_left_out_of_the_envelope(rig: Rig) -> None:
    c = rig.collector()
    c.call("list_files", {"root": str(rig.repo)})
    rig.broken[0] = True
    c.call("scan_file", {"path": str(rig.repo / "m0.py")}, cite=False)  # failed, hidden
    rig.broken[0] = False
    for i in range(3):
        path = str(rig.repo / f"m{i}.py")
        c.call("scan_file", {"path": path})
        c.input(path, (rig.repo / f"m{i}.py").read_bytes())
    env = c.seal("continue", "clean", {"items_examined": 3, "files_total": 3, "coverage": 1,
                                       "rules_run": 4, "errors": 0, "warnings": 0})
    assert rig.checker().evaluate(env).accepted  # the cited calls alone look perfect
    vote = LogVerifier().verify(env, rig.checker())
    assert vote.approve is False and "is not cited" in vote.reasons[0]


def test_a_model_persona_can_vote(rig: Rig) -> None:
    seen: list[str] = []

    def reviewer(request: Any) -> str:
        seen.append(request.messages[-1]["content"])
        return json.dumps({"approve": True, "reasons": ["coverage 1.0 over 3 files"]})

    llm = Gateway(FunctionModel(reviewer, name="reviewer-model"))
    q = Quorum([ModelVerifier("ciso", llm), LogVerifier()], k=2)
    res = rig.checker(q).require(rig.audit())
    assert res.quorum is not None and res.quorum.votes[0].reasons == ["coverage 1.0 over 3 files"]
    assert "items_examined" in seen[0] and "signature matches" in seen[0]


def test_a_quorum_must_be_possible_and_its_verifiers_distinct() -> None:
    with pytest.raises(ConfigError, match="1 <= k <= 1"):
        Quorum([YES], k=2)
    with pytest.raises(ConfigError, match="distinct"):
        Quorum([YES, YES], k=1)


def test_a_rerun_step_reuses_the_recorded_quorum_and_asks_nobody_twice(rig: Rig) -> None:
    asked: list[str] = []
    calls: list[str] = []

    def counted(env: Any, chk: Any) -> tuple[bool, list[str]]:
        calls.append(env.digest)
        return True, ["ok"]

    q = Quorum([FunctionVerifier("counted", counted), NO], k=1,
               channel=ProgrammaticChannel(answer=lambda q: asked.append(q["qid"]) or "accept"))
    env = rig.audit()
    first = rig.checker(q).check(env)
    again = rig.checker(q).check(env)  # the same step, re-run after a crash
    assert first.accepted and again.accepted and len(asked) == 1 and len(calls) == 1
    assert again.quorum is not None and again.quorum.seq == first.quorum.seq  # type: ignore[union-attr]
    assert again.quorum.votes == first.quorum.votes and again.seq == first.seq  # type: ignore[union-attr]
