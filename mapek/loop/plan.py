"""Orchestrator, Plan: route questions to peers, pick the next speakers, decide when to stop.

Routing, speaker choice and whether to go on are scored, not guessed: each option's score is
recorded beside the choice (a ``decision.made`` event, see :mod:`mapek.decisions`), so later runs
can learn which choices paid off. No model call is spent here; supervision stays cheap.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from mapek.loop.state import LoopState

if TYPE_CHECKING:
    from mapek.loop.context import LoopContext

__all__ = ["plan", "agenda", "route_scores"]

_WORD = re.compile(r"[a-z][a-z0-9]+")


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in _WORD.findall(text.lower())}


def route_scores(text: str, asker: str, ctx: LoopContext, run_id: str) -> dict[str, float]:
    """How well placed each peer is to answer: expertise overlap plus what the KB holds."""
    words = _words(text)
    scores: dict[str, float] = {}
    for name, p in ctx.personas.items():
        if name == asker:
            continue
        tags = set().union(*(_words(t) for t in p.expertise))
        scores[name] = float(len(words & tags))
    for hit in ctx.search(text, n=8, run=run_id, kind="message"):
        if hit.persona in scores:
            scores[hit.persona] += 0.5 * max(hit.score, 0.0)
    return {k: round(v, 3) for k, v in scores.items()}


def _decide(ctx: LoopContext, rnd: int, what: Any, subject: Any, options: dict[str, float],
            chosen: Any, why: str, context: dict[str, Any] | None = None) -> None:
    from mapek.decisions import decide

    decide(ctx, what, subject, rnd, "plan", options, chosen, why, context)


def _proposed(state: LoopState, ctx: LoopContext) -> list[dict[str, Any]]:
    """The calls the last round's turns proposed, to be screened with this round's plan."""
    from mapek.loop.transcript import transcript

    return [{**a, "proposed_by": t["persona"], "turn": t["seq"]}
            for t in transcript(state, ctx) if t["round"] == state["round"]
            for a in t.get("actions", [])]


def plan(state: LoopState, ctx: LoopContext) -> dict[str, Any]:
    from mapek.loop.monitor import read_human_input

    cfg, rnd, run_id = state["config"], state["round"] + 1, state["run_id"]
    human = read_human_input(state, ctx)  # what a person wrote while the loop was paused
    questions, interjections = human["questions"], human["interjections"]
    status = state["status"]
    if status == "running" and state["turns"] >= cfg["max_turns"]:
        status = "max_turns"
    if status == "running" and cfg.get("time_limit") and \
            time.time() - ctx.started_at > cfg["time_limit"]:
        status = "stopped"
        ctx.note("run.limit", "orchestrator",
                   {"limit": "time", "value": cfg["time_limit"]}, key=f"time-limit:{rnd}")
    _decide(ctx, rnd, "plan", rnd, {"continue": float(status == "running"),
                                    "finish": float(status != "running")},
            "continue" if status == "running" else "finish",
            "the discussion goes on" if status == "running" else f"finish: {status}",
            {"status": status, "turns": state["turns"], "max_turns": cfg["max_turns"],
             "elapsed_s": round(time.time() - ctx.started_at, 3),
             "agenda_index": state["agenda_index"], "open_questions":
             sum(q.get("status") in ("open", "routed") for q in questions.values())})
    if status != "running":
        from mapek.loop.screen import answered_parked

        # Queued calls a person answered since the last round: one settling round (screen,
        # execute, no turns) runs or refuses them before the synthesis, which would otherwise
        # list an approved call as still waiting.
        # Likewise the calls the last round's turns proposed are screened and run (or parked,
        # or refused) rather than dropped. Not after a stop (time limit): nothing runs then.
        actions, settle = [], []
        if status != "stopped" and not state["plan"].get("settle"):
            actions = _proposed(state, ctx)
            settle = answered_parked(state, ctx) + [f"tool:{rnd}:{i}"
                                                    for i in range(len(actions))]
        p: dict[str, Any] = {"round": rnd, "finish": not settle, "why": status, "speakers": [],
                             "actions": actions, **({"settle": settle} if settle else {})}
        ctx.note("plan", "orchestrator", p, key=f"plan:{rnd}")
        return {"plan": p, "status": status, **human}

    speakers: list[dict[str, Any]] = []
    taken: set[str] = set()
    slots = min(cfg["speakers_per_round"], max(1, cfg["max_turns"] - state["turns"]))

    # 1. Whoever asked a question the human has now answered hears the answer first.
    for qid, q in questions.items():
        if q.get("needs_reaction") and q["asked_by"] not in taken and len(speakers) < slots:
            speakers.append({"persona": q["asked_by"], "task": "react", "qid": qid})
            taken.add(q["asked_by"])
            q["needs_reaction"] = False

    # 1b. A persona the human addressed by name speaks next.
    for note in interjections:
        if not note.get("heard") and note.get("to") in cfg["personas"] \
                and note["to"] not in taken and len(speakers) < slots:
            speakers.append({"persona": note["to"], "task": "interjection", "qid": None,
                             "note": note["text"]})
            taken.add(note["to"])
    interjections = [{**n, "heard": True} for n in interjections]

    # 2. Trivial questions go to the peer best placed to answer them.
    for qid, q in questions.items():
        if q["status"] != "open" or q.get("label") != "trivial":
            continue
        scores = route_scores(q["text"], q["asked_by"], ctx, run_id)
        named = q.get("to") if q.get("to") in scores else None
        target = named or max(sorted(scores), key=lambda k: scores[k])
        why = "asked by name" if named else "best expertise and knowledge-base match"
        _decide(ctx, rnd, "route", qid, scores, target, why,
                {"asked_by": q["asked_by"], "named": q.get("to")})
        q.update(status="routed", routed_to=target)
        ctx.note("question.routed", "orchestrator", {"qid": qid, "to": target, "why": why},
                   key=f"route:{qid}")
        if target not in taken and len(speakers) < slots:
            speakers.append({"persona": target, "task": "answer", "qid": qid})
            taken.add(target)

    # 3. Fill the round: those who spoke least, then those most relevant to the agenda item.
    agenda = state["agenda"] or [cfg["topic"]]
    item = agenda[min(state["agenda_index"], len(agenda) - 1)]
    spoken = {n: 0 for n in cfg["personas"]}
    last = {n: -1 for n in cfg["personas"]}
    from mapek.loop.transcript import transcript

    for t in transcript(state, ctx):
        spoken[t["persona"]] = spoken.get(t["persona"], 0) + 1
        last[t["persona"]] = t["round"]
    item_words = _words(item)
    options = {}
    for name in cfg["personas"]:
        tags = set().union(*(_words(t) for t in ctx.personas[name].expertise))
        options[name] = round(-2.0 * spoken[name] - 0.5 * (last[name] == rnd - 1)
                              + len(item_words & tags), 3)
    for name in sorted(options, key=lambda n: (-options[n], cfg["personas"].index(n))):
        if len(speakers) >= slots:
            break
        if name not in taken:
            speakers.append({"persona": name, "task": "discuss", "qid": None})
            taken.add(name)
    _decide(ctx, rnd, "speakers", rnd, options, [s["persona"] for s in speakers],
            f"agenda item: {item}", {"agenda_item": item, "slots": slots,
                                     "tasks": {s["persona"]: s["task"] for s in speakers}})

    # 4. Actions proposed in the last round go to screening with the plan.
    actions = _proposed(state, ctx)
    p = {"round": rnd, "finish": False, "agenda_item": item, "speakers": speakers,
         "actions": actions}
    ctx.note("plan", "orchestrator", p, key=f"plan:{rnd}")
    advance = state["agenda_index"] + (1 if rnd % 2 == 0 else 0)
    return {"plan": p, "questions": questions, "status": status,
            "agenda_index": min(advance, len(agenda) - 1), "interjections": interjections,
            "cursor": human["cursor"]}


def agenda(state: LoopState, ctx: LoopContext) -> dict[str, Any]:
    """The orchestrator's first act: an agenda from the topic (one model call per session)."""
    from mapek.loop.schemas import Agenda

    cfg = state["config"]
    roles = ", ".join(f"{n} ({ctx.personas[n].role})" for n in cfg["personas"])
    done = ctx.find("agenda")
    if done is not None:
        return {"agenda": done.payload["items"]}
    out = ctx.ask(Agenda, [
        {"role": "system", "content": "You are the orchestrator of a peer discussion. Set a short "
         "agenda that lets the participants reach a decision."},
        {"role": "user", "content": f"Topic: {cfg['topic']}\nParticipants: {roles}\n"
         "Give 3 to 5 agenda items, in order."},
    ], task="agenda", context={"topic": cfg["topic"], "personas": cfg["personas"]},
        actor="orchestrator")
    ctx.note("agenda", "orchestrator", {"items": out.items}, key="agenda")
    return {"agenda": out.items}
