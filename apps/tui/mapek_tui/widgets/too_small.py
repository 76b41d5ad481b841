"""Shown instead of the panes when the terminal is too small to use."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

__all__ = ["MIN_HEIGHT", "MIN_WIDTH", "TooSmall"]

MIN_WIDTH, MIN_HEIGHT = 60, 18


class TooSmall(Static):
    """A clear message with the size needed and the size there is."""

    DEFAULT_CSS = """
    TooSmall {
        width: 1fr; height: 1fr;
        content-align: center middle;
        text-align: center;
        color: $warning;
        display: none;
    }
    """

    size_now: reactive[tuple[int, int]] = reactive((0, 0))

    def watch_size_now(self, size: tuple[int, int]) -> None:
        w, h = size
        self.update(f"The terminal is too small: {w}x{h}.\n"
                    f"mapek tui needs at least {MIN_WIDTH}x{MIN_HEIGHT} (80x24 is comfortable).\n"
                    "Enlarge the window; q quits.")
