"""A run as an OpenTelemetry trace, built from its event log alone.

:func:`build_trace` folds a run's events into a tree of :class:`SpanNode` (no OpenTelemetry
import: plain data, testable on its own); :func:`export_run` sends that tree to an OTLP/HTTP
endpoint with the OpenTelemetry SDK (``pip install 'mapek[otel]'``). Any past run exports, since
every event carries its time::

    mapek runs export RUN --otlp http://127.0.0.1:4318      # Jaeger, Tempo, Phoenix, Langfuse...

The tree (span names; attributes follow the OpenTelemetry GenAI semantic conventions)::

    mapek.session                       the run: topic, status, totals
    ├── chat MODEL                      a model call outside a turn (agenda, synthesis, triage)
    ├── mapek.round                     one round of the loop (mapek.round = N)
    │   ├── invoke_agent PERSONA        a persona's turn (gen_ai.agent.name)
    │   │   └── chat MODEL              its model call(s): gen_ai.system, gen_ai.request.model,
    │   │                               gen_ai.usage.input_tokens / output_tokens
    │   ├── execute_tool TOOL           a tool call: mapek.tool.effect, mapek.tool.verdict,
    │   │                               mapek.tool.outcome
    │   └── mapek.escalation            a question or call put to the human, until answered
    ├── mapek.synthesis                 the last plan (finish) and the synthesis
    └── mapek.breaker.trip              a trip, until the worker was stopped (status ERROR)

Every other event is a span event: a question, an answer, a plan, a screening verdict... on the
round it happened in; the run's own (started, a worker started, how it ended, an override) on
the session. Span and trace ids derive from the run id and the events' seqs: exporting a
run twice sends the same ids.

A model call's span ends at its ``llm.call`` event and starts ``latency_ms`` before; a turn spans
its model calls and its ``message``; a tool call ends at its ``tool.call`` event.

Live export: with ``MAPEK_OTLP_ENDPOINT`` set, a worker exports its run when it ends (finished,
stopped or failed; not when it pauses between steps), and the watchdog exports it after a trip
(:func:`export_if_configured`).
"""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from mapek.errors import ConfigError, UnknownRunError, UserError
from mapek.events import (
    FINAL_KINDS,
    Answer,
    Approval,
    ApprovalRequested,
    BreakerTripped,
    LLMCall,
    Message,
    Plan,
    QuestionDeferred,
    QuestionEscalated,
    ToolCall,
    typed,
)
from mapek.fold import ESCALATION_KINDS, RunFold

if TYPE_CHECKING:
    from mapek.config import Settings
    from mapek.models import Event

__all__ = ["SpanNode", "build_trace", "export_run", "export_if_configured", "traces_url",
           "OTLPExportError"]

AttrValue = str | bool | int | float | list[str] | list[int] | list[float]
_TEXT = 500
"""Characters of an event's text kept in a span event's attributes."""


_SESSION_KINDS = frozenset({"run.started", "topic", "worker.started", "worker.unwatched",
                            "worker.watched", "run.limit", *FINAL_KINDS, "breaker.override",
                            "breaker.half_open", "breaker.closed", "watchdog.restarted",
                            "watchdog.respawned"})
"""Events of the run as a whole: span events on the session's span, whatever the round."""


class OTLPExportError(UserError):
    """The OTLP endpoint could not be reached or refused the trace."""


@dataclass
class SpanNode:
    """One span of a run's trace, before it is handed to OpenTelemetry."""

    name: str
    start: float
    """Seconds since the epoch (the events' clock)."""
    end: float
    key: str
    """What the span id derives from (unique within the run)."""
    attributes: dict[str, AttrValue] = field(default_factory=dict)
    kind: Literal["internal", "client"] = "internal"
    error: str | None = None
    """The status description of a span that failed (its status is ERROR)."""
    children: list[SpanNode] = field(default_factory=list)
    events: list[tuple[str, float, dict[str, AttrValue]]] = field(default_factory=list)
    """Span events: name, time, attributes."""

    def walk(self, parent: SpanNode | None = None
             ) -> Iterator[tuple[SpanNode, SpanNode | None]]:
        """Every span of the tree with its parent, parents first."""
        yield self, parent
        for child in self.children:
            yield from child.walk(self)

    def fit(self) -> None:
        """Stretch every span over its children and span events."""
        for child in self.children:
            child.fit()
            self.start = min(self.start, child.start)
            self.end = max(self.end, child.end)
        for _, ts, _ in self.events:
            self.end = max(self.end, ts)
        self.end = max(self.end, self.start)


