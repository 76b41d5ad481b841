"""The dialogs keep what a person types: the next-speaker question, the raise-limit number,
an answer given while no worker waits for it; and the gauges show the session's own limits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mapek_tui import MapekApp
from mapek_tui.screens.override import RaiseScreen
from mapek_tui.screens.speaker import SpeakerScreen
from mapek_tui.widgets import BudgetPane
from textual import events
from textual.widgets import Input

from mapek.api import Session
from mapek.loop.worker import run_session

from .conftest import INFRA, PEOPLE, RUN_TRIPPED, RUN_WAITING, T0, settle


async def until(pilot: Any, ok: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app work until ``ok()`` (or the timeout: the caller's assert says what failed)."""
    deadline = time.monotonic() + timeout
    while not ok() and time.monotonic() < deadline:
        await pilot.pause(0.05)


def burst(app: MapekApp, *keys: str) -> None:
    """Keys as a terminal delivers a fast typist's burst: all queued at once, none waiting for
    the app to handle the one before (``pilot.press`` waits after each key)."""
    for key in keys:
        ev = events.Key(key, key if len(key) == 1 else None)
        ev.set_sender(app)
        app._driver.send_message(ev)  # type: ignore[union-attr]  # noqa: SLF001


async def test_the_next_speaker_is_asked_what_was_typed(scripted_home: Path) -> None:
    s = Session.attach(RUN_WAITING)
    app = MapekApp(s, clock=lambda: T0 + 400)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, status="running")
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, SpeakerScreen)
        await pilot.press(*"what does leaving cost us", "enter")  # Enter: on to the list
        await pilot.press("down", "down", "down", "enter")  # cfo, engineer, skeptic, legal
        await settle(app, pilot)
        assert not isinstance(app.screen, SpeakerScreen)
    [said] = [e for e in s.history() if e.kind == "interjection"]
    assert said.payload == {"text": "what does leaving cost us", "to": "legal"}
    s.close()


async def test_the_raise_limit_dialog_takes_the_number_first(scripted_home: Path) -> None:
    s = Session.attach(RUN_TRIPPED)
    app = MapekApp(s, clock=lambda: T0 + 400)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, status="tripped")
        burst(app, "l", *"40000")  # typed at once, as a person who knows the number does
        await until(pilot, lambda: isinstance(app.screen, RaiseScreen)
                    and app.screen.query_one("#value", Input).value == "40000")
        assert isinstance(app.screen, RaiseScreen)
        assert app.screen.query_one("#value", Input).value == "40000"
        assert app.screen.query_one("#reason", Input).value == ""
        assert app.screen.query_one("#limit").value == "tokens"  # the limit that tripped
    s.close()


async def test_the_turns_gauge_shows_the_sessions_own_limit(scripted_home: Path) -> None:
    s = Session.attach(RUN_WAITING)  # max_turns 12: the watchdog's limit is 14 (its slack)
    app = MapekApp(s, clock=lambda: T0 + 400)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot, status="running")
        gauges = {g.name: g for g in app.query_one(BudgetPane).gauges}
        assert gauges["turns"].limit == 12 and gauges["turns"].label() == "4/12"
        assert gauges["tokens"].label() == "4200/20k" and gauges["cost"].limit == 0.5
    s.close()


def _round(s: Session) -> threading.Thread:
    """One round of the worker in a thread (the session's offline model); calls it holds for
    approval are refused, as a person in another front end would."""
    th = threading.Thread(target=run_session, args=(s.run_id,), kwargs={"rounds": 1},
                          daemon=True)
    th.start()
    return th


async def test_an_answer_given_while_no_worker_waits_reaches_the_next_one(home: Path) -> None:
    s = Session.create(INFRA, PEOPLE, human="interactive", max_turns=12)
    for _ in range(8):  # rounds until one escalates a question and pauses after its analysis
        th = _round(s)
        while th.is_alive():
            th.join(0.2)
            for r in s.pending_approvals():
                s.approve(r["call_id"], False, "not in this test")
        if s.pending():
            break
    [q] = s.pending()
    assert not s.kb.events(s.run_id, kinds=["escalation.requested"])  # no worker waits on it
    app = MapekApp(s)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("n", *"your view now?", "enter", "enter")  # another dialog first
        burst(app, "a", *"yes, within budget", "enter")  # then the answer, typed at once
        await until(pilot, lambda: not app.view.pending_questions())
        assert not app.view.pending_questions()
    assert s.questions()[q.qid].answer_text == "yes, within budget"
    th = _round(s)  # the next worker publishes the question and finds it answered
    th.join(120)
    assert not th.is_alive(), "the worker waits for an answer the log already holds"
    react = [e for e in s.history() if e.kind == "message" and e.actor == q.asked_by
             and e.payload.get("task") == "react"]
    assert react and "yes, within budget" in react[-1].payload["text"]
    s.close()
