"""The run header: the run id (``c`` copies it), the status, and the budgets in one line, so
they stay in view when the side panes are hidden (a narrow terminal)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from mapek_tui.state import Gauge

__all__ = ["RunHeader"]

_STATUS_STYLE = {"running": "bold green", "tripped": "bold white on red", "died": "bold red",
                 "failed": "bold red", "converged": "bold cyan", "stalled": "bold yellow",
                 "max_turns": "bold cyan", "stopped": "yellow", "paused": "yellow"}


class RunHeader(Static):
    """One line: ``◆ RUN-ID · status · turns 4/12 · $0.017/$0.500 · tokens 4k/20k``."""

    DEFAULT_CSS = """
    RunHeader {
        dock: top; height: 1; padding: 0 1;
        background: $panel; color: $text;
    }
    """

    run_id: reactive[str] = reactive("")
    status: reactive[str] = reactive("")
    gauges: reactive[tuple[Gauge, ...]] = reactive(tuple)
    persona: reactive[str] = reactive("")
    """The discussion's persona filter ("" everyone)."""

    def render(self) -> Text:
        if not self.run_id:
            return Text.assemble(("◆ mapek", "bold"), ("  no run open · h: history", "dim"))
        t = Text.assemble(("◆ ", "bold"), (self.run_id, "bold"))
        if self.status:
            t.append(" · ")
            t.append(self.status, style=_STATUS_STYLE.get(self.status, ""))
        if self.persona:
            t.append(" · ")
            t.append(f"{self.persona} only", style="bold magenta")
        shown = {g.name: g for g in self.gauges}
        for name in ("turns", "cost", "tokens"):
            g = shown.get(name)
            if g is None:
                continue
            frac = g.fraction
            style = "red" if frac is not None and frac >= 0.9 else \
                "yellow" if frac is not None and frac >= 0.7 else ""
            t.append(" · ")
            t.append(("" if name == "cost" else f"{name} ") + g.label(), style=style)
        t.truncate(max(1, self.size.width - 2), overflow="ellipsis")
        return t
