"""The outcome of a discussion: its synthesis (decisions, recommendations, open questions, and
the dissent with who holds it), read from the run's log, so any finished run shows it; ``e``
exports it to a Markdown file, the same text ``synthesis.md`` holds."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown

from mapek.api import synthesis_markdown

__all__ = ["SynthesisScreen", "synthesis_markdown"]


class SynthesisScreen(Screen[None]):
    """A run's synthesis; ``e`` writes it to ``synthesis-RUN.md`` in ``export_dir``."""

    DEFAULT_CSS = """
    SynthesisScreen VerticalScroll { padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,o", "app.pop_screen", "back"),
        Binding("e", "export", "export to markdown"),
        Binding("c", "copy", "copy"),
    ]

    def __init__(self, run_id: str, markdown: str, export_dir: Path) -> None:
        super().__init__()
        self.run_id, self.markdown, self.export_dir = run_id, markdown, export_dir
        self.exported: Path | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll() as v:
            v.border_title = f"outcome of {self.run_id}"
            yield Markdown(self.markdown)
        yield Footer()

    def action_export(self) -> None:
        path = self.export_dir / f"synthesis-{self.run_id}.md"
        try:
            path.write_text(self.markdown, encoding="utf-8")
        except OSError as exc:
            self.notify(f"export: cannot write {path}: {exc.strerror}", severity="error")
            return
        self.exported = path
        self.notify(f"wrote {path}")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.markdown)
        self.notify("copied the synthesis (Markdown) to the clipboard")
