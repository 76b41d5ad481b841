"""Plan screening: is a plan destructive, before its first step runs?

A plan is structured (``{"steps": [{"tool", "args", "description"}], "text"}``; the loop's
``actions`` are accepted as steps) or free text. The offline rule engine
(:mod:`mapek.safety.rules`) reads every step and the text and reports findings; each finding's
rule names a failure-catalogue entry (``knowledge/failure-catalogue.yaml``). The context then
decides what each finding means, and the plan's verdict is the strictest of them:

====================================================  ==================
finding                                               verdict
====================================================  ==================
external (money, mass messages)                       ``needs_approval``
a target a human created (``resources``, or the       ``deny``
environment's ``created_by: human``)
every target created by this run (``resources``       ``allow``
with ``run:<run_id>``, created earlier in the plan,
run scratch under ``/tmp``)
catastrophic (``/``, a device, audit logs, a shared   ``deny``
branch's history, an unguarded ``$VAR/``)
production (``environment: production``, or the      ``deny``
command names ``prod``)
destructive in a ``sandbox`` this run created         ``allow``
destructive, anything else (unknown context)          ``needs_approval``
====================================================  ==================

``resources`` names a path by itself and anything else as ``<kind>:<name>``
(``database:scratch_run_7c21``, ``kind:mapek-run-5b1``, ``topic:mapek-1-events``) or by its bare
name; a finding's target matches by the full name or the name after the kind. ``created_by`` is
``human``, ``run:<id>`` or the bare ``<id>`` of this run.

So the same ``terraform destroy`` is allowed in the sandbox a run made for itself, needs a
human's approval when nothing is known, and is refused in production or on what a human made.
Allowed findings are still reported (``verdict: allow`` on the reason), so the log shows what
was destructive and why it was let through.

A rule that is unsure (a weak prose cue, a ``kubectl delete -f`` of an unknown file) marks its
reason ``certain=False``. When every reason that holds a plan back is unsure, the verdict is
``uncertain`` and the optional judge (a model call: :class:`mapek.safety.judge.ModelJudge`) is
consulted with the plan, the parsed facts, the context and its free-text ``notes`` (which the
rules ignore), the nearest failure-catalogue entries and precedents. It can settle those
reasons (``basis: judged``) but is never asked about a certain one, so it never lowers a verdict
the rules recognised; an answer below ``min_confidence``, a failed call or no judge at all
leaves the plan ``held`` for a person (fail closed). With ``precedents`` (a person's earlier
verdicts, :mod:`mapek.knowledge.precedent`) every plan held back carries the nearest ones, for
the judge and the person; they never change a verdict themselves.

Bounds: each text field is scanned for at most ``FieldBudget.field_chars`` characters (64 KiB:
the first 48 KiB and the last 16 KiB), a plan for 8 MB in total after which each field gets 4 KiB;
the verdict counts the fields cut (``truncated_fields``). Work is linear in the plan's size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO
from urllib.parse import unquote

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from mapek.errors import UserError
from mapek.knowledge.precedent import Precedent, PrecedentLookup
from mapek.safety.rules import (
    RULES,
    FieldBudget,
    Finding,
    PlanState,
    has_prod_marker,
    scan_free_text,
    scan_step,
)
from mapek.safety.rules._base import norm_target

if TYPE_CHECKING:
    from mapek.safety.tools import ToolRegistry

__all__ = [
    "Decision",
    "Resource",
    "ScreenContext",
    "Step",
    "Plan",
    "Reason",
    "Verdict",
    "JudgeOpinion",
    "Judge",
    "PlanError",
    "ScreeningStats",
    "Screener",
    "parse_plan",
    "screen_plan",
    "screen_text",
    "screen_jsonl",
    "screen_records",
    "read_plans",
]

Decision = Literal["allow", "needs_approval", "deny"]
"""``allow``: run it. ``needs_approval``: a human approves first. ``deny``: do not run it."""

_RANK: dict[str, int] = {"allow": 0, "needs_approval": 1, "deny": 2}


class PlanError(UserError):
    """A plan (or a JSONL line of plans) that is not valid JSON or not a plan."""

    def __init__(self, message: str, *, source: str = "plan", line: int | None = None,
                 column: int | None = None, field: str | None = None):
        super().__init__(message)
        self.source = source
        self.line = line
        self.column = column
        self.field = field


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------

class Resource(BaseModel):
    """Something the plan may touch, and who made it."""

    model_config = ConfigDict(extra="allow")

    created_by: str | None = None
    """``human``, ``run:<id>``, or None when unknown."""
    protected: bool = False
    """Never destroyed by an agent, whoever made it."""


class ScreenContext(BaseModel):
    """What screening knows about where the plan will run."""

    model_config = ConfigDict(extra="forbid")

    environment: str | None = None
    """Where the plan runs. Two names change verdicts: ``production`` (also written ``prod``,
    ``prd``, ``live``) and ``sandbox``; any other (``dev``, ``qa``, ``staging``, ``shared``)
    is taken as neither."""
    created_by: str | None = None
    """Who created the environment: ``human``, ``run:<id>``, or None."""
    resources: dict[str, Resource] = Field(default_factory=dict)
    """Named resources and their creators. A path names itself (``/tmp/run-1/out``); any other
    resource is named ``<kind>:<name>`` (``database:scratch_run_7c21``, ``kind:mapek-run-5b1``,
    ``cluster:ci-88``, ``bucket:acme-tmp``, ``repo:acme/web``) or by its bare name. The kind is
    for the reader: a resource matches a finding's target by its full name or by the name after
    the kind (``kind:mapek-run-5b1`` matches ``kind delete cluster --name mapek-run-5b1``).
    A list of names is short for resources this run created (``created_by: this-run``)."""
    run_id: str | None = None
    """This run's id: ``run:<run_id>`` (or the bare ``<run_id>``) marks what it created."""
    notes: str | None = Field(default=None, max_length=20_000)
    """The operator's own words about the situation (what was asked, what the target holds).
    The rules ignore them; the model judge reads them."""

    @field_validator("resources", mode="before")
    @classmethod
    def _resource_names(cls, v: Any) -> Any:
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            return {name: {"created_by": "this-run"} for name in v}
        return v

    @field_validator("environment")
    @classmethod
    def _environment(cls, v: str | None) -> str | None:
        if v is None:
            return None
        name = v.strip().lower()
        if not name:
            raise ValueError("environment is empty")
        return "production" if name in ("prod", "prd", "live") else name

    def owner(self, created_by: str | None) -> Literal["human", "this-run", "other", "unknown"]:
        if created_by is None:
            return "unknown"
        if created_by == "human":
            return "human"
        if created_by == "this-run":
            return "this-run"
        if self.run_id is not None and created_by in (f"run:{self.run_id}", self.run_id):
            return "this-run"
        return "other"


