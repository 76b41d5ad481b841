"""Budgets and breaker: gauges for time, tokens, cost, turns and escalations against their
limits, the breaker's state, and a trip shown at once with its reason."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from mapek_tui.state import Gauge

__all__ = ["BudgetPane"]

_CIRCUIT = {"closed": ("closed", "green"), "half_open": ("half-open (trial)", "yellow"),
            "open": ("OPEN", "bold white on red")}


def bar(fraction: float | None, width: int) -> Text:
    if fraction is None:
        return Text("no limit".ljust(width)[:width], style="dim")
    full = round(fraction * width)
    style = "red" if fraction >= 0.9 else "yellow" if fraction >= 0.7 else "green"
    return Text.assemble(("█" * full, style), ("░" * (width - full), "dim"))


class BudgetPane(Static):
    """The gauges and the circuit; ``gauges``, ``circuit`` and ``trip`` are reactive."""

    DEFAULT_CSS = """
    BudgetPane {
        height: auto;
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0 1;
    }
    BudgetPane.-tripped { border: heavy $error; }
    """

    gauges: reactive[tuple[Gauge, ...]] = reactive(tuple)
    circuit: reactive[str] = reactive("closed")
    trip: reactive[str] = reactive("")
    """The trip's reason, empty while the breaker has not tripped."""

    def on_mount(self) -> None:
        self.border_title = "budgets · breaker"

    def watch_trip(self, trip: str) -> None:
        self.set_class(bool(trip), "-tripped")

    def render(self) -> Group:
        width = max(4, self.content_size.width - 26)
        t = Table.grid(padding=(0, 1), expand=True)
        t.add_column(width=11, no_wrap=True)
        t.add_column(ratio=1, no_wrap=True)
        t.add_column(width=13, no_wrap=True, justify="right")
        for g in self.gauges:
            t.add_row(g.name, bar(g.fraction, width), g.label())
        label, style = _CIRCUIT.get(self.circuit, (self.circuit, ""))
        lines: list[Table | Text] = [t, Text.assemble("breaker     ", (label, style))]
        if self.trip:
            lines.append(Text(self.trip, style="red"))
            lines.append(Text("m post-mortem · l raise a limit", style="dim"))
        return Group(*lines)
