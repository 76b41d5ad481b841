"""The session commands: start a discussion (``discuss``, ``tui``), steer it (``answer``,
``interject``, ``approve``), stop and continue it (``trip``, ``resume``) and review it
(``postmortem``).

Plain functions with typer annotations; :mod:`mapek.cli` registers them on the app, in the
order ``mapek --help`` lists them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mapek.bounds import MAX_COUNT, MAX_ESCALATIONS
from mapek.cli._common import (
    EXIT_DIED,
    EXIT_STOPPED,
    EXIT_TRIPPED,
    ApiBaseOpt,
    MaxTokensOpt,
    MaxTurnsOpt,
    MaxUsdOpt,
    McpOpt,
    ModelOpt,
    PersonasDir,
    PersonasOpt,
    TimeLimitOpt,
    ToolsOpt,
    console,
    emit_jsonl,
    library,
    open_kb,
    session_parts,
    settings,
)

__all__ = ["TERMINAL_APP", "TUI_STREAM_DELAY", "answer", "approve", "discuss", "follow",
           "interject", "postmortem", "relabel", "resume", "trip", "tui"]

TERMINAL_APP = "mapek_tui:MapekApp"
"""The app ``mapek tui`` runs, as an import string: a Textual app class taking a
:class:`~mapek.api.Session` (or None) and ``start=``. The terminal app is a front end of its own
(``apps/tui``, packaged as ``mapek_tui``); the library does not import it."""


def follow(session: Any, *, verbose: bool, as_json: bool, resume: bool = False,
           trial: int | None = None, from_log: bool = False) -> int:
    """Stream a session to the terminal until it ends (``resume``: through its half-open
    trial, see :meth:`Session.resume`); returns the exit code."""
    from rich.markup import escape

    from mapek.render import EventRenderer
    from mapek.safety.display import for_display

    con = console()
    cfg = session.config
    lib = library(Path(cfg.personas_dir) if cfg.personas_dir else None)
    renderer = EventRenderer(con, lib.personas, verbose=verbose,
                             offline=cfg.model.startswith("mapek/"))
    rid = session.run_id  # first, so another front end can attach while this one runs
    console(stderr=as_json).print(
        f"[bold]run[/] {rid} · attach another front end: [bold]mapek tui --attach {rid}[/] · "
        f"answer from anywhere: mapek answer {rid} QID \"TEXT\"", soft_wrap=True)
    try:
        show = emit_jsonl if as_json else renderer.render
        result = session.resume(trial=trial, on_event=show, from_log=from_log) if resume else \
            session.run(on_event=show)
    except KeyboardInterrupt:
        session.stop("interrupted at the terminal (Ctrl-C)")
        typer.echo(f"\nstopped; the run keeps its state: mapek resume {session.run_id}", err=True)
        return 130
    if not as_json:
        if result.synthesis_path is not None:
            from rich.markdown import Markdown

            con.rule("[bold]synthesis")
            con.print(Markdown(for_display(result.synthesis_path.read_text())))
        con.print(f"[bold]run[/] {session.run_id} · {result.status}"
                  + (f" · {escape(for_display(result.reason))}" if result.reason else "")
                  + (f" · {result.synthesis_path}" if result.synthesis_path else ""),
                  soft_wrap=True)
    if result.status == "tripped" and not as_json:
        con.print(f"[bold red]breaker tripped[/]: {escape(for_display(result.reason))}\n  the "
                  f"run keeps its state; review it with `mapek postmortem {session.run_id}`, "
                  f"then `mapek resume {session.run_id} --raise NAME=VALUE --reason ...`",
                  soft_wrap=True)
    return {"stopped": EXIT_STOPPED, "failed": 1, "died": EXIT_DIED,
            "tripped": EXIT_TRIPPED}.get(result.status, 0)


def discuss(
    topic: str,
    personas: PersonasOpt = None,
    model: ModelOpt = None,
    max_turns: MaxTurnsOpt = 24,
    time_limit: TimeLimitOpt = None,
    max_tokens: MaxTokensOpt = None,
    max_usd: MaxUsdOpt = None,
    non_interactive: Annotated[bool, typer.Option(
        "--non-interactive", help="Never prompt: consequential questions wait or are deferred.")
    ] = False,
    on_question: Annotated[str, typer.Option(
        "--on-question", help="With --non-interactive: queue (wait in the log) or defer.")
    ] = "queue",
    escalations: Annotated[int, typer.Option("--escalations", min=0, max=MAX_ESCALATIONS,
                                             help="Escalation budget.")] = 3,
    policy: Annotated[str | None, typer.Option(
        "--policy", help="Breaker policy for the watchdog: a preset (default, strict) or a "
        "YAML file; the limits above are laid over it.")] = None,
    personas_dir: PersonasDir = None,
    tools: ToolsOpt = None,
    mcp: McpOpt = None,
    api_base: ApiBaseOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Stream events as JSON lines.")] = False,
) -> None:
    """Run a peer discussion; only consequential questions are brought to you."""
    from mapek.warm import prewarm

    prewarm()  # the worker's imports go on in its own process while this one sets up
    from mapek.api import Session
    from mapek.errors import ConfigError

    if on_question not in ("queue", "defer"):
        raise ConfigError(f"--on-question must be queue or defer, not {on_question!r}")
    human = on_question if non_interactive else "interactive"
    names = [n for n in (personas or "").split(",") if n.strip()] or None
    session = Session.create(topic, names, model=model, max_turns=max_turns,
                             time_limit=time_limit, max_tokens=max_tokens, max_usd=max_usd,
                             human=human, escalation_budget=escalations,  # type: ignore[arg-type]
                             personas_dir=personas_dir, policy=policy, api_base=api_base,
                             **session_parts(tools, mcp))
    with session:
        raise typer.Exit(follow(session, verbose=verbose, as_json=as_json))


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
        "--trial", min=0, max=MAX_COUNT, help="Half-open: run this many rounds first and "
        "continue only if they pass without a trip (default 1 after a trip, 0 otherwise).")] = None,
    from_log: Annotated[bool, typer.Option(
        "--from-log", help="Rebuild the run from its event log, not its checkpoint (a corrupt "
        "checkpoint file is moved aside); nothing is asked for or written twice.")] = False,
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
        raise typer.Exit(follow(session, verbose=verbose, as_json=as_json, resume=True,
                                trial=trial, from_log=from_log))


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


def postmortem(
    run_id: str,
    html: Annotated[Path | None, typer.Option("--html", help="Also write a self-contained "
                                              "HTML report with a cost and token chart.")] = None,
) -> None:
    """A post-mortem of a run, from its log alone: timeline, spend, actions, the trip."""
    from mapek.breaker.postmortem import build_report

    with open_kb() as kb:
        report = build_report(kb, run_id)
    from rich.markdown import Markdown

    console().print(Markdown(report.markdown()))  # for_display'd by the report
    if html is not None:
        html.write_text(report.html(), encoding="utf-8")
        typer.echo(f"wrote {html}")


def answer(run_id: str, qid: str, text: str) -> None:
    """Answer a question a run escalated (queued questions of non-interactive runs too)."""
    from mapek.api import Session

    with Session.attach(run_id) as session:
        ev = session.answer(qid, text)
    typer.echo(f"answered {qid} (event #{ev.seq})")


def relabel(
    run_id: str,
    qid: str,
    note: Annotated[str, typer.Option("--note", help="Why (kept with the precedent).")] = "",
) -> None:
    """Say the peers could have settled a question a run put to you: kept as a 'trivial'
    precedent that a later session's triage may cite (the question stays open)."""
    from mapek.api import Session

    with Session.attach(run_id) as session:
        ev = session.relabel(qid, note)
    typer.echo(f"{qid}: the peers could have settled it (event #{ev.seq}); kept as a precedent")


