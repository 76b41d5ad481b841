"""Helpers the screening tests share (imported as ``_screen_helpers``: pytest puts this folder
on the path of its test files)."""

from __future__ import annotations

from typing import Any

from mapek.safety.screening import Verdict, screen_plan


def sh(cmd: str, ctx: dict[str, Any] | None = None) -> Verdict:
    """Screen a one-step plan that runs ``cmd`` in a shell."""
    return screen_plan({"steps": [{"tool": "bash", "args": {"command": cmd}}]}, ctx)


def sure_allow(v: Verdict) -> bool:
    """Allowed with no doubt (not held for a person or a judge)."""
    return v.verdict == "allow" and not v.uncertain
