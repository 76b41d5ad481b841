"""Observer, Analyse: is a question consequential (the human must answer) or trivial (peers can
settle it)?

Cheap signals first. A hand-written lexicon of weighted cue patterns, one group per reason code,
scores every question in well under a millisecond and says which cues fired. The cue weights are
summed into a log-odds (consequential cues push up, trivial cues push down), squashed by a
logistic into ``score``; a score in the middle band is ``unsure``, and only then is the optional
``judge`` (a model call) consulted. So supervision costs a model call only for the questions the
rules cannot settle.

Reason codes
============

consequential: ``irreversible``, ``money``, ``legal``, ``preferences``, ``authority``,
``commitment``, ``safety``, ``strategy``, ``private_info``

trivial: ``definitional``, ``stylistic``, ``reversible``, ``already_answered``,
``peer_answerable``

Beyond the lexicon, two trivial signals need state: ``already_answered`` compares the question
with ``answered_texts`` (content-word overlap), and ``peer_answerable`` fires when a factual
question names a peer's expertise tag. A cue that follows a negation (``no``, ``not``,
``without``...) within a few words counts for a third of its weight; hedges (``just``, ``quick``,
``minor``) weigh slightly toward trivial. The surrounding ``context`` is scored with the same
cues at half weight, and the discussion ``topic`` at a quarter, the latter only for a vague
question (``it``, ``this``, ``that``) that names nothing itself.

What is asked weighs more than the words used. A question of a recognised trivial class (a
definition, a format or wording choice, where something is, who owns a step, a fact in a shared
document or a decision already taken, a statistic, tidying, an act on a scratch or test copy)
that commits to nothing counts its money, legal, delete or safety words at a third of their
weight: they are its topic (``frame:recognised-trivial``). A question that asks to act (a modal
with *we* or *I* and an act with effect outside the team: "can I tell", "ok to give", "should we
sign") weighs as a decision, and a trivial surface in it weighs less instead
(``frame:asks-to-act:<reason>``). A question that names no stake and that no trivial class
recognises is not evidence of anything: its score sits at the low edge of the unsure band
(``frame:unrecognised``), so it goes to the judge, or is held for the person.

Some trivial classes are recognised by the form of the question alone: a wh-question that names
no one on the team and asks no permission (``impersonal-wh``: it asks a fact, so a stake noun in
it is its topic), a view or forecast asked of a peer with no act of ours in it (``opinion``), a
figure asked with a hedge (``hedged-figure``), the order or scope of this discussion
(``agenda``). A view or a rough figure that names a strong stake is not recognised by its form.
In other languages the rules read only what a term means, a choice between two quoted wordings,
a hedged figure with no "we can" in it, and the discussion's agenda; anything else in another
language names no stake the rules can read and is held.

The batch entry point :func:`triage_jsonl` reads one record a line and writes one verdict a line.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mapek.errors import UserError
from mapek.knowledge.precedent import Precedent, PrecedentLookup

if TYPE_CHECKING:
    from mapek.safety.judge import ModelJudge

__all__ = [
    "Label",
    "Reason",
    "CONSEQUENTIAL_REASONS",
    "TRIVIAL_REASONS",
    "Triage",
    "Judge",
    "model_judge",
    "TriageStats",
    "QuestionTriager",
    "triage_jsonl",
    "triage_records",
    "MAX_QUESTION_CHARS",
]

MAX_QUESTION_CHARS = 20_000
"""Characters of a question (and of its topic, context, answered texts) the rules read."""

Label = Literal["consequential", "trivial"]
"""``consequential``: the human must answer; ``trivial``: peers can settle it."""

Reason = Literal[
    "irreversible", "money", "legal", "preferences", "authority", "commitment", "safety",
    "strategy", "private_info",
    "definitional", "stylistic", "reversible", "already_answered", "peer_answerable",
]
"""One reason code: the first nine make a question consequential, the last five trivial."""

CONSEQUENTIAL_REASONS: tuple[str, ...] = (
    "irreversible", "money", "legal", "preferences", "authority", "commitment", "safety",
    "strategy", "private_info",
)
TRIVIAL_REASONS: tuple[str, ...] = (
    "definitional", "stylistic", "reversible", "already_answered", "peer_answerable",
)


class Triage(BaseModel):
    """The verdict on one question."""

    model_config = ConfigDict(frozen=True)

    label: Label
    reason: Reason
    """The strongest reason on the side of the label."""
    score: float = Field(ge=0.0, le=1.0)
    """Probability-like confidence that the question is consequential."""
    signals: list[str] = Field(default_factory=list)
    """What fired, as ``reason:cue`` (``ctx:`` from the context, ``neg:`` when negated)."""
    unsure: bool = False
    """The rules' score sat in the middle band; a judge was (or could have been) consulted."""
    source: Literal["rules", "model", "precedent"] = "rules"
    basis: Literal["recognised", "precedent", "judged", "held"] = "recognised"
    """How the label was reached: ``recognised`` (the rules were sure), ``precedent`` (unsure
    rules, settled by a person's close precedent, cited in ``precedent``), ``judged`` (unsure
    rules, the model judge decided), ``held`` (unsure and nothing decided: with
    ``hold_unsure`` the question goes to the person, labelled consequential; fail closed)."""
    precedent: str | None = None
    """The precedent cited (``run_id#seq``) when it settled the question."""
    rationale: str | None = None
    """The judge's rationale, or the precedent's citation."""

    @model_validator(mode="after")
    def _reason_fits_label(self) -> Triage:
        side = CONSEQUENTIAL_REASONS if self.label == "consequential" else TRIVIAL_REASONS
        if self.reason not in side:
            raise ValueError(f"reason {self.reason!r} is not a {self.label} reason")
        return self


Judge = Callable[[str, "str | None"], "Triage | None"]
"""A model judgement ``(text, context) -> Triage | None``, consulted only when the rules are
unsure; ``None`` decides nothing (the question is held). :func:`model_judge` makes one from a
:class:`~mapek.safety.judge.ModelJudge`."""


def model_judge(judge: ModelJudge, *,
                precedents: PrecedentLookup | None = None) -> Judge:
    """A triage :data:`Judge` asking ``judge`` (a model, in a schema); an answer below the
    judge's ``min_confidence``, or a failed call, decides nothing. ``precedents`` (triage
    precedents) are shown to the model."""

    def ask(text: str, context: str | None) -> Triage | None:
        found = precedents(text) if precedents is not None else None
        ruling = judge.rule_question(text, context, found)
        if ruling is None or ruling.confidence < judge.min_confidence:
            return None
        side = CONSEQUENTIAL_REASONS if ruling.label == "consequential" else TRIVIAL_REASONS
        reason = ruling.reason if ruling.reason in side else side[0]
        score = ruling.confidence if ruling.label == "consequential" else 1 - ruling.confidence
        return Triage(label=ruling.label, reason=cast(Reason, reason), score=round(score, 4),
                      signals=[f"judge:confidence={ruling.confidence:.2f}"],
                      source="model", basis="judged", rationale=ruling.rationale)

    return ask


# --------------------------------------------------------------------------------------------
# The lexicon. Each cue: (reason, weight, name, regex). Positive weights are evidence for the
# reason; a trivial reason's weight counts against consequential. Patterns are matched
# case-insensitively against the question (and, discounted, the context).
# --------------------------------------------------------------------------------------------

_EXTERNAL = (r"(?:customers?|clients?|partners?|vendors?|suppliers?|distributors?|resellers?|"
             r"banks?|auditors?|investors?|analysts?|press|regulators?|founders?|candidates?|"
             r"the market|tenants?|integrators?|users?|followers|readers|recipients|"
             r"agency|agencies|public|parents|families|residents|donors|members|patients|pupils|"
             r"landlord|council|union|insurers?|journalists?|media|authorit(?:y|ies)|lawyers?|"
             r"solicitors?|attorneys?|other side|counterpart(?:y|ies))")
_DOCS = (r"wiki|docs?|sheet|plan|calendar|pdf|drive|policy|handbook|notes|minutes|tracker|"
         r"spreadsheet|deck|page|schedule|readme|runbook|checklist|channel|board|summary|report|"
         r"brief|proposal|register|log|spec|agenda|thread|invoice|quote|memo|slides?|faq|sop|"
         r"file|list|crm|system|folder|master data|record|survey|inspection|assessment|"
         r"audit report|study|binder|intranet|pack|e-?mail|letter|message|invite|confirmation|"
         r"itinerary|booking|ledger|accounts|books")
"""Shared documents whose contents peers can look up."""
_ESTIMATE_LEAD = (r"(?:^|[.!:;]\s)\s*(?:so,? |and |roughly,? |approximately,? |about |around |"
                  r"typically,? |usually,? |generally,? |on average,? |out of interest,? |"
                  r"any idea )?")
"""The start of a sentence asking for a figure, with the hedge an estimate often opens with."""
_ONE_QUESTION = r"^(?![\s\S]*\?[\s\S]*\?)"
"""A text with at most one question mark: a second question may ask to act on the first."""
_EMAIL_OR_HANDLE = r"(?:[\w.+-]+@[\w-]+\.[\w.]+|@\w{2,})"

