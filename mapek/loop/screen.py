"""Screening: the whole plan, then each planned call, before Execute runs anything.

Two checks, both named and both recorded in one ``screen.verdict`` event:

- ``plan``: :func:`~mapek.safety.screening.screen_plan` reads every proposed action together,
  with a context built from the run (its id, the resources it knows and who made each), so a
  destructive step buried in a long plan is caught before the first step runs.
- ``call``: the gateway's pre-call check of each action (read-only by default, write grants,
  provenance, the declared effect).

Each action's decision is the stricter of the two; the policy's ``plan`` setting says what it
does: ``allow`` -> ``allowed``; ``block`` -> ``refused``; ``reask`` -> ``refused`` and the
proposer is told why on its next turn (bounded); ``escalate`` -> ``pending``: the approval node
asks the human, per call, with the exact arguments. With nobody attending (``queue``/``defer``
sessions) an approval cannot be given, so the action is refused and says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mapek.decisions import record_screening
from mapek.loop.state import LoopState
from mapek.loop.toolbox import tool_gateway
from mapek.safety.policy import ScreeningPolicy
from mapek.safety.screening import Screener

if TYPE_CHECKING:
    from mapek.loop.context import LoopContext

__all__ = ["screen", "POLICY"]

POLICY = ScreeningPolicy()
"""The loop's check settings (defaults: deny -> block, needs approval -> escalate)."""

_RANK = {"allow": 0, "needs_approval": 1, "deny": 2}


def screen(state: LoopState, ctx: LoopContext) -> dict[str, Any]:
    p, rnd = state["plan"], state["plan"]["round"]
    actions = p.get("actions", [])
    gw = tool_gateway(ctx)
    book = gw.provenance()
    plan_v = Screener(tools=ctx.tools).screen_plan(
        {"steps": [{"tool": a["tool"], "args": a.get("args", {}), "description": a.get("why", "")}
                   for a in actions]}, gw.context(book))
    by_step: dict[int, list[Any]] = {}
    for r in plan_v.reasons:
        for s in r.steps:
            by_step.setdefault(s, []).append(r)
    before = state.get("verdict") or {}
    reasks = dict(before.get("reasks", {}))
    attended = state["config"].get("human") == "interactive"
    allowed, refused, pending = [], [], []
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
        act = POLICY.plan.action(decision)
        who = action.get("proposed_by", "agent")
        if act == "reask" and reasks.get(who, 0) >= POLICY.plan.reask_limit:
            act = "block"
        if act is None or act == "log":
            allowed.append({**item, "logged": reasons} if reasons else item)
        elif act == "escalate" and attended:
            pending.append({**item, "call_id": f"tool:{rnd}:{i}", "effect": check.effect,
                            "reasons": reasons})
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
         "pending": pending, "plan_verdict": plan_v.verdict,
         "catalogue_ids": plan_v.catalogue_ids, "reasks": reasks,
         "results_before": before.get("results", [])}
    ctx.record("screen.verdict", "screen", {k: v[k] for k in v if k != "results_before"},
               key=f"screen:{rnd}")
    record_screening(ctx, v)
    return {"verdict": v}
