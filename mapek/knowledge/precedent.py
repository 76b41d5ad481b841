"""Precedent: a person's verdicts, kept as labelled examples a later session consults.

Every time a person settles something, the settlement is a labelled example:

==============================  =========  ===================================================
the person                      domain     label
==============================  =========  ===================================================
answers an escalated question   triage     ``consequential`` (it was theirs to answer)
says "the peers could have      triage     ``trivial``
settled this"
approves a held call            screening  ``allow`` (approved)
refuses a held call             screening  ``deny`` (refused)
==============================  =========  ===================================================

Each is recorded as a ``precedent`` event (a semantic kind: its ``text``, the question or the
call as the person saw it, is indexed in the vector store, so a search reaches precedents of
every run). :meth:`PrecedentBook.add` records one; :meth:`PrecedentBook.nearest` finds the
nearest to a new question or plan: :class:`Precedent` values with a ``similarity`` (1 minus
the cosine distance) and an ``id`` (``run_id#seq``) to cite.

How the rest of mapek uses them: triage may settle an unsure question by a close precedent,
citing it; screening shows the nearest precedents to the model judge and to the person, but a
precedent never lowers a verdict the rules recognised.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from mapek.errors import VectorIndexError

if TYPE_CHECKING:
    from mapek.knowledge.base import KnowledgeBase
    from mapek.models import Event

__all__ = ["PRECEDENT_KIND", "Domain", "Precedent", "PrecedentBook", "PrecedentLookup",
           "call_text"]

PRECEDENT_KIND = "precedent"
"""The event kind of a precedent."""

Domain = Literal["triage", "screening"]
"""``triage``: a question's label; ``screening``: a plan's or call's verdict."""


class Precedent(BaseModel):
    """One labelled example from a person, as a judge or a person reads it."""

    model_config = ConfigDict(frozen=True)

    id: str
    """``run_id#seq`` of the ``precedent`` event: what a verdict cites."""
    domain: Domain
    text: str
    """The question, or the call as the person saw it."""
    label: str
    """``consequential`` / ``trivial`` (triage), ``allow`` / ``deny`` (screening)."""
    note: str = ""
    """What the person said with it (their answer, their reason)."""
    source: str = ""
    """The event the person recorded (``answer``, ``approval``, ``question.relabelled``)."""
    similarity: float = Field(default=0.0, ge=-1.0, le=1.0)
    """To the text it was found for: 1 minus the cosine distance (1 is identical)."""

    def cite(self) -> str:
        """``precedent run-1#12 (consequential, similarity 0.91)``."""
        return f"precedent {self.id} ({self.label}, similarity {self.similarity:.2f})"


PrecedentLookup = Callable[[str], list[Precedent]]
"""``text -> nearest precedents``, closest first: what a triager, a screener or a judge is
given (bound to one domain)."""


def call_text(tool: str, args: Mapping[str, object], why: str = "") -> str:
    """A tool call as a screening precedent keeps it: ``tool {args}`` and the reason given."""
    text = f"{tool} {json.dumps(dict(args), ensure_ascii=False, sort_keys=True, default=str)}"
    return f"{text} -- {why}" if why else text


class PrecedentBook:
    """Records a person's verdicts as precedents and finds the nearest ones."""

    def __init__(self, kb: KnowledgeBase, *, candidates: int = 12) -> None:
        self.kb = kb
        self.candidates = candidates
        """Semantic hits fetched per lookup before they are filtered by domain."""
        self._seen_any = False

    def _any(self) -> bool:
        """Whether the log holds a precedent at all (a cheap read; the index is opened only
        when there is something to find)."""
        if not self._seen_any:
            self._seen_any = bool(self.kb.events(None, kinds=[PRECEDENT_KIND], limit=1))
        return self._seen_any

    def add(self, run_id: str, domain: Domain, text: str, label: str, *, note: str = "",
               source: str = "", source_seq: int | None = None, actor: str = "human",
               key: str | None = None) -> Event:
        """Append one precedent to ``run_id``'s log (indexed like any semantic event)."""
        payload = {"domain": domain, "text": text.strip()[:4000], "label": label,
                   "note": note.strip()[:2000], "source": source, "source_seq": source_seq}
        return self.kb.record(run_id, PRECEDENT_KIND, actor, payload, parent=source_seq,
                              key=key)

    def nearest(self, text: str, domain: Domain, n: int = 3) -> list[Precedent]:
        """The ``n`` precedents of ``domain`` closest to ``text``, closest first; none when the
        index fails (a precedent helps, it is never needed)."""
        if not text.strip() or not self._any():
            return []
        try:
            hits = self.kb.search(text, n=max(n, self.candidates), kind=PRECEDENT_KIND)
        except VectorIndexError:
            return []
        out: list[Precedent] = []
        for hit in hits:
            ev = self.kb.get(hit.run_id, hit.seq)
            if ev is None or ev.payload.get("domain") != domain:
                continue
            p = ev.payload
            out.append(Precedent(id=hit.event_id, domain=domain, text=str(p.get("text", "")),
                                 label=str(p.get("label", "")), note=str(p.get("note") or ""),
                                 source=str(p.get("source") or ""),
                                 similarity=max(-1.0, min(1.0, 1.0 - hit.distance))))
            if len(out) >= n:
                break
        return out

    def lookup(self, domain: Domain, n: int = 3) -> PrecedentLookup:
        """A :data:`PrecedentLookup` bound to ``domain``."""
        return lambda text: self.nearest(text, domain, n)
