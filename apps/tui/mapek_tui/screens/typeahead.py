"""Keys typed before a dialog is ready: kept, not dropped.

A person who knows what to type presses the dialog's key and types at once; the terminal
delivers the burst before the dialog has mounted and focused its first box, and those keys
reach the screen itself, which has no use for them. :class:`TypeAhead` hands them to the box
the dialog focuses first (``FIRST``), in order.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.screen import Screen
from textual.widgets import Input, TextArea

__all__ = ["TypeAhead"]


class TypeAhead:
    """Mix into a dialog's screen (before the Screen class); ``FIRST`` selects its first box."""

    FIRST: ClassVar[str] = ""
    """The selector of the box that takes the keys typed before anything had the focus."""

    def on_mount(self) -> None:
        self._first().focus()

    def _first(self) -> Input | TextArea:
        assert isinstance(self, Screen)
        box = self.query_one(self.FIRST)
        assert isinstance(box, (Input, TextArea)), f"{self.FIRST} is not a text box"
        return box

    def on_key(self, event: events.Key) -> None:
        assert isinstance(self, Screen)
        box = self._first()
        if not event.is_printable or not event.character or self.focused not in (None, box):
            return
        event.stop()
        event.prevent_default()
        box.focus()
        if isinstance(box, Input):
            box.insert_text_at_cursor(event.character)
        else:
            box.insert(event.character)
