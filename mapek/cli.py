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
runs_app = typer.Typer(help="Past and running sessions.", no_args_is_help=True)
app.add_typer(personas_app, name="personas")
app.add_typer(kb_app, name="kb")
app.add_typer(runs_app, name="runs")

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
                con.print(f"[red]BAD[/]  {r.run_id}  first bad event #{r.first_bad_seq}: "
                          f"{r.problem}")
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


def _follow(session: Any, *, verbose: bool, as_json: bool, resume: bool = False,
            trial: int | None = None) -> int:
    """Stream a session to the terminal until it ends (``resume``: through its half-open
    trial, see :meth:`Session.resume`); returns the exit code."""
    from mapek.render import EventRenderer

    con = _console()
    cfg = session.config
    lib = _library(Path(cfg.personas_dir) if cfg.personas_dir else None)
    renderer = EventRenderer(con, lib.personas, verbose=verbose,
                             offline=cfg.model.startswith("mapek/"))
    try:
        show = _emit_jsonl if as_json else renderer.render
        result = session.resume(trial=trial, on_event=show) if resume else \
            session.run(on_event=show)
    except KeyboardInterrupt:
        session.stop("interrupted at the terminal (Ctrl-C)")
        typer.echo(f"\nstopped; the run keeps its state: mapek resume {session.run_id}", err=True)
        return 130
    if not as_json:
        if result.synthesis_path is not None:
            from rich.markdown import Markdown

            con.rule("[bold]synthesis")
            con.print(Markdown(result.synthesis_path.read_text()))
        con.print(f"[bold]run[/] {session.run_id} · {result.status}"
                  + (f" · {result.reason}" if result.reason else "")
                  + (f" · {result.synthesis_path}" if result.synthesis_path else ""),
                  soft_wrap=True)
    if result.status == "tripped" and not as_json:
        con.print(f"[bold red]breaker tripped[/]: {result.reason}\n  the run keeps its state; "
                  f"review it with `mapek postmortem {session.run_id}`, then `mapek resume "
                  f"{session.run_id} --raise NAME=VALUE --reason ...`", soft_wrap=True)
    return {"stopped": EXIT_STOPPED, "failed": 1, "died": EXIT_DIED,
            "tripped": EXIT_TRIPPED}.get(result.status, 0)


