"""Questions raised in a discussion, as the log tells them.

The worker and every front end derive a question's status from the log alone, by folding the
question events in order (:func:`fold_questions`, the same fold :class:`mapek.fold.RunFold`
keeps; the kinds and their fields are listed in :mod:`mapek.fold`). This module adds the check
a human's answer must pass.
"""

from __future__ import annotations

from mapek.errors import UserError
from mapek.fold import QUESTION_KINDS, QuestionRecord, QuestionStatus, fold_questions

__all__ = ["QuestionStatus", "QuestionRecord", "fold_questions", "check_answerable",
           "QUESTION_KINDS"]


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
