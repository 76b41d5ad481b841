"""Showing a run's events to a person: one line (or block) of rich text per event.

:func:`event_text` is the one renderer: ``mapek discuss``, ``mapek resume`` and ``mapek runs
show`` print its text (:class:`EventRenderer`), and the terminal app writes it into its
discussion pane. A :class:`Viewer` says who is looking: the personas' colours and roles, how the
person at the front end is named (``the human`` in a terminal log, ``you`` in the app), and
whether machine events are wanted (``verbose``). Payloads are read through their typed models
(:mod:`mapek.events`). :func:`event_summary` is the one-line gist a timeline shows.

Every string an event brings (payload, actor) is shown through
:func:`mapek.safety.display.for_display`: secrets masked, control characters (terminal escape
sequences) made visible; whatever text is made is checked once more for control characters.

Rich is imported when text is made, not when this module is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from mapek.events import (
    Agenda,
    Answer,
    Approval,
    ApprovalRequested,
    BreakerNotified,
    BreakerOverride,
    BreakerStopped,
    BreakerTripped,
    DecisionMade,
    Interjection,
    LegacyDecision,
    LLMCall,
    Message,
    ObserverAnalysis,
    Plan,
    Question,
    QuestionDeferred,
    QuestionEscalated,
    QuestionRouted,
    RunFinished,
    RunLimit,
    RunPaused,
    RunStarted,
    ScreenFindings,
    ScreenVerdict,
    ToolCall,
    typed,
)
from mapek.models import Event
from mapek.safety.display import display_payload, for_display, visible_controls

if TYPE_CHECKING:
    from rich.text import Text

__all__ = ["EventRenderer", "Viewer", "event_text", "event_summary", "safe_event", "who",
           "short", "QUIET_KINDS", "partial_text", "CURSOR"]

QUIET_KINDS = frozenset({"worker.started", "observer.monitor", "question.triaged", "llm.call",
                         "topic"})
"""Events that only matter to machines: shown only to a verbose viewer."""


class PersonaLook(Protocol):
    """What a persona looks like on screen (a :class:`~mapek.models.Persona` is one)."""

    @property
    def color(self) -> str: ...

    @property
    def role(self) -> str: ...


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the events."""

    personas: Mapping[str, PersonaLook] = field(default_factory=dict)
    you: str = "the human"
    """How the person at this front end is named: ``the human`` (a terminal log that others
    may read), ``you`` (the app)."""
    verbose: bool = False
    """Show machine events too (model calls, every decision, screening verdicts...)."""
    offline: bool = False
    """Say that the session's model is the offline one (scripted, not reasoned)."""


def short(text: str, n: int) -> str:
    """``text`` on one line, cut to ``n`` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: max(0, n - 1)] + "…"


def who(name: str, personas: Mapping[str, PersonaLook]) -> Text:
    """A persona's name in its colour, with its role."""
    from rich.text import Text

    p = personas.get(name)
    if p is None:
        return Text(name, style="bold")
    return Text.assemble((name, f"bold {p.color}"), (f" ({p.role})", "dim"))


CURSOR = "▌"
"""Ends a turn still being spoken."""


def partial_text(actor: str, text: str, viewer: Viewer | None = None) -> Text:
    """A persona's turn in progress (:mod:`mapek.partial`): its name, ``speaking…`` and what
    it has said so far, dim, with a cursor; shown until its message comes, never as one."""
    from rich.text import Text

    v = viewer or Viewer()
    name = for_display(actor, keep_newlines=False)
    head = who(name, v.personas)
    head.append(" · speaking…", style="dim italic")
    style = v.personas.get(name)
    said = visible_controls(for_display(text), same_length=True)
    body = Text.assemble(("▏ ", style.color if style else "dim"), (said, "dim"),
                         (CURSOR, "bold"))
    return Text.assemble(head, "\n", body)


def event_text(ev: Event, viewer: Viewer | None = None) -> Text | None:
    """One event as a person reads it (None: not shown to this viewer)."""
    from rich.text import Text

    v = viewer or Viewer()
    if ev.kind in QUIET_KINDS and not v.verbose:
        return None
    ev = safe_event(ev)
    out = _text(ev, v)
    if out is None and v.verbose:
        out = Text(f"{ev.seq:>5} {ev.kind} {ev.actor} {ev.payload}", style="dim")
    if out is not None:  # the last guard: one visible character for each control one
        plain = out.plain
        shown = visible_controls(plain, same_length=True)
        if shown != plain:
            out.plain = shown
    return out


def safe_event(ev: Event) -> Event:
    """``ev`` with its actor and every payload string as a person may see them (secrets
    masked, control characters visible): what the renderer reads."""
    return ev.model_copy(update={"actor": for_display(ev.actor, keep_newlines=False),
                                 "payload": display_payload(ev.payload)})


