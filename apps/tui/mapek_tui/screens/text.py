"""Read-only screens: the post-mortem (Markdown), one event in full (JSON), and the help
screen that lists every key binding."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.syntax import Syntax
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Markdown, Static

from mapek.models import Event

__all__ = ["EventScreen", "HelpScreen", "PostmortemScreen"]


class PostmortemScreen(Screen[None]):
    """``mapek postmortem RUN`` inside the app."""

    DEFAULT_CSS = """
    PostmortemScreen VerticalScroll { padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,m", "app.pop_screen", "back")]

    def __init__(self, markdown: str) -> None:
        super().__init__()
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(self.markdown)
        yield Footer()


class EventScreen(ModalScreen[None]):
    """One event as the log holds it (the event behind a search result)."""

    DEFAULT_CSS = """
    EventScreen { align: center middle; }
    EventScreen > VerticalScroll {
        width: 92%; height: 90%; border: thick $accent; background: $surface;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss", "back")]

    def __init__(self, ev: Event) -> None:
        super().__init__()
        self.ev = ev

    def compose(self) -> ComposeResult:
        data = self.ev.model_dump()
        with VerticalScroll() as v:
            v.border_title = f"{self.ev.run_id} #{self.ev.seq} {self.ev.kind} by {self.ev.actor}"
            yield Static(Syntax(json.dumps(data, indent=2, ensure_ascii=False, default=str),
                                "json", word_wrap=True, theme="ansi_dark"))

    async def action_dismiss(self, result: Any = None) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every key binding of the app and its dialogs, read from their BINDINGS."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 84; max-width: 96%; height: 90%; border: thick $accent;
        background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "close")]

    def __init__(self, groups: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self.groups = groups

    def compose(self) -> ComposeResult:
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold cyan", no_wrap=True)
        t.add_column()
        for title, bindings in self.groups:
            t.add_row(f"[b u]{title}[/]", "")
            for b in bindings:
                keys = ", ".join(self.app.get_key_display(
                    Binding(k, b.action)) for k in b.key.split(","))
                t.add_row(keys, b.description or b.action)
        with VerticalScroll() as v:
            v.border_title = "keys (the mouse works too: click the footer, buttons, questions)"
            yield Static(t)

    async def action_dismiss(self, result: Any = None) -> None:
        self.dismiss(None)
