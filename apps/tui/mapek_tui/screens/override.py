"""Trip the breaker by hand, or raise a limit after a trip: each asks for a reason, recorded
with who made it (``breaker.override``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from mapek.errors import MapekError
from mapek_tui.screens.typeahead import TypeAhead

__all__ = ["RaiseRequest", "RaiseScreen", "TripScreen"]


class TripScreen(TypeAhead, ModalScreen[str | None]):
    """Dismissed with the reason, or None."""

    DEFAULT_CSS = """
    TripScreen { align: center middle; }
    TripScreen > Vertical {
        width: 70; max-width: 95%; height: auto; border: thick $error;
        background: $surface; padding: 0 1;
    }
    TripScreen #error { color: $error; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]
    FIRST = "#reason"

    def compose(self) -> ComposeResult:
        with Vertical() as v:
            v.border_title = "trip the breaker: the watchdog stops the worker now"
            yield Label("why? (recorded with your name; Enter trips, Esc cancels)")
            yield Input(placeholder="reason", id="reason")
            yield Static(id="error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self.query_one("#error", Static).update("a reason is required")
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class RaiseRequest:
    limits: dict[str, float]
    reason: str


class RaiseScreen(TypeAhead, ModalScreen[RaiseRequest | None]):
    """Dismissed with a checked request (``parse_raise``'s checks), or None."""

    DEFAULT_CSS = """
    RaiseScreen { align: center middle; }
    RaiseScreen > Vertical {
        width: 76; max-width: 95%; height: auto; border: thick $warning;
        background: $surface; padding: 0 1;
    }
    RaiseScreen #error { color: $error; height: auto; }
    RaiseScreen Horizontal { height: auto; }
    RaiseScreen Select { width: 24; }
    RaiseScreen #value { width: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]
    FIRST = "#value"

    def __init__(self, limits: list[str], current: dict[str, str], tripped_on: str = "") -> None:
        super().__init__()
        self.limits, self.current, self.tripped_on = limits, current, tripped_on

    def compose(self) -> ComposeResult:
        with Vertical() as v:
            v.border_title = "raise a limit and resume"
            if self.tripped_on:
                yield Static(f"tripped: {self.tripped_on}")
            default = next((n for n in self.limits if n in self.tripped_on), self.limits[0])
            with Horizontal():
                yield Select([(f"{n} (now {self.current.get(n, 'none')})", n)
                              for n in self.limits], value=default, allow_blank=False,
                             id="limit")
                yield Input(placeholder="new value", id="value")
            yield Input(placeholder="reason (required, recorded with your name)", id="reason")
            yield Static(id="error")
            yield Button("Raise and resume", id="go", variant="warning")

    def _submit(self) -> None:
        from mapek.breaker.review import parse_raise

        name = self.query_one("#limit", Select).value
        value = self.query_one("#value", Input).value.strip()
        reason = self.query_one("#reason", Input).value.strip()
        try:
            limits = parse_raise([f"{name}={value}"])
        except MapekError as exc:
            self.query_one("#error", Static).update(str(exc).replace("--raise ", ""))
            return
        if not reason:
            self.query_one("#error", Static).update("a reason is required")
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(RaiseRequest(limits, reason))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "value":
            self.query_one("#reason", Input).focus()
        else:
            self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self._submit()

    def action_cancel(self) -> None:
        self.dismiss(None)
