"""The ``mapek`` command (typer).

Start-up must stay fast (``mapek --help`` under half a second): this module imports only typer
and mapek's light modules at the top; litellm, chromadb, langgraph and textual are imported
inside the commands that need them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mapek import __version__
from mapek.errors import MapekError

__all__ = ["app", "main"]

app = typer.Typer(
    name="mapek",
    help="Run LLM agents the way distributed systems are run: a MAPE-K loop over persona "
    "agents, with blast-radius screening, circuit breakers, proof of work and idempotency.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
personas_app = typer.Typer(help="The persona library.", no_args_is_help=True)
kb_app = typer.Typer(help="The knowledge base: event log and vector index.", no_args_is_help=True)
app.add_typer(personas_app, name="personas")
app.add_typer(kb_app, name="kb")

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
PersonasDir = Annotated[
    Path | None,
    typer.Option("--personas-dir", help="Folder of persona YAML files (env MAPEK_PERSONAS)."),
]


def _settings() -> Any:
    from mapek.config import Settings

    return Settings()


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def _library(personas_dir: Path | None) -> Any:
    from mapek.personas import PersonaLibrary

    return PersonaLibrary.load(personas_dir or _settings().personas)


def _kb(create: bool = False) -> Any:
    from mapek.knowledge import KnowledgeBase

    return KnowledgeBase.open(_settings().workspace(create=create))


@app.command()
def version(as_json: JsonFlag = False) -> None:
    """Print mapek's version."""
    if as_json:
        _emit_json({"version": __version__})
    else:
        typer.echo(f"mapek {__version__}")


@personas_app.command("list")
def personas_list(personas_dir: PersonasDir = None, as_json: JsonFlag = False) -> None:
    """List the personas available to a session."""
    lib = _library(personas_dir)
    if as_json:
        _emit_json([
            {"name": p.name, "role": p.role, "expertise": p.expertise, "source": str(lib.sources[p.name])}
            for p in (lib.personas[n] for n in lib.names())
        ])
        return
    from rich.table import Table

    table = Table("name", "role", "expertise", title="personas")
    for name in lib.names():
        p = lib.personas[name]
        table.add_row(f"[{p.color}]{p.name}[/]", p.role, ", ".join(p.expertise))
    _console().print(table)


@personas_app.command("show")
def personas_show(name: str, personas_dir: PersonasDir = None, as_json: JsonFlag = False) -> None:
    """Show one persona in full."""
    lib = _library(personas_dir)
    persona = lib.get(name)
    if as_json:
        _emit_json({**persona.model_dump(), "source": str(lib.sources[name])})
        return
    con = _console()
    con.print(f"[bold {persona.color}]{persona.name}[/] — {persona.role}  [dim]({lib.sources[name]})[/]")
    for field in ("goal", "backstory", "instructions"):
        value = getattr(persona, field)
        if value:
            con.print(f"[bold]{field}:[/] {value.strip()}")
    con.print(f"[bold]expertise:[/] {', '.join(persona.expertise)}")
    if persona.concerns:
        con.print("[bold]concerns:[/] " + "; ".join(persona.concerns))
    con.print(f"[bold]tools:[/] {', '.join(persona.tools) or '(none)'}")
    con.print(f"[bold]model:[/] {persona.model or '(session default)'}")


@kb_app.command("search")
def kb_search(
    query: str,
    run: Annotated[str | None, typer.Option("--run", help="Only this run.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this event kind.")] = None,
    persona: Annotated[str | None, typer.Option("--persona", help="Only this persona.")] = None,
    n: Annotated[int, typer.Option("-n", min=1, max=100, help="How many results.")] = 5,
    as_json: JsonFlag = False,
) -> None:
    """Semantic search over what has been said and decided."""
    with _kb() as kb:
        hits = kb.search(query, n=n, run=run, persona=persona, kind=kind)
    if as_json:
        _emit_json([h.model_dump() if hasattr(h, "model_dump") else vars(h) for h in hits])
        return
    con = _console()
    if not hits:
        con.print("no results")
        return
    for h in hits:
        con.print(f"[bold]{h.run_id}#{h.seq}[/] [dim]{h.kind} · {h.persona} · "
                  f"score {h.score:.3f}[/]\n  {h.text}")


@kb_app.command("verify")
def kb_verify(
    run: Annotated[str | None, typer.Option("--run", help="Only this run.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check every run's hash chain; exits 3 and names the first bad event if one is broken."""
    with _kb() as kb:
        report = kb.verify(run)
    if as_json:
        _emit_json(report.model_dump() if hasattr(report, "model_dump") else vars(report))
    else:
        con = _console()
        for r in report.runs:
            if r.ok:
                con.print(f"[green]ok[/]   {r.run_id}  {r.events} events")
            else:
                con.print(f"[red]BAD[/]  {r.run_id}  first bad event #{r.first_bad_seq}: {r.problem}")
    if not report.ok:
        raise typer.Exit(3)


@kb_app.command("reindex")
def kb_reindex(
    run: Annotated[str | None, typer.Option("--run", help="Only this run.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Rebuild the vector index from the event log alone."""
    with _kb() as kb:
        count = kb.reindex(run)
    if as_json:
        _emit_json({"indexed": count})
    else:
        typer.echo(f"indexed {count} entries from the log")


def main() -> None:
    """Entry point: user mistakes print one line and exit non-zero, never a traceback."""
    try:
        rv = app(standalone_mode=False)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except typer.TyperException as exc:  # typer's usage errors (it vendors click)
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            typer.echo(f"mapek: error: {exc}", err=True)
        sys.exit(getattr(exc, "exit_code", 2))
    except MapekError as exc:
        typer.echo(f"mapek: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