# (reason, weight, name, pattern, options). Patterns are lower case and run on the lowered
# text, except with option "case" (run on the original text). "needs=R": an amplifier that
# counts only when reason R already has evidence. "keep": never damped by a negation (the cue
# itself contains the negation).
_CUES: list[tuple[str, float, str, str, str]] = [
    # --- irreversible: destructive or one-way actions, strongest on shared or live things
    ("irreversible", 1.4, "destroy-verb",
     r"\b(?:delet(?:e|es|ed|ing)|hard-delete|drop|dropping|(?<!many )(?<!few )(?<!the )drops|"
     r"wip(?:e|es|ing)|purg(?:e|es|ing)|"
     r"destroy\w*|erase|shred|scrap|decommission\w*|terminat(?:e|ing)|revok(?:e|ing)|"
     r"overwrit\w+|truncate|format (?:the|my) (?:disk|drive)|remov(?:e|ing) (?:all|every|the "
     r"(?:\w+ )?(?:data|files?|records|users?|accounts?|access|package|version))|"
     r"uninstall\w*|rm -rf)\b", ""),
    ("irreversible", 1.0, "shutdown",
     r"\b(?:shut(?:ting)? down|close (?:it|the (?:\w+ )?(?:site|office|account|warehouse|plant|"
     r"store|branch|shop|clinic|factory|restaurant|depot|school|line|service))|"
     r"switch(?:ing)? off|turn(?:ing)? off|sunset|lay(?:ing)? off|layoffs?|wind down|"
     r"redundanc(?:y|ies)|(?:make|made|making) [\w' -]{1,30}redundant|"
     r"give up the|disabl(?:e|ing)|deactivat\w+)\b", ""),
    ("irreversible", 1.2, "outbound",
     r"\b(?:publish\w*|post|posting|tweet\w*|announc\w+|email|e-mail|send|sending|issue|"
     r"broadcast|share|sharing|respond|reply|forward|upload)\b(?:[^.?!]|\.(?=\S)){0,120}"
     r"(?:\b" + _EXTERNAL +
     r"\b|\b(?:all|every|everyone|blog|press|twitter|facebook|linkedin|instagram|timeline|"
     r"world|mailing list|slack channel|external|#\w+)\b|" + _EMAIL_OR_HANDLE + r")", ""),
    ("irreversible", 0.9, "public", r"\bpress release|\bpublic(?:ly)?\b|\bon the record\b", ""),
    ("irreversible", 1.2, "deploy-prod",
     r"\b(?:deploy|push|ship|roll out|release|run|apply|migrate)\b[^.?!]{0,40}"
     r"\b(?:production|prod|live)\b|\blive (?:database|system|data|site)\b", ""),
    ("irreversible", 0.8, "migration", r"\b(?:migrat\w+|cut ?over|schema)\b", ""),
    ("irreversible", 1.6, "one-way",
     r"\b(?:irreversibl\w*|permanent(?:ly)?|for good|can(?:no|')t (?:be )?(?:undo|undone|walk|"
     r"take|get|go|reverse)\w*(?: it| that| this)? back|no (?:going|getting|way) back|no undo|"
     r"point of no return|once (?:it'?s|the \w+(?: \w+)? (?:is|goes)) out|there'?s no \w+ing "
     r"(?:it|them|that|this) (?:back|out)|go or no[- ]go|hand(?:ing)? back|los(?:e|ing) (?:the|all|"
     r"our)|let(?:ting)? (?:\w+ ){0,3}(?:staff|people|them|employees|team) go)\b", "keep"),
    ("irreversible", 1.4, "no-rollback",
     r"\b(?:without|no|there is no|there's no)\s+(?:a\s+)?(?:rollback|roll-back|backups?|"
     r"back-ups?|undo)\b", "keep"),
    ("irreversible", 1.2, "by-criterion",
     r"\b(?:delet|remov|wip|purg|eras|clean)\w*\b[^.?!]{0,40}\b(?:any|all|every)\b[^.?!]{0,40}"
     r"(?:\b(?:that|which) (?:have|has|contain|match|look)|\bcontaining\b|\bmatching\b|"
     r"\bkeyword\b|\bunused\b|\bunnecessary\b|\bnot needed\b)", ""),
    ("irreversible", 0.9, "live-scope",
     r"\b(?<!scratch )(?<!test )(?<!dummy )(?<!sandbox )(?<!staging )(?<!local )(?<!temp )"
     r"(?<!demo )(?<!trial )(?<!training )"
     r"(?:(?:production|prod)(?! (?:is|stays|remains|isn't|is not) "
     r"(?:untouched|safe|intact|unaffected|touched|affected))|customer (?:table|data|records|"
     r"database)|databases?|backups?|"
     r"accounts|tenants?|every (?:tenant|customer|user|account)|all (?:the )?(?:customers|users|"
     r"tenants|accounts|records|files|tasks|emails|data|my)|entire|whole)\b",
     "needs=irreversible"),
    ("irreversible", 1.2, "system-change",
     r"\b(?:install(?:s|ed|ing)?|download (?:and|&) run|run (?:the|this|that) (?:script|command)|"
     r"sudo|execute (?:the|this)|chmod|kill (?:the|all) process\w*)\b", ""),
    ("irreversible", 1.0, "act-for-human",
     r"(?:^|[.!?]\s+|\b(?:please|can you|could you|would you|help me|i want you to|"
     r"i need you to|go ahead and|i want to|i'd like to|i need to)\s+)"
     r"(?:(?:help me|please|also|then)\s+)?(?:post|tweet|send|email|"
     r"message|share|ship|order|buy|book|schedule|create|set up|update|add|delete|remove|install|"
     r"replace|grant|respond|reply|transfer|pay|allocate|adjust|move|navigate|turn (?:on|off)|"
     r"change|make|publish|upload|invite|deploy|run|execute|apply|cancel|sell|withdraw|deposit|"
     r"file|submit|sign|register|subscribe|unsubscribe|reset|give|handle|fix|control|boost|"
     r"disable|enable|unblock|block|launch|approve|accept|reject|revoke|upgrade|downgrade|"
     r"modify|edit|record|invest|collect|gather|find and|contact|call|text|notify)\b", ""),
    ("irreversible", 1.0, "cancel-booking",
     r"\bcancel\w*\b[^.?!]{0,40}\b(?:bookings?|flights?|hotels?|orders?|subscriptions?|contracts?|"
     r"reservations?|accounts?|polic(?:y|ies)|agreements?|all)\b", ""),
    # --- money: spend, budget, pricing, funding, moving funds
    ("money", 1.2, "amount",
     r"[$€£]\s?\d[\d,.]*\s?(?:k|m|bn|million|billion)?\b|\b\d[\d,.]*\s?(?:k|m|bn)\b"
     r"(?=\s*(?:a|per|annual|in|of|on|up|cash|,|\.|\?|$))|\b\d+\s?%\s+(?:of\s+)?(?:revenue|margin|"
     r"budget|discount)|\b\d[\d,.]*\s?(?:btc|eth|ether|bitcoin|usd|eur|gbp|dollars|euros|pounds)\b",
     ""),
    ("money", 1.0, "spend",
     r"\b(?:afford|spend|spending|pay|paying|paid|fund|funding|financ(?:e|ed|ing)|prepay\w*|"
     r"loan|credit line|invest|investment|overtime|absorb|eat (?:that|the) cost|write[- ]off|"
     r"purchase|buy me|order (?:me|a|an|the)|book (?:me|a)|owe|how deep|undercut\w*|"
     r"(?:six|seven|eight) figures|front(?:ing)? the (?:cash|money)|deposit|capex|opex|payroll|"
     r"burn rate)\b|"
     r"\b(?:give|offer)\b[^.?!]{0,30}\bdiscounts?\b", ""),
    ("money", 1.4, "move-funds",
     r"\b(?:withdraw\w*|transfer\w*|wire|deposit)\b[^.?!]{0,50}(?:[$€£\d]|\b(?:account|funds?|"
     r"balance|money|wallet|crypto|bitcoin|btc|ether|eth|shares?|stock)\b)|\b(?:bitcoin|btc|"
     r"ether(?:eum)?|crypto\w*|wallet|venmo|paypal|binance|coinbase|brokerage|stock trade|"
     r"trade|trading)\b", ""),
    ("money", 0.9, "budget", r"\bbudget\w*\b", ""),
    ("money", 1.6, "who-pays",
     r"(?:^|[.!:;]\s)\s*(?:so,? )?"
     r"who(?:'s| is| will|'ll| should)? (?:pay|paying|fund|funding|cover|covering|"
     r"front|fronting|foot|footing|bear|bearing|eat|eating)\b", ""),
    ("money", 0.8, "pricing",
     r"\b(?:pric(?:e|es|ing)|discounts?|refunds?|fees?|margins?|revenue|valuation|costs?|"
     r"salary|salaries|bonus|cash|balance|money)\b", ""),
    ("money", 0.6, "willing", r"\b(?:willing|prepared|ready|comfortable) to (?:pay|spend|give up|"
     r"put|absorb|eat|lose|cut|halve)\b|\bworth (?:it|paying|the)\b|\bmost we'?d\b", ""),
    # --- legal: law, contracts, compliance, privacy
    ("legal", 1.6, "law",
     r"\b(?:gdpr|ccpa|hipaa|pci|sox|compliance|compliant|non-?compliant|legal(?:ly)?(?! name| "
     r"entit)|illegal\w*|unlawful|lawful|liab(?:le|ility)|regulat(?:or|ors|ion|ions|ory)|"
     r"litigation|lawsuit|sue|court|enforceable|statut\w+|licen[cs]es?|licensing|copyright\w*|"
     r"trademark|patent|infring\w*|ico|ftc|antitrust|permits?|fraud\w*|defam\w+|deepfake|nda|"
     r"dpa|(?:terms|contract|agreement|law|regulations?) (?:require|allow|permit|forbid)s?|"
     r"on the hook|certif(?:y|ied|ication)|ce mark\w*|fcc|ul listing|export control\w*|"
     r"impersonat\w+|without (?:their|his|her) (?:consent|permission|knowledge)|by law|"
     r"the law(?! (?:firm|school|society|centre|center|department|library|faculty))|"
     r"legal requirements?|legally required|required by law)\b", ""),
    ("legal", 1.6, "contract-lets",
     r"\b(?:terms|contract|agreement|lease|licen[cs]e|policy|regulations?|rules?)\b[^?]{0,25}\b"
     r"(?:lets?|allows?|permits?|requires?|forbids?|stops?) (?:us|we|them|you)\b", ""),
    ("legal", 1.0, "contract-terms",
     r"\b(?:contracts?|data processing agreement|terms of (?:service|use)|our terms|"
     r"api terms|obligations?|non-?compete|consent|breach|in breach|notice period|\w+ notice|"
     r"disclos\w+|report (?:it |the \w+ )?to the|require (?:us )?to)\b", ""),
    ("legal", 0.7, "privacy",
     r"\b(?:privacy|personal data|data protection|health records|medical records|pii|"
     r"retention polic\w+|deletion requests?|record(?:ing)? (?:\w+ )?(?:calls|conversations)|"
     r"surveil\w+|criminal (?:history|record)|background check)\b", ""),
    ("legal", 1.2, "without-telling",
     r"\bwithout (?:telling|asking|informing|notifying|warning|their consent|consent)\b", "keep"),
    ("legal", 0.5, "allowed",
     r"\b(?:are we|is it|am i) (?:even )?(?:allowed|permitted|legal)\b", ""),
    # --- preferences: the human's own wishes and values
    ("preferences", 2.0, "ask-preference",
     r"\b(?:would|do|did) you (?:rather|prefer)\b|\byour (?:preference|priorit\w+|values?|"
     r"appetite|taste|instinct|gut)\b|\bhow do you feel\b|\b(?:matters?|important) (?:more |most )?"
     r"to you\b|\bdo you (?:care|mind|want)\b|\bwould (?:it|that) bother you\b|"
     r"\bwould you (?:accept|be (?:ok|okay|comfortable|happy))\b|\bare you (?:ok|okay|"
     r"comfortable|happy|fine) with\b|\byou personally\b|\bwhich do you value\b|"
     r"\b(?:can|could) you live with\b|\bwould you (?:put|stake|risk|bet|sign)\b", ""),
    ("preferences", 2.0, "principal-wants",
     r"\b(?:does|do|did|would|will|is|are) (?:the |our |my )?(?:owners?|pi|partners|founders?|"
     r"board|ceo|clients?|sponsors?|principals?|chair|trustees|directors?|family|investors?|"
     r"landlord|customer)\b(?:'s)?(?: \w+){0,2} (?:want|wants|rather|prefer|prefers|like|"
     r"expect|expects|care|mind|happy|ok|okay)\b", ""),
    ("preferences", 0.8, "values",
     r"\b(?:values?|wellbeing|well-being|culture|brand|reputation|identity|mission|ethic\w*|"
     r"comfortable|appetite|risk tolerance)\b", ""),
    # --- authority: approval, sign-off, who decides, access
    ("authority", 2.1, "approval",
     r"\b(?:approv\w+|sign(?:s|ed|ing)?(?: \w+)? off|sign-off|authori[sz]\w*|authority|remit|"
     r"go-ahead|go ahead|"
     r"green[- ]light|mandate|empowered|final say|veto|permission|who decides|who (?:signs|"
     r"approves|authori[sz]es|can sign|has to sign|should sign|gets to sign)|"
     r"who gets to decide|decide (?:it|this) (?:here|in this room)|exception to)\b", "keep"),
    ("authority", 1.0, "governance",
     r"\b(?:board(?<!jira board)(?<!kanban board)(?<!trello board)(?<!project board)"
     r"(?<!price board)(?<!notice board)(?<!menu board)(?<!mood board)(?<!display board)"
     r"(?<!specials board)(?<!sign board)(?<!planning board)(?<!bulletin board)"
     r"(?<!departure board)(?<!drawing board)|investment committee|committee|"
     r"coo|ceo|cfo|cto|exec(?:utive)? team|"
     r"leadership|shareholders?)\b", "keep"),
    ("authority", 1.4, "access",
     r"\b(?:grant\w*|giv(?:e|ing)|revok\w+|remov(?:e|ing)|unblock\w*|unlock\w*|disarm\w*)\b"
     r"[^.?!]{0,40}\b(?:admin|root|access|permissions?|keys?|credentials|door|lock|"
     r"security(?: system)?)\b", ""),
    ("authority", 0.8, "allowed-to", r"\ballowed to\b", ""),
    ("authority", 1.6, "say-in",
     r"\b(?:get|gets|have|has) (?:a|the) (?:vote|say|veto)\b|\b(?:management|board|owner'?s?|"
     r"their|whose) (?:call|decision)\b", "keep"),
    # --- commitment: binding promises to someone outside
    ("commitment", 1.8, "promise-future",
     r"\b(?:tell|telling|assure|reassure|announce\w*|confirm(?:ing)? to|let \w+(?: \w+)? know|"
     r"say to|write to|reply to|email|promis\w*)\b[^.?!]{0,60}\b(?:we'll|we will|we're going to|"
     r"we are going to|we can guarantee|will be|will have|will get|will stay|will keep|"
     r"they'll|they will|it'll|it will|(?:is|are|it's) (?:definitely|certainly|guaranteed|"
     r"confirmed|going ahead)|will definitely)\b", ""),
    ("commitment", 1.6, "commit",
     r"\b(?:commit(?:ting)? to|promise|promis\w+|guarantee\w*|in writing|exclusivity|"
     r"letter of intent|loi|binding|pledge|stand behind|lock (?:us )?in)\b", ""),
    ("commitment", 1.3, "sign-deal",
     r"\bsign(?:ing)? (?:the|a|this|that|our)\b(?:[^.?!]{0,25})\b(?:lease|contract|deal|"
     r"agreement|offer|order|term sheet|loi|sow)\b|\b(?:accept|agree to|make) (?:the|an?|"
     r"their)\b[^.?!]{0,30}\b(?:offer|terms|minimum|quote|proposal|letter|deal|contract)\b", ""),
    ("commitment", 1.0, "external-party",
     r"\b(?:tell|confirm (?:to|with)|assure|give|offer)\b[^.?!]{0,25}\b" + _EXTERNAL + r"\b", ""),
    ("commitment", 0.8, "named-party",
     r"\b(?:with|to) (?!(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|"
     r"February|March|April|May|June|July|August|September|October|November|December)\b)"
     r"[A-Z][a-z]+\b(?<!\bwith I)", "case"),
    ("commitment", 0.8, "deadline-sla",
     r"\b(?:sla|uptime|deadline|the \w+ date|launch date|delivery date|go-live date|"
     r"(?:by|on|until) (?:january|february|march|april|may|june|july|august|september|"
     r"october|november|december|\d{1,2} \w+|q[1-4]|20\d\d))\b", ""),
    ("commitment", 1.0, "say-yes",
     r"\b(?:do we|should we|can we|shall we) (?:say yes|agree|sign up|put down|lock in)\b|"
     r"\b(?:around the clock|24/7|on call)\b", ""),
    ("commitment", 0.7, "lease", r"\b(?:lease|three-year|multi-year|two-year|five-year)\b", ""),
    # --- safety: harm to people
    ("safety", 2.0, "harm",
     r"\b(?:safe|safely|safety|unsafe|hazard\w*|injur\w+|harm\w*|danger\w*|fire(?! (?:permits?|"
     r"drill|the|him|her|them))|fires|overheat\w*|recall|medical|medication|patients?|hospital|"
     r"nurse|health and safety|health risk|crisis|self-harm|suicid\w*|forklifts?|chemicals?|"
     r"toxic|alarms?|emergency|accident|fatal\w*|death|die|lethal|ambulance|allerg\w+|"
     r"burning|burns|burnt|explos\w+|poison\w*|weapon\w*|rated for|load-bearing|structural|"
     r"lithium|swell\w*|catch fire|electrocut\w*|choking|"
     r"collision|stove|gas leak|smoke|flood\w*)\b", ""),
    ("safety", 1.6, "skip-check",
     r"\b(?:skip\w*|drop\w*|cut\w*|scrap\w*|halv\w+|reduc\w+|do without|go without)\b"
     r"[^.?!]{0,40}\b(?:checks?|inspections?|walk-?arounds?|safety briefings?|risk assessments?|"
     r"maintenance|servic(?:e|ing)|supervision|second (?:check|signature|pair of eyes))\b", ""),
    ("safety", 1.0, "physical",
     r"\b(?:loads?|racking|drivers?|driving hours|fatigue|night shift|pickers?|machinery|"
     r"faulty|batter(?:y|ies)|firmware|security system|locks?|traffic|pedestrian|robot|"
     r"medicine|pills?|dosage)\b", ""),
    # --- strategy: direction, market, positioning
    ("strategy", 1.6, "direction",
     r"\b(?:strateg\w+|direction|pivot\w*|long-term|five years|roadmap|vision|positioning|"
     r"core business|double down|bet (?:on|the)|known for|cannibali[sz]\w*|"
     r"segment|(?:right|first|new|which) markets?|market entry|enter(?:ing)? (?:the )?\w+ market|"
     r"get out of|exit (?:the|this)|platform company|go direct|sell direct|compete (?:on|with)|"
     r"price war|(?:become|be|stay|remain) (?:a|an) [\w-]+ (?:company|business|player|brand)|"
     r"stop being|what kind of company|who we are|better off|worse off)\b", ""),
    ("strategy", 1.0, "market-moves",
     r"\b(?:mid-market|enterprise|smb|consumer|incumbents?|competitors?|competition|"
     r"partner with|outsourc\w+|acquisitions?|acquir(?:e|ing) (?:the|a|them|it)|"
     r"buy(?:ing)? the company|merger|expand\w*|instead of|rather than|or (?:should|do) we)\b",
     ""),
    # --- private information only the human has, or the human's own things
    ("private_info", 2.2, "your-secret",
     r"\byour (?:password|login|credentials?|pin|account|accounts|bank|salary|health|family|"
     r"calendar|schedule|diary|contacts?|phone|number|address|email|inbox|runway|guarantee|"
     r"recovery codes?|admin account|own|personal|plans?|relationship|board members?)\b|"
     r"\b(?:the|share the|can you share (?:the|your)) (?:login|password|credentials)\b"
     r"(?<!who has the login)(?<!who has the password)(?<!who has the credentials)"
     r"(?<!who holds the login)(?<!who holds the password)(?<!who's got the login)"
     r"(?<!who's got the password)(?<!who knows the login)(?<!who knows the password)|"
     r"\bwhich of your\b|\b(?:his|her|their|\w+'s) (?:health|medical|diagnosis|pregnan\w+|"
     r"divorce|family)\b", ""),
    ("private_info", 2.0, "you-know",
     r"\b(?:told you|say to you|said to you|tell you)\b|\bdid you (?:promise|agree|tell|sign|"
     r"hear|speak|meet)\b|\b(?:do|did) you (?:already )?(?:know|have)\b|\bare you (?:planning|"
     r"going|available|unavailable|away)\b|\bunavailable\b|\bprivately\b|\boff the record\b|"
     r"\bpersonally\b|\b(?:your|my|his|her) personal\b|\byou (?:sign|signed|have in mind)\b", ""),
    ("private_info", 2.2, "our-budget",
     r"\bwhat(?:'s| is| was) (?:our|the|your) (?:total |overall |actual )?(?:budget|runway|"
     r"ceiling|limit|bank balance)\b|\bhow much (?:runway|cash|money) (?:do|are) (?:we|you)\b", ""),
    ("private_info", 1.6, "people-data",
     r"\b(?:birthdays?|dates? of birth|phone numbers?|home address\w*|(?:e-?mail|postal) "
     r"addresses|contact details|chat logs?|with (?:their )?usernames|gift history|donor "
     r"(?:file|list|records)|member(?:ship)? (?:list|data|records)|re-?identification|"
     r"(?:every|each|all (?:the|our)?) ?(?:students?|patients?|employees?|staff|members?|donors?|"
     r"customers?|players?|users?|residents?|clients?) with (?:an? |their )?\w+|"
     r"ieps?|diagnos(?:is|es|ed)|disabilit\w+|(?:pupil|student|patient|staff|employee) records|"
     r"names of "
     r"(?:the |our |all )?(?:staff|employees|patients|customers|clients|donors|students|users|"
     r"members|people|children)|(?:employee|staff|customer|client|patient|member|donor|student|"
     r"user) (?:list|records|database|data|files|details))\b", ""),
    ("private_info", 1.4, "sensitive",
     r"\b(?:confidential|sensitive|secret|private|genetic|dna|ssn|social security|passport|"
     r"criminal history|home address|bank details|card (?:number|details))\b", ""),
    ("private_info", 0.9, "my-things",
     r"\bmy (?:house|home|account|accounts|bank|wallet|balance|savings|data|files?|disk|drive|"
     r"system|computer|laptop|phone|email|emails|inbox|calendar|contacts|passport|genetic|"
     r"medical|health|family|kids?|children|wife|husband|car|door|lock|twitter|facebook|"
     r"instagram|social|credit card|address|location|devices?|security|friends?|clients?|"
     r"patients?|employees?|team|store|repositor\w+|subordinate|boss|doctor)\b", ""),
    # --- trivial: definitional
    ("definitional", 2.6, "define",
     r"\bwhat (?:does|do|did)\b[^?]{0,40}\b(?:mean|stand for|include|cover|refer to|involve|"
     r"entail)\b|"
     r"\bdefin(?:e|es|ed|ing|itions?)\b|\bmeaning\b|\bwhat(?:'s| is) meant by\b|"
     r"\bwhat do (?:you|we|they) mean\b|^\s*(?:so,? )?when (?:we|you|they) say\b|"
     r"\bwhat (?:we|they|you) call\b|"
     r"\bdifference between\b|\b(?:the same|same thing|same metric) as\b|\bshort for\b|"
     r"\bacronym\b|\bexplain what\b|"
     r"\bdo (?:you|we) mean\b|\bdifferent from\b|"
     r"\bwhat do we call\b|\bmean(?:ing|s)? (?:the )?\w+ (?:or|vs)\b|\bstand for\b|"
     r"^\s*(?:does|do|is) [\w'-]+(?: [\w'-]+)? mean\b|\bin plain (?:words|english|terms)\b",
     "keep"),
    ("definitional", 2.6, "counts-as",
     r"\bcounts? as\b(?! (?:an? )?(?:valid|legal|lawful|compliant|sufficient|enough|acceptable|"
     r"binding|proper|proof|consent)\b)", "keep"),
    ("definitional", 1.6, "what-is-term",
     r"^\s*(?:so,? )?what(?:'s| is) an? (?!(?:fair|reasonable|good|realistic|sensible|safe|"
     r"acceptable|likely|typical|sane)\b)[a-z0-9-]+(?: [a-z0-9-]+)?\s*(?:\?|$|in |for |on )|"
     r"\b(?:scored|measured|calculated|counted) (?:from|as|in|on)\b|\b(?:types|kinds) of\b", ""),
    ("definitional", 1.6, "acronym",
     r"^\s*(?:So,? )?[Ww]hat(?:'s| is) (?:an? )?[A-Z0-9]{2,6}s?\b|\b[A-Z]{2,6} is short\b", "case"),
    ("definitional", 2.2, "quoted-term",
     r"['\"\u2018\u201c][\w][\w &/-]{0,30}['\"\u2019\u201d](?:[^?]{0,40}\b(?:exactly|mean|means|"
     r"versus|vs\.?|the same|same as|refers? to|glossary|label|code|explained|defined|"
     r"described|spelled out)\b|[^?]{0,40}\bwhat (?:are|is|'s) (?:those|these|that|this|they|"
     r"it)\b|\s+(?:the|an?) [\w-]+"
     r"(?: [\w-]+)?[,?]|[^?]{0,60}\bor ['\"\u2018\u201c])|\bhow (?:do|does) (?:we|they|the "
     r"\w+|\w+) define\b|\b(?:is|are) (?:a|an|the) ['\"\u2018\u201c][\w][\w &/-]{0,30}"
     r"['\"\u2019\u201d] (?:one|a|an|the|just|only|each|every)\b[^?]{0,40}\bor\b", ""),
    # --- trivial: stylistic
    ("stylistic", 2.4, "form",
     r"\b(?:fonts?|typos?|wording|phrasing|rephrase|tone|formatting|layout|headings?|bold|"
     r"(?:past|present|future) tense|passive voice|first person|third person|jargon|"
     r"(?:one|same|consistent) (?:word|term|name|spelling)|reads? better|looks? better|"
     r"italics?|colou?rs?|sentence case|title case|capitali[sz]\w*|spell(?:ed|ing)? out|"
     r"(?:roman |arabic )?numerals|in words or (?:in )?figures|"
     r"backgrounds?(?! checks?)|in (?:red|green|blue|amber|orange|yellow|grey|gray|purple|"
     r"capitals|caps|lower ?case)|"
     r"spell(?:ed|t)|misspel\w*|"
     r"style guide|codename|alphabetical(?:ly)?|footnotes?|bullet(?: point)?s?|emojis?|"
     r"logo|heat ?map|bar chart|line chart|pie chart|bars or lines|green or blue|font size|"
     r"rename|renaming|the title|slide title|round (?:the )?(?:figures|numbers)|hyphen\w*|"
     r"round\w* [^?]{0,30}\bto the nearest|"
     r"wordy|punctuation|spelling|grammar|(?:section|page|part|paragraph) of the (?:memo|deck|doc|"
     r"report|proposal|slides?))\b", "keep"),
    ("stylistic", 1.2, "document",
     r"\b(?:slides?|deck|memo|appendix|summary table|template|column|chart|table or|section|"
     r"sheet|workbook|faq|label|wording|read better|open with|"
     r"(?:come|go) (?:before|after) (?:the )?(?:\w+ )?(?:section|slide|chart|table|paragraph|"
     r"intro|summary|one|list|total)|put (?:it|this|the \w+) (?:first|last|before|after))\b", ""),
    ("stylistic", 1.4, "either-or-words",
     r"['\"\u2018\u201c][^'\"\u2019\u201d]{1,30}['\"\u2019\u201d]\s+or\s+"
     r"['\"\u2018\u201c][^'\"\u2019\u201d]{1,30}['\"\u2019\u201d]|"
     r"\b(?:say|write|use|call it)\s+\S+(?:\s+\S+)?\s+or\s+\S+|\b[\w-]+ or [\w-]+ in (?:the|our) "
     r"(?:memo|deck|faq|style guide|doc)\b|\b(?:1|one) to (?:3|three) or\b|\bnumber the\b", ""),
    ("stylistic", 2.2, "presentation",
     r"\b(?:in (?:thousands|millions|full (?:pounds|dollars|euros))|above or below|before or "
     r"after|left or right|top or bottom|rows or columns|columns or rows|as a percentage|"
     r"decimal places?|date format|dd/mm|mm/dd|labels? right|footer|header|sidebar|tooltip|"
     r"(?:24|12)-hour (?:times?|clock|format)|\bround\w* [^?]{0,30}\bup or down\b|"
     r"\b(?:show|list|display|print|appear)\w*\b[^?]{0,40}\bfirst or (?:the )?[\w-]+(?: [\w-]+)? "
     r"first\b|"
     r"\b(?:in|for|on) the (?:[\w'-]+ ){0,2}(?:log|sheet|register|form|tracker|spreadsheet|"
     r"notes|report|file|record|diary|logbook|menu|leaflet|poster|flyer|label|map|plan|diagram|"
     r"website|page|slides?|deck|timetable|rota)s?,? (?:should|do|shall|can) (?:we|i) (?:note|"
     r"record|write|log|list|put|enter|use|show|give|sort|group|order)\b|"
     r"(?:shown|displayed|presented|drawn|laid out|"
     r"formatted|printed|rendered|visuali[sz]ed) as (?:an? |the )?[\w-]+(?: [\w-]+)? or "
     r"(?:as )?(?:an? |the )?[\w-]+|"
     r"(?:separate|new|own|extra) (?:tab|column|row|line|section|sheet|category|heading|slide|"
     r"page|chart|table)|"
     r"(?:sit|go|live) under|"
     r"(?:in|on) the [\w -]{1,20} or (?:in |on )?the [\w -]{1,20}(?:page|form|footer|header|"
     r"menu|tab|screen|email|section)|be (?:sorted|ordered|grouped|ranked|"
     r"listed|split|broken down) by|sorted by|(?:come|go) (?:first|last))\b|"
     r"\b(?:reorder|re-order|resort|sort)\w*\b[^.?!]{0,30}\b(?:list|register|table|sheet|slides?|"
     r"agenda|backlog|columns?|rows?|sections?|tabs?)\b|\b(?:come|go|sit|appear) "
     r"(?:before|after|above|below) (?:the )?(?:\w+ )?(?:section|slide|chart|table|paragraph|intro|"
     r"summary|appendix|list|total|heading|title)s?\b|\b(?:receipts?|tracker|sheet|"
     r"report|dashboard|cost model|template|form|invoice layout|chart|table|page|export|"
     r"summary|write-?up|newsletter|agenda) (?:show|use|list|display|group|sort|say|include)\b",
     ""),
    ("stylistic", 2.2, "arrangement",
     r"(?:^|[.!?]\s+)(?:so,? )?(?:should|shall|would|could|can|will|do|does|is|are) (?:the|our|"
     r"this|that|these|those|each) (?:[\w'-]+ ){0,3}(?:(?:" + _DOCS + r"|rota|timetables?|"
     r"flyers?|posters?|labels?|cards?|changelog|drawings?|menus?|newsletters?|website|"
     r"leaflets?|brochures?|booklets?|handouts?|programmes?|signs?|signage|notices?|"
     r"dashboards?|forms?|templates?|maps?|diagrams?|boards|catalogue|catalog|inventory|"
     r"directory|index|glossary|roster|scripts?|questionnaires?)s? [^?]{0,30}?\b(?:show|list|"
     r"put|print|display|group|sort|order|"
     r"split|arrange|organi[sz]e|break down|have|give|use|start|begin|end|compare|rank|"
     r"be (?:drawn|printed|shown|listed|grouped|"
     r"sorted|ordered|arranged|organi[sz]ed|broken down|laid out|split)|go|sit|"
     r"appear)|(?:tabs?|tables?|charts?|columns?|rows?|sections?|pages?|entries|headings?|"
     r"slides?|labels?) (?:be|go|sit))"
     r"\b[^?]{0,30}?(?:\b(?:by|per|at|with) (?:the |a |an )?"
     r"[\w:/-]+(?: [\w-]+){0,2} or (?:by |per |at )?(?:the |a |an )?[\w:/-]+|"
     r"\b(?:a |an )?[\w-]+(?: view)? or (?:a |an )?[\w-]+ (?:view|format|layout)|"
     r"\bseparately\b|\binto (?:two|three|four|\d+|['\"\u2018\u201c]|separate|sections|groups|"
     r"parts|columns|"
     r"categories|tabs)|\bas an? [\w-]+(?: [\w-]+)? or an? \w+|\bas [\w-]+ or [\w-]+\b|"
     r"\bthe [\w'-]+(?: [\w-]+)? or the [\w-]+|"
     r"\b(?:next to|beside|under|above|below) (?:each|every) \w+|\b(?:first|last|on top|at the "
     r"(?:top|bottom|end|start))\?)|"
     r"\b(?:on |to )?the (?:left|right|top|bottom|front|back|side|inside|outside) or "
     r"(?:on |to |at )?the (?:left|right|top|bottom|front|back|side|inside|outside)\b", ""),
    ("stylistic", 2.2, "readability",
     r"\b(?:easier|harder|clearer|quicker|simpler) to (?:read|scan|follow|find|use|print|"
     r"understand|skim)\b|\btoo (?:formal|informal|casual|busy|cluttered|wordy|dense|plain|"
     r"jargony|technical|stiff|chatty)\b|\bmakes? (?:it|the \w+|that|them) too (?:long|short)\b|"
     r"\b(?:readable|legible)\b|\bsounds? (?:too|ok|okay|right|better|friendlier|off|odd)\b", ""),
    # --- trivial: facts already in shared documents, decisions already taken, where things are
    ("already_answered", 2.6, "in-docs",
     r"\b(?:that's what|as|it's in|it is in|according to|per|i think it'?s in|i think it was "
     r"(?:\w+ )?in|it's on|it is on) (?:the|our|their|his|her|\w+'s) [\w' -]{0,30}?(?:says?|shows?|"
     + _DOCS + r")\b|\bin the (?:[\w'-]+ ){0,3}(?:" + _DOCS + r")\b[^?]{0,25}\b(?:correct|"
     r"right|accurate|up to date|current)\b|\b(?:correct|right|accurate|up to date) in the "
     r"(?:[\w'-]+ ){0,3}(?:" + _DOCS + r")\b|\b(?:the|our) [\w -]{1,30} (?:says so|said so)\b|"
     r"\b(?:the|our) (?:[\w-]+ ){0,2}(?:" + _DOCS + r") (?:said|says|states|stated|shows|showed)\b|"
     r"\bis (?:that|this|it) the (?:[\w-]+ ){0,2}(?:" + _DOCS + r") (?:from|of|dated|for)\b|"
     r"\b(?:circulated|shared|sent round|sent around|posted|pinned) (?:in|on|last|this|"
     r"yesterday)\b|\b(?:sheet|doc|deck|notes|wiki|plan) \w+ shared\b", "keep"),
    ("already_answered", 2.0, "confirm-fact",
     r"^\s*(?:just |quick )?(?:confirming|to confirm|double[- ]checking|sanity check|checking)\b"
     r"(?![^?]*\b(?:can|could|should|shall|may) (?:we|i)\b)[^?]*\?\s*$", ""),
    ("already_answered", 2.0, "decided-before",
     r"\bdid (?!you\b)(?:we|they|the \w+|\w+) (?:say|decide|settle|agree|confirm) "
     r"(?:whether|if|when|what|which|on|how)\b|\b(?:did we (?:go with|pick|choose|settle on|"
     r"land on|end up (?:with|using|going with|picking))|what did we (?:decide|"
     r"agree|pick|choose|settle)|which (?:of the \w+ )?(?:[\w-]+ ){0,3}?did (?!you\b)(?:we|they|"
     r"the \w+(?: \w+)?|\w+) (?:go with|pick|choose|use|sign off on|approve|agree on|settle on|"
     r"like|prefer|vote for|keep|renew|order|buy))\b|"
     r"^\s*(?:so,? )?(?:which|what|was it|were|did|is it)\b[^?]{0,60}\b(?:we|they) (?:went with|"
     r"ended up (?:with|going with|picking|choosing)|settled on|landed on|picked|chose|agreed on)"
     r"\b|\bthat'?s what (?:we|they|the \w+|\w+) (?:agreed|decided|said|settled on|went with)\b|"
     r"\b(?:we|they) (?:said|agreed|decided|settled on|went with)\b[^?]*,? (?:(?:didn't|did) "
     r"(?:we|they)|right|yes|no|correct)\?",
     ""),
    ("already_answered", 1.4, "confirm-tag",
     r"^(?![^?]*\b(?:allowed|liable|legal|illegal|safe|unsafe|ok|okay|fine|compliant|entitled|"
     r"covered|insured|enough|worth|you|your)\b)[^?]*\b(?:is|are|was|were|has|have|had)\b[^?]*,"
     r"\s*(?:(?:isn't|aren't|wasn't|weren't|hasn't|haven't|hadn't) (?:it|they|that|he|she|"
     r"there)|right|correct|yes|yeah)\?", ""),
    ("already_answered", 2.0, "written-where",
     r"[.!?]\s+(?:i think )?(?:it'?s|that'?s|this is|it is|that is) (?:all )?(?:in|on) (?:the|our|"
     r"their|his|her|[\w-]+'s) [\w' -]{1,40}[.!]?\s*$", ""),
    ("already_answered", 2.0, "peer-said",
     r"\bi think (?:[\w'-]+ ){1,2}(?:said|mentioned|confirmed|told us|wrote)\b|"
     r"\b(?:[\w'-]+ )(?:said|confirmed) so\b|\b(?:said|told us|confirmed)\b[^?]*,? (?:right|yes|"
     r"correct|didn't (?:he|she|they))\?|\b(?:said|confirmed|told us) (?:that was|it was|"
     r"it's|that's|it is|that is) (?:settled|agreed|decided|fine|done|sorted|signed off)\b", ""),
    ("peer_answerable", 2.0, "locate",
     r"(?:^|[.!:;]\s)\s*(?:so,? )?"
     r"where(?:'s| is| are|(?: do| can| should) (?:i|we) find| (?:did|do|should|"
     r"can) (?:we|you|they|i) (?:put|save|store|file|keep|post|upload))\b|\bwhich "
     r"(?:version|file|tab|column|sheet|folder|link|template|build|channel|page|row|field|"
     r"doc|document|repo|branch|format)\b|\b(?:is it|are they) in the (?:shared |team )?"
     r"(?:drive|folder|wiki|channel)\b|\blinked from\b|\bwhich (?:one |version |copy |file )?"
     r"is (?:the )?(?:latest|current|newest|most recent|final|right one|correct one|registered|"
     r"official|live one)\b|\b(?:is|are) (?:it|they|that|those) (?:on|in) the [\w -]{1,20} or "
     r"(?:on |in )?the\b|^\s*(?:does|do|is|are) (?:the|our) "
     r"[\w -]{1,30} (?:live|sit|kept|stored|saved|filed) (?:in|on) [\w -]{1,20} or\b|"
     r"\b(?:in|on|under) the [\w -]{1,20}(?:" + _DOCS + r") or (?:in |on |under )?the "
     r"[\w -]{1,20}(?:" + _DOCS + r")\b", ""),
    ("peer_answerable", 1.8, "statistic",
     _ESTIMATE_LEAD +
     r"how (?:many|often|much)\b(?! (?:runway|cash|money|budget|headroom|reserves?)\b)"
     r"(?![^?]*\b(?:can|could|should|shall|would|may|"
     r"must|will) (?:we|i|you|they)\b)[^?]*\b(?:per|on average|average|typical(?:ly)?|usually|"
     r"last (?:week|month|quarter|year)|this (?:week|month|quarter|year)|so far|a (?:day|week|"
     r"month|year|shift|night)|an hour|now|these days|at present|at the moment|currently|"
     r"right now|today)\b|" +
     _ESTIMATE_LEAD +
     r"how long (?:does|did|do|will) [^?]{0,60}\btak(?:e|es|ing)\b|" +
     _ESTIMATE_LEAD +
     r"how often (?:does|do|is|are|did|was|were) (?!(?:we|i|you)\b)",
     ""),
    ("peer_answerable", 1.8, "estimate",
     r"(?:^|[.!:;]\s)\s*(?:so,? |and |roughly,? |approximately,? |out of interest,? )?"
     r"what(?:'s| is| are| was| were) (?:the|a) (?:typical|usual|average|normal|going|current|"
     r"standard|expected|median|rough|ballpark|industry|market|minimum|maximum|smallest|largest|"
     r"lowest|highest)(?![^?]*\b(?:we|i|you)(?:'d| would| could| can| should| will)\b) "
     r"[\w -]{0,30}?\b(?:run|order|batch|rate|time|"
     r"times|cost|costs|price|prices|figure|level|share|size|volume|margin|fee|fees|number|"
     r"length|duration|turnaround|yield|ratio|range|salary|wage|deposit|premium)s?\b|"
     r"(?:^|[.!:;]\s)\s*(?:so,? )?what(?:'s| is| are) the (?:lead|turnaround|waiting|processing|"
     r"delivery|response|build|installation|approval|shipping|set-?up) times?\b", ""),
    ("peer_answerable", 1.0, "explain",
     r"(?:^|[.!?]\s+)(?:so,? |and |any idea |anyone know |does anyone know |do we know )?"
     r"(?:why|how come)\b(?! (?:are|do|did|don't|aren't|didn't|would|should|shall|can't|won't|"
     r"haven't|have|were|weren't) (?:we|i|you)\b)(?![^?]*\b(?:you|your)\b)", ""),
    ("peer_answerable", 1.0, "capability",
     r"(?:^|[.!?]\s+)(?:so,? |and )?(?:can|could|does|do|will|would|is|are)(?:n't)? (?:the|our|"
     r"this|that|a|an) (?:[\w'-]+ ){0,3}?(?:system|software|app|tool|platform|printer|scanner|"
     r"machine|van|truck|lorry|oven|server|website|site|portal|cms|crm|template|form|sheet|"
     r"spreadsheet|calendar|api|plugin|integration|database|camera|network|room|hall|venue|"
     r"version|model|phone|"
     r"laptop|module|reader|engine|kit|device|projector|equipment|scales|tablet|till|terminal|"
     r"screen|display|sensor|tracker|unit|lift|crane|boat|bus|car|trailer|fridge|freezer|boiler|"
     r"generator|label printer)s? (?:able to )?(?:handle|take|work (?:offline|with|on)|"
     r"do|support|fit|carry|hold|print|read|export|import|cope with|manage|run|connect to|show|"
     r"sync|store|track|assign|accept|work with|integrate with|generate|open|scan|process|"
     r"seat|sleep|reach|load)\b", ""),
    ("peer_answerable", 1.8, "practice",
     r"(?:^|[.!?]\s+)(?:so,? )?how (?:do|did|does|have) (?:we|they|people|others|other \w+|"
     r"\w+) (?:usually|normally|typically|generally|tend to|always|traditionally)\b", ""),
    ("peer_answerable", 1.0, "fits",
     r"\b(?:big|large|wide|tall|long|fast|quick|roomy|dry|warm|cool|quiet|bright) enough "
     r"(?:for|to)\b|"
     r"\b(?:has|have|got) (?:the )?(?:space|room|capacity|spaces|places) for\b", ""),
    ("peer_answerable", 1.0, "third-party-fact",
     r"(?:^|[.!?:]\s+|\s[-\u2013\u2014]\s+)(?:so,? |and )?(?:do|does|did) (?:they|the|these|"
     r"those|their|its|that|this|it|[a-z]+s|(?:last |this |next )?[a-z]+'s)\b"
     r"(?![^?]*\b(?:need|needs|have to|has to|require|requires|break|breach|violate|comply|"
     r"allowed|permitted|must|legal|law|rules?|regulations?|safe|liable|want|mind|expect|"
     r"object|agree|care|gets? to|gets? a|vote|say|veto|approve|sign\w*|you|your|us|our|we|"
     r"alone|unsupervised|by themselves|on their own|without|can they|should they)\b)",
     ""),
    ("peer_answerable", 1.0, "measure",
     r"(?:^|[.!?:]\s+)(?:so,? |roughly,? )?how (?:far|big|large|long|wide|tall|high|heavy|old|"
     r"deep|loud|warm|cold|busy|full|fast) (?:is|are|was|were)\b", ""),
    ("peer_answerable", 1.0, "progress",
     r"(?:^|[.!?:]\s+)(?:so,? )?(?:any (?:update|news|word|progress)s? (?:on|from|about)|"
     r"how'?s (?:the |our )?[\w' -]{1,40}? (?:going|looking|coming along|getting on|holding "
     r"up)|how (?:is|are) (?:the |our )?[\w' -]{1,40}? (?:going|looking|coming along|getting on|"
     r"holding up))\b",
     ""),
    ("peer_answerable", 1.8, "remind-me",
     r"\b(?:remind me (?:who|what|when|where|which|how|if|whether|again)|refresh my memory|"
     r"what was the name of)\b", ""),
    ("peer_answerable", 1.8, "contact-or-date",
     r"^\s*(?:so,? )?what(?:'s| is| are| was) (?:the|their|its|[\w-]+'s) (?:[\w'-]+ ){0,3}?"
     r"(?:helpline|switchboard|office|reception|support|booking|enquiries|main|general|"
     r"out-of-hours|dial-in|conference|wifi|wi-fi|fax|extension|tracking|reference|order|"
     r"invoice|po|policy|ticket|case) (?:number|address|email|line|code|link)s?\b|"
     r"^\s*(?:so,? )?what (?:date|time|day) (?:is|are|was|does|do|did)\b(?! (?:we|you|i)\b)", ""),
    ("peer_answerable", 1.0, "holder",
     r"^\s*(?:so,? )?who(?:'s got| has| holds| knows| keeps) (?:the|a|an)\b"
     r"(?! (?:final|last|casting) (?:say|word|call|vote))", ""),
    ("peer_answerable", 1.0, "whereabouts",
     r"^\s*(?:so,? )?(?:is|are) (?:the|our|my|his|her|their) [\w' -]{1,30}? (?:in|on|at|under|"
     r"behind|inside|next to) (?:the|our|my|his|her|their|a) [\w' -]{1,30}\?\s*$", ""),
    ("peer_answerable", 1.0, "anyone-know",
     r"(?:^|[.!?;:,]\s+|\s[-\u2013\u2014]\s+)(?:(?:does|do|has|have|did) (?:anyone|anybody|"
     r"someone|somebody|any of "
     r"(?:you|us))|(?:anyone|anybody)) (?:know|got|have|seen|heard|used|tried|remember|"
     r"worked)\b", ""),
    ("peer_answerable", 2.0, "step-owner",
     r"(?:^|[.!:;]\s)\s*(?:so,? )?"
     r"who(?:'s| is| are| will| owns| does|'ll)? (?!(?:\w+ )?(?:allowed|authori|"
     r"sign|approv|pay|fund|front|decid|accountable|liable|ha(?:s|ve) the (?:final|last)|"
     r"gets? (?:a|the) (?:say|vote)|owns the (?:decision|call|budget)|calls? the))[\w' -]{2,60}"
     r"(?:[,\u2014-]|\s)\s*(?:the |our )?[\w-]+(?: [\w-]+)? or (?:the |our )?[\w-]+|"
     r"\bwho owns the [\w -]{1,30}\b(?:step|task|stage|part|ticket|slot)\b", ""),
    ("peer_answerable", 1.8, "status",
     r"(?:^|[.!?:]\s+|\s[-\u2013\u2014]\s+)(?:ok,? |okay,? )?(?:so,? |and |just checking,? |"
     r"quick (?:one|check),? )?"
     r"(?:(?:has|have|had|did|was|were|is|are)(?:n't)? (?!(?:we|i|you|us|there|they)\b)"
     r"(?:the|a|an|any|anyone|anybody|someone|somebody|everyone|our|their|his|her|it|this|that|"
     r"[a-z]+'s|[a-z]+)\b|(?:has|have|did)(?:n't)? we\b(?=[^?]*\b(?:already|yet)\b))"
     r"(?![^?]*\b(?:allowed|permitted|required|legal|illegal|lawful|compliant|safe|unsafe|"
     r"enforceable|liable|entitled|covered|insured|worth|enough|good enough|ready to|right "
     r"(?:call|move|thing)|a good idea|going to|planning|willing|happy|ok|okay|fine|you|your|"
     r"alright|all right|acceptable|appropriate|wise|sensible|risky|dangerous|a problem|"
     r"an issue|reasonable|better|best|(?:can|could|should|may|shall|must) (?:the|we|i|they|"
     r"he|she|our|[a-z]+s))\b)"
     r"[^?]*?\b(?:yet|already|again|back (?:from|yet|in)|arriv\w*|deliver(?:ed|y)|sent|send|"
     r"picked up|pick up|dropped off|collect(?:ed)?|print(?:ed)?|book(?:ed)?|confirm(?:ed)?|"
     r"finish(?:ed)?|done|complete[d]?|test(?:ed)?|check(?:ed)?|fix(?:ed)?|repair(?:ed)?|"
     r"replac(?:e|ed)|install(?:ed)?|commission(?:ed)?|fil(?:e|ed)|upload(?:ed)?|ship(?:ped)?|"
     r"clear(?:ed)?|process(?:ed)?|receiv(?:e|ed)|submit(?:ted)?|renew(?:ed)?|"
     r"(?:been |ha[sd] |have )paid|pa(?:id|y) (?:the|their|our|its|that|this) (?:[\w'-]+ )?"
     r"(?:invoice|bill|deposit|fee|balance)|"
     r"sign(?:ed)?|hear back|heard back|get back|got back|repl(?:y|ied)|respond(?:ed)?|"
     r"call(?:ed)?|ring|rang|turn(?:ed)? up|show(?:ed)? up|(?:go|gone|went|come|came) "
     r"(?:to|back|through|out|in)|land(?:ed)?|built|cancel(?:l?ed)?|approv(?:e|ed)|"
     r"set up|sorted|arranged|updated|configured|"
     r"still on|still going ahead|still happening|been \w+ed|got|"
     r"(?:in|off|around|about) (?:today|tomorrow|this week|next week|on (?:mon|tues|wednes|thurs|"
     r"fri|satur|sun)day)|on (?:leave|holiday)|"
     r"(?:free|available|open|closed|busy|booked) (?:on|this|next|over|at the weekend|tomorrow|"
     r"today|tonight))\b|"
     r"(?:^|[.!?]\s+)will (?!(?:we|i|you|us|it|this|that|there|they)\b)[\w' -]{1,40}? "
     r"(?:be (?:back|ready|done|finished|fixed|delivered|here|open|available|in stock|"
     r"recorded|streamed|catered|held (?:in|on|at|online)|hybrid|online|in person)|arrive|"
     r"get here|come back|turn up|show up)\b", ""),
    # --- trivial, by the form of the question rather than its words (2026-12-04 evening):
    # a wh-question that names no one on the team and asks no permission asks a fact; an
    # opinion or forecast asked of a peer with no act of ours in it; a figure asked for with a
    # hedge; the order or scope of this discussion itself. Across every labelled set (1,581
    # questions) the first matches 202 questions, all trivial (9 of them in blind batch 5,
    # which these cues were written from); each of the others matches only trivial ones.
    ("peer_answerable", 1.8, "impersonal-wh",
     r"^(?![\s\S]*\b(?:we|i|us|our|ours|you|your|my|me|we're|we've|we'll|we'd|i'm|i've|i'll|"
     r"i'd|let's|allowed|permitted|legal|illegal|lawful|ok|okay|fine|safe|unsafe|worth|enough|"
     r"acceptable|appropriate|wise|risky|liable|entitled|compliant|should|shall|must|can|could|"
     r"may|might|would|need|needs|required|approve|approves|sign|signs|decide|decides|pay|pays|"
     r"paid|spend|fund|invest|afford|data|records|details|will|going to)\b)"
     r"\s*(?:so,? |and |ok,? )?(?:what(?:'s| is| are| was| were| does| did| do)|(?:what|which)"
     r"(?: [\w'-]+){1,3} (?:is|are|was|were|does|did|do|has|have)|which|how (?:long|many|much|"
     r"far|big|often|old|heavy|wide|deep|high)|when (?:does|did|is|was|are|were|will)|where "
     r"(?:is|are|was|does|do)|who (?:is|was|sets|runs|owns|makes|supplies))\b", ""),
    ("peer_answerable", 1.8, "opinion",
     r"^(?![\s\S]*\b(?:we|us|our|let's|we're|we'll|we'd|i'll|i'd|i'm going|can i|could i|"
     r"should i|shall i|may i|allowed|permitted|legal|illegal|lawful|ok|okay|fine|safe|unsafe|"
     r"acceptable|appropriate|liable|entitled|compliant|should|must|can|may|sign|approve)\b)"
     r"[\s\S]*(?:\b(?:do|would) you (?:think|reckon|agree(?! to)|"
     r"expect)\b|\bin your (?:view|opinion|experience)\b|\bwhat'?s your (?:take|read|"
     r"sense)(?! on \w+ing)\b|\bwhich (?:would|do) you (?:pick|prefer|go for|choose|rate)\b|"
     r"\bis (?:that|it) just me\b)", ""),
    ("peer_answerable", 1.8, "hedged-figure",
     r"^(?![\s\S]*\b(?:we|i|us|our|my|me|let's|we're|we'll|we'd|i'm|i've|i'll|i'd|should|"
     r"shall|must|allowed|ok|okay|fine|safe|legal|afford|pay|offer|spend|budget)\b)"
     r"(?=[\s\S]*(?:\bhow (?:many|much|long|far|big|heavy)\b|\bwhat (?:share|proportion|"
     r"percentage|fraction)\b))[\s\S]*(?:\b(?:roughly|approximately|ballpark|give or take|or so|"
     r"do you reckon|would you (?:guess|say|estimate))\b|\b(?:about|around|~) ?\d)", ""),
    ("peer_answerable", 2.0, "agenda",
     r"\b(?:in|during|for|at) (?:this|today'?s|the next|tomorrow'?s|next week'?s) (?:session|"
     r"meeting|discussion|conversation|call|round|sync|workshop|review)\b|\bbefore (?:getting|"
     r"we get|moving|we move|going) (?:into|on to|onto)\b|\b(?:till|until|for|at) the end of "
     r"(?:the|today'?s|this) (?:session|meeting|discussion|call)\b|\b(?:leave|park|save|hold) "
     r"[\w' -]{1,30}? (?:for|till|until|to) (?:the )?(?:next|another|a later|later) (?:round|"
     r"session|meeting|discussion|call)\b|\b(?:finish|wrap up|close) the [\w' -]{1,30}? "
     r"(?:discussion|topic|item|point|thread) (?:before|first)\b|"
     r"\bin dit (?:gesprek|overleg)\b|\ben esta (?:reunión|sesión|conversación)\b|"
     r"\bdans (?:cette|la) (?:réunion|discussion|séance)\b|\bin dieser (?:sitzung|"
     r"besprechung|runde)\b|\bnesta (?:reunião|sessão)\b|\bna tym spotkaniu\b", ""),
    # the same classes in other languages (their money or delete words are not read at all, so
    # an unrecognised question in another language is held): what a term means, two quoted
    # wordings to choose from, a figure asked for with a hedge and no "we can/should" of ours
    ("definitional", 2.4, "ml-define",
     _ONE_QUESTION +
     r"(?=[\s\S]*(?:\bqu[ée] significa\b|\bque (?:veut dire|signifie)\b|\bo que (?:quer dizer|"
     r"significa)\b|\bwas (?:bedeutet|heißt|heisst|meinen sie mit)\b|\bwat (?:betekent|"
     r"bedoel(?:t|en) (?:ze|je|jullie|hij|zij)(?: precies)? met)\b|\bco (?:znaczy|oznacza)\b|"
     r"\bcosa (?:significa|vuol dire|si intende)\b|とは(?:何|なん)|どういう意味|什么意思))", ""),
    ("stylistic", 2.4, "ml-quoted-wording",
     _ONE_QUESTION +
     r"(?=[\s\S]*(?:^|\s|¿)['\"\u2018\u201c\u00ab][^'\"\u2019\u201d\u00bb?]{1,40}"
     r"['\"\u2019\u201d\u00bb] (?:o|ou|oder|of|lub|czy|oppure|o bien) ['\"\u2018\u201c\u00ab])",
     ""),
    ("peer_answerable", 1.8, "ml-hedged-figure",
     _ONE_QUESTION +
     r"(?![\s\S]*(?:\b(?:podemos|pouvons|on peut|können wir|dürfen wir|sollen wir|kunnen we|"
     r"mogen we|moeten we|możemy|czy możemy|possiamo|devemos|debemos|devons|dobbiamo|"
     r"podríamos|pourrions|könnten wir|zouden we)\b|でき|いい|払|可以))"
     r"(?=[\s\S]*(?:\b(?:cuánt[oa]s?|combien|quant[oa]s?|wie (?:viel|viele|lange|groß)|hoeveel|"
     r"hoe lang|ile|jak długo)\b|どのくらい|どれくらい|何(?:時間|人|日|個|本)|多少|多久))"
     r"(?=[\s\S]*(?:\b(?:más o menos|aproximadamente|à peu près|environ|ungefähr|circa|etwa|"
     r"ongeveer|mniej więcej|około|cerca de|mais ou menos|più o meno)\b|くらい|ぐらい|程度|大约|"
     r"大概))", ""),
    # --- trivial: cheap to reverse
    ("reversible", 2.4, "scratch-target",
     r"\b(?:delet\w*|wip\w+|drop\w*|remov\w+|clear\w*|purg\w+|reset\w*|reload\w*|"
     r"archiv\w+|tidy|clean(?:ing)? up|uninstall\w*|turn(?:ing)? off|switch(?:ing)? off|"
     r"disabl\w+|paus\w+|mut(?:e|ing)|unpublish\w*)\b[^.?!]{0,50}\b(?:test|testing|dummy|"
     r"training|sandbox|uat|staging|scratch|temp|tmp|my copy|my own (?:folder|copy|drive|"
     r"desktop|laptop|files?)|duplicate|drafts?|sample|fake|demo|"
     r"merged|feature branch\w*|trial|column|row|slide|paragraph|bullet|placeholder|empty|"
     r"local)\b|\bthere'?s nothing in (?:it|them|there)\b|"
     r"\b(?:originals?|masters?|source files?|raw files?) (?:is|are|stays?|remains?) (?:all )?"
     r"(?:on|in|kept|stored|backed up)\b|"
     r"\b(?:original|source|real one|production|prod) (?:is|stays|remains) (?:untouched|safe|"
     r"intact|unaffected)|\bthey'?re all (?:merged|"
     r"named|called|flagged|tests?)\b|\b(?:i|we) (?:made|created|duplicated|copied|cloned|"
     r"added|installed|set up|spun up)\b|"
     r"\bfrom (?:last night'?s|the|yesterday'?s|a) (?:\w+ )?(?:snapshot|backup)\b", ""),
    ("reversible", 1.8, "sandbox",
     r"\b(?:drafts?|scratch|sandbox|staging|preview|dry[- ]run|test environment|"
     r"(?:on|in|make|made|take|took|work on) a copy of|"
     r"(?:feature|git|dev|test|release|separate|own|new|old|stale|merged) branch|"
     r"ci (?:job|run|build)|feature flag|internal team only|and see|trial run|prototype|"
     r"(?:try|trial|pilot|test)\w*\b[^.?!]{0,30}\bfor a (?:week|fortnight|month)|"
     r"mock-?up|throwaway|throw-away|spin up|proof of concept|poc)\b", ""),
    ("reversible", 2.0, "reschedule",
     r"\b(?:move|moving|shift|shifting|push|pushing|bring forward|reschedul\w*)\b[^.?!]{0,40}"
     r"\b(?:review|meeting|call|sync|stand-?up|retro|session|catch-?up|workshop|demo|1:1|"
     r"one-to-one|check-in|kick-?off|training|drill|interview|offsite|lunch|evening|event|visit|"
     r"appointment|rehearsal|practice|class|lesson|briefing|debrief|huddle|party|dinner|social|"
     r"webinar|talk|presentation|tour|viewing|open day)\b[^.?!]{0,30}"
     r"\b(?:from|to|until) (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|"
     r"next week|the \d|\d)", ""),
    ("reversible", 1.8, "tidy",
     r"\b(?:archiv(?:e|ing) (?:the|an?|old|this|that|these|those|our|my|last|\w+'s)|unarchive|"
     r"renam(?:e|ing)|tidy(?:ing)? up|naming (?:of|convention)|"
     r"reorder\w*|re-order\w*|mute|snooze|unpin|pin (?:the|it|this))\b|"
     r"\b(?:hide|unhide|hiding)\b(?![^?.!]*\bfrom\b)[^.?!]{0,30}\b(?:category|categories|tabs?|"
     r"columns?|sections?|pages?|buttons?|menus?|rows?|fields?|widgets?|banners?|listings?)\b",
     ""),
    ("reversible", 1.4, "undoable",
     r"\b(?:revert|undo|archive (?:the|it|this|that|our|old)|pause|postpone|reschedule|"
     r"push (?:it|this|the \w+(?: \w+)?) to(?! (?:the )?(?:live|prod|production|main|master|"
     r"customers|everyone|all))|"
     r"move (?:it|this|the [\w&-]+(?: [\w&-]+)?|our \w+(?: \w+)?) (?:to|into|over)|"
     r"timebox|mute|reorder|"
     r"try (?:the|it|out)|for a fortnight|for now|temporarily|temporary (?:change|fix|measure|"
     r"workaround|solution|move|arrangement|switch|closure|pause)|easy to undo|we can always|"
     r"close this thread|pick it up|switch(?:ing)? (?:the )?staging|park (?:it|this|the)|"
     r"until (?:\w+ )?(?:next week|tomorrow|monday|\w+ replies)|clear out|"
     r"(?:put|turn|switch|bring) (?:it|them|this|that) back(?: on| up)?)\b", ""),
    ("reversible", 1.2, "internal-artifact",
     r"\b(?:agenda|slack channel|folder|jira|(?:a|separate|new|another) ticket|doc|docs|document|"
     r"(?:shared|team) calendar|"
     r"notes|minutes|comments?|"
     r"invites?|thread|spreadsheet|sync|dashboards?|brainstorm\w*|ticket tags|tags|"
     r"internal (?:review|meeting|call)|dry run|working group|recurring invite|stand-?ups?|"
     r"retro|inventory sheet|wiki)\b", ""),
    ("reversible", 0.4, "hedge",
     r"\b(?:just|quick|minor|small|tiny|little|for now|roughly|rough)\b", ""),
]

