"""Questions raised in a discussion, as the log tells them.

The worker and every front end derive a question's status from the log alone, by folding these
events in order:

=====================  ==========================================================
``question``           raised: ``qid``, ``text``, ``asked_by``, ``to``
``question.triaged``   scored: ``qid``, ``label``, ``reason``, ``score``, ``source``
``question.routed``    sent to a peer: ``qid``, ``to``, ``why``
``question.escalated`` sent to the human: ``qids`` (one batch)
``question.deferred``  set aside: ``qid``, ``note``
``answer``             answered: ``qid``, ``text`` (actor: a persona or ``human``)
=====================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from mapek.errors import UserError
from mapek.models import Event

__all__ = ["QuestionStatus", "QuestionRecord", "fold_questions", "check_answerable",
           "QUESTION_KINDS"]

QuestionStatus = Literal["open", "routed", "escalated", "answered", "deferred"]
"""``open``: not yet handled; ``routed``: a peer is asked; ``escalated``: waiting for the human;
``answered``: has an answer event; ``deferred``: set aside with a note."""

QUESTION_KINDS = frozenset(
    {"question", "question.triaged", "question.routed", "question.escalated",
     "question.deferred", "answer"}
)


@dataclass
class QuestionRecord:
    """Everything known about one question."""

    qid: str
    text: str
    asked_by: str
    to: str | None
    asked_seq: int
    status: QuestionStatus = "open"
    label: str | None = None
    """``consequential`` or ``trivial`` once triaged."""
    reason: str | None = None
    score: float | None = None
    routed_to: str | None = None
    answer_seq: int | None = None
    answer_text: str | None = None
    answered_by: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def consequential(self) -> bool:
        return self.label == "consequential"


def fold_questions(events: Iterable[Event]) -> dict[str, QuestionRecord]:
    """Every question of a run with its current status, in the order raised."""
    out: dict[str, QuestionRecord] = {}
    for ev in events:
        p = ev.payload
        if ev.kind == "question":
            out[p["qid"]] = QuestionRecord(p["qid"], p.get("text", ""), ev.actor, p.get("to"),
                                           ev.seq)
            continue
        if ev.kind not in QUESTION_KINDS:
            continue
        qids = p.get("qids") or ([p["qid"]] if "qid" in p else [])
        for qid in qids:
            q = out.get(qid)
            if q is None:
                continue
            if ev.kind == "question.triaged":
                q.label, q.reason, q.score = p.get("label"), p.get("reason"), p.get("score")
            elif ev.kind == "question.routed" and q.status == "open":
                q.status, q.routed_to = "routed", p.get("to")
            elif ev.kind == "question.escalated" and q.status in ("open", "routed"):
                q.status = "escalated"
            elif ev.kind == "question.deferred" and q.status != "answered":
                q.status = "deferred"
                q.notes.append(p.get("note", ""))
            elif ev.kind == "answer" and q.status != "answered":
                q.status, q.answer_seq = "answered", ev.seq
                q.answer_text, q.answered_by = p.get("text", ""), ev.actor
    return out


def check_answerable(questions: dict[str, QuestionRecord], qid: str) -> QuestionRecord:
    """The question a human may answer now, or a ``UserError`` saying why not."""
    q = questions.get(qid)
    if q is None:
        known = ", ".join(k for k, v in questions.items() if v.status != "answered") or "none"
        raise UserError(f"no question {qid!r} in this run (unanswered: {known})")
    if q.status == "answered":
        raise UserError(f"question {qid} is already answered (by {q.answered_by}, event "
                        f"#{q.answer_seq})")
    return q
