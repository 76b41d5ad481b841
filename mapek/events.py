"""Typed payloads: one pydantic model per event kind the code writes.

An :class:`~mapek.models.Event` carries its payload as a plain dict (that dict is what is hashed
and chained, and it never changes). This module is the one place that says what each kind's
payload holds, for readers::

    from mapek.events import LLMCall, typed

    p = typed(ev)                    # the kind's model, validated
    if isinstance(p, LLMCall):
        tokens += p.total_tokens

Every model allows extra fields and gives every field a default: the log is append-only, so
runs written by older (or newer) code must still load. A kind this module does not know reads
as :class:`GenericPayload` (the dict's fields, untyped); a field that does not fit its kind's
model (a tampered or hand-written log) is left at its default while the rest still reads:
reading never fails. :func:`parse_payload` is the strict variant, for writers and tests: it
raises on a payload that does not fit.

Writers keep writing dicts (the hash chain depends on them, byte for byte); a writer may build
its dict from a model with ``Model(...).dump()`` where that gives the same dict.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:
    from mapek.loop.state import SessionConfig
    from mapek.models import Event

__all__ = [
    "Payload", "GenericPayload", "KINDS", "FINAL_KINDS", "payload_model", "parse_payload",
    "read_payload", "typed", "typed_as",
    # the run
    "RunConfig", "BreakerChoice", "RunStarted", "Topic", "WorkerStarted", "WorkerUnwatched",
    "WorkerWatched",
    "RunLimit", "RunPaused", "RunStopped", "RunFailed", "RunFinished",
    # the discussion
    "Agenda", "Speaker", "Plan", "Turn", "Message", "Interjection", "Synthesis",
    # questions
    "Question", "QuestionTriaged", "QuestionRouted", "QuestionEscalated", "QuestionDeferred",
    "Answer", "EscalatedQuestion", "EscalationRequested", "QuestionRelabelled",
    "PrecedentRecorded",
    # the observer and decisions
    "ObserverMonitor", "ObserverAnalysis", "DecisionMade", "LegacyDecision",
    # screening, tools, approvals
    "ProposedCall", "ScreenVerdict", "ScreenFindings", "ScreenOutput", "ScreenHuman",
    "ApprovalRequested", "Approval", "ToolCall", "GrantRecorded", "ResourceRegistered",
    # model calls
    "LLMCall",
    # the breaker
    "BreakerTripped", "BreakerStopped", "BreakerNotified", "BreakerOverride",
    "BreakerHalfOpen", "BreakerClosed", "WatchdogRestarted", "WatchdogRespawned",
    "CheckpointDiscarded",
    # effects (the ledger)
    "EffectIntent", "EffectInDoubt", "EffectResolved",
    # evidence
    "EvidenceVerdict", "EvidenceAccepted", "EvidenceRejected", "EvidenceQuorum",
    "EvidenceEscalated",
    # sandbox and workflows
    "SandboxStarted", "SandboxRun", "WorkflowPromoted", "WorkflowStarted", "WorkflowFinished",
    # batches
    "BatchStarted", "BatchCell", "BatchDriver", "BatchOverride", "BatchTripped", "BatchAnswer",
    "BatchError", "BatchEnded",
]

FINAL_KINDS = ("run.finished", "run.stopped", "run.failed", "run.paused")
"""The events a worker ends with (its last event, whatever happened)."""


class _Part(BaseModel):
    """A payload or a nested part of one: extra fields kept, every field defaulted,
    immutable."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True, defer_build=True)

    def dump(self) -> dict[str, Any]:
        """As a dict: the fields it was given (and extras), under their log names.
        ``Model.model_validate(d).dump() == d`` for a dict read from the log."""
        return self.model_dump(by_alias=True, exclude_unset=True)


