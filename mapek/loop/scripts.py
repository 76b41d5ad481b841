"""The offline model's part in the loop: scripted personas, orchestrator and observer.

Registered with the offline provider (``mapek.llm.offline.register_script``) so that a session on
``mapek/offline`` exercises every feature of the loop with no network: turns that build on earlier
ones, questions between peers, trivial ones and consequential ones for the human, a destructive
plan in infrastructure scenarios, convergence with dissent, and a synthesis. Deterministic: the
same session gives the same discussion.

Tools: every persona calls each tool it holds (the ``tools`` of its turn's context) once in a
discussion, one not yet called per turn, with arguments sampled from the tool's schema
(:func:`~mapek.llm._schema_sample.sample_instance`, seeded by the request, the persona's concern
and the topic put into fields such as ``query``), and says on its next turn what the call gave.
Besides: the engineer proposes a destructive ``shell`` plan on infrastructure topics, and the
skeptic and the CFO search the knowledge base for their first concern on their first turn.
"""

from __future__ import annotations

import re
from typing import Any

from mapek.llm._schema_sample import sample_instance

__all__ = ["install", "persona_turn", "agenda_script", "synthesis_script", "judge_script"]

_INFRA = re.compile(r"\b(database|db|cluster|environment|infrastructure|server|migrat\w*|"
                    r"cloud|kubernetes|platform|data ?cent(er|re))\b", re.I)

# Questions only the human can answer, one per persona that owns the concern.
_FOR_HUMAN = {
    "cfo": "Will you approve a budget of up to $250,000 for this, this quarter?",
    "legal": "Are you willing to sign the vendor's data processing agreement before our own "
             "compliance review is finished?",
    "security": "Do you authorise deleting the old production environment once the new one "
                "is verified?",
    "strategist": "Is this still the strategic direction you want for next year, or has your "
                  "priority changed?",
    "customer": "Can we commit to our key accounts that there will be no downtime during the "
                "switch?",
}
# Small questions a peer can settle: asker -> (peer, question, that peer's answer).
_FOR_PEER = {
    "cfo": ("engineer", "What exactly counts as 'migration effort' in your estimate?",
            "it covers schema conversion, dual writes, testing and the rollback rehearsal, "
            "roughly six engineer-weeks"),
    "skeptic": ("cfo", "How do we define payback period in this discussion?",
                "the months until cumulative savings cover the one-off cost, counted from "
                "go-live"),
    "engineer": ("operations", "What do we call the cut-over window in the runbook?",
                 "we call it the cut-over window; it is step 7 of the runbook with a named owner"),
    "strategist": ("customer", "Which wording should we use for the customer announcement?",
                   "plain language: what changes, when, and who to call"),
    "customer": ("operations", "What does the term 'phased rollout' mean for support staff?",
                 "each phase moves one customer segment, with support briefed a week ahead"),
    "legal": ("engineer", "What does 'data residency' mean for the managed service?",
              "the data stays stored in the region we choose, and the contract must name it"),
    "operations": ("engineer", "How should we format the rollout checklist?",
                   "one line per step, with owner, date and rollback, in the runbook template"),
    "security": ("engineer", "What does 'least privilege' look like for the migration role?",
                 "a role limited to the tables being moved, expiring when the migration ends"),
}
_BY_QUESTION = {q: a for _, q, a in _FOR_PEER.values()}


def _ctx(request: Any) -> dict[str, Any]:
    return dict(request.context or {})


def _short(text: str, words: int = 8) -> str:
    w = re.findall(r"[\w'$%,.-]+", text)
    return " ".join(w[:words]).rstrip(",.")


_STOP = frozenset("about above after again being before could does doing from have into more "
                  "most much need only other over same should some such than that their them "
                  "then there these they this those through under very what when where which "
                  "while will with would your".split())


