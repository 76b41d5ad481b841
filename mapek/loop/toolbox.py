"""The tools a discussion's personas can name, each with its declared worst-case effect.

Only ``read`` tools run without a grant. The others exist so that plans proposing them are
screened against a real declaration rather than an unknown name; none of them can be reached by
an agent until the blast-radius gateway grants it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mapek._resources import data_dir
from mapek.safety.tools import ToolRegistry, tool

__all__ = ["default_tools"]


def default_tools(kb: Any, run_id: str) -> ToolRegistry:
    reg = ToolRegistry()

    @tool(effect="read", resource="knowledge base")
    def kb_search(query: str, persona: str | None = None) -> str:
        """Search what has been said in this run."""
        hits = kb.search(query, n=3, run=run_id, persona=persona)
        return "\n".join(f"[{h.persona} #{h.seq}] {h.text}" for h in hits) or "no results"

    @tool(effect="read", resource="knowledge/reference")
    def read_reference(name: str = "") -> str:
        """Read a reference note shipped in the knowledge folder (list them with no name)."""
        folder = data_dir("knowledge") / "reference"
        notes = sorted(p.name for p in folder.glob("*.md")) if folder.is_dir() else []
        if not name:
            return ", ".join(notes) or "no reference notes"
        path = folder / Path(name).name
        return path.read_text(encoding="utf-8")[:4000] if path.is_file() else f"no note {name!r}"

    @tool(effect="write", resource="run folder")
    def write_note(title: str, text: str) -> str:
        """Write a note into the run's folder."""
        raise PermissionError("write_note needs a write grant")

    @tool(effect="destructive", resource="shell")
    def shell(command: str) -> str:
        """Run a shell command on the host."""
        raise PermissionError("shell is destructive and needs a human's approval per call")

    @tool(effect="external", resource="email")
    def send_email(to: str, subject: str, body: str = "") -> str:
        """Send an email outside the company."""
        raise PermissionError("send_email is external and needs a human's approval per call")

    for t in (kb_search, read_reference, write_note, shell, send_email):
        reg.register(t)
    return reg