class Payload(_Part):
    """Base of every payload model."""

    KIND: ClassVar[str] = ""
    """The event kind this model describes (empty for :class:`GenericPayload`)."""

    def get(self, name: str, default: Any = None) -> Any:
        """A field or extra field by its log name, like ``dict.get``."""
        if name in type(self).model_fields:
            return getattr(self, name)
        for field_name, info in type(self).model_fields.items():
            if info.alias == name:
                return getattr(self, field_name)
        return (self.model_extra or {}).get(name, default)


class GenericPayload(Payload):
    """A payload of a kind this module does not describe (or one that does not fit its kind's
    model): its fields are extras, read with :meth:`Payload.get`."""

    @property
    def text(self) -> str:
        return str((self.model_extra or {}).get("text", "") or "")


_MODELS: dict[str, type[Payload]] = {}
_P = TypeVar("_P", bound=type[Payload])


def _kind(*kinds: str) -> Callable[[_P], _P]:
    """Register a model for one or more kinds (the first is its ``KIND``)."""

    def register(cls: _P) -> _P:
        cls.KIND = kinds[0]
        for k in kinds:
            if k in _MODELS:
                raise RuntimeError(f"two payload models for kind {k!r}")
            _MODELS[k] = cls
        return cls

    return register


# -- the run -----------------------------------------------------------------------------------


class RunConfig(_Part):
    """A session's configuration as ``run.started`` records it: the fields of
    :class:`~mapek.loop.state.SessionConfig`, tolerant (:meth:`session` validates strictly)."""

    topic: str = ""
    personas: list[str] = Field(default_factory=list)
    model: str = ""
    max_turns: int | None = None
    speakers_per_round: int | None = None
    time_limit: float | None = None
    max_tokens: int | None = None
    max_usd: float | None = None
    escalation_budget: int | None = None
    human: str = ""
    personas_dir: str | None = None

    def session(self) -> SessionConfig:
        """The strict configuration a worker runs with (raises if the record does not fit)."""
        from mapek.loop.state import SessionConfig

        return SessionConfig.model_validate(self.model_dump(exclude_unset=True))


class BreakerChoice(_Part):
    """The watchdog's policy for a run, as ``run.started`` records it."""

    policy: str | None = None
    """A preset name or a policy file (None: ``default``)."""
    overrides: dict[str, Any] = Field(default_factory=dict)
    """Spec fields laid over the policy."""


@_kind("run.started")
class RunStarted(Payload):
    """A session was created (``Session.create``); the worker reads its configuration here."""

    config: RunConfig = Field(default_factory=RunConfig)
    text: str = ""
    """The topic."""
    breaker: BreakerChoice = Field(default_factory=BreakerChoice)
    runtime: dict[str, Any] | None = None
    """The runtime spec (:class:`mapek.runtime.RuntimeSpec`: personas, tools, model, storage;
    read it with :func:`mapek.runtime.spec_of_run`). None in runs recorded before specs."""


@_kind("topic")
class Topic(Payload):
    text: str = ""


@_kind("worker.started")
class WorkerStarted(Payload):
    pid: int | None = None
    host: str | None = None
    """The machine the worker runs on (its host name): a pid means something only there."""


@_kind("worker.unwatched")
class WorkerUnwatched(Payload):
    """The worker paused: no watchdog heartbeat."""

    before: str = ""
    heartbeat: str = ""
    text: str = ""


@_kind("worker.watched")
class WorkerWatched(Payload):
    paused_s: float = 0.0


@_kind("run.limit")
class RunLimit(Payload):
    limit: str = ""
    value: Any = None


@_kind("run.paused")
class RunPaused(Payload):
    status: str = "paused"
    round: int | None = None


@_kind("run.stopped")
class RunStopped(Payload):
    reason: str = ""
    budget: str | None = None
    limit: Any = None
    used: Any = None


@_kind("run.failed")
class RunFailed(Payload):
    reason: str = ""
    error: str = ""
    resumable: bool = False


