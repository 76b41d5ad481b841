"""What the app shows about a run, folded from its log events (no Textual here).

:class:`RunView` takes events in log order (``apply``) and keeps what the panes need: the
discussion lines, questions by status, themes and positions, the observer's warnings, the
approvals waiting, and the breaker's gauges (the watchdog's own :class:`RunFold` over the same
events, so the gauges and the watchdog agree).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text

from mapek.loop.questions import QUESTION_KINDS, QuestionRecord, fold_questions
from mapek.models import Event

__all__ = ["Gauge", "PersonaStyle", "RunView", "event_line", "short"]

# Events that only matter to machines: kept out of the discussion pane (history shows them).
QUIET = frozenset({"worker.started", "observer.monitor", "question.triaged", "llm.call",
                   "topic", "screen.verdict", "breaker.notified", "grant",
                   "resource.registered", "escalation.requested", "synthesis"})


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


def short(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: max(0, n - 1)] + "…"


@dataclass
class RunView:
    """A run as the panes see it; ``apply`` one event at a time, in log order."""

    run_id: str
    personas: dict[str, PersonaStyle] = field(default_factory=dict)
    spec: Any = None
    """The breaker's :class:`~mapek.breaker.policies.PolicySpec` (None: no gauges' limits)."""
    topic: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    last_seq: int = 0
    question_events: list[Event] = field(default_factory=list)
    questions: dict[str, QuestionRecord] = field(default_factory=dict)
    escalation_context: dict[str, dict[str, Any]] = field(default_factory=dict)
    """qid -> the question as the worker put it to the human (redacted text, reason)."""
    messages: dict[int, Event] = field(default_factory=dict)
    """seq -> message event (the context an answer dialog shows)."""
    last_message_by: dict[str, int] = field(default_factory=dict)
    themes: list[str] = field(default_factory=list)
    positions: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    approval_requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    approvals_done: set[str] = field(default_factory=set)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    trip: Event | None = None
    """The last ``breaker.tripped`` not followed by a new worker."""
    overrides: list[str] = field(default_factory=list)
    final: Event | None = None
    round: int = 0
    fold: Any = None

    def __post_init__(self) -> None:
        if self.spec is not None:
            from mapek.breaker.policies import RunFold

            self.fold = RunFold(self.spec)

    # -- folding -----------------------------------------------------------------------------

    def apply_all(self, events: list[Event]) -> list[Event]:
        """Fold a batch; returns the events the discussion pane shows."""
        shown = [ev for ev in events if self.apply(ev)]
        if any(ev.kind in QUESTION_KINDS for ev in events):
            self.questions = fold_questions(self.question_events)
        return shown

    def apply(self, ev: Event) -> bool:
        """Fold one event (questions are re-folded by :meth:`apply_all`); True if shown."""
        if ev.seq <= self.last_seq:
            return False
        self.last_seq = ev.seq
        if self.fold is not None:
            self.fold.apply(ev)
        k, p = ev.kind, ev.payload
        if k in QUESTION_KINDS:
            self.question_events.append(ev)
        if k == "run.started":
            self.config = p.get("config") or {}
            self.topic = self.config.get("topic") or p.get("text", "")
        elif k == "message":
            self.messages[ev.seq] = ev
            self.last_message_by[ev.actor] = ev.seq
            stance = (p.get("turn") or {}).get("stance")
            if stance and ev.actor != "human":
                self.positions[ev.actor] = stance
        elif k == "plan":
            self.round = int(p.get("round") or self.round)
        elif k == "escalation.requested":
            for q in p.get("questions", []):
                self.escalation_context[q["qid"]] = q
        elif k == "observer.analysis":
            theme = p.get("theme")
            if theme and (not self.themes or self.themes[-1] != theme):
                self.themes.append(theme)
            for name, stance in (p.get("positions") or {}).items():
                self.positions[name] = stance
            if p.get("warning"):
                self.warnings.append(f"round {p.get('round')}: {p['warning']}")
        elif k == "observer.monitor" and p.get("repetitions"):
            self.warnings.append(f"round {p.get('round')}: repeated "
                                 f"{len(p['repetitions'])} message(s) (loop?)")
        elif k == "approval.requested":
            for r in p.get("approvals", []):
                self.approval_requests[r["call_id"]] = {**r, "seq": ev.seq}
        elif k == "approval":
            self.approvals_done.add(p.get("call_id"))
        elif k == "screen.verdict":
            self.verdicts.append({**p, "seq": ev.seq})
        elif k == "breaker.tripped":
            self.trip = ev
        elif k == "worker.started":
            self.trip, self.final = None, None
        elif k == "breaker.override":
            self.overrides.append(p.get("text", ""))
        elif k in ("run.finished", "run.stopped", "run.failed", "run.paused"):
            self.final = ev
        return k not in QUIET

    # -- what the panes ask ------------------------------------------------------------------

    def by_status(self) -> dict[str, list[QuestionRecord]]:
        out: dict[str, list[QuestionRecord]] = {
            "escalated": [], "open": [], "answered": [], "deferred": []}
        for q in self.questions.values():
            out["open" if q.status in ("open", "routed") else q.status].append(q)
        return out

    def pending_questions(self) -> list[QuestionRecord]:
        return [q for q in self.questions.values() if q.status == "escalated"]

    def pending_approvals(self) -> list[dict[str, Any]]:
        return [r for cid, r in self.approval_requests.items() if cid not in self.approvals_done]

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
                return v
        return self.verdicts[-1] if self.verdicts else None

    def gauges(self, now: float | None = None) -> list[Gauge]:
        f = self.fold
        if f is None:
            return []
        if now is None:
            now = f.last_ts or 0.0
        return [Gauge("time", f.elapsed(now), f.limit("time_limit"), "s"),
                Gauge("tokens", f.tokens, f.limit("max_tokens")),
                Gauge("cost", f.usd, f.limit("max_usd"), "$"),
                Gauge("turns", f.turns, f.limit("max_turns")),
                Gauge("escalations", f.escalations, f.limit("max_escalations")
                      if f.limit("max_escalations") is not None
                      else self.config.get("escalation_budget"))]

    def circuit(self) -> str:
        if self.trip is not None:
            return "open"
        return self.fold.circuit if self.fold is not None else "closed"

    # -- lines -------------------------------------------------------------------------------

    def who(self, name: str) -> Text:
        p = self.personas.get(name)
        if p is None:
            return Text(name, style="bold")
        return Text.assemble((name, f"bold {p.color}"), (f" ({p.role})", "dim"))


def event_line(view: RunView, ev: Event) -> Text | None:
    """One event as the discussion pane shows it (None: not shown)."""
    p, k = ev.payload, ev.kind
    if k == "run.started":
        cfg = p.get("config") or {}
        return Text.assemble(("▌ ", "bold"), (cfg.get("topic", ""), "bold"), "\n",
                             (f"  personas {', '.join(cfg.get('personas', []))} · model "
                              f"{cfg.get('model')} · up to {cfg.get('max_turns')} turns", "dim"))
    if k == "agenda":
        return Text.assemble(("agenda ", "bold"), " · ".join(
            f"{i + 1}. {x}" for i, x in enumerate(p.get("items", []))))
    if k == "plan":
        if p.get("finish"):
            return Text(f"── round {p.get('round')}: the orchestrator ends the discussion "
                        f"({p.get('why')})", style="dim")
        asked = []
        for s in p.get("speakers", []):
            task = s.get("task")
            what = (f"answers {s.get('qid')}" if task == "answer" else "hears the human"
                    if task in ("react", "interjection") else task or "")
            asked.append(f"{s['persona']} ({what})")
        return Text.assemble(("── round ", "dim"), (str(p.get("round")), "bold dim"),
                             (f" · {p.get('agenda_item', '')} → ", "dim"),
                             (", ".join(asked), "cyan"))
    if k in ("orchestrator.decision", "decision.made"):
        if k == "decision.made" and p.get("point") not in ("speakers", "route"):
            return None  # plan, screen and triage decisions: in the history's timeline
        opts = p.get("options") or {}
        chosen = p.get("chosen")
        chosen_s = ", ".join(chosen) if isinstance(chosen, list) else str(chosen)
        if p.get("point") == "route":
            chosen_s = f"{p.get('subject')} → {chosen_s}"
        others = ", ".join(f"{n} {s:g}" for n, s in opts.items()
                           if n not in (chosen if isinstance(chosen, list) else [chosen]))
        return Text.assemble(("   ↳ routing: ", "dim cyan"), (chosen_s, "cyan"),
                             (f" — {p.get('why', '')}" + (f" (not taken: {others})"
                                                           if others else ""), "dim"))
    if k == "message":
        turn = p.get("turn") or {}
        head = view.who(ev.actor)
        if turn.get("stance"):
            head.append(f" · {turn['stance']}", style="dim")
        if p.get("task") == "answer" and p.get("qid"):
            head.append(f" · answers {p['qid']}", style="green")
        style = view.personas.get(ev.actor)
        body = Text.assemble(("▏ ", style.color if style else "dim"), str(p.get("text", "")))
        return Text.assemble(head, "\n", body)
    if k == "question":
        return Text.assemble((f"  ? {p.get('qid')} ", "cyan"), f"{ev.actor} → "
                             f"{p.get('to') or 'anyone'}: ", short(p.get("text", ""), 300))
    if k == "question.routed":
        return Text.assemble((f"  ↪ {p.get('qid')} ", "cyan"), f"routed to {p.get('to')} ",
                             (f"({p.get('why')})", "dim"))
    if k == "question.escalated":
        reasons = p.get("reasons") or {}
        return Text.assemble((f"  ! {', '.join(p.get('qids', []))} ", "bold yellow"),
                             "consequential, for the human ",
                             (f"({', '.join(f'{q}: {r}' for q, r in reasons.items())})", "dim"))
    if k == "question.deferred":
        return Text.assemble((f"  … {p.get('qid')} ", "yellow"),
                             f"deferred: {short(p.get('note', ''), 200)}")
    if k == "answer":
        if ev.actor == "human":
            return Text.assemble((f"  ✓ {p.get('qid')} ", "bold green"),
                                 ("you answered: ", "bold"), short(p.get("text", ""), 500))
        return Text.assemble((f"  ✓ {p.get('qid')} ", "green"), f"answered by {ev.actor}",
                             style="dim")
    if k == "interjection":
        to = f" (to {p['to']})" if p.get("to") else ""
        return Text.assemble(("▶ you", "bold reverse"), (f" interject{to}: ", "bold"),
                             short(p.get("text", ""), 2000))
    if k == "tool.call":
        if p.get("outcome") == "refused":
            return Text(f"  ✗ {ev.actor}: {p.get('tool')} refused", style="red dim")
        return Text(f"  ⚙ {ev.actor} ran {p.get('tool')} ({p.get('effect')}): "
                    f"{p.get('outcome')}", style="dim")
    if k == "approval.requested":
        return Text.assemble(*[Text.assemble((f"  ? {r['call_id']} ", "bold red"),
                                             f"{r.get('proposed_by')} asks to run "
                                             f"{r.get('tool')} ({r.get('effect')}) "
                                             f"{json.dumps(r.get('args', {}))}: needs your "
                                             "approval (p)\n")
                               for r in p.get("approvals", [])]).rstrip() or None
    if k == "approval":
        ok = p.get("approved")
        return Text(f"  {p.get('call_id')} {'approved' if ok else 'refused'} by the human",
                    style="green" if ok else "red")
    if k in ("screen.output", "screen.human"):
        return Text(f"  ⚑ {k} {', '.join(p.get('kinds', []))}", style="magenta")
    if k == "observer.analysis":
        if p.get("warning"):
            return Text(f"  observer: {p['warning']}", style="magenta")
        return None
    if k == "run.limit":
        return Text(f"limit reached: {p.get('limit')} {p.get('value')}", style="bold red")
    if k == "run.paused":
        return Text(f"paused after round {p.get('round', '?')}", style="dim")
    if k in ("run.stopped", "run.failed"):
        return Text(f"{k}: {p.get('reason', '')}", style="bold red")
    if k == "breaker.tripped":
        return Text(f"⏻ breaker tripped ({p.get('policy')}): {p.get('reason')}",
                    style="bold white on red")
    if k == "breaker.stopped":
        return Text(f"  worker stopped ({'SIGTERM' if p.get('how') == 'term' else 'SIGKILL'} "
                    f"after {p.get('elapsed_ms', 0):.0f} ms); resumable", style="red")
    if k == "breaker.override":
        return Text(f"breaker override: {p.get('text', '')}", style="yellow")
    if k in ("worker.unwatched", "worker.watched"):
        return Text(f"{k}", style="yellow")
    if k == "run.finished":
        return Text(f"── finished: {p.get('status')}", style="bold")
    if k in ("evidence.rejected", "evidence.escalated", "effect.in_doubt"):
        return Text(f"  ⚑ {k}: {short(p.get('reason') or p.get('text') or '', 200)}",
                    style="magenta")
    return None  # machine events (and kinds this app does not know): see the history
