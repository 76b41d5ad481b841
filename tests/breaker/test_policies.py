"""Policies: files validate with errors naming file and field; each policy trips on its fold."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from mapek.breaker.policies import (
    BreakerFold,
    build_policies,
    first_breach,
    load_policy,
    policy_dir,
)
from mapek.errors import ConfigError
from mapek.models import GENESIS_HASH, Event


class Chain:
    """Events of one run, correctly hash-chained, without a database."""

    def __init__(self, spec_overrides: dict[str, Any] | None = None) -> None:
        self.spec = load_policy("default", spec_overrides or {})
        self.fold, self.policies = BreakerFold(self.spec), build_policies(self.spec)
        self.seq, self.prev = 0, GENESIS_HASH

    def event(self, kind: str, actor: str = "worker", parent: int | None = None,
              **payload: Any) -> Event:
        self.seq += 1
        ev = Event(run_id="r", seq=self.seq, kind=kind, actor=actor, payload=payload,
                   parent=parent, prev_hash=self.prev, ts=time.time())
        ev = ev.model_copy(update={"hash": ev.compute_hash()})
        self.prev = ev.hash
        return ev

    def add(self, kind: str, actor: str = "worker", parent: int | None = None, **payload: Any
            ) -> Any:
        ev = self.event(kind, actor, parent, **payload)
        self.fold.apply(ev)
        return first_breach(self.policies, self.fold, ev, time.time())


def test_presets_load_and_strict_extends_default() -> None:
    names = {p.stem for p in policy_dir().glob("*.yaml")}
    assert {"default", "strict"} <= names
    strict = load_policy("strict")
    assert strict.forbid_effects == ["destructive", "external"]
    assert strict.protect_human_created and strict.error_rate is not None
    assert load_policy("default", {"max_tokens": 5}).max_tokens == 5


def test_unknown_key_names_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "mine.yaml"
    bad.write_text("max_tokens: 10\nmax_tokenz: 5\n")
    with pytest.raises(ConfigError, match=r"mine\.yaml: max_tokenz: unknown key"):
        load_policy(bad)
    bad.write_text("error_rate: {threshold: 0.5, windw: 3}\n")
    with pytest.raises(ConfigError, match=r"mine\.yaml: error_rate\.windw: unknown key"):
        load_policy(bad)


def test_negative_limit_names_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "neg.yaml"
    bad.write_text("extends: default\nmax_usd: -1\n")
    with pytest.raises(ConfigError, match=r"neg\.yaml: max_usd: .*greater than or equal to 0"):
        load_policy(bad)
    with pytest.raises(ConfigError, match="no policy preset 'nope'"):
        load_policy("nope")
    with pytest.raises(ConfigError, match="max_turns"):
        load_policy("default", {"max_turns": -3})


def test_token_cost_turn_and_escalation_limits() -> None:
    c = Chain({"max_tokens": 100, "max_usd": 1.0, "max_turns": 2, "max_escalations": 1})
    assert c.add("llm.call", prompt_tokens=60, completion_tokens=30, cost_usd=0.5) is None
    b = c.add("llm.call", prompt_tokens=10, completion_tokens=10, cost_usd=0.1)
    assert b.policy == "tokens" and b.observed == 110 and b.threshold == 100 and b.seqs == [1, 2]
    c = Chain({"max_usd": 1.0})
    c.add("llm.call", cost_usd=0.7)
    assert c.add("llm.call", cost_usd=0.7).policy == "cost"
    c = Chain({"max_turns": 2})
    assert c.add("message", text="a") is None and c.add("message", text="b") is None
    assert c.add("message", text="c").policy == "turns"
    c = Chain({"max_escalations": 1})
    assert c.add("question.escalated", qids=["q1"]) is None
    assert c.add("question.escalated", qids=["q2"]).policy == "escalations"


def test_raise_override_lifts_a_limit_and_disable_switches_off() -> None:
    c = Chain({"max_tokens": 100})
    assert c.add("llm.call", prompt_tokens=150).policy == "tokens"
    c.add("breaker.override", actor="alice", **{"raise": {"tokens": 500}, "reason": "ok"})
    assert first_breach(c.policies, c.fold, None) is None
    assert c.add("llm.call", prompt_tokens=400).policy == "tokens"
    c.add("breaker.override", actor="alice", disable=["tokens"], reason="trust it")
    assert c.add("llm.call", prompt_tokens=400) is None
    c.add("breaker.override", actor="bob", force_open=True, reason="stop now")
    assert first_breach(c.policies, c.fold, None).policy == "forced_open"


def test_time_limit_is_checked_on_the_clock_and_summed_over_workers() -> None:
    c = Chain({"time_limit": 10})
    c.add("worker.started", pid=1)
    now = time.time()
    assert first_breach(c.policies, c.fold, None, now + 5) is None
    b = first_breach(c.policies, c.fold, None, now + 11)
    assert b is not None and b.policy == "time"


def test_depth_forbidden_effects_tools_and_human_created() -> None:
    c = Chain({"max_depth": 1})
    c.add("plan")
    assert c.add("tool.call", parent=1, tool="kb_search", effect="read", args={}) is None
    assert c.add("tool.call", parent=2, tool="kb_search", effect="read", args={"q": 1}
                 ).policy == "depth"
    c = Chain({"forbid_effects": ["destructive"], "forbid_tools": ["send_email"]})
    assert c.add("tool.call", tool="send_email", effect="external", args={}).policy == \
        "forbidden_action"
    assert c.add("tool.call", tool="shell", effect="destructive", args={}).policy == \
        "forbidden_action"
    c = Chain()
    assert c.add("tool.call", actor="human", tool="write_note", effect="write",
                 args={"path": "notes/plan.md"}) is None
    assert c.add("tool.call", actor="cfo", tool="rm", effect="destructive",
                 args={"path": "notes/other.md"}) is None
    b = c.add("tool.call", actor="cfo", tool="rm", effect="destructive",
              args={"path": "notes/plan.md"})
    assert b.policy == "human_created" and b.observed == "notes/plan.md"


def test_human_created_reads_the_gateways_provenance_not_claims() -> None:
    """The breaker's notion of "a human created it" is the tool gateway's: a human's
    ``resource.registered`` (a folder covers what is inside it) and the owner the gateway found.
    A registration by an agent, or a claim in a call's arguments, makes nothing a human's."""
    c = Chain()
    assert c.add("resource.registered", actor="engineer", resource="scratch") is None
    assert c.add("tool.call", actor="cfo", tool="rm", effect="destructive", outcome="ok",
                 resource="scratch/a.txt", provenance="removed",
                 args={"path": "scratch/a.txt", "created_by": "human"}) is None
    assert c.add("resource.registered", actor="human", resource="./contracts/") is None
    b = c.add("tool.call", actor="cfo", tool="rm", effect="destructive", outcome="ok",
              resource="contracts/2025/msa.pdf", provenance="removed",
              args={"path": "contracts/2025/msa.pdf"})
    assert b is not None and b.policy == "human_created"
    c = Chain()  # the gateway found the owner in another run's records
    b = c.add("tool.call", actor="cfo", tool="rm", effect="destructive", outcome="ok",
              resource="db/prod", owner="human", args={"name": "db/prod"})
    assert b is not None and b.observed == "db/prod"


def test_error_rate_window_with_minimum_and_half_open_trial() -> None:
    c = Chain({"error_rate": {"threshold": 0.5, "window": 4, "min_calls": 4, "trial_calls": 2},
               "slow_rate": None})
    assert c.add("llm.call", outcome="error") is None  # below the minimum number of calls
    assert c.add("llm.call", outcome="error") is None
    assert c.add("llm.call", outcome="ok") is None
    b = c.add("tool.call", outcome="ok", tool="t", args={})
    assert b.policy == "error_rate" and b.observed == 0.5 and b.seqs == [1, 2]
    c.add("breaker.tripped")
    assert c.fold.circuit == "open"
    c.add("worker.started", pid=2)
    assert c.fold.circuit == "half_open"
    b = c.add("llm.call", outcome="error")
    assert b.policy == "error_rate" and "half-open" in b.reason
    c2 = Chain({"error_rate": {"window": 4, "min_calls": 4, "trial_calls": 2},
                "slow_rate": None})
    c2.add("breaker.tripped")
    c2.add("worker.started", pid=2)
    c2.add("llm.call", outcome="ok")
    c2.add("llm.call", outcome="ok")
    assert c2.fold.circuit == "closed"


def test_slow_call_rate() -> None:
    c = Chain({"slow_rate": {"threshold": 0.5, "window": 3, "min_calls": 3, "slow_ms": 100},
               "error_rate": None})
    c.add("llm.call", outcome="ok", latency_ms=500)
    c.add("llm.call", outcome="ok", latency_ms=5)
    assert c.add("llm.call", outcome="ok", latency_ms=700).policy == "slow_rate"


def test_no_progress_repeats_and_idle_rounds() -> None:
    c = Chain({"no_progress": {"same_tool_call": 2, "same_message": 2, "idle_rounds": 2}})
    assert c.add("tool.call", tool="kb_search", args={"query": "x"}, outcome="ok") is None
    assert c.add("tool.call", tool="kb_search", args={"query": "y"}, outcome="ok") is None
    assert c.add("tool.call", tool="kb_search", args={"query": "x"}, outcome="ok").policy == \
        "repeated_tool_call"
    c = Chain({"no_progress": {"same_tool_call": 2, "same_message": 2, "idle_rounds": 2}})
    assert c.add("message", actor="cfo", text="We need  more data.") is None
    assert c.add("message", actor="cfo", text="we need more data.").policy == "repeated_message"
    c = Chain({"no_progress": {"same_tool_call": 2, "same_message": 2, "idle_rounds": 2}})
    assert c.add("observer.analysis", new_claims=[], changed_positions=[]) is None
    assert c.add("observer.analysis", new_claims=["c"], changed_positions=[]) is None
    assert c.add("observer.analysis", new_claims=[], changed_positions=[]) is None
    assert c.add("observer.analysis", new_claims=[], changed_positions=[]).policy == \
        "no_progress"


def test_a_broken_chain_trips_integrity() -> None:
    c = Chain()
    c.add("message", text="a")
    ev = c.event("message", text="b").model_copy(update={"payload": {"text": "forged"}})
    c.fold.apply(ev)
    b = first_breach(c.policies, c.fold, ev)
    assert b.policy == "integrity" and b.seqs == [2] and "hash" in b.reason


def test_a_rejected_envelope_trips_the_evidence_policy() -> None:
    c = Chain()
    assert c.add("evidence.accepted", actor="receiver", producer="security",
                  task={"type": "build", "id": "b1"}, reasons=[], events=[1]) is None
    b = c.add("evidence.rejected", actor="receiver", producer="security",
              task={"type": "security_audit", "id": "audit-1"}, events=[1],
              reasons=["coverage 0 is below 0.9", "nothing was scanned"])
    assert b is not None and b.policy == "evidence" and b.seqs[0] == c.seq
    assert "security's envelope for security_audit audit-1" in b.reason
    assert "coverage 0 is below 0.9" in b.reason
    c = Chain({"evidence": False})  # a policy file may switch it off
    assert c.add("evidence.rejected", actor="receiver", reasons=["x"]) is None
