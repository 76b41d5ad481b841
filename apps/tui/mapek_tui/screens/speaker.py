"""Pick the next speaker: the persona you name speaks first on the next round. What you ask
them is an interjection addressed to that persona alone (the others neither hear nor quote it),
so the log says who asked for it and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from mapek_tui.screens.typeahead import TypeAhead
from mapek_tui.state import PersonaStyle

__all__ = ["SpeakerChoice", "SpeakerScreen"]


@dataclass(frozen=True)
class SpeakerChoice:
    persona: str
    note: str


class SpeakerScreen(TypeAhead, ModalScreen[SpeakerChoice | None]):
    DEFAULT_CSS = """
    SpeakerScreen { align: center middle; }
    SpeakerScreen > Vertical {
        width: 70; max-width: 95%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    SpeakerScreen OptionList { height: auto; max-height: 12; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]
    FIRST = "#note"

    def __init__(self, personas: dict[str, PersonaStyle], positions: dict[str, str]) -> None:
        super().__init__()
        self.personas, self.positions = personas, positions

    def compose(self) -> ComposeResult:
        with Vertical() as v:
            v.border_title = "who speaks next? (ask, Enter, pick, Enter; Esc cancels)"
            yield Input(placeholder="what to ask them (optional)", id="note")
            yield OptionList(*[
                Option(Text.assemble((n, f"bold {p.color}"), (f" ({p.role})", "dim"),
                                     (f"  {self.positions.get(n, '')}", "italic")), id=n)
                for n, p in self.personas.items()], id="who")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(SpeakerChoice(event.option.id or "",
                                   self.query_one("#note", Input).value.strip()))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#who", OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