def provider_of(model: str) -> str:
    """The ``gen_ai.system`` of a litellm model string: its provider prefix (``openai/gpt-4o``:
    ``openai``; ``mapek/offline``: ``mapek``), or for a bare name the provider litellm routes
    the usual names to (``gpt-4o``: ``openai``, ``claude-...``: ``anthropic``)."""
    if "/" in model:
        return model.split("/", 1)[0]
    bare = model.lower()
    for prefixes, name in ((("gpt-", "o1", "o3", "o4", "chatgpt", "text-"), "openai"),
                           (("claude",), "anthropic"), (("gemini",), "gemini"),
                           (("mistral", "codestral"), "mistral_ai"), (("command",), "cohere")):
        if bare.startswith(prefixes):
            return name
    return "litellm"


def _text(ev: Event) -> str:
    t = " ".join(ev.text.split())
    return t if len(t) <= _TEXT else t[: _TEXT - 1] + "…"


def _clean(attrs: dict[str, Any]) -> dict[str, AttrValue]:
    """Attributes OpenTelemetry accepts: scalars and lists of strings; None dropped."""
    out: dict[str, AttrValue] = {}
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, bool | int | float | str):
            out[k] = v
        elif isinstance(v, list | tuple):
            out[k] = [str(x) for x in v]
        else:
            out[k] = str(v)
    return out


