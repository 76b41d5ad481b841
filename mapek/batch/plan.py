"""The batch plan: which topics, put to which panels, on which models, how many times.

A plan is a YAML file (or the same mapping from Python)::

    name: market entry
    topics:
      - Should we open an office in Berlin?
      - {id: pricing, text: Should we raise our prices by 10% next quarter?}
    panels:
      finance: [cfo, skeptic, legal]
      product:
        - engineer
        - customer
        - {name: regulator, role: Regulator, goal: Keep us compliant, expertise: [regulation]}
    models: [mapek/offline]            # litellm strings or ModelSpec mappings (label: optional)
    repeats: 2                         # each repeat runs with its own seed (seeds: [...])
    session: {max_turns: 8}            # every cell's own limits
    limits: {max_usd: 5, max_tokens: 400000, time_limit: 3600, concurrency: 3}
    policy: default                    # the watchdog's breaker preset or file
    questions: queue                   # queue (default), defer, or wait

Every cell (topic x panel x model x repeat) is one session. Repeats differ by the model's
``seed`` parameter (``params: {seed: N}``): the offline model folds it into its choices, real
providers that take a seed use it; the run id differs too.

:func:`load_plan` validates a file in two passes: the structure with pydantic (unknown fields
and wrong types), then each topic, persona, model and the policy. Every problem is one
:class:`PlanError` naming the file, the line (from PyYAML's node marks) and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mapek.bounds import MAX_ESCALATIONS, MAX_SECONDS, MAX_TOKENS, MAX_TURNS, MAX_USD
from mapek.errors import ConfigError, UserError
from mapek.inputs import NESTED, not_utf8
from mapek.llm.spec import ModelSpec
from mapek.models import Persona

__all__ = ["BatchPlan", "BatchLimits", "Cell", "ModelEntry", "PlanError", "QuestionMode",
           "SessionLimits", "Topic", "load_plan", "plan_from_dict"]

QuestionMode = Literal["queue", "defer", "wait"]
"""How a cell handles a consequential question: ``queue`` (it waits in the log, in the batch
inbox, while the discussion goes on; an answer reaches a cell still running at its next round),
``defer`` (set aside for the synthesis), ``wait`` (the cell stops at the question until it is
answered from the inbox; it holds its slot meanwhile)."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class PlanError(ConfigError):
    """A bad plan: one line naming the file, the line and the field."""

    def __init__(self, message: str, *, file: str, line: int | None, where: str) -> None:
        at = f"{file}:{line}" if line is not None else file
        super().__init__(f"{at}: {where + ': ' if where else ''}{message}")
        self.file, self.line, self.where = file, line, where


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SessionLimits(_Strict):
    """Each cell's own limits, as :meth:`mapek.Session.create` takes them."""

    max_turns: int = Field(default=12, ge=1, le=MAX_TURNS)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS)
    max_usd: float | None = Field(default=None, gt=0, le=MAX_USD, allow_inf_nan=False)
    time_limit: float | None = Field(default=None, gt=0, le=MAX_SECONDS, allow_inf_nan=False)
    """Seconds of a cell's worker time."""
    escalation_budget: int = Field(default=3, ge=0, le=MAX_ESCALATIONS)
    speakers_per_round: int = Field(default=2, ge=1, le=64)


class BatchLimits(_Strict):
    """Limits of the whole batch. The budget is summed over every cell from the log; when it is
    spent the running cells stop as a trip does (resumable with a raised limit)."""

    max_usd: float | None = Field(default=None, gt=0, le=MAX_USD, allow_inf_nan=False)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS)
    time_limit: float | None = Field(default=None, gt=0, le=MAX_SECONDS, allow_inf_nan=False)
    """Seconds of wall time the batch's driver may run (summed over run and resumes)."""
    concurrency: int = Field(default=2, ge=1, le=64)
    """Cells running at once."""


class Topic(_Strict):
    id: str = Field(pattern=_ID.pattern)
    text: str = Field(min_length=1)


class ModelEntry(_Strict):
    label: str
    """How the report names it (default: the model's name)."""
    spec: ModelSpec


def _offline() -> list[str | dict[str, Any]]:
    return ["mapek/offline"]


class _RawPlan(_Strict):
    """The plan's structure, before each entry is checked."""

    name: str = ""
    topics: list[str | dict[str, Any]] = Field(min_length=1)
    panels: dict[str, list[str | dict[str, Any]]] = Field(min_length=1)
    models: list[str | dict[str, Any]] = Field(default_factory=_offline, min_length=1)
    repeats: int = Field(default=1, ge=1, le=1000)
    seeds: list[int] | None = None
    session: SessionLimits = Field(default_factory=SessionLimits)
    limits: BatchLimits = Field(default_factory=BatchLimits)
    policy: str | None = None
    questions: QuestionMode = "queue"
    personas_dir: str | None = None