def _emit_jsonl(ev: Any) -> None:
    sys.stdout.write(json.dumps(ev.model_dump(), ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


@app.command()
def discuss(
    topic: str,
    personas: Annotated[str | None, typer.Option(
        "--personas", help="Comma-separated persona names (default: cfo,engineer,skeptic,legal).")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="litellm model string.")] = None,
    max_turns: Annotated[int, typer.Option("--max-turns", min=1, help="Persona turns.")] = 24,
    time_limit: Annotated[float | None, typer.Option("--time-limit", min=0.1,
                                                     help="Seconds.")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", min=1)] = None,
    max_usd: Annotated[float | None, typer.Option("--max-usd", min=0.000001)] = None,
    non_interactive: Annotated[bool, typer.Option(
        "--non-interactive", help="Never prompt: consequential questions wait or are deferred.")
    ] = False,
    on_question: Annotated[str, typer.Option(
        "--on-question", help="With --non-interactive: queue (wait in the log) or defer.")
    ] = "queue",
    escalations: Annotated[int, typer.Option("--escalations", min=0,
                                             help="Escalation budget.")] = 3,
    policy: Annotated[str | None, typer.Option(
        "--policy", help="Breaker policy for the watchdog: a preset (default, strict) or a "
        "YAML file; the limits above are laid over it.")] = None,
    personas_dir: PersonasDir = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Stream events as JSON lines.")] = False,
) -> None:
    """Run a peer discussion; only consequential questions are brought to you."""
    from mapek.api import Session
    from mapek.errors import ConfigError

    if on_question not in ("queue", "defer"):
        raise ConfigError(f"--on-question must be queue or defer, not {on_question!r}")
    human = on_question if non_interactive else "interactive"
    names = [n for n in (personas or "").split(",") if n.strip()] or None
    session = Session.create(topic, names, model=model, max_turns=max_turns,
                             time_limit=time_limit, max_tokens=max_tokens, max_usd=max_usd,
                             human=human, escalation_budget=escalations,  # type: ignore[arg-type]
                             personas_dir=personas_dir, policy=policy)
    with session:
        raise typer.Exit(_follow(session, verbose=verbose, as_json=as_json))


@app.command()
def resume(
    run_id: str,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    raise_: Annotated[list[str] | None, typer.Option(
        "--raise", help="Raise a breaker limit after review: tokens=, usd=, time=, turns=, "
        "depth=, escalations= (repeatable).")] = None,
    disable: Annotated[list[str] | None, typer.Option(
        "--disable", help="Switch a breaker policy off for this run (repeatable; logged).")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded with who).")] = "",
    trial: Annotated[int | None, typer.Option(
        "--trial", min=0, help="Half-open: run this many rounds first and continue only if they "
        "pass without a trip (default 1 after a trip, 0 otherwise).")] = None,
) -> None:
    """Continue a stopped, failed, killed or tripped run from its last checkpoint.

    After a trip the breaker is half-open: one trial round runs first (``--trial N``); only if
    it passes is the breaker closed and the rest of the run started."""
    from mapek.api import Session

    with Session.attach(run_id) as session:
        if session.result().status in ("converged", "stalled", "max_turns"):
            typer.echo(f"run {run_id} already finished ({session.result().status})")
            raise typer.Exit(0)
        if raise_ or disable:
            from mapek.breaker.review import parse_raise, record_override

            ev = record_override(session.kb, run_id, raise_limits=parse_raise(raise_ or []),
                                 disable=disable or [], reason=reason)
            typer.echo(f"breaker override recorded (event #{ev.seq}): {ev.payload['text']}")
        raise typer.Exit(_follow(session, verbose=verbose, as_json=as_json, resume=True,
                                 trial=trial))


@app.command()
def trip(
    run_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded with who).")],
) -> None:
    """Force a running run's breaker open: its watchdog stops it at once (resumable)."""
    from mapek.api import Session
    from mapek.breaker.review import record_override

    with Session.attach(run_id) as session:
        ev = record_override(session.kb, run_id, force_open=True, reason=reason)
    typer.echo(f"breaker forced open (event #{ev.seq}); the watchdog stops the worker")


@app.command()
def postmortem(
    run_id: str,
    html: Annotated[Path | None, typer.Option("--html", help="Also write a self-contained "
                                              "HTML report with a cost and token chart.")] = None,
) -> None:
    """A post-mortem of a run, from its log alone: timeline, spend, actions, the trip."""
    from mapek.breaker.postmortem import build_report

    with _kb() as kb:
        report = build_report(kb, run_id)
    from rich.markdown import Markdown

    _console().print(Markdown(report.markdown()))
    if html is not None:
        html.write_text(report.html(), encoding="utf-8")
        typer.echo(f"wrote {html}")


@app.command()
def answer(run_id: str, qid: str, text: str) -> None:
    """Answer a question a run escalated (queued questions of non-interactive runs too)."""
    from mapek.api import Session

    with Session.attach(run_id) as session:
        ev = session.answer(qid, text)
    typer.echo(f"answered {qid} (event #{ev.seq})")


@app.command()
def interject(run_id: str, text: str) -> None:
    """Say something to a running discussion's peers; they hear it on the next round."""
    from mapek.api import Session

    with Session.attach(run_id) as session:
        ev = session.interject(text)
    typer.echo(f"interjected (event #{ev.seq})")


@runs_app.command("list")
def runs_list(as_json: JsonFlag = False) -> None:
    """Every run in the workspace, newest last."""
    from mapek.api import Session

    out = []
    with _kb() as kb:
        infos = kb.runs()
    for info in infos:
        with Session.attach(info.run_id) as s:
            res, cfg = s.result(), s.config
        out.append({"run_id": info.run_id, "status": res.status, "topic": cfg.topic,
                    "events": info.events, "started": info.first_ts})
    if as_json:
        _emit_json(out)
        return
    from rich.table import Table

    table = Table("run", "status", "events", "topic")
    for r in out:
        table.add_row(r["run_id"], r["status"], str(r["events"]), r["topic"])
    _console().print(table)


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
    from mapek.render import EventRenderer

    with Session.attach(run_id) as s:
        events, res, qs = s.events(), s.result(), s.questions()
        cfg = s.config
    if as_json:
        _emit_json({"run_id": run_id, "status": res.status, "config": cfg.model_dump(),
                    "questions": [vars(q) for q in qs.values()], "synthesis": res.synthesis,
                    "events": len(events)})
        return
    con = _console()
    lib = _library(Path(cfg.personas_dir) if cfg.personas_dir else None)
    r = EventRenderer(con, lib.personas, verbose=verbose, offline=cfg.model.startswith("mapek/"))
    for ev in events:
        r.render(ev)
    if follow and res.status == "running":
        with Session.attach(run_id) as s:
            for ev in s.stream(events[-1].seq if events else 0, answer=False):
                r.render(ev)
            res, qs, events = s.result(), s.questions(), s.events()
    con.print(f"[bold]run[/] {run_id} · {res.status} · {len(events)} events · "
              f"{sum(q.status == 'answered' for q in qs.values())}/{len(qs)} questions answered")


@runs_app.command("compare")
def runs_compare(run_a: str, run_b: str, as_json: JsonFlag = False) -> None:
    """Where two runs diverged (the first decision chosen differently) and how their costs and
    outcomes differ."""
    from mapek.decisions import compare

    with _kb() as kb:
        cmp = compare(kb, run_a, run_b)
    if as_json:
        _emit_json(cmp.to_dict())
        return
    from rich.table import Table

    con = _console()
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
    decisions: Annotated[Path, typer.Option("--decisions", help="JSONL file to write: one "
                                            "decision a line, with its outcomes.")],
) -> None:
    """Write runs' decisions (options, scores, chosen, outcomes) as a JSONL dataset."""
    from mapek.decisions import export

    with _kb() as kb:
        n = export(kb, run_ids, decisions)
    typer.echo(f"wrote {n} decisions of {len(run_ids)} run(s) to {decisions}")


