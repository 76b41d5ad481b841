"""Answer an escalated question: the question, who asked whom and why it came to you, and
the message it was raised in; answer it or defer it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from mapek_tui.screens.typeahead import TypeAhead

__all__ = ["AnswerResult", "AnswerScreen"]


@dataclass(frozen=True)
class AnswerResult:
    qid: str
    text: str
    defer: bool = False


class AnswerScreen(TypeAhead, ModalScreen[AnswerResult | None]):
    """Dismissed with the answer, a deferral, or None (cancelled)."""

    DEFAULT_CSS = """
    AnswerScreen { align: center middle; }
    AnswerScreen > Vertical {
        width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    AnswerScreen #context { height: auto; max-height: 12; border: round $primary 40%; }
    AnswerScreen #question { height: auto; text-style: bold; }
    AnswerScreen Horizontal { height: auto; align-horizontal: right; }
    AnswerScreen Button { margin-left: 1; }
    AnswerScreen #error { color: $error; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel"),
                Binding("ctrl+d", "defer", "defer the question", priority=True)]
    FIRST = "#answer"

    def __init__(self, qid: str, question: str, asked_by: str, to: str, reason: str,
                 context: str, position: str = "") -> None:
        super().__init__()
        self.qid, self.question, self.asked_by, self.to = qid, question, asked_by, to
        self.reason, self.context, self.position = reason, context, position

    def compose(self) -> ComposeResult:
        with Vertical() as v:
            v.border_title = f"question {self.qid} for you {self.position}"
            yield Static(Text.assemble(("asked by ", "dim"), (self.asked_by, "bold"),
                                       ("  to ", "dim"), self.to or "anyone",
                                       ("  why you: ", "dim"), (self.reason or "-", "yellow")))
            yield Static(self.question, id="question")
            with VerticalScroll(id="context") as c:
                c.border_title = "raised in"
                yield Static(self.context or "(no message before it)")
            yield Label("your answer (Enter to send, Ctrl+D to defer, Esc to cancel)")
            yield Input(placeholder="type your answer", id="answer")
            yield Static(id="error")
            with Horizontal():
                yield Button("Answer", id="send", variant="primary")
                yield Button("Defer", id="defer")
                yield Button("Cancel", id="cancel")

    def _send(self) -> None:
        text = self.query_one("#answer", Input).value.strip()
        if not text:
            self.query_one("#error", Static).update(
                "an answer must not be empty (Defer sets the question aside)")
            return
        self.dismiss(AnswerResult(self.qid, text))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._send()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "send":
            self._send()
        elif event.button.id == "defer":
            self.action_defer()
        else:
            self.action_cancel()

    def action_defer(self) -> None:
        self.dismiss(AnswerResult(self.qid, self.query_one("#answer", Input).value.strip(),
                                  defer=True))

    def action_cancel(self) -> None:
        self.dismiss(None)
