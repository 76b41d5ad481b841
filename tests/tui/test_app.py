"""The terminal app through Textual's Pilot, on real logs: attach to a finished run, answer a
question, pick the next speaker, interject (a paste of several kilobytes), the help screen,
a terminal too small, history and the event behind a result."""

from __future__ import annotations

from pathlib import Path

from mapek_tui import MapekApp
from mapek_tui.screens.answer import AnswerScreen
from mapek_tui.screens.interject import MAX_CHARS, InterjectScreen
from mapek_tui.screens.text import EventScreen, HelpScreen
from mapek_tui.widgets import Banner, DiscussionPane, ObserverPane, TooSmall
from mapek_tui.widgets.observer import ObserverNotes
from textual import events
from textual.widgets import DataTable, OptionList, TextArea

from mapek.api import Session

from .conftest import RUN_TRIPPED, RUN_WAITING, T0, settle


def _text(widget: object) -> str:
    """What a RichLog shows, as plain text."""
    return "\n".join(strip.text for strip in widget.lines)  # type: ignore[attr-defined]


async def test_attach_to_a_finished_run_and_answer_its_question(
        finished_run: tuple[Path, str]) -> None:
    home, run_id = finished_run
    s = Session.attach(run_id, home=home)
    pending = s.pending()[0]
    app = MapekApp(s)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.status in ("converged", "stalled", "max_turns") and not app.live
        log = _text(app.query_one(DiscussionPane))
        # Personas with their roles, the routing, the questions.
        assert "cfo (Chief Financial Officer)" in log and "routing:" in log
        assert f"! {pending.qid} consequential" in log
        banner = app.query_one(Banner)
        assert pending.qid in banner.message and banner.action == "answer"
        obs = app.query_one(ObserverPane)
        assert any(r.qid == pending.qid and r.status == "escalated" and r.consequential
                   for r in obs.questions)
        await pilot.press("a")
        assert isinstance(app.screen, AnswerScreen)
        assert app.screen.qid == pending.qid and app.screen.asked_by == pending.asked_by
        assert app.screen.context  # the message the question was raised in
        await pilot.press("enter")  # empty: refused in the dialog, nothing written
        assert isinstance(app.screen, AnswerScreen)
        await pilot.press(*"Yes, once legal signs off")
        await pilot.press("enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, AnswerScreen)
        assert not app.view.pending_questions() and not banner.message
        assert "you answered: Yes, once legal signs off" in _text(app.query_one(DiscussionPane))
    q = s.questions()[pending.qid]
    assert q.status == "answered" and q.answered_by == "human"
    assert q.answer_text == "Yes, once legal signs off"
    s.close()


async def test_next_speaker_and_a_pasted_interjection(scripted_home: Path) -> None:
    s = Session.attach(RUN_WAITING)
    app = MapekApp(s, clock=lambda: T0 + 400)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, status="running")
        await pilot.press("n")
        await pilot.pause()
        ol = app.screen.query_one("#who", OptionList)
        ol.highlighted = 3  # legal
        await pilot.press("enter", "enter")  # nothing to ask: on to the list, pick
        await settle(app, pilot)
        await pilot.press("i")
        assert isinstance(app.screen, InterjectScreen)
        big = ("The board meets Thursday; here are the minutes. " * 700)[:30_000]
        area = app.screen.query_one(TextArea)
        app.post_message(events.Paste(big))  # as the terminal driver delivers a paste
        await pilot.pause(0.3)
        assert area.text == big
        count = str(app.screen.query_one("#count").render())
        assert "30,000 characters" in count and f"only the first {MAX_CHARS:,}" in count
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert not isinstance(app.screen, InterjectScreen)
        assert "you interject" in _text(app.query_one(DiscussionPane))
    said = [e for e in s.history() if e.kind == "interjection"]
    assert said[0].payload["to"] == "legal" and "legal" in said[0].payload["text"]
    assert said[1].payload["to"] is None and len(said[1].payload["text"]) == MAX_CHARS
    assert said[1].payload["text"] == big[:MAX_CHARS].strip()
    s.close()


async def test_help_lists_every_binding(scripted_home: Path) -> None:
    s = Session.attach(RUN_WAITING)
    app = MapekApp(s, clock=lambda: T0 + 400)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = {b.description for _, group in app.screen.groups for b in group}
        assert {b.description for b in MapekApp.BINDINGS} <= shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
    s.close()


async def test_a_terminal_too_small_says_so_and_recovers(scripted_home: Path) -> None:
    s = Session.attach(RUN_TRIPPED)
    app = MapekApp(s)
    async with app.run_test(size=(50, 14)) as pilot:
        await settle(app, pilot, status="tripped")
        small = app.query_one(TooSmall)
        assert small.display and not app.query_one("#body").display
        assert "too small: 50x14" in str(small.render())
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.2)
        assert not small.display and app.query_one("#body").display
    s.close()


