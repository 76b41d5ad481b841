"""``mapek workflow run|effects|answer``: durable workflow runs (see :mod:`mapek.workflow`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from mapek.errors import UnknownRunError, UserError

__all__ = ["answer_command", "effects_command", "run_command", "workflow_app"]

workflow_app = typer.Typer(help="Durable workflow runs: killed and resumed, every effect once.",
                           no_args_is_help=True)


@workflow_app.command("run")
def run_command(
    file: Annotated[Path, typer.Argument(help="A workflow file (YAML or JSON).")],
    run: Annotated[str | None, typer.Option("--run", help="Run id: start it, or continue it "
                                            "if it exists.")] = None,
    resume: Annotated[str | None, typer.Option("--resume", help="Continue this run (it must "
                                               "exist).")] = None,
    tools: Annotated[str | None, typer.Option("--tools", help="MODULE:FUNCTION returning more "
                                              "tools (called with the run's folder).")] = None,
    root: Annotated[Path | None, typer.Option("--root", help="The run's folder (default "
                                              "runs/<id>/files in the workspace).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The result as JSON.")] = False,
) -> None:
    """Run a workflow durably. Exit 0 finished, 1 a step failed, 5 a call in doubt."""
    from mapek.workflow import report, run_file

    code = report(run_file(file, run, resume, tools, root, None), as_json)
    if code:
        raise typer.Exit(code)


@workflow_app.command("effects")
def effects_command(
    run: Annotated[str, typer.Argument(help="The run id.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
) -> None:
    """The run's effects ledger: each keyed write/destructive/external call and its state."""
    from mapek.ledger import Ledger
    from mapek.workflow import open_workspace

    kb, _ = open_workspace(None)
    with kb:
        if kb.log.last_seq(run) == 0:
            raise UnknownRunError(run)
        effects = Ledger(kb, run).effects()
    for e in effects:
        d = e.as_dict()
        if as_json:
            sys.stdout.write(json.dumps(d, default=str) + "\n")
        elif d["attempts"]:
            print(f"{e.key[:16]}  {d['status']:<8}  {e.tool:<12} {d['node'] or '':<14} "
                  f"attempts {d['attempts']}  {d['outcome'] or d['answer'] or ''}  "
                  f"{json.dumps(e.args, default=str)[:60]}")


@workflow_app.command("answer")
def answer_command(
    run: Annotated[str, typer.Argument(help="The run id.")],
    key: Annotated[str, typer.Argument(help="The effect's key (or its first 8+ characters).")],
    happened: Annotated[bool, typer.Option("--happened", help="It did happen: record it, do "
                                           "not run it again.")] = False,
    rerun: Annotated[bool, typer.Option("--run", help="It did not happen: run it again.")] = False,
    note: Annotated[str, typer.Option("--note", help="Why (kept in the log).")] = "",
) -> None:
    """Answer for a call in doubt (then resume the run)."""
    from mapek.ledger import Ledger
    from mapek.workflow import open_workspace

    if happened == rerun:
        raise UserError("answer with exactly one of --happened and --run")
    kb, _ = open_workspace(None)
    with kb:
        if kb.log.last_seq(run) == 0:
            raise UnknownRunError(run)
        ev = Ledger(kb, run).resolve(key, "happened" if happened else "run", note=note)
    print(f"recorded: {ev.payload['tool']} {ev.payload['answer']} (event #{ev.seq}); resume "
          f"with `mapek workflow run FILE --resume {run}`")