class _Builder:
    """Folds events, in log order, into the span tree."""

    def __init__(self, root: SpanNode) -> None:
        self.root = root
        self.round: SpanNode | None = None
        self.round_no = 0
        self.pending: dict[str, list[tuple[SpanNode, SpanNode, LLMCall]]] = {}
        """A persona's model calls waiting for its message: (call span, container, call)."""
        self.asked: dict[str, SpanNode] = {}
        """Open escalations by qid or call id."""
        self.trip: SpanNode | None = None

    @property
    def here(self) -> SpanNode:
        return self.round if self.round is not None else self.root

    def add(self, ev: Event) -> None:
        p = typed(ev)
        r = ev.payload.get("round")
        if isinstance(r, int) and not isinstance(r, bool) and r > self.round_no:
            self.round_no = r
            self.round = SpanNode("mapek.round", ev.ts, ev.ts, f"round:{r}",
                                  {"mapek.round": r, "mapek.seq": ev.seq})
            self.root.children.append(self.round)
        if self.round is not None:
            self.round.end = max(self.round.end, ev.ts)
        if isinstance(p, LLMCall):
            self._call(ev, p)
        elif isinstance(p, Message):
            self._turn(ev, p)
        elif isinstance(p, ToolCall):
            self._tool(ev, p)
        elif ev.kind in ESCALATION_KINDS:
            self._escalation(ev, p)
        elif isinstance(p, Answer | QuestionDeferred | Approval):
            self._resolve(ev, p)
        elif isinstance(p, BreakerTripped):
            self.trip = SpanNode("mapek.breaker.trip", ev.ts, ev.ts, f"trip:{ev.seq}", _clean({
                "mapek.seq": ev.seq, "mapek.breaker.policy": p.policy,
                "mapek.breaker.threshold": p.threshold, "mapek.breaker.observed": p.observed,
                "mapek.breaker.circuit": p.circuit, "mapek.breaker.cause_seqs": list(p.seqs)}),
                error=p.reason or f"breaker tripped ({p.policy})")
            self.root.children.append(self.trip)
        elif ev.kind in ("breaker.stopped", "breaker.notified") and self.trip is not None:
            self.trip.end = max(self.trip.end, ev.ts)
            self.trip.events.append(self._event(ev))
        elif ev.kind in _SESSION_KINDS:
            self.root.events.append(self._event(ev))
        else:
            if isinstance(p, Plan) and p.finishing and self.round is not None:
                self.round.name = "mapek.synthesis"
                self.round.attributes["mapek.round.finish"] = True
            self.here.events.append(self._event(ev))

    def _event(self, ev: Event) -> tuple[str, float, dict[str, AttrValue]]:
        return ev.kind, ev.ts, _clean({"mapek.seq": ev.seq, "mapek.actor": ev.actor,
                                       "mapek.text": _text(ev) or None})

    def _call(self, ev: Event, p: LLMCall) -> None:
        system = provider_of(p.model)
        span = SpanNode(f"chat {p.model}", ev.ts - p.latency_ms / 1000, ev.ts, f"llm:{ev.seq}",
                        _clean({
                            "gen_ai.operation.name": "chat", "gen_ai.system": system,
                            "gen_ai.provider.name": system, "gen_ai.request.model": p.model,
                            "gen_ai.response.model": p.model,
                            "gen_ai.usage.input_tokens": p.prompt_tokens,
                            "gen_ai.usage.output_tokens": p.completion_tokens,
                            "gen_ai.response.finish_reasons":
                                [p.finish_reason] if p.finish_reason else None,
                            "gen_ai.agent.name": ev.actor, "mapek.seq": ev.seq,
                            "mapek.task": p.task, "mapek.outcome": p.outcome,
                            "mapek.attempt": p.attempt, "mapek.cost_usd": p.cost_usd,
                            "mapek.offline": p.offline, "error.type": p.error_type}),
                        kind="client", error=(p.error or p.outcome) if p.failed else None)
        if p.task == "persona_turn":
            self.pending.setdefault(ev.actor, []).append((span, self.here, p))
        else:
            self.here.children.append(span)

    def _turn(self, ev: Event, p: Message) -> None:
        waiting = self.pending.pop(ev.actor, [])
        calls = [span for span, _, _ in waiting]
        start = min([c.start for c in calls] + [ev.ts])
        self.here.children.append(SpanNode(
            f"invoke_agent {ev.actor}", start, ev.ts, f"turn:{ev.seq}", _clean({
                "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": ev.actor,
                "mapek.seq": ev.seq, "mapek.round": p.round, "mapek.task": p.task,
                "mapek.qid": p.qid, "mapek.stance": p.turn.stance or None,
                "gen_ai.usage.input_tokens": sum(c.prompt_tokens for _, _, c in waiting),
                "gen_ai.usage.output_tokens": sum(c.completion_tokens for _, _, c in waiting)}),
            children=calls, events=[("message", ev.ts, _clean({"mapek.text": _text(ev)}))]))

    def _tool(self, ev: Event, p: ToolCall) -> None:
        self.here.children.append(SpanNode(
            f"execute_tool {p.tool}", ev.ts - p.latency_ms / 1000, ev.ts, f"tool:{ev.seq}",
            _clean({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": p.tool,
                    "gen_ai.agent.name": p.actor or ev.actor, "mapek.seq": ev.seq,
                    "mapek.tool.effect": p.effect, "mapek.tool.verdict": p.decision,
                    "mapek.tool.outcome": p.outcome, "mapek.tool.approved": p.approved,
                    "mapek.tool.reasons": list(p.reasons) or None,
                    "mapek.tool.catalogue_ids": list(p.catalogue_ids) or None,
                    "mapek.tool.resource": p.resource, "mapek.tool.flagged": p.flagged,
                    "mapek.tool.output_chars": p.output_chars}),
            error=(p.reason or "the tool call failed") if p.outcome == "error" else None))

    def _escalation(self, ev: Event, p: Any) -> None:
        if isinstance(p, QuestionEscalated):
            items = [(qid, {"mapek.qid": qid, "mapek.escalation.reason":
                            p.reasons.get(qid)}) for qid in p.qids]
            what = "question"
        elif isinstance(p, ApprovalRequested):
            items = [(c.call_id or f"{ev.seq}:{i}", {
                "mapek.call_id": c.call_id, "gen_ai.tool.name": c.tool,
                "mapek.tool.effect": c.effect, "gen_ai.agent.name": c.proposed_by})
                for i, c in enumerate(p.approvals)]
            what = "approval"
        else:  # disputed evidence, an effect in doubt: put to the human, no answer to wait for
            items, what = [(f"{ev.kind}:{ev.seq}", {})], ev.kind
        for ident, attrs in items:
            span = SpanNode("mapek.escalation", ev.ts, ev.ts, f"esc:{ev.seq}:{ident}", _clean({
                "mapek.escalation.kind": what, "mapek.seq": ev.seq, **attrs}))
            self.here.children.append(span)
            if what in ("question", "approval"):
                self.asked[ident] = span

    def _resolve(self, ev: Event, p: Answer | QuestionDeferred | Approval) -> None:
        self.here.events.append(self._event(ev))
        ident = p.call_id if isinstance(p, Approval) else p.qid
        span = self.asked.pop(ident, None)
        if span is None:  # a peer's answer to a routed question: nothing was put to the human
            return
        span.end = max(span.end, ev.ts)
        span.attributes["mapek.escalation.resolved"] = True
        span.attributes["mapek.escalation.outcome"] = (
            ("approved" if p.approved else "refused") if isinstance(p, Approval)
            else "answered" if isinstance(p, Answer) else "deferred")
        span.attributes["mapek.escalation.by"] = ev.actor
        span.events.append(self._event(ev))

    def finish(self) -> None:
        for calls in self.pending.values():  # model calls whose turn never came (a failure)
            for span, container, _ in calls:
                container.children.append(span)
        for span in self.asked.values():
            span.end = self.root.end
            span.attributes["mapek.escalation.resolved"] = False
        self.root.fit()