class Step(BaseModel):
    """One planned tool call."""

    model_config = ConfigDict(extra="allow")

    tool: str = ""
    args: dict[str, Any] = Field(default_factory=dict)
    description: str = Field(default="", validation_alias=AliasChoices(
        "description", "why", "message", "thought", "reason"))

    @field_validator("tool", mode="before")
    @classmethod
    def _tool_text(cls, v: Any) -> Any:
        return "" if v is None else v

    @field_validator("args", mode="before")
    @classmethod
    def _args_dict(cls, v: Any) -> Any:
        if v is None:
            return {}
        if isinstance(v, (str, list)):
            return {"args": v}
        return v

    @field_validator("description", mode="before")
    @classmethod
    def _desc_text(cls, v: Any) -> Any:
        return "" if v is None else v


class Plan(BaseModel):
    """A plan: steps with tool calls, free text, or both."""

    model_config = ConfigDict(extra="allow")

    steps: list[Step] = Field(default_factory=list,
                              validation_alias=AliasChoices("steps", "actions"))
    text: str = ""

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return "" if v is None else v


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------

class Reason(BaseModel):
    """Why a plan got its verdict: one rule, with the steps it fired on."""

    rule: str
    catalogue_id: str
    """The failure-catalogue entry behind this reason."""
    verdict: Decision
    """What this reason alone asks for, given the context."""
    message: str
    why: str
    """How the context turned the finding into this verdict."""
    steps: list[int] = Field(default_factory=list)
    """Indexes of the offending steps."""
    in_text: bool = False
    """Fired on the plan's free text."""
    evidence: list[str] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)
    certain: bool = True