_NEGATOR = re.compile(r"\b(?:no|not|never|without|nothing|none|neither|nor)\b|n't\b")
_NEG_WINDOW = 4
"""Words before a cue within which a negator damps it."""
_NEG_FACTOR = 0.5
_STRONG = 1.5
"""A cue at least this heavy, fired on the question itself, rules out ``peer_answerable``."""

# A factual question (how many, what is our X) rather than a decision.
_FACTUAL = re.compile(
    r"^\s*(?:so,? )?(?:what(?:'s| is| are| was| were| does| did| do| would)?|how (?:many|much|long|"
    r"often|does|do|did|would|have|has|is)|which|who(?:'s| is| are)?|when|where|is there|are there|"
    r"do (?:we|they) (?:know|have)|does|do (?:\w+ )?(?:buyers|customers|users|companies)|"
    r"is (?:the|our) (?![^?]*\b(?:good enough|worth|acceptable|fair|reasonable|a good idea|wise|"
    r"smart|safe|legal|allowed|ok|okay|right call|enough)\b))\b"
)
_DECISION = re.compile(
    r"\b(?:should|shall|can we|could we|do we (?:sign|take|accept|go|agree|fund|send|email|"
    r"publish|terminate|tell|want|need|have to|keep)|are we (?:ready|going|willing|prepared|"
    r"comfortable|ok|okay|sure|allowed|really|even)|will we|will you|would you|do you|are you|"
    r"is it (?:ok|okay|fine|safe|worth)|ok to|let's|please|willing|prepared to|"
    r"is everyone (?:ok|okay|fine|happy|comfortable)|"
    r"can i|could i|may i|mind if (?:i|we)|we'?re (?:ok|okay|fine|happy|good) (?:with|to)|"
    r"(?:ok|okay|fine|alright|all right) (?:if|for (?:me|us) "
    r"to)|fine to|alright to|any objections?|are we (?:fine|good|happy) (?:with|to)|"
    r"do we (?!know|have (?:the|any)|mean|call)\w+|"
    r"(?:most|maximum|max|minimum|least|lowest|highest|biggest|deepest|furthest|longest)\b"
    r"[^?]{0,40}\b(?:we|i)(?:'d| would| could| can| should| will| are willing| are prepared))\b"
)
"""A decision or permission frame; "what's the most we could offer" asks the limit of our own
act, not a fact."""
_RECOGNISERS = frozenset({
    "define", "counts-as", "what-is-term", "acronym", "quoted-term", "form", "presentation",
    "arrangement",
    "in-docs", "decided-before", "locate", "step-owner", "scratch-target", "sandbox", "statistic",
    "tidy", "reschedule", "confirm-fact", "status", "peer-said", "estimate", "readability",
    "practice", "confirm-tag", "contact-or-date", "written-where", "impersonal-wh", "opinion",
    "hedged-figure", "agenda", "ml-define", "ml-quoted-wording", "ml-hedged-figure",
})
"""Trivial cues that positively recognise a trivial class of question (a definition, a format
or wording choice, a fact in a shared document or a decision already taken, where something is
or who owns a step, an act on a scratch or test copy). Fired on the question itself, undamped,
they make the question's money, legal or delete *words* weigh :data:`_TOPIC_DAMP` as much:
the question is about the words, not a decision to act on them."""
_BY_FORM = frozenset({"opinion", "hedged-figure", "ml-hedged-figure"})
"""Recognisers by the form of the question alone (a view, a forecast, a rough figure): a strong
consequential cue on the question withdraws them."""
_COMMITTING = frozenset({
    "commit", "promise-future", "sign-deal", "say-yes", "ask-preference", "principal-wants",
    "live-scope", "no-rollback", "deploy-prod", "one-way", "say-in", "by-criterion",
    "without-telling",
})
"""Consequential cues that name a decision or a commitment (a promise, a signature, the
person's or an owner's wishes, an act on live or unrecoverable things) rather than a topic: any
of them on the question keeps :data:`_RECOGNISERS` from damping it."""
_ASKS_TO_ACT = re.compile(
    r"\b(?:(?:can|could|should|shall|may) (?:we|i)|(?:ok|okay|fine|alright) (?:if (?:we|i) |to )|"
    r"fine to|mind if (?:we|i)|do we|are we (?:ok|okay|fine|happy|comfortable|good) (?:with |to )?|"
    r"we'?re (?:ok|okay|fine|happy|good) (?:with |to )|any objections? to (?:us )?|"
    r"let'?s|i'?ll just|we'?ll just)\s+(?:\w+ ){0,3}?(?:tell\w*|promis\w*|commit\w*|sign\w*|"
    r"accept\w*|agree\w*|pay\w*|refund\w*|waiv\w+|giv(?:e|ing)|offer\w*|hand\w*|shar(?:e|ing)|"
    r"send\w*|e-?mail\w*|forward\w*|publish\w*|post(?:ing)?|announc\w+|releas\w+|disclos\w+|"
    r"delet\w*|wip(?:e|ing)|drop\w*|purg\w+|terminat\w+|cancel\w*|fir(?:e|ing)|lay(?:ing)? off|"
    r"let \w+(?: \w+)? go|grant\w*|transfer\w*|sell\w*|buy\w*|approv\w+|switch\w* off|"
    r"turn\w* off|disabl\w+|clos(?:e|ing)|shut\w*|skip\w*|stop\w*|invest\w*|hir(?:e|ing)|"
    r"settl\w+|sue|bid\w*|walk away|exit\w*)\b(?<!ed)")
