"""The observer pane: questions by status with who asked whom (consequential ones with their
reason), the themes, each persona's position, and warnings for loops and stalls."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mapek_tui.state import RunView, short

__all__ = ["ObserverNotes", "ObserverPane", "QuestionRow"]

_STATUS = {"escalated": ("escalated (for you)", "bold yellow"), "open": ("open", "cyan"),
           "answered": ("answered", "green"), "deferred": ("deferred", "dim")}


@dataclass(frozen=True)
class QuestionRow:
    qid: str
    status: str
    asked_by: str
    to: str
    consequential: bool
    reason: str
    text: str


@dataclass(frozen=True)
class ObserverNotes:
    themes: tuple[str, ...] = ()
    positions: tuple[tuple[str, str, str], ...] = ()
    """(persona, stance, colour)."""
    warnings: tuple[str, ...] = ()


class ObserverPane(VerticalScroll):
    """Questions, themes, positions and warnings; click an escalated question to answer it."""

    DEFAULT_CSS = """
    ObserverPane {
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    ObserverPane > OptionList { height: auto; border: none; padding: 0; background: transparent; }
    ObserverPane > Static { height: auto; }
    """

    class AnswerRequested(Message):
        """The human picked an escalated question."""

        def __init__(self, qid: str) -> None:
            super().__init__()
            self.qid = qid

    questions: reactive[tuple[QuestionRow, ...]] = reactive(tuple)
    notes: reactive[ObserverNotes] = reactive(ObserverNotes)

    def compose(self) -> ComposeResult:
        yield OptionList(id="questions")
        yield Static(id="notes")

    def on_mount(self) -> None:
        self.border_title = "observer"

    def show(self, view: RunView) -> None:
        """Take the current state of ``view`` (only what changed is redrawn)."""
        rows = []
        for status, qs in view.by_status().items():
            for q in qs:
                rows.append(QuestionRow(q.qid, status, q.asked_by, q.routed_to or q.to or "anyone"
                                        if status != "escalated" else "you", q.consequential,
                                        q.reason or "", q.text))
        self.questions = tuple(rows)
        self.notes = ObserverNotes(
            tuple(view.themes[-3:]),
            tuple((n, s, view.personas[n].color if n in view.personas else "")
                  for n, s in sorted(view.positions.items())),
            tuple(view.warnings[-4:]))

    def watch_questions(self, rows: tuple[QuestionRow, ...]) -> None:
        if not self.is_attached:
            return  # a side refresh due while the app exits: its children are gone
        ol = self.query_one("#questions", OptionList)
        ol.clear_options()
        last = None
        for r in rows:
            if r.status != last:
                label, style = _STATUS[r.status]
                n = sum(1 for x in rows if x.status == r.status)
                ol.add_option(Option(Text(f"{label} · {n}", style=style), disabled=True))
                last = r.status
            t = Text.assemble((f"{r.qid} ", "bold"), f"{r.asked_by}→{r.to} ")
            if r.consequential:
                t.append(f"! {r.reason} ", style="yellow")
            t.append(short(r.text, 90))
            ol.add_option(Option(t, id=f"q:{r.qid}" if r.status == "escalated" else None,
                                 disabled=r.status != "escalated"))
        if not rows:
            ol.add_option(Option(Text("no questions yet", style="dim"), disabled=True))

    def watch_notes(self, notes: ObserverNotes) -> None:
        if not self.is_attached:
            return
        t = Text()
        if notes.themes:
            t.append("themes\n", style="bold")
            for th in notes.themes:
                t.append(f" · {short(th, 120)}\n")
        if notes.positions:
            t.append("positions\n", style="bold")
            for name, stance, color in notes.positions:
                t.append(f" {name}", style=f"bold {color}" if color else "bold")
                t.append(f": {stance}\n")
        if notes.warnings:
            t.append("warnings\n", style="bold magenta")
            for w in notes.warnings:
                t.append(f" ⚠ {w}\n", style="magenta")
        self.query_one("#notes", Static).update(t)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        oid = event.option.id or ""
        if oid.startswith("q:"):
            self.post_message(self.AnswerRequested(oid[2:]))
