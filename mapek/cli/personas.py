"""``mapek personas list|show``: the persona library."""

from __future__ import annotations

import typer

from mapek.cli._common import JsonFlag, PersonasDir, console, emit_json, library

__all__ = ["personas_app", "personas_list", "personas_show"]

personas_app = typer.Typer(help="The persona library.", no_args_is_help=True)


@personas_app.command("list")
def personas_list(personas_dir: PersonasDir = None, as_json: JsonFlag = False) -> None:
    """List the personas available to a session."""
    lib = library(personas_dir)
    if as_json:
        emit_json([
            {"name": p.name, "role": p.role, "expertise": p.expertise,
             "source": str(lib.sources[p.name])}
            for p in (lib.personas[n] for n in lib.names())
        ])
        return
    from rich.table import Table

    table = Table("name", "role", "expertise", title="personas")
    for name in lib.names():
        p = lib.personas[name]
        table.add_row(f"[{p.color}]{p.name}[/]", p.role, ", ".join(p.expertise))
    console().print(table)


@personas_app.command("show")
def personas_show(name: str, personas_dir: PersonasDir = None, as_json: JsonFlag = False) -> None:
    """Show one persona in full."""
    lib = library(personas_dir)
    persona = lib.get(name)
    if as_json:
        emit_json({**persona.model_dump(), "source": str(lib.sources[name])})
        return
    con = console()
    con.print(f"[bold {persona.color}]{persona.name}[/] — {persona.role}  "
              f"[dim]({lib.sources[name]})[/]")
    for field in ("goal", "backstory", "instructions"):
        value = getattr(persona, field)
        if value:
            con.print(f"[bold]{field}:[/] {value.strip()}")
    con.print(f"[bold]expertise:[/] {', '.join(persona.expertise)}")
    if persona.concerns:
        con.print("[bold]concerns:[/] " + "; ".join(persona.concerns))
    con.print(f"[bold]tools:[/] {', '.join(persona.tools) or '(none)'}")
    con.print(f"[bold]model:[/] {persona.model or '(session default)'}")
