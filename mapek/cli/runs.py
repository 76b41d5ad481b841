"""``mapek runs list|show|compare|export``: past and running sessions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mapek.cli._common import JsonFlag, console, emit_json, library, open_kb, settings

__all__ = ["runs_app", "runs_compare", "runs_export", "runs_list", "runs_show"]

runs_app = typer.Typer(help="Past and running sessions.", no_args_is_help=True)


@runs_app.command("list")
def runs_list(as_json: JsonFlag = False) -> None:
    """Every session in the workspace, newest last."""
    from mapek.fold import STATUS_KINDS, RunFold

    out = []
    cfg = settings()
    with open_kb() as kb:
        for info in kb.runs():
            fold = RunFold.of(kb.events(info.run_id, kinds=list(STATUS_KINDS)), info.run_id)
            if fold.started is None:
                continue  # a workflow's or sandbox's log, not a session
            status = fold.live_status()
            if status == "running":  # or paused with no watchdog: `mapek resume` takes it over
                from mapek.breaker.orphans import orphan_status

                status = orphan_status(kb, info.run_id, cfg.workspace(create=False).root,
                                       after=cfg.orphan_after) or status
            out.append({"run_id": info.run_id, "status": status,
                        "topic": fold.topic, "events": info.events, "started": info.first_ts})
    if as_json:
        emit_json(out)
        return
    from rich.markup import escape
    from rich.table import Table

    from mapek.safety.display import one_line

    table = Table("run", "status", "events", "topic")
    for r in out:
        table.add_row(r["run_id"], r["status"], str(r["events"]), escape(one_line(r["topic"])))
    console().print(table)


@runs_app.command("show")
def runs_show(
    run_id: str,
    follow: Annotated[bool, typer.Option("--follow", "-f",
                                         help="Keep following a running session.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Replay a run's events (and follow it live with --follow)."""
    from mapek.api import Session
    from mapek.fold import RunFold
    from mapek.render import EventRenderer

    with Session.attach(run_id) as s:
        events, res = s.history(), s.result()
        cfg = s.config
    fold = RunFold.of(events, run_id)
    if as_json:
        emit_json({"run_id": run_id, "status": res.status, "config": cfg.model_dump(),
                   "questions": [vars(q) for q in fold.questions.values()],
                   "synthesis": res.synthesis, "events": fold.events})
        return
    con = console()
    lib = library(Path(cfg.personas_dir) if cfg.personas_dir else None)
    r = EventRenderer(con, lib.personas, verbose=verbose, offline=cfg.model.startswith("mapek/"))
    for ev in events:
        r.render(ev)
    if follow and res.status == "running":
        with Session.attach(run_id) as s:
            for ev in s.stream(fold.last_seq, answer=False):
                r.render(ev)
                fold.add(ev)
            res = s.result()
    qs = fold.questions.values()
    con.print(f"[bold]run[/] {run_id} · {res.status} · {fold.events} events · "
              f"{sum(q.status == 'answered' for q in qs)}/{len(qs)} questions answered")


@runs_app.command("compare")
def runs_compare(run_a: str, run_b: str, as_json: JsonFlag = False) -> None:
    """Where two runs diverged (the first decision chosen differently) and how their costs and
    outcomes differ."""
    from mapek.decisions import compare

    with open_kb() as kb:
        cmp = compare(kb, run_a, run_b)
    if as_json:
        emit_json(cmp.to_dict())
        return
    from rich.table import Table

    con = console()
    con.print(f"[bold]A[/] {run_a} · [bold]B[/] {run_b}")
    if not cmp.diverged:
        con.print(f"no divergence: all {cmp.same_decisions} decisions chosen the same way")
    else:
        side = cmp.first or cmp.second or {}
        what = side.get("point") if side.get("subject") == str(side.get("round")) \
            else f"{side.get('point')} of {side.get('subject')}"
        con.print(f"[bold]diverged[/] at round {side.get('round')}, {what} "
                  f"({cmp.same_decisions} decisions the same before)")
        for run, d in (("A", cmp.first), ("B", cmp.second)):
            if d is None:
                con.print(f"  {run}: no such decision")
                continue
            chosen = ", ".join(d["chosen"]) if isinstance(d["chosen"], list) else d["chosen"]
            opts = ", ".join(f"{k} {v:g}" for k, v in d["options"].items())
            con.print(f"  {run}: chose [bold]{chosen or '(none)'}[/] of {opts} [dim]({d['why']})"
                      "[/]", soft_wrap=True)
            o = d["outcomes"]
            con.print(f"     then: {o['turns']} turns, {o['llm_calls']} model calls, "
                      f"{o['tokens']:,} tokens, ${o['usd']:.4f}, {o['escalations']} escalations, "
                      f"{o['tool_calls']} tool calls ({o['refused_tool_calls']} refused), "
                      f"{o['trips']} trips" + (f", run ended: {o['ended']}" if o["ended"] else ""),
                      soft_wrap=True)
    table = Table("", "A", "B", "B - A")
    a, b, delta = cmp.a.to_dict(), cmp.b.to_dict(), cmp.delta()
    for k in a:
        if k != "run_id":
            table.add_row(k, f"{a[k]:g}" if isinstance(a[k], float) else str(a[k]),
                          f"{b[k]:g}" if isinstance(b[k], float) else str(b[k]),
                          f"{delta[k]:+g}" if k in delta else "")
    con.print(table)


@runs_app.command("export")
def runs_export(
    run_ids: Annotated[list[str], typer.Argument(help="The runs to export.")],
    decisions: Annotated[Path | None, typer.Option("--decisions", help="JSONL file to write: "
                                                   "one decision a line, with its outcomes.")
                         ] = None,
    otlp: Annotated[str | None, typer.Option(
        "--otlp", metavar="ENDPOINT",
        help="Send each run as an OpenTelemetry trace to this OTLP/HTTP endpoint "
             "(http://127.0.0.1:4318; a URL with a path is used as it is). Needs the "
             "otel extra.")] = None,
) -> None:
    """Write runs' decisions (options, scores, chosen, outcomes) as a JSONL dataset
    (--decisions), or send each run as an OpenTelemetry trace (--otlp): spans for the session,
    rounds, persona turns, model calls, tool calls, escalations and trips, from the log."""
    from mapek.errors import ConfigError

    if decisions is None and otlp is None:
        raise ConfigError("say what to export: --decisions FILE (a JSONL dataset) or "
                          "--otlp ENDPOINT (OpenTelemetry traces)")
    if otlp is not None:
        from mapek.otel import export_run, traces_url

        url = traces_url(otlp)  # a bad URL: one line, nothing sent
        with open_kb() as kb:
            for run_id in dict.fromkeys(run_ids):  # every run known before any is sent
                if not kb.log.last_seq(run_id):
                    from mapek.errors import UnknownRunError

                    raise UnknownRunError(run_id)
            for run_id in dict.fromkeys(run_ids):
                n = export_run(kb.log, run_id, otlp)
                typer.echo(f"exported run {run_id}: {n} spans to {url}")
    if decisions is not None:
        from mapek.decisions import export

        with open_kb() as kb:
            n = export(kb, run_ids, decisions)
        typer.echo(f"wrote {n} decisions of {len(run_ids)} run(s) to {decisions}")