def build_trace(events: Sequence[Event]) -> SpanNode:
    """The span tree of one run's events (in log order)."""
    if not events:
        raise ValueError("a trace needs at least one event")
    first, last = events[0], events[-1]
    fold = RunFold.of(events, first.run_id)
    cfg = fold.config
    root = SpanNode("mapek.session", first.ts, max(e.ts for e in events), "session", _clean({
        "mapek.run_id": first.run_id, "mapek.topic": fold.topic[:_TEXT],
        "mapek.status": fold.status, "mapek.reason": fold.reason or None,
        "mapek.personas": list(cfg.personas), "gen_ai.request.model": cfg.model or None,
        "mapek.turns": fold.turns, "mapek.rounds": fold.rounds, "mapek.events": fold.events,
        "mapek.last_seq": last.seq, "gen_ai.usage.input_tokens": fold.spend.prompt_tokens,
        "gen_ai.usage.output_tokens": fold.spend.completion_tokens,
        "mapek.cost_usd": round(fold.spend.usd, 8), "mapek.model_calls": fold.spend.calls,
        "mapek.escalations": fold.escalations, "mapek.trips": len(fold.trips)}),
        error=f"breaker tripped: {fold.reason}" if fold.status == "tripped"
        else fold.reason or "failed" if fold.status == "failed" else None)
    b = _Builder(root)
    for ev in events:
        b.add(ev)
    b.finish()
    return root


# -- export ----------------------------------------------------------------------------------

