"""Decision records: each choice the loop makes, the options it weighed, and what followed.

The loop writes one ``decision.made`` event at each decision point, with the options it
considered, each with its score, beside the one it chose:

========== ======== =========== ============================================================
point      node     subject     options (score), chosen
========== ======== =========== ============================================================
plan       plan     round       ``continue``/``finish`` (1 for what the stop rules say);
                                the signals they read are in ``context``
speakers   plan     round       each persona (least spoken + agenda relevance); the speakers
route      plan     qid         each peer (expertise + knowledge-base match); the peer asked
screen     screen   round       each proposed action ``step:tool`` (risk: 0 allow,
                                1 needs approval, 2 deny); the actions allowed to run
triage     analyse  qid         ``consequential``/``trivial`` (the rules' score); the label
========== ======== =========== ============================================================

The key is ``decision:{point}:{subject}``: durable identity, so a node re-run after a crash or
a resume finds its decision already in the log and records nothing twice.

Outcomes are derived from the log when it is read (:func:`decisions_of`), not written as links
at the time: most outcomes are recorded later and by other writers (a persona turn's model
calls, the watchdog's trip, the human's answer, an evidence check) that do not know which
decision led to them, and an append-only log cannot amend a decision afterwards. The rules
below link each outcome by identity where one exists (the question id, the key a screened
call runs under, a trip's event seqs or the calls an evidence verdict cites, an event whose
``parent`` is the decision) and otherwise by the round it happened in. Older runs, whose
decisions were ``orchestrator.decision`` events, are read the same way.
"""

from __future__ import annotations

import json
import os
import tempfile
from bisect import bisect_right
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mapek.errors import ConfigError, UnknownRunError
from mapek.events import (
    FINAL_KINDS,
    Answer,
    Approval,
    ApprovalRequested,
    BreakerTripped,
    DecisionMade,
    EffectInDoubt,
    EvidenceEscalated,
    EvidenceVerdict,
    LegacyDecision,
    LLMCall,
    Message,
    Payload,
    QuestionDeferred,
    QuestionEscalated,
    ToolCall,
    typed,
    typed_as,
)
from mapek.fold import ESCALATION_KINDS, RunFold, Spend

if TYPE_CHECKING:
    from mapek.loop.context import LoopContext
    from mapek.models import Event

__all__ = ["KIND", "POINTS", "Decision", "DecisionRecord", "Outcomes", "RunSummary",
           "Comparison", "decide", "record_screening", "decisions_of", "summarise", "compare",
           "export"]

KIND = "decision.made"
"""The event kind of a decision record."""
LEGACY_KIND = "orchestrator.decision"
"""What routing and speaker decisions were recorded as before; still read."""

Point = Literal["plan", "speakers", "route", "screen", "triage"]
POINTS: tuple[str, ...] = ("plan", "speakers", "route", "screen", "triage")
"""Decision points, in the order they come within a round."""
_ORDER = {p: i for i, p in enumerate(("plan", "route", "speakers", "screen", "triage"))}
_RISK = {"allow": 0.0, "needs_approval": 1.0, "deny": 2.0}
_FINALS = FINAL_KINDS
_ESCALATIONS = ESCALATION_KINDS
_EVIDENCE = ("evidence.accepted", "evidence.rejected")


class Decision(BaseModel):
    """One decision, as written in the payload of a ``decision.made`` event."""

    model_config = ConfigDict(extra="forbid")

    point: Point
    subject: str = Field(min_length=1)
    """What it decided about, unique within the point: the round, or the question id."""
    round: int
    node: str
    """The graph node that decided."""
    options: dict[str, float]
    """Every option considered, with its score (higher is preferred, except screening risk)."""
    chosen: str | list[str]
    why: str
    context: dict[str, Any] = Field(default_factory=dict)
    """The signals the decision read, for later learning."""

    @property
    def key(self) -> str:
        return f"decision:{self.point}:{self.subject}"