"""A decision or permission asked about an act (modal + we or I + a verb with effect outside
the discussion): a question that asks to act, not one that mentions the act."""
_TOPIC_DAMP = 0.35
_DEFINERS = frozenset({"define", "counts-as", "what-is-term", "acronym", "quoted-term"})
"""Recognisers of a question about what a term means."""
_QUOTED = re.compile(r"(?:(?<=\s)|^)['\"\u2018\u201c][^'\"\u2019\u201d?]{1,40}['\"\u2019\u201d]"
                     r"(?=[\s?.,!:;)]|$)")
"""A quoted term (quotes opened after a space, so not an apostrophe)."""
_ASKS_WEIGHT = 0.8
_INTERNAL_OBJECT = re.compile(
    r"\s*(?:\w+ ){0,3}?(?:the |this |our |a |an |my )?(?:[\w'\"-]+ ){0,2}(?:agenda|invite|thread|"
    r"notes|doc|minutes|ticket|channel|folder|meeting|stand-?up|sync|slides?|deck|spreadsheet|"
    r"comments?|board|calendar|retro|recap)\b")
"""An internal artifact right after the asked-for act: the act stays inside the team (unless
:data:`_TO_OUTSIDE` names a recipient outside it)."""
_TO_OUTSIDE = re.compile(r"\b(?:to|with) (?:the |our |their |a |an )?(?:[\w'-]+ ){0,3}?"
                         + _EXTERNAL + r"\b")