@_kind("run.finished")
class RunFinished(Payload):
    status: str = ""
    model_calls: int | None = None
    synthesis: str | None = None
    """Path of ``synthesis.md``."""


# -- the discussion ----------------------------------------------------------------------------


@_kind("agenda")
class Agenda(Payload):
    items: list[str] = Field(default_factory=list)


class Speaker(_Part):
    persona: str = ""
    task: str = ""
    """``discuss``, ``answer`` (``qid``), ``react`` (to the human's answer), ``interjection``."""
    qid: str | None = None
    note: str | None = None


@_kind("plan")
class Plan(Payload):
    round: int = 0
    finish: bool = False
    why: str = ""
    """Why the discussion ends (a finishing plan)."""
    agenda_item: str = ""
    speakers: list[Speaker] = Field(default_factory=list)
    actions: list[dict[str, Any]] = Field(default_factory=list)
    settle: list[str] = Field(default_factory=list)
    """A finishing plan's settling round (no turns): the call ids it screens and runs first,
    queued calls answered since the last round and calls the last turns proposed."""

    @property
    def finishing(self) -> bool:
        """The run's last plan: it finishes, or settles calls and then finishes."""
        return self.finish or bool(self.settle)


class Turn(_Part):
    """A persona's turn (:class:`~mapek.loop.schemas.PersonaTurn`), as the message records it."""

    text: str = ""
    stance: str = ""
    claims: list[str] = Field(default_factory=list)
    questions: list[dict[str, Any]] = Field(default_factory=list)
    actions: list[dict[str, Any]] = Field(default_factory=list)


@_kind("message")
class Message(Payload):
    text: str = ""
    turn: Turn = Field(default_factory=Turn)
    round: int | None = None
    task: str | None = None
    qid: str | None = None


@_kind("interjection")
class Interjection(Payload):
    text: str = ""
    to: str | None = None


@_kind("synthesis")
class Synthesis(Payload):
    text: str = ""
    synthesis: dict[str, Any] = Field(default_factory=dict)
    status: str = ""


# -- questions ---------------------------------------------------------------------------------


@_kind("question")
class Question(Payload):
    qid: str = ""
    text: str = ""
    to: str | None = None
    round: int | None = None


@_kind("question.triaged")
class QuestionTriaged(Payload):
    qid: str = ""
    label: str | None = None
    reason: str | None = None
    score: float | None = None
    source: str = ""
    signals: list[str] = Field(default_factory=list)


@_kind("question.routed")
class QuestionRouted(Payload):
    qid: str = ""
    to: str | None = None
    why: str = ""


@_kind("question.escalated")
class QuestionEscalated(Payload):
    qids: list[str] = Field(default_factory=list)
    mode: str = ""
    reasons: dict[str, Any] = Field(default_factory=dict)


@_kind("question.deferred")
class QuestionDeferred(Payload):
    qid: str = ""
    note: str = ""


@_kind("answer")
class Answer(Payload):
    qid: str = ""
    text: str = ""


@_kind("question.relabelled")
class QuestionRelabelled(Payload):
    """The person says a question was not theirs: the peers could have settled it."""

    qid: str = ""
    label: str = "trivial"
    note: str = ""


@_kind("precedent")
class PrecedentRecorded(Payload):
    """A person's verdict kept as a labelled example (:mod:`mapek.knowledge.precedent`)."""

    domain: str = ""
    text: str = ""
    label: str = ""
    note: str = ""
    source: str = ""
    source_seq: int | None = None


class EscalatedQuestion(_Part):
    qid: str = ""
    text: str = ""
    asked_by: str | None = None
    to: str | None = None
    reason: str | None = None
    score: float | None = None


@_kind("escalation.requested")
class EscalationRequested(Payload):
    """The worker waits for the human's answers to these questions."""

    questions: list[EscalatedQuestion] = Field(default_factory=list)
    interrupt: str | None = None