def decide(ctx: LoopContext, point: Point, subject: Any, rnd: int, node: str,
           options: dict[str, float],
           chosen: str | list[str], why: str, context: dict[str, Any] | None = None,
           actor: str = "orchestrator") -> None:
    """Record a decision through the loop context (idempotent by its key), with the node's
    other records (:meth:`~mapek.loop.context.LoopContext.note`)."""
    d = Decision(point=point, subject=str(subject), round=rnd, node=node, options=options,
                 chosen=chosen, why=why, context=context or {})
    ctx.note(KIND, actor, d.model_dump(), key=d.key)


def record_screening(ctx: LoopContext, verdict: dict[str, Any]) -> None:
    """The screen node's decision of a round: which of the actions proposed for it may run.

    Calls a human approved or refused since an earlier round (queue sessions) are that
    earlier screening's outcome, not this round's choice, and are left out; calls parked
    this round to wait for a human are in it, as waiting (``pending`` in ``context``)."""
    rnd = verdict["round"]

    def mine(a: dict[str, Any]) -> bool:
        return bool(a.get("call_id", f"tool:{rnd}:{a['step']}") == f"tool:{rnd}:{a['step']}")

    groups = {g: [a for a in verdict.get(g) or [] if mine(a)]
              for g in ("allowed", "refused", "pending")}
    groups["pending"] += [a for a in (verdict.get("parked") or {}).values() if mine(a)]
    items = sorted((a for g in groups.values() for a in g), key=lambda a: a["step"])
    if not items:
        return
    name = {a["step"]: f"{a['step']}:{a['tool']}" for a in items}
    options = {name[a["step"]]: _RISK.get(a.get("decision", "allow"), 0.0) for a in items}
    chosen = [name[a["step"]] for a in sorted(groups["allowed"], key=lambda a: a["step"])]
    refused = {name[a["step"]]: a.get("reason", "") for a in groups["refused"]}
    pending = sorted(name[a["step"]] for a in groups["pending"])
    why = "; ".join([*(f"{k} refused: {r}" for k, r in refused.items()),
                     *(f"{k} waits for a human's approval" for k in pending)]) \
        or "every proposed action passed screening"
    decide(ctx, "screen", rnd, rnd, "screen", options, chosen, why,
                  {"verdict": verdict.get("verdict"), "plan_verdict": verdict.get("plan_verdict"),
                   "refused": sorted(refused), "pending": pending,
                   "calls": {name[a["step"]]: a.get("key") or a.get("call_id")
                             or f"tool:{rnd}:{a['step']}" for a in items},
                   "proposed_by": {name[a["step"]]: a.get("proposed_by") for a in items},
                   "catalogue_ids": {name[a["step"]]: a.get("catalogue_ids", [])
                                     for a in items}},
                  actor="screen")


# -- reading -----------------------------------------------------------------------------------


@dataclass
class Outcomes:
    """What followed a decision, as the log shows it."""

    spend: Spend = field(default_factory=Spend)
    """The model calls it led to, with their tokens, cost and time."""
    turns: list[dict[str, Any]] = field(default_factory=list)
    """The persona turns it led to: seq, persona, round."""
    escalations: list[dict[str, Any]] = field(default_factory=list)
    """Questions escalated to the human and approvals asked of them."""
    answers: list[dict[str, Any]] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    """seq, tool, outcome (``refused`` included), actor."""
    approvals: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    """``evidence.accepted`` / ``evidence.rejected`` events: seq, verdict, detail."""
    trips: list[dict[str, Any]] = field(default_factory=list)
    ended: str | None = None
    """The run's final status, if the run ended within this decision's reach."""
    linked: list[int] = field(default_factory=list)
    """Seqs of every event linked to the decision."""

    @property
    def llm_calls(self) -> int:
        return self.spend.calls

    @property
    def tokens(self) -> int:
        return self.spend.tokens

    @property
    def usd(self) -> float:
        return self.spend.usd

    @property
    def model_ms(self) -> float:
        return self.spend.ms

    @property
    def refused_tool_calls(self) -> int:
        return sum(t["outcome"] == "refused" for t in self.tool_calls)

    def to_dict(self) -> dict[str, Any]:
        # Shallow (no asdict deep copy: it was most of an export's time); the lists are fresh.
        out = {k: v for k, v in vars(self).items() if k != "spend"}
        return {"llm_calls": self.llm_calls, "tokens": self.tokens, "usd": round(self.usd, 8),
                "model_ms": round(self.model_ms, 3), **out,
                "refused_tool_calls": self.refused_tool_calls}


