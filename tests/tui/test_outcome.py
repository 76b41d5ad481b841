"""The outcome and the layout: the synthesis view (when a run ends, from the main view and the
history; exported to Markdown), the run header and its copied id, the per-persona filter, and
the discussion's width, rewrap and footer at 80x24."""

from __future__ import annotations

from pathlib import Path

from mapek_tui import MapekApp
from mapek_tui.screens.filter import FilterScreen
from mapek_tui.screens.synthesis import SynthesisScreen
from mapek_tui.widgets import DiscussionPane, RunHeader
from mapek_tui.widgets.footer import KeysFooter
from textual.widgets import DataTable, OptionList
from textual.widgets._footer import FooterKey

from mapek.api import Session

from .conftest import RUN_TRIPPED, RUN_WAITING, T0, settle


def _lines(pane: DiscussionPane) -> list[str]:
    return [strip.text.rstrip() for strip in pane.lines]


async def test_a_finished_run_shows_its_outcome_and_exports_it(
        finished_run: tuple[Path, str], tmp_path: Path) -> None:
    home, run_id = finished_run
    s = Session.attach(run_id, home=home)
    app = MapekApp(s, export_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert not isinstance(app.screen, SynthesisScreen)  # attached: the log first
        await pilot.press("o")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, SynthesisScreen)
        md = screen.markdown
        for title in ("## Decisions", "## Recommendations", "## Open questions", "## Dissent"):
            assert title in md
        synthesis = s.kb.events(run_id, kinds=["synthesis"])[-1].payload["synthesis"]
        assert synthesis["dissent"], "the offline run keeps the skeptic's dissent"
        for d in synthesis["dissent"]:
            assert f"**{d['persona']}**: {d['position']}" in md  # who holds it, and what
        assert md == (s.workspace.root / "runs" / run_id / "synthesis.md").read_text()
        await pilot.press("e")
        assert (tmp_path / f"synthesis-{run_id}.md").read_text() == md
        await pilot.press("escape", "h")
        await pilot.pause(0.8)
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(run_id))
        await pilot.press("s")  # the same outcome from the history
        await pilot.pause(0.2)
        assert isinstance(app.screen, SynthesisScreen) and app.screen.markdown == md
    s.close()


async def test_the_outcome_opens_when_the_watched_run_ends(scripted_home: Path) -> None:
    s = Session.attach(RUN_WAITING)  # "running": its worker's pid (this process) is alive
    app = MapekApp(s, clock=lambda: T0 + 400)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, status="running")
        await pilot.press("o")
        assert not isinstance(app.screen, SynthesisScreen)  # no synthesis yet: a notice
        data = {"summary": "Migrate in Q3 after the DPA is signed.",
                "decisions": ["Sign the DPA first"], "recommendations": ["Price egress"],
                "open_questions": ["Which region?"],
                "dissent": [{"persona": "skeptic", "position": "oppose: lock-in unpriced"}]}
        s.kb.record(RUN_WAITING, "synthesis", "orchestrator",
                    {"text": data["summary"], "synthesis": data, "status": "converged"})
        ev = s.kb.record(RUN_WAITING, "run.finished", "worker", {"status": "converged"})
        await settle(app, pilot, seq=ev.seq)
        await pilot.pause(0.3)
        assert isinstance(app.screen, SynthesisScreen)
        md = app.screen.markdown
        assert "- Sign the DPA first" in md and "- **skeptic**: oppose: lock-in unpriced" in md
    s.close()


async def test_the_run_header_copies_the_run_id(scripted_home: Path) -> None:
    s = Session.attach(RUN_TRIPPED)
    app = MapekApp(s, clock=lambda: T0 + 400)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, status="tripped")
        header = str(app.query_one(RunHeader).render())
        assert header.startswith(f"◆ {RUN_TRIPPED} · tripped · turns 4/12")
        await pilot.press("c")
        assert app.clipboard == RUN_TRIPPED
    s.close()


async def test_the_discussion_shows_one_persona_then_everyone(scripted_home: Path) -> None:
    s = Session.attach(RUN_WAITING)
    app = MapekApp(s, clock=lambda: T0 + 400)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot, status="running")
        pane = app.query_one(DiscussionPane)
        everyone = _lines(pane)
        await pilot.press("f")
        await pilot.pause(0.2)
        assert isinstance(app.screen, FilterScreen)
        app.screen.query_one("#whose", OptionList).highlighted = 3  # everyone, cfo, eng, skeptic
        await pilot.press("enter")
        await pilot.pause(0.3)
        only = "\n".join(_lines(pane))
        assert "Nobody has priced the egress fees" in only and "skeptic" in only
        assert "two DBA salaries" not in only and "EU" not in only  # cfo's, legal's
        assert "skeptic only" in str(pane.border_title)
        assert "· running · skeptic only ·" in str(app.query_one(RunHeader).render())
        await pilot.press("f")
        await pilot.pause(0.2)
        app.screen.query_one("#whose", OptionList).highlighted = 0
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert _lines(pane) == everyone
    s.close()


async def test_at_80x24_the_discussion_has_the_width_and_the_footer_every_key(
        scripted_home: Path) -> None:
    s = Session.attach(RUN_WAITING)
    app = MapekApp(s, clock=lambda: T0 + 400)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, status="running")
        pane = app.query_one(DiscussionPane)
        assert pane.size.width >= 60 and not app.query_one("#side").display
        footer = app.query_one(KeysFooter)
        keys = list(footer.query(FooterKey))
        shown = {b.description for b in MapekApp.BINDINGS if b.show}  # type: ignore[union-attr]
        assert {k.description for k in keys} == shown
        for k in keys:  # each key whole and inside the screen
            assert k.region.right <= 80 and k.region.bottom <= 24
            assert k.region.width >= len(f"{k.key_display} {k.description}")
        await pilot.press("s")  # the side panes instead of the discussion, and back
        await pilot.pause(0.2)
        assert app.query_one("#side").display and not pane.display
        await pilot.press("s")
        await pilot.pause(0.2)
        assert pane.display and not app.query_one("#side").display
    s.close()


async def test_lines_rewrap_when_the_pane_narrows(scripted_home: Path) -> None:
    s = Session.attach(RUN_WAITING)
    app = MapekApp(s, clock=lambda: T0 + 400)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot, status="running")
        pane = app.query_one(DiscussionPane)
        assert app.query_one("#side").display  # wide: side by side
        wide = pane.scrollable_content_region.width
        assert wide >= 60 and max(map(len, _lines(pane))) > 70
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.5)
        narrow = pane.scrollable_content_region.width
        assert narrow < 78
        lines = _lines(pane)
        assert max(map(len, lines)) <= narrow  # rewrapped, not clipped
        said = " ".join(x.strip() for x in lines)
        assert "agreement came too quickly." in said  # every word still there
    s.close()