# -- the observer and decisions ----------------------------------------------------------------


@_kind("observer.monitor")
class ObserverMonitor(Payload):
    round: int | None = None
    turns: list[int] = Field(default_factory=list)
    new_questions: list[str] = Field(default_factory=list)
    repetitions: list[dict[str, Any]] = Field(default_factory=list)
    interjections: int = 0


@_kind("observer.analysis")
class ObserverAnalysis(Payload):
    round: int | None = None
    theme: str | None = None
    new_claims: list[str] = Field(default_factory=list)
    changed_positions: list[str] = Field(default_factory=list)
    consequential: list[str] = Field(default_factory=list)
    status: str = ""
    warning: str | None = None
    positions: dict[str, str] = Field(default_factory=dict)


@_kind("decision.made")
class DecisionMade(Payload):
    """A decision record (the writer's model is :class:`mapek.decisions.Decision`)."""

    point: str = ""
    subject: str = ""
    round: int = 0
    node: str = ""
    options: dict[str, float] = Field(default_factory=dict)
    chosen: str | list[str] = ""
    why: str = ""
    context: dict[str, Any] = Field(default_factory=dict)


@_kind("orchestrator.decision")
class LegacyDecision(Payload):
    """What routing and speaker decisions were recorded as before ``decision.made`` (read
    only)."""

    round: int = 0
    decision: str = ""
    options: dict[str, float] = Field(default_factory=dict)
    chosen: str | list[str] = ""
    why: str = ""


# -- screening, tools, approvals ---------------------------------------------------------------


class ProposedCall(_Part):
    """A tool call a persona proposed, as screening and approval requests show it."""

    tool: str = ""
    args: dict[str, Any] = Field(default_factory=dict)
    effect: str | None = None
    proposed_by: str | None = None
    call_id: str | None = None
    step: int | None = None
    key: str | None = None
    decision: str | None = None
    reason: str = ""
    reasons: list[str] = Field(default_factory=list)
    why: str | None = None
    in_doubt: bool = False
    precedents: list[str] = Field(default_factory=list)
    """The person's nearest earlier verdicts on similar calls, cited (shown, never deciding)."""


@_kind("screen.verdict")
class ScreenVerdict(Payload):
    round: int = 0
    verdict: str = ""
    plan_verdict: str = ""
    allowed: list[ProposedCall] = Field(default_factory=list)
    refused: list[ProposedCall] = Field(default_factory=list)
    pending: list[ProposedCall] = Field(default_factory=list)
    parked: dict[str, ProposedCall] = Field(default_factory=dict)
    catalogue_ids: list[str] = Field(default_factory=list)
    reasks: dict[str, int] = Field(default_factory=dict)


class ScreenFindings(Payload):
    """What a content check found (:meth:`mapek.safety.content.ContentVerdict.summary`)."""

    check: str = ""
    flagged: bool = False
    kinds: list[str] = Field(default_factory=list)
    catalogue_ids: list[str] = Field(default_factory=list)
    chars: int = 0
    excerpts: list[str] = Field(default_factory=list)


@_kind("screen.output")
class ScreenOutput(ScreenFindings):
    """A tool's output read like injected instructions (quarantined or withheld)."""

    tool: str | None = None


@_kind("screen.human")
class ScreenHuman(ScreenFindings):
    """Text for the human was redacted: a question (``qid``) or the synthesis (``what``)."""

    qid: str | None = None
    what: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)


@_kind("approval.requested")
class ApprovalRequested(Payload):
    approvals: list[ProposedCall] = Field(default_factory=list)
    interrupt: str | None = None
    queued: bool = False


@_kind("approval")
class Approval(Payload):
    call_id: str = ""
    approved: bool = False
    happened: bool = False
    note: str = ""


