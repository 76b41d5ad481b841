"""Observer, Monitor: read what happened since the last cycle.

Reads the log for what humans wrote (answers to queued questions, interjections), collects the
questions raised in the last round, and checks each new turn for repetition against what the same
persona said before (semantic similarity through the vector index).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mapek.loop.state import LoopState

if TYPE_CHECKING:
    from mapek.loop.context import LoopContext

__all__ = ["monitor", "read_human_input", "REPETITION_THRESHOLD"]

REPETITION_THRESHOLD = 0.92
"""Similarity above which a turn counts as repeating an earlier one by the same persona."""


_HUMAN_KINDS = ("answer", "interjection", "question.deferred")


def read_human_input(state: LoopState, ctx: LoopContext) -> dict[str, Any]:
    """What humans wrote into the log since the cursor: answers to queued questions, deferrals
    and interjections. Read by the monitor after each round and by the planner before one, so
    that what a person writes while the loop is paused reaches the very next round."""
    rnd = state["round"]
    questions = {k: dict(v) for k, v in state["questions"].items()}
    interjections = list(state["interjections"])
    # read up to where the log was read, matches or not (the next read starts there)
    events, cursor = ctx.kb.log.read_since(state["cursor"], state["run_id"], _HUMAN_KINDS)
    for ev in events:
        if ev.actor != "human":
            continue
        if ev.kind == "interjection":
            interjections.append({"seq": ev.seq, "text": ev.payload.get("text", ""),
                                  "round": rnd, "to": ev.payload.get("to"), "heard": False})
        elif (q := questions.get(ev.payload.get("qid", ""))) and q["status"] != "answered":
            if ev.kind == "answer":
                q.update(status="answered", answer=ev.payload.get("text", ""),
                         answered_by="human", answer_seq=ev.seq, needs_reaction=True)
            else:
                q.update(status="deferred", note=ev.payload.get("note", ""))
    return {"questions": questions, "interjections": interjections, "cursor": cursor}


def monitor(state: LoopState, ctx: LoopContext) -> dict[str, Any]:
    run_id, rnd = state["run_id"], state["round"]
    # 1. What humans wrote into the log since the last cycle.
    human = read_human_input(state, ctx)
    questions, interjections, cursor = human["questions"], human["interjections"], human["cursor"]

    # 2. Questions raised in the last round, each an event of its own.
    new_questions: list[str] = []
    from mapek.loop.transcript import transcript

    turns = [t for t in transcript(state, ctx) if t["round"] == rnd]
    for turn in turns:
        for i, asked in enumerate(turn.get("questions", [])):
            qid = f"q{len(questions) + 1}"
            to = asked.get("to")
            questions[qid] = {"qid": qid, "text": asked["text"], "asked_by": turn["persona"],
                              "to": to, "status": "open", "round": rnd,
                              "asked_in": turn["seq"]}
            ev = ctx.record("question", turn["persona"],
                            {"qid": qid, "text": asked["text"], "to": to, "round": rnd},
                            key=f"question:{turn['seq']}:{i}", parent=turn["seq"])
            questions[qid]["seq"] = ev.seq
            new_questions.append(qid)

    # 3. Repetition: is a new turn nearly what the same persona already said?
    repeats = []
    for turn in turns:
        for hit in ctx.search(turn["text"], n=3, run=run_id, persona=turn["persona"],
                              kind="message"):
            if (hit.seq != turn["seq"] and hit.seq < turn["seq"]
                    and hit.score >= REPETITION_THRESHOLD):
                repeats.append({"persona": turn["persona"], "seq": turn["seq"],
                                "repeats": hit.seq, "similarity": round(hit.score, 3)})
                break
    if turns or new_questions or len(interjections) != len(state["interjections"]):
        ctx.note("observer.monitor", "observer",
                   {"round": rnd, "turns": [t["seq"] for t in turns],
                    "new_questions": new_questions, "repetitions": repeats,
                    "interjections": len(interjections) - len(state["interjections"])},
                   key=f"monitor:{rnd}")
    return {"questions": questions, "new_questions": new_questions, "cursor": cursor,
            "interjections": interjections,
            "notes": [*state["notes"], *(f"round {rnd}: {r['persona']} repeats event "
                                        f"#{r['repeats']}" for r in repeats)]}
