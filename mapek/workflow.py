"""Durable workflow runs: a workflow's steps as a run in the workspace's log, each step through
the tool gateway and its effects ledger, so a run killed at any point resumes where it was and
performs every effect exactly once.

::

    mapek workflow run FILE [--run RUN] [--tools MODULE:FUNCTION] [--root DIR]
    mapek workflow run FILE --resume RUN          # the same run, after a crash or an answer
    mapek workflow effects RUN                    # the run's ledger: done, in doubt, answered
    mapek workflow answer RUN KEY --happened|--run

The file is the sandbox's workflow format (:class:`~mapek.safety.sandbox.Workflow`). The tools
are the file and database tools of :mod:`mapek.safety.sandbox_tools` bound to the run's folder
(``runs/<id>/files``, with the workflow's ``folder`` and ``database`` copied in on first start),
plus any a ``--tools`` factory returns. Step ``i``'s attempt ``a`` is keyed in the ledger by
:func:`~mapek.ledger.effect_key` of the run, ``workflow/i/a``, the tool and the arguments; a tool
that takes ``idempotency_key`` gets the key of ``workflow/i`` (the same for every retry).

A run stops at the first step that does not end ``ok`` after its retries (``failed``), or at a
call in doubt (``waiting``: exit 5 with :class:`~mapek.errors.EffectInDoubt` until a human answers
with ``workflow answer``). Resuming checks the workflow is the version the run started with.
``python -m mapek.workflow`` is the same ``run`` without the CLI's start-up (the crash trials use
it).
"""

from __future__ import annotations

import importlib
import json
import secrets
import shutil
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mapek.errors import EffectInDoubt, MapekError, UnknownRunError, UserError

__all__ = ["WorkflowRun", "load_tools", "main", "open_workspace", "report", "run_file",
           "run_workflow"]

STARTED, FINISHED = "workflow.started", "workflow.finished"


@dataclass
class WorkflowRun:
    """What one invocation of a run did."""

    run_id: str
    workflow: str
    status: str
    """``finished``, ``failed`` (a step did not end ok) or ``waiting`` (a call in doubt)."""
    resumed: bool = False
    steps: list[dict[str, Any]] = field(default_factory=list)
    replayed: int = 0
    """Calls answered from the ledger without running."""
    in_doubt: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def load_tools(spec: str | None, root: Path, db: Path | None) -> Any:
    """The run's tools: the sandbox file/database tools on ``root``/``db``, plus those of a
    ``module:function`` factory (called with ``root``; returns a registry or tools)."""
    from mapek.safety.sandbox_tools import sandbox_tools
    from mapek.safety.tools import Tool, ToolRegistry

    reg = sandbox_tools(root, db)
    if not spec:
        return reg
    mod_name, _, fn_name = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(mod_name), fn_name or "tools")
    except (ImportError, AttributeError) as exc:
        raise UserError(f"--tools {spec}: cannot load it ({exc})") from None
    extra = factory(root)
    for t in extra.tools.values() if isinstance(extra, ToolRegistry) else extra:
        if not isinstance(t, Tool):
            raise UserError(f"--tools {spec}: {t!r} is not a tool (wrap it with @tool)")
        reg.register(t)
    return reg


def _prepare(wf: Any, root: Path) -> Path | None:
    """Copy the workflow's folder and database into the run's folder (first start only)."""
    root.mkdir(parents=True, exist_ok=True)
    if wf.folder:
        shutil.copytree(Path(wf.base) / wf.folder, root, dirs_exist_ok=True)
    if not wf.database:
        return None
    src, db = Path(wf.base) / wf.database, root.parent / "db.sqlite"
    if src.suffix == ".sql":
        db.unlink(missing_ok=True)
        conn = sqlite3.connect(db)
        try:
            conn.executescript(src.read_text(encoding="utf-8"))
        finally:
            conn.close()
    else:
        shutil.copyfile(src, db)
    return db


