"""The model judge: a model's ruling where the rules are unsure, in a schema, through mapek.llm.

Screening asks it about a plan whose verdict rests on unsure reasons alone; triage about a
question whose score sat in the unsure band. Either way the judge reads what the rules read and
more: the plan (or question), the parsed facts (each reason's rule, evidence, targets and why),
the context (including the operator's free-text ``notes``, which the rules ignore), the nearest
failure-catalogue entries and the nearest precedents (a person's earlier verdicts), and answers
in a schema: a verdict (or label), a confidence in [0, 1] and a rationale.

What it may do is bounded by the caller, not by the model:

- it is consulted only for unsure verdicts, so a reason the rules recognised (a certain one) is
  never in its hands: a judge never lowers a verdict on a destructive class the rules
  recognised;
- an answer with ``confidence`` below ``min_confidence`` decides nothing: the plan stays held
  for a person (fail closed), the question goes to the person;
- a failed call (the server down, an answer that never fits the schema) decides nothing either.

::

    judge = ModelJudge(ModelSpec("openai/qwen2.5-7b", api_base="http://127.0.0.1:8000/v1"))
    Screener(judge=judge).screen_text("tidy up the old exports", {"notes": "exports are ours"})
    QuestionTriager(judge=judge.triage_judge()).triage("Should we switch the logo font?")
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from mapek.errors import MapekError
from mapek.knowledge.precedent import Precedent, PrecedentLookup

if TYPE_CHECKING:
    from mapek.llm import Gateway, ModelSpec
    from mapek.safety.catalogue import CatalogueEntry, FailureCatalogue
    from mapek.safety.screening import JudgeOpinion, ScreenContext, Verdict

__all__ = ["PlanRuling", "QuestionRuling", "ModelJudge", "JudgeStats", "nearest_entries"]


class PlanRuling(BaseModel):
    """The judge's answer on a plan."""

    verdict: Literal["allow", "needs_approval", "deny"] = Field(
        description="allow: run it; needs_approval: a person approves first; deny: never run it")
    confidence: float = Field(ge=0.0, le=1.0, description="How sure you are, 0 to 1.")
    rationale: str = Field(description="One or two sentences: why.")


class QuestionRuling(BaseModel):
    """The judge's answer on a question."""

    label: Literal["consequential", "trivial"] = Field(
        description="consequential: the person must answer; trivial: the peers can settle it")
    reason: str = Field(description="One reason code: irreversible, money, legal, preferences, "
                        "authority, commitment, safety, strategy, private_info (consequential); "
                        "definitional, stylistic, reversible, already_answered, peer_answerable "
                        "(trivial).")
    confidence: float = Field(ge=0.0, le=1.0, description="How sure you are, 0 to 1.")
    rationale: str = Field(description="One or two sentences: why.")


_WORD = re.compile(r"[a-z][a-z0-9]+")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2}


def nearest_entries(catalogue: FailureCatalogue, text: str, *, ids: Sequence[str] = (),
                    n: int = 3) -> list[CatalogueEntry]:
    """The catalogue entries behind ``ids`` first, then those whose examples and detection
    share the most words with ``text`` (screening entries only), ``n`` in all."""
    out = [catalogue.get(i) for i in dict.fromkeys(ids) if i in catalogue][:n]
    query = _words(text)
    scored = []
    for e in catalogue.for_component("screening"):
        if e in out:
            continue
        doc = _words(" ".join([e.title, e.detection, *e.examples]))
        overlap = len(query & doc) / (len(query) ** 0.5 * len(doc) ** 0.5 or 1.0)
        if overlap > 0:
            scored.append((overlap, e.id, e))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return out + [e for _, _, e in scored[: max(0, n - len(out))]]


def _precedent_lines(found: Sequence[Precedent]) -> str:
    if not found:
        return "(none)"
    return "\n".join(f"- [{p.id}] {p.label} (similarity {p.similarity:.2f}): {p.text[:400]}"
                     + (f" -- the person said: {p.note[:200]}" if p.note else "")
                     for p in found)


_PLAN_SYSTEM = (
    "You review plans an AI agent wants to run. The offline rules were unsure about this one. "
    "Decide: allow (harmless, or destructive only to what this run made itself), needs_approval "
    "(destructive, external, or you cannot tell: a person approves first) or deny (destroys "
    "what a person made, production, or catastrophic). Read the operator's notes: they say "
    "what was asked and what the targets hold. Precedents are a person's earlier verdicts on "
    "similar plans. Give your confidence honestly: below the threshold the plan is held for a "
    "person anyway.")

_QUESTION_SYSTEM = (
    "You are the observer of a peer discussion. Decide whether a question needs the person's "
    "own judgement (consequential: irreversible, money, legal, their preferences, approval, "
    "external commitments, safety, strategy, private information) or can be settled by the "
    "peers (trivial: definitions, style, reversible details, already answered, a peer's "
    "expertise). Precedents are the person's earlier verdicts on similar questions. Give your "
    "confidence honestly: below the threshold the question goes to the person anyway.")