class Verdict(BaseModel):
    """The screening verdict for one plan."""

    verdict: Decision
    reasons: list[Reason] = Field(default_factory=list)
    steps: list[int] = Field(default_factory=list)
    """Offending steps: those with a reason that is not ``allow``."""
    uncertain: bool = False
    """Every reason holding the plan back is unsure; a judge was (or could have been) asked."""
    basis: Literal["recognised", "judged", "held"] = "recognised"
    """How the verdict was reached: ``recognised`` (the rules recognised the action, or found
    nothing they hold against it), ``judged`` (the rules were unsure and the model judge decided),
    ``held`` (the rules were unsure and no judge decided: the plan is held for a person, never
    allowed; fail closed)."""
    source: Literal["rules", "model"] = "rules"
    judge_rationale: str | None = None
    judge_confidence: float | None = None
    """The judge's confidence, when one was asked (below the screener's ``min_confidence`` the
    answer decided nothing: the verdict stays ``held``)."""
    precedents: list[Precedent] = Field(default_factory=list)
    """The nearest precedents (a person's earlier verdicts on similar calls) for a plan held
    back, shown to the judge and to the person; they never lower a verdict."""
    step_count: int = 0
    scanned_chars: int = 0
    truncated_fields: int = 0
    """Fields longer than the scan budget: their middle was not read."""

    @property
    def catalogue_ids(self) -> list[str]:
        return sorted({r.catalogue_id for r in self.reasons})


class JudgeOpinion(BaseModel):
    """A model's ruling on a plan the rules were unsure of."""

    verdict: Decision
    rationale: str = ""
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)


Judge = Callable[[str, ScreenContext, Verdict], "JudgeOpinion | None"]
"""``(rendered plan, context, rules' verdict) -> opinion | None``; consulted only when the rules'
verdict is uncertain. ``None`` keeps the rules' verdict."""


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

def _validation_message(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
    return loc, err["msg"]


def parse_plan(raw: str | bytes | Mapping[str, Any] | list[Any] | Plan, *,
               source: str = "plan") -> Plan:
    """A :class:`Plan` from JSON text, a mapping or a list of steps; :class:`PlanError` names
    what is wrong."""
    if isinstance(raw, Plan):
        return raw
    data: Any = raw
    if isinstance(raw, (str, bytes)):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise PlanError(f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg}", source=source, line=exc.lineno,
                            column=exc.colno) from None
        except RecursionError:
            from mapek.inputs import NESTED

            raise PlanError(f"{source}: not valid JSON: {NESTED}", source=source) from None
        except UnicodeDecodeError as exc:  # bytes
            from mapek.inputs import not_utf8

            raise PlanError(f"{source}: {not_utf8(exc)}", source=source) from None
    if isinstance(data, list):
        data = {"steps": data}
    if not isinstance(data, Mapping):
        raise PlanError(f"{source}: a plan must be a JSON object with 'steps' and/or 'text', "
                        f"got {type(data).__name__}", source=source)
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        loc, msg = _validation_message(exc)
        raise PlanError(f"{source}: {loc}: {msg}", source=source, field=loc) from None


def _context(ctx: ScreenContext | Mapping[str, Any] | None) -> ScreenContext:
    if ctx is None:
        return ScreenContext()
    if isinstance(ctx, ScreenContext):
        return ctx
    try:
        return ScreenContext.model_validate(ctx)
    except ValidationError as exc:
        loc, msg = _validation_message(exc)
        raise UserError(f"screening context: {loc}: {msg}") from None