@_kind("tool.call")
class ToolCall(Payload):
    """One call through the tool gateway, refused ones included."""

    tool: str = ""
    effect: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    actor: str | None = None
    decision: str | None = None
    reasons: list[str] = Field(default_factory=list)
    catalogue_ids: list[str] = Field(default_factory=list)
    grant: int | None = None
    outcome: str = ""
    """``ok``, ``error``, ``refused``, ``needs_approval``, ``invalid`` (the arguments did not
    fit the tool's schema: not run, the proposer re-asked)..."""
    reason: str = ""
    approved: bool | None = None
    resource: str | None = None
    owner: str | None = None
    provenance: str | None = None
    output: str = ""
    output_chars: int = 0
    flagged: bool = False
    reask: bool = False
    latency_ms: float = 0.0
    """Not written by the gateway; a writer that reports it feeds the slow-call rate."""


@_kind("grant")
class GrantRecorded(Payload):
    """A write grant (:class:`mapek.safety.grants.Grant`)."""

    tool: str = ""
    to: str = "session"
    justification: str = ""
    expires_at: float | None = None
    granted_by: str = "human"


@_kind("resource.registered")
class ResourceRegistered(Payload):
    resource: str = ""


# -- model calls -------------------------------------------------------------------------------


@_kind("llm.call")
class LLMCall(Payload):
    """One model call (``RecordingModel``): what it cost and how it ended."""

    model: str = ""
    task: str = ""
    outcome: str = "ok"
    """``ok``, ``error`` or ``retry``."""
    attempt: int = 1
    ask: int = 1
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    offline: bool = False
    finish_reason: str | None = None
    error: str | None = None
    error_type: str | None = None

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens: what every token figure of mapek counts."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def failed(self) -> bool:
        return self.outcome in ("error", "retry")


# -- the breaker -------------------------------------------------------------------------------


@_kind("breaker.tripped")
class BreakerTripped(Payload):
    policy: str = ""
    threshold: Any = None
    observed: Any = None
    seqs: list[int] = Field(default_factory=list)
    """The events that caused it."""
    reason: str = ""
    policy_source: str = ""
    circuit: str = "open"
    pid: int | None = None
    text: str = ""


@_kind("breaker.stopped")
class BreakerStopped(Payload):
    pid: int | None = None
    how: str = ""
    """``term``, ``kill`` or ``gone``."""
    grace: float = 0.0
    elapsed_ms: float = 0.0
    resume: str = ""


@_kind("breaker.notified")
class BreakerNotified(Payload):
    notifier: str = ""
    ok: bool = False
    detail: str = ""
    elapsed_ms: float = 0.0


@_kind("breaker.override")
class BreakerOverride(Payload):
    raise_limits: dict[str, float] = Field(default_factory=dict, alias="raise")
    disable: list[str] = Field(default_factory=list)
    enable: list[str] = Field(default_factory=list)
    force_open: bool = False
    reset_windows: bool = False
    reason: str = ""
    by: str = ""
    text: str = ""


@_kind("breaker.half_open")
class BreakerHalfOpen(Payload):
    trial_rounds: int = 0
    text: str = ""


@_kind("breaker.closed")
class BreakerClosed(Payload):
    trial_rounds: int = 0
    text: str = ""


@_kind("watchdog.restarted")
class WatchdogRestarted(Payload):
    """The front end that started the worker started a new watchdog: the old one exited (with
    ``exit_code``) while the worker lived (:mod:`mapek.breaker.orphans`)."""

    by: str = ""
    exit_code: int | None = None
    pid: int | None = None
    """The new watchdog's."""
    text: str = ""


@_kind("watchdog.respawned")
class WatchdogRespawned(Payload):
    """A worker paused with no watchdog started one for itself (:mod:`mapek.breaker.guard`)."""

    by: str = ""
    pid: int | None = None
    """The new watchdog's; None when it could not be started (``error`` says why)."""
    error: str | None = None
    paused_s: float = 0.0
    text: str = ""