@dataclass
class DecisionRecord:
    """A decision read back from the log, with the outcomes linked to it."""

    run_id: str
    seq: int
    ts: float
    actor: str
    decision: Decision
    outcomes: Outcomes = field(default_factory=Outcomes)

    @property
    def key(self) -> str:
        return self.decision.key

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "seq": self.seq, "ts": self.ts, "actor": self.actor,
                "key": self.key, **self.decision.model_dump(),
                "outcomes": self.outcomes.to_dict()}


def _legacy(p: LegacyDecision) -> Decision:
    """An ``orchestrator.decision`` payload (round, decision, options, chosen, why)."""
    point, _, qid = p.decision.partition(":")
    return Decision(point="route" if point == "route" else "speakers",
                    subject=qid if point == "route" else str(p.round),
                    round=p.round, node="plan", options=dict(p.options), chosen=p.chosen,
                    why=p.why)


def _link(out: Outcomes, ev: Event, p: Payload | None = None) -> None:
    """Attach one outcome event (with its typed payload, if read already) to a decision's
    outcomes."""
    if ev.seq in out.linked:
        return
    out.linked.append(ev.seq)
    if p is None:
        p = typed(ev)
    if isinstance(p, LLMCall):
        out.spend.add(p)
    elif isinstance(p, Message):
        out.turns.append({"seq": ev.seq, "persona": ev.actor, "round": p.round})
    elif isinstance(p, QuestionEscalated):
        out.escalations.extend({"seq": ev.seq, "qid": q, "kind": "question"} for q in p.qids)
    elif isinstance(p, ApprovalRequested):
        out.escalations.extend({"seq": ev.seq, "call_id": a.call_id, "kind": "approval"}
                               for a in p.approvals)
    elif isinstance(p, EvidenceEscalated):
        out.escalations.append({"seq": ev.seq, "qid": p.qid or None, "kind": "evidence"})
    elif isinstance(p, EffectInDoubt):
        out.escalations.append({"seq": ev.seq, "call_id": p.key or None, "kind": "effect"})
    elif isinstance(p, Answer):
        out.answers.append({"seq": ev.seq, "qid": p.qid or None, "by": ev.actor})
    elif isinstance(p, QuestionDeferred):
        out.deferred.append(str(p.qid or None))
    elif isinstance(p, ToolCall):
        out.tool_calls.append({"seq": ev.seq, "tool": p.tool or None,
                               "outcome": p.outcome or None, "actor": ev.actor})
    elif isinstance(p, Approval):
        out.approvals.append({"seq": ev.seq, "call_id": p.call_id or None,
                              "approved": p.approved})
    elif isinstance(p, EvidenceVerdict):
        task = p.task
        out.evidence.append({"seq": ev.seq, "verdict": ev.kind.split(".", 1)[1],
                             "task": f"{task.get('type')}:{task.get('id')}"
                             if isinstance(task, dict) else task,
                             "producer": p.producer or None,
                             "detail": "; ".join(p.reasons) or p.get("reason") or p.text
                             or None})
    elif isinstance(p, BreakerTripped):
        out.trips.append({"seq": ev.seq, "policy": p.policy or None, "reason": p.reason or None})


_ROUND_KINDS = ("llm.call", "message", *_ESCALATIONS, "tool.call", "approval", *_EVIDENCE,
                "breaker.tripped", "question.deferred", "answer")


