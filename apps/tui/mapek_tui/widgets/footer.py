"""The footer: every key of the view, on two rows when one does not hold them (a narrow
terminal), rather than cut at the right edge."""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Footer

__all__ = ["KeysFooter"]


class KeysFooter(Footer):
    """Textual's footer (click a key to run it), laid out as a grid of ``rows`` rows."""

    DEFAULT_CSS = """
    KeysFooter.-rows-2 { height: 2; layout: grid; grid-columns: auto; grid-gutter: 0 1; }
    KeysFooter.-rows-2 FooterKey { margin-right: 0; }
    """

    rows: reactive[int] = reactive(1, recompose=True)

    def watch_rows(self, rows: int) -> None:
        self.set_class(rows == 2, "-rows-2")

    def compose(self) -> ComposeResult:
        keys: list[Widget] = list(super().compose())
        if self.rows == 2:
            self.styles.grid_size_columns = max(1, math.ceil(len(keys) / 2))
        yield from keys
