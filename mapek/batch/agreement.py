"""How much two cells' conclusions agree: a simple, explained heuristic.

Each cell's synthesis gives decisions and recommendations as text. Two texts are compared by
the overlap of their content words (Jaccard similarity: shared words over all words, after
lower-casing and dropping short and common words), from 0 (nothing shared) to 1 (the same
words). Across a factor (panel, model or repeat) the batch compares every pair of a topic's
finished cells that differ in that factor only, and averages.

It is a heuristic: it sees words, not meaning. Two recommendations that say the same thing in
different words score low; two that use the same words to say opposite things ("do" / "do not
do") can score high. Read the decisions side by side in the report before relying on a score.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["AGREE", "PARTLY", "FACTORS", "Agreement", "agreement", "content_words", "label",
           "similarity"]

AGREE = 0.6
"""A score from here up is labelled ``agree``."""
PARTLY = 0.3
"""From here up to :data:`AGREE`: ``partly``; below: ``split``."""
FACTORS = ("panel", "model", "repeat")

_STOP = frozenset("""
a an and are as at be been but by can could do does for from had has have how if in into is it
its may might must no not of on or our should so such than that the their them then there these
they this those to too up us was we were what when where which while who will with would you
your all any also only more most other over same some very just about address
""".split())
# "not" and "no" are kept out of the stop list's reach below: they flip a decision's meaning
_KEEP = frozenset({"not", "no", "without", "never"})


def content_words(text: str) -> set[str]:
    """The words that carry content: lower case, three letters or more (and the negations),
    common words dropped."""
    words = re.findall(r"[a-z0-9$%]+", text.lower())
    return {w for w in words if w in _KEEP or (len(w) >= 3 and w not in _STOP)}


def similarity(a: str, b: str) -> float | None:
    """Jaccard similarity of two texts' content words; None when both have none."""
    wa, wb = content_words(a), content_words(b)
    if not wa and not wb:
        return None
    return len(wa & wb) / len(wa | wb)


def label(score: float | None) -> str:
    if score is None:
        return "n/a"
    return "agree" if score >= AGREE else "partly" if score >= PARTLY else "split"


@dataclass
class Agreement:
    """Agreement across one factor, within one topic."""

    factor: str
    pairs: int
    """Pairs of finished cells that differ in this factor only."""
    decisions: float | None
    recommendations: float | None

    @property
    def score(self) -> float | None:
        parts = [s for s in (self.decisions, self.recommendations) if s is not None]
        return sum(parts) / len(parts) if parts else None

    @property
    def label(self) -> str:
        return label(self.score) if self.pairs else "n/a"

    def sentence(self) -> str:
        """One line: does the conclusion survive a change of this factor?"""
        what = {"panel": "a change of panel", "model": "a change of model",
                "repeat": "a repeat (another seed)"}[self.factor]
        if not self.pairs:
            return f"{what[0].upper()}{what[1:]}: not compared (one value only, or too few " \
                   "finished cells)."
        dec = "holds" if (self.decisions or 0) >= AGREE else \
            "partly holds" if (self.decisions or 0) >= PARTLY else "does not hold"
        return (f"Under {what}, the decision {dec} (decisions {_f(self.decisions)}, "
                f"{label(self.decisions)}); the recommendations {label(self.recommendations)}"
                f" ({_f(self.recommendations)}); {self.pairs} pair(s) compared.")

    def to_dict(self) -> dict[str, Any]:
        return {"factor": self.factor, "pairs": self.pairs, "decisions": _r(self.decisions),
                "recommendations": _r(self.recommendations), "score": _r(self.score),
                "label": self.label, "sentence": self.sentence()}


def agreement(cells: Sequence[dict[str, Any]], factor: str) -> Agreement:
    """Agreement across ``factor`` among one topic's cells (dicts with ``panel``, ``model``,
    ``repeat``, ``decisions`` and ``recommendations``; cells without a synthesis are left
    out)."""
    others = [f for f in FACTORS if f != factor]
    done = [c for c in cells if c.get("finished")]
    dec: list[float] = []
    rec: list[float] = []
    pairs = 0
    for i, a in enumerate(done):
        for b in done[i + 1:]:
            if a[factor] == b[factor] or any(a[o] != b[o] for o in others):
                continue
            pairs += 1
            d = similarity(" ".join(a["decisions"]), " ".join(b["decisions"]))
            r = similarity(" ".join(a["recommendations"]), " ".join(b["recommendations"]))
            if d is not None:
                dec.append(d)
            if r is not None:
                rec.append(r)
    return Agreement(factor, pairs, sum(dec) / len(dec) if dec else None,
                     sum(rec) / len(rec) if rec else None)


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"
