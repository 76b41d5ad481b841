"""One fold of a run's log: :class:`RunFold`, the figures every front end and check reads.

A run's status, its configuration, turns and rounds, model calls with their tokens and cost
(summed here, once, from ``llm.call``: per actor, per task and over time), tool calls by
outcome, questions and their status, approvals still waiting, breaker trips and the synthesis,
all from the log alone and updated in O(1) per event::

    fold = RunFold.of(kb.events(run_id))      # or fold = RunFold(); fold.add(ev) as they come
    fold.status, fold.spend.tokens, fold.spend.usd, fold.pending_approvals()

The watchdog's breaker state (:class:`mapek.breaker.policies.BreakerFold`), post-mortems,
decision summaries, ``mapek runs`` and the terminal app read these figures from a fold rather
than each summing payload fields of their own. A fold over only some kinds of a run (say the
approval kinds, read with ``kb.events(run, kinds=[...])``) is valid for the figures those kinds
make.

Questions fold as the log tells them:

=====================  ==========================================================
``question``           raised: ``qid``, ``text``, ``to`` (actor: who asked)
``question.triaged``   scored: ``qid``, ``label``, ``reason``, ``score``, ``source``
``question.routed``    sent to a peer: ``qid``, ``to``, ``why``
``question.escalated`` sent to the human: ``qids`` (one batch)
``question.deferred``  set aside: ``qid``, ``note``
``answer``             answered: ``qid``, ``text`` (actor: a persona or ``human``)
=====================  ==========================================================
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mapek.events import (
    FINAL_KINDS,
    Answer,
    Approval,
    ApprovalRequested,
    BreakerTripped,
    LLMCall,
    Payload,
    Plan,
    ProposedCall,
    Question,
    QuestionDeferred,
    QuestionEscalated,
    QuestionRouted,
    QuestionTriaged,
    RunConfig,
    RunFinished,
    RunStarted,
    Synthesis,
    ToolCall,
    WorkerStarted,
    typed,
)

if TYPE_CHECKING:
    from mapek.models import Event

__all__ = ["RunFold", "STATUS_KINDS", "Spend", "TimelinePoint", "Trip", "ApprovalWait",
           "QuestionRecord", "QuestionStatus", "QUESTION_KINDS", "ESCALATION_KINDS",
           "fold_questions"]

QuestionStatus = Literal["open", "routed", "escalated", "answered", "deferred"]
"""``open``: not yet handled; ``routed``: a peer is asked; ``escalated``: waiting for the human;
``answered``: has an answer event; ``deferred``: set aside with a note."""

QUESTION_KINDS = frozenset(
    {"question", "question.triaged", "question.routed", "question.escalated",
     "question.deferred", "answer"}
)

ESCALATION_KINDS = ("question.escalated", "approval.requested", "evidence.escalated",
                    "effect.in_doubt")
"""What puts something to the human: a question, a call to approve, evidence verifiers that
disagree, an effect the ledger cannot tell happened."""


@dataclass
class QuestionRecord:
    """Everything known about one question."""

    qid: str
    text: str
    asked_by: str
    to: str | None
    asked_seq: int
    status: QuestionStatus = "open"
    label: str | None = None
    """``consequential`` or ``trivial`` once triaged."""
    reason: str | None = None
    score: float | None = None
    routed_to: str | None = None
    answer_seq: int | None = None
    answer_text: str | None = None
    answered_by: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def consequential(self) -> bool:
        return self.label == "consequential"


def _fold_question(out: dict[str, QuestionRecord], ev: Event, p: Payload) -> None:
    """One question event into ``out`` (a record per qid, in the order raised)."""
    if isinstance(p, Question):
        out[p.qid] = QuestionRecord(p.qid, p.text, ev.actor, p.to, ev.seq)
        return
    if isinstance(p, QuestionEscalated):
        qids = p.qids
    elif isinstance(p, QuestionTriaged | QuestionRouted | QuestionDeferred | Answer) and p.qid:
        qids = [p.qid]
    else:
        return
    for qid in qids:
        q = out.get(qid)
        if q is None:
            continue
        if isinstance(p, QuestionTriaged):
            q.label, q.reason, q.score = p.label, p.reason, p.score
        elif isinstance(p, QuestionRouted) and q.status == "open":
            q.status, q.routed_to = "routed", p.to
        elif isinstance(p, QuestionEscalated) and q.status in ("open", "routed"):
            q.status = "escalated"
        elif isinstance(p, QuestionDeferred) and q.status != "answered":
            q.status = "deferred"
            q.notes.append(p.note)
        elif isinstance(p, Answer) and q.status != "answered":
            q.status, q.answer_seq = "answered", ev.seq
            q.answer_text, q.answered_by = p.text, ev.actor


def fold_questions(events: Iterable[Event]) -> dict[str, QuestionRecord]:
    """Every question of a run with its current status, in the order raised (only the
    question kinds are read)."""
    out: dict[str, QuestionRecord] = {}
    for ev in events:
        if ev.kind in QUESTION_KINDS:
            _fold_question(out, ev, typed(ev))
    return out


@dataclass
class Spend:
    """Model calls and what they cost: the one place ``llm.call`` figures are summed."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usd: float = 0.0
    ms: float = 0.0
    """Model time (the calls' latency)."""
    errors: int = 0
    """Calls that failed (``error``) or were retried (``retry``)."""

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens (:attr:`mapek.events.LLMCall.total_tokens`)."""
        return self.prompt_tokens + self.completion_tokens

    def add(self, call: LLMCall) -> None:
        self.calls += 1
        self.prompt_tokens += call.prompt_tokens
        self.completion_tokens += call.completion_tokens
        self.usd += call.cost_usd
        self.ms += call.latency_ms
        self.errors += call.failed

    def to_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "tokens": self.tokens,
                "usd": round(self.usd, 8), "ms": round(self.ms, 3), "errors": self.errors}


@dataclass(frozen=True)
class TimelinePoint:
    """The run's spend after one model call."""

    seq: int
    t: float
    """Seconds since the run's first event."""
    tokens: int
    """Cumulative tokens."""
    usd: float
    """Cumulative cost."""