@_kind("checkpoint.discarded")
class CheckpointDiscarded(Payload):
    """``mapek resume RUN --from-log``: the run's checkpoints were set aside (a corrupt file
    moved aside, or the run's own dropped) and the run is rebuilt from its event log."""

    text: str = ""


# -- effects (the idempotency ledger) ----------------------------------------------------------


@_kind("effect.intent")
class EffectIntent(Payload):
    key: str = ""
    attempt: int = 0
    tool: str = ""
    effect: str = ""
    node: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    args_digest: str = ""
    idempotent: bool = False


@_kind("effect.in_doubt")
class EffectInDoubt(Payload):
    key: str = ""
    attempt: int = 0
    tool: str = ""
    args: dict[str, Any] = Field(default_factory=dict)
    node: str | None = None
    message: str = ""


@_kind("effect.resolved")
class EffectResolved(Payload):
    key: str = ""
    attempt: int = 0
    answer: str = ""
    """``happened`` or ``run``."""
    tool: str = ""
    note: str = ""


# -- evidence ----------------------------------------------------------------------------------


class EvidenceVerdict(Payload):
    """The receiver's finding on an envelope (:meth:`mapek.evidence.CheckResult.payload`)."""

    envelope: str = ""
    task: dict[str, Any] | str = Field(default_factory=dict)
    """The envelope's task: ``type`` and ``id``."""
    producer: str = ""
    verdict: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    events: list[int] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    passed: list[str] = Field(default_factory=list)
    facts: dict[str, float] = Field(default_factory=dict)
    quorum: str | None = None
    text: str = ""


@_kind("evidence.accepted")
class EvidenceAccepted(EvidenceVerdict):
    pass


@_kind("evidence.rejected")
class EvidenceRejected(EvidenceVerdict):
    pass


@_kind("evidence.quorum")
class EvidenceQuorum(Payload):
    envelope: str = ""
    task: str = ""
    k: int = 0
    n: int = 0
    outcome: str = ""
    votes: list[dict[str, Any]] = Field(default_factory=list)
    human: dict[str, Any] | None = None
    text: str = ""


@_kind("evidence.escalated")
class EvidenceEscalated(Payload):
    qid: str = ""
    envelope: str = ""
    text: str = ""
    approve: Any = None
    reject: Any = None


# -- sandbox and workflows ---------------------------------------------------------------------


@_kind("sandbox.started")
class SandboxStarted(Payload):
    workflow: str = ""
    digest: str = ""
    chaos: bool = False
    seed: int | None = None


@_kind("sandbox.run")
class SandboxRun(Payload):
    workflow: str = ""
    digest: str = ""
    run_id: str = ""
    clean: bool = False
    triggers: list[str] = Field(default_factory=list)
    chaos: dict[str, Any] | None = None
    steps: int = 0


@_kind("workflow.promoted")
class WorkflowPromoted(Payload):
    workflow: str = ""
    digest: str = ""
    runs: list[str] = Field(default_factory=list)


@_kind("workflow.started")
class WorkflowStarted(Payload):
    workflow: str = ""
    digest: str = ""
    steps: int = 0
    root: str = ""
    tools: Any = None


@_kind("workflow.finished")
class WorkflowFinished(Payload):
    status: str = ""
    steps: int = 0
    failed_step: int | None = None


# -- batches (mapek.batch: the batch's own run, ``batch-...``) -----------------------------------


@_kind("batch.started")
class BatchStarted(Payload):
    """A batch recorded: its plan (:class:`mapek.batch.plan.BatchPlan`, as data)."""

    plan: dict[str, Any] = Field(default_factory=dict)
    source: str = ""
    cells: list[str] = Field(default_factory=list)
    """Every cell's key, in plan order."""
    text: str = ""


@_kind("batch.cell")
class BatchCell(Payload):
    """A cell's run id, recorded before its session exists."""

    cell: str = ""
    run: str = ""
    topic: str = ""
    panel: str = ""
    model: str = ""
    repeat: int = 0
    seed: int | None = None


