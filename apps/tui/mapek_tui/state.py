"""What the app shows about a run, folded from its log events (no Textual here).

:class:`RunView` takes events in log order (``apply``) and keeps what the panes need. The run's
own figures (its configuration, questions by status, approvals waiting, the round, the trip)
come from :class:`mapek.fold.RunFold`, the fold every front end reads; the breaker's gauges
from the watchdog's own :class:`~mapek.breaker.policies.BreakerFold` over the same events (so the
gauges and the watchdog agree; it holds the run's fold). The view adds what only the panes
want: the discussion's messages, themes and positions, the observer's warnings, the
screening verdicts. Lines of the discussion pane are :func:`mapek.render.event_text`'s, the
renderer the command line prints with too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.text import Text

from mapek.events import (
    BreakerOverride,
    EscalationRequested,
    Message,
    ObserverAnalysis,
    ObserverMonitor,
    RunConfig,
    typed,
)
from mapek.fold import QuestionRecord, RunFold, Trip
from mapek.models import Event
from mapek.render import Viewer, event_text, short, who

__all__ = ["Gauge", "PersonaStyle", "RunView", "event_line", "short"]

# Events that only matter to machines: kept out of the discussion pane (history shows them).
# Calls waiting for approval are the banner's and the approval dialog's (p).
QUIET = frozenset({"worker.started", "observer.monitor", "question.triaged", "llm.call",
                   "topic", "screen.verdict", "breaker.notified", "grant",
                   "resource.registered", "escalation.requested", "synthesis",
                   "approval.requested"})


@dataclass(frozen=True)
class PersonaStyle:
    color: str
    role: str


@dataclass(frozen=True)
class Gauge:
    """One budget: what was used against its limit (None: no limit)."""

    name: str
    used: float
    limit: float | None
    unit: str = ""

    @property
    def fraction(self) -> float | None:
        if not self.limit:
            return None
        return min(1.0, self.used / self.limit)

    def label(self) -> str:
        def fmt(x: float) -> str:
            if self.name == "cost":
                return f"${x:.3f}" if x < 10 else f"${x:,.0f}"
            unit = "s" if self.name == "time" else ""
            for size, suffix in ((1e6, "M"), (1e3, "k")):
                if abs(x) >= size * 10:
                    return f"{x / size:.0f}{suffix}{unit}"
            return f"{x:.0f}{unit}"

        return fmt(self.used) + (f"/{fmt(self.limit)}" if self.limit is not None else "")


@dataclass
class RunView:
    """A run as the panes see it; ``apply`` one event at a time, in log order."""

    run_id: str
    personas: dict[str, PersonaStyle] = field(default_factory=dict)
    spec: Any = None
    """The breaker's :class:`~mapek.breaker.policies.PolicySpec` (None: no gauges' limits)."""
    last_seq: int = 0
    escalation_context: dict[str, dict[str, Any]] = field(default_factory=dict)
    """qid -> the question as the worker put it to the human (redacted text, reason)."""
    messages: dict[int, Event] = field(default_factory=dict)
    """seq -> message event (the context an answer dialog shows)."""
    last_message_by: dict[str, int] = field(default_factory=dict)
    themes: list[str] = field(default_factory=list)
    positions: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    fold: Any = None
    """The breaker's fold (None without a spec)."""
    run: RunFold = field(default_factory=RunFold)
    """The run's figures (the breaker's fold keeps it up to date when there is one)."""
    session_config: RunConfig | None = None
    """The session's configuration as the front end opened it: the gauges' own limits before
    ``run.started`` has been read."""

    def __post_init__(self) -> None:
        if self.spec is not None:
            from mapek.breaker.policies import BreakerFold

            self.fold = BreakerFold(self.spec)
            self.run = self.fold.run
        self.run.run_id = self.run_id

    # -- folding -----------------------------------------------------------------------------

    def apply_all(self, events: list[Event]) -> list[Event]:
        """Fold a batch; returns the events the discussion pane shows."""
        return [ev for ev in events if self.apply(ev)]

    def apply(self, ev: Event) -> bool:
        """Fold one event; True if the discussion pane shows it."""
        if ev.seq <= self.last_seq:
            return False
        self.last_seq = ev.seq
        if self.fold is not None:
            self.fold.apply(ev)
        else:
            self.run.add(ev)
        k = ev.kind
        if k == "message":
            self.messages[ev.seq] = ev
            self.last_message_by[ev.actor] = ev.seq
            said = typed(ev)
            if isinstance(said, Message) and said.turn.stance and ev.actor != "human":
                self.positions[ev.actor] = said.turn.stance
        elif k == "escalation.requested":
            esc = typed(ev)
            if isinstance(esc, EscalationRequested):
                for q in esc.questions:
                    self.escalation_context[q.qid] = q.dump()
        elif k == "observer.analysis":
            a = typed(ev)
            if isinstance(a, ObserverAnalysis):
                if a.theme and (not self.themes or self.themes[-1] != a.theme):
                    self.themes.append(a.theme)
                self.positions.update(a.positions)
                if a.warning:
                    self.warnings.append(f"round {a.round}: {a.warning}")
        elif k == "observer.monitor":
            m = typed(ev)
            if isinstance(m, ObserverMonitor) and m.repetitions:
                self.warnings.append(f"round {m.round}: repeated "
                                     f"{len(m.repetitions)} message(s) (loop?)")
        elif k == "screen.verdict":
            self.verdicts.append({**ev.payload, "seq": ev.seq})
        elif k == "breaker.override":
            o = typed(ev)
            self.overrides.append(o.text if isinstance(o, BreakerOverride) else "")
        return k not in QUIET

    # -- the run's figures -------------------------------------------------------------------

    @property
    def config(self) -> RunConfig:
        return self.run.config

    @property
    def topic(self) -> str:
        return self.run.topic

    @property
    def round(self) -> int:
        return self.run.round

    @property
    def questions(self) -> dict[str, QuestionRecord]:
        return self.run.questions

    @property
    def trip(self) -> Trip | None:
        """The trip that stopped the current worker (None once a new worker started)."""
        return self.run.worker_trip

    @property
    def final(self) -> Event | None:
        """The current worker's final event."""
        return self.run.current_final

    # -- what the panes ask ------------------------------------------------------------------

    def by_status(self) -> dict[str, list[QuestionRecord]]:
        out: dict[str, list[QuestionRecord]] = {
            "escalated": [], "open": [], "answered": [], "deferred": []}
        for q in self.questions.values():
            out["open" if q.status in ("open", "routed") else q.status].append(q)
        return out

    def pending_questions(self) -> list[QuestionRecord]:
        return self.run.pending_questions()

    def pending_approvals(self) -> list[dict[str, Any]]:
        """Calls waiting for a person; none once the run has finished (a call still waiting
        then did not run, and cannot now: the synthesis lists it)."""
        final = self.run.current_final
        if final is not None and final.kind == "run.finished":
            return []
        return [{**w.request, "seq": w.seq} for w in self.run.pending_approvals()]

    def context_for(self, q: QuestionRecord) -> Event | None:
        """The message in which the question was raised (the asker's last turn before it)."""
        best = None
        for seq, ev in self.messages.items():
            if ev.actor == q.asked_by and seq < q.asked_seq and (best is None or seq > best.seq):
                best = ev
        return best

    def verdict_for(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """The screening verdict that held this call back for approval."""
        cid = request["call_id"]
        for v in reversed(self.verdicts):
            if cid in (v.get("parked") or {}) or any(a.get("call_id") == cid
                                                     for a in v.get("pending", [])):
                return dict(v)
        return dict(self.verdicts[-1]) if self.verdicts else None

    def limit(self, field: str) -> float | None:
        """The limit a gauge shows: the session's own (``--max-turns 8`` shows 8) where the
        breaker's is that limit plus the watchdog's slack, else the breaker's (a raised or a
        policy limit)."""
        if self.fold is None:
            return None
        from mapek.breaker.watchdog import session_limits

        found = self.fold.limit(field)
        breaker = float(found) if found is not None else None
        cfg = self.config if self.config.personas or self.session_config is None \
            else self.session_config
        slacked = session_limits({"config": cfg.model_dump()}).get(field)
        own = getattr(cfg, field, None)
        if breaker is not None and slacked is not None and own is not None \
                and breaker == slacked:
            return float(own)
        return breaker

    def gauges(self, now: float | None = None) -> list[Gauge]:
        f = self.fold
        if f is None:
            return []
        if now is None:
            now = f.last_ts or 0.0
        return [Gauge("time", f.elapsed(now), self.limit("time_limit"), "s"),
                Gauge("tokens", f.tokens, self.limit("max_tokens")),
                Gauge("cost", f.usd, self.limit("max_usd"), "$"),
                Gauge("turns", f.turns, self.limit("max_turns")),
                Gauge("escalations", f.escalations, f.limit("max_escalations")
                      if f.limit("max_escalations") is not None
                      else self.config.escalation_budget)]

    def circuit(self) -> str:
        if self.trip is not None:
            return "open"
        return self.fold.circuit if self.fold is not None else "closed"

    # -- lines -------------------------------------------------------------------------------

    def who(self, name: str) -> Text:
        return who(name, self.personas)

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.personas, you="you")


def event_line(view: RunView, ev: Event) -> Text | None:
    """One event as the discussion pane shows it (None: not shown)."""
    return event_text(ev, view.viewer)