class BatchPlan(_Strict):
    """A checked plan, as recorded in the batch's ``batch.started`` event."""

    name: str = ""
    topics: list[Topic]
    panels: dict[str, list[str | Persona]]
    models: list[ModelEntry]
    repeats: int = 1
    seeds: list[int] | None = None
    """The seed of each repeat (None: one repeat, no seed set)."""
    session: SessionLimits = Field(default_factory=SessionLimits)
    limits: BatchLimits = Field(default_factory=BatchLimits)
    policy: str | None = None
    questions: QuestionMode = "queue"
    personas_dir: str | None = None

    def cells(self) -> list[Cell]:
        """Every cell, repeat by repeat (so a batch cut short has covered each topic)."""
        out = []
        for r in range(self.repeats):
            seed = self.seeds[r] if self.seeds else None
            for t in self.topics:
                for panel in self.panels:
                    for m in self.models:
                        out.append(Cell(key=f"{t.id}|{panel}|{m.label}|r{r + 1}", topic=t,
                                        panel=panel, model=m.label, repeat=r + 1, seed=seed))
        return out

    def model_spec(self, cell: Cell) -> ModelSpec:
        """The cell's model, with its repeat's seed."""
        spec = next(m.spec for m in self.models if m.label == cell.model)
        if cell.seed is None:
            return spec
        return spec.model_copy(update={"params": {**spec.params, "seed": cell.seed}})

    def personas(self, panel: str) -> list[str | Persona]:
        return list(self.panels[panel])


@dataclass(frozen=True)
class Cell:
    """One session of the batch."""

    key: str
    """``topic|panel|model|rN``: unique in the batch, stable across resumes."""
    topic: Topic
    panel: str
    model: str
    repeat: int
    seed: int | None


# -- loading ------------------------------------------------------------------------------------


