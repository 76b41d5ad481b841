"""Approve or deny the calls a screened plan holds back: each call's exact arguments, who
proposed it and why, with the reasons it needs a human (the offending steps) highlighted."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static

__all__ = ["ApproveScreen"]


def step_text(r: dict[str, Any], offending: bool) -> Text:
    t = Text()
    t.append(f"{r.get('tool')} ", style="bold red" if offending else "bold")
    t.append(f"({r.get('effect', '?')}) ", style="red" if offending else "dim")
    t.append(json.dumps(r.get("args", {}), ensure_ascii=False))
    t.append(f"\n  proposed by {r.get('proposed_by', '?')}", style="dim")
    if r.get("why"):
        t.append(f": {r['why']}", style="dim")
    for reason in r.get("reasons") or ([r["reason"]] if r.get("reason") else []):
        t.append(f"\n  ⚠ {reason}", style="bold red" if offending else "red")
    return t


class ApproveScreen(ModalScreen[dict[str, bool] | None]):
    """Dismissed with ``{call_id: approved}`` for every pending call, or None (later)."""

    DEFAULT_CSS = """
    ApproveScreen { align: center middle; }
    ApproveScreen > Vertical {
        width: 92%; max-width: 120; height: auto; max-height: 92%;
        border: thick $error; background: $surface; padding: 0 1;
    }
    ApproveScreen VerticalScroll { height: auto; max-height: 16; }
    ApproveScreen .offending { background: $error 15%; border-left: thick $error; }
    ApproveScreen .context { color: $text-muted; }
    ApproveScreen Horizontal { height: auto; align-horizontal: right; }
    ApproveScreen Button { margin-left: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("y", "approve_all", "approve all"),
                Binding("n", "deny_all", "deny all"),
                Binding("enter", "submit", "approve the ticked, deny the rest", show=False),
                Binding("escape", "cancel", "decide later")]

    def __init__(self, requests: list[dict[str, Any]], verdict: dict[str, Any] | None) -> None:
        super().__init__()
        self.requests, self.verdict = requests, verdict or {}

    def compose(self) -> ComposeResult:
        with Vertical() as v:
            v.border_title = f"the plan needs your approval ({len(self.requests)} call(s))"
            v.border_subtitle = "y approve all · n deny all · Enter ticked only · Esc later"
            with VerticalScroll():
                for i, r in enumerate(self.requests):
                    yield Static(step_text(r, True), classes="offending")
                    yield Checkbox(f"approve {r.get('tool')} ({r.get('call_id')})", id=f"c-{i}")
                for r in self.verdict.get("allowed", []):
                    yield Static(Text.assemble(("✓ allowed: ", "green"), step_text(r, False)),
                                 classes="context")
                for r in self.verdict.get("refused", []):
                    yield Static(Text.assemble(("✗ screened out: ", "red"),
                                               step_text(r, False)), classes="context")
            with Horizontal():
                yield Button("Approve all (y)", id="all", variant="success")
                yield Button("Deny all (n)", id="none", variant="error")
                yield Button("Ticked only", id="ticked")
                yield Button("Later", id="later")

    def _decide(self, how: str) -> None:
        out = {}
        for i, r in enumerate(self.requests):
            ticked = self.query_one(f"#c-{i}", Checkbox).value
            out[r["call_id"]] = {"all": True, "none": False}.get(how, ticked)
        self.dismiss(out)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "later":
            self.dismiss(None)
        else:
            self._decide(event.button.id or "ticked")

    def action_approve_all(self) -> None:
        self._decide("all")

    def action_deny_all(self) -> None:
        self._decide("none")

    def action_submit(self) -> None:
        self._decide("ticked")

    def action_cancel(self) -> None:
        self.dismiss(None)