@app.command()
def triage(
    jsonl: Annotated[Path, typer.Option("--jsonl", help="Questions, one JSON object a line "
                                        "(text, discussion_topic, asked_by, context).")],
) -> None:
    """Label questions consequential or trivial with the observer's own classifier."""
    from mapek.errors import ConfigError
    from mapek.loop.triage import triage_jsonl

    if not jsonl.is_file():
        raise ConfigError(f"--jsonl {jsonl}: no such file")
    triage_jsonl(jsonl, sys.stdout)


def _safety_commands() -> None:
    from mapek.safety.commands import (
        catalogue_app,
        grant_command,
        promote_command,
        sandbox_app,
        screen_command,
    )

    app.command("screen")(screen_command)
    app.command("promote")(promote_command)
    app.command("grant")(grant_command)
    app.add_typer(catalogue_app, name="catalogue")
    app.add_typer(sandbox_app, name="sandbox")


_safety_commands()


def _workflow_commands() -> None:
    from mapek.workflow import workflow_app  # typer and the error tree only; the rest is lazy

    app.add_typer(workflow_app, name="workflow")


_workflow_commands()

evidence_app = typer.Typer(help="Evidence envelopes: proof of work behind a verdict.",
                           no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")


@evidence_app.command("check")
def evidence_check(
    file: Annotated[Path, typer.Argument(help="The envelope, as JSON.")],
    run: Annotated[str, typer.Option("--run", help="The run whose key and log to check against.")],
    requirements: Annotated[Path | None, typer.Option(
        "--requirements", help="A folder of <task_type>.yaml (default: the packaged ones).")
    ] = None,
    record: Annotated[bool, typer.Option(
        "--record", help="Record evidence.accepted/rejected in the run's log.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Check an envelope against its run's key, its task's requirement and the log (no quorum
    here). Exit 0 when the next step may go ahead, 5 when it must stop."""
    from mapek.errors import UnknownRunError
    from mapek.evidence import EvidenceChecker, Requirements, load_envelope

    env = load_envelope(file)
    reqs = Requirements.load(requirements) if requirements is not None else None
    with _kb() as kb:
        if run not in {r.run_id for r in kb.runs()}:
            raise UnknownRunError(run)
        checker = EvidenceChecker.for_run(kb, _settings().workspace(create=False), run,
                                          requirements=reqs, actor="human")
        res = checker.check(env) if record else checker.evaluate(env)
    if as_json:
        _emit_json({**res.payload(), "accepted": res.accepted, "proceed": res.proceed,
                    "seq": res.seq})
    else:
        typer.echo(res.explain())
    raise typer.Exit(0 if res.proceed else EXIT_STOPPED)


@app.command()
def approve(
    run_id: str,
    call_id: str,
    deny: Annotated[bool, typer.Option("--deny", help="Refuse the call instead.")] = False,
    happened: Annotated[bool, typer.Option(
        "--happened", help="For a call in doubt (the worker died during it): it did happen; "
        "record it, do not run it again.")] = False,
    note: Annotated[str, typer.Option("--note")] = "",
) -> None:
    """Approve (or --deny) a destructive or external call a run is waiting on."""
    from mapek.api import Session
    from mapek.errors import UserError

    if deny and happened:
        raise UserError("give one of --deny and --happened")
    with Session.attach(run_id) as session:
        ev = session.approve(call_id, not deny, note, happened=happened)
    said = "recorded as having happened" if happened else "refused" if deny else "approved"
    typer.echo(f"{said}: {call_id} (event #{ev.seq})")


@app.command()
def tui(
    topic: Annotated[str | None, typer.Argument(help="Start a session on this topic.")] = None,
    attach: Annotated[str | None, typer.Option(
        "--attach", help="Open a running or finished run instead.")] = None,
    personas: Annotated[str | None, typer.Option(
        "--personas", help="Comma-separated persona names (default: cfo,engineer,skeptic,legal).")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="litellm model string.")] = None,
    max_turns: Annotated[int, typer.Option("--max-turns", min=1, help="Persona turns.")] = 24,
    policy: Annotated[str | None, typer.Option("--policy", help="Breaker policy.")] = None,
    personas_dir: PersonasDir = None,
) -> None:
    """The terminal app: watch, steer and stop a discussion (no TOPIC: browse past runs)."""
    from mapek.api import Session
    from mapek.errors import ConfigError

    if topic and attach:
        raise ConfigError("give a TOPIC to start a session or --attach RUN, not both")
    session = None
    if attach:
        session = Session.attach(attach)  # an unknown run: exit 2 before the app starts
    elif topic:
        names = [n for n in (personas or "").split(",") if n.strip()] or None
        session = Session.create(topic, names, model=model, max_turns=max_turns,
                                 human="interactive", personas_dir=personas_dir, policy=policy)
    else:
        _settings().workspace(create=False)  # no workspace yet: a clear error, exit 2
    from mapek_tui import MapekApp

    tui_app = MapekApp(session, start=topic is not None)
    tui_app.run()
    if session is not None:
        live = session.is_running()
        session.close()
        if live:
            typer.echo(f"run {session.run_id} goes on; reopen it with "
                       f"`mapek tui --attach {session.run_id}`")


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