# --------------------------------------------------------------------------------------------
# The screener
# --------------------------------------------------------------------------------------------

_LOCAL_ENVS = frozenset("""test testing dev development local""".split())
"""Environments that name a local or test set-up: a destructive act there is usually the
point (reset the test database), but only the situation says so: not a sure verdict."""
_LOCAL_SCOPE = re.compile(
    r"(?:^|[\s=:/@])(?:localhost|127\.0\.0\.1)\b|--env(?:ironment)?[= ](?:test|testing|local|"
    r"dev)\b|\b(?:RAILS|NODE|APP|MIX|FLASK|DJANGO)_ENV=(?:test|testing|dev|development)\b|"
    r"\b--local\b", re.I)
"""A command scoped to this machine or a test environment by its own words."""

_KIND_PREFIX = re.compile(r"^[a-z][\w.-]+:(?!//)")


_IDENT = re.compile(r"[\w./:~-]*[\d_./:-][\w./:~-]*")
_PLAIN = re.compile(r"[a-z]+")


def _resource_names(name: str) -> tuple[str, ...]:
    """A resource's comparable names: the full name and, for ``<kind>:<name>``, the name. A
    name written in words (``stripe test customer cus_test_51``, ``container mapek-it-5521``,
    ``postgres container ci-pg-8812 (database app_test)``) is named by its identifiers: the
    words with a digit, ``_``, ``-``, ``.``, ``/`` or ``:`` in them, never a plain word."""
    n = norm_target(name)
    if re.search(r"\s", n):
        idents = [w.strip(".,;:()[]'\"").rstrip(".") for w in n.split()]
        return tuple(dict.fromkeys(
            x for w in idents if len(w) >= 3 and _IDENT.fullmatch(w) and not _PLAIN.fullmatch(w)
            for x in _resource_names(w)))
    m = _KIND_PREFIX.match(n)
    return (n, n[m.end():]) if m and len(n) > m.end() else (n,)


def _covers(name: str, target: str) -> bool:
    """``target`` is the resource ``name`` or inside it: the name itself, a path under it
    (``/srv/app/x/cache`` under ``/srv/app/x``), or a longer address that ends with it
    (``github.com/acme/web`` for ``acme/web``, ``arn:aws:s3:::acme`` for ``acme``). A parent
    (``/srv`` of ``/srv/app/x``) or a look-alike sharing a prefix (``/srv/application`` for
    ``/srv/app``, ``acme-prod`` for ``acme``) is not: deleting it deletes more than the resource.
    A bare name (``data``) is not any absolute folder of that name (``/var/lib/data``)."""
    if target == name or target.startswith(name + "/"):
        return True
    if target.endswith(":" + name):
        return True
    if target.endswith("/" + name):
        # an address ending in the name; for a filesystem path only a name with a folder in it
        return not target.startswith(("/", "~")) or "/" in name
    return False


_RUN_OWN = "every target was created by this run"


def _address(target: str) -> str:
    """A URL without its query and fragment (``.../project/AGT-1?enableUndo=true`` names
    ``.../project/AGT-1``): the options of a request are not part of what it names; nor is a
    format suffix (``.../t/88213.json`` names topic ``88213``)."""
    if re.match(r"^\s*[a-z][a-z0-9+.-]*://", target, re.I):
        # .../projects/agent-sandbox%2Fscratch-9931 names agent-sandbox/scratch-9931
        path = unquote(re.split(r"[?#]", target, maxsplit=1)[0])
        return re.sub(r"(?<=/)([^/]+)\.(?:json|xml|ya?ml)$", r"\1", path, flags=re.I)
    return target


_ID_QUERY = re.compile(r"[?&](?:id(?::in)?|ids|id\[in\])=([\w.,%-]+)", re.I)


