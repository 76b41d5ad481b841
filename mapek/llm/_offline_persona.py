"""The offline ``persona_turn`` script: one persona's turn in a peer discussion.

Context it reads (every key optional; what is missing is taken from the messages or defaulted)::

    {
      "persona": {"name": "cfo", "role": "Chief Financial Officer",
                  "expertise": ["finance"], "concerns": ["cost overruns"]},   # Persona.model_dump()
      "topic": "Move the billing service to Kubernetes",
      "transcript": [{"speaker": "cto", "text": "..."}, ...],  # earlier turns, oldest first
      "turn": 3,               # global turn number, 0-based (default: len(transcript))
      "peers": ["cto", "ciso"],  # the other personas (default: speakers in the transcript)
      "converge_after": 8      # turns after which the discussion converges (default 8)
    }

What it says, in two to four sentences: it names or quotes the latest other speaker, raises one
of its concerns, and by turn number (offset per persona, so personas differ) ends with one of:

- a question to a named peer:       ``"<Peer>, how would you handle ...?"``
- a question only the human can answer, phrased ``"A question for the human: ...?"``
  (budget approval, a legal commitment, an irreversible step, or the human's preference,
  chosen from the persona's concerns)
- a trivial question (definition, wording): ``"Quick check on wording: ...?"``
- a proposal, no question.

After ``converge_after`` turns it stops asking and states the conditions under which it agrees;
one round later it has nothing further to add. Everything is seeded by the request hash.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from mapek.llm._offline_request import OfflineRequest

__all__ = ["HUMAN_QUESTION_PREFIX", "TRIVIAL_QUESTION_PREFIX", "persona_turn"]

HUMAN_QUESTION_PREFIX = "A question for the human:"
"""How ``persona_turn`` starts a question only the human can answer."""
TRIVIAL_QUESTION_PREFIX = "Quick check on wording:"
"""How ``persona_turn`` starts a trivial question (a definition, a wording)."""

_KINDS = ("peer", "human", "trivial", "proposal")
_HUMAN_TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("budget", ("cost", "budget", "spend", "price", "money", "roi", "financ", "invest", "margin")),
    ("legal", ("legal", "contract", "complian", "regulat", "privacy", "gdpr", "liabil", "licen")),
    ("irreversible", ("data", "delet", "migrat", "production", "outage", "downtime", "irrevers",
                      "security", "rollback", "customer")),
)


def persona_turn(request: OfflineRequest) -> str:
    ctx = request.context
    persona: Mapping[str, Any] = ctx["persona"] if isinstance(ctx.get("persona"), Mapping) else {}
    name = str(persona.get("name") or "")
    role = str(persona.get("role") or _role_from_system(request.system) or "a participant")
    expertise = [str(e) for e in persona.get("expertise") or []] or ["delivery"]
    concerns = [str(c) for c in persona.get("concerns") or []] or [
        "the risks", "the timeline", "who owns the follow-up"
    ]
    topic = str(ctx.get("topic") or _first_sentence(request.last_user) or "the proposal")
    transcript = [t for t in ctx.get("transcript") or [] if isinstance(t, Mapping)]
    turn = int(ctx.get("turn", len(transcript)))
    converge_after = int(ctx.get("converge_after", 8))
    peers = [str(p) for p in ctx.get("peers") or []] or _speakers(transcript)
    peers = [p for p in peers if p and p != name]

    rng = request.rng("persona_turn")
    offset = int(hashlib.sha256((name or role).encode()).hexdigest()[:4], 16)
    concern = concerns[(turn + offset) % len(concerns)]
    field = expertise[(turn + offset) % len(expertise)]
    short_topic = _shorten(topic, 10)
    previous = _latest_other(transcript, name)

    if turn >= converge_after + max(len(peers), 1):
        closing = rng.choice(
            [
                "I have nothing further to add; I agree with the proposal as it stands.",
                "We have covered my concerns, so I support the decision as written.",
            ]
        )
        if previous:
            return f"{_speaker(previous)} summed it up well. {closing}"
        return closing

    sentences: list[str] = []
    if previous:
        who, said = _speaker(previous), _snippet(_text(previous))
        if turn >= converge_after:
            sentences.append(f'I agree with {who}: "{said}".')
        else:
            sentences.append(
                rng.choice(
                    [
                        f'{who} said "{said}", and I agree with the direction.',
                        f'Building on what {who} said ("{said}"), let me add the {field} view.',
                        f'I take {who}\'s point that "{said}", but it leaves {concern} open.',
                    ]
                )
            )
    else:
        sentences.append(f'As {role}, I look at "{short_topic}" first through {concern}.')

    if turn >= converge_after:
        sentences.append(
            f"Provided we track {concern} as a follow-up, I can support the proposal."
        )
        return " ".join(sentences)

    sentences.append(
        rng.choice(
            [
                f"My main concern is {concern}: we need a concrete answer before we commit.",
                f"From the {field} side, {concern} is where this could go wrong.",
                f"Whatever we decide, {concern} has to be covered explicitly.",
            ]
        )
    )
    kind = _KINDS[(turn + offset) % len(_KINDS)]
    if kind == "peer" and not peers:
        kind = "proposal"
    if kind == "peer":
        peer = rng.choice(peers)
        sentences.append(
            rng.choice(
                [
                    f"{peer}, how would you handle {concern} on your side?",
                    f"{peer}, what would it take to make this work within your constraints?",
                ]
            )
        )
    elif kind == "human":
        sentences.append(_human_question(concerns, concern, rng.randrange(4)))
    elif kind == "trivial":
        term = _term(topic, rng.randrange(1000))
        sentences.append(
            rng.choice(
                [
                    f'{TRIVIAL_QUESTION_PREFIX} what exactly do we mean by "{term}"?',
                    f'{TRIVIAL_QUESTION_PREFIX} should the write-up say "{term}" or something '
                    f"clearer?",
                ]
            )
        )
    else:
        sentences.append(
            rng.choice(
                [
                    "I propose we do this in phases, starting with the least risky part.",
                    "I suggest a small pilot first, with a clear go/no-go review.",
                ]
            )
        )
    return " ".join(sentences)


def _human_question(concerns: list[str], concern: str, pick: int) -> str:
    joined = " ".join(concerns).lower()
    category = "preference"
    for name, keys in _HUMAN_TOPICS:
        if any(k in joined for k in keys):
            category = name
            break
    amount = (25_000, 50_000, 120_000, 250_000)[pick]
    question = {
        "budget": f"will you approve a budget of about ${amount:,} for this?",
        "legal": f"are you prepared to sign a binding commitment on {concern}, given the legal "
        f"exposure?",
        "irreversible": "this step cannot be undone once started; do you want us to go ahead?",
        "preference": f"which matters more to you here, speed or {concern}?",
    }[category]
    return f"{HUMAN_QUESTION_PREFIX} {question}"


def _text(turn: Mapping[str, Any]) -> str:
    return str(turn.get("text") or turn.get("content") or "")


def _speaker(turn: Mapping[str, Any]) -> str:
    return str(turn.get("speaker") or turn.get("actor") or turn.get("name") or "the last speaker")


def _speakers(transcript: list[Mapping[str, Any]]) -> list[str]:
    seen: list[str] = []
    for turn in transcript:
        who = _speaker(turn)
        if who not in seen and who not in ("human", "observer", "orchestrator", "system"):
            seen.append(who)
    return seen


def _latest_other(transcript: list[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    for turn in transcript[::-1]:  # (mypy types reversed() of Any-holding items as Any)
        if _speaker(turn) != name and _text(turn):
            return turn
    return None


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0] if text.strip() else ""


def _shorten(text: str, words: int) -> str:
    parts = text.split()
    short = " ".join(parts[:words])
    return short.rstrip(".,;:!?") + ("..." if len(parts) > words else "")


def _snippet(text: str) -> str:
    """The sentence of a turn that carries its point: not a quote of someone else, not a
    question, not a courtesy; the first sentence when there is no such one."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()]
    point = next(
        (
            s for s in sentences
            if '"' not in s and not s.endswith("?") and not s.startswith(("As ", "I agree"))
        ),
        sentences[0] if sentences else text,
    )
    return _shorten(point.rstrip(".!?").replace('"', "'"), 12)


def _term(topic: str, pick: int) -> str:
    """A word of the topic worth defining: long, not a leading verb."""
    words = re.findall(r"[A-Za-z][A-Za-z-]{5,}", topic)[1:]
    return words[pick % len(words)].lower() if words else "done"


def _role_from_system(system: str) -> str:
    match = re.search(r"You are (?:the |an? )?([^.\n]+)", system)
    return match.group(1).strip() if match else ""
