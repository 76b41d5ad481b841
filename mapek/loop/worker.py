"""The worker: runs one session's graph in its own process.

``python -m mapek.loop.worker RUN_ID`` (the workspace comes from ``MAPEK_HOME``). It reads the
session's configuration from the ``run.started`` event, resumes from the last checkpoint if there
is one, and writes everything it does into the log. When the loop needs the human it records
``escalation.requested`` and waits for the answers to appear in the log, written by whichever
front end is attached. It ends with ``run.finished`` (or ``run.stopped`` / ``run.failed``).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapek.errors import (
    BudgetExceeded,
    CheckpointCorrupt,
    MapekError,
    ModelError,
    UnknownRunError,
)
from mapek.events import FINAL_KINDS  # the events a worker ends with: one definition
from mapek.loop.state import SessionConfig, initial_state
from mapek.models import EventDraft

if TYPE_CHECKING:
    from mapek.llm.model import Model
    from mapek.safety.tools import Tool

__all__ = ["run_session", "main", "load_config", "FINAL_KINDS"]


def load_config(kb: Any, run_id: str) -> SessionConfig:
    started = kb.events(run_id, kinds=["run.started"], limit=1)
    if not started:
        raise UnknownRunError(run_id)
    return SessionConfig.model_validate(started[0].payload["config"])


def _wait_for_replies(kb: Any, run_id: str, qids: list[str], after: int) -> dict[str, str | None]:
    """Block until every question of the batch is answered or deferred in the log.

    Replies written before the batch was published (``after``) count too: a question shows as
    escalated from ``question.escalated`` on, and a person may answer it while no worker waits
    (the run paused after that round, or between the trial and the rest of a half-open run);
    the worker that publishes the batch later must not wait for an answer already given."""
    replies: dict[str, str | None] = {}

    def take(ev: Any) -> None:
        qid = ev.payload.get("qid")
        if ev.kind == "answer" and ev.actor == "human" and qid in qids:
            replies.setdefault(qid, ev.payload.get("text") or None)
        elif ev.kind == "question.deferred" and qid in qids:
            replies.setdefault(qid, None)

    for ev in kb.events(run_id, kinds=["answer", "question.deferred"]):
        if ev.seq <= after:
            take(ev)
    if all(q in replies for q in qids):
        return replies
    for ev in kb.follow(run_id, after=after, poll=0.05):
        take(ev)
        if all(q in replies for q in qids):
            return replies
    return replies


def run_session(run_id: str, *, home: str | None = None, rounds: int | None = None,
                model: Model | None = None, watched: bool = False,
                tools: Sequence[Tool] | None = None) -> str:
    """Run (or resume) a session to its end, or for ``rounds`` rounds; returns the status.

    ``model`` (a :class:`~mapek.llm.Model`, a test double say) answers every agent's calls in
    place of the configuration's model string, persona overrides included; the session then
    runs in this process, as ``python -m mapek.loop.worker`` would run it.

    ``watched``: a watchdog guards this worker (``Session.start`` always starts one): SIGTERM
    stops it gracefully and it pauses before any model or tool call while no watchdog beats.

    The session's parts come from the runtime spec in its ``run.started`` event
    (:func:`mapek.runtime.build_runtime`). ``tools``: the user's tools as live objects, for a
    session run in the caller's process (``Session.create(..., in_process=True)``), in place of
    importing the spec's import strings.
    """
    from langgraph.types import Command

    from mapek.breaker.watchdog import screening_policy
    from mapek.config import Settings
    from mapek.knowledge import KnowledgeBase
    from mapek.knowledge.checkpoints import as_corrupt, open_checkpointer
    from mapek.knowledge.precedent import PrecedentBook
    from mapek.llm import Budget, Gateway
    from mapek.loop.context import LoopContext, TurnRecorder
    from mapek.loop.graph import build_graph
    from mapek.loop.rounds import RoundSaver
    from mapek.loop.scripts import install as install_scripts
    from mapek.loop.triage import QuestionTriager
    from mapek.runtime import build_runtime, spec_of_run

    settings = Settings(home=Path(home)) if home else Settings()
    ws = settings.workspace(create=False)
    with KnowledgeBase.open(ws) as kb:
        cfg = load_config(kb, run_id)
        started = kb.events(run_id, kinds=["run.started"], limit=1)[0]
        rt = build_runtime(spec_of_run(started.payload), kb=kb, run_id=run_id,
                           run_dir=ws.run_dir(run_id), personas_dir=settings.personas,
                           extra_tools=tools or ())
        personas, models = rt.personas, rt.models
        if model is not None:  # one model for every agent: no persona switches to its own
            personas = {n: p.model_copy(update={"model": None}) for n, p in personas.items()}
            models = {}
        install_scripts()
        budget = Budget(max_tokens=cfg.max_tokens, max_usd=cfg.max_usd)
        recorder = TurnRecorder(kb)
        gateway = Gateway(model or rt.spec.model, settings=settings, recorder=recorder,
                          run_id=run_id, budget=budget)
        ctx = LoopContext(run_id=run_id, kb=kb, gateway=gateway,
                          model=model.name if model is not None else rt.spec.model.name,
                          personas=personas, models=models, tools=rt.tools,
                          triager=rt.triager or QuestionTriager(
                              precedents=PrecedentBook(kb).lookup("triage")),
                          run_dir=ws.run_dir(run_id),
                          judge_unsure=True,
                          started_at=started.ts, screening=screening_policy(kb, run_id),
                          recorder=recorder)
        from mapek.partial import clear_partials

        clear_partials(ws.run_dir(run_id))  # a dead worker's turns in progress are not turns
        kb.record(run_id, "worker.started", "worker",
                  {"pid": os.getpid(), "host": socket.gethostname()})
        guard = _watched(ctx) if watched else None
        try:
            with open_checkpointer(settings, ws, run_id) as inner:
                # One checkpoint written per round (see mapek.loop.rounds), through the guard.
                saver = RoundSaver(guard.guard_saver(inner) if guard else inner)
                graph = build_graph(ctx, saver, pause_after_rounds=bool(rounds))
                thread = {"configurable": {"thread_id": run_id}}
                snap = graph.get_state(thread)
                inp: Any = None if snap.created_at else initial_state(run_id, cfg)
                if snap.created_at and snap.interrupts:
                    inp = Command(resume=_resume_value(kb, run_id, snap.interrupts[0]))
                pause = {"interrupt_after": ["analyse"]} if rounds else {}
                left = rounds or 0
                try:
                    while True:
                        try:
                            graph.invoke(inp, thread, durability="async", **pause)
                        finally:
                            saver.flush()  # the graph stopped: what it holds goes to disk
                        snap = graph.get_state(thread)
                        if snap.interrupts:
                            inp = Command(resume=_resume_value(kb, run_id, snap.interrupts[0]))
                            continue
                        if not snap.next:
                            break
                        left -= 1  # paused after a round's analysis
                        if left <= 0:
                            kb.record(run_id, "run.paused", "worker",
                                      {"status": "paused", "round": snap.values.get("round")})
                            return "paused"
                        inp = None
                except BudgetExceeded as exc:
                    kb.record(run_id, "run.stopped", "worker",
                              {"reason": str(exc), "budget": exc.budget, "limit": exc.limit,
                               "used": exc.used})
                    return "stopped"
                except (ModelError, MapekError) as exc:
                    kb.record(run_id, "run.failed", "worker",
                              {"reason": str(exc), "error": type(exc).__name__,
                               "resumable": True})
                    return "failed"
                status: str = graph.get_state(thread).values.get("status", "converged")
                kb.record(run_id, "run.finished", "worker",
                          {"status": status, "model_calls": ctx.model_calls,
                           "synthesis": str(ctx.run_dir / "synthesis.md")}, key="run.finished")
                return status
        except (sqlite3.DatabaseError, CheckpointCorrupt) as exc:
            corrupt = as_corrupt(exc, ws, run_id)
            if corrupt is None:
                raise
            kb.record(run_id, "run.failed", "worker",
                      {"reason": str(corrupt), "error": "CheckpointCorrupt",
                       "path": corrupt.path, "resumable": True})
            return "failed"
        finally:
            ctx.close()
            # the vector index may lag the log: the next catch-up, or a search, covers it
            kb.close(flush=False)


def _wait_for_approvals(kb: Any, run_id: str, ids: list[str], after: int
                        ) -> dict[str, bool | str]:
    """Block until the human approved or refused every call of the batch in the log (a call in
    doubt may also be answered ``"happened"``), or a front end's policy refused it (actor
    ``policy``: a front end with nobody behind it, never approving)."""
    out: dict[str, bool | str] = {}
    for ev in kb.follow(run_id, after=after, poll=0.05):
        cid = ev.payload.get("call_id")
        if ev.kind == "approval" and ev.actor == "policy" and cid in ids:
            out.setdefault(cid, False)
        elif ev.kind == "approval" and ev.actor == "human" and cid in ids:
            out.setdefault(cid, "happened" if ev.payload.get("happened")
                           else bool(ev.payload.get("approved")))
        if all(i in out for i in ids):
            break
    return out


def _resume_value(kb: Any, run_id: str, intr: Any) -> Any:
    """Publish an interrupt as ``escalation.requested`` or ``approval.requested`` (once) and
    wait for the replies. A batch the log already holds a request for (a run rebuilt from its
    log meets its interrupts again, under new ids) is not published twice: its replies are
    read from that request on."""
    if "approvals" in intr.value:
        reqs = intr.value["approvals"]
        ids = [r["call_id"] for r in reqs]
        asked = _asked_before(kb, run_id, "approval.requested", ids)
        if asked is not None:
            return _wait_for_approvals(kb, run_id, ids, after=asked)
        ev = kb.append(EventDraft(run_id=run_id, kind="approval.requested", actor="screen",
                                  payload={"approvals": reqs, "interrupt": intr.id},
                                  key=f"interrupt:{intr.id}"))
        return _wait_for_approvals(kb, run_id, [r["call_id"] for r in reqs], after=ev.seq)
    qs = intr.value["questions"]
    qids = [q["qid"] for q in qs]
    asked = _asked_before(kb, run_id, "escalation.requested", qids)
    if asked is not None:
        return _wait_for_replies(kb, run_id, qids, after=asked)
    ev = kb.append(EventDraft(run_id=run_id, kind="escalation.requested", actor="observer",
                              payload={"questions": qs, "interrupt": intr.id},
                              key=f"interrupt:{intr.id}"))
    return _wait_for_replies(kb, run_id, qids, after=ev.seq)


WARM_IMPORTS = ("langgraph.graph", "langgraph.types", "langgraph.checkpoint.sqlite",
                "mapek.loop.graph", "mapek.loop.rounds", "mapek.knowledge.checkpoints",
                "mapek.runtime", "mapek.breaker.watchdog", "mapek.breaker.guard",
                "mapek.loop.triage")
"""What a waiting worker (``--serve``) imports before its run arrives."""


def serve(lines: Any = None) -> int:
    """``python -m mapek.loop.worker --serve``: import what a worker needs, then read the run
    from standard input (one JSON line, :func:`mapek.warm.hand_over`) and run it; after a
    pause (``rounds``), read the next line (``{"rounds": N}``) and go on in this process. The
    end of standard input ends it. Exit codes as :func:`main`."""
    import importlib
    import json

    from mapek.breaker.guard import WorkerStopped
    from mapek.private import use_private_umask

    use_private_umask()  # as every worker: its files in the workspace are 0600
    failed = _warm_imports(importlib)  # kept for the run's log: nobody reads this process's
    lines = lines if lines is not None else iter(sys.stdin.buffer.readline, b"")
    first = next(lines, b"")
    if not first.strip():
        return 0  # nobody needed it
    order = json.loads(first)
    _take_order(order)
    if failed and (failed := _warm_imports(importlib)):  # again, in the run's environment
        print(f"mapek worker: error: a worker's imports failed:\n{failed}", file=sys.stderr)
        return 1
    run_id, home, watched = order["run_id"], order["home"], bool(order["watched"])
    rounds: int | None = order.get("rounds")
    try:
        return _serve_run(run_id, home, rounds, watched, lines)
    except WorkerStopped:  # as in main: the last checkpoint stands. Also when the signal lands
        sys.stdout.flush()  # between two steps, outside the session (exit 143, not a crash)
        sys.stderr.flush()
        os._exit(143)


def _serve_run(run_id: str, home: str | None, rounds: int | None, watched: bool, lines: Any) -> int:
    """Run ``run_id``, pausing after ``rounds`` and reading the next order from ``lines``."""
    import json

    while True:
        try:
            status = run_session(run_id, home=home, rounds=rounds, watched=watched)
        except MapekError as exc:
            print(f"mapek worker: error: {exc}", file=sys.stderr)
            return exc.exit_code
        if status != "paused":
            _export_trace(run_id, home)
            return 0 if status != "failed" else 1
        sys.stdout.flush()
        line = next(lines, b"")
        if not line.strip():
            return 0  # the front end is gone or closed: paused, resumable
        rounds = json.loads(line).get("rounds")


def _warm_imports(importlib: Any) -> str | None:
    """Import what a worker needs; the traceback of the first failure, or None."""
    import traceback

    for name in WARM_IMPORTS:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - reported in the run's log once it is known
            return traceback.format_exc()
    return None


def _export_trace(run_id: str, home: str | None) -> None:
    """The run ended: its trace, where ``MAPEK_OTLP_ENDPOINT`` says (a started or a waiting
    worker alike)."""
    from mapek.config import Settings
    from mapek.otel import export_if_configured

    export_if_configured(Settings(home=Path(home)) if home else Settings(), run_id, who="worker")


def _take_order(order: dict[str, Any]) -> None:
    """Become the worker of the order's run: its environment, folder and log file."""
    env = order.get("env") or {}
    os.environ.clear()
    os.environ.update(env)
    for entry in reversed([p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    if order.get("cwd"):
        try:
            os.chdir(order["cwd"])
        except OSError:
            pass
    log = os.open(order["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)


def _asked_before(kb: Any, run_id: str, kind: str, ids: list[str]) -> int | None:
    """The seq of a ``kind`` request already in the log for exactly the batch ``ids`` (call ids
    or question ids), or None."""
    for ev in kb.events(run_id, kinds=[kind]):
        items = ev.payload.get("approvals" if kind == "approval.requested" else "questions")
        got = [str(i.get("call_id" if kind == "approval.requested" else "qid"))
               for i in items or [] if isinstance(i, dict)]
        if sorted(got) == sorted(ids):
            return int(ev.seq)
    return None


def main(argv: list[str] | None = None) -> int:
    """``python -m mapek.loop.worker RUN [--home H] [--rounds N] [--watched]``: run one
    session's graph; 0 when it ended, 1 when it failed, 143 when its watchdog stopped it.
    ``python -m mapek.loop.worker --serve``: a waiting worker (see :func:`serve`)."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--serve"]:
        return serve()
    import typer

    from mapek._entry import run_program

    def worker(
        run_id: str = typer.Argument(..., metavar="RUN", help="The run."),
        home: str | None = typer.Option(None, "--home",
                                        help="The workspace (default MAPEK_HOME)."),
        rounds: int | None = typer.Option(None, "--rounds",
                                          help="Pause after this many rounds."),
        watched: bool = typer.Option(False, "--watched", help="A watchdog guards this worker."),
    ) -> int:
        """Run one session's graph, from its last checkpoint."""
        from mapek.breaker.guard import WorkerStopped

        try:
            status = run_session(run_id, home=home, rounds=rounds, watched=watched)
        except MapekError as exc:
            print(f"mapek worker: error: {exc}", file=sys.stderr)
            return exc.exit_code
        except WorkerStopped:  # the watchdog stopped it: the last checkpoint stands, nothing more
            # The log and checkpoints are committed and closed by now; skip the interpreter's
            # shutdown, where litellm's logging threads are joined (seconds, past the grace).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(143)
        if status != "paused":
            _export_trace(run_id, home)
        return 0 if status not in ("failed",) else 1

    return run_program(worker, argv, prog="mapek-worker")


def _watched(ctx: Any) -> Any:
    """Hook the breaker's worker guard into a context: graceful SIGTERM, no log write after it,
    and the dead man's switch before every model and tool call."""
    from mapek.breaker.guard import GuardedGateway, WorkerGuard, spawn_watchdog
    from mapek.breaker.watchdog import heartbeat_path
    from mapek.config import Settings

    home = ctx.run_dir.parent.parent  # <home>/runs/<run>
    guard = WorkerGuard(heartbeat_path(ctx.run_dir),
                        on_pause=lambda kind, p: ctx.record(kind, "worker", p),
                        respawn=lambda: spawn_watchdog(ctx.run_id, os.getpid(), home,
                                                       ctx.run_dir),
                        respawn_after=Settings().watchdog_respawn).install()
    guard.guard_kb(ctx.kb)
    ctx.gateway = GuardedGateway(ctx.gateway, guard)
    guard.wrap_tools(ctx.tools)
    return guard


if __name__ == "__main__":
    sys.exit(main())
