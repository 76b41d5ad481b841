"""Produce a valid instance of any JSON schema (pydantic's ``model_json_schema()`` dialect).

The offline model's generic ``structured`` script and the stand-in OpenAI server both use this so
that every schema gets a structured output. It walks the schema: objects, arrays and tuples,
enums and consts (``Literal``), numbers with bounds and ``multipleOf``, strings with formats,
patterns and lengths, ``$defs``/``$ref``, ``anyOf``/``oneOf``/``allOf`` and ``Optional``.
Choices are drawn from a seeded ``random.Random`` so the same seed gives the same instance.
``hints`` (property name -> value) let a script put its own content into matching fields.
"""

from __future__ import annotations

import math
import random
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["sample_instance"]

_MAX_DEPTH = 6
"""Below this depth optional properties are left out and arrays get their minimum length, so
recursive schemas (trees, linked lists) terminate."""

_PROSE_FIELDS = (
    "text", "summary", "reason", "rationale", "description", "answer", "question", "content",
    "message", "explanation", "justification", "comment", "note", "detail", "body", "statement",
    "finding", "evidence", "argument", "analysis", "synthesis", "plan", "goal", "topic",
)
_NAME_FIELDS = ("name", "title", "label", "speaker", "persona", "author", "owner", "agent")


def sample_instance(
    schema: Mapping[str, Any],
    *,
    seed: int | str = 0,
    hints: Mapping[str, Any] | None = None,
    words: Sequence[str] = (),
) -> Any:
    """A value that validates against ``schema``; deterministic for a given ``seed``.

    ``words`` are content words (from the conversation) used to fill free-text fields.
    """
    return _Sampler(schema, random.Random(str(seed)), hints or {}, list(words)).value(
        schema, "", 0
    )


