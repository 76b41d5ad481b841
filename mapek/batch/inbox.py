"""One inbox for a batch: every question waiting in any cell, the same question once.

Questions are grouped by their text, normalised (case, spacing and closing punctuation
ignored): the same question asked in several cells is one group, listed with where it was
asked. A group's id (``g`` and eight hex digits) is a digest of that text, so it is the same
in every listing and every process. Answering a group writes the answer into each cell that
is still waiting on it (an ``answer`` event, as ``mapek answer`` writes); a cell's worker reads
it from the log: a ``wait`` cell goes on at once, a ``queue`` cell at its next round (a cell
that has ended keeps the answer in its record and in the report).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from mapek.batch.state import BatchFold
from mapek.errors import UserError

__all__ = ["QuestionGroup", "WaitingQuestion", "answer_group", "group_id", "group_questions",
           "normalise"]


@dataclass
class WaitingQuestion:
    """One cell's copy of a question."""

    cell: str
    run_id: str
    qid: str
    asked_by: str
    label: str | None = None


@dataclass
class QuestionGroup:
    """A question waiting in one or more cells."""

    gid: str
    text: str
    asked_in: list[WaitingQuestion] = field(default_factory=list)

    @property
    def cells(self) -> int:
        return len(self.asked_in)

    def to_dict(self) -> dict[str, Any]:
        return {"gid": self.gid, "text": self.text, "cells": self.cells,
                "asked_in": [asdict(w) for w in self.asked_in]}


def normalise(text: str) -> str:
    """Lower case, single spaces, no closing punctuation."""
    return re.sub(r"\s+", " ", text).strip().lower().rstrip(" ?.!:;")


def group_id(text: str) -> str:
    return "g" + hashlib.sha256(normalise(text).encode()).hexdigest()[:8]


def group_questions(fold: BatchFold) -> list[QuestionGroup]:
    """Every question waiting for a person in any cell, grouped; in the order first asked."""
    groups: dict[str, QuestionGroup] = {}
    cells = fold.plan.cells() if fold.plan is not None else []
    for cell in cells:
        run = fold.runs.get(cell.key)
        if run is None or run not in fold.cells:
            continue
        for q in fold.cells[run].pending():
            gid = group_id(q.text)
            g = groups.setdefault(gid, QuestionGroup(gid, q.text))
            g.asked_in.append(WaitingQuestion(cell.key, run, q.qid, q.asked_by, q.label))
    return list(groups.values())


def answer_group(kb: Any, fold: BatchFold, gid: str, text: str) -> list[WaitingQuestion]:
    """Answer a group in every cell still waiting on it; returns where it was answered."""
    if not text.strip():
        raise UserError("an answer must not be empty")
    fold.refresh(kb)
    groups = {g.gid: g for g in group_questions(fold)}
    group = groups.get(gid)
    if group is None:
        known = ", ".join(groups) or "none"
        raise UserError(f"no question {gid!r} is waiting in batch {fold.batch_id} "
                        f"(waiting: {known})")
    done: list[dict[str, Any]] = []
    for w in group.asked_in:
        ev = kb.record(w.run_id, "answer", "human", {"qid": w.qid, "text": text.strip()},
                       key=f"batch-answer:{w.qid}")
        done.append({**asdict(w), "seq": ev.seq})
    digest = hashlib.sha256("|".join(f"{w.run_id}:{w.qid}" for w in group.asked_in)
                            .encode()).hexdigest()[:12]
    kb.record(fold.batch_id, "batch.answer", "human",
              {"gid": gid, "question": group.text, "text": text.strip(), "cells": done},
              key=f"answer:{gid}:{digest}")
    return group.asked_in
