"""What every ``mapek`` command shares: exit codes, common options and small helpers.

Light on purpose (typer and the standard library at the top; rich, the settings and the
knowledge base inside the helpers): every command module imports it, and ``mapek --help``
imports every command module.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mapek.bounds import MAX_SECONDS, MAX_TOKENS, MAX_TURNS, MAX_USD

__all__ = ["EXIT_DIED", "EXIT_STOPPED", "EXIT_TRIPPED", "JsonFlag", "PersonasDir", "ToolsOpt",
           "McpOpt", "ApiBaseOpt", "PersonasOpt", "ModelOpt", "MaxTurnsOpt", "TimeLimitOpt",
           "MaxTokensOpt", "MaxUsdOpt", "console", "emit_json", "emit_jsonl", "library", "open_kb",
           "settings", "session_parts"]

EXIT_STOPPED = 5
"""``mapek discuss`` exit code when a limit (tokens, USD, time) stopped the run."""
EXIT_DIED = 6
"""Exit code when the worker died without finishing (resume it)."""
EXIT_TRIPPED = 7
"""``mapek discuss`` / ``resume`` exit code when the watchdog's breaker tripped and stopped the
run (review it with ``mapek postmortem RUN``, then ``mapek resume RUN --raise ...``)."""

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
PersonasDir = Annotated[
    Path | None,
    typer.Option("--personas-dir", help="Folder of persona YAML files (env MAPEK_PERSONAS)."),
]
ToolsOpt = Annotated[str | None, typer.Option(
    "--tools", help="Your tools, comma-separated import strings: package.module:function (a "
    "@tool), or package.module:registry (a ToolRegistry or list of tools).")]
McpOpt = Annotated[list[str] | None, typer.Option(
    "--mcp", help="An MCP server whose tools join the discussion: \"COMMAND ARGS\" (stdio) or "
    "an http(s) URL (streamable HTTP). Repeatable.")]
PersonasOpt = Annotated[str | None, typer.Option(
    "--personas", help="Comma-separated persona names (default: cfo,engineer,skeptic,legal).")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="litellm model string.")]
MaxTurnsOpt = Annotated[int, typer.Option("--max-turns", min=1, max=MAX_TURNS,
                                          help="Persona turns.")]
TimeLimitOpt = Annotated[float | None, typer.Option("--time-limit", min=0.1, max=MAX_SECONDS,
                                                    help="Seconds.")]
MaxTokensOpt = Annotated[int | None, typer.Option("--max-tokens", min=1, max=MAX_TOKENS)]
MaxUsdOpt = Annotated[float | None, typer.Option("--max-usd", min=0.000001, max=MAX_USD)]
"""The limits and panel a discussion starts with: ``mapek discuss`` and ``mapek tui`` alike."""
ApiBaseOpt = Annotated[str | None, typer.Option(
    "--api-base", help="Base URL of the model's server, e.g. an OpenAI-compatible one for "
    "--model openai/NAME (env MAPEK_API_BASE).")]


def session_parts(tools: str | None, mcp: list[str] | None) -> dict[str, Any]:
    """``Session.create`` keywords for ``--tools`` and ``--mcp``."""
    out: dict[str, Any] = {}
    if tools is not None:
        out["tools"] = [t.strip() for t in tools.split(",") if t.strip()]
    if mcp:
        from mapek.safety.mcp import MCPServer

        out["mcp"] = [MCPServer.parse(m) for m in mcp]
    return out


def settings() -> Any:
    """The settings from the environment (``MAPEK_*``)."""
    from mapek.config import Settings

    return Settings()


def console(stderr: bool = False) -> Any:
    """A rich console for human-readable output."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def emit_json(obj: Any) -> None:
    """Write ``obj`` to stdout as indented JSON."""
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def emit_jsonl(ev: Any) -> None:
    """Write one event to stdout as a JSON line, flushed (for ``--json`` streams)."""
    sys.stdout.write(json.dumps(ev.model_dump(), ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def library(personas_dir: Path | None) -> Any:
    """The persona library of ``personas_dir`` (default: the settings' folder)."""
    from mapek.personas import PersonaLibrary

    return PersonaLibrary.load(personas_dir or settings().personas)


def open_kb(create: bool = False) -> Any:
    """The workspace's knowledge base (``create``: make the workspace if it is missing)."""
    from mapek.knowledge import KnowledgeBase

    return KnowledgeBase.open(settings().workspace(create=create))