async def test_history_opens_a_run_and_the_event_behind_a_line(scripted_home: Path) -> None:
    s = Session.attach(RUN_WAITING)
    app = MapekApp(s, clock=lambda: T0 + 400)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("h")
        await pilot.pause(0.5)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 2
        statuses = {str(table.get_row(k)[0]): str(table.get_row(k)[1]) for k in table.rows}
        assert statuses == {RUN_WAITING: "running", RUN_TRIPPED: "tripped"}
        table.move_cursor(row=table.get_row_index(RUN_TRIPPED))
        await pilot.press("enter")
        await pilot.pause(0.2)
        detail = app.screen.query_one("#detail", OptionList)
        assert detail.option_count == s.kb.log.last_seq(RUN_TRIPPED)
        detail.highlighted = detail.option_count - 2  # the trip
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, EventScreen) and app.screen.ev.kind == "breaker.tripped"
        await pilot.press("escape")
        await pilot.press("o")  # open that run in the main view
        await settle(app, pilot, status="tripped")
        assert app.session.run_id == RUN_TRIPPED
        assert "breaker tripped (tokens)" in app.query_one(Banner).message
    s.close()


async def test_search_the_knowledge_base_and_open_the_event_behind_a_result(
        finished_run: tuple[Path, str]) -> None:
    home, run_id = finished_run
    s = Session.attach(run_id, home=home)
    app = MapekApp(s)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("h", "slash")
        await pilot.press(*"rollback rehearsal", "enter")
        detail = app.screen.query_one("#detail", OptionList)
        for _ in range(600):  # the first search opens the vector index
            await pilot.pause(0.1)
            if "results for" in str(detail.border_title):
                break
        assert "results for 'rollback rehearsal'" in str(detail.border_title)
        assert detail.option_count > 0
        run, seq = app.screen.detail_events["e0"]
        detail.highlighted = 0
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, EventScreen)
        assert (app.screen.ev.run_id, app.screen.ev.seq) == (run, seq) == (run_id, seq)
        assert "rollback" in str(app.screen.ev.payload.get("text", "")).lower()
    s.close()


async def test_without_a_run_the_app_opens_the_history(scripted_home: Path) -> None:
    app = MapekApp(None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.8)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 2
        table.move_cursor(row=table.get_row_index(RUN_WAITING))
        await pilot.press("o")
        await settle(app, pilot, status="running")
        assert app.session.run_id == RUN_WAITING
        assert app.view.pending_questions()[0].qid == "q2"
    app.session.close()


async def test_events_that_arrive_while_a_dialog_is_open_are_shown(scripted_home: Path) -> None:
    s = Session.attach(RUN_WAITING)
    app = MapekApp(s, clock=lambda: T0 + 400)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, status="running")
        await pilot.press("question_mark")
        ev = s.kb.record(RUN_WAITING, "message", "skeptic",
                         {"text": "said while the help was open", "round": 3,
                          "turn": {"stance": "oppose"}})
        await settle(app, pilot, seq=ev.seq)
        await pilot.pause(1.2)  # a tick of the time gauge with the dialog on top
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert "said while the help was open" in _text(app.query_one(DiscussionPane))
    s.close()


async def test_picking_an_escalated_question_in_the_observer_opens_its_dialog(
        scripted_home: Path) -> None:
    s = Session.attach(RUN_WAITING)
    app = MapekApp(s, clock=lambda: T0 + 400)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot, status="running")
        questions = app.query_one(ObserverPane).query_one("#questions", OptionList)
        row = next(i for i in range(questions.option_count)
                   if questions.get_option_at_index(i).id == "q:q2")
        questions.focus()
        questions.highlighted = row
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, AnswerScreen) and app.screen.qid == "q2"
        assert app.screen.reason == "legal commitment"
        await pilot.press("ctrl+d")  # defer it
        await settle(app, pilot)
        assert app.view.questions["q2"].status == "deferred"
    s.close()


async def test_a_side_refresh_due_at_exit_does_nothing(scripted_home: Path) -> None:
    """The side panes' timer can fire while the app is being torn down (after its widgets'
    children are gone): it must not raise into the exit (seen as NoMatches('#questions') on
    a loaded machine)."""
    s = Session.attach(RUN_WAITING)
    app = MapekApp(s, clock=lambda: T0 + 400)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, status="running")
    app._refresh_side()  # noqa: SLF001 - what the timer calls
    app.observer.questions = ()  # a change the watchers would draw: nothing left to draw on
    app.observer.notes = ObserverNotes((), (), ("late",))
    app.banner.message, app.banner.action = "late", "resume"
    s.close()