def decisions_of(kb: Any, run_id: str) -> list[DecisionRecord]:
    """Every decision of a run, in log order, with its outcomes derived from the log.

    Linking rules, each by identity where there is one:

    - ``plan`` of round r: everything from it to the next round's plan (the round's model
      calls, turns, escalations, tool calls, approvals, evidence verdicts, trips) and, for a
      ``finish``, the synthesis and the run's end.
    - ``speakers`` of round r: the chosen speakers' turns of round r and the model calls made
      for them (``persona_turn`` calls by those personas in the round); the round's
      escalations, evidence verdicts and trips.
    - ``route`` of question q: the answer to q and the answering turn with its model calls.
    - ``triage`` of question q: q's escalation, deferral, routing and answers.
    - ``screen`` of round r: the tool calls under the keys it screened them with (``context
      ["calls"]``, ``tool:{r}:{step}`` in the loop), refused ones too, whenever they ran; their
      approval requests and approvals, effects in doubt, evidence and trips that name them.

    Any event whose ``parent`` is a decision, or a linked event, is linked too; so is a trip
    whose ``seqs``, or an evidence verdict whose cited ``events``, include a linked event.
    """
    return _decisions(_events(kb, run_id))


def _events(kb: Any, run_id: str) -> list[Event]:
    events: list[Event] = kb.events(run_id)
    if not events:
        raise UnknownRunError(run_id)
    return events