def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL of an endpoint: a base URL (``http://host:4318``) gets the
    signal path ``/v1/traces``; a URL with a path is used as it is."""
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"OTLP endpoint {endpoint!r}: an http:// or https:// URL "
                          "(http://127.0.0.1:4318)")
    if parts.path in ("", "/"):
        return endpoint.strip().rstrip("/") + "/v1/traces"
    return endpoint.strip()


def _ids(run_id: str, key: str, n: int) -> int:
    """A non-zero id of ``n`` bytes from the run id and a span's key."""
    return int.from_bytes(hashlib.sha256(f"{run_id}\0{key}".encode()).digest()[:n], "big") or 1


def export_run(log: Any, run_id: str, endpoint: str, *, timeout: float | None = None) -> int:
    """Send one run's trace to an OTLP/HTTP endpoint; returns the number of spans sent.

    ``log``: anything with ``events(run_id)`` (an event log, a knowledge base). ``timeout``:
    seconds for the request, retries included (default ``OTEL_EXPORTER_OTLP_TRACES_TIMEOUT``
    or 10). Raises :class:`OTLPExportError` (one line: what failed) when the endpoint cannot be
    reached or refuses the trace, UnknownRunError for a run the log does not hold, and
    ConfigError when the ``otel`` extra is not installed."""
    url = traces_url(endpoint)
    events = log.events(run_id)
    if not events:
        raise UnknownRunError(run_id)
    try:
        from opentelemetry import trace as api
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
        from opentelemetry.sdk.trace.export import SpanExportResult
        from opentelemetry.sdk.trace.id_generator import IdGenerator
    except ImportError as exc:
        raise ConfigError(f"exporting traces needs the OpenTelemetry SDK and OTLP exporter "
                          f"({exc.name} is missing): pip install 'mapek[otel]'") from None
    tree = build_trace(events)
    __version__ = _version()

    class FixedIds(IdGenerator):
        """The ids the next span gets: derived from the run, so a re-export repeats them."""

        span_id = 0

        def generate_span_id(self) -> int:
            return self.span_id

        def generate_trace_id(self) -> int:
            return _ids(run_id, "trace", 16)

    class Collect(SpanProcessor):
        def __init__(self) -> None:
            self.spans: list[ReadableSpan] = []

        def on_end(self, span: ReadableSpan) -> None:
            self.spans.append(span)

    ids, collect = FixedIds(), Collect()
    provider = TracerProvider(resource=Resource.create({"service.name": "mapek",
                                                        "service.version": __version__,
                                                        "mapek.run_id": run_id}),
                              id_generator=ids)
    provider.add_span_processor(collect)
    tracer = provider.get_tracer("mapek", __version__)
    ns = 1_000_000_000
    live: dict[int, Any] = {}
    for node, parent in tree.walk():
        ids.span_id = _ids(run_id, node.key, 8)
        ctx = api.set_span_in_context(live[id(parent)]) if parent is not None else None
        span = tracer.start_span(node.name, context=ctx, attributes=node.attributes,
                                 kind=api.SpanKind.CLIENT if node.kind == "client"
                                 else api.SpanKind.INTERNAL, start_time=int(node.start * ns))
        for name, ts, attrs in node.events:
            span.add_event(name, attrs, timestamp=int(ts * ns))
        if node.error is not None:
            span.set_status(api.Status(api.StatusCode.ERROR, node.error))
        live[id(node)] = span
    for node, _ in reversed(list(tree.walk())):  # children end before their parents
        live[id(node)].end(end_time=int(node.end * ns))
    exporter = OTLPSpanExporter(endpoint=url, timeout=timeout)
    said = _Capture()
    logger = logging.getLogger("opentelemetry.exporter")
    old = logger.propagate
    logger.addHandler(said)
    logger.propagate = False  # its lines become our one-line error, not stderr noise
    try:
        result = exporter.export(collect.spans)
    finally:
        logger.removeHandler(said)
        logger.propagate = old
        exporter.shutdown()  # type: ignore[no-untyped-call]
        provider.shutdown()
    if result is not SpanExportResult.SUCCESS:
        why = said.last or "no answer"
        raise OTLPExportError(f"could not export run {run_id} to {url}: {why}")
    return len(collect.spans)


def _version() -> str:
    """mapek's version, as installed (the package itself is not imported from here)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mapek")
    except PackageNotFoundError:
        return "0"


class _Capture(logging.Handler):
    """Keeps the exporter's last error line (the reason an export failed)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        msg = " ".join(record.getMessage().split())
        if "retrying" not in msg:  # a transient error already retried says less than the last
            self.last = msg[:300]


def export_if_configured(settings: Settings, run_id: str, *, who: str) -> int | None:
    """With ``MAPEK_OTLP_ENDPOINT`` set: export the run, and say on stderr if that failed (a
    run never fails for its trace). Returns the number of spans sent, or None."""
    endpoint = settings.otlp_endpoint
    if not endpoint:
        return None
    from mapek.knowledge.base import open_log

    try:
        with open_log(settings.log_url, settings.workspace(create=False), create=False) as log:
            n = export_run(log, run_id, endpoint)
    except Exception as exc:  # noqa: BLE001 - reported, never raised: the run is done
        print(f"mapek {who}: trace export failed: {exc}", file=sys.stderr)
        return None
    print(f"mapek {who}: exported {n} spans of run {run_id} to {traces_url(endpoint)}",
          file=sys.stderr)
    return n
