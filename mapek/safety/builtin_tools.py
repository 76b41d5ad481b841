"""mapek's own tools, each with its declared worst-case effect.

Only ``read`` tools run without a grant. ``write_note`` writes into the run's folder once a
human grants it; ``shell`` and ``send_email`` are declared so that plans proposing them are
screened against a real declaration: each call needs a human's approval, and even then they are
not wired to a host or a mail server in this build. A session gets them unless its runtime spec
says ``builtin_tools=False``; a user's own tools join them (:mod:`mapek.runtime`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mapek._resources import data_dir
from mapek.safety.tools import ToolRegistry, tool

__all__ = ["builtin_tools", "BUILTIN_TOOL_NAMES"]

BUILTIN_TOOL_NAMES = ("kb_search", "read_reference", "write_note", "shell", "send_email")


def builtin_tools(kb: Any, run_id: str, run_dir: Path | None = None) -> ToolRegistry:
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

    @tool(effect="write", resource="run folder", target="title")
    def write_note(title: str, text: str) -> str:
        """Write a note into the run's folder."""
        if run_dir is None:
            raise PermissionError("no run folder to write into")
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", title).strip("-.")[:80] or "note"
        path = run_dir / "notes" / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return f"wrote {path.name}"

    @tool(effect="destructive", resource="shell")
    def shell(command: str) -> str:
        """Run a shell command on the host."""
        raise PermissionError("shell is not wired to a host in this build")

    @tool(effect="external", resource="email")
    def send_email(to: str, subject: str, body: str = "") -> str:
        """Send an email outside the company."""
        raise PermissionError("send_email is not wired to a mail server in this build")

    for t in (kb_search, read_reference, write_note, shell, send_email):
        reg.register(t)
    return reg
