"""The discussion pane: turns as they come, each persona in its colour with its role, the
orchestrator's routing, the human's interjections."""

from __future__ import annotations

from textual.events import Resize
from textual.widgets import RichLog

from mapek.models import Event
from mapek_tui.state import RunView, event_line

__all__ = ["DiscussionPane"]


class DiscussionPane(RichLog):
    """A scrolling log of the run's events as people read them."""

    DEFAULT_CSS = """
    DiscussionPane {
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    DiscussionPane:focus { border: round $accent; }
    """

    MAX_LINES = 4000
    """Older lines scroll away (the history screen keeps every event)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(wrap=True, markup=False, min_width=20, max_lines=self.MAX_LINES,
                         **kwargs)  # type: ignore[arg-type]
        self.border_title = "discussion"
        self.shown = 0
        """Events written so far (the latency benchmark reads it)."""
        self.last_seq = 0

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._following = new >= self.max_scroll_y

    def on_resize(self, event: Resize) -> None:
        """The pane shrank (a banner came): keep the last line in view if it was. (Textual
        also runs RichLog's own handler, which writes what waited for a size.)"""
        if getattr(self, "_following", True):
            self.scroll_end(animate=False, immediate=True)

    def add_events(self, view: RunView, events: list[Event]) -> None:
        for ev in events:
            line = event_line(view, ev)
            if line is not None:
                self.write(line)
            self.shown += 1
            self.last_seq = ev.seq