def _addresses(target: str) -> list[str]:
    """What a target names: its address, or, for a URL whose query lists the objects
    (``/customers?id:in=90211,90212``), each object under the address."""
    base = _address(target)
    m = _ID_QUERY.search(target) if base != target else None
    if m is None:
        return [base]
    ids = [x for x in unquote(m.group(1)).split(",") if x][:64]
    return [f"{base.rstrip('/')}/{x}" for x in ids] or [base]


def _names(name: str, text: str) -> bool:
    """``text`` mentions ``name`` as a whole name, not as part of a longer one."""
    return re.search(r"(?<![\w.-])" + re.escape(name) + r"(?![\w-]|\.\w)", text) is not None


@dataclass
class ScreeningStats:
    """Counts over a screener's lifetime."""

    plans: int = 0
    uncertain: int = 0
    """Plans whose verdict rested only on unsure reasons: the judge-consultation rate."""
    judge_calls: int = 0
    judge_changed: int = 0


@dataclass
class _Group:
    rule: str
    verdict: Decision
    why: str
    certain: bool = True
    steps: list[int] = field(default_factory=list)
    in_text: bool = False
    evidence: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)


@dataclass
class Screener:
    """Screens plans and free text for destructive intent; offline, deterministic, linear."""

    judge: Judge | None = None
    """Consulted only when the verdict rests on unsure reasons alone."""
    tools: ToolRegistry | None = None
    """The session's tools: a step calling one declared ``destructive`` or ``external`` is
    flagged by that declaration too."""
    field_chars: int = 65_536
    """Characters scanned per text field (first three quarters, last quarter)."""
    total_chars: int = 8_000_000
    """Characters scanned per plan before each further field drops to 4 KiB."""
    evidence_per_reason: int = 3
    precedents: PrecedentLookup | None = None
    """Screening precedents (``text -> nearest``): looked up for every plan held back and
    attached to its verdict, for the judge and the person."""
    min_confidence: float = 0.7
    """A judge's answer below this confidence decides nothing: the plan stays held."""
    stats: ScreeningStats = field(default_factory=ScreeningStats)

    # -- policy ------------------------------------------------------------------------------

    @staticmethod
    def _ownership(f: Finding, ctx: ScreenContext) -> str:
        """``human`` / ``this-run`` / ``partial`` / ``unknown`` for the finding's targets.
        ``partial``: the action names something this run made but the rules cannot tell that
        every target is it (``pscale branch delete payments run-1 --org acme`` with the run's
        ``pscale/payments/run-1``): not the run's own, and not recognised either."""
        if not ctx.resources:
            return "unknown"
        targets = [norm_target(a) for t in f.targets if t for a in _addresses(t)]
        evidence = f.evidence.lower()
        involved: list[str] = []
        matched = 0
        near = False
        names = [(_resource_names(name), res) for name, res in ctx.resources.items()]
        for t in targets:
            hits: list[str] = []
            for ns, res in names:
                owner = ctx.owner(res.created_by) if not res.protected else "human"
                if any(n and _covers(n, t) for n in ns):
                    hits.append(owner)
                elif owner == "human" and any(n and _covers(t, n) for n in ns):
                    hits.append(owner)  # a parent of what a human made takes it with it
            if hits:
                matched += 1
                involved.append("human" if "human" in hits else hits[0])
            elif any(ctx.owner(res.created_by) == "this-run" and not res.protected and any(
                    n.endswith("/" + t) and not n.startswith(("/", "~")) for n in ns)
                    for ns, res in names):
                near = True  # run-1 of the run's pscale/payments/run-1: named, not placed
        for ns, res in names:
            owner = ctx.owner(res.created_by) if not res.protected else "human"
            # a name seen in the evidence: any mention protects what a human made; only the
            # whole name (not ``acme`` inside ``acme-cache``) counts as the run's own
            if owner == "human" and any(len(n) >= 3 and n in evidence for n in ns):
                involved.append(owner)
            elif owner != "human" and any(len(n) >= 3 and _names(n, evidence) for n in ns):
                involved.append(owner)
        if "human" in involved:
            return "human"
        if involved and all(o == "this-run" for o in involved) and matched == len(targets):
            return "this-run"
        if "this-run" in involved or near:
            return "partial"
        return "unknown"

    def _weigh(self, f: Finding, ctx: ScreenContext, scope: str) -> tuple[Decision, str, bool]:
        """The decision, why, and whether the context leaves it unsure (the action names
        something this run made, but not only that)."""
        spec = RULES[f.rule]
        blast = f.blast or spec.blast
        if blast == "external":
            return "needs_approval", "acts outside the system: no sandbox can call it back", False
        if blast == "opaque":
            return "needs_approval", "what runs is only known at run time (built, decoded or " \
                                     "downloaded): a person reads it first, whatever the " \
                                     "context", False
        owner = self._ownership(f, ctx)
        env_owner = ctx.owner(ctx.created_by)
        if blast == "unknown":
            if owner != "human" and (f.owned or owner == "this-run" or (
                    ctx.environment == "sandbox" and env_owner == "this-run")):
                return "allow", "not recognised, but confined to what this run created", False
            return "needs_approval", "the rules do not recognise this action as safe: held " \
                                     "for the judge or a person", False
        if owner == "human":
            return "deny", "the target was created by a human", False
        if f.owned or owner == "this-run":
            return "allow", _RUN_OWN, False
        if blast == "catastrophic":
            return "deny", "catastrophic whatever the context", False
        if env_owner == "human":
            return "deny", "the environment was created by a human", False
        if ctx.environment == "production":
            return "deny", "production environment", False
        if has_prod_marker(scope):
            return "deny", "the command names a production target", False
        if ctx.environment == "sandbox" and env_owner == "this-run":
            return "allow", "a sandbox this run created", False
        if owner == "partial":
            return "needs_approval", "destructive; it names something this run made, but not " \
                                     "only that: the judge or a person decides", True
        if blast == "destructive" and (ctx.environment in _LOCAL_ENVS or
                                       _LOCAL_SCOPE.search(scope)):
            return "needs_approval", "destructive, on what is said to be a local or test " \
                                     "target: only the situation decides; the judge or a " \
                                     "person does", True
        return "needs_approval", "destructive; the context does not show the target is the " \
                                 "run's own", False

    # -- screening ---------------------------------------------------------------------------

    def _collect(self, groups: dict[tuple[str, str], _Group], f: Finding, verdict: Decision,
                 why: str, step: int | None, unsure: bool = False) -> None:
        g = groups.get((f.rule, verdict))
        if g is None:
            g = groups[(f.rule, verdict)] = _Group(f.rule, verdict, why)
        g.certain = g.certain and f.certain and not unsure
        if step is None:
            g.in_text = True
        elif not g.steps or g.steps[-1] != step:
            g.steps.append(step)
        if len(g.evidence) < self.evidence_per_reason and f.evidence not in g.evidence:
            g.evidence.append(f.evidence)
        for t in f.targets:
            if len(g.targets) < 8 and t and t not in g.targets:
                g.targets.append(t)

    def screen_plan(self, plan: Plan | Mapping[str, Any] | str | bytes,
                    context: ScreenContext | Mapping[str, Any] | None = None) -> Verdict:
        """Screen a structured plan (its steps and its text)."""
        p = parse_plan(plan)
        ctx = _context(context)
        budget = FieldBudget(field_chars=self.field_chars, total_chars=self.total_chars)
        state = PlanState()
        groups: dict[tuple[str, str], _Group] = {}
        if p.text:
            for f in scan_free_text(p.text, state, budget, recognise=not p.steps):
                verdict, why, unsure = self._weigh(f, ctx, f.evidence)
                self._collect(groups, f, verdict, why, None, unsure)
        for i, step in enumerate(p.steps):
            effect = None
            if self.tools is not None and (t := self.tools.get(step.tool)) is not None:
                effect = t.effect
            found, scope = scan_step(step.tool, step.args, step.description, state, budget,
                                     effect=effect)
            weighed = [(f, *self._weigh(f, ctx, scope + " " + f.evidence)) for f in found]
            # the step's own removal, read and found to touch only what this run made: the
            # words that describe it ("remove the smoke-test project") are not a second act
            own = any(not f.rule.startswith("prose.") and f.targets and verdict == "allow"
                      and why == _RUN_OWN for f, verdict, why, _ in weighed)
            for f, verdict, why, unsure in weighed:
                if own and f.rule == "prose.destroy" and not has_prod_marker(f.evidence):
                    continue
                self._collect(groups, f, verdict, why, i, unsure)
        return self._finish(p, ctx, groups, budget)

    def screen_text(self, text: str,
                    context: ScreenContext | Mapping[str, Any] | None = None) -> Verdict:
        """Screen a free-text plan."""
        return self.screen_plan(Plan(text=text), context)

    def _finish(self, plan: Plan, ctx: ScreenContext, groups: dict[tuple[str, str], _Group],
                budget: FieldBudget) -> Verdict:
        reasons = [Reason(rule=g.rule, catalogue_id=RULES[g.rule].catalogue_id,
                          verdict=g.verdict,
                          message=RULES[g.rule].summary, why=g.why, steps=g.steps,
                          in_text=g.in_text, evidence=g.evidence, targets=g.targets,
                          certain=g.certain)
                   for g in groups.values()]
        reasons.sort(key=lambda r: (-_RANK[r.verdict], not r.certain, r.rule))
        decision: Decision = max((r.verdict for r in reasons), key=_RANK.__getitem__,
                                 default="allow")
        holding = [r for r in reasons if r.verdict != "allow"]
        steps = sorted({s for r in holding for s in r.steps})
        uncertain = bool(holding) and not any(r.certain for r in holding)
        v = Verdict(verdict=decision, reasons=reasons, steps=steps, uncertain=uncertain,
                    basis="held" if uncertain else "recognised",
                    step_count=len(plan.steps), scanned_chars=budget.scanned,
                    truncated_fields=budget.truncated)
        self.stats.plans += 1
        self.stats.uncertain += uncertain
        rendered = _render(plan, steps) if holding else ""
        if holding and self.precedents is not None:
            v.precedents = self.precedents(rendered)
        if uncertain and self.judge is not None:
            self.stats.judge_calls += 1
            opinion = self.judge(rendered, ctx, v)
            opaque = any(RULES[r.rule].blast == "opaque" for r in holding)
            if opinion is not None and (opinion.confidence < self.min_confidence or
                                        opinion.verdict == "allow" and opaque):
                # a disguise (a built name, a decoded payload) is never allowed unattended,
                # even when the rules could read what it stands for: the judge may only
                # keep it held or refuse it
                v = v.model_copy(update={"judge_rationale": opinion.rationale,
                                         "judge_confidence": opinion.confidence})
            elif opinion is not None:
                self.stats.judge_changed += opinion.verdict != v.verdict
                v = v.model_copy(update={"verdict": opinion.verdict, "source": "model",
                                         "judge_rationale": opinion.rationale,
                                         "judge_confidence": opinion.confidence,
                                         "uncertain": False, "basis": "judged",
                                         "steps": steps if opinion.verdict != "allow" else []})
        return v


