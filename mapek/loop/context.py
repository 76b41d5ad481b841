"""What the loop's nodes run against: the knowledge base, the model gateway, personas and tools.

Every write goes through :meth:`LoopContext.record` with a key derived from the run's durable
identity (round, persona, question id), so a node re-run after a crash or an interrupt finds its
events already in the log and does not write them twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from mapek.errors import VectorIndexError
from mapek.models import Event, EventDraft, Persona
from mapek.safety.policy import ScreeningPolicy
from mapek.safety.tools import ToolRegistry

if TYPE_CHECKING:
    from mapek.knowledge import KnowledgeBase
    from mapek.llm import Gateway

__all__ = ["LoopContext", "TurnRecorder"]

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")
A = TypeVar("A")


class TurnRecorder:
    """The gateway's recorder for a session (``Recorder``): an ``llm.call`` event is written at
    once, except a successful one made in a thread that :meth:`holds <hold>` (a persona turn),
    which waits to be written with the turn's ``message`` in one transaction
    (:meth:`LoopContext.record` with ``before=``). So a turn is one durable write, and a worker
    killed between the call and its message leaves neither: the resumed run asks again, and
    the log shows one call for the one turn it kept. Failed and retried attempts are written
    at once (no message follows them), and so are held calls whose turn fails."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._local = threading.local()

    def __call__(self, run_id: str, kind: str, actor: str,
                 payload: dict[str, Any]) -> Event | None:
        held: list[EventDraft] | None = getattr(self._local, "held", None)
        draft = EventDraft(run_id=run_id, kind=kind, actor=actor, payload=payload)
        if held is not None and kind == "llm.call" and payload.get("outcome") == "ok":
            held.append(draft)
            return None
        return self.kb.append(draft)

    @contextmanager
    def hold(self) -> Iterator[list[EventDraft]]:
        """Hold this thread's successful ``llm.call`` records in the list yielded; if the block
        fails they are written before the error goes on."""
        held: list[EventDraft] = []
        self._local.held = held
        try:
            yield held
        except BaseException:
            self._local.held = None
            if held:
                try:
                    self.kb.record_many(held)
                except Exception:  # noqa: BLE001 - the log fails too: the first error goes on
                    pass
                held.clear()
            raise
        finally:
            self._local.held = None


