"""Screening: the whole plan, then each planned call, before Execute runs anything.

Two checks, both named and both recorded in one ``screen.verdict`` event:

- ``plan``: :func:`~mapek.safety.screening.screen_plan` reads every proposed action together,
  with a context built from the run (its id, the resources it knows and who made each), so a
  destructive step buried in a long plan is caught before the first step runs.
- ``call``: the gateway's pre-call check of each action (read-only by default, write grants,
  provenance, the declared effect).

Each action's decision is the stricter of the two; the session's ``plan`` setting
(``ctx.screening``, from its policy file) says what it does: ``allow`` -> ``allowed``;
``block`` -> ``refused``; ``reask`` -> ``refused`` and the proposer is told why on its next turn
(bounded); ``escalate`` -> a human approves the call, per call, with its exact arguments:

- ``interactive`` sessions: ``pending``; the approval node stops the loop and asks;
- ``queue`` sessions: ``parked``; an ``approval.requested`` event waits in the log and the
  discussion goes on. Once a person answers (``mapek approve RUN CALL_ID [--deny]``), the call
  runs (or is refused) in the next round, under the key it was queued with. A call answered
  after the last round was planned runs in one last settling round (no turns: screen, execute,
  then the synthesis). A call still waiting when the run ends did not run; the synthesis lists
  it;
- ``defer`` sessions: refused, saying that nobody attends to approve it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from mapek.decisions import record_screening
from mapek.loop.state import LoopState
from mapek.loop.toolbox import tool_gateway
from mapek.safety.screening import Screener

if TYPE_CHECKING:
    from mapek.loop.context import LoopContext

__all__ = ["screen", "answered_parked"]

_RANK = {"allow": 0, "needs_approval": 1, "deny": 2}


def _shown(a: dict[str, Any]) -> dict[str, Any]:
    """What the human is shown of a call: its exact arguments, who proposed it and why."""
    shown = {k: a.get(k) for k in ("call_id", "tool", "effect", "args", "proposed_by",
                                   "reasons", "why")}
    if a.get("precedents"):
        shown["precedents"] = a["precedents"]
    return shown


class _Answers:
    """The run's answers to queued calls (``approval`` events by a human or a policy), by call
    id, and how far the log has been read for them: each look reads only what was appended
    since the last (the log is append-only, so the answers only grow), not the whole run."""

    __slots__ = ("by_call", "read", "lock")

    def __init__(self) -> None:
        self.by_call: dict[str, tuple[str, dict[str, Any]]] = {}
        self.read = 0
        self.lock = threading.Lock()


def _answers(ctx: LoopContext) -> dict[str, tuple[str, dict[str, Any]]]:
    """Call id -> (who answered, the answer's payload); a call's latest answer wins, as in a
    read of the whole run in order."""
    with ctx._lock:  # noqa: SLF001 - the context's lock
        if not isinstance(ctx.answers, _Answers):
            ctx.answers = _Answers()
        known: _Answers = ctx.answers
    with known.lock:
        new, known.read = ctx.kb.log.read_since(known.read, ctx.run_id, kinds=["approval"])
        for e in new:
            if e.actor in ("human", "policy"):
                known.by_call[str(e.payload.get("call_id"))] = (e.actor, e.payload)
        return dict(known.by_call)


def answered_parked(state: LoopState, ctx: LoopContext) -> list[str]:
    """Queued calls a person (or a policy) has answered that no round has settled yet."""
    parked = (state.get("verdict") or {}).get("parked") or {}
    if not parked:
        return []
    answers = _answers(ctx)
    return [cid for cid in parked if cid in answers]


def _settle_parked(ctx: LoopContext, parked: dict[str, dict[str, Any]],
                   allowed: list[dict[str, Any]], refused: list[dict[str, Any]]
                   ) -> dict[str, dict[str, Any]]:
    """Queued calls a human has answered since: approved ones run this round, under the key
    they were queued with; refused ones are recorded as refused. The rest keep waiting."""
    if not parked:
        return parked
    answers = _answers(ctx)
    for cid in [c for c in parked if c in answers]:
        item, (who, a) = parked.pop(cid), answers[cid]
        if a.get("approved") and who == "human":  # a policy only ever refuses
            allowed.append({**item, "approved": True})
        else:
            by = "a human refused" if who == "human" else f"refused by policy ({a.get('note')})"
            refused.append({**item, "approved": False, "reask": False,
                            "reason": f"{by}: " + "; ".join(item["reasons"])})
    return parked


def _precedents(ctx: LoopContext, action: dict[str, Any], reasons: list[str]
                 ) -> dict[str, Any]:
    """The person's nearest earlier verdicts on similar calls, shown with a call that waits
    for approval (``precedents``: citations); they inform the person, they decide nothing."""
    from mapek.knowledge.precedent import PrecedentBook, call_text

    found = PrecedentBook(ctx.kb).nearest(
        call_text(str(action["tool"]), action.get("args", {}), str(action.get("why") or "")),
        "screening")
    if not found:
        return {}
    return {"precedents": [f"{p.cite()}: {p.text[:200]}"
                           + (f" -- {p.note[:200]}" if p.note else "") for p in found]}


def screen(state: LoopState, ctx: LoopContext) -> dict[str, Any]:
    p, rnd = state["plan"], state["plan"]["round"]
    actions = p.get("actions", [])
    gw = tool_gateway(ctx)
    book = gw.provenance()
    steps = [{"tool": a["tool"], "args": a.get("args", {}), "description": a.get("why", "")}
             for a in actions]
    plan_v = Screener(tools=ctx.tools).screen_plan({"steps": steps}, gw.context(book, steps))
    by_step: dict[int, list[Any]] = {}
    for r in plan_v.reasons:
        for s in r.steps:
            by_step.setdefault(s, []).append(r)
    before = state.get("verdict") or {}
    reasks = dict(before.get("reasks", {}))
    mode = state["config"].get("human")
    allowed: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    parked = _settle_parked(ctx, dict(before.get("parked", {})), allowed, refused)
    for i, action in enumerate(actions):
        check = gw.check(action["tool"], action.get("args", {}), action.get("proposed_by", "agent"),
                         book)
        decision, reasons = check.decision, list(check.reasons)
        cats = list(check.catalogue_ids)
        for r in by_step.get(i, []):
            if _RANK[r.verdict] > _RANK[decision]:
                decision = r.verdict
            if r.verdict != "allow" and r.catalogue_id not in cats:
                reasons.append(f"plan screening: {r.message} ({r.why})")
                cats.append(r.catalogue_id)
        item = {"step": i, **action, "decision": decision, "catalogue_ids": sorted(set(cats))}
        act = ctx.screening.plan.action(decision)
        who = action.get("proposed_by", "agent")
        if act == "reask" and reasks.get(who, 0) >= ctx.screening.plan.reask_limit:
            act = "block"
        if act is None or act == "log":
            allowed.append({**item, "logged": reasons} if reasons else item)
        elif act == "escalate" and mode == "interactive":
            pending.append({**item, "call_id": f"tool:{rnd}:{i}", "effect": check.effect,
                            "reasons": reasons, **_precedents(ctx, action, reasons)})
        elif act == "escalate" and mode == "queue":  # waits in the log; the round goes on
            cid = f"tool:{rnd}:{i}"
            parked[cid] = {**item, "call_id": cid, "key": cid, "effect": check.effect,
                           "reasons": reasons, **_precedents(ctx, action, reasons)}
            ctx.note("approval.requested", "screen",
                       {"approvals": [_shown(parked[cid])], "queued": True},
                       key=f"approval.queued:{cid}")
        else:
            reason = "; ".join(reasons) or "refused"
            if act == "escalate":
                reason += f"; nobody is attending this session ({state['config'].get('human')}" \
                          ") to approve it"
            if act == "reask":
                reasks[who] = reasks.get(who, 0) + 1
            refused.append({**item, "reason": reason, "reask": act == "reask"})
    worst = max((a["decision"] for a in allowed + refused + pending), key=_RANK.__getitem__,
                default="allow")
    v = {"round": rnd, "verdict": worst, "allowed": allowed, "refused": refused,
         "pending": pending, "parked": parked, "plan_verdict": plan_v.verdict,
         "catalogue_ids": plan_v.catalogue_ids, "reasks": reasks,
         "results_before": before.get("results", [])}
    ctx.note("screen.verdict", "screen", {k: v[k] for k in v if k != "results_before"},
               key=f"screen:{rnd}")
    record_screening(ctx, v)
    return {"verdict": v}
