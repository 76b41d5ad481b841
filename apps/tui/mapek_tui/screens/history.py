"""History: past runs, each run's timeline (every event, open one in full), and the
knowledge base (search it; open the event behind a result)."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from mapek.events import RunStarted, typed_as
from mapek.fold import STATUS_KINDS, RunFold
from mapek.render import event_summary, short

__all__ = ["HistoryScreen", "event_summary", "run_status"]

def run_status(kb: Any, run_id: str) -> str:
    """A run's status from its log alone (as ``Session.result`` decides it, without a worker)."""
    return RunFold.of(kb.events(run_id, kinds=list(STATUS_KINDS)), run_id).live_status()


class HistoryScreen(Screen[str | None]):
    """Dismissed with a run id to open in the main view, or None."""

    DEFAULT_CSS = """
    HistoryScreen #search { dock: top; }
    HistoryScreen #runs { width: 45%; min-width: 36; height: 1fr; border: round $primary 50%; }
    HistoryScreen #detail { width: 1fr; height: 1fr; border: round $primary 50%; }
    HistoryScreen #hint { dock: bottom; height: 1; color: $text-muted; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "back"),
                Binding("slash", "search", "search the KB"),
                Binding("o", "open_run", "open run"),
                Binding("t", "timeline", "timeline"),
                Binding("s", "outcome", "outcome")]

    class Loaded(Message):
        def __init__(self, rows: list[tuple[str, str, int, str]]) -> None:
            super().__init__()
            self.rows = rows

    class Found(Message):
        def __init__(self, query: str, hits: list[Any], error: str = "") -> None:
            super().__init__()
            self.query, self.hits, self.error = query, hits, error

    def __init__(self, kb: Any, current: str | None = None) -> None:
        super().__init__()
        self.kb, self.current = kb, current
        self.detail_events: dict[str, tuple[str, int]] = {}

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ search what was said and decided (Enter)", id="search")
        with Horizontal():
            yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
            yield OptionList(id="detail")
        yield Static("Enter: timeline · o: open the run · s: its outcome · /: search · "
                     "Enter on an event: open it · Esc: back", id="hint")
        yield Footer()

    def on_mount(self) -> None:
        t = self.query_one("#runs", DataTable)
        t.border_title = "runs"
        t.add_columns("run", "status", "events", "topic")
        self.query_one("#detail", OptionList).border_title = "timeline"
        self.load_runs()
        t.focus()

    @work(thread=True, exclusive=True, group="runs")
    def load_runs(self) -> None:
        rows = []
        for info in self.kb.runs():
            started = self.kb.events(info.run_id, kinds=["run.started"], limit=1)
            p = typed_as(started[0], RunStarted) if started else None
            topic = p.text if p is not None else ""
            rows.append((info.run_id, run_status(self.kb, info.run_id), info.events, topic))
        self.post_message(self.Loaded(rows))

    def on_history_screen_loaded(self, msg: Loaded) -> None:
        t = self.query_one("#runs", DataTable)
        t.clear()
        for run_id, status, n, topic in msg.rows:
            style = {"tripped": "red", "died": "red", "running": "green"}.get(status, "")
            t.add_row(run_id, Text(status, style=style), str(n), short(topic, 60), key=run_id)
        if self.current and self.current in {r[0] for r in msg.rows}:
            t.move_cursor(row=t.get_row_index(self.current))
        if msg.rows:
            self.show_timeline(self.selected_run() or msg.rows[-1][0])

    def selected_run(self) -> str | None:
        t = self.query_one("#runs", DataTable)
        if not t.row_count:
            return None
        return str(t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value)

    def show_timeline(self, run_id: str) -> None:
        ol = self.query_one("#detail", OptionList)
        ol.border_title = f"timeline of {run_id}"
        ol.clear_options()
        self.detail_events.clear()
        events = self.kb.events(run_id)
        t0 = events[0].ts if events else 0.0
        for ev in events:
            oid = f"e{len(self.detail_events)}"
            self.detail_events[oid] = (run_id, ev.seq)
            ol.add_option(Option(Text.assemble(
                (f"{ev.seq:>5} ", "dim"), (f"+{ev.ts - t0:7.1f}s ", "dim"),
                (f"{ev.kind} ", "cyan"), (f"{ev.actor} ", "bold"),
                event_summary(ev)), id=oid))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.show_timeline(str(event.row_key.value))
        self.query_one("#detail", OptionList).focus()

    def action_timeline(self) -> None:
        run = self.selected_run()
        if run:
            self.show_timeline(run)

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            ol = self.query_one("#detail", OptionList)
            ol.border_title = f"searching for {event.value.strip()!r}…"
            self.search(event.value.strip())

    @work(thread=True, exclusive=True, group="search")
    def search(self, query: str) -> None:
        t0 = time.perf_counter()
        try:
            hits = self.kb.search(query, n=20)
        except Exception as exc:  # noqa: BLE001 - shown to the person, the app goes on
            self.post_message(self.Found(query, [], f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(self.Found(query, hits, f"{(time.perf_counter() - t0) * 1e3:.0f} ms"))

    def on_history_screen_found(self, msg: Found) -> None:
        ol = self.query_one("#detail", OptionList)
        ol.clear_options()
        self.detail_events.clear()
        ol.border_title = f"{len(msg.hits)} results for {msg.query!r} ({msg.error})"
        for h in msg.hits:
            oid = f"e{len(self.detail_events)}"
            self.detail_events[oid] = (h.run_id, h.seq)
            ol.add_option(Option(Text.assemble(
                (f"{h.run_id}#{h.seq} ", "bold"), (f"{h.kind} · {h.persona} · "
                                                    f"{h.score:.3f}\n", "dim"),
                "  " + short(h.text, 200)), id=oid))
        ol.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        where = self.detail_events.get(event.option.id or "")
        if where is None:
            return
        ev = self.kb.get(*where)
        if ev is not None:
            from mapek_tui.screens.text import EventScreen

            self.app.push_screen(EventScreen(ev))

    def action_open_run(self) -> None:
        run = self.selected_run()
        if run:
            self.dismiss(run)

    def action_outcome(self) -> None:
        """The selected run's synthesis (decisions, recommendations, dissent)."""
        from pathlib import Path

        from mapek_tui.screens.synthesis import SynthesisScreen, synthesis_markdown

        run = self.selected_run()
        if not run:
            return
        md = synthesis_markdown(self.kb, run)
        if md is None:
            self.notify(f"run {run} has no outcome yet (no synthesis)")
            return
        self.app.push_screen(SynthesisScreen(run, md, getattr(self.app, "export_dir",
                                                                Path.cwd())))

    def action_back(self) -> None:
        self.dismiss(None)