def _tool_args(tool: dict[str, Any], seed: int, concern: str, topic: str, name: str
               ) -> dict[str, Any]:
    """Arguments for ``tool`` (a card of the context: name, effect, description, args schema):
    a valid instance of its schema, with the concern and the topic in the fields that ask for
    them. Optional filters (default null) are left out unless a hint fills them."""
    schema = dict(tool.get("args") or {"type": "object"})
    hints = {"query": concern, "q": concern, "question": concern, "search": concern,
             "topic": topic, "subject": topic, "title": f"{name} on {concern}"[:80],
             "text": f"{name}: {concern}", "body": f"{name}: {concern}",
             "note": f"{name}: {concern}", "reason": f"to settle {concern}"}
    props = dict(schema.get("properties") or {})
    required = set(schema.get("required") or [])
    for key, sub in list(props.items()):
        if key not in required and key not in hints and isinstance(sub, dict) and \
                "default" in sub and sub["default"] is None:
            del props[key]
    if "properties" in schema:
        schema["properties"] = props
    words = [w for w in re.findall(r"[a-z]{4,}", f"{concern} {topic}".lower()) if w not in _STOP]
    out = sample_instance(schema, seed=seed, hints=hints, words=words or ["evidence"])
    return out if isinstance(out, dict) else {}


def _heard(results: list[dict[str, Any]]) -> list[str]:
    """What the persona says about its tool calls since its last turn."""
    out = []
    for r in results[:3]:
        tool, what, said = r.get("tool", "a tool"), r.get("outcome"), r.get("output") or ""
        said = re.sub(r"^\[[^\]]*\]\s*", "", said)  # a search hit's "[who #seq]" tag
        if what in ("ok", "error"):
            out.append(f"{tool} told me: \"{_short(said, 14) or 'nothing'}\".")
        elif what == "needs_approval":
            out.append(f"My {tool} call waits for a human's approval.")
        elif what == "invalid":
            out.append(f"My {tool} call had arguments that did not fit: {_short(said, 12)}.")
        else:
            out.append(f"My {tool} call was {what}: {_short(said, 12)}.")
    return out