def _render(plan: Plan, steps: Iterable[int], limit: int = 20_000) -> str:
    """The plan as the judge reads it: the text, then the offending steps first."""
    wanted = list(steps)
    order = wanted + [i for i in range(len(plan.steps)) if i not in set(wanted)][:50]
    parts = [plan.text[:4000]] if plan.text else []
    for i in order:
        s = plan.steps[i]
        parts.append(f"[{i}] {s.tool} {json.dumps(s.args, ensure_ascii=False)[:2000]}"
                     f"{' -- ' + s.description if s.description else ''}")
    return "\n".join(parts)[:limit]


_DEFAULT = Screener()


def screen_plan(plan: Plan | Mapping[str, Any] | str | bytes,
                context: ScreenContext | Mapping[str, Any] | None = None, *,
                judge: Judge | None = None, tools: ToolRegistry | None = None) -> Verdict:
    """Screen a structured plan (``{"steps": [...], "text": "..."}``, or its JSON text)."""
    s = _DEFAULT if judge is None and tools is None else Screener(judge=judge, tools=tools)
    return s.screen_plan(plan, context)


def screen_text(text: str, context: ScreenContext | Mapping[str, Any] | None = None, *,
                judge: Judge | None = None) -> Verdict:
    """Screen a free-text plan."""
    s = _DEFAULT if judge is None else Screener(judge=judge)
    return s.screen_text(text, context)


