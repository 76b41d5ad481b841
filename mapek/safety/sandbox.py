"""Sandbox runs of a workflow, and its promotion to production after N clean runs.

A **workflow** is a YAML or JSON file (or a Python callable, :meth:`Workflow.from_callable`)::

    name: tidy-notes                 # required; [a-z0-9-]
    description: what it does
    folder: fixtures/notes           # optional: copied into the sandbox (relative to the file)
    database: fixtures/notes.sql     # optional: a .sql script or a .db file, copied
    grants: [fs_write, sql_exec]     # write tools the run is granted (justification: the workflow)
    steps:                           # tool calls, in order
      - tool: fs_read
        args: {path: inbox.md}
        retries: 1                   # optional: retry an error this many times

The run's tools are the sandbox implementations (:mod:`mapek.safety.sandbox_tools`) behind a
:class:`~mapek.safety.gateway.ToolGateway` in sandbox mode: what was copied in counts as a
human's (never deleted or overwritten), what the run writes is its own (it may remove it), and
any call that would need a human is refused (nobody approves in a sandbox). The whole plan is
screened before the first step. ``chaos`` wraps the tools in seeded faults
(:mod:`mapek.safety.chaos`).

A run is **clean** when every step ended ``ok`` and nothing triggered a catalogue entry (a
refused call, a flagged output, a screening finding). Each run is a ``sandbox.run`` event in the
log's ``workflow:<name>`` run; :func:`promote` records ``workflow.promoted`` only when the last
``n`` runs of the workflow's current version (its digest) are all clean.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mapek.errors import UserError
from mapek.ledger import effect_key
from mapek.safety.chaos import Chaos
from mapek.safety.gateway import ToolGateway
from mapek.safety.sandbox_tools import sandbox_tools
from mapek.safety.screening import screen_plan

__all__ = ["Workflow", "WorkflowStep", "SandboxReport", "load_workflow", "run_sandbox",
           "promote", "PROMOTE_AFTER"]

PROMOTE_AFTER = 3
"""Clean sandbox runs in a row before a workflow may be promoted."""


class WorkflowStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tool: str = Field(min_length=1)
    args: dict[str, Any] = Field(default_factory=dict)
    retries: int = Field(default=0, ge=0, le=5)


class Workflow(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""
    folder: str | None = None
    database: str | None = None
    grants: list[str] = Field(default_factory=list)
    steps: list[WorkflowStep] = Field(default_factory=list)
    base: str = "."
    """Where relative paths are resolved (the file's folder)."""
    digest: str = ""
    fn: Callable[[Callable[..., Any]], None] | None = Field(default=None, exclude=True)

    @classmethod
    def from_callable(cls, name: str, fn: Callable[[Callable[..., Any]], None],
                      **fields: Any) -> Workflow:
        """A workflow whose steps are a function of ``call(tool, **args) -> CallResult``."""
        digest = hashlib.sha256((fn.__module__ + fn.__qualname__).encode()).hexdigest()[:16]
        return cls(name=name, fn=fn, digest=digest, **fields)


def load_workflow(path: str | Path) -> Workflow:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        raw = json.loads(text) if p.suffix == ".json" else \
            yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except FileNotFoundError:
        raise UserError(f"{p}: no such workflow file") from None
    except (ValueError, yaml.YAMLError) as exc:
        raise UserError(f"{p}: not valid {'JSON' if p.suffix == '.json' else 'YAML'}: "
                        f"{str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise UserError(f"{p}: a workflow is a mapping with 'name' and 'steps'")
    try:
        wf = Workflow.model_validate({**raw, "base": str(p.resolve().parent),
                                      "digest": hashlib.sha256(text.encode()).hexdigest()[:16]})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UserError(f"{p}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    return wf


@dataclass
class SandboxReport:
    workflow: str
    run_id: str
    clean: bool
    steps: list[dict[str, Any]] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    """Catalogue entries (and outcomes) that made the run unclean."""
    chaos: dict[str, Any] | None = None


def _prepare(wf: Workflow, into: Path) -> tuple[Path, Path | None]:
    root = into / "files"
    if wf.folder:
        shutil.copytree(Path(wf.base) / wf.folder, root)
    else:
        root.mkdir()
    db = None
    if wf.database:
        src, db = Path(wf.base) / wf.database, into / "db.sqlite"
        if src.suffix == ".sql":
            with sqlite3.connect(db) as conn:
                conn.executescript(src.read_text(encoding="utf-8"))
            conn.close()
        else:
            shutil.copyfile(src, db)
    return root, db


def run_sandbox(wf: Workflow | str | Path, kb: Any, *, chaos: bool = False, seed: int = 0,
                rate: float = 0.5) -> SandboxReport:
    """Run a workflow once in a fresh sandbox; record it; report whether it was clean."""
    wf = wf if isinstance(wf, Workflow) else load_workflow(wf)
    run_id = f"sandbox-{wf.name}-{secrets.token_hex(3)}"
    report = SandboxReport(wf.name, run_id, clean=True)
    with tempfile.TemporaryDirectory(prefix="mapek-sandbox-") as tmp:
        root, db = _prepare(wf, Path(tmp))
        tools = sandbox_tools(root, db)
        monkey = Chaos(seed=seed, rate=rate) if chaos else None
        if monkey is not None:
            tools = monkey.wrap(tools)
        gw = ToolGateway(tools, kb, run_id, sandbox=True, approver=lambda req: False)
        kb.record(run_id, "sandbox.started", "sandbox",
                  {"workflow": wf.name, "digest": wf.digest, "chaos": chaos, "seed": seed})
        for p in sorted(root.rglob("*")):  # what was copied in is a human's
            gw.register_resource(str(p.relative_to(root)))
        for name in wf.grants:
            gw.grant(name, justification=f"sandbox run of workflow {wf.name}", by="workflow")
        plan = screen_plan({"steps": [s.model_dump(include={"tool", "args"})
                                      for s in wf.steps]}, gw.context(), tools=tools)
        report.triggers += [f"plan:{r.catalogue_id}" for r in plan.reasons
                            if r.verdict != "allow"]

        def call(tool: str, **args: Any) -> Any:
            node = f"sandbox/{len(report.steps)}"  # the n-th call: intent, then its result
            res = gw.call(tool, args, actor=f"workflow:{wf.name}", node=node,
                          key=effect_key(run_id, node, tool, args))
            report.steps.append({"tool": tool, "outcome": res.outcome, "flagged": res.flagged,
                                 "reason": res.reason})
            if res.outcome == "ok" and ("\x00" in res.output or "\ufffd" in res.output):
                report.triggers.append(f"output:malformed:{tool}")
            return res

        if plan.verdict == "allow":
            if wf.fn is not None:
                wf.fn(call)
            for step in wf.steps:
                for _ in range(step.retries + 1):
                    if call(step.tool, **step.args).outcome != "error":
                        break
        for ev in kb.events(run_id, kinds=["tool.call", "screen.output"]):
            if ev.kind == "screen.output":
                report.triggers += [f"output:{c}" for c in ev.payload["catalogue_ids"]]
            elif ev.payload["outcome"] == "refused":
                report.triggers += [f"call:{c}" for c in ev.payload["catalogue_ids"]] or \
                    [f"call:refused:{ev.payload['tool']}"]
        last_ok = all(s["outcome"] == "ok" for s in _last_attempts(report.steps, wf))
        report.clean = not report.triggers and last_ok and plan.verdict == "allow"
        report.chaos = {"seed": seed, "rate": rate, "injected": monkey.injected} \
            if monkey else None
    kb.record(f"workflow:{wf.name}", "sandbox.run", "sandbox",
              {"workflow": wf.name, "digest": wf.digest, "run_id": run_id, "clean": report.clean,
               "triggers": sorted(set(report.triggers)), "chaos": report.chaos,
               "steps": len(report.steps)})
    return report


def _last_attempts(steps: list[dict[str, Any]], wf: Workflow) -> list[dict[str, Any]]:
    if wf.fn is not None or not wf.steps:
        return steps
    out: list[dict[str, Any]] = []
    i = 0
    for s in wf.steps:
        tries = steps[i:i + s.retries + 1]
        taken = next((k + 1 for k, t in enumerate(tries) if t["outcome"] != "error"),
                     len(tries))
        if not tries:
            return out + [{"outcome": "not run"}]
        out.append(tries[taken - 1])
        i += taken
    return out


def promote(wf: Workflow | str | Path, kb: Any, *, after: int = PROMOTE_AFTER,
            by: str = "human") -> dict[str, Any]:
    """Record ``workflow.promoted``, or raise :class:`UserError` saying why not."""
    wf = wf if isinstance(wf, Workflow) else load_workflow(wf)
    runs = [e.payload for e in kb.events(f"workflow:{wf.name}", kinds=["sandbox.run"])
            if e.payload.get("digest") == wf.digest]
    recent = runs[-after:]
    if len(recent) < after:
        raise UserError(f"workflow {wf.name} has {len(runs)} sandbox run(s) of this version; "
                        f"promotion needs {after} clean runs in a row")
    dirty = [r for r in recent if not r["clean"]]
    if dirty:
        raise UserError(f"workflow {wf.name}: {len(dirty)} of the last {after} sandbox runs "
                        f"were not clean (run {dirty[-1]['run_id']}: "
                        f"{', '.join(dirty[-1]['triggers']) or 'a step failed'})")
    payload = {"workflow": wf.name, "digest": wf.digest, "runs": [r["run_id"] for r in recent]}
    kb.record(f"workflow:{wf.name}", "workflow.promoted", by, payload)
    return payload
