"""A one-line notice above the panes: what waits for the human (questions, approvals), a trip,
or a worker that died; each with the key (or a click) that handles it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Button, Static

__all__ = ["Banner"]


class Banner(Horizontal):
    """Hidden when nothing needs the human."""

    DEFAULT_CSS = """
    Banner { height: 1; display: none; background: $warning 30%; }
    Banner.-show { display: block; }
    Banner.-alarm { background: $error 60%; }
    Banner > Static { width: 1fr; height: 1; padding: 0 1; }
    Banner > Button { height: 1; min-width: 8; border: none; margin: 0 0 0 1; }
    """

    message: reactive[str] = reactive("")
    action: reactive[str] = reactive("")
    """The app action the button runs (``answer``, ``approve``, ``resume``, ``postmortem``)."""
    alarm: reactive[bool] = reactive(False)

    def compose(self) -> ComposeResult:
        yield Static(id="banner-text")
        yield Button("", id="banner-button", compact=True)

    def watch_message(self, message: str) -> None:
        if not self.is_attached:
            return  # a refresh due while the app exits: its children are gone
        self.set_class(bool(message), "-show")
        self.query_one("#banner-text", Static).update(message)

    def watch_action(self, action: str) -> None:
        if not self.is_attached:
            return
        b = self.query_one("#banner-button", Button)
        b.label = {"answer": "answer (a)", "approve": "review (p)", "resume": "resume (r)",
                   "postmortem": "post-mortem (m)"}.get(action, action)
        b.display = bool(action)

    def watch_alarm(self, alarm: bool) -> None:
        self.set_class(alarm, "-alarm")

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if self.action:
            await self.app.run_action(self.action)