# --------------------------------------------------------------------------------------------
# Batch
# --------------------------------------------------------------------------------------------

def _load_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    from mapek._jsonl import read_objects

    return read_objects(path, lambda msg, line, col: PlanError(msg, source=str(path), line=line,
                                                                column=col))


def read_plans(in_path: Path | str) -> list[tuple[dict[str, Any], Plan, ScreenContext]]:
    """Every record of a JSONL file of plans, checked: ``(record, plan, context)``."""
    path = Path(in_path)
    jobs: list[tuple[dict[str, Any], Plan, ScreenContext]] = []
    for n, rec in _load_jsonl(path):
        where = f"{path}:{n}"
        if "plan" in rec:
            raw = rec["plan"]
            plan = parse_plan(raw if isinstance(raw, (str, dict, list)) else {"x": raw},
                              source=where)
        elif "steps" in rec or "actions" in rec:
            plan = parse_plan({k: v for k, v in rec.items() if k in ("steps", "actions", "text")},
                              source=where)
        elif isinstance(rec.get("text"), str):
            plan = Plan(text=rec["text"])
        else:
            raise PlanError(f"{where}: record has neither 'plan', 'steps' nor 'text'",
                            source=str(path), line=n)
        try:
            ctx = _context(rec.get("context"))
        except UserError as exc:
            raise PlanError(f"{where}: {exc}", source=str(path), line=n,
                            field="context") from None
        jobs.append((rec, plan, ctx))
    return jobs