class _Sampler:
    def __init__(
        self, root: Mapping[str, Any], rng: random.Random, hints: Mapping[str, Any],
        words: list[str],
    ) -> None:
        self.root = root
        self.rng = rng
        self.hints = hints
        self.words = words or ["proposal", "budget", "timeline", "risk", "approach"]

    # -- schema plumbing -------------------------------------------------------------------
    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 32:
            target: Any = self.root
            for part in str(schema["$ref"]).lstrip("#").strip("/").split("/"):
                if part:
                    target = target[part.replace("~1", "/").replace("~0", "~")]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            seen += 1
        return schema

    def value(self, schema: Mapping[str, Any] | bool, name: str, depth: int) -> Any:
        if isinstance(schema, bool):  # `true` accepts anything
            return self.string({}, name)
        schema = self.resolve(schema)
        if name in self.hints and _fits(self.hints[name], schema):
            return self.hints[name]
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return self.rng.choice(list(schema["enum"]))
        for key in ("anyOf", "oneOf"):
            if key in schema:
                raw = list(schema[key])
                options = [self.resolve(o) for o in raw]
                non_null = [o for o in options if o.get("type") != "null"] or options
                rest = {k: v for k, v in schema.items() if k not in (key, "default")}
                # The first option is the safest (pydantic keeps declaration order, and a later
                # `string` branch may be a lax fallback such as Decimal's); vary only between
                # model types (`Cat | Dog`), where every option is a structure of its own.
                models = all("$ref" in o for o in raw if o.get("type") != "null")
                choice = self.rng.choice(non_null) if models else non_null[0]
                return self.value({**rest, **choice}, name, depth)
        if "allOf" in schema:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                part = self.resolve(part)
                for k, v in part.items():
                    if k == "properties":
                        merged["properties"] = {**merged.get("properties", {}), **v}
                    elif k == "required":
                        merged["required"] = [*merged.get("required", []), *v]
                    else:
                        merged.setdefault(k, v)
            return self.value(merged, name, depth)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            if "properties" in schema or "additionalProperties" in schema:
                kind = "object"
            elif "items" in schema or "prefixItems" in schema:
                kind = "array"
            else:
                kind = "string"
        if kind == "object":
            return self.object(schema, name, depth)
        if kind == "array":
            return self.array(schema, name, depth)
        if kind == "integer":
            return self.number(schema, integer=True)
        if kind == "number":
            return self.number(schema, integer=False)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self.string(schema, name)

    # -- containers ------------------------------------------------------------------------
    def object(self, schema: Mapping[str, Any], name: str, depth: int) -> dict[str, Any]:
        props: Mapping[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        out: dict[str, Any] = {}
        for key, sub in props.items():
            if key in required or depth < _MAX_DEPTH:
                out[key] = self.value(sub, key, depth + 1)
        extra = schema.get("additionalProperties")
        wanted = int(schema.get("minProperties", 0))
        if not props and isinstance(extra, Mapping):  # dict[str, X]
            wanted = max(wanted, 1 if depth < _MAX_DEPTH else 0)
        i = 0
        while len(out) < wanted and extra is not False:
            key = f"{self.word(i)}" if f"{self.word(i)}" not in out else f"{self.word(i)}_{i}"
            out[key] = self.value(extra if isinstance(extra, Mapping) else {}, key, depth + 1)
            i += 1
        return out

    def array(self, schema: Mapping[str, Any], name: str, depth: int) -> list[Any]:
        prefix = list(schema.get("prefixItems", []))
        lo = int(schema.get("minItems", 0))
        hi = schema.get("maxItems")
        items = schema.get("items", {})
        if prefix:  # a tuple
            out = [self.value(p, name, depth + 1) for p in prefix]
            if items is not False and isinstance(items, Mapping):
                while len(out) < lo:
                    out.append(self.value(items, name, depth + 1))
            return out
        n = max(lo, 2 if depth < _MAX_DEPTH else 0)
        if hi is not None:
            n = min(n, int(hi))
        singular = name[:-1] if name.endswith("s") else name
        out = []
        seen: set[str] = set()
        tries = 0
        while len(out) < n and tries < n * 8:
            tries += 1
            value = self.value(items if items is not True else {}, singular, depth + 1)
            if schema.get("uniqueItems"):
                key = repr(value)
                if key in seen:
                    continue
                seen.add(key)
            out.append(value)
        return out

    # -- scalars ---------------------------------------------------------------------------
    def number(self, schema: Mapping[str, Any], *, integer: bool) -> int | float:
        step = schema.get("multipleOf")
        eps = 1 if integer else (step or 0.01)
        lo: Any = schema.get("minimum")  # JSON numbers; both set once the branches below ran
        hi: Any = schema.get("maximum")
        if "exclusiveMinimum" in schema:
            lo = schema["exclusiveMinimum"] + eps
        if "exclusiveMaximum" in schema:
            hi = schema["exclusiveMaximum"] - eps
        if lo is None and hi is None:
            lo, hi = (1, 10) if integer else (0.0, 1.0)
        elif lo is None:
            lo = hi - 10
        elif hi is None:
            hi = lo + 10
        if integer:
            lo_i, hi_i = math.ceil(lo), math.floor(hi)
            value: int | float = self.rng.randint(lo_i, max(lo_i, hi_i))
        else:
            value = round(lo + (hi - lo) * self.rng.random(), 2)
            value = min(max(value, lo), hi)
        if step:
            k = math.ceil(lo / step)
            value = k * step if k * step <= hi else math.floor(hi / step) * step
            if integer:
                value = int(value)
        return value

    def string(self, schema: Mapping[str, Any], name: str) -> str:
        fmt = schema.get("format")
        formatted = _FORMATS.get(fmt) if isinstance(fmt, str) else None
        if fmt == "uuid":
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        if formatted is not None:
            return formatted
        lo = int(schema.get("minLength", 0))
        hi = schema.get("maxLength")
        pattern = schema.get("pattern")
        base = self.prose(name)
        if pattern:
            found = _matching(str(pattern), [base, _slug(base), _slug(name), *_FALLBACKS], lo, hi)
            if found is not None:
                return found
        text = base
        while len(text) < lo:
            text = f"{text} {self.word(len(text))}"
        if hi is not None and len(text) > int(hi):
            text = text[: int(hi)].rstrip() or text[: int(hi)]
        return text

    def prose(self, name: str) -> str:
        low = name.lower()
        w0, w1 = self.word(self.rng.randrange(len(self.words))), self.word(self.rng.randrange(9))
        if any(f in low for f in _PROSE_FIELDS):
            return self.rng.choice(
                [
                    f"The {w0} looks sound, provided the {w1} is settled first.",
                    f"We should agree on the {w0} before committing to the {w1}.",
                    f"The {w0} and the {w1} are consistent with the discussion so far.",
                ]
            )
        if any(f == low or low.endswith("_" + f) for f in _NAME_FIELDS):
            return w0.capitalize()
        if low.endswith("id") or low.endswith("key"):
            return _slug(f"{w0}-{self.rng.randrange(100)}")
        return w0

    def word(self, i: int) -> str:
        return self.words[i % len(self.words)]


_FORMATS: dict[str, str] = {
    "date-time": "2025-01-01T12:00:00Z",
    "date": "2025-01-01",
    "time": "12:00:00",
    "duration": "PT1H",
    "email": "someone@example.com",
    "idn-email": "someone@example.com",
    "uri": "https://example.com/item",
    "url": "https://example.com/item",
    "iri": "https://example.com/item",
    "uri-reference": "/item",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "path": "notes.txt",
    "binary": "data",
    "base64": "ZGF0YQ==",
    "json-string": "{}",
    "password": "secret",
}
_FALLBACKS = ["a", "abc", "example", "x1", "A1", "0", "1", "a-b", "a_b", "AB", "2025-01-01"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "a"


def _fits(value: Any, schema: Mapping[str, Any]) -> bool:
    """A shallow check that a hint suits a (resolved) schema; the caller validates fully."""
    kind = schema.get("type")
    if "enum" in schema:
        return value in schema["enum"]
    if "const" in schema:
        return bool(value == schema["const"])
    if "anyOf" in schema or "oneOf" in schema or kind is None:
        return True
    kinds = kind if isinstance(kind, list) else [kind]
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
    }
    if not any(checks.get(k, lambda v: False)(value) for k in kinds):
        return False
    if isinstance(value, str):
        if len(value) < int(schema.get("minLength", 0)):
            return False
        if "maxLength" in schema and len(value) > int(schema["maxLength"]):
            return False
        if "pattern" in schema and not re.search(str(schema["pattern"]), value):
            return False
    return True


def _matching(pattern: str, candidates: list[str], lo: int, hi: Any) -> str | None:
    """A string that matches ``pattern`` and the length bounds, or None."""
    try:
        rx = re.compile(pattern)
    except re.error:
        return None

    def ok(s: str) -> bool:
        return bool(rx.search(s)) and len(s) >= lo and (hi is None or len(s) <= int(hi))

    for c in candidates:
        if ok(c):
            return c
    for reps in (1, 2, 4, 8, 16, 32):
        try:
            generated = _generate(pattern, reps)
        except Exception:  # an exotic construct: give up on generation
            return None
        if ok(generated):
            return generated
    return None


def _generate(pattern: str, reps: int) -> str:
    """A string matching ``pattern``, each open repeat taken ``reps`` times (within bounds)."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser as p  # type: ignore[attr-defined]

    def char_in(items: list[Any]) -> str:
        negate = any(op is c.NEGATE for op, _ in items)
        pool: list[str] = []
        for op, av in items:
            if op is c.LITERAL:
                pool.append(chr(av))
            elif op is c.RANGE:
                pool.append(chr(av[0]))
            elif op is c.CATEGORY:
                pool.append(_CATEGORY.get(str(av), "a"))
        if negate:
            return next(ch for ch in "aA0_-x " if ch not in pool)
        return pool[0] if pool else "a"

    def emit(tokens: Any) -> str:
        out: list[str] = []
        for op, av in tokens:
            if op is c.LITERAL:
                out.append(chr(av))
            elif op is c.NOT_LITERAL:
                out.append("a" if chr(av) != "a" else "b")
            elif op is c.ANY:
                out.append("a")
            elif op is c.IN:
                out.append(char_in(av))
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
                lo, hi, sub = av
                n = max(lo, min(reps, hi if hi is not c.MAXREPEAT else reps))
                out.append(emit(sub) * n)
            elif op is c.SUBPATTERN:
                out.append(emit(av[-1]))
            elif op is c.BRANCH:
                out.append(emit(av[1][0]))
            elif op is c.CATEGORY:
                out.append(_CATEGORY.get(str(av), "a"))
            elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
                continue
            else:
                raise ValueError(f"unsupported regex construct {op}")
        return "".join(out)

    return emit(p.parse(pattern))


_CATEGORY = {
    "CATEGORY_DIGIT": "0",
    "CATEGORY_NOT_DIGIT": "a",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": "a",
    "CATEGORY_WORD": "a",
    "CATEGORY_NOT_WORD": "-",
}
