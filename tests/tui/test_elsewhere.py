"""The terminal app and another front end on one run: a question or call settled elsewhere
(`mapek answer`, `mapek approve` as real subprocesses) closes the open dialog, saying so; the
person's half-typed answer is not sent. Real runs: a worker process (the module's finished
queue run) and the loop in-process on a model double."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mapek_tui import MapekApp
from mapek_tui.screens.answer import AnswerScreen
from mapek_tui.screens.approve import ApproveScreen

from mapek.api import Session
from mapek.loop.worker import run_session
from mapek.testing.discussion import discussion_model

from .conftest import INFRA, settle


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "MAPEK_HOME": str(home)})


def _notes(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]  # noqa: SLF001


async def test_an_answer_given_elsewhere_closes_the_answer_dialog(
        finished_run: tuple[Path, str]) -> None:
    home, run_id = finished_run
    s = Session.attach(run_id, home=home)
    qid = s.pending()[0].qid
    app = MapekApp(s)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        assert isinstance(app.screen, AnswerScreen) and app.screen.qid == qid
        await pilot.press(*"not this one")  # half typed when the other front end answers
        r = _cli(home, "answer", run_id, qid, "Yes, from the other terminal")
        assert r.returncode == 0, r.stderr
        await settle(app, pilot)
        assert not isinstance(app.screen, AnswerScreen)
        assert any(f"{qid} was answered elsewhere" in n and "from the other terminal" in n
                   for n in _notes(app)), _notes(app)
        assert qid not in {q.qid for q in app.view.pending_questions()}
    answers = [e for e in s.history() if e.kind == "answer" and e.payload["qid"] == qid]
    assert [(e.actor, e.payload["text"]) for e in answers] == [
        ("human", "Yes, from the other terminal")]
    s.close()


async def test_a_call_decided_elsewhere_closes_the_approval_dialog(home: Path) -> None:
    model = discussion_model(first_turn={"cfo": {"actions": [
        {"tool": "send_email", "why": "tell", "args": {"to": "board@x.com", "subject": "go"}}]}})
    s = Session.create(INFRA, ["cfo", "engineer", "skeptic"], human="queue", max_turns=6)
    run_session(s.run_id, model=model, rounds=2)
    [waiting] = s.pending_approvals()
    app = MapekApp(s)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        assert isinstance(app.screen, ApproveScreen)
        r = _cli(home, "approve", s.run_id, waiting["call_id"], "--deny", "--note", "no mail")
        assert r.returncode == 0, r.stderr
        await settle(app, pilot)
        assert not isinstance(app.screen, ApproveScreen)
        assert any("decided elsewhere" in n and waiting["call_id"] in n
                   for n in _notes(app)), _notes(app)
        assert not app.view.pending_approvals()
    decisions = [e for e in s.history() if e.kind == "approval"]
    assert [(e.actor, e.payload["approved"], e.payload["note"]) for e in decisions] == [
        ("human", False, "no mail")]
    late = _cli(home, "approve", s.run_id, waiting["call_id"])  # a third one, too late
    assert late.returncode == 2 and f"was refused elsewhere (by the human, event " \
        f"#{decisions[0].seq})" in late.stderr, late.stderr
    s.close()