_ACT_REASONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("commitment", re.compile(r"(?:tell|promis|commit|sign|accept|agree|offer|announc|bid)")),
    ("money", re.compile(r"(?:pay|refund|waiv|invest|buy|sell)")),
    ("authority", re.compile(r"(?:grant|approv)")),
    ("legal", re.compile(r"(?:settl|sue)")),
)
"""The reason an asked-for act weighs on, by its verb; any other act is ``irreversible``."""
_ACT_OUTWARD = frozenset({"outbound", "act-for-human", "external-party"})
"""Cues that, together with a decision or permission frame (``can I``, ``fine to``, ``mind if
I``), make a request to act outward: it also keeps a trivial recogniser from damping."""
_DATA_FLOW = re.compile(r"\b(?:shar|send|sent|hand|giv|gave|keep|kept|access|see|view|e-?mail|"
                        r"includ|forward|upload|post|publish|sell|sold|use|export|train|releas|"
                        r"disclos)"
                        r"\w*\b")
"""A verb that moves or exposes data: with people's data (``people-data``), the question is
about where the data goes, not how a document shows it."""
_YOU = re.compile(r"\b(?:you|your|yours|yourself)\b")
_TO_HUMAN = re.compile(r"\b(?:you|your|yours|yourself)\b")
_PEER_REQUEST = re.compile(r"^\s*(?:can|could|would|will) you (?!live|accept|rather|prefer|put)|"
                           r"^\s*what do you mean\b|^\s*do you (?:have|know) (?:the|a|any) "
                           r"(?:numbers?|data|figures?|link|doc)\b")