def _text(ev: Event, v: Viewer) -> Text | None:  # noqa: C901, PLR0911, PLR0912 - one per kind
    from rich.text import Text

    k = ev.kind
    if k in QUIET_KINDS:
        return None
    p = typed(ev)
    human = v.you
    if isinstance(p, RunStarted):
        cfg = p.config
        model = cfg.model + (" (offline: scripted, not reasoned)" if v.offline else "")
        return Text.assemble(("▌ ", "bold"), (cfg.topic, "bold"), "\n",
                             (f"  personas {', '.join(cfg.personas)} · model {model} · up to "
                              f"{cfg.max_turns} turns", "dim"))
    if isinstance(p, Agenda):
        return Text.assemble(("agenda ", "bold"), " · ".join(
            f"{i + 1}. {x}" for i, x in enumerate(p.items)))
    if isinstance(p, Plan):
        if p.finish:
            return Text(f"── round {p.round}: the orchestrator ends the discussion "
                        f"({p.why})", style="dim")
        if p.settle:
            return Text(f"── round {p.round}: the orchestrator ends the discussion ({p.why}) "
                        f"once {len(p.settle)} waiting call(s) are screened and settled",
                        style="dim")
        asked = []
        for s in p.speakers:
            what = (f"answers {s.qid}" if s.task == "answer" else "hears the human"
                    if s.task in ("react", "interjection") else s.task)
            asked.append(f"{s.persona} ({what})")
        return Text.assemble(("── round ", "dim"), (str(p.round), "bold dim"),
                             (f" · {p.agenda_item} → ", "dim"), (", ".join(asked), "cyan"))
    if isinstance(p, DecisionMade | LegacyDecision):
        return _decision(p, v)
    if isinstance(p, Message):
        head = who(ev.actor, v.personas)
        if p.turn.stance:
            head.append(f" · {p.turn.stance}", style="dim")
        if p.task == "answer" and p.qid:
            head.append(f" · answers {p.qid}", style="green")
        style = v.personas.get(ev.actor)
        body = Text.assemble(("▏ ", style.color if style else "dim"), p.text)
        return Text.assemble(head, "\n", body)
    if isinstance(p, Question):
        return Text.assemble((f"  ? {p.qid} ", "cyan"), f"{ev.actor} → {p.to or 'anyone'}: ",
                             short(p.text, 300))
    if isinstance(p, QuestionRouted):
        return Text.assemble((f"  ↪ {p.qid} ", "cyan"), f"routed to {p.to} ",
                             (f"({p.why})", "dim"))
    if isinstance(p, QuestionEscalated):
        return Text.assemble((f"  ! {', '.join(p.qids)} ", "bold yellow"),
                             "consequential, for the human ",
                             (f"({', '.join(f'{q}: {r}' for q, r in p.reasons.items())})", "dim"))
    if isinstance(p, QuestionDeferred):
        return Text.assemble((f"  … {p.qid} ", "yellow"), f"deferred: {short(p.note, 200)}")
    if isinstance(p, Answer):
        if ev.actor == "human":
            return Text.assemble((f"  ✓ {p.qid} ", "bold green"), (f"{human} answered: ", "bold"),
                                 short(p.text, 500))
        return Text.assemble((f"  ✓ {p.qid} ", "green"), f"answered by {ev.actor}", style="dim")
    if isinstance(p, Interjection):
        to = f" (to {p.to})" if p.to else ""
        verb = "interject" if human == "you" else "interjects"
        return Text.assemble((f"▶ {human}", "bold reverse"), (f" {verb}{to}: ", "bold"),
                             short(p.text, 2000))
    if isinstance(p, ScreenVerdict):
        lines = [Text.assemble(("  ✗ screened out ", "red"),
                               f"{r.tool} {r.args} proposed by {r.proposed_by}: {r.reason}")
                 for r in p.refused]
        return Text("\n").join(lines) if lines else None
    if isinstance(p, ToolCall):
        if p.outcome == "refused":
            return Text(f"  ✗ {ev.actor}: {p.tool} refused", style="red dim")
        if p.outcome == "invalid":  # not run: the proposer is re-asked
            return Text(f"  ✗ {ev.actor}: {p.tool} not run, {short(p.reason, 300)}", style="dim")
        return Text(f"  ⚙ {ev.actor} ran {p.tool} ({p.effect}): {p.outcome}", style="dim")
    if isinstance(p, ApprovalRequested):
        lines = [Text.assemble((f"  ? {r.call_id} ", "bold red"),
                               f"{r.proposed_by} asks to run {r.tool} ({r.effect}) "
                               f"{json.dumps(r.args)}: needs {_your(human)} approval")
                 for r in p.approvals]
        return Text("\n").join(lines) if lines else None
    if isinstance(p, Approval):
        verdict = "recorded as having happened" if p.happened else \
            "approved" if p.approved else "refused"
        by = f"by policy: {p.note}" if ev.actor == "policy" else f"by the {ev.actor}"
        return Text(f"  {p.call_id} {verdict} {by}", style="green" if p.approved else "red")
    if isinstance(p, ScreenFindings):
        tool = p.get("tool")
        return Text(f"  ⚑ {k} {', '.join(p.kinds)}"
                    + (f" in the output of {tool}" if tool else "")
                    + (" (quarantined)" if k == "screen.output" else " (redacted)"),
                    style="magenta")
    if isinstance(p, ObserverAnalysis):
        if p.warning:
            return Text(f"  observer: {p.warning}", style="magenta")
        return Text(f"  observer: {p.status}", style="magenta") if v.verbose else None
    if isinstance(p, RunLimit):
        return Text(f"limit reached: {p.limit} {p.value}", style="bold red")
    if isinstance(p, RunPaused):
        return Text(f"paused after round {p.round if p.round is not None else '?'}",
                    style="dim")
    if k in ("run.stopped", "run.failed"):
        return Text(f"{k}: {p.get('reason') or ''}", style="bold red")
    if isinstance(p, BreakerTripped):
        return Text(f"⏻ breaker tripped ({p.policy}): {p.reason}", style="bold white on red")
    if isinstance(p, BreakerStopped):
        return Text(f"  worker stopped ({'SIGTERM' if p.how == 'term' else 'SIGKILL'} "
                    f"after {p.elapsed_ms:.0f} ms); resumable", style="red")
    if isinstance(p, BreakerNotified):
        return Text(f"  notified {p.notifier}: {'ok' if p.ok else 'FAILED'} ({p.detail})",
                    style="dim")
    if isinstance(p, BreakerOverride):
        return Text(f"breaker override: {p.text}", style="yellow")
    if k in ("breaker.half_open", "breaker.closed", "worker.unwatched", "worker.watched",
             "watchdog.restarted", "watchdog.respawned", "checkpoint.discarded"):
        text = p.get("text")
        return Text(f"{k}: {text}" if text else k, style="yellow")
    if isinstance(p, RunFinished):
        return Text(f"── finished: {p.status}", style="bold")
    if k in ("evidence.rejected", "evidence.escalated", "effect.in_doubt"):
        return Text(f"  ⚑ {k}: {short(p.get('reason') or p.get('text') or '', 200)}",
                    style="magenta")
    return None  # machine events, and kinds this renderer does not know