def run_workflow(wf: Any, kb: Any, *, run_id: str | None = None, resume: bool = False,
                 root: Path | None = None, tools: Any = None, tools_spec: str | None = None,
                 approver: Any = None, home: Path | None = None) -> WorkflowRun:
    """Run (or resume) a workflow as run ``run_id``; see the module docs. ``root`` is the run's
    folder (default ``<home>/runs/<id>/files``); ``tools`` a registry to use as is."""
    from mapek.ledger import effect_key
    from mapek.safety.gateway import ToolGateway
    from mapek.safety.sandbox import Workflow, load_workflow

    wf = wf if isinstance(wf, Workflow) else load_workflow(wf)
    if wf.fn is not None:
        raise UserError(f"workflow {wf.name} is a Python function: a durable run needs its "
                        "steps in a file")
    if resume and not run_id:
        raise UserError("resuming needs the run id")
    run_id = run_id or f"wf-{wf.name}-{secrets.token_hex(4)}"
    started = kb.log.find(run_id, STARTED)
    if resume and started is None:
        raise UnknownRunError(run_id)
    if started is not None:
        was = started.payload
        if was.get("workflow") != wf.name or was.get("digest") != wf.digest:
            raise UserError(f"run {run_id} started workflow {was.get('workflow')} version "
                            f"{was.get('digest')}; this is {wf.name} version {wf.digest}: resume "
                            "it with the file it started with")
        tools_spec = tools_spec if tools_spec is not None else was.get("tools")
        root = root or (Path(was["root"]) if was.get("root") else None)
    if root is None:
        if home is None:
            raise UserError("a workflow run needs a folder (--root) or a workspace")
        root = home / "runs" / run_id / "files"
    root = Path(root)
    db = root.parent / "db.sqlite" if wf.database else None
    if started is None:
        db = _prepare(wf, root)
    if tools is None:
        tools = load_tools(tools_spec, root, db)
    for step in wf.steps:
        if tools.get(step.tool) is None:
            raise UserError(f"workflow {wf.name}: step uses unknown tool {step.tool!r} (tools: "
                            f"{', '.join(tools.names())})")
    actor = f"workflow:{wf.name}"
    gw = ToolGateway(tools, kb, run_id, approver=approver)
    out = WorkflowRun(run_id, wf.name, "finished", resumed=started is not None)
    if started is None:
        for p in sorted(root.rglob("*")):  # what was copied in is a human's
            gw.register_resource(str(p.relative_to(root)))
    book = gw.grants()
    for name in wf.grants:  # a grant a crash kept from being recorded is recorded now
        if book.find(name, actor)[0] is None:
            gw.grant(name, justification=f"durable run of workflow {wf.name}", to=actor,
                     by="workflow")
    if started is None:
        kb.record(run_id, STARTED, "workflow",
                  {"workflow": wf.name, "digest": wf.digest, "steps": len(wf.steps),
                   "root": str(root), "tools": tools_spec}, key=STARTED)
    for i, step in enumerate(wf.steps):
        for attempt in range(step.retries + 1):
            node = f"workflow/{i}/{attempt}"
            key = effect_key(run_id, node, step.tool, step.args)
            seen = gw.ledger.get(key)
            res = gw.call(step.tool, step.args, actor=actor, key=key, node=f"workflow/{i}")
            out.replayed += seen is not None and seen.done is not None
            out.steps.append({"step": i, "attempt": attempt, "tool": step.tool,
                              "outcome": res.outcome, "seq": res.seq})
            if res.approval is not None and res.approval.in_doubt:
                out.status = "waiting"
                out.in_doubt = {"key": key, "tool": step.tool, "args": step.args, "node": node,
                                "reason": res.reason}
                return out
            if res.outcome != "error":
                break
        if out.steps[-1]["outcome"] != "ok":
            out.status = "failed"
            break
    kb.record(run_id, FINISHED, "workflow",
              {"status": out.status, "steps": len(out.steps),
               "failed_step": out.steps[-1]["step"] if out.status == "failed" else None},
              key=FINISHED)
    return out


def open_workspace(home: Path | None) -> tuple[Any, Path]:
    """The knowledge base (no indexing on record) and root of the workspace at ``home``
    (default: the settings'), created if missing."""
    from mapek.config import Settings
    from mapek.knowledge import KnowledgeBase

    settings = Settings(home=home) if home is not None else Settings()
    ws = settings.workspace(create=True)
    return KnowledgeBase.open(ws, index_on_record=False), ws.root


def run_file(file: Path, run: str | None, resume: str | None, tools: str | None,
             root: Path | None, home: Path | None) -> WorkflowRun:
    """``workflow run``: start run ``run`` (or continue it; ``resume``: it must exist) of the
    workflow in ``file`` in the workspace at ``home``."""
    if run and resume and run != resume:
        raise UserError("give --run or --resume, not both")
    kb, home_dir = open_workspace(home)
    with kb:
        res = run_workflow(file, kb, run_id=resume or run, resume=resume is not None,
                           root=root, tools_spec=tools, home=home_dir)
    return res


def report(res: WorkflowRun, as_json: bool) -> int:
    """Print what a run did (one line, or its JSON) and return the exit code: 0 finished,
    1 a step failed; a call in doubt raises :class:`~mapek.errors.EffectInDoubt` (exit 5)."""
    if as_json:
        sys.stdout.write(json.dumps(res.as_dict(), default=str) + "\n")
    else:
        done = sum(1 for s in res.steps if s["outcome"] == "ok")
        print(f"run {res.run_id}: {res.status}, {done} of {len(res.steps)} calls ok"
              f"{f', {res.replayed} from the ledger' if res.replayed else ''}")
    if res.status == "waiting":
        d = res.in_doubt or {}
        raise EffectInDoubt(res.run_id, d["key"], d["tool"], d["args"])
    return 1 if res.status == "failed" else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m mapek.workflow FILE [--run ID] [--resume ID] [--tools M:F] [--root DIR]
    [--home DIR] [--json]``: ``workflow run`` without the CLI."""
    import typer

    from mapek._entry import run_program

    def workflow(
        file: Path = typer.Argument(..., metavar="FILE", help="A workflow file (YAML or JSON)."),
        run: str | None = typer.Option(None, "--run", help="Run id: start it, or continue it."),
        resume: str | None = typer.Option(None, "--resume", help="Continue this run."),
        tools: str | None = typer.Option(None, "--tools", help="MODULE:FUNCTION for more tools."),
        root: Path | None = typer.Option(None, "--root", help="The run's folder."),
        home: Path | None = typer.Option(None, "--home", help="The workspace."),
        as_json: bool = typer.Option(False, "--json", help="The result as JSON."),
    ) -> int:
        """Run a workflow durably. Exit 0 finished, 1 a step failed, 5 a call in doubt."""
        try:
            return report(run_file(file, run, resume, tools, root, home), as_json)
        except MapekError as exc:
            print(f"mapek workflow: {exc}", file=sys.stderr)
            return exc.exit_code

    return run_program(workflow, argv, prog="python -m mapek.workflow")


if __name__ == "__main__":
    sys.exit(main())