_DECISION_WEIGHT = 0.8
_TO_HUMAN_WEIGHT = 0.6
_DEICTIC = re.compile(r"\b(?:it|this|that|these|those)\b")
_TOKEN = re.compile(r"[a-z0-9€$£]+")

_STOP = frozenset("""a an the and or but if of to in on at for by with from as is are was were be
been being do does did doing have has had having we our us you your i me my it its this that
these those
there here what which who whom whose when where why how can could should shall will would may might
must am any all some so than then too very just also again still yet about into over under up down
out off not no nor only own same such more most other s t re ve ll d isn aren wasn weren don doesn
didn haven hasn hadn won wouldn shouldn can't let lets get got one whether human say said
tell told decide decided settle settled again already actually end""".split())


def _stem(tok: str) -> str:
    """A crude suffix stripper: enough to match close/closes/closing, lease/leases."""
    if len(tok) > 5 and tok.endswith("ing"):
        return tok[:-3]
    if len(tok) > 4 and tok.endswith("ed"):
        return tok[:-1] if tok[-3] not in "aeiou" and tok[-4] in "aeiou" else tok[:-2]
    if len(tok) > 4 and tok.endswith(("sses", "xes", "ches", "shes")):
        return tok[:-2]
    if len(tok) > 3 and tok.endswith("s") and not tok.endswith("ss"):
        return tok[:-1]
    return tok


