"""The persona library: YAML files from the package, overridden by a user folder.

Packaged personas live in ``personas/`` (inside the wheel: ``mapek/_data/personas``). A user
folder (``MAPEK_PERSONAS`` or ``--personas-dir``) adds personas, and a user file replaces a
packaged one of the same name.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from mapek._resources import data_dir
from mapek.errors import PersonaError
from mapek.inputs import NESTED, not_utf8
from mapek.models import Persona

__all__ = ["PersonaLibrary", "load_persona_file"]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (ten times faster, the same documents), else
PyYAML's own."""


def load_persona_file(path: Path) -> Persona:
    """Parse and validate one persona file; every problem names the file and the field."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except OSError as exc:
        raise PersonaError(f"{path}: cannot read: {exc.strerror}", path=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise PersonaError(f"{path}: cannot read: {not_utf8(exc)}", path=str(path)) from None
    except RecursionError:
        raise PersonaError(f"{path}: invalid YAML: {NESTED}", path=str(path)) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise PersonaError(f"{path}: invalid YAML{at}: {problem}", path=str(path)) from exc
    if not isinstance(raw, dict):
        raise PersonaError(f"{path}: expected a mapping of fields, got {type(raw).__name__}",
                           path=str(path))
    raw.setdefault("name", path.stem)
    try:
        persona = Persona.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(file)"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise PersonaError(f"{path}: field '{field}': {err['msg']}{more}",
                           path=str(path), field=field) from exc
    if persona.name != path.stem:
        raise PersonaError(
            f"{path}: field 'name': {persona.name!r} does not match the file name {path.stem!r}",
            path=str(path), field="name",
        )
    return persona


_CACHE: dict[tuple[tuple[object, ...], ...], tuple[tuple[Persona, Path], ...]] = {}
"""Parsed persona files by the names and stats of the files (see ``PersonaLibrary.load``)."""
_CACHE_SIZE = 16
_CACHE_LOCK = threading.Lock()


def _stat(path: Path) -> tuple[int, int, int]:
    try:
        st = path.stat()
    except OSError:  # gone since the listing: parsing it says so
        return (0, -1, 0)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


@dataclass
class PersonaLibrary:
    """All personas visible to a session, by name."""

    personas: dict[str, Persona]
    """Name to persona, user files having replaced packaged ones."""
    sources: dict[str, Path]
    """Name to the file it was loaded from."""

    @classmethod
    def load(cls, user_dir: Path | str | None = None) -> PersonaLibrary:
        """The packaged personas, overridden and extended by those in ``user_dir``.

        Files are parsed once per process: a later load with the same folders and files
        (same names, sizes and modification times) reuses them; an edited, added or removed
        file is read again."""
        folders = [data_dir("personas")]
        if user_dir is not None:
            user = Path(user_dir).expanduser()
            if not user.is_dir():
                raise PersonaError(f"persona folder {user} does not exist", path=str(user))
            folders.append(user)
        files = [path for folder in folders
                 for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])]
        stamp = tuple((str(path), *_stat(path)) for path in files)
        with _CACHE_LOCK:
            cached = _CACHE.get(stamp)
        if cached is None:
            cached = tuple((load_persona_file(path), path) for path in files)
            with _CACHE_LOCK:
                _CACHE[stamp] = cached
                while len(_CACHE) > _CACHE_SIZE:
                    _CACHE.pop(next(iter(_CACHE)))
        personas: dict[str, Persona] = {}
        sources: dict[str, Path] = {}
        for persona, path in cached:
            personas[persona.name] = persona
            sources[persona.name] = path
        return cls(personas, sources)

    def names(self) -> list[str]:
        return sorted(self.personas)

    def get(self, name: str) -> Persona:
        try:
            return self.personas[name]
        except KeyError:
            known = ", ".join(self.names())
            raise PersonaError(f"unknown persona {name!r}; known: {known}") from None

    def select(self, names: Iterable[str] | None) -> list[Persona]:
        """The named personas, in order; all of them when ``names`` is empty."""
        wanted = [n.strip() for n in (names or []) if n.strip()]
        if not wanted:
            return [self.personas[n] for n in self.names()]
        seen: set[str] = set()
        out = []
        for n in wanted:
            if n in seen:
                raise PersonaError(f"persona {n!r} is listed twice")
            seen.add(n)
            out.append(self.get(n))
        return out
