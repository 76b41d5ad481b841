"""Observer, Analyse: score new questions, measure progress, decide what reaches the human.

Cheap signals first: the rule-based triager scores every question; only when it is unsure does
the observer spend a model call on it. Progress per round counts new claims, changed positions
and new questions; rounds that change nothing are how stalls and agreement loops are caught.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mapek.decisions import decide
from mapek.loop.state import LoopState

if TYPE_CHECKING:
    from mapek.loop.context import LoopContext

__all__ = ["analyse", "STALL_ROUNDS", "MIN_ROUNDS"]

STALL_ROUNDS = 2
"""Consecutive rounds that change nothing before the discussion counts as stalled."""
MIN_ROUNDS = 3
"""Rounds before convergence may be declared."""


def _norm(claim: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", claim.lower()))


def _triage(qid: str, q: dict[str, Any], state: LoopState, ctx: LoopContext) -> dict[str, Any]:
    answered = [v["text"] for v in state["questions"].values() if v.get("status") == "answered"]
    peers = {name: p.expertise for name, p in ctx.personas.items() if name != q["asked_by"]}
    result = ctx.triager.triage(q["text"], topic=state["config"]["topic"], asked_by=q["asked_by"],
                                answered_texts=answered, peer_expertise=peers)
    out = {"label": result.label, "reason": result.reason, "score": round(result.score, 3),
           "source": result.source, "basis": result.basis, "signals": list(result.signals)}
    if result.precedent is not None:
        out["precedent"] = result.precedent  # the person's earlier verdict, cited
    if result.unsure and result.basis == "held" and ctx.judge_unsure:
        judged = ctx.judge_question(q["text"], state["config"]["topic"])
        if judged is not None:
            out.update(label="consequential" if judged.consequential else "trivial",
                       reason=judged.reason, source="model", basis="judged")
    return out


def analyse(state: LoopState, ctx: LoopContext) -> dict[str, Any]:
    rnd, cfg = state["round"], state["config"]
    questions = {k: dict(v) for k, v in state["questions"].items()}

    # 1. Triage each new question: consequential ones go to the human, the rest to a peer.
    consequential: list[str] = []
    for qid in state["new_questions"]:
        q = questions[qid]
        tri = _triage(qid, q, state, ctx)
        q.update(label=tri["label"], reason=tri["reason"], score=tri["score"])
        ctx.note("question.triaged", "observer", {"qid": qid, **tri},
                   key=f"triage:{qid}", parent=q.get("seq"))
        decide(ctx, "triage", qid, rnd, "analyse",
               {"consequential": tri["score"], "trivial": round(1 - tri["score"], 3)},
               tri["label"], f"{tri['reason']} ({tri['source']})",
               {"source": tri["source"], "signals": tri["signals"], "asked_by": q["asked_by"]},
               actor="observer")
        if tri["label"] == "consequential":
            consequential.append(qid)

    # 2. Progress: did this round change anything?
    from mapek.loop.transcript import transcript

    turns = [t for t in transcript(state, ctx) if t["round"] == rnd]
    seen = set(state["claims_seen"])
    new_claims = [c for t in turns for c in t.get("claims", []) if _norm(c) not in seen]
    positions = {k: list(v) for k, v in state["positions"].items()}
    changed_positions = []
    for t in turns:
        history = positions.setdefault(t["persona"], [])
        if history and history[-1] != t["stance"]:
            changed_positions.append(t["persona"])
        history.append(t["stance"])
    repeated = [n for n in state["notes"] if n.startswith(f"round {rnd}:")]
    changed = bool(new_claims or changed_positions or state["new_questions"])
    agenda = state["agenda"] or [cfg["topic"]]
    theme = agenda[min(state["agenda_index"], len(agenda) - 1)]
    progress = [*state["progress"], {"round": rnd, "theme": theme,
                                     "new_claims": len(new_claims),
                                     "changed_positions": changed_positions,
                                     "new_questions": len(state["new_questions"]),
                                     "repetitions": len(repeated), "changed": changed}]

    # 3. Converged, stalled, or looping in agreement?
    status = state["status"]
    latest = {p: h[-1] for p, h in positions.items() if h}
    unresolved = [q for q in questions.values() if q["status"] in ("open", "routed")]
    stances = set(latest.values())
    all_spoke = len(latest) == len(cfg["personas"])
    stale = (len(progress) >= STALL_ROUNDS
             and not any(p["changed"] for p in progress[-STALL_ROUNDS:]))
    warning = None
    settled = (rnd >= MIN_ROUNDS and all_spoke and not new_claims and not changed_positions
               and not unresolved and not consequential)
    if settled:
        status = "converged"
        if len(stances) > 1:
            warning = "positions have settled; dissent remains and goes into the synthesis"
    elif stale and all_spoke and len(stances) == 1:
        status, warning = "converged", "agreement loop: positions agree and nothing new is said"
    elif stale:
        status = "stalled"
        warning = f"{STALL_ROUNDS} rounds without new claims or changed positions"

    # 4. What reaches the human, within the session's escalation budget.
    mode, used = cfg["human"], state["escalations_used"]
    room = max(0, cfg["escalation_budget"] - used)
    batch, deferred = consequential[:room], consequential[room:]
    for qid in deferred:
        questions[qid]["status"] = "deferred"
        ctx.note("question.deferred", "observer",
                   {"qid": qid, "note": f"escalation budget of {cfg['escalation_budget']} spent; "
                    "left for the synthesis"}, key=f"defer:{qid}")
    if batch and mode == "defer":
        for qid in batch:
            questions[qid]["status"] = "deferred"
            ctx.note("question.deferred", "observer",
                       {"qid": qid, "note": "non-interactive run: deferred to the human after "
                        "the session"}, key=f"defer:{qid}")
        batch = []
    elif batch:
        for qid in batch:
            questions[qid]["status"] = "escalated"
        ctx.note("question.escalated", "observer",
                   {"qids": batch, "mode": mode,
                    "reasons": {q: questions[q]["reason"] for q in batch}},
                   key=f"escalate:{rnd}")
    ctx.note("observer.analysis", "observer",
               {"round": rnd, "theme": theme, "new_claims": new_claims,
                "changed_positions": changed_positions,
                "consequential": consequential, "status": status, "warning": warning,
                "positions": latest},
               key=f"analysis:{rnd}")
    return {"questions": questions, "new_questions": [], "positions": positions,
            "claims_seen": [*state["claims_seen"], *(_norm(c) for c in new_claims)],
            "progress": progress, "status": status,
            "to_escalate": batch if mode == "interactive" else [],
            "escalations_used": used + len(batch),
            "notes": [*state["notes"], *([f"round {rnd}: {warning}"] if warning else [])]}
