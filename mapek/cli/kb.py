"""``mapek kb search|verify|reindex``: the knowledge base (event log and vector index)."""

from __future__ import annotations

from typing import Annotated

import typer

from mapek.cli._common import JsonFlag, console, emit_json, open_kb

__all__ = ["kb_app", "kb_reindex", "kb_search", "kb_verify"]

kb_app = typer.Typer(help="The knowledge base: event log and vector index.", no_args_is_help=True)


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
    with open_kb() as kb:
        hits = kb.search(query, n=n, run=run, persona=persona, kind=kind)
    if as_json:
        emit_json([h.model_dump() if hasattr(h, "model_dump") else vars(h) for h in hits])
        return
    con = console()
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
    """Check every run's hash chain, and each run against its anchors (keyed head checkpoints
    kept outside the database); exits 3 and names the first bad event if one is broken, or
    what is wrong with the anchor file or key."""
    with open_kb() as kb:
        report = kb.verify(run)
    if as_json:
        emit_json(report.model_dump() if hasattr(report, "model_dump") else vars(report))
    else:
        con = console()
        for r in report.runs:
            if r.ok:
                con.print(f"[green]ok[/]   {r.run_id}  {r.events} events"
                          + (f"  [dim]({r.note})[/]" if r.note else ""), soft_wrap=True)
            else:
                con.print(f"[red]BAD[/]  {r.run_id}  first bad event #{r.first_bad_seq}: "
                          f"{r.problem}", soft_wrap=True)
        anchors = report.anchors
        if anchors is not None and anchors.problems:
            for problem in anchors.problems:
                con.print(f"[red]BAD[/]  anchors  {problem}", soft_wrap=True)
            if anchors.more_problems:
                con.print(f"[red]BAD[/]  anchors  and {anchors.more_problems} more problems",
                          soft_wrap=True)
        elif anchors is not None:
            con.print(f"[green]ok[/]   anchors  {anchors.summary}", soft_wrap=True)
    if not report.ok:
        raise typer.Exit(3)


@kb_app.command("reindex")
def kb_reindex(
    run: Annotated[str | None, typer.Option("--run", help="Only this run.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Rebuild the vector index from the event log alone (a corrupt index folder is moved
    aside and the whole index rebuilt from nothing)."""
    with open_kb() as kb:
        count = kb.reindex(run)
        aside = kb.index_set_aside
    if as_json:
        emit_json({"indexed": count, **({"set_aside": str(aside)} if aside else {})})
        return
    if aside is not None:
        typer.echo(f"the vector index could not be read: moved it to {aside} and rebuilt the "
                   "whole index")
    typer.echo(f"indexed {count} entries from the log")
