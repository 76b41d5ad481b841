"""The tools a discussion's personas can name, each with its declared worst-case effect, and
the run's :class:`~mapek.safety.gateway.ToolGateway` every call goes through.

Only ``read`` tools run without a grant. ``write_note`` writes into the run's folder once a
human grants it; ``shell`` and ``send_email`` are declared so that plans proposing them are
screened against a real declaration: each call needs a human's approval, and even then they are
not wired to a host or a mail server in this build.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapek._resources import data_dir
from mapek.safety.tools import ToolRegistry, tool

if TYPE_CHECKING:
    from mapek.loop.context import LoopContext
    from mapek.safety.gateway import ToolGateway

__all__ = ["default_tools", "tool_gateway"]


def default_tools(kb: Any, run_id: str, run_dir: Path | None = None) -> ToolRegistry:
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


def tool_gateway(ctx: LoopContext) -> ToolGateway:
    """The run's gateway, made once per context (it shares the context's log lock)."""
    gw: ToolGateway | None = ctx.__dict__.get("_tool_gateway")
    if gw is None:
        from mapek.safety.gateway import ToolGateway

        gw = ToolGateway(ctx.tools, ctx.kb, ctx.run_id, lock=ctx._lock,  # noqa: SLF001
                         policy=ctx.screening)
        ctx.__dict__["_tool_gateway"] = gw
    return gw
