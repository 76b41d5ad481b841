"""Fixtures for the terminal app: real workspaces with real logs.

``finished_run``: one real session on the offline model (a worker process, queue mode: its
consequential question waits in the log), shared by the module's tests.
``scripted_home``: a log written event by event with a fixed run id and a fixed clock, so
screenshots of it do not change from one run to the next.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mapek.api import Session

INFRA = "Should we migrate our customer database to a managed cloud service this quarter?"
PEOPLE = ["cfo", "engineer", "skeptic", "legal"]
T0 = 1_800_000_000.0
"""The fixed clock of scripted logs (2027-01-15)."""


async def settle(app: Any, pilot: Any, *, seq: int | None = None, status: str | None = None,
                 timeout: float = 20.0) -> None:
    """Wait until the app has shown event ``seq`` (default: the log's last) and has a status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        if app.view is None or app.status == "loading":
            continue
        want = seq if seq is not None else app.session.kb.log.last_seq(app.session.run_id)
        if app.view.last_seq >= want and (status is None or app.status == status):
            await pilot.pause(app.SIDE_EVERY + 0.05)  # the side panes follow
            while app._side_due and time.monotonic() < deadline:  # noqa: SLF001
                await pilot.pause(0.05)
            await pilot.pause(0.05)
            return
    raise AssertionError(f"app did not settle: status {app.status}, "
                         f"seq {app.view.last_seq if app.view else None}")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """(home, run_id) of a real, finished offline run with an escalated question pending."""
    home = tmp_path_factory.mktemp("finished") / "ws"
    old = os.environ.get("MAPEK_HOME")
    os.environ["MAPEK_HOME"] = str(home)
    try:
        s = Session.create(INFRA, PEOPLE, human="queue", max_turns=10, home=home)
        res = s.run()
        assert res.status in ("converged", "stalled", "max_turns"), res
        assert s.pending(), "the offline run should leave a consequential question pending"
        run_id = s.run_id
        s.close()
        yield home, run_id
    finally:
        if old is None:
            os.environ.pop("MAPEK_HOME", None)
        else:
            os.environ["MAPEK_HOME"] = old


RUN_WAITING = "20270115-080000-aaaaaa"
RUN_TRIPPED = "20270115-090000-bbbbbb"


def _script(kb: Any, run_id: str, *, tripped: bool) -> None:
    """A discussion as the worker writes it: two rounds, routing, a trivial question answered
    by a peer, a consequential one escalated, a plan step held for approval."""
    rec = kb.record
    cfg = {"topic": INFRA, "personas": PEOPLE, "model": "mapek/offline", "max_turns": 12,
           "time_limit": None, "max_tokens": 20000, "max_usd": 0.5, "human": "interactive",
           "escalation_budget": 3, "speakers_per_round": 2, "personas_dir": None}
    rec(run_id, "run.started", "human", {"config": cfg, "text": INFRA, "breaker": {}})
    rec(run_id, "topic", "human", {"text": INFRA})
    rec(run_id, "worker.started", "worker", {"pid": os.getpid()})
    rec(run_id, "agenda", "orchestrator", {"items": ["Frame the decision", "Costs and risks",
                                                     "Recommendation and dissent"]})
    turns = [
        (1, "cfo", "support", "The managed service saves us two DBA salaries; I want the "
         "three-year cost of ownership on one page before we commit."),
        (1, "engineer", "conditional", "We can migrate in six engineer-weeks if we keep dual "
         "writes and rehearse the rollback first."),
        (2, "skeptic", "oppose", "Nobody has priced the egress fees or the lock-in; agreement "
         "came too quickly."),
        (2, "legal", "conditional", "Customer contracts require data to stay in the EU; the "
         "vendor's processing agreement must be signed first."),
    ]
    for rnd in (1, 2):
        who = [t for t in turns if t[0] == rnd]
        rec(run_id, "orchestrator.decision", "orchestrator",
            {"round": rnd, "decision": "speakers", "chosen": [t[1] for t in who],
             "options": {"cfo": 1.0, "engineer": 1.0, "skeptic": 0.5, "legal": 0.5},
             "why": "agenda item: " + ("Frame the decision" if rnd == 1 else "Costs and risks")})
        rec(run_id, "plan", "orchestrator",
            {"round": rnd, "finish": False, "agenda_item": "Frame the decision" if rnd == 1
             else "Costs and risks", "actions": [],
             "speakers": [{"persona": t[1], "task": "discuss", "qid": None} for t in who]})
        for _, name, stance, text in who:
            rec(run_id, "llm.call", name, {"task": "persona_turn", "prompt_tokens": 900,
                                           "completion_tokens": 150, "cost_usd": 0.0042,
                                           "outcome": "ok", "latency_ms": 5.0})
            rec(run_id, "message", name, {"text": text, "round": rnd, "task": "discuss",
                                          "qid": None, "turn": {"stance": stance,
                                                                "text": text}})
        if rnd == 1:
            rec(run_id, "question", "cfo", {"qid": "q1", "round": 1, "to": "engineer",
                                            "text": "What counts as migration effort?"})
            rec(run_id, "question.triaged", "observer", {"qid": "q1", "label": "trivial",
                                                         "reason": "definitional",
                                                         "score": 0.1, "source": "rules"})
            rec(run_id, "question.routed", "orchestrator", {"qid": "q1", "to": "engineer",
                                                            "why": "asked by name"})
            rec(run_id, "answer", "engineer", {"qid": "q1", "text": "Schema conversion, dual "
                                               "writes and the rollback rehearsal."})
        rec(run_id, "observer.analysis", "observer",
            {"round": rnd, "theme": "Frame the decision" if rnd == 1 else "Costs and risks",
             "new_claims": ["x"], "changed_positions": [], "consequential": [],
             "status": "running", "warning": None if rnd == 1 else
             "agreement loop: positions agree and nothing new is said",
             "positions": {t[1]: t[2] for t in turns if t[0] <= rnd}})
    rec(run_id, "question", "legal", {"qid": "q2", "round": 2, "to": None,
                                      "text": "Are you willing to sign the vendor's data "
                                      "processing agreement before our compliance review?"})
    rec(run_id, "question.triaged", "observer", {"qid": "q2", "label": "consequential",
                                                 "reason": "legal commitment", "score": 0.91,
                                                 "source": "rules"})
    rec(run_id, "question.escalated", "observer", {"qids": ["q2"], "mode": "interactive",
                                                   "reasons": {"q2": "legal commitment"}})
    step = {"call_id": "tool:3:0", "tool": "send_email", "effect": "external",
            "args": {"to": "board@example.com", "subject": "We migrate next week"},
            "proposed_by": "cfo", "why": "tell the board",
            "reasons": ["external effect: sends mail outside the company"]}
    rec(run_id, "screen.verdict", "screen",
        {"round": 3, "verdict": "needs_approval", "plan_verdict": "needs_approval",
         "allowed": [{"tool": "kb_search", "effect": "read", "args": {"query": "egress fees"},
                      "proposed_by": "skeptic"}],
         "refused": [{"tool": "shell", "effect": "destructive",
                      "args": {"command": "rm -rf /var/lib/postgres"}, "proposed_by":
                      "engineer", "reason": "destructive: recursive delete of a data folder"}],
         "pending": [step], "reasks": {}, "catalogue_ids": []})
    rec(run_id, "approval.requested", "screen", {"approvals": [step], "interrupt": "i1"})
    if tripped:
        rec(run_id, "llm.call", "cfo", {"task": "persona_turn", "prompt_tokens": 16000,
                                        "completion_tokens": 900, "cost_usd": 0.08,
                                        "outcome": "ok", "latency_ms": 5.0})
        rec(run_id, "breaker.tripped", "watchdog",
            {"policy": "tokens", "reason": "tokens: 21,100 tokens > limit 20,000",
             "threshold": 20000, "observed": 21100, "seqs": [30]})
        rec(run_id, "breaker.stopped", "watchdog", {"pid": os.getpid(), "how": "term",
                                                    "grace": 2.0, "elapsed_ms": 41.0,
                                                    "resume": f"mapek resume {run_id}"})


@pytest.fixture
def scripted_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace with two scripted runs: one waiting for the human, one tripped."""
    from mapek.config import Settings
    from mapek.knowledge import KnowledgeBase, sqlite_log

    home = tmp_path / "ws"
    monkeypatch.setenv("MAPEK_HOME", str(home))
    monkeypatch.delenv("MAPEK_PERSONAS", raising=False)
    ticks = iter(T0 + 7.0 * i for i in range(10_000))
    monkeypatch.setattr(sqlite_log, "time", SimpleNamespace(time=lambda: next(ticks)))
    with KnowledgeBase.open(Settings(home=home).workspace(), index_on_record=False) as kb:
        _script(kb, RUN_WAITING, tripped=False)
        _script(kb, RUN_TRIPPED, tripped=True)
    monkeypatch.undo()
    monkeypatch.setenv("MAPEK_HOME", str(home))
    return home
