"""The public Python API: :class:`Session`.

A session's graph runs in a worker process; this object is a front end. It starts the worker,
follows the log to show progress, and writes the human's answers and interjections into the log.
It holds no state the log does not hold, so any number of front ends can attach to one run.

::

    from mapek import Session

    s = Session.create("Should we open an office in Berlin?", personas=["cfo", "legal", "skeptic"])
    result = s.run(answer=lambda q: "Yes, up to 100k")   # or s.step(), s.stream(), s.pending()
    print(result.synthesis["decisions"])
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapek.config import Settings, Workspace
from mapek.errors import ConfigError, UserError
from mapek.events import ApprovalRequested, typed_as
from mapek.fold import STATUS_KINDS, RunFold
from mapek.loop.human import HumanChannel, PolicyChannel, PolicyRefusal, ProgrammaticChannel
from mapek.loop.questions import QuestionRecord, check_answerable, fold_questions
from mapek.loop.state import HumanMode, SessionConfig
from mapek.loop.worker import FINAL_KINDS  # the events a worker ends with: one definition
from mapek.models import Event, Persona
from mapek.private import open_private, private_file

if TYPE_CHECKING:
    from mapek.knowledge import KnowledgeBase
    from mapek.runtime import RuntimeSpec
    from mapek.safety.tools import Tool

__all__ = ["Session", "SessionResult", "FINAL_KINDS", "runs_table", "synthesis_markdown"]



@dataclass
class SessionResult:
    """How a run ended, read back from the log."""

    run_id: str
    status: str
    """``created`` (not started), ``running``, ``converged``, ``stalled``, ``max_turns``,
    ``stopped`` (a limit), ``failed``, ``paused``, ``tripped`` (the watchdog's breaker stopped
    it; ``reason`` says which policy; review and resume it), ``died`` (the worker exited
    without a final event: resume it), or ``paused: no watchdog`` (the worker has waited longer
    than ``Settings.orphan_after`` with no watchdog: ``resume`` takes it over)."""
    reason: str = ""
    synthesis: dict[str, Any] = field(default_factory=dict)
    synthesis_path: Path | None = None
    events: int = 0

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(f"<li>{escape(str(d))}</li>" for d in self.synthesis.get("decisions", []))
        return (f"<b>run {escape(self.run_id)}</b>: {escape(self.status)} "
                f"({self.events} events)<br>{escape(self.synthesis.get('summary', self.reason))}"
                f"<ul>{rows}</ul>")


@dataclass
class _Live:
    """An in-process session's objects, used as they are."""

    tools: list[Tool]
    model: Any = None
    """A :class:`~mapek.llm.model.Model` object (a test double, say), or None."""


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