def persona_turn(request: Any) -> dict[str, Any]:
    c = _ctx(request)
    persona = c.get("persona", {})
    name, concerns = persona.get("name", "peer"), persona.get("concerns") or ["the risks"]
    topic, recent, task = c.get("topic", "the topic"), c.get("recent", []), c.get("task")
    k = int(c.get("my_turns", 0))
    rng = request.rng(name)
    others = [t for t in recent if t["persona"] != name]
    parts: list[str] = []
    q = c.get("question") or {}
    if task == "answer" and q:
        known = _BY_QUESTION.get(q["text"], "I would settle it from our own documents; it does "
                                 "not change the decision")
        parts.append(f"To {q['asked_by']}'s question ({_short(q['text'], 10)}): {known}.")
    elif task == "interjection":
        parts.append(f"You asked me directly: \"{_short(c.get('interjection') or '', 14)}\". "
                     "Here is my answer from where I sit.")
    elif task == "react" and q:
        parts.append("The human has answered my question: "
                     f"\"{_short(q.get('answer') or '', 14)}\". That changes my view.")
    elif others:
        prev = others[-1]
        verb = rng.choice(["Building on", "I take", "Picking up"])
        point = prev.get("claim") or _short(prev["text"], 9).lower()
        parts.append(f"{verb} {prev['persona']}'s point about {point}.")
    else:
        parts.append(f"Let me open from the {persona.get('role', name)} side on: {topic}")
    concern = concerns[min(k, len(concerns) - 1)]
    claims: list[str] = []
    if k < len(concerns):
        parts.append(f"My concern is {concern}, and I want it costed and owned before we "
                     f"commit.")
        claims.append(f"{name}: {concern}")
    else:
        parts.append(f"I have nothing new beyond {concern}; my position stands.")
    parts += _heard(c.get("results") or [])
    if c.get("interjection") and task != "interjection":
        parts.append(f"On the human's note, \"{_short(c['interjection'], 10)}\", I agree it "
                     "should shape the next step.")
    # Stance: opening positions differ, then settle; the skeptic keeps its dissent.
    openings = ("undecided", "conditional", "oppose", "support")
    opening = openings[request.rng(name + "s").randrange(4)]
    if task == "react":
        stance = "support" if name != "skeptic" else "conditional"
    elif k == 0:
        stance = opening
    else:
        stance = "oppose" if name == "skeptic" else "conditional"
    questions: list[dict[str, Any]] = []
    peers, asked = c.get("peers", []), set(c.get("asked", []))
    if task not in ("answer", "react"):
        peer_q = _FOR_PEER.get(name)
        if peer_q and peer_q[1] not in asked:
            questions.append({"text": peer_q[1], "to": peer_q[0] if peer_q[0] in peers else None})
        elif name in _FOR_HUMAN and _FOR_HUMAN[name] not in asked:
            questions.append({"text": _FOR_HUMAN[name], "to": "human"})
    actions: list[dict[str, Any]] = []
    if name == "engineer" and k == 1 and _INFRA.search(topic):
        parts.append("To move fast we could clean up the old environment and start fresh.")
        actions.append({"tool": "shell", "args": {"command": "terraform destroy -auto-approve "
                        "&& terraform apply"}, "why": "recreate the environment from scratch"})
    elif k == 0 and name in ("skeptic", "cfo"):
        actions.append({"tool": "kb_search", "args": {"query": concern}, "why": "check evidence"})
    else:  # one tool it holds and has not called yet (the engineer keeps shell for its plan)
        kept = {"shell"} if name == "engineer" and _INFRA.search(topic) else set()
        called = set(c.get("called") or [])
        fresh = [t for t in c.get("tools") or [] if t.get("name") not in called | kept]
        if fresh:
            t = fresh[0]
            seed = request.rng(name + "tool").randrange(2**32)
            actions.append({"tool": t["name"], "args": _tool_args(t, seed, concern, topic, name),
                            "why": f"see what {t['name']} says about {concern}"})
            parts.append(f"I will check it with {t['name']}.")
    for ask in questions:
        parts.append(ask["text"] if ask.get("to") in (None, "human")
                     else f"{ask['to']}, {ask['text'][0].lower()}{ask['text'][1:]}")
    return {"text": " ".join(parts), "stance": stance, "claims": claims,
            "questions": questions, "actions": actions}


def agenda_script(request: Any) -> dict[str, Any]:
    topic = _ctx(request).get("topic", "the decision")
    return {"items": [f"Frame the decision: {topic}", "Costs, risks and obligations",
                      "Options, staging and who does the work", "Recommendation and dissent"]}


def synthesis_script(request: Any) -> dict[str, Any]:
    c = _ctx(request)
    majority = c.get("majority", "undecided")
    claims = list(dict.fromkeys(c.get("claims", [])))
    answered = c.get("answered", [])
    decided = [f"{a['text']} -> {a['answer']} ({a['by']})" for a in answered
               if a.get("by") == "human"]
    return {
        "summary": f"The peers discussed \"{c.get('topic', '')}\" and most ended {majority}. "
                   f"{len(claims)} concerns were raised and {len(answered)} questions answered.",
        "decisions": decided or [f"Proceed only on a staged, {majority} basis."],
        "recommendations": [f"Address: {cl.split(': ', 1)[-1]}" for cl in claims[:5]],
        "open_questions": [],
        "dissent": [],
    }


def judge_script(request: Any) -> dict[str, Any]:
    text = str(_ctx(request).get("text", "")).lower()
    heavy = re.search(r"approve|budget|sign|delete|commit|legal|contract|\$", text)
    return {"consequential": bool(heavy), "reason": "authority" if heavy else "peer_answerable"}


def install() -> None:
    """Register the loop's scripts with the offline provider (idempotent)."""
    from mapek.llm.offline import register_script

    register_script("persona_turn", persona_turn)
    register_script("agenda", agenda_script)
    register_script("synthesis", synthesis_script)
    register_script("triage_judge", judge_script)