@lru_cache(maxsize=4096)
def _content(text: str) -> frozenset[str]:
    """Stemmed content words (stop words dropped), for the overlap measures."""
    return frozenset(_stem(t) for t in _TOKEN.findall(text.lower().replace("'s", ""))
                     if t not in _STOP)


def _similarity(q: frozenset[str], other: frozenset[str]) -> float:
    """Max of Jaccard and the share of the question's content words found in ``other``."""
    if not q or not other:
        return 0.0
    inter = len(q & other)
    jac = inter / len(q | other)
    # A two-word question needs both words found, and even then counts for two thirds.
    contain = inter / len(q) * min(1.0, len(q) / 3) if len(q) >= 2 else 0.0
    return max(jac, contain)


@lru_cache(maxsize=1024)
def _tag_pattern(tag: str) -> re.Pattern[str]:
    return re.compile(r"\b" + re.escape(_stem(tag.lower())) + r"(?:s|es|ing|ed)?\b")


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass(frozen=True)
class _Cue:
    reason: str
    weight: float
    name: str
    pattern: re.Pattern[str]
    case: bool
    """Match the original text (the pattern needs capitals); otherwise the lowered text."""
    needs: str | None
    """An amplifier: counts only when this reason already has evidence."""
    keep: bool
    """Never damped by a negation."""
    gate: tuple[str, ...]
    """Substrings of the lowered text of which one must occur for the pattern to be tried."""


_GATES: dict[str, tuple[str, ...]] = {
    "either-or-words": (" or ", "number the"),
    "amount": tuple("0123456789$€£"),
    "what-is-term": ("what", "scored", "measured", "calculated", "counted", "types of", "kinds of"),
    "promise-future": ("will", "'ll", "going to", "guarantee", "definitely", "certainly",
                       "confirmed", "going ahead"),
    "statistic": ("how ",),
    "estimate": ("what",),
    "explain": ("why", "how come"),
    "anyone-know": ("any", "some"),
    "whereabouts": ("is ", "are "),
    "holder": ("who",),
    "contract-lets": ("let", "allow", "permit", "require", "forbid", "stop"),
    "written-where": (" in ", " on "),
    "contact-or-date": ("what",),
    "confirm-tag": ("n't it?", "n't they?", "n't that?", "n't he?", "n't she?", "n't there?",
                    "right?", "correct?", "yes?", "yeah?"),
    "third-party-fact": ("do", "did"),
    "measure": ("how ",),
    "progress": ("update", "news", "word", "progress", "going", "looking", "coming along",
                 "getting on", "holding up"),
    "remind-me": ("remind", "refresh", "name of"),
    "practice": ("how ",),
    "fits": ("enough", "space", "room", "capacity", "places"),
    "capability": ("can", "could", "does", "do ", "will", "would", "is", "are"),
    "counts-as": ("count",),
    "locate": ("where", "which", "linked", " or ", "is it in", "are they in"),
    "step-owner": ("who",),
    "who-pays": ("who",),
    "confirm-fact": ("confirm", "checking", "sanity"),
    "decided-before": ("did ", "didn't", "we ", "they ", "right?", "yes?", "correct?"),
    "peer-said": ("i think", " so", "said", "confirmed", "told us"),
    "principal-wants": ("owner", "pi", "partner", "founder", "board", "ceo", "client", "sponsor",
                        "principal", "chair", "trustee", "director", "family", "investor",
                        "landlord", "customer"),
    "by-criterion": ("any", "all", "every"),
    "say-in": ("vote", "say", "veto", "call", "decision"),
    "without-telling": ("without",),
    "tidy": ("archiv", "renam", "tidy", "naming", "reorder", "re-order", "mute", "snooze", "pin",
             "hid"),
    "reschedule": ("move", "moving", "shift", "push", "bring forward", "reschedul"),
    "impersonal-wh": ("what", "which", "how ", "when", "where", "who"),
    "opinion": ("you",),
    "hedged-figure": ("how ", "what "),
    "ml-quoted-wording": (" o ", " ou ", " oder ", " of ", " lub ", " czy ", " oppure "),
}
"""Cheap substring checks run before an expensive pattern: no gate string, no match possible."""


def _compile(reason: str, weight: float, name: str, pattern: str, opts: str) -> _Cue:
    flags = set(opts.split())
    needs = next((f.split("=", 1)[1] for f in flags if f.startswith("needs=")), None)
    return _Cue(reason, weight, name, re.compile(pattern), "case" in flags, needs, "keep" in flags,
                _GATES.get(name, ()))


_COMPILED: tuple[_Cue, ...] = tuple(_compile(*c) for c in _CUES)
_BY_NAME: dict[str, _Cue] = {c.name: c for c in _COMPILED}


@dataclass
class TriageStats:
    """Counts over a triager's lifetime: how often the rules were unsure, how often a judge ran."""

    questions: int = 0
    unsure: int = 0
    """Questions whose rule score sat in the unsure band: the judge-consultation rate."""
    judge_calls: int = 0
    judge_changed: int = 0
    """Judge verdicts whose label differed from the rules'."""
    by_precedent: int = 0
    """Unsure questions settled by a close precedent."""
    held: int = 0
    """Unsure questions nothing settled (sent to the person when ``hold_unsure``)."""

    @property
    def unsure_rate(self) -> float:
        return self.unsure / self.questions if self.questions else 0.0


