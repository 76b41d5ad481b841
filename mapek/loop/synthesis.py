"""The end of a discussion: decisions, recommendations, open questions and dissent.

Written into the run's folder as ``synthesis.md`` and ``synthesis.json``, and recorded in the log.
Dissent is computed from the positions the observer tracked, not left to the model to remember.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from mapek.loop.schemas import Synthesis
from mapek.loop.state import LoopState
from mapek.private import write_private

if TYPE_CHECKING:
    from mapek.loop.context import LoopContext

__all__ = ["synthesise", "render_markdown"]


def _facts(state: LoopState, said: list[dict[str, Any]]) -> dict[str, Any]:
    latest = {p: h[-1] for p, h in state["positions"].items() if h}
    majority = Counter(latest.values()).most_common(1)[0][0] if latest else "undecided"
    last_text = {t["persona"]: t["text"] for t in said}
    dissenters = [{"persona": p, "stance": s, "last_said": last_text.get(p, "")}
                  for p, s in latest.items() if s != majority]
    open_q = [q for q in state["questions"].values() if q["status"] != "answered"]
    answered = [q for q in state["questions"].values() if q["status"] == "answered"]
    return {"majority": majority, "positions": latest, "dissent": dissenters,
            "open_questions": [{"qid": q["qid"], "text": q["text"], "status": q["status"],
                                "asked_by": q["asked_by"]} for q in open_q],
            "answered": [{"qid": q["qid"], "text": q["text"], "answer": q.get("answer", ""),
                          "by": q.get("answered_by")} for q in answered],
            "claims": [c for t in said for c in t.get("claims", [])][-20:]}


def render_markdown(s: dict[str, Any], header: dict[str, Any]) -> str:
    """The synthesis as markdown; every text as a person may see it (secrets masked, control
    characters visible, the title on one line)."""
    from mapek.safety.display import for_display, one_line

    out = [f"# Synthesis: {one_line(header['topic'])}", "",
           f"run `{header['run_id']}` · status **{header['status']}** · {header['turns']} turns · "
           f"model `{header['model']}`" + (" (offline model: output is scripted, not reasoned)"
                                            if header.get("offline") else ""), "",
           s["summary"], ""]
    for title, key in (("Decisions", "decisions"), ("Recommendations", "recommendations"),
                       ("Open questions", "open_questions")):
        out += [f"## {title}", ""] + ([f"- {x}" for x in s[key]] or ["- (none)"]) + [""]
    out += ["## Dissent", ""] + ([f"- **{d['persona']}**: {d['position']}" for d in s["dissent"]]
                                 or ["- (none: the peers agree)"]) + [""]
    return for_display("\n".join(out))


def _screen_for_human(data: dict[str, Any], ctx: LoopContext) -> tuple[dict[str, Any],
                                                                        dict[str, Any]]:
    """The pre-human check of every text of the synthesis (the person reads all of it)."""
    from mapek.safety.content import for_human

    setting, findings = ctx.screening.human, {}

    def check(where: str, text: str) -> str:
        shown, found = for_human(text, setting)
        if found:
            findings[where] = found
        return shown

    out = dict(data)
    out["summary"] = check("summary", data["summary"])
    for key in ("decisions", "recommendations", "open_questions"):
        out[key] = [check(f"{key}[{i}]", x) for i, x in enumerate(data[key])]
    out["dissent"] = [{**d, "position": check(f"dissent[{i}]", d["position"])}
                      for i, d in enumerate(data["dissent"])]
    return out, findings


def synthesise(state: LoopState, ctx: LoopContext) -> dict[str, Any]:
    cfg = state["config"]
    from mapek.loop.transcript import transcript as fold

    said = fold(state, ctx)
    facts = _facts(state, said)
    done = ctx.find("synthesis")
    if done is not None:
        data = done.payload["synthesis"]
    else:
        transcript = "\n".join(f"- {t['persona']} ({t['stance']}): {t['text']}"
                               for t in said[-24:])
        out = ctx.ask(Synthesis, [
            {"role": "system", "content": "You are the orchestrator closing a peer discussion. "
             "Summarise faithfully: what was decided, what is recommended, what is still open, "
             "and who disagrees with what."},
            {"role": "user", "content": f"Topic: {cfg['topic']}\nPositions: "
             f"{json.dumps(facts['positions'])}\nOpen questions: "
             f"{json.dumps([q['text'] for q in facts['open_questions']])}\n"
             f"Transcript:\n{transcript}"},
        ], task="synthesis", context={"topic": cfg["topic"], **facts}, actor="orchestrator")
        data = out.model_dump()
        # Dissent and open questions come from what the observer tracked.
        known = {d["persona"] for d in data["dissent"]}
        data["dissent"] += [{"persona": d["persona"], "position": f"{d['stance']}: "
                             f"{d['last_said']}"} for d in facts["dissent"]
                            if d["persona"] not in known]
        data["open_questions"] = list(dict.fromkeys(
            [*data["open_questions"],
             *(f"{q['text']} ({q['status']}, asked by {q['asked_by']})"
               for q in facts["open_questions"]),
             *(f"Not run, still waiting for a human's approval: {a['tool']} "
               f"{json.dumps(a.get('args', {}), sort_keys=True)} (proposed by "
               f"{a.get('proposed_by')}; call {cid})"
               for cid, a in ((state.get("verdict") or {}).get("parked") or {}).items())]))
        data, findings = _screen_for_human(data, ctx)
        ev = ctx.record("synthesis", "orchestrator",
                        {"text": data["summary"], "synthesis": data, "status": state["status"]},
                        key="synthesis")
        if findings:
            ctx.record("screen.human", "orchestrator", {"what": "synthesis", "fields": findings,
                                                        **next(iter(findings.values()))},
                       key="screen.human:synthesis", parent=ev.seq)
    from mapek.safety.display import one_line

    header = {"topic": one_line(cfg["topic"]), "run_id": state["run_id"], "status": state["status"],
              "turns": state["turns"], "model": cfg["model"], "offline": ctx.offline}
    run_dir = ctx.run_dir
    write_private(run_dir / "synthesis.json", json.dumps({**header, **data}, indent=2))
    write_private(run_dir / "synthesis.md", render_markdown(data, header))
    return {"status": state["status"]}