def _decisions(events: list[Event]) -> list[DecisionRecord]:
    records: list[DecisionRecord] = []
    for ev in events:
        if ev.kind == KIND:
            made = typed_as(ev, DecisionMade) or DecisionMade()
            d = Decision.model_validate(made.model_dump(include=set(Decision.model_fields),
                                                        exclude_unset=True))
        elif ev.kind == LEGACY_KIND:
            d = _legacy(typed_as(ev, LegacyDecision) or LegacyDecision())
        else:
            continue
        records.append(DecisionRecord(ev.run_id, ev.seq, ev.ts, ev.actor, d))

    # Round windows: from a round's plan decision (or its first decision) to the next round's.
    starts: dict[int, int] = {}
    for r in records:
        starts.setdefault(r.decision.round, r.seq)
    bounds = sorted((seq, rnd) for rnd, seq in starts.items())
    firsts = [seq for seq, _ in bounds]

    def round_of(seq: int) -> int | None:
        i = bisect_right(firsts, seq) - 1
        return bounds[i][1] if i >= 0 else None

    by_round: dict[int, list[Event]] = {}
    by_qid: dict[str, list[Event]] = {}
    by_call: dict[str, list[Event]] = {}
    by_parent: dict[int, list[Event]] = {}
    payloads: dict[int, Payload] = {}
    final: Event | None = None
    for ev in events:
        if ev.parent is not None:
            by_parent.setdefault(ev.parent, []).append(ev)
        if ev.kind in _FINALS:
            final = ev
        if ev.kind not in _ROUND_KINDS and ev.kind not in _FINALS and \
                ev.kind != "question.routed":
            continue
        rnd = round_of(ev.seq)
        if rnd is not None:
            by_round.setdefault(rnd, []).append(ev)
        p = payloads[ev.seq] = typed(ev)
        qid = p.get("qid")
        for q in [qid] if isinstance(qid, str) else p.get("qids") or []:
            by_qid.setdefault(q, []).append(ev)
        if ev.kind == "tool.call" and ev.key:
            by_call.setdefault(ev.key, []).append(ev)
        if isinstance(p, EffectInDoubt) and p.key:
            by_call.setdefault(p.key, []).append(ev)
        asked = p.approvals if isinstance(p, ApprovalRequested) else []
        for cid in [p.get("call_id")] + [a.call_id for a in asked]:
            if cid:
                by_call.setdefault(cid, []).append(ev)

    def link(out: Outcomes, e: Event) -> None:
        _link(out, e, payloads.get(e.seq))

    def turn_round(e: Event) -> int:
        said = payloads.get(e.seq)
        return (said.round if isinstance(said, Message) else None) or -1

    def turn_calls(rnd: int, personas: set[str], before: int | None = None) -> list[Event]:
        return [e for e in by_round.get(rnd, []) if e.kind == "llm.call"
                and payloads[e.seq].get("task") == "persona_turn" and e.actor in personas
                and (before is None or e.seq < before)]

    def ending(e: Event) -> str:
        return str(payloads[e.seq].get("status") or e.kind.split(".", 1)[1])

    cited = [(e, typed(e)) for e in events
             if e.kind == "breaker.tripped" or e.kind in _EVIDENCE]
    for r in records:
        d, out, rnd = r.decision, r.outcomes, r.decision.round
        in_round = by_round.get(rnd, [])
        if d.point == "plan":
            for e in in_round:
                if e.kind in _FINALS:
                    out.ended = ending(e)
                else:
                    link(out, e)
        elif d.point == "speakers":
            chosen = set(d.chosen if isinstance(d.chosen, list) else [d.chosen])
            for e in in_round:
                if (e.kind == "message" and e.actor in chosen and turn_round(e) == rnd) \
                        or e.kind in (*_ESCALATIONS, *_EVIDENCE, "breaker.tripped"):
                    link(out, e)
            for e in turn_calls(rnd, chosen):
                link(out, e)
        elif d.point in ("route", "triage"):
            for e in by_qid.get(d.subject, []):
                if d.point == "route" and e.kind not in ("answer", "message"):
                    continue
                link(out, e)
                if e.kind == "answer" and e.actor != "human":
                    # The answering turn: its message (the answer's parent) and model calls.
                    turn = next((m for m in by_round.get(round_of(e.seq) or -1, [])
                                 if m.seq == e.parent), None)
                    if turn is not None:
                        link(out, turn)
                        for c in turn_calls(turn_round(turn), {turn.actor}, before=turn.seq):
                            link(out, c)
        elif d.point == "screen":
            calls = d.context.get("calls") or {}
            for step in d.options:
                for e in by_call.get(calls.get(step) or f"tool:{rnd}:{step.split(':', 1)[0]}",
                                     []):
                    link(out, e)
        for e in by_parent.get(r.seq, []):
            link(out, e)
        for seq in list(out.linked):
            for e in by_parent.get(seq, []):
                if e.kind in _EVIDENCE or e.kind == "breaker.tripped":
                    link(out, e)
        linked = set(out.linked) | {r.seq}
        for t, tp in cited:
            named = tp.seqs if isinstance(tp, BreakerTripped) else \
                tp.events if isinstance(tp, EvidenceVerdict) else []
            if linked & set(named):
                _link(out, t, tp)
        if final is not None and out.ended is None and d.point == "plan" \
                and round_of(final.seq) == rnd:
            out.ended = ending(final)
        out.linked.sort()
    return records


# -- comparing ---------------------------------------------------------------------------------


@dataclass
class RunSummary:
    """A run's costs and outcomes, from its log."""

    run_id: str
    status: str
    llm_calls: int = 0
    tokens: int = 0
    usd: float = 0.0
    wall_s: float = 0.0
    turns: int = 0
    rounds: int = 0
    escalations: int = 0
    tool_calls: int = 0
    refused_tool_calls: int = 0
    trips: int = 0
    decisions: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "usd": round(self.usd, 8), "wall_s": round(self.wall_s, 3)}


def summarise(kb: Any, run_id: str) -> RunSummary:
    """Costs (tokens, USD, model calls, wall time), turns, escalations, tool calls, trips and
    the final status of a run, from its log."""
    events = _events(kb, run_id)
    return _summary(run_id, events, _decisions(events))


