"""The failure catalogue: the "everything that can go wrong" manual, loaded and validated.

``knowledge/failure-catalogue.yaml`` lists failure scenarios, each with an ``id``, a ``title``,
its ``detection`` (what the rules look for), its ``blast_radius``, the ``response`` (what to do),
and ``examples``. Every screening reason names one entry (see
:data:`mapek.safety.rules.RULES`). The file ships inside the wheel as
``mapek/_data/knowledge/failure-catalogue.yaml`` and is found with
:func:`mapek._resources.data_dir`.

A broken file raises :class:`CatalogueError` naming the file and the field
(``failure-catalogue.yaml: entries[3] (sql-drop).blast_radius: Field required``).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mapek._resources import data_dir
from mapek.errors import UserError

__all__ = [
    "CATALOGUE_FILE",
    "CatalogueError",
    "CatalogueEntry",
    "FailureCatalogue",
    "catalogue_path",
    "load_catalogue",
    "default_catalogue",
]

CATALOGUE_FILE = "failure-catalogue.yaml"

Component = Literal["screening", "screening-tool-output", "gateway", "watchdog", "evidence",
                    "ledger"]
"""Which part of mapek detects the scenario."""


class CatalogueError(UserError):
    """The catalogue file is missing, not YAML, or has an entry that does not validate."""

    def __init__(self, message: str, *, path: str, field: str | None = None):
        super().__init__(message)
        self.path = path
        self.field = field


class CatalogueEntry(BaseModel):
    """One failure scenario."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=3)
    category: str = Field(min_length=2)
    component: Component = "screening"
    detection: str = Field(min_length=10)
    """What the rules (or the component) look for."""
    blast_radius: str = Field(min_length=10)
    """How far the damage reaches if it happens."""
    response: str = Field(min_length=5)
    """What to do: the verdict and the safer alternative."""
    default_verdict: Literal["allow", "needs_approval", "deny"] | None = None
    """What screening says with no context (screening entries only)."""
    examples: list[str] = Field(min_length=1)
    look_alikes: list[str] = Field(default_factory=list)
    """Benign texts that resemble the examples and must not be flagged."""

    @field_validator("examples", "look_alikes")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        if any(not isinstance(x, str) or not x.strip() for x in v):
            raise ValueError("every item must be a non-empty string")
        return v


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    entries: list[CatalogueEntry] = Field(min_length=1)


class FailureCatalogue:
    """The entries by id, in file order."""

    def __init__(self, entries: list[CatalogueEntry], path: Path):
        self.path = path
        self._by_id = {e.id: e for e in entries}

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._by_id

    def __iter__(self) -> Iterator[CatalogueEntry]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, entry_id: str) -> CatalogueEntry:
        try:
            return self._by_id[entry_id]
        except KeyError:
            raise UserError(f"no failure-catalogue entry {entry_id!r} in {self.path}") from None

    def ids(self) -> list[str]:
        return list(self._by_id)

    def for_component(self, component: str) -> list[CatalogueEntry]:
        return [e for e in self if e.component == component]


def catalogue_path() -> Path:
    """Where the packaged catalogue is (inside the wheel, or the checkout's ``knowledge/``)."""
    return data_dir("knowledge") / CATALOGUE_FILE


def _field_name(raw: object, loc: tuple[object, ...]) -> str:
    parts: list[str] = []
    for i, p in enumerate(loc):
        if isinstance(p, int):
            parts[-1] = f"{parts[-1]}[{p}]" if parts else f"[{p}]"
            if loc[:i] == ("entries",) and isinstance(raw, dict):
                items = raw.get("entries")
                if isinstance(items, list) and p < len(items) and isinstance(items[p], dict) \
                        and isinstance(items[p].get("id"), str):
                    parts[-1] += f" ({items[p]['id']})"
        else:
            parts.append(str(p))
    return ".".join(parts) or "(top level)"


def load_catalogue(path: str | Path | None = None) -> FailureCatalogue:
    """Load and validate the catalogue (the packaged one when ``path`` is None)."""
    p = Path(path) if path is not None else catalogue_path()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError(f"{p}: no such file", path=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{p}: cannot read: {exc}", path=str(p)) from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogueError(f"{p}: not valid YAML{where}: {problem}", path=str(p)) from None
    if not isinstance(raw, dict):
        raise CatalogueError(f"{p}: expected a mapping with 'entries', got "
                             f"{type(raw).__name__}", path=str(p))
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = _field_name(raw, tuple(err["loc"]))
        raise CatalogueError(f"{p}: {name}: {err['msg']}", path=str(p), field=name) from None
    seen: set[str] = set()
    for i, e in enumerate(parsed.entries):
        if e.id in seen:
            raise CatalogueError(f"{p}: entries[{i}].id: duplicate id {e.id!r}", path=str(p),
                                 field=f"entries[{i}].id")
        seen.add(e.id)
        if e.component == "screening" and e.default_verdict is None:
            raise CatalogueError(f"{p}: entries[{i}] ({e.id}).default_verdict: required for a "
                                 "screening entry", path=str(p),
                                 field=f"entries[{i}].default_verdict")
    return FailureCatalogue(parsed.entries, p)


@lru_cache(maxsize=1)
def default_catalogue() -> FailureCatalogue:
    """The packaged catalogue, loaded once."""
    return load_catalogue()
