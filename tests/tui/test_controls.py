"""The human's controls through Pilot, against real workers: approve and deny a screened plan
(the loop in-process on a model double), trip the breaker by hand and raise a limit (a worker
process with its watchdog), and a worker that dies while the app is open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mapek_tui import MapekApp
from mapek_tui.screens.approve import ApproveScreen
from mapek_tui.screens.override import RaiseScreen, TripScreen
from mapek_tui.screens.text import PostmortemScreen
from mapek_tui.widgets import Banner, BudgetPane
from textual.widgets import Input

from mapek.api import Session
from mapek.loop.worker import run_session
from mapek.testing import FunctionModel
from mapek.testing.discussion import discussion_model

from .conftest import INFRA, settle


def _model_proposing(name: str, actions: list[dict[str, Any]]) -> FunctionModel:
    """The offline scripts, plus actions ``name`` proposes on its first turn."""
    return discussion_model(first_turn={name: {"actions": actions}})


@pytest.mark.parametrize(("key", "approved"), [("y", True), ("n", False)])
async def test_approve_or_deny_a_screened_plan(home: Path, key: str, approved: bool) -> None:
    s = Session.create(INFRA, ["cfo", "engineer", "skeptic"], human="queue", max_turns=6)
    model = _model_proposing("cfo", [
        {"tool": "send_email", "args": {"to": "board@x.com", "subject": "go"}, "why": "tell"},
        {"tool": "kb_search", "args": {"query": "cost"}}])
    run_session(s.run_id, model=model, rounds=2)  # round 2 screens the call and holds it
    app = MapekApp(s)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        banner = app.query_one(Banner)
        assert banner.action == "approve" and "approval" in banner.message
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, ApproveScreen)
        [req] = screen.requests
        assert req["tool"] == "send_email" and req["args"] == {"to": "board@x.com",
                                                               "subject": "go"}
        offending = screen.query(".offending")
        assert len(offending) == 1 and "send_email" in str(offending.first().render())
        await pilot.press(key)
        await settle(app, pilot)
        assert not isinstance(app.screen, ApproveScreen) and not app.view.pending_approvals()
    [decision] = [e for e in s.history() if e.kind == "approval"]
    assert (decision.payload["call_id"], decision.payload["approved"],
            decision.payload["note"]) == (req["call_id"], approved, "decided in the terminal app")
    assert decision.actor == "human"
    run_session(s.run_id, model=model)  # the rest of the run: the call runs only if approved
    calls = [e.payload for e in s.history() if e.kind == "tool.call"
             and e.payload["tool"] == "send_email"]
    assert calls and calls[-1]["outcome"] == ("refused" if not approved else "error")
    s.close()


@pytest.mark.slow
async def test_trip_by_hand_then_raise_a_limit_and_resume(home: Path) -> None:
    s = Session.create(INFRA, ["cfo", "engineer", "skeptic", "legal"], human="interactive",
                       max_turns=12)
    app = MapekApp(s, start=True)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot, status="running")
            await pilot.press("t")
            assert isinstance(app.screen, TripScreen)
            await pilot.press("enter")  # no reason: refused in the dialog
            assert isinstance(app.screen, TripScreen)
            await pilot.press(*"runaway test")
            await pilot.press("enter")
            await settle(app, pilot, status="tripped", timeout=30)
            budget = app.query_one(BudgetPane)
            assert budget.circuit == "open" and "runaway test" in budget.trip
            banner = app.query_one(Banner)
            assert banner.alarm and banner.action == "postmortem"
            assert "forced_open" in banner.message
            await pilot.press("m")
            for _ in range(100):
                await pilot.pause(0.05)
                if isinstance(app.screen, PostmortemScreen):
                    break
            assert isinstance(app.screen, PostmortemScreen)
            assert "runaway test" in app.screen.markdown
            await pilot.press("escape")
            await pilot.press("l")
            assert isinstance(app.screen, RaiseScreen)
            app.screen.query_one("#limit").value = "turns"
            await pilot.press(*"abc", "enter", *"x", "enter")
            assert "not a number" in str(app.screen.query_one("#error").render())
            app.screen.query_one("#value", Input).value = "40"
            app.screen.query_one("#reason", Input).value = ""
            app.screen.query_one("#reason", Input).focus()
            await pilot.press(*"reviewed: it was a drill", "enter")
            await settle(app, pilot, status="running", timeout=30)
            assert app.view.trip is None and not app.query_one(BudgetPane).trip
    finally:
        s.kill()
    [override] = [e for e in s.history() if e.kind == "breaker.override"
                  and e.payload.get("raise")]
    assert override.payload["raise"] == {"turns": 40}
    assert override.payload["reason"] == "reviewed: it was a drill"
    kinds = [e.kind for e in s.history()]
    assert kinds.index("breaker.tripped") < kinds.index("breaker.half_open")  # a trial first
    assert kinds.index("breaker.tripped") < len(kinds) - 1 - kinds[::-1].index("worker.started")
    s.close()


@pytest.mark.slow
async def test_a_worker_that_dies_is_shown_and_can_be_resumed(home: Path) -> None:
    s = Session.create(INFRA, ["cfo", "engineer", "skeptic", "legal"], human="interactive",
                       max_turns=12)
    app = MapekApp(s, start=True)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot, status="running")
            while not s.kb.events(s.run_id, kinds=["message"], limit=1):
                await pilot.pause(0.1)  # the worker is well under way
            s.kill()  # SIGKILL: no final event
            await settle(app, pilot, status="died", timeout=30)
            banner = app.query_one(Banner)
            assert banner.alarm and banner.action == "resume"
            assert "worker died" in banner.message
            starts = len(s.kb.events(s.run_id, kinds=["worker.started"]))
            await pilot.click("#banner-button")  # the mouse works too
            await settle(app, pilot, status="running", timeout=30)
            for _ in range(300):  # the new worker announces itself in the log
                if len(s.kb.events(s.run_id, kinds=["worker.started"])) == starts + 1:
                    break
                await pilot.pause(0.1)
            assert len(s.kb.events(s.run_id, kinds=["worker.started"])) == starts + 1
            assert not banner.alarm
    finally:
        s.kill()
    s.close()


@pytest.mark.slow
async def test_pause_and_resume(home: Path) -> None:
    s = Session.create(INFRA, ["cfo", "engineer", "skeptic", "legal"], human="interactive",
                       max_turns=12)
    app = MapekApp(s, start=True)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot, status="running")
            while not s.kb.events(s.run_id, kinds=["worker.started"], limit=1):
                await pilot.pause(0.1)
            await pilot.press("space")
            await settle(app, pilot, status="stopped", timeout=30)
            stopped = s.kb.events(s.run_id, kinds=["run.stopped"])
            assert stopped and stopped[-1].payload["reason"] == ("paused by the human in the "
                                                                 "terminal app")
            # The banner offers what the person needs next: resume, unless a call of the
            # plan was already waiting for approval when the run stopped (approvals come first;
            # the offline engineer may propose one before the pause lands).
            assert app.view is not None
            expected = "approve" if app.view.pending_approvals() else "resume"
            assert app.query_one(Banner).action == expected
            await pilot.press("space")
            await settle(app, pilot, status="running", timeout=30)
            for _ in range(300):
                if len(s.kb.events(s.run_id, kinds=["worker.started"])) == 2:
                    break
                await pilot.pause(0.1)
            assert len(s.kb.events(s.run_id, kinds=["worker.started"])) == 2
    finally:
        s.kill()
    s.close()