class Session:
    """One discussion, running or finished, seen through the log."""

    def __init__(self, run_id: str, workspace: Workspace, *, settings: Settings | None = None,
                 channel: HumanChannel | None = None) -> None:
        from mapek.knowledge import KnowledgeBase

        self.run_id = run_id
        self.workspace = workspace
        self.settings = settings or Settings(home=workspace.root)
        # A front end only follows and writes; the worker keeps the vector index up to date, so
        # the front end never takes the embedded index's lock away from it.
        self.kb = KnowledgeBase.open(workspace, settings=self.settings, index_on_record=False)
        self.channel = channel
        self._proc: subprocess.Popen[bytes] | None = None
        self._dog: subprocess.Popen[bytes] | None = None
        """The worker's watchdog process, when this front end started the worker."""
        self._live: _Live | None = None
        """An in-process session's objects (its tools and model, as they are)."""
        self._thread: threading.Thread | None = None
        """An in-process session's graph, running in this process."""
        self._keeper: Any = None
        """Restarts this front end's watchdog when it exits under a live worker."""
        self._idle = False
        """This front end's worker recorded ``run.paused`` and waits for its next step
        (:mod:`mapek.warm`): alive, but not running the graph."""

    # -- creating and attaching ------------------------------------------------------------

    @classmethod
    def create(cls, topic: str, personas: Sequence[str | Persona] | None = None, *,
               tools: Sequence[Any] = (), mcp: Sequence[Any] = (), model: Any = None,
               api_base: str | None = None, persona_models: dict[str, Any] | None = None,
               max_turns: int = 24, time_limit: float | None = None,
               max_tokens: int | None = None, max_usd: float | None = None,
               human: HumanMode | HumanChannel = "interactive", escalation_budget: int = 3,
               speakers_per_round: int = 2, personas_dir: str | Path | None = None,
               home: str | Path | None = None, policy: str | Path | None = None,
               notifiers: Sequence[Any] = (), builtin_tools: bool = True,
               triager: Any = None, in_process: bool = False,
               run_id: str | None = None) -> Session:
        """Validate and record a new session (``run.started``, with its runtime spec);
        :meth:`run` starts it. Nothing is written when anything is wrong.

        ``personas``: names from the library, :class:`~mapek.models.Persona` objects, or both.
        ``tools``: your tools (``@tool`` functions, registries, lists or factories of them, at
        module level; or ``package.module:name`` strings) and MCP servers
        (:class:`~mapek.safety.mcp.MCPServer`, also accepted in ``mcp``). ``model``: a litellm
        string or a :class:`~mapek.llm.spec.ModelSpec` (``api_base`` sets the base URL of a
        string's server); ``persona_models``: a persona's own model, by name.
        ``policy``: the watchdog's breaker preset or YAML file (default ``default``); the
        session's limits are laid over it. ``notifiers``: import strings (or module-level
        objects) of notifiers run on a trip. ``triager``: the observer's question triager, in
        place of mapek's own (same: import string or module-level object). ``in_process``: run
        the graph in this process, with your objects as they are (a lambda or closure as a
        tool, a model object), at the price of the worker and watchdog processes.
        ``run_id``: the new run's id, chosen beforehand (a batch records it before the run
        exists); by default a fresh one. An id the log already has is refused."""
        from pydantic import ValidationError

        if not in_process:  # the worker's imports, meanwhile, in a process of its own
            from mapek.warm import prewarm

            prewarm()
        from mapek.llm.spec import ModelSpec
        from mapek.runtime import StorageSpec, build_runtime, spec_for

        settings = Settings(home=Path(home)) if home else Settings()
        pdir = personas_dir or settings.personas
        chosen = list(personas or ["cfo", "engineer", "skeptic", "legal"])
        bad = [p for p in chosen if not isinstance(p, str | Persona)]
        if bad:
            raise ConfigError(f"personas: {bad[0]!r} is neither a persona name nor a "
                              "mapek.Persona")
        channel = human if isinstance(human, HumanChannel) else None
        mode: HumanMode = channel.mode if channel else human  # type: ignore[assignment]
        live_model = None
        if in_process and model is not None and not isinstance(model, str) \
                and hasattr(model, "complete"):
            live_model, model = model, getattr(model, "name", None)
        if api_base is not None:
            if not isinstance(model, str | None):
                raise ConfigError("api_base goes with a model string; a ModelSpec carries its "
                                  "own api_base")
            model = ModelSpec(name=model or settings.model, api_base=api_base)
        spec, found = spec_for(
            personas=[p.strip() if isinstance(p, str) else p for p in chosen],
            tools=tools, mcp=mcp, model=model, default_model=ModelSpec.from_settings(settings),
            persona_models=persona_models, personas_dir=str(pdir) if pdir else None,
            notifiers=notifiers, policy=str(policy) if policy else None,
            builtin_tools=builtin_tools, triager=triager, in_process=in_process,
            storage=StorageSpec(log_url=settings.log_url, vector_url=settings.chroma_url))
        runtime = build_runtime(spec, extra_tools=found, personas_dir=pdir)
        try:
            cfg = SessionConfig(topic=topic, personas=list(runtime.personas),
                                model=spec.model.name, max_turns=max_turns,
                                time_limit=time_limit, max_tokens=max_tokens, max_usd=max_usd,
                                human=mode, escalation_budget=escalation_budget,
                                speakers_per_round=speakers_per_round,
                                personas_dir=str(pdir) if pdir else None)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ConfigError(f"{'.'.join(map(str, err['loc']))}: {err['msg']}") from None
        if live_model is None:
            for m in {spec.model, *spec.persona_models.values()}:
                _check_model(m.name)
        if policy and Path(policy).suffix in (".yaml", ".yml"):
            policy = Path(policy).resolve()  # a resume from another folder finds it too
            spec = spec.model_copy(update={"policy": str(policy)})
        breaker = {"policy": str(policy)} if policy else {}
        if policy:
            from mapek.breaker.policies import load_policy

            load_policy(policy)  # a bad file: ConfigError naming file and field; nothing opened
        session = cls(run_id or new_run_id(), settings.workspace(), settings=settings,
                      channel=channel or (PolicyChannel(mode) if mode != "interactive" else None))
        session._live = _Live(found, live_model) if in_process else None
        if run_id is not None and session.kb.log.last_seq(run_id):
            session.close()
            raise UserError(f"run {run_id} already exists")
        session.kb.record(session.run_id, "run.started", "human",
                          {"config": cfg.model_dump(), "text": cfg.topic, "breaker": breaker,
                           "runtime": spec.model_dump(mode="json")})
        session.kb.record(session.run_id, "topic", "human", {"text": cfg.topic})
        return session

    @classmethod
    def attach(cls, run_id: str, *, home: str | Path | None = None,
               channel: HumanChannel | None = None, tools: Sequence[Any] = (),
               model: Any = None) -> Session:
        """A front end on an existing run, running or finished. ``tools`` and ``model``: the
        objects an in-process session was created with, to resume it in this process."""
        from mapek.errors import UnknownRunError

        settings = Settings(home=Path(home)) if home else Settings()
        session = cls(run_id, settings.workspace(create=False), settings=settings,
                      channel=channel)
        if not session.kb.events(run_id, kinds=["run.started"], limit=1):
            session.close()
            raise UnknownRunError(run_id)
        if session.spec.in_process:
            from mapek.runtime import _as_tools

            live = [t for item in tools for t in _as_tools(item, "tools")]
            session._live = _Live(live, model)
        return session

    @property
    def spec(self) -> RuntimeSpec:
        """The runtime spec the run started with (:mod:`mapek.runtime`)."""
        from mapek.runtime import spec_of_run

        started = self.kb.events(self.run_id, kinds=["run.started"], limit=1)
        if not started:
            from mapek.errors import UnknownRunError

            raise UnknownRunError(self.run_id)
        return spec_of_run(started[0].payload)

    @property
    def config(self) -> SessionConfig:
        from mapek.loop.worker import load_config

        return load_config(self.kb, self.run_id)

    # -- the worker --------------------------------------------------------------------------

    def start(self, *, rounds: int | None = None) -> None:
        """Start the worker process (it resumes from the last checkpoint if there is one).

        The worker is a process started ahead of time where there is one
        (:mod:`mapek.warm`), else a new one; after ``rounds`` rounds it pauses and waits,
        so the next :meth:`step` (or :meth:`run`) goes on in the same process."""
        from mapek import warm

        if self._idle and self._proc is not None and self._taken_over(self._proc.pid):
            warm.release(self._proc)  # another front end's worker went on meanwhile
            self._proc = None
        if self._idle and self._proc is not None and warm.send_rounds(self._proc, rounds):
            self._idle = False  # the same worker, under the same watchdog, goes on
            return
        self._idle = False
        if self.is_running():
            raise UserError(f"run {self.run_id} already has a live worker")
        from mapek.knowledge.checkpoints import check_checkpoints

        check_checkpoints(self.settings, self.workspace, self.run_id)  # unreadable: say so
        if self.spec.in_process:
            self._start_in_process(rounds)
            return
        from mapek.breaker.watchdog import resolve_spec
        from mapek.runtime import load_tools

        resolve_spec(self.kb, self.run_id)  # a bad policy file: a clear error, no worker
        load_tools(self.spec.tools)  # a tool vanished or changed since: named here, no worker
        log = private_file(self.workspace.run_dir(self.run_id) / "worker.log")  # 0600
        root = str(self.workspace.root)
        env = {**os.environ, "MAPEK_HOME": root}

        def give(proc: subprocess.Popen[bytes]) -> bool:
            return warm.hand_over(proc, run_id=self.run_id, home=root, rounds=rounds,
                                  watched=True, log=str(log), env=env)

        proc = warm.take_warm()
        if proc is None or not give(proc):
            # In its own session (as the waiting one): a Ctrl-C at the terminal reaches the
            # front end, which stops the worker in order, rather than killing it mid-write.
            proc = warm.spawn_serving()
            if not give(proc):
                raise UserError(f"the worker of run {self.run_id} exited at once; see {log}")
        self._proc = proc
        self._start_watchdog()

    def _taken_over(self, pid: int) -> bool:
        """Another worker started on this run since this front end's paused one (a resume
        from another front end): the paused one must not go on from where it stood."""
        started = self.kb.events(self.run_id, kinds=["worker.started"])
        return bool(started) and started[-1].payload.get("pid") != pid

    def _start_in_process(self, rounds: int | None) -> None:
        """Run the graph in a thread of this process, with the session's objects as they are;
        this front end follows the log as it follows a worker."""
        from mapek.loop.worker import run_session

        live = self._live or _Live([], None)
        home = str(self.workspace.root)

        def work() -> None:
            try:
                status = run_session(self.run_id, home=home, rounds=rounds, model=live.model,
                                     tools=live.tools or None)
                if status != "paused":
                    from mapek.otel import export_if_configured

                    export_if_configured(self.settings, self.run_id, who="session")
            except Exception as exc:  # noqa: BLE001 - recorded: the front end reads the log
                self.kb.record(self.run_id, "run.failed", "worker",
                               {"reason": str(exc), "error": type(exc).__name__,
                                "resumable": True})

        self._thread = threading.Thread(target=work, name=f"mapek-{self.run_id}", daemon=True)
        self._thread.start()

    def _start_watchdog(self) -> None:
        """The worker's watchdog, in its own process (and its own session: a Ctrl-C at the
        terminal does not take the guard away)."""
        assert self._proc is not None
        log = open_private(self.workspace.run_dir(self.run_id) / "watchdog.log")
        self._dog = subprocess.Popen(
            [sys.executable, "-m", "mapek.breaker.watchdog", self.run_id, "--pid",
             str(self._proc.pid), "--home", str(self.workspace.root)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        if self._keeper is None:
            from mapek.breaker.orphans import WatchdogKeeper

            self._keeper = WatchdogKeeper(self.workspace.run_dir(self.run_id),
                                          self._start_watchdog)
        self._keeper.started()

    def _watchdog_busy(self, worker_dead: bool) -> bool:
        """True while this front end's watchdog still runs after its worker ended. A watchdog
        that died under a live worker is started again (the worker waits for it meanwhile)."""
        dog = self._dog
        if dog is None:
            return False
        code = dog.poll()
        if code is None:
            return worker_dead
        if not worker_dead and self._keeper.check(code):  # any exit but a trip's
            assert self._dog is not None
            self.kb.record(self.run_id, "watchdog.restarted", "system", {
                "by": "front end", "exit_code": code, "pid": self._dog.pid,
                "text": f"the watchdog exited ({code}) under a live worker: a new one started"})
        return False

    def is_running(self) -> bool:
        if self._thread is not None:
            return self._thread.is_alive()
        if self._proc is not None:
            return self._proc.poll() is None and not self._idle
        started = self.kb.events(self.run_id, kinds=["worker.started"])
        final = self._final()
        if not started or final is not None and final.seq > started[-1].seq:
            return False
        from mapek.breaker.watchdog import process_alive

        try:
            pid = int(started[-1].payload["pid"])
        except (KeyError, TypeError, ValueError):
            return False
        return process_alive(pid)  # a killed worker not yet reaped (a zombie) is not running

    def stop(self, reason: str = "stopped by the human", grace: float = 5.0) -> None:
        """Stop the worker: SIGTERM, then SIGKILL after ``grace`` seconds. Resumable. Only the
        session that started the worker stops it this way (:attr:`owns_worker`); another's is
        stopped by tripping its breaker (``mapek trip RUN``), and asking here says so."""
        self._refuse_unowned("stop")
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self.kb.record(self.run_id, "run.stopped", "human", {"reason": reason})

    def kill(self) -> None:
        """Stop the worker at once (SIGKILL). The run stays resumable from its last checkpoint.
        Only the session that started the worker (see :meth:`stop`)."""
        self._refuse_unowned("kill")
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def _refuse_unowned(self, what: str) -> None:
        """A live worker this session did not start is not this session's to signal: one
        clear error naming the way that does stop it, rather than doing nothing quietly."""
        if self._proc is None and self._thread is None and self.is_running():
            raise UserError(f"cannot {what} run {self.run_id} from here: its worker was started "
                            f"by another front end; trip its breaker instead (`mapek trip "
                            f"{self.run_id} --reason ...`): its watchdog stops it")

    def _final(self) -> Event | None:
        finals = self.kb.events(self.run_id, kinds=list(FINAL_KINDS))
        started = self.kb.events(self.run_id, kinds=["worker.started"])
        if finals and (not started or finals[-1].seq > started[-1].seq):
            return finals[-1]
        return None

    # -- following ---------------------------------------------------------------------------

    def history(self, after: int = 0) -> list[Event]:
        """The run's events after ``after``, in log order (:class:`~mapek.models.Event`)."""
        return self.kb.events(self.run_id, after=after)

    def events(self, after: int = 0) -> Any:
        """The run's events after ``after`` as a pandas DataFrame, one row an event: ``seq``,
        ``time`` (UTC), ``t`` (seconds since the run's first event), ``kind``, ``actor``,
        ``round``, ``text``, the model calls' ``tokens`` and ``usd``, ``parent`` and the
        ``payload`` (needs pandas: ``pip install 'mapek[notebook]'``; :meth:`history` gives the
        events themselves)."""
        from mapek.notebook import events_frame

        return events_frame(self.kb.events(self.run_id, after=after))

    def stream(self, after: int = 0, *, answer: bool = True) -> Iterator[Event]:
        """Every event from ``after`` on, as it is committed, until the run ends or its worker
        dies. Escalations are put to the session's human channel when ``answer`` is true."""
        done = False

        def stop() -> bool:
            if done:
                return True
            if self._idle:  # paused, waiting for its next step: what is logged is all
                return not self.kb.events(self.run_id, after=last, limit=1)
            dead = (self._proc.poll() is not None) if self._proc is not None \
                else not self.is_running()
            if self._watchdog_busy(dead):
                return False  # a trip is being recorded and notified: show it all
            return dead and not self.kb.events(self.run_id, after=last, limit=1)

        last = after
        last_kind = ""
        for ev in self.kb.follow(self.run_id, after=after, poll=0.05, stop=stop):
            last, last_kind = ev.seq, ev.kind
            yield ev
            if ev.kind == "escalation.requested" and answer and self.channel is not None:
                self._put_to_channel(ev)
            if ev.kind == "approval.requested" and answer and self.channel is not None:
                self._approve_via_channel(ev)
            if ev.kind in FINAL_KINDS:
                done = True
                break
        if done and self._proc is not None and last_kind == "run.paused" \
                and self._proc.poll() is None:
            self._idle = True  # it waits for the next step: Session.start sends it
        elif done and self._proc is not None:
            self._proc.wait(timeout=60)  # the worker is closing its files; let it finish
        if done and self._thread is not None:
            self._thread.join(timeout=60)

    def _put_to_channel(self, ev: Event) -> None:
        """Ask the channel the batch's questions still open; a question settled elsewhere (in
        another front end, before or while the person is asked) is said so, never an error."""
        assert self.channel is not None
        open_now = fold_questions(self.kb.events(self.run_id))
        batch = []
        for q in ev.payload["questions"]:
            rec = open_now.get(q["qid"])
            if rec is not None and rec.status not in ("answered", "deferred"):
                batch.append(q)
            elif rec is not None:
                self.channel.notify(f"{q['qid']} {_settled_how(rec)}; going on")
        if not batch:
            return
        with self._watching(ev.seq, {q["qid"] for q in batch}):
            replies = self.channel.ask(batch)
        for qid, text in replies.items():
            try:
                if text:
                    self.answer(qid, text)
                else:
                    self.defer(qid, "the human chose not to answer now")
            except UserError as exc:  # another front end was first: its answer stands
                self.channel.notify(f"{qid}: not recorded, it was settled elsewhere first "
                                    f"({exc}); going on")

    def _approve_via_channel(self, ev: Event) -> None:
        """Put the request's calls still waiting to the channel. A queued call the channel
        leaves alone waits in the log for ``mapek approve``; a channel's policy refusal is
        recorded with actor ``policy``; a call decided elsewhere first is said so."""
        assert self.channel is not None
        waiting = {r["call_id"] for r in self.pending_approvals()}
        asked = typed_as(ev, ApprovalRequested)
        if asked is None:
            return
        batch = [{**r.dump(), "queued": asked.queued} for r in asked.approvals
                 if r.call_id in waiting]
        final = self._final()
        if not batch or final is not None and final.seq > ev.seq and \
                final.kind == "run.finished":
            return  # decided elsewhere, or the run finished before this front end got here
        with self._watching(ev.seq, {r["call_id"] for r in batch}):
            decisions = self.channel.approve(batch)
        for cid, ok in decisions.items():
            try:
                if isinstance(ok, PolicyRefusal):
                    self._record_approval(cid, False, ok.why, actor="policy")
                elif ok == "happened":
                    self.approve(cid, happened=True)
                else:
                    self.approve(cid, bool(ok))
            except UserError as exc:  # decided elsewhere first, or the run ended meanwhile
                self.channel.notify(f"{cid}: not recorded ({exc}); going on")

    @contextmanager
    def _watching(self, after: int, keys: set[str]) -> Iterator[None]:
        """While the channel asks about ``keys`` (qids or call_ids), tell it of each one settled
        elsewhere (an answer, deferral or approval another front end wrote), or of the run's
        end, as the log shows them."""
        channel = self.channel
        assert channel is not None
        done = threading.Event()
        left = set(keys)
        proc = self._proc

        def gone() -> bool:
            return done.is_set() or proc is not None and proc.poll() is not None

        def watch() -> None:
            kinds = ["answer", "question.deferred", "approval", "breaker.tripped", *FINAL_KINDS]
            for e in self.kb.follow(self.run_id, after=after, kinds=kinds, poll=0.1, stop=gone):
                key = e.payload.get("qid") or e.payload.get("call_id")
                if key in left:
                    left.discard(key)
                    channel.settled(key, _event_how(e))
                elif e.kind not in ("answer", "question.deferred", "approval"):
                    for k in sorted(left):
                        channel.settled(k, f"was not settled here: the run stopped ({e.kind})")
                    return
            if not done.is_set():  # this front end's worker exited meanwhile
                for k in sorted(left):
                    channel.settled(k, "was not settled here: the worker exited; it stays open "
                                    f"(`mapek resume {self.run_id}`)")

        t = threading.Thread(target=watch, name=f"mapek-watch-{self.run_id}", daemon=True)
        t.start()
        try:
            yield
        finally:
            done.set()
            t.join(timeout=2)

    def run(self, answer: Callable[[dict[str, Any]], str | None] | None = None,
            *, on_event: Callable[[Event], None] | None = None,
            approve: Callable[[dict[str, Any]], bool] | None = None) -> SessionResult:
        """Start (or resume) the worker and follow it to the end. ``approve`` answers each
        destructive or external call the agents propose (its exact ``args``); without it,
        nothing of the kind is approved unless a channel asks a person."""
        if answer is not None or approve is not None:
            self.channel = ProgrammaticChannel(answer, approve)
        if self.channel is None and self.config.human == "interactive":
            from mapek.loop.human import TerminalChannel

            self.channel = TerminalChannel()
        after = self.kb.log.last_seq(self.run_id)
        if not self.is_running():
            self.start()
        for ev in self.stream(after):
            if on_event is not None:
                on_event(ev)
        return self.result()

    def step(self, rounds: int = 1) -> list[Event]:
        """Run ``rounds`` rounds of the loop in a worker, and return what they wrote."""
        after = self.kb.log.last_seq(self.run_id)
        self.start(rounds=rounds)
        return list(self.stream(after))

    def result(self) -> SessionResult:
        fold = RunFold.of(self.kb.events(self.run_id, kinds=list(STATUS_KINDS)), self.run_id)
        n = self.kb.log.last_seq(self.run_id)
        if fold.status == "tripped":
            return SessionResult(self.run_id, "tripped", fold.reason, events=n)
        if fold.status in ("created", "running"):
            if self.is_running():
                from mapek.breaker.orphans import ORPHAN_STATUS, orphaned_for

                paused = orphaned_for(self.kb, self.run_id, self.workspace.run_dir(self.run_id),
                                      after=self.settings.orphan_after)
                if paused is not None:
                    return SessionResult(self.run_id, ORPHAN_STATUS, f"paused {paused:.0f} s "
                                         "with no watchdog; `mapek resume "
                                         f"{self.run_id}` takes it over", events=n)
                return SessionResult(self.run_id, "running", events=n)
            if fold.status == "created" and self._proc is None and self._thread is None:
                return SessionResult(self.run_id, "created", "not started yet: call run() or "
                                     "step()", events=n)
            if fold.status == "created":  # started here, gone before it said so
                return SessionResult(self.run_id, "died", self._died_early(), events=n)
            return SessionResult(self.run_id, "died", "the worker exited without finishing; "
                                 f"resume with `mapek resume {self.run_id}`", events=n)
        path = self.workspace.root / "runs" / self.run_id / "synthesis.json"
        synthesis = json.loads(path.read_text()) if path.is_file() else {}
        return SessionResult(self.run_id, fold.status, fold.reason, synthesis,
                             path.with_suffix(".md") if path.is_file() else None, n)

    def _died_early(self) -> str:
        """Why a worker this front end started ended before ``worker.started``: its exit code
        and the last line of its ``worker.log``."""
        code = self._proc.poll() if self._proc is not None else None
        log = self.workspace.run_dir(self.run_id) / "worker.log"
        lines = log.read_text(errors="replace").strip().splitlines() if log.is_file() else []
        last = f": {lines[-1].strip()[:300]}" if lines else ""
        return (f"the worker exited{f' with code {code}' if code is not None else ''} before "
                f"it started the run{last}; see {log}, then `mapek resume {self.run_id}`")

    # -- the human ---------------------------------------------------------------------------

    def questions(self) -> dict[str, QuestionRecord]:
        return fold_questions(self.kb.events(self.run_id))

    def pending(self) -> list[QuestionRecord]:
        """Questions waiting for the human."""
        return [q for q in self.questions().values() if q.status == "escalated"]

    def answer(self, qid: str, text: str) -> Event:
        """Answer a question; the asker speaks first in the next round the loop plans."""
        if not text.strip():
            raise UserError("an answer must not be empty (use defer to set a question aside)")
        questions = self.questions()
        check_answerable(questions, qid)
        ev = self.kb.record(self.run_id, "answer", "human", {"qid": qid, "text": text.strip()})
        self._precedents().add(self.run_id, "triage", questions[qid].text, "consequential",
                                  note=text.strip(), source="answer", source_seq=ev.seq,
                                  key=f"precedent:answer:{ev.seq}")
        return ev

    def _precedents(self) -> Any:
        from mapek.knowledge.precedent import PrecedentBook

        return PrecedentBook(self.kb)

    def relabel(self, qid: str, note: str = "") -> Event:
        """Say the peers could have settled a question put to you: recorded (as
        ``question.relabelled``) and kept as a ``trivial`` precedent that a later session's
        triage may cite. The question stays open for an answer or a deferral."""
        questions = self.questions()
        if qid not in questions:
            raise UserError(f"no question {qid!r} in run {self.run_id}")
        ev = self.kb.record(self.run_id, "question.relabelled", "human",
                            {"qid": qid, "label": "trivial", "note": note.strip()})
        self._precedents().add(self.run_id, "triage", questions[qid].text, "trivial",
                                  note=note.strip(), source="question.relabelled",
                                  source_seq=ev.seq, key=f"precedent:relabel:{ev.seq}")
        return ev

    def defer(self, qid: str, note: str = "") -> Event:
        check_answerable(self.questions(), qid)
        return self.kb.record(self.run_id, "question.deferred", "human",
                              {"qid": qid, "note": note})

    def pending_approvals(self) -> list[dict[str, Any]]:
        """Destructive or external calls waiting for the human's approval: an interactive
        session's loop stops for them; a ``queue`` session goes on and runs an approved call in
        its next round."""
        fold = RunFold.of(self.kb.events(self.run_id, kinds=["approval.requested", "approval"]))
        return [w.request for w in fold.pending_approvals()]

    def approve(self, call_id: str, approved: bool = True, note: str = "", *,
                happened: bool = False) -> Event:
        """Approve (or refuse) one pending call, exactly as it was shown. For a call in doubt
        (the worker died during it; ``in_doubt`` in :meth:`pending_approvals`), approving runs
        it again, refusing leaves it not run and in doubt, and ``happened=True`` says it did
        happen: its result is recorded and it is not run again."""
        fold = RunFold.of(self.kb.events(self.run_id, kinds=["approval.requested", "approval"]))
        queued = {w.call_id for w in fold.pending_approvals() if w.queued}
        waiting = {w.call_id: w.request for w in fold.pending_approvals()}
        if call_id not in waiting:
            done = [e for e in self.kb.events(self.run_id, kinds=["approval"])
                    if e.payload.get("call_id") == call_id]
            if done:  # another front end (or person) was first: say who and how
                raise UserError(f"call {call_id!r} of run {self.run_id} {_event_how(done[0])}")
            raise UserError(f"no call {call_id!r} is waiting for approval in run {self.run_id}")
        final = self._final()
        if call_id in queued and (final is None or final.kind != "run.finished") and \
                self._screened_for_the_last_time():
            raise UserError(f"run {self.run_id} is finishing (its last screening has passed): "
                            f"call {call_id!r} was not run and cannot be now")
        if happened and not waiting[call_id].get("in_doubt"):
            raise UserError(f"call {call_id!r} is not in doubt: approve or refuse it")
        return self._record_approval(call_id, approved and not happened, note,
                                     happened=happened, call=waiting[call_id])

    def _screened_for_the_last_time(self) -> bool:
        """The run has planned its end, and no screening that could still settle a queued
        call is to come: a finishing plan, or a settling round already screened."""
        last = None
        for ev in self.kb.events(self.run_id, kinds=["plan", "screen.verdict"]):
            if ev.kind == "plan":
                last = ev.payload
            elif last is not None and last.get("settle") and \
                    ev.payload.get("round") == last.get("round"):
                return True
        return bool(last and last.get("finish"))

    def _record_approval(self, call_id: str, approved: bool, note: str, *,
                         happened: bool = False, actor: str = "human",
                         call: dict[str, Any] | None = None) -> Event:
        """An ``approval`` event for a call still waiting in a run that has not finished; a
        person's decision on ``call`` (as it was shown) is also kept as a precedent."""
        final = self._final()
        if final is not None and final.kind == "run.finished":
            raise UserError(f"run {self.run_id} has finished: call {call_id!r} was not run and "
                            "cannot be now")
        ev = self.kb.record(self.run_id, "approval", actor,
                            {"call_id": call_id, "approved": approved,
                             "happened": happened, "note": note})
        if call is not None and actor == "human" and not happened:  # a person's judgement
            from mapek.knowledge.precedent import call_text

            self._precedents().add(
                self.run_id, "screening",
                call_text(str(call.get("tool", "")), call.get("args") or {},
                          str(call.get("why") or call.get("reason") or "")),
                "allow" if approved else "deny", note=note, source="approval",
                source_seq=ev.seq, key=f"precedent:approval:{ev.seq}")
        return ev

    def grant(self, tool: str, *, justification: str, to: str = "session",
              ttl: float | None = None) -> Any:
        """Give write access to one tool, to one persona (``to``) or the whole session, for
        ``ttl`` seconds or until the run ends; recorded as a ``grant`` event. Destructive and
        external tools are never granted: each such call needs a person's approval."""
        from mapek.runtime import build_runtime
        from mapek.safety.gateway import ToolGateway

        personas = self.config.personas
        if to != "session" and to not in personas:
            raise UserError(f"cannot grant to {to!r}: not a persona of run {self.run_id} "
                            f"({', '.join(personas)}), nor 'session'")
        if ttl is not None and ttl <= 0:
            raise UserError(f"a grant's ttl is a number of seconds above 0; got {ttl:g}")
        live = self._live.tools if self._live is not None else ()
        tools = build_runtime(self.spec, kb=self.kb, run_id=self.run_id,
                              run_dir=self.workspace.run_dir(self.run_id),
                              personas_dir=self.settings.personas, extra_tools=live).tools
        return ToolGateway(tools, self.kb, self.run_id).grant(
            tool, justification=justification, to=to, ttl=ttl)

    def grants(self) -> list[Any]:
        """The run's write grants (:class:`~mapek.safety.grants.Grant`), oldest first."""
        from mapek.safety.grants import GrantBook

        return GrantBook.from_events(self.kb.events(self.run_id, kinds=["grant"])).grants

    def interject(self, text: str, to: str | None = None) -> Event:
        """Say something to the peers (or to one persona, ``to``, who then speaks next); it
        reaches them on the next round the loop plans."""
        if not text.strip():
            raise UserError("an interjection must not be empty")
        if to is not None and to not in self.config.personas:
            raise UserError(f"{to!r} is not in this session; its personas are "
                            f"{', '.join(self.config.personas)}")
        return self.kb.record(self.run_id, "interjection", "human",
                              {"text": text.strip()[:20000], "to": to})

    def review(self, *, raise_limits: dict[str, float] | None = None,
               disable: list[str] | None = None, enable: list[str] | None = None,
               reason: str, by: str | None = None) -> Event:
        """After a trip: raise a breaker limit (``{"tokens": 50000}``) or switch a policy off or
        on, recorded as ``breaker.override`` with who and why (``mapek resume --raise``)."""
        from mapek.breaker.review import record_override

        return record_override(self.kb, self.run_id, raise_limits=raise_limits,
                               disable=disable, enable=enable, reason=reason, by=by)

    def resume(self, *, trial: int | None = None,
               on_event: Callable[[Event], None] | None = None,
               from_log: bool = False) -> SessionResult:
        """Continue a stopped, failed, killed or tripped run from its last checkpoint.

        ``from_log``: rebuild the run from its event log instead (the checkpoint file is
        corrupt: it is moved aside; or it is sound: the run's checkpoints are dropped), recorded
        as ``checkpoint.discarded``. The worker replays the run's nodes against the log, which
        holds every turn, call and answer: each is read back, none asked for or written twice.

        After a trip the breaker is **half-open**: ``trial`` rounds (default 1; 0 skips the
        trial) run first in a worker of their own, under the watchdog. If they end without a new
        trip, ``breaker.closed`` is recorded and the rest of the run starts; if they trip again,
        the run stops there, still resumable, and the result says ``tripped``."""
        if trial is not None and trial < 0:
            raise UserError(f"a trial is a number of rounds, 0 or more; got {trial}")
        from mapek.breaker.orphans import take_over

        if self.is_running():  # an orphan (paused, no watchdog) is stopped in order first
            take_over(self.kb, self.run_id, self.workspace.run_dir(self.run_id),
                      after=self.settings.orphan_after)
        if self.is_running():
            raise UserError(f"run {self.run_id} already has a live worker")
        if from_log:
            from mapek.knowledge.checkpoints import discard_checkpoints

            what = discard_checkpoints(self.settings, self.workspace, self.run_id)
            ev = self.kb.record(self.run_id, "checkpoint.discarded", "system", {"text": what})
            if on_event is not None:
                on_event(ev)
        rounds = (1 if self.result().status == "tripped" else 0) if trial is None else trial
        if rounds:
            after = self.kb.log.last_seq(self.run_id)
            self.kb.record(self.run_id, "breaker.half_open", "human", {
                "trial_rounds": rounds,
                "text": f"half-open: a trial of {rounds} round(s) before the run continues"})
            self.start(rounds=rounds)
            for ev in self.stream(after):
                if on_event is not None:
                    on_event(ev)
            res = self.result()
            if res.status != "paused":  # tripped again, failed, or finished within the trial
                return res
            closed = self.kb.record(self.run_id, "breaker.closed", "human", {
                "trial_rounds": rounds,
                "text": f"the trial of {rounds} round(s) passed: the breaker is closed"})
            if on_event is not None:
                on_event(closed)
        return self.run(on_event=on_event)

    # -- async -------------------------------------------------------------------------------

    async def arun(self, answer: Callable[[dict[str, Any]], str | None] | None = None
                   ) -> SessionResult:
        return await asyncio.to_thread(self.run, answer)

    async def astream(self, after: int = 0) -> AsyncIterator[Event]:
        it = iter(self.stream(after))
        sentinel = object()
        while (ev := await asyncio.to_thread(next, it, sentinel)) is not sentinel:
            yield ev  # type: ignore[misc]

    # -- housekeeping ------------------------------------------------------------------------

    def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.stdin is not None and not proc.stdin.closed:
            try:
                proc.stdin.close()  # a paused worker ends; a running one ends when it pauses
            except OSError:
                pass
            if self._idle:
                try:
                    proc.wait(timeout=30)  # it closes its files (the index catches up)
                except subprocess.TimeoutExpired:
                    pass
        if self._dog is not None:  # it leaves by itself a tick after its worker; reap it
            try:
                self._dog.wait(timeout=2 if self._proc is None or self._proc.poll() is not None
                               else 0.01)
            except subprocess.TimeoutExpired:
                pass  # still guarding a live worker: leave it be
        self.kb.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _repr_html_(self) -> str:
        from mapek.notebook import session_html

        res = self.result()
        return session_html(self.run_id, res.status, res.reason, self.history(),
                            self.questions().values())

    # -- in a notebook -----------------------------------------------------------------------

    def plot(self) -> Any:
        """Tokens and cost over time (escalations and trips marked), positions by round, and
        escalations by round: a :class:`~mapek.notebook.Chart` that shows as an image in
        Jupyter (``.figure``: the matplotlib figure). Needs ``mapek[notebook]``."""
        from mapek.notebook import plot_run

        return plot_run(self.history())

    def graph(self) -> Any:
        """The MAPE-K loop's graph, drawn locally, with how many times each node ran in this
        run: a :class:`~mapek.notebook.GraphDrawing` (an image in Jupyter; ``.mermaid``: its
        Mermaid text). Needs ``mapek[notebook]``."""
        from mapek.notebook import draw_graph, node_visits

        return draw_graph(node_visits(self.history()))

    def live(self, answer: Callable[[dict[str, Any]], str | None] | None = None, *,
             approve: Callable[[dict[str, Any]], bool] | None = None,
             every: float = 1.0) -> SessionResult:
        """Run the session (or follow it, if another front end runs it) with a view in the
        notebook that updates as it goes, at most every ``every`` seconds: status, spend,
        turns, questions and the timeline. A run that has ended is shown as it is. Returns the
        result, as :meth:`run` does."""
        try:
            from IPython.display import display
        except ImportError:
            raise ConfigError("a live view needs IPython (run it in Jupyter): "
                              "pip install 'mapek[notebook]'") from None
        from mapek.notebook import SessionView

        history = self.history()
        status = self.result().status
        view = SessionView(self.run_id, history, status)
        handle = display(view, display_id=True)  # type: ignore[no-untyped-call]
        last = time.monotonic()

        def seen(ev: Event) -> None:
            nonlocal last
            history.append(ev)
            if ev.kind in FINAL_KINDS or ev.kind == "breaker.tripped":
                view.status = ev.payload.get("status") or ev.kind
            elif ev.kind == "worker.started":
                view.status = "running"
            if handle is not None and time.monotonic() - last >= every:
                handle.update(view)
                last = time.monotonic()

        after = history[-1].seq if history else 0
        if status == "running":
            for ev in self.stream(after):
                seen(ev)
            result = self.result()
        elif status in ("created", "paused"):
            result = self.run(answer, on_event=seen, approve=approve)
        else:
            result = self.result()
        view.status, view.reason = result.status, result.reason
        if handle is not None:
            handle.update(view)
        return result

    def __repr__(self) -> str:
        return f"Session({self.run_id!r}, home={str(self.workspace.root)!r})"

    # -- for front ends ----------------------------------------------------------------------

    @property
    def owns_worker(self) -> bool:
        """True when this object started the run's worker process, so that :meth:`stop` can
        pause it; a worker another front end (or an in-process run) started is stopped by
        tripping its breaker (``mapek trip``)."""
        return self._proc is not None


def runs_table(home: str | Path | None = None) -> Any:
    """Every session in the workspace (``MAPEK_HOME``, or ``home``) as a pandas DataFrame, one
    row a run, oldest first: status, topic, start, wall time, rounds, turns, model calls,
    tokens, USD, tool calls, questions, escalations, trips. Needs ``mapek[notebook]``."""
    from mapek.knowledge.base import open_log
    from mapek.notebook import runs_frame

    settings = Settings(home=Path(home)) if home else Settings()
    with open_log(settings.log_url, settings.workspace(create=False), create=False) as log:
        rows = []
        for info in log.runs():
            events = log.events(info.run_id)
            fold = RunFold.of(events, info.run_id)
            if fold.started is None:
                continue  # a workflow's or sandbox's log, not a session
            rows.append((info.run_id, events, fold.live_status()))
        return runs_frame(rows)


def _settled_how(q: QuestionRecord) -> str:
    """What became of a question settled before this front end asked it."""
    if q.status == "answered":
        return (f"was answered elsewhere (by {q.answered_by}, event #{q.answer_seq}): "
                f"{(q.answer_text or '')[:200]}")
    return "was deferred elsewhere"


def _event_how(e: Event) -> str:
    """What an answer, deferral or approval written elsewhere did, for the person asked."""
    if e.kind == "answer":
        return (f"was answered elsewhere (by {e.actor}, event #{e.seq}): "
                f"{str(e.payload.get('text', ''))[:200]}")
    if e.kind == "question.deferred":
        return f"was deferred elsewhere (event #{e.seq})"
    verdict = ("recorded as having happened" if e.payload.get("happened") else "approved"
               if e.payload.get("approved") else "refused")
    by = "by policy" if e.actor == "policy" else f"by the {e.actor}"
    return f"was {verdict} elsewhere ({by}, event #{e.seq})"


def _check_model(model: str) -> None:
    """Reject a model string litellm cannot route, before any worker starts."""
    from mapek.llm import LiteLLMModel

    m = LiteLLMModel(model)  # offline variants are checked here, at once
    if not m.offline:
        m._litellm()  # noqa: SLF001 - routes the string (imports litellm: seconds, real models only)


def synthesis_markdown(kb: KnowledgeBase, run_id: str) -> str | None:
    """The run's synthesis as Markdown, the text ``synthesis.md`` holds, from the log alone
    (None: the run has none yet). For front ends that show a run's outcome."""
    from mapek.events import RunStarted, typed_as
    from mapek.loop.synthesis import render_markdown

    done = kb.events(run_id, kinds=["synthesis"])
    if not done:
        return None
    ev = done[-1]
    data = dict(ev.payload.get("synthesis") or {})
    for key in ("decisions", "recommendations", "open_questions", "dissent"):
        data.setdefault(key, [])
    data.setdefault("summary", ev.payload.get("text", ""))
    started = kb.events(run_id, kinds=["run.started"], limit=1)
    p = typed_as(started[0], RunStarted) if started else None
    cfg = p.config if p is not None else None
    turns = len([e for e in kb.events(run_id, kinds=["message"]) if e.actor != "human"])
    model = cfg.model if cfg is not None else "?"
    header = {"topic": cfg.topic if cfg is not None else "", "run_id": run_id,
              "status": ev.payload.get("status", ""), "turns": turns, "model": model,
              "offline": model.startswith("mapek/")}
    return render_markdown(data, header)