@dataclass(frozen=True)
class Trip:
    """A ``breaker.tripped`` event."""

    seq: int
    ts: float
    policy: str
    reason: str
    threshold: Any = None
    observed: Any = None
    seqs: tuple[int, ...] = ()


@dataclass(frozen=True)
class ApprovalWait:
    """A call a human was asked to approve (``approval.requested``)."""

    seq: int
    call: ProposedCall
    queued: bool = False
    """Asked in a ``queue`` session: the run went on, and settles it in a later round."""

    @property
    def call_id(self) -> str:
        return self.call.call_id or ""

    @property
    def request(self) -> dict[str, Any]:
        """The request as it was recorded."""
        return self.call.dump()


STATUS_KINDS = ("run.started", "worker.started", *FINAL_KINDS, "breaker.tripped")
"""The kinds a run's status is folded from (``kb.events(run, kinds=STATUS_KINDS)``)."""

_READ = frozenset({"run.started", "worker.started", *FINAL_KINDS, "breaker.tripped", "llm.call",
                   "message", "plan", "tool.call", "approval.requested", "approval", "synthesis",
                   *QUESTION_KINDS, *ESCALATION_KINDS})
"""The kinds whose payloads a fold reads (others only count and move the clock)."""


class RunFold:
    """A run's figures, folded from its events in log order (``add``), O(1) per event."""

    def __init__(self, run_id: str | None = None) -> None:
        self.run_id = run_id
        self.events = 0
        """Events folded."""
        self.last_seq = 0
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self.started: RunStarted | None = None
        """The ``run.started`` payload (the configuration, the breaker policy)."""
        self.started_ts: float | None = None
        self.worker_pid: int | None = None
        """The pid of the run's last worker."""
        self.worker_seq: int | None = None
        """The seq of the last ``worker.started``."""
        self.workers = 0
        self.final: Event | None = None
        """The last event a worker ended with (:data:`mapek.events.FINAL_KINDS`)."""
        self.final_payload: Payload | None = None
        self.trips: list[Trip] = []
        self.turns = 0
        """Persona turns (``message`` events)."""
        self.messages_by: dict[str, int] = {}
        """Turns per persona."""
        self.rounds = 0
        """Rounds planned (plans that do not finish the discussion)."""
        self.round = 0
        """The last round planned."""
        self.spend = Spend()
        """Every model call of the run."""
        self.by_actor: dict[str, Spend] = {}
        self.by_task: dict[str, Spend] = {}
        self.timeline: list[TimelinePoint] = []
        """Cumulative tokens and cost after each model call."""
        self.tool_calls: dict[str, int] = {}
        """Tool calls by outcome (``ok``, ``error``, ``refused``...)."""
        self.escalations = 0
        """Things put to the human: questions, calls to approve, disputed evidence, effects in
        doubt (one per question or call)."""
        self.questions_escalated = 0
        """Questions put to the human (``question.escalated``)."""
        self.questions: dict[str, QuestionRecord] = {}
        self.approval_requests: dict[str, ApprovalWait] = {}
        """Every call a human was asked to approve, by call id (the latest request)."""
        self.approvals: dict[str, Approval] = {}
        """The human's answers, by call id."""
        self.synthesis: Synthesis | None = None
        self.synthesis_seq: int | None = None
        self.synthesis_path: str | None = None
        """``synthesis.md``, as ``run.finished`` names it."""

    @classmethod
    def of(cls, events: Iterable[Event], run_id: str | None = None) -> RunFold:
        """A fold of these events."""
        fold = cls(run_id)
        for ev in events:
            fold.add(ev)
        return fold

    # -- folding -------------------------------------------------------------------------------

    def add(self, ev: Event) -> Payload | None:
        """Fold one event (in log order); returns its typed payload when the fold read it."""
        if self.run_id is None:
            self.run_id = ev.run_id
        self.events += 1
        self.last_seq = max(self.last_seq, ev.seq)
        if self.first_ts is None:
            self.first_ts = ev.ts
        if self.last_ts is None or ev.ts > self.last_ts:
            self.last_ts = ev.ts
        k = ev.kind
        if k not in _READ:
            return None
        p = typed(ev)
        if k in QUESTION_KINDS:
            _fold_question(self.questions, ev, p)
        if k in ESCALATION_KINDS:
            if isinstance(p, QuestionEscalated):
                self.escalations += len(p.qids)
                self.questions_escalated += len(p.qids) or 1
            elif isinstance(p, ApprovalRequested):
                self.escalations += len(p.approvals)
            else:
                self.escalations += 1
        if isinstance(p, LLMCall):
            self._spend(ev, p)
        elif isinstance(p, RunStarted):
            self.started, self.started_ts = p, ev.ts
        elif isinstance(p, WorkerStarted):
            self.worker_pid, self.worker_seq = p.pid, ev.seq
            self.workers += 1
        elif k in FINAL_KINDS:
            self.final, self.final_payload = ev, p
            if isinstance(p, RunFinished) and p.synthesis:
                self.synthesis_path = p.synthesis
        elif isinstance(p, BreakerTripped):
            self.trips.append(Trip(ev.seq, ev.ts, p.policy, p.reason, p.threshold, p.observed,
                                   tuple(p.seqs)))
        elif k == "message":
            self.turns += 1
            self.messages_by[ev.actor] = self.messages_by.get(ev.actor, 0) + 1
        elif isinstance(p, Plan):
            self.round = p.round or self.round
            self.rounds += not p.finishing
        elif isinstance(p, ToolCall):
            self.tool_calls[p.outcome] = self.tool_calls.get(p.outcome, 0) + 1
        elif isinstance(p, ApprovalRequested):
            for call in p.approvals:
                if call.call_id:
                    self.approval_requests[call.call_id] = ApprovalWait(ev.seq, call, p.queued)
        elif isinstance(p, Approval):
            self.approvals[p.call_id] = p
        elif isinstance(p, Synthesis):
            self.synthesis, self.synthesis_seq = p, ev.seq
        return p

    def _spend(self, ev: Event, call: LLMCall) -> None:
        self.spend.add(call)
        self.by_actor.setdefault(ev.actor, Spend()).add(call)
        self.by_task.setdefault(call.task or "?", Spend()).add(call)
        self.timeline.append(TimelinePoint(ev.seq, ev.ts - (self.first_ts or ev.ts),
                                           self.spend.tokens, self.spend.usd))

    # -- what it says ----------------------------------------------------------------------------

    @property
    def config(self) -> RunConfig:
        """The session's configuration (empty before ``run.started``)."""
        return self.started.config if self.started is not None else RunConfig()

    @property
    def topic(self) -> str:
        if self.started is None:
            return ""
        return self.started.config.topic or self.started.text

    @property
    def model_calls(self) -> int:
        return self.spend.calls

    @property
    def tool_calls_total(self) -> int:
        return sum(self.tool_calls.values())

    @property
    def last_trip(self) -> Trip | None:
        return self.trips[-1] if self.trips else None

    @property
    def current_final(self) -> Event | None:
        """The final event of the current worker (none since the last ``worker.started``)."""
        f = self.final
        if f is None or (self.worker_seq is not None and f.seq < self.worker_seq):
            return None
        return f

    @property
    def worker_trip(self) -> Trip | None:
        """The last trip, if no worker started since."""
        t = self.last_trip
        if t is None or (self.worker_seq is not None and t.seq < self.worker_seq):
            return None
        return t

    @property
    def current_trip(self) -> Trip | None:
        """The trip that ended the current worker, if one did (it ended no other way first)."""
        t, f = self.worker_trip, self.current_final
        return t if t is not None and (f is None or f.seq < t.seq) else None

    @property
    def status(self) -> str:
        """What the log says of the run: ``created`` (no worker yet), ``running`` (a worker
        started and has not ended: a front end checks its pid), ``tripped``, or how the last
        worker ended (``converged``, ``stalled``, ``max_turns``, ``paused``, ``stopped``,
        ``failed``...)."""
        if self.current_trip is not None:
            return "tripped"
        f = self.current_final
        if f is not None and self.final_payload is not None:
            return str(self.final_payload.get("status") or f.kind.split(".", 1)[1])
        return "created" if self.worker_seq is None else "running"

    def live_status(self) -> str:
        """:attr:`status`, with ``running`` told apart from ``died`` (the worker exited without
        a final event) by whether the worker's pid is alive on this machine."""
        status = self.status
        if status != "running":
            return status
        try:
            os.kill(int(self.worker_pid or 0), 0)
        except (OSError, ValueError):
            return "died"
        return "running" if self.worker_pid else "died"

    @property
    def outcome(self) -> str | None:
        """How the run last ended, whatever came after (a worker that wrote nothing new, say):
        ``tripped`` if its last trip came after its last final event, else that event's status;
        None if it never ended."""
        f, t = self.final, self.last_trip
        if t is not None and (f is None or f.seq < t.seq):
            return "tripped"
        if f is None or self.final_payload is None:
            return None
        return str(self.final_payload.get("status") or f.kind.split(".", 1)[1])

    @property
    def ended(self) -> bool:
        """The run's current worker ended (by itself or by a trip)."""
        return self.status not in ("created", "running")

    @property
    def reason(self) -> str:
        """Why it ended: the trip's reason, or the final event's."""
        t = self.current_trip
        if t is not None:
            return t.reason
        if self.current_final is None or self.final_payload is None:
            return ""
        return str(self.final_payload.get("reason") or "")

    @property
    def finished_at(self) -> float | None:
        """When the last worker ended (its final event)."""
        return self.final.ts if self.final is not None else None

    def wall_s(self) -> float:
        """Seconds from the first event to the end (or the last event, if not ended)."""
        if self.first_ts is None:
            return 0.0
        end = self.finished_at if self.finished_at is not None else self.last_ts
        return (end or self.first_ts) - self.first_ts

    def pending_approvals(self) -> list[ApprovalWait]:
        """Calls a human was asked to approve and has not answered yet, in the order asked."""
        return [w for cid, w in self.approval_requests.items() if cid not in self.approvals]

    def pending_questions(self) -> list[QuestionRecord]:
        """Questions waiting for the human."""
        return [q for q in self.questions.values() if q.status == "escalated"]

    def summary(self) -> dict[str, Any]:
        """The figures, as JSON data."""
        return {"run_id": self.run_id, "status": self.status, "reason": self.reason,
                "topic": self.topic, "events": self.events, "wall_s": round(self.wall_s(), 3),
                "turns": self.turns, "rounds": self.rounds, "spend": self.spend.to_dict(),
                "tool_calls": dict(self.tool_calls), "escalations": self.escalations,
                "questions": len(self.questions),
                "answered": sum(q.status == "answered" for q in self.questions.values()),
                "pending_approvals": len(self.pending_approvals()), "trips": len(self.trips),
                "synthesis": self.synthesis_path}
