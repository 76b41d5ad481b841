"""The discussion pane: turns as they come, each persona in its colour with its role, the
orchestrator's routing, the human's interjections.

The pane keeps each line's rich text and who said it, so it can show one persona's lines only
(``persona``) and rewrap every line when its width changes (a resize, the side panes toggled):
a RichLog wraps a line once, when it is written, and would clip it afterwards.

Turns still being spoken (``set_live``) are the pane's last lines, dim with a cursor, rewritten
as they grow; a persona's is taken away when its message is written (``add_events``)."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.events import Resize
from textual.geometry import Size
from textual.reactive import reactive
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
    REWRAP_AFTER = 0.08
    """Seconds a width must hold before every line is rewrapped to it (a drag resizes often)."""

    persona: reactive[str] = reactive("")
    """Show only this persona's lines ("" everyone)."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(wrap=True, markup=False, min_width=20, max_lines=self.MAX_LINES,
                         id=id)
        self.border_title = "discussion"
        self.entries: deque[tuple[str, Text]] = deque(maxlen=self.MAX_LINES)
        """(actor, line) of every line written, the filtered-out ones too."""
        self.shown = 0
        """Events written so far (the latency benchmark reads it)."""
        self.last_seq = 0
        self._wrapped_at = 0
        self._following = True
        self.live: dict[str, tuple[str, Text]] = {}
        """Persona -> (the event key of its turn, the line) of the turns being spoken."""
        self._live_strips = 0
        """How many of the last lines are the live ones."""

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._following = new >= self.max_scroll_y

    def on_resize(self, event: Resize) -> None:
        """Keep the last line in view if it was (Textual also runs RichLog's own handler,
        which writes what waited for a size); rewrap the lines to a new width."""
        if self._following:
            self.scroll_end(animate=False, immediate=True)
        width = self.scrollable_content_region.width
        if self._wrapped_at and width != self._wrapped_at:
            self.set_timer(self.REWRAP_AFTER, self._rewrap_if_changed)
        elif not self._wrapped_at and width:
            self._wrapped_at = width

    def _rewrap_if_changed(self) -> None:
        if self.scrollable_content_region.width != self._wrapped_at:
            self.redraw()

    def _shows(self, actor: str) -> bool:
        return not self.persona or actor == self.persona

    def watch_persona(self, persona: str) -> None:
        self.border_title = f"discussion · {persona} only (f: everyone)" if persona \
            else "discussion"
        self.redraw()

    def redraw(self) -> None:
        """Write every kept line again, at the current width and through the filter."""
        following = self._following
        RichLog.clear(self)
        self._wrapped_at = self.scrollable_content_region.width
        self._live_strips = 0
        for actor, line in self.entries:
            if self._shows(actor):
                self.write(line)
        self._write_live()
        if following:
            self.scroll_end(animate=False, immediate=True)

    def clear(self) -> DiscussionPane:
        """Forget every line (another run is opened)."""
        self.entries.clear()
        self.live.clear()
        self._live_strips = 0
        RichLog.clear(self)
        return self

    def add_events(self, view: RunView, events: list[Event]) -> None:
        live = bool(self.live)
        if live:
            self._drop_live()
        for ev in events:
            line = event_line(view, ev)
            if line is not None:
                self.entries.append((ev.actor, line))
                if self._shows(ev.actor):
                    self.write(line)
            if live and ev.kind == "message" and ev.actor in self.live:
                del self.live[ev.actor]  # its turn is in: the message replaces it
            self.shown += 1
            self.last_seq = ev.seq
        if live:
            self._write_live()

    # -- turns being spoken ------------------------------------------------------------------

    def set_live(self, live: dict[str, tuple[str, Text]]) -> None:
        """Show these turns in progress (persona -> (turn key, line)) below the last line, in
        place of the ones shown before."""
        if live == self.live and self._live_strips:
            return
        self._drop_live()
        self.live = dict(live)
        self._write_live()

    def _drop_live(self) -> None:
        if not self._live_strips:
            return
        del self.lines[-self._live_strips:]
        self._live_strips = 0
        self._line_cache.clear()  # the same line numbers will hold other text
        self.virtual_size = Size(self._widest_line_width, len(self.lines))
        self.refresh()

    def _write_live(self) -> None:
        # Before the pane knows its size a write waits, and would land later as a kept line:
        # turns in progress are drawn from the next update on instead.
        if not self.live or not self._size_known:
            return
        before = len(self.lines) + self._start_line
        for actor, (_, line) in self.live.items():
            if self._shows(actor):
                self.write(line, scroll_end=self._following)
        self._live_strips = len(self.lines) + self._start_line - before