def _summary(run_id: str, events: list[Event], records: list[DecisionRecord]) -> RunSummary:
    fold = RunFold.of(events, run_id)
    return RunSummary(run_id, fold.outcome or "unfinished",
                      llm_calls=fold.spend.calls, tokens=fold.spend.tokens, usd=fold.spend.usd,
                      wall_s=fold.wall_s(), turns=fold.turns, rounds=fold.rounds,
                      escalations=fold.escalations, tool_calls=fold.tool_calls_total,
                      refused_tool_calls=fold.tool_calls.get("refused", 0),
                      trips=len(fold.trips), decisions=len(records))


@dataclass
class Comparison:
    """Where two runs diverged, and how their costs and outcomes differ."""

    a: RunSummary
    b: RunSummary
    diverged: bool
    point: str | None = None
    """The key of the first decision whose chosen option differs (or that one run lacks)."""
    first: dict[str, Any] | None = None
    """That decision in run A (options, chosen, why, round), or None if A has no such decision."""
    second: dict[str, Any] | None = None
    same_decisions: int = 0
    """Decisions made the same way before the divergence."""

    def delta(self) -> dict[str, float]:
        """B minus A, per figure."""
        a, b = self.a.to_dict(), self.b.to_dict()
        return {k: round(b[k] - a[k], 8) for k in a if isinstance(a[k], int | float)}

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a.to_dict(), "b": self.b.to_dict(), "diverged": self.diverged,
                "divergence": None if not self.diverged else
                {"key": self.point, "a": self.first, "b": self.second,
                 "same_before": self.same_decisions},
                "delta": self.delta()}


def _brief(r: DecisionRecord | None) -> dict[str, Any] | None:
    if r is None:
        return None
    d, o = r.decision, r.outcomes
    return {"seq": r.seq, "round": d.round, "point": d.point, "subject": d.subject,
            "options": d.options, "chosen": d.chosen, "why": d.why,
            "outcomes": {"llm_calls": o.llm_calls, "tokens": o.tokens, "usd": round(o.usd, 8),
                         "turns": len(o.turns), "escalations": len(o.escalations),
                         "tool_calls": len(o.tool_calls),
                         "refused_tool_calls": o.refused_tool_calls, "trips": len(o.trips),
                         "evidence_rejected": sum(v["verdict"] == "rejected"
                                                  for v in o.evidence), "ended": o.ended}}


def _sort_key(r: DecisionRecord) -> tuple[int, int, str]:
    return r.decision.round, _ORDER.get(r.decision.point, 9), r.decision.subject


def compare(kb: Any, run_a: str, run_b: str) -> Comparison:
    """Align two runs' decisions by point and subject, in round order; the first one chosen
    differently (or present in only one run) is where they diverged."""
    ea, eb = _events(kb, run_a), _events(kb, run_b)
    da, db = _decisions(ea), _decisions(eb)
    sa, sb = _summary(run_a, ea, da), _summary(run_b, eb, db)
    ia = {r.key: r for r in da}
    ib = {r.key: r for r in db}
    keys = sorted(set(ia) | set(ib), key=lambda k: _sort_key(ia.get(k) or ib[k]))
    same = 0
    for k in keys:
        ra, rb = ia.get(k), ib.get(k)
        if ra is None or rb is None or ra.decision.chosen != rb.decision.chosen:
            return Comparison(sa, sb, True, k, _brief(ra), _brief(rb), same)
        same += 1
    return Comparison(sa, sb, False, same_decisions=same)


# -- exporting ---------------------------------------------------------------------------------


def export(kb: Any, run_ids: list[str], path: Path | str) -> int:
    """Write every decision of the runs to ``path`` as JSON lines; return how many.

    Every run is read before anything is written, and the file is written to a temporary file
    beside it and renamed into place: an unknown run or a failed write leaves no partial file.
    """
    path = Path(path)
    rows = [r.to_dict() for run in run_ids for r in decisions_of(kb, run)]
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConfigError(f"--decisions {path}: is a folder, not a file")
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--decisions {path}: {folder} is not a folder")
    if not folder.is_dir():
        raise ConfigError(f"--decisions {path}: no such folder {folder}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ConfigError(f"--decisions {path}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"--decisions {path}: cannot write ({exc.strerror})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(rows)