@_kind("batch.driver")
class BatchDriver(Payload):
    """A driver runs (``run``) or continues (``resume``) the batch."""

    pid: int | None = None
    attempt: int = 0
    action: str = ""
    executor: str = ""
    cells: int = 0
    """Cells this driver had to run, follow or resume."""


@_kind("batch.override")
class BatchOverride(Payload):
    raise_limits: dict[str, float] = Field(default_factory=dict, alias="raise")
    reason: str = ""
    by: str = ""
    text: str = ""


@_kind("batch.tripped")
class BatchTripped(Payload):
    limit: str = ""
    """``usd``, ``tokens`` or ``time``."""
    threshold: float = 0.0
    used: float = 0.0
    reason: str = ""
    cells: list[str] = Field(default_factory=list)
    """The running cells whose breakers were forced open."""
    text: str = ""


@_kind("batch.answer")
class BatchAnswer(Payload):
    """A question group answered once, for every cell that asked it."""

    gid: str = ""
    question: str = ""
    text: str = ""
    cells: list[dict[str, Any]] = Field(default_factory=list)


@_kind("batch.error")
class BatchError(Payload):
    cell: str = ""
    run: str = ""
    error: str = ""


@_kind("batch.stopped", "batch.finished")
class BatchEnded(Payload):
    """A driver's end: every cell ended (``batch.finished``), or it stopped before
    (``batch.stopped``: ``interrupted``, ``budget``, ``incomplete``, ``error``)."""

    reason: str = ""
    text: str = ""
    counts: dict[str, int] = Field(default_factory=dict)
    limit: str | None = None
    threshold: float | None = None
    used: float | None = None


# -- reading -----------------------------------------------------------------------------------

KINDS: frozenset[str] = frozenset(_MODELS)
"""Every kind with a payload model."""


def payload_model(kind: str) -> type[Payload]:
    """The model of a kind's payload (:class:`GenericPayload` for a kind not described)."""
    return _MODELS.get(kind, GenericPayload)


def parse_payload(kind: str, payload: dict[str, Any]) -> Payload:
    """The payload as its kind's model; raises ``pydantic.ValidationError`` if it does not
    fit (strict: for writers and tests; readers use :func:`typed`)."""
    return payload_model(kind).model_validate(payload)


def read_payload(kind: str, payload: dict[str, Any]) -> Payload:
    """A payload as its kind's model, never an error: a value that does not fit (a tampered,
    hand-written or foreign log) is left out (its field at its default), the rest still read."""
    model = payload_model(kind)
    data = payload
    for _ in range(100):
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            if data is payload:
                data = copy.deepcopy(payload)
            if not _drop(data, exc.errors()[0]["loc"]):
                break
    return GenericPayload.model_validate(payload)


def _drop(data: Any, loc: tuple[int | str, ...]) -> bool:
    """Remove the innermost value on ``loc`` (a mapping's key or a list's item)."""
    where: tuple[Any, Any] | None = None
    node: Any = data
    for step in loc:
        if isinstance(node, dict) and isinstance(step, str) and step in node:
            where, node = (node, step), node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            where, node = (node, step), node[step]
        else:
            break
    if where is None:
        return False
    del where[0][where[1]]
    return True


def typed(ev: Event) -> Payload:
    """An event's payload as its kind's model (:func:`read_payload`)."""
    return read_payload(ev.kind, ev.payload)


_T = TypeVar("_T", bound=Payload)


def typed_as(ev: Event, model: type[_T]) -> _T | None:
    """``typed(ev)`` if it is a ``model`` (the event is of that kind and fits), else None."""
    known = _MODELS.get(ev.kind)
    if known is None or not issubclass(known, model):
        return None
    p = typed(ev)
    return p if isinstance(p, model) else None