def _your(human: str) -> str:
    return "your" if human == "you" else f"{human}'s"


def _decision(p: DecisionMade | LegacyDecision, v: Viewer) -> Text | None:
    """Routing and speaker choices as one line; a verbose viewer sees every decision whole."""
    from rich.text import Text

    chosen = p.chosen
    chosen_s = ", ".join(chosen) if isinstance(chosen, list) else str(chosen)
    if isinstance(p, DecisionMade) and v.verbose:  # the whole record: every option's score
        return Text(f"  ⤷ {p.point} {p.subject}: chose {chosen_s or '(none)'} of "
                    f"{', '.join(f'{o} {s:g}' for o, s in p.options.items())} ({p.why})",
                    style="dim")
    if isinstance(p, DecisionMade) and p.point not in ("speakers", "route"):
        return None  # plan, screen and triage decisions: in the history's timeline
    if isinstance(p, DecisionMade) and p.point == "route":
        chosen_s = f"{p.subject} → {chosen_s}"
    others = ", ".join(f"{n} {s:g}" for n, s in p.options.items()
                       if n not in (chosen if isinstance(chosen, list) else [chosen]))
    return Text.assemble(("   ↳ routing: ", "dim cyan"), (chosen_s, "cyan"),
                         (f" — {p.why}" + (f" (not taken: {others})" if others else ""), "dim"))


def event_summary(ev: Event) -> str:
    """An event's gist on one line (for a timeline)."""
    p = typed(safe_event(ev))
    text = p.get("text") or p.get("reason") or p.get("why") or p.get("tool") or ""
    if not text and isinstance(p, Plan):
        text = ", ".join(s.persona for s in p.speakers)
    if not text and isinstance(p, LLMCall):
        text = f"{p.task} {p.prompt_tokens}+{p.completion_tokens}"
    return short(str(text), 160)


class EventRenderer:
    """Prints events to a rich console (:func:`event_text`), each persona in its colour and
    role; a session's first event under a rule naming the run."""

    _SOFT = frozenset({"approval.requested", "breaker.tripped", "decision.made",
                       "screen.verdict"})
    """Kinds printed without hard wrapping (arguments and reasons are copied from them)."""

    def __init__(self, console: Any, personas: Mapping[str, PersonaLook] | None = None,
                 verbose: bool = False, offline: bool = False) -> None:
        self.c = console
        self.viewer = Viewer(personas or {}, verbose=verbose, offline=offline)

    def render(self, ev: Event) -> None:
        text = event_text(ev, self.viewer)
        if text is None:
            return
        if ev.kind == "run.started":
            self.c.rule(f"run {for_display(ev.run_id, keep_newlines=False)}", style="dim")
        self.c.print(text, soft_wrap=ev.kind in self._SOFT)