def interject(run_id: str, text: str) -> None:
    """Say something to a running discussion's peers; they hear it on the next round."""
    from mapek.api import Session

    with Session.attach(run_id) as session:
        ev = session.interject(text)
    typer.echo(f"interjected (event #{ev.seq})")


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


TUI_STREAM_DELAY = "0.04"
"""``MAPEK_OFFLINE_STREAM_DELAY`` in ``mapek tui`` unless set: two words every 40 ms (a persona
turn in about a second); elsewhere it is 0."""


def tui(
    topic: Annotated[str | None, typer.Argument(help="Start a session on this topic.")] = None,
    attach: Annotated[str | None, typer.Option(
        "--attach", help="Open a running or finished run instead.")] = None,
    personas: PersonasOpt = None,
    model: ModelOpt = None,
    max_turns: MaxTurnsOpt = 24,
    time_limit: TimeLimitOpt = None,
    max_tokens: MaxTokensOpt = None,
    max_usd: MaxUsdOpt = None,
    policy: Annotated[str | None, typer.Option("--policy", help="Breaker policy.")] = None,
    personas_dir: PersonasDir = None,
    tools: ToolsOpt = None,
    mcp: McpOpt = None,
    api_base: ApiBaseOpt = None,
) -> None:
    """The terminal app: watch, steer and stop a discussion (no TOPIC: browse past runs)."""
    import os

    from mapek.api import Session
    from mapek.errors import ConfigError
    from mapek.llm.offline import STREAM_DELAY_ENV, stream_delay

    # The offline model answers at once; in the app, where a person watches the turns come in,
    # it streams them at a reading pace (the workers this app starts inherit it).
    os.environ.setdefault(STREAM_DELAY_ENV, TUI_STREAM_DELAY)
    stream_delay()  # a bad value: one clear line, exit 2, before the app starts

    if topic and attach:
        raise ConfigError("give a TOPIC to start a session or --attach RUN, not both")
    if attach and (time_limit, max_tokens, max_usd) != (None, None, None):
        raise ConfigError("--time-limit, --max-tokens and --max-usd set a new session's limits "
                          "(with a TOPIC); an attached run keeps its own (raise one with l)")
    session = None
    if attach:
        session = Session.attach(attach)  # an unknown run: exit 2 before the app starts
    elif topic:
        names = [n for n in (personas or "").split(",") if n.strip()] or None
        session = Session.create(topic, names, model=model, max_turns=max_turns,
                                 time_limit=time_limit, max_tokens=max_tokens, max_usd=max_usd,
                                 human="interactive", personas_dir=personas_dir, policy=policy,
                                 api_base=api_base, **session_parts(tools, mcp))
    else:
        settings().workspace(create=False)  # no workspace yet: a clear error, exit 2
    from mapek.runtime import import_object

    app_class = import_object(TERMINAL_APP, what="the terminal app")
    tui_app = app_class(session, start=topic is not None)
    tui_app.run()
    if session is not None:
        live = session.is_running()
        session.close()
        if live:
            typer.echo(f"run {session.run_id} goes on; reopen it with "
                       f"`mapek tui --attach {session.run_id}`")
