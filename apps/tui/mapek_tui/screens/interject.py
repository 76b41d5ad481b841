"""Interject: say something to the peers (or to one of them). A multi-line box that takes a
paste of any size; what is over the log's limit is cut, and the box says so before sending."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Select, Static, TextArea

from mapek_tui.screens.typeahead import TypeAhead

__all__ = ["MAX_CHARS", "InterjectScreen", "Interjection"]

MAX_CHARS = 20_000
"""What ``Session.interject`` keeps of a message."""


@dataclass(frozen=True)
class Interjection:
    text: str
    to: str | None


class InterjectScreen(TypeAhead, ModalScreen[Interjection | None]):
    DEFAULT_CSS = """
    InterjectScreen { align: center middle; }
    InterjectScreen > Vertical {
        width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    InterjectScreen TextArea { height: 8; }
    InterjectScreen #count { height: 1; color: $text-muted; }
    InterjectScreen #count.-over { color: $error; }
    InterjectScreen Horizontal { height: auto; align-horizontal: right; }
    InterjectScreen Select { width: 30; }
    InterjectScreen Button { margin-left: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "send", "send", priority=True),
                                             Binding("escape", "cancel", "cancel")]
    FIRST = "#text"

    def __init__(self, personas: list[str]) -> None:
        super().__init__()
        self.personas = personas

    def compose(self) -> ComposeResult:
        with Vertical() as v:
            v.border_title = "interject (Ctrl+S sends, Esc cancels)"
            yield Label("to")
            yield Select([(p, p) for p in self.personas], prompt="everyone", id="to")
            yield TextArea(id="text", soft_wrap=True, show_line_numbers=False)
            yield Static("0 characters", id="count")
            with Horizontal():
                yield Button("Send", id="send", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        n = len(event.text_area.text)
        count = self.query_one("#count", Static)
        over = n > MAX_CHARS
        count.set_class(over, "-over")
        count.update(f"{n:,} characters" + (f": only the first {MAX_CHARS:,} are sent"
                                            if over else ""))

    def action_send(self) -> None:
        text = self.query_one("#text", TextArea).text
        if not text.strip():
            self.query_one("#count", Static).update("nothing to send: type a message")
            return
        to = self.query_one("#to", Select).value
        self.dismiss(Interjection(text.strip()[:MAX_CHARS],
                                  to if isinstance(to, str) else None))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_send() if event.button.id == "send" else self.action_cancel()