@dataclass
class JudgeStats:
    """Counts over a judge's lifetime."""

    calls: int = 0
    answered: int = 0
    """Answers at or above the confidence threshold (those decide)."""
    unsure: int = 0
    """Answers below the threshold (the plan stays held; the question goes to the person)."""
    failed: int = 0
    """Calls that produced no valid answer (server down, output never fit the schema)."""


@dataclass
class ModelJudge:
    """A model judge for screening (call it as a :data:`~mapek.safety.screening.Judge`) and for
    triage (:meth:`triage_judge`)."""

    model: ModelSpec | str | Gateway
    """A :class:`~mapek.llm.ModelSpec`, a model string (with ``MAPEK_API_BASE`` and the other
    settings) or a ready :class:`~mapek.llm.Gateway`."""
    min_confidence: float = 0.7
    """Answers below it decide nothing (fail closed)."""
    precedents: PrecedentLookup | None = None
    """Screening precedents (``text -> nearest``), shown to the judge."""
    question_precedents: PrecedentLookup | None = None
    """Triage precedents, shown to the judge."""
    catalogue: FailureCatalogue | None = None
    """Default: the packaged failure catalogue."""
    timeout: float | None = None
    stats: JudgeStats = field(default_factory=JudgeStats)
    _gateway: Gateway | None = field(default=None, repr=False)

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            from mapek.llm import Gateway

            if isinstance(self.model, Gateway):
                self._gateway = self.model
            else:
                self._gateway = Gateway(self.model, timeout=self.timeout, max_retries=1)
        return self._gateway

    def _catalogue(self) -> FailureCatalogue:
        if self.catalogue is None:
            from mapek.safety.catalogue import default_catalogue

            self.catalogue = default_catalogue()
        return self.catalogue

    def _ask(self, schema: type[Any], system: str, user: str, task: str) -> Any:
        self.stats.calls += 1
        try:
            return self.gateway.structured(
                [{"role": "system", "content": system}, {"role": "user", "content": user}],
                schema, task=task, actor="judge", context={"prompt": user[:2000]})
        except MapekError:
            self.stats.failed += 1
            return None

    # -- screening ---------------------------------------------------------------------------

    def plan_prompt(self, plan: str, context: ScreenContext, verdict: Verdict) -> str:
        """What the judge reads about a plan."""
        facts = [{"rule": r.rule, "catalogue_id": r.catalogue_id, "verdict": r.verdict,
                  "certain": r.certain, "why": r.why, "evidence": r.evidence,
                  "targets": r.targets} for r in verdict.reasons]
        ctx = context.model_dump(exclude_none=True, exclude_defaults=True)
        notes = ctx.pop("notes", None)
        entries = nearest_entries(self._catalogue(), plan, ids=verdict.catalogue_ids)
        found = list(verdict.precedents)
        if not found and self.precedents is not None:
            found = self.precedents(plan)
        return "\n\n".join([
            f"PLAN:\n{plan}",
            f"PARSED FACTS (the rules' findings; the rules' own verdict: {verdict.verdict}, "
            f"unsure):\n{json.dumps(facts, ensure_ascii=False)[:6000]}",
            f"CONTEXT:\n{json.dumps(ctx, ensure_ascii=False)[:3000] if ctx else '(none)'}",
            f"OPERATOR'S NOTES:\n{notes or '(none)'}",
            "FAILURE CATALOGUE (nearest entries):\n" + ("\n".join(
                f"- {e.id}: {e.title}. {e.detection.strip()[:300]} Response: "
                f"{e.response.strip()[:200]}" for e in entries) or "(none)"),
            f"PRECEDENTS (a person's verdicts on similar plans):\n{_precedent_lines(found)}",
        ])

    def __call__(self, plan: str, context: ScreenContext, verdict: Verdict
                 ) -> JudgeOpinion | None:
        from mapek.safety.screening import JudgeOpinion

        ruling = self._ask(PlanRuling, _PLAN_SYSTEM, self.plan_prompt(plan, context, verdict),
                           "screen_judge")
        if ruling is None:
            return None
        if ruling.confidence < self.min_confidence:
            self.stats.unsure += 1
        else:
            self.stats.answered += 1
        return JudgeOpinion(verdict=ruling.verdict, rationale=ruling.rationale,
                            confidence=ruling.confidence)

    # -- triage ------------------------------------------------------------------------------

    def question_prompt(self, text: str, context: str | None,
                        found: Sequence[Precedent] = ()) -> str:
        return "\n\n".join([f"QUESTION:\n{text}", f"CONTEXT:\n{context or '(none)'}",
                            "PRECEDENTS (the person's verdicts on similar questions):\n"
                            + _precedent_lines(found)])

    def rule_question(self, text: str, context: str | None = None,
                      found: Sequence[Precedent] | None = None) -> QuestionRuling | None:
        """The judge's ruling on a question, or None when the call failed."""
        if found is None:
            found = self.question_precedents(text) if self.question_precedents else []
        ruling: QuestionRuling | None = self._ask(
            QuestionRuling, _QUESTION_SYSTEM, self.question_prompt(text, context, found),
            "triage_judge")
        if ruling is not None:
            if ruling.confidence < self.min_confidence:
                self.stats.unsure += 1
            else:
                self.stats.answered += 1
        return ruling
