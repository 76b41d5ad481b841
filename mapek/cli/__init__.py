"""The ``mapek`` command (typer): the app, its command tree and the entry point.

The commands live in this package's modules, by what they work on: :mod:`~mapek.cli.discuss`
(a session: discuss, resume, trip, postmortem, answer, interject, approve, tui),
:mod:`~mapek.cli.runs`, :mod:`~mapek.cli.kb`, :mod:`~mapek.cli.personas`,
:mod:`~mapek.cli.safety` (screen, triage, catalogue, sandbox, promote, grant, evidence),
:mod:`~mapek.cli.workflow` and :mod:`~mapek.cli.batch`; shared options and helpers are in
``mapek.cli._common``. This module registers them all, in the order ``mapek --help`` lists them.

Start-up must stay fast (``mapek --help`` under half a second): these modules import only typer
and mapek's light modules at the top; litellm, chromadb, langgraph and textual are imported
inside the commands that need them.
"""

from __future__ import annotations

import sys

import typer

from mapek import __version__
from mapek.cli import batch, discuss, kb, personas, runs, safety, workflow
from mapek.cli._common import EXIT_DIED, EXIT_STOPPED, EXIT_TRIPPED, JsonFlag, emit_json
from mapek.errors import MapekError

__all__ = ["EXIT_DIED", "EXIT_STOPPED", "EXIT_TRIPPED", "app", "main"]

app = typer.Typer(
    name="mapek",
    help="Run LLM agents the way distributed systems are run: a MAPE-K loop over persona "
    "agents, with blast-radius screening, circuit breakers, proof of work and idempotency.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def version(as_json: JsonFlag = False) -> None:
    """Print mapek's version."""
    if as_json:
        emit_json({"version": __version__})
    else:
        typer.echo(f"mapek {__version__}")


# Top-level commands, then the command groups: the order of `mapek --help`.
app.command("discuss")(discuss.discuss)
app.command("resume")(discuss.resume)
app.command("trip")(discuss.trip)
app.command("postmortem")(discuss.postmortem)
app.command("answer")(discuss.answer)
app.command("relabel")(discuss.relabel)
app.command("interject")(discuss.interject)
app.command("triage")(safety.triage_command)
app.command("screen")(safety.screen_command)
app.command("promote")(safety.promote_command)
app.command("grant")(safety.grant_command)
app.command("approve")(discuss.approve)
app.command("tui")(discuss.tui)
app.add_typer(personas.personas_app, name="personas")
app.add_typer(kb.kb_app, name="kb")
app.add_typer(runs.runs_app, name="runs")
app.add_typer(safety.catalogue_app, name="catalogue")
app.add_typer(safety.sandbox_app, name="sandbox")
app.add_typer(workflow.workflow_app, name="workflow")
app.add_typer(safety.evidence_app, name="evidence")
app.add_typer(batch.batch_app, name="batch")


def main() -> None:
    """Entry point: user mistakes print one line and exit non-zero, never a traceback.

    The command's files are private (umask 077: files 0600, folders 0700): the workspace's,
    and the reports it writes, which quote the runs."""
    from mapek.private import use_private_umask

    use_private_umask()
    try:
        rv = app(standalone_mode=False)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except typer.TyperException as exc:  # typer's usage errors (it vendors click): one line
        ctx = getattr(exc, "ctx", None)
        fmt = getattr(exc, "format_message", None)
        msg = " ".join(str(fmt() if fmt is not None else exc).split())
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        typer.echo(f"mapek: error: {msg}{hint}", err=True)
        sys.exit(getattr(exc, "exit_code", 2))
    except MapekError as exc:
        from mapek.safety.display import one_line

        typer.echo(f"mapek: error: {one_line(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except (RecursionError, UnicodeDecodeError) as exc:  # an input no reader caught: one line
        from mapek.inputs import NESTED, not_utf8

        why = NESTED if isinstance(exc, RecursionError) else not_utf8(exc)
        typer.echo(f"mapek: error: an input could not be read: {why}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)