@dataclass
class LoopContext:
    """The session's dependencies, shared by every node."""

    run_id: str
    kb: KnowledgeBase
    """The :class:`~mapek.knowledge.KnowledgeBase`."""
    gateway: Gateway
    """The :class:`~mapek.llm.ModelGateway`, already bound to a budget."""
    model: str
    personas: dict[str, Persona]
    tools: ToolRegistry
    triager: Any
    """The observer's :class:`~mapek.loop.triage.QuestionTriager`."""
    run_dir: Path
    judge_unsure: bool = True
    """Spend a model call on the questions the rules are unsure of (and only on those)."""
    started_at: float = field(default_factory=time.time)
    screening: ScreeningPolicy = field(default_factory=ScreeningPolicy)
    """What each failed screening check does: the session's policy file, ``screening``."""
    models: dict[str, Any] = field(default_factory=dict)
    """Persona name to its own :class:`~mapek.llm.spec.ModelSpec` (the runtime spec's
    per-persona overrides), over a persona file's ``model``."""
    model_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)
    tool_prompts: dict[str, tuple[list[dict[str, Any]], list[str], Persona]] = field(
        default_factory=dict, repr=False)
    """Per persona: its tool cards and their prompt lines, made on its first turn
    (:func:`mapek.loop.execute.tool_cards`), with the persona they were made for."""
    answers: Any = field(default=None, repr=False)
    """The run's answers to queued calls read so far (:mod:`mapek.loop.screen`)."""
    turns: Any = field(default=None, repr=False)
    """The run's turns seen by this process (:mod:`mapek.loop.transcript`)."""
    _noted: threading.local = field(default_factory=threading.local, repr=False)
    """Per thread: the records :meth:`note` holds for the current :meth:`batch`."""

    def map(self, fn: Callable[[A], R], items: Iterable[A], *, concurrent: bool = True
            ) -> list[R]:
        """``fn`` over ``items`` (a round's persona turns), in the order given. Concurrently
        when ``concurrent`` (their models wait on a network: :meth:`concurrent`): all but the
        last on threads kept for the session (starting threads each round cost milliseconds
        on a busy machine), the last in the calling thread meanwhile (a hand-over to a thread
        and back less per round); the first item to fail, in order, raises, once every item
        has finished (no turn is left running behind a failed node). Otherwise one after
        another in the calling thread, the first failure raising at once (nothing runs
        behind it): threads would only take turns on the interpreter, at about 0.3 ms per
        persona turn of hand-overs on 2 cores (``benchmarks/RESULTS.loop.md``)."""
        todo = list(items)
        if len(todo) <= 1 or not concurrent:
            return [fn(x) for x in todo]
        workers = len(todo) - 1
        if self._pool is None or self._pool._max_workers < workers:  # noqa: SLF001
            if self._pool is not None:
                self._pool.shutdown(wait=False)
            self._pool = ThreadPoolExecutor(max_workers=workers,
                                            thread_name_prefix=f"mapek-{self.run_id}")
        futures = [self._pool.submit(fn, x) for x in todo[:-1]]
        try:
            last = fn(todo[-1])
        except BaseException:
            wait(futures)
            for f in futures:  # an earlier item's error comes first, as in order
                f.result()
            raise
        wait(futures)
        return [f.result() for f in futures] + [last]

    def concurrent(self, actors: Iterable[str]) -> bool:
        """Whether the turns of ``actors`` gain from running at once: False only when every
        one of them is answered by the session's model and that model computes in this process
        (:attr:`mapek.llm.model.Model.concurrent`). A persona with a model of its own keeps
        its thread."""
        for actor in actors:
            persona = self.personas.get(actor)
            if actor in self.models or (persona is not None and persona.model
                                        and persona.model != self.model):
                return True
        return self.gateway.model.concurrent

    def close(self) -> None:
        """Let the session's threads go (the run ended or paused)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    @property
    def offline(self) -> bool:
        return self.model.startswith("mapek/")

    recorder: TurnRecorder | None = field(default=None, repr=False)
    """The gateway's recorder, when it holds a turn's model call for its message."""

    def record(self, kind: str, actor: str, payload: dict[str, Any], *, key: str | None = None,
               parent: int | None = None, before: list[EventDraft] | None = None) -> Event:
        """Append an event (idempotent by ``key``); ``before``: drafts written first, in the
        same transaction (a turn's held ``llm.call``). Records this thread :meth:`noted
        <note>` and has not written yet go first, in the same transaction."""
        draft = EventDraft(run_id=self.run_id, kind=kind, actor=actor, payload=payload,
                           parent=parent, key=key)
        noted = self._take_noted()
        with self._lock:
            if before or noted:
                return self.kb.record_many([*noted, *(before or []), draft],
                                           anchor_each=bool(before))[-1]
            return self.kb.append(draft)

    def note(self, kind: str, actor: str, payload: dict[str, Any], *, key: str | None = None,
             parent: int | None = None) -> None:
        """Record an event that the node does not read back: inside :meth:`batch` (every node
        runs in one) it is written with the node's other records in one transaction when the
        node returns, or before anything else this thread writes (a :meth:`record`, a model
        call), so the log's order is the order of the calls; outside a batch, at once. A
        worker killed before the batch is written loses the node's records together, and the
        node, replayed from the round's checkpoint, writes them again (each is keyed)."""
        draft = EventDraft(run_id=self.run_id, kind=kind, actor=actor, payload=payload,
                           parent=parent, key=key)
        pending: list[EventDraft] | None = getattr(self._noted, "drafts", None)
        if pending is not None:
            pending.append(draft)
            return
        with self._lock:
            self.kb.append(draft)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Collect this thread's :meth:`note` records for the block and write them in one
        transaction at its end (also when it fails: what was noted before the error is
        written, as when each was written at once)."""
        if getattr(self._noted, "drafts", None) is not None:  # nested: the outer one writes
            yield
            return
        self._noted.drafts = []
        try:
            yield
        except BaseException:
            try:
                self.write_noted()
            except Exception:  # noqa: BLE001 - the log fails too: the first error goes on
                pass
            raise
        else:
            self.write_noted()
        finally:
            self._noted.drafts = None

    def write_noted(self) -> None:
        """Write this thread's noted records now (one transaction), if there are any."""
        noted = self._take_noted()
        if noted:
            with self._lock:
                self.kb.record_many(noted)

    def _take_noted(self) -> list[EventDraft]:
        pending: list[EventDraft] | None = getattr(self._noted, "drafts", None)
        if not pending:
            return []
        out = list(pending)
        pending.clear()
        return out

    @contextmanager
    def holding(self) -> Iterator[list[EventDraft]]:
        """Hold the successful model calls of this block for :meth:`record`'s ``before``
        (see :class:`TurnRecorder`); without a recorder nothing is held."""
        if self.recorder is None:
            yield []
            return
        with self.recorder.hold() as held:
            yield held

    def find(self, key: str) -> Event | None:
        return self.kb.log.find(self.run_id, key)

    def search(self, query: str, **filters: Any) -> list[Any]:
        """Semantic search; a failing index degrades to no results, never to a failed turn."""
        try:
            with self._lock:
                return list(self.kb.search(query, **filters))
        except VectorIndexError:
            return []

    def ask(self, schema: type[T], messages: list[dict[str, str]], *, task: str,
            context: dict[str, Any], actor: str,
            on_text: Callable[[str], object] | None = None) -> T:
        """An instance of ``schema`` from ``actor``'s model. ``on_text`` gets the answer's
        ``text`` field so far as the model streams it (``""``: it starts over, a retry)."""
        self.write_noted()  # the call's record comes after what the node noted before it
        persona = self.personas.get(actor)
        gateway = self.gateway
        own = self.models.get(actor)
        if own is not None:
            gateway = gateway.using(own)
        elif persona is not None and persona.model and persona.model != self.model:
            gateway = gateway.using(persona.model)
        with self._lock:
            self.model_calls += 1
        if on_text is None:
            return gateway.structured(messages, schema, run_id=self.run_id, actor=actor,
                                      task=task, context=context)
        from mapek.llm.stream import FieldStream

        return gateway.structured(messages, schema, run_id=self.run_id, actor=actor, task=task,
                                  context=context, on_delta=FieldStream(on_text))

    def judge_question(self, text: str, topic: str) -> Any:
        from mapek.loop.schemas import TriageJudgement

        return self.ask(TriageJudgement, [
            {"role": "system", "content": "You are the observer of a peer discussion. Decide "
             "whether a question needs the human's judgement (consequential: irreversible, "
             "money, legal, the human's preferences, approval, external commitments, safety, "
             "strategy, private information) or can be settled by the peers (trivial)."},
            {"role": "user", "content": f"Topic: {topic}\nQuestion: {text}"},
        ], task="triage_judge", context={"text": text, "topic": topic}, actor="observer")