def load_plan(path: str | Path) -> BatchPlan:
    """Read and check a plan file. Relative ``personas_dir`` and policy files are resolved
    against the plan's folder."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"cannot read: {exc.strerror}", file=str(p), line=None,
                        where="") from None
    except UnicodeDecodeError as exc:
        raise PlanError(f"cannot read: {not_utf8(exc)}", file=str(p), line=None,
                        where="") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except RecursionError:
        raise PlanError(f"invalid YAML: {NESTED}", file=str(p), line=None, where="") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise PlanError(f"invalid YAML: {problem}", file=str(p),
                        line=mark.line + 1 if mark is not None else None, where="") from None
    return plan_from_dict(raw, source=str(p), node=node, base=p.resolve().parent)


def plan_from_dict(raw: Any, *, source: str = "plan", node: yaml.Node | None = None,
                   base: Path | None = None) -> BatchPlan:
    """Check a plan given as a mapping (``node``: its YAML tree, for line numbers)."""
    where = _Locator(source, node)
    if not isinstance(raw, Mapping):
        raise where.error((), f"a plan is a mapping of fields, got {type(raw).__name__}")
    if "cells" in raw and isinstance(raw.get("cells"), list) and "topics" not in raw:
        raise where.error(("cells",), "a plan lists topics, panels and models, not cells")
    try:
        plan = _RawPlan.model_validate(dict(raw))
    except ValidationError as exc:
        err = exc.errors()[0]
        raise where.error(tuple(err["loc"]), _message(err)) from None
    return _checked(plan, where, base or Path.cwd())


_UNION_TAGS = frozenset({"str", "dict[str,any]"})


def _message(err: Mapping[str, Any]) -> str:
    if err["loc"] and err["loc"][-1] in _UNION_TAGS:
        return "expected text or a mapping"
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "missing":
        return "required field missing"
    return str(err["msg"])


def _checked(raw: _RawPlan, where: _Locator, base: Path) -> BatchPlan:
    from mapek.personas import PersonaLibrary

    topics: list[Topic] = []
    for i, t in enumerate(raw.topics):
        data: Any = {"id": f"t{i + 1}", "text": t} if isinstance(t, str) else \
            {"id": f"t{i + 1}", **t}
        try:
            topic = Topic.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise where.error(("topics", i, *err["loc"]), _message(err)) from None
        if not topic.text.strip():
            raise where.error(("topics", i), "a topic must not be empty")
        if any(o.id == topic.id for o in topics):
            raise where.error(("topics", i), f"topic id {topic.id!r} is used twice")
        topics.append(topic)

    pdir = raw.personas_dir
    if pdir is not None:
        pdir = str((base / pdir).resolve())
        if not Path(pdir).is_dir():
            raise where.error(("personas_dir",), f"no such folder: {pdir}")
    try:
        known = PersonaLibrary.load(Path(pdir) if pdir else _settings_personas()).personas
    except UserError as exc:  # a bad persona file in the folder
        raise where.error(("personas_dir",), str(exc)) from None
    panels: dict[str, list[str | Persona]] = {}
    for name, members in raw.panels.items():
        if not _ID.match(name):
            raise where.error(("panels", name), "a panel name is letters, digits, '_', '.' "
                              "or '-'")
        if len(members) < 2:
            raise where.error(("panels", name), "a panel needs at least two personas")
        chosen: list[str | Persona] = []
        for j, m in enumerate(members):
            if isinstance(m, str):
                if m.strip() not in known:
                    raise where.error(("panels", name, j), f"unknown persona {m!r} (known: "
                                      f"{', '.join(sorted(known))})")
                chosen.append(m.strip())
                continue
            try:
                chosen.append(Persona.model_validate(m))
            except ValidationError as exc:
                err = exc.errors()[0]
                raise where.error(("panels", name, j, *err["loc"]), _message(err)) from None
        names = [c if isinstance(c, str) else c.name for c in chosen]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup:
            raise where.error(("panels", name), f"persona {dup!r} is listed twice")
        panels[name] = chosen

    models: list[ModelEntry] = []
    for k, m in enumerate(raw.models):
        data = {"name": m} if isinstance(m, str) else dict(m)
        label = data.pop("label", None)
        try:
            spec = ModelSpec.model_validate(data)
            _check_model(spec.name)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise where.error(("models", k, *err["loc"]), _message(err)) from None
        except UserError as exc:  # an invalid spec, an unknown model
            raise where.error(("models", k), str(exc)) from None
        label = str(label or spec.name)
        if any(o.label == label for o in models):
            raise where.error(("models", k), f"two models are labelled {label!r}; give each "
                              "its own label")
        models.append(ModelEntry(label=label, spec=spec))

    seeds = raw.seeds
    if seeds is not None and len(seeds) != raw.repeats:
        raise where.error(("seeds",), f"{len(seeds)} seeds for {raw.repeats} repeats: give "
                          "one seed per repeat")
    if seeds is None and raw.repeats > 1:
        seeds = list(range(1, raw.repeats + 1))

    policy = raw.policy
    if policy is not None:
        from mapek.breaker.policies import load_policy

        if Path(policy).suffix in (".yaml", ".yml"):
            policy = str((base / policy).resolve())
        try:
            load_policy(policy)
        except ConfigError as exc:
            raise where.error(("policy",), str(exc)) from None
    return BatchPlan(name=raw.name, topics=topics, panels=panels, models=models,
                     repeats=raw.repeats, seeds=seeds, session=raw.session, limits=raw.limits,
                     policy=policy, questions=raw.questions, personas_dir=pdir)


def _settings_personas() -> Path | None:
    from mapek.config import Settings

    return Settings().personas


def _check_model(name: str) -> None:
    """A model string litellm cannot route is refused now (offline variants at once; a real
    model's string is routed by litellm, which is imported for it)."""
    from mapek.llm import LiteLLMModel

    m = LiteLLMModel(name)
    if not m.offline:
        _ = m.sends_schema  # reading it routes the string


# -- where in the file --------------------------------------------------------------------------


class _Locator:
    """Maps a field path (``("panels", "finance", 2)``) to its line in the YAML file."""

    def __init__(self, source: str, node: yaml.Node | None) -> None:
        self.source, self.node = source, node

    def line(self, path: tuple[Any, ...]) -> int | None:
        node = self.node
        if node is None:
            return None
        line = int(node.start_mark.line) + 1
        for part in path:
            found = _child(node, part)
            if found is None:
                continue  # a tag pydantic adds (a union member's name): not in the file
            at, node = found
            line = int(at.start_mark.line) + 1
        return line

    def error(self, path: tuple[Any, ...], message: str) -> PlanError:
        return PlanError(message, file=self.source, line=self.line(path), where=_dotted(path))


def _child(node: yaml.Node, part: Any) -> tuple[yaml.Node, yaml.Node] | None:
    """The node a path part leads to, and the node that names it (a mapping's key: the line
    where the field is written; a sequence's item itself)."""
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                return k, v
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
            and 0 <= part < len(node.value):
        return node.value[part], node.value[part]
    return None


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _UNION_TAGS:
            continue  # pydantic's union member tags
        else:
            out += ("." if out else "") + str(part)
    return out

