"""Pick whose lines the discussion pane shows: one persona, or everyone."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from mapek_tui.state import PersonaStyle

__all__ = ["FilterScreen"]

EVERYONE = "*"


class FilterScreen(ModalScreen[str | None]):
    """Dismissed with a persona's name, "" for everyone, or None (cancelled)."""

    DEFAULT_CSS = """
    FilterScreen { align: center middle; }
    FilterScreen > Vertical {
        width: 60; max-width: 95%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    FilterScreen OptionList { height: auto; max-height: 14; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def __init__(self, personas: dict[str, PersonaStyle], current: str) -> None:
        super().__init__()
        self.personas, self.current = personas, current

    def compose(self) -> ComposeResult:
        with Vertical() as v:
            v.border_title = "show whose lines? (Enter picks, Esc cancels)"
            yield OptionList(Option(Text("everyone", style="bold"), id=EVERYONE), *[
                Option(Text.assemble((n, f"bold {p.color}"), (f" ({p.role})", "dim")), id=n)
                for n, p in self.personas.items()], id="whose")

    def on_mount(self) -> None:
        ol = self.query_one("#whose", OptionList)
        names = [EVERYONE, *self.personas]
        ol.highlighted = names.index(self.current) if self.current in names else 0
        ol.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        oid = event.option.id or EVERYONE
        self.dismiss("" if oid == EVERYONE else oid)

    def action_cancel(self) -> None:
        self.dismiss(None)