def screen_records(in_path: Path | str, *, screener: Screener | None = None
                   ) -> list[tuple[dict[str, Any], Verdict]]:
    """Screen every record of a JSONL file (read as :func:`screen_jsonl` does); the records
    with their verdicts, in order."""
    s = screener if screener is not None else Screener()
    return [(rec, s.screen_plan(plan, ctx)) for rec, plan, ctx in read_plans(in_path)]


def screen_jsonl(in_path: Path | str, out_stream: TextIO, *,
                 screener: Screener | None = None) -> dict[str, int]:
    """Screen every record of a JSONL file; write one JSON verdict a line; return the counts.

    A record holds ``plan`` (an object or a JSON string), or ``steps``/``actions`` (the record
    is the plan), or ``text`` (a free-text plan); ``id`` and ``context`` are optional. The whole
    file is read and checked first: bad input raises :class:`PlanError` naming the line (and
    column) and leaves ``out_stream`` untouched. Counts: ``total``, ``allow``,
    ``needs_approval``, ``deny``, ``uncertain``.
    """
    s = screener if screener is not None else Screener()
    jobs = read_plans(in_path)
    counts = {"total": 0, "allow": 0, "needs_approval": 0, "deny": 0, "uncertain": 0}
    out: list[str] = []
    for rec, plan, ctx in jobs:
        v = s.screen_plan(plan, ctx)
        row: dict[str, Any] = {"id": rec["id"]} if "id" in rec else {}
        row.update(v.model_dump(mode="json"))
        out.append(json.dumps(row, ensure_ascii=False))
        counts["total"] += 1
        counts[v.verdict] += 1
        counts["uncertain"] += v.uncertain
    if out:
        out_stream.write("\n".join(out) + "\n")
    return counts
