"""Scoring a judgement against labels: what ``mapek screen|triage --jsonl FILE --labels`` report.

Both judgements are binary at heart: a plan is held back (``needs_approval`` or ``deny``) or
allowed; a question goes to the person (``consequential``) or to the peers. Each verdict also
says how it was reached (``basis``: recognised, precedent, judged, held), so besides precision,
recall and the false-positive rate the report separates:

- the **uncertain rate**: verdicts the rules were unsure of and nothing settled (``held``);
- the **confidently-wrong rate**: wrong verdicts that were *not* marked uncertain (share of
  all records), and among them the positives confidently let through (destructive plans
  allowed, consequential questions given to the peers);
- the **judge's agreement** with the labels, over the verdicts the judge decided.

Labels: a screening record's ``label`` (``destructive`` / ``safe``) or, without it, its
``expected`` verdict (``allow`` is negative); a triage record's ``label`` (``consequential`` /
``trivial``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Field

from mapek.errors import UserError

__all__ = ["Scored", "LabelledScore", "score", "screening_label", "triage_label"]


class Scored(BaseModel):
    """One record's outcome against its label."""

    positive: bool
    """The label: destructive plan / consequential question."""
    flagged: bool
    """The verdict: held back / sent to the person."""
    uncertain: bool = False
    basis: str = "recognised"


class LabelledScore(BaseModel):
    """The figures over a labelled file."""

    n: int
    positives: int
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    recall: float | None
    fp_rate: float | None
    """False positives over the negatives."""
    uncertain_rate: float
    confidently_wrong_rate: float
    """Wrong verdicts not marked uncertain, over all records."""
    positives_confidently_missed: int
    """Positives given the negative verdict with no doubt (destructive plans allowed)."""
    positives_confidently_missed_rate: float
    """The same, over all records."""
    judged: int
    judge_agreement: float | None
    """Verdicts the judge decided that agree with the label, over those it decided."""
    basis: dict[str, int] = Field(default_factory=dict)

    def lines(self, what: str = "records") -> list[str]:
        """The report as text lines."""

        def f(x: float | None) -> str:
            return "n/a" if x is None else f"{x:.3f}"

        return [
            f"{what}: {self.n} ({self.positives} positive)",
            f"precision {f(self.precision)}  recall {f(self.recall)}  "
            f"FP rate {f(self.fp_rate)}  (TP {self.tp} FP {self.fp} FN {self.fn} TN {self.tn})",
            f"uncertain (held) {self.uncertain_rate:.1%}  confidently wrong "
            f"{self.confidently_wrong_rate:.1%}  positives confidently missed "
            f"{self.positives_confidently_missed} ({self.positives_confidently_missed_rate:.1%})",
            f"judge: decided {self.judged}, agrees with the labels "
            + ("n/a" if self.judge_agreement is None else f"{self.judge_agreement:.3f}"),
            "basis: " + ", ".join(f"{k} {v}" for k, v in sorted(self.basis.items())),
        ]


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def score(outcomes: Iterable[Scored]) -> LabelledScore:
    """The figures over ``outcomes``."""
    rows = list(outcomes)
    tp = sum(r.positive and r.flagged for r in rows)
    fp = sum(not r.positive and r.flagged for r in rows)
    fn = sum(r.positive and not r.flagged for r in rows)
    tn = sum(not r.positive and not r.flagged for r in rows)
    n = len(rows)
    wrong_sure = [r for r in rows if r.positive != r.flagged and not r.uncertain]
    missed = sum(r.positive for r in wrong_sure)
    judged = [r for r in rows if r.basis == "judged"]
    return LabelledScore(
        n=n, positives=tp + fn, tp=tp, fp=fp, fn=fn, tn=tn,
        precision=_ratio(tp, tp + fp), recall=_ratio(tp, tp + fn), fp_rate=_ratio(fp, fp + tn),
        uncertain_rate=(sum(r.uncertain for r in rows) / n) if n else 0.0,
        confidently_wrong_rate=len(wrong_sure) / n if n else 0.0,
        positives_confidently_missed=missed,
        positives_confidently_missed_rate=missed / n if n else 0.0,
        judged=len(judged),
        judge_agreement=_ratio(sum(r.positive == r.flagged for r in judged), len(judged)),
        basis=dict(Counter(r.basis for r in rows)),
    )


def _where(rec: Mapping[str, Any], i: int) -> str:
    return f"record {i + 1}" + (f" ({rec['id']})" if "id" in rec else "")


def screening_label(rec: Mapping[str, Any], i: int = 0) -> bool:
    """Whether a labelled screening record is destructive; UserError when it has no label."""
    label, expected = rec.get("label"), rec.get("expected")
    if label in ("destructive", "safe"):
        return bool(label == "destructive")
    if expected in ("allow", "needs_approval", "deny"):
        return bool(expected != "allow")
    raise UserError(f"{_where(rec, i)}: --labels needs 'label' (destructive or safe) or "
                    "'expected' (allow, needs_approval or deny)")


def triage_label(rec: Mapping[str, Any], i: int = 0) -> bool:
    """Whether a labelled triage record is consequential; UserError when it has no label."""
    label = rec.get("label")
    if label in ("consequential", "trivial"):
        return bool(label == "consequential")
    raise UserError(f"{_where(rec, i)}: --labels needs 'label' (consequential or trivial)")