@dataclass
class QuestionTriager:
    """Scores questions as consequential or trivial: offline, deterministic, explainable.

    ``QuestionTriager().triage("Can we commit to the March date with Acme?")`` returns a
    :class:`Triage` with ``label="consequential"``, ``reason="commitment"`` and the cues that
    fired. Stateless apart from its ``stats`` counters.
    """

    judge: Judge | None = None
    """Consulted only when the rules are unsure; ``None`` from it keeps the rules' verdict."""
    bias: float = -1.4
    """Log-odds of a question with no consequential cue; one with no cue at all and no
    recognised trivial class is lifted to the unsure band instead (it is not known)."""
    gain: float = 2.2
    """Log-odds per unit of log(1 + evidence), on either side."""
    unsure_band: tuple[float, float] = (0.3, 0.7)
    """Scores in ``[low, high)`` are unsure."""
    answered_threshold: float = 0.6
    """Similarity to an answered text at or above which a question counts as already answered."""
    context_weight: float = 0.5
    topic_weight: float = 0.25
    precedents: PrecedentLookup | None = None
    """Triage precedents (``text -> nearest``): consulted for an unsure question, before the
    judge."""
    precedent_similarity: float = 0.8
    """A precedent this close (1 minus cosine distance) or closer settles an unsure question."""
    hold_unsure: bool = True
    """An unsure question that neither a precedent nor the judge settled goes to the person
    (labelled ``consequential``, basis ``held``): fail closed. False keeps the rules' label."""
    stats: TriageStats = field(default_factory=TriageStats)

    # -- scoring ---------------------------------------------------------------------------

    @staticmethod
    def _cues(text: str, factor: float, prefix: str,
              evidence: dict[str, float], signals: list[str],
              fired: dict[str, float] | None = None) -> float:
        """Add the cues that fire on ``text``; return the heaviest undamped consequential one.
        ``fired`` collects the names (and weights) of the cues that fired undamped."""
        low = text.lower()
        strongest = 0.0
        for cue in _COMPILED:
            if cue.needs is not None and cue.needs not in evidence:
                continue
            if cue.gate and not any(g in low for g in cue.gate):
                continue
            m = cue.pattern.search(text if cue.case else low)
            if m is None:
                continue
            weight = cue.weight * factor
            tag = f"{prefix}{cue.reason}:{cue.name}"
            if not cue.keep:
                window = " ".join(low[: m.start()].split()[-_NEG_WINDOW:])
                if _NEGATOR.search(window):
                    weight *= _NEG_FACTOR
                    tag = f"{prefix}neg:{cue.reason}:{cue.name}"
            if fired is not None and not tag.startswith(f"{prefix}neg:"):
                fired[cue.name] = weight
            if cue.reason in CONSEQUENTIAL_REASONS:
                strongest = max(strongest, weight)
            evidence[cue.reason] = evidence.get(cue.reason, 0.0) + weight
            signals.append(tag)
        return strongest

    def _score(
        self, text: str, *, topic: str | None, asked_by: str | None, context: str | None,
        answered_texts: Iterable[str], peer_expertise: Mapping[str, Sequence[str]] | None,
    ) -> tuple[float, dict[str, float], list[str]]:
        evidence: dict[str, float] = {}
        signals: list[str] = []
        fired: dict[str, float] = {}
        strongest = self._cues(text, 1.0, "", evidence, signals, fired)
        low = text.lower()
        if fired.keys() & _DEFINERS and fired.keys() & _COMMITTING and \
                _DECISION.search(low) is None:
            # "what's a 'late pledge'?": a commitment word inside the quoted term being defined
            # is the term, not a promise (a stake outside the quotes, or a question that also
            # asks to decide, still counts)
            bare = _QUOTED.sub(" ", text)
            for name in sorted(fired.keys() & _COMMITTING):
                cue = _BY_NAME[name]
                if cue.pattern.search(bare if cue.case else bare.lower()) is None:
                    del fired[name]
                    signals.append(f"frame:stake-in-quoted-term:{name}")
        # the impersonal wh-question is a fallback: another recogniser names the class better
        if "impersonal-wh" in fired and len(fired.keys() & _RECOGNISERS) > 1:
            evidence["peer_answerable"] -= fired.pop("impersonal-wh")
        # an opinion, forecast or rough figure asked with a strong stake named in it ("do you
        # think the kids are safe on the boats alone?") is not recognised by its form: the stake
        # may be what is asked
        if fired.keys() & _BY_FORM and any(
                _BY_NAME[n].reason in CONSEQUENTIAL_REASONS and w >= _STRONG
                for n, w in fired.items()):
            for name in sorted(fired.keys() & _BY_FORM):
                evidence[_BY_NAME[name].reason] -= fired.pop(name)
                signals.append(f"frame:stake-in-opinion:{name}")
        # "how many ports do we use now?" asks a figure: its "do we" is not a decision (the
        # statistic cue already refuses "can we", "should we" and the like)
        decision = _DECISION.search(low) is not None and "statistic" not in fired
        # Does the question ask to decide or commit (a promise, a signature, an act on live or
        # unrecoverable things, an act asked for with "can we", "ok to", "mind if I")?
        asks = None if fired.keys() & {"scratch-target", "practice"} else \
            _ASKS_TO_ACT.search(low)
        if asks is not None and _INTERNAL_OBJECT.match(low, asks.end()) and \
                _TO_OUTSIDE.search(low, asks.end()) is None:
            asks = None  # an act on the team's own thread, invite or notes
        committing = bool(fired.keys() & _COMMITTING) or asks is not None or (
            "scratch-target" not in fired and decision and bool(fired.keys() & _ACT_OUTWARD)) or (
            "people-data" in fired and _DATA_FLOW.search(low) is not None)
        if asks is not None:
            verb = asks.group(0).split()[-1]
            why = next((r for r, pat in _ACT_REASONS if pat.match(verb)), "irreversible")
            evidence[why] = evidence.get(why, 0.0) + _ASKS_WEIGHT
            signals.append(f"frame:asks-to-act:{why}")
        if committing and "scratch-target" in fired and fired.keys() & _COMMITTING:
            # a delete chosen by a criterion, or of live or the person's own things, is not
            # made reversible by a "test" or "demo" in its target
            evidence["reversible"] -= fired.pop("scratch-target")
            signals.append("frame:not-scratch")
        if committing and fired.keys() & _RECOGNISERS:
            # asked to decide or commit: a recognised trivial surface ("which version", "as the
            # lease says") is not what is being asked, so it weighs less in turn
            for name in fired.keys() & _RECOGNISERS:
                reason = next(c.reason for c in _COMPILED if c.name == name)
                evidence[reason] -= fired[name] * (1 - _TOPIC_DAMP)
            signals.append("frame:commits-despite-trivial-surface")
        # A recognised trivial class (a definition, a format, a fact in a shared doc, a scratch
        # copy) that asks for no decision or commitment: the stakes words in it are its topic.
        if fired.keys() & _RECOGNISERS and not committing:
            for r in CONSEQUENTIAL_REASONS:
                if r in evidence:
                    evidence[r] *= _TOPIC_DAMP
            strongest *= _TOPIC_DAMP
            signals.append("frame:recognised-trivial")
        if context:
            self._cues(context, self.context_weight, "ctx:", evidence, signals)
        if topic and _DEICTIC.search(low) and len(_content(text)) <= 3 and \
                not any(r in evidence for r in CONSEQUENTIAL_REASONS):
            self._cues(topic, self.topic_weight, "topic:", evidence, signals)

        factual = not decision and _FACTUAL.search(low) is not None
        if factual:
            signals.append("frame:factual")
        elif decision:
            signals.append("frame:decision")

        # already answered: content-word overlap with what has been answered
        q = _content(text)
        best = max((_similarity(q, _content(a)) for a in answered_texts), default=0.0)
        if best >= self.answered_threshold:
            evidence["already_answered"] = 3.0 + 4.0 * best
            signals.append(f"already_answered:sim={best:.2f}")

        # peer answerable: a factual question, not about the human, with no strong stake in it
        if factual and strongest < _STRONG and not _YOU.search(low):
            weight = 0.8
            for peer, tags in (peer_expertise or {}).items():
                if peer == asked_by:
                    continue
                hit = next((t for t in tags if _tag_pattern(t).search(low)), None)
                if hit is not None:
                    weight += 0.8
                    signals.append(f"peer_answerable:{peer}:{hit}")
                    break
            evidence["peer_answerable"] = evidence.get("peer_answerable", 0.0) + weight
            signals.append("peer_answerable:factual")

        cons = sum(v for r, v in evidence.items() if r in CONSEQUENTIAL_REASONS)
        triv = sum(v for r, v in evidence.items() if r in TRIVIAL_REASONS)
        # A decision ("should we", "do we") or a question put to the human is weak evidence on
        # its own: enough, with one more cue, to make the rules unsure rather than dismissive.
        if decision:
            cons += _DECISION_WEIGHT
        if _TO_HUMAN.search(low) and not _PEER_REQUEST.match(low):
            cons += _TO_HUMAN_WEIGHT
            signals.append("frame:to-human")
        # Diminishing returns: many weak cues of one kind do not add up to certainty.
        logit = self.bias + self.gain * (math.log1p(cons) - math.log1p(triv))
        score = _sigmoid(logit)
        # Know what it does not know: no stake named and no trivial class recognised (no
        # definition, format, lookup, fact question...) is not evidence of triviality. A hedge
        # ("just", "quick") alone recognises nothing.
        recognised = any(evidence.get(r, 0.0) > 0 for r in TRIVIAL_REASONS if r != "reversible")\
            or any(s.startswith("reversible:") and s != "reversible:hedge" for s in signals)
        if cons == 0 and not recognised:
            score = max(score, self.unsure_band[0])
            signals.append("frame:unrecognised")
        return score, evidence, signals

    # -- public ----------------------------------------------------------------------------

    def triage(
        self,
        text: str,
        *,
        topic: str | None = None,
        asked_by: str | None = None,
        context: str | None = None,
        answered_texts: Iterable[str] = (),
        peer_expertise: Mapping[str, Sequence[str]] | None = None,
    ) -> Triage:
        """Score one question; consult the judge only when the rules are unsure.

        ``peer_expertise`` maps each peer's name to its expertise tags (the asker is skipped);
        ``answered_texts`` are questions or answers already settled in the discussion. The judge,
        if any, gets ``(text, context or topic)``. The rules read the first
        :data:`MAX_QUESTION_CHARS` characters of each text (a question is a few sentences; a
        megabyte pasted in is scored in bounded time).
        """
        text = text[:MAX_QUESTION_CHARS]
        topic = topic[:MAX_QUESTION_CHARS] if topic else topic
        context = context[:MAX_QUESTION_CHARS] if context else context
        answered_texts = [a[:MAX_QUESTION_CHARS] for a in answered_texts]
        score, evidence, signals = self._score(
            text, topic=topic, asked_by=asked_by, context=context,
            answered_texts=answered_texts, peer_expertise=peer_expertise)
        label: Label = "consequential" if score >= 0.5 else "trivial"
        side = CONSEQUENTIAL_REASONS if label == "consequential" else TRIVIAL_REASONS
        weight, _, reason = max((evidence.get(r, 0.0), -i, r) for i, r in enumerate(side))
        if weight <= 0:
            reason = "peer_answerable" if label == "trivial" else "strategy"
        low, high = self.unsure_band
        unsure = low <= score < high
        self.stats.questions += 1
        self.stats.unsure += unsure
        result = Triage(label=label, reason=cast(Reason, reason), score=round(score, 4),
                        signals=signals, unsure=unsure, source="rules")
        if not unsure:
            return result
        found = self.precedents(text) if self.precedents is not None else []
        close = next((p for p in found if p.similarity >= self.precedent_similarity
                      and p.label in ("consequential", "trivial")), None)
        if close is not None:
            self.stats.by_precedent += 1
            return self._settled(result, close, evidence)
        if self.judge is not None:
            self.stats.judge_calls += 1
            judged = self.judge(text, context if context is not None else topic)
            if judged is not None:
                self.stats.judge_changed += judged.label != label
                return judged.model_copy(update={
                    "source": "model", "unsure": False, "basis": "judged",
                    "signals": [*signals, *judged.signals, f"judge:{judged.label}"]})
        self.stats.held += 1
        if not self.hold_unsure:
            return result.model_copy(update={"basis": "held"})
        w, _, why = max((evidence.get(r, 0.0), -i, r)
                        for i, r in enumerate(CONSEQUENTIAL_REASONS))
        return result.model_copy(update={
            "label": "consequential", "basis": "held",
            "reason": cast(Reason, why if w > 0 else "authority"),
            "signals": [*signals, "held:unsure, no judge or precedent settled it"]})

    @staticmethod
    def _settled(result: Triage, p: Precedent, evidence: dict[str, float]) -> Triage:
        label = cast(Label, p.label)
        side = CONSEQUENTIAL_REASONS if label == "consequential" else TRIVIAL_REASONS
        w, _, why = max((evidence.get(r, 0.0), -i, r) for i, r in enumerate(side))
        reason = why if w > 0 else ("authority" if label == "consequential"
                                    else "already_answered")
        return result.model_copy(update={
            "label": label, "reason": cast(Reason, reason), "unsure": False,
            "source": "precedent", "basis": "precedent", "precedent": p.id,
            "rationale": p.cite(), "signals": [*result.signals, f"precedent:{p.id}"]})



# --------------------------------------------------------------------------------------------
# Batch
# --------------------------------------------------------------------------------------------

def _load_records(in_path: Path | str) -> list[tuple[int, dict[str, Any]]]:
    from mapek._jsonl import read_objects

    path = Path(in_path)
    records = []
    for n, rec in read_objects(path):
        text = rec.get("text")
        if not isinstance(text, str) or not text.strip():
            raise UserError(f"{path}:{n}: record has no 'text' (a non-empty string)")
        for key in ("discussion_topic", "asked_by", "context"):
            if rec.get(key) is not None and not isinstance(rec[key], str):
                raise UserError(f"{path}:{n}: '{key}' must be a string")
        answered = rec.get("answered_texts", [])
        if not isinstance(answered, list) or not all(isinstance(a, str) for a in answered):
            raise UserError(f"{path}:{n}: 'answered_texts' must be a list of strings")
        records.append((n, rec))
    return records


def triage_records(
    in_path: Path | str,
    *,
    triager: QuestionTriager | None = None,
    peer_expertise: Mapping[str, Sequence[str]] | None = None,
    check: Callable[[dict[str, Any], int], object] | None = None,
) -> list[tuple[dict[str, Any], Triage]]:
    """Triage every record of a JSONL file (read as :func:`triage_jsonl` does): the records
    with their verdicts. ``check(record, index)`` runs on every record before any is triaged
    (to refuse a file with a missing label before a judge is called)."""
    triager = triager if triager is not None else QuestionTriager()
    records = [rec for _, rec in _load_records(in_path)]
    if check is not None:
        for i, rec in enumerate(records):
            check(rec, i)
    return [(rec, triager.triage(rec["text"], topic=rec.get("discussion_topic"),
                                 asked_by=rec.get("asked_by"), context=rec.get("context"),
                                 answered_texts=rec.get("answered_texts", []),
                                 peer_expertise=peer_expertise))
            for rec in records]


def triage_jsonl(
    in_path: Path | str,
    out_stream: TextIO,
    *,
    triager: QuestionTriager | None = None,
    peer_expertise: Mapping[str, Sequence[str]] | None = None,
) -> int:
    """Triage every record of a JSONL file and write one JSON verdict a line; returns the count.

    Each record needs ``text``; ``id``, ``discussion_topic``, ``asked_by``, ``context`` and
    ``answered_texts`` are optional. The whole file is read and checked before anything is
    written, so bad input (a line that is not JSON, a record without ``text``) raises a
    :class:`~mapek.errors.UserError` naming the line and leaves ``out_stream`` untouched.
    """
    triager = triager if triager is not None else QuestionTriager()
    out: list[str] = []
    for _, rec in _load_records(in_path):
        t = triager.triage(rec["text"], topic=rec.get("discussion_topic"),
                           asked_by=rec.get("asked_by"), context=rec.get("context"),
                           answered_texts=rec.get("answered_texts", []),
                           peer_expertise=peer_expertise)
        row: dict[str, Any] = {"id": rec["id"]} if "id" in rec else {}
        row.update(label=t.label, reason=t.reason, score=t.score, signals=t.signals,
                   unsure=t.unsure, source=t.source, basis=t.basis)
        if t.precedent is not None:
            row["precedent"] = t.precedent
        if t.rationale is not None:
            row["rationale"] = t.rationale
        out.append(json.dumps(row, ensure_ascii=False))
    if out:
        out_stream.write("\n".join(out) + "\n")
    return len(out)
