"""Repair a model's almost-JSON into an instance of a pydantic model.

Models wrap JSON in code fences, put prose around it, write Python (single quotes, ``True``,
trailing commas), run out of tokens mid-object, or add and drop fields. :func:`repair` fixes what
can be fixed without guessing content, in this order, stopping at the first that validates:

1. the text as it is (strict JSON);
2. the JSON part of the text: inside a code fence, or from the first ``{``/``[`` to its match;
3. syntax fixes: single quotes, trailing commas, comments, unquoted keys, Python literals;
4. truncation: close an open string, drop a dangling key or comma, close brackets;
5. shape fixes: unwrap ``{"Name": {...}}`` or a one-element list; drop fields the schema forbids.

What is still invalid (a missing required field, a wrong type) raises :class:`RepairError` with a
short description of the problems, meant to be appended to the conversation for a re-ask.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

__all__ = [
    "RepairError",
    "repair",
    "parse_json",
    "extract_json",
    "fix_syntax",
    "close_truncated",
    "prune_extra",
    "describe_errors",
]

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```[ \t]*[A-Za-z0-9_-]*[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)


class RepairError(ValueError):
    """The output could not be repaired; ``problem`` says why, in a form a model can act on."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


def repair(text: str, schema: type[T]) -> T:
    """An instance of ``schema`` from a model's output, repaired if needed; else RepairError."""
    try:
        return schema.model_validate_json(text)
    except ValidationError:
        pass
    data = parse_json(text)
    json_schema = schema.model_json_schema()
    last: ValidationError | None = None
    for candidate in _shapes(data, json_schema):
        try:
            return schema.model_validate(candidate)
        except ValidationError as exc:
            last = exc if last is None else last
    assert last is not None
    raise RepairError(describe_errors(last))


def parse_json(text: str) -> Any:
    """The JSON value in ``text``, after extraction, syntax fixes and closing truncation."""
    stripped = text.strip().lstrip("\ufeff")
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    part = extract_json(stripped)
    for candidate in (part, fix_syntax(part)):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    closed = close_truncated(fix_syntax(part))
    try:
        return json.loads(closed)
    except json.JSONDecodeError as exc:
        raise RepairError(f"the reply is not valid JSON ({exc.msg} at char {exc.pos})") from exc
    except ValueError as exc:  # not a syntax error: a number too long to convert, say
        raise RepairError(f"the reply is not valid JSON ({exc})") from exc


def extract_json(text: str) -> str:
    """The JSON-looking part of ``text``: a fenced block's body, or from the first ``{`` or
    ``[`` to its matching bracket (to the end when it never closes)."""
    for match in _FENCE.finditer(text):
        body = match.group(1)
        if "{" in body or "[" in body:
            text = body
            break
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        raise RepairError("the reply contains no JSON object")
    start = min(starts)
    end = _matching_close(text, start)
    return text[start : end + 1] if end is not None else text[start:]


def fix_syntax(text: str) -> str:
    """Rewrite near-JSON as JSON: single-quoted strings, trailing commas, ``//`` and ``/* */``
    comments, unquoted keys, ``True``/``False``/``None``."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = _string_end(text, i, '"')
            out.append(text[i : j + 1])
            i = j + 1
        elif ch == "'":
            j = _string_end(text, i, "'")
            body = text[i + 1 : j] if j < n else text[i + 1 :]
            body = body.replace("\\'", "'").replace('"', '\\"')
            out.append('"' + body + ('"' if j < n else ""))
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif ch in "}]":
            while out and out[-1].isspace():
                out.pop()
            if out and out[-1] == ",":
                out.pop()
            out.append(ch)
            i += 1
        elif ch.isalpha() or ch == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_$"):
                j += 1
            word = text[i:j]
            k = j
            while k < n and text[k] in " \t":
                k += 1
            if k < n and text[k] == ":":
                out.append(json.dumps(word))
            else:
                out.append(_LITERALS.get(word, word))
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out)


_LITERALS = {"True": "true", "False": "false", "None": "null", "null": "null",
             "true": "true", "false": "false"}


def close_truncated(text: str) -> str:
    """Close a JSON text that stops early: end an open string, complete a cut literal, drop a
    dangling comma, colon or key, and close every open bracket."""
    stack, in_string = _scan(text)
    if in_string:
        if text.endswith("\\"):
            text = text[:-1]
        text += '"'
    for _ in range(8):  # each pass strips one dangling piece
        before = text
        text = text.rstrip()
        stack, _ = _scan(text)
        for literal in ("true", "false", "null"):
            for cut in range(1, len(literal)):
                if text.endswith(literal[:cut]) and not text[: -cut].rstrip()[-1:].isalnum():
                    text = text + literal[cut:]
                    break
        text = re.sub(r"[-+.eE]+$", "", text) if re.search(r"\d[-+.eE]+$", text) else text
        if text.endswith(","):
            text = text[:-1]
        elif text.endswith(":"):
            text = _drop_last_string(text[:-1].rstrip())
        elif stack and stack[-1] == "{" and text.endswith('"'):
            start = _last_string_start(text)
            if start is not None and text[:start].rstrip()[-1:] in ("{", ","):
                text = text[:start]  # a key with no value
        if text == before:
            break
    stack, _ = _scan(text)
    return text + "".join("}" if b == "{" else "]" for b in reversed(stack))


def prune_extra(data: Any, schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Any:
    """``data`` without the object keys its JSON schema forbids (``additionalProperties: false``),
    at every depth the schema describes unambiguously."""
    root = schema if root is None else root
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if _resolve(o, root).get("type") != "null"]
        if len(options) == 1:
            return prune_extra(data, options[0], root)
        return data
    if isinstance(data, dict):
        props: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        out = {}
        for key, value in data.items():
            if key in props:
                out[key] = prune_extra(value, props[key], root)
            elif extra is False:
                continue
            elif isinstance(extra, Mapping):
                out[key] = prune_extra(value, extra, root)
            else:
                out[key] = value
        return out
    if isinstance(data, list) and isinstance(schema.get("items"), Mapping):
        return [prune_extra(v, schema["items"], root) for v in data]
    return data


def describe_errors(error: ValidationError, limit: int = 8) -> str:
    """A short, model-readable list of validation problems."""
    lines = []
    for item in error.errors()[:limit]:
        where = ".".join(str(p) for p in item["loc"]) or "(root)"
        lines.append(f"{where}: {item['msg']}")
    more = error.error_count() - limit
    if more > 0:
        lines.append(f"... and {more} more")
    return "; ".join(lines)


# -- helpers ---------------------------------------------------------------------------------


def _shapes(data: Any, schema: Mapping[str, Any]) -> list[Any]:
    """Candidate values for ``data``: as is, pruned, and unwrapped from common wrappers."""
    if isinstance(data, str) and data.strip()[:1] in ("{", "["):
        try:
            data = json.loads(data)  # double-encoded JSON
        except ValueError:
            pass
    candidates = [data]
    props = schema.get("properties", {})
    if isinstance(data, list) and len(data) == 1:
        candidates.append(data[0])
    if isinstance(data, dict) and len(data) == 1:
        (key, inner), = data.items()
        if key not in props and isinstance(inner, dict):
            candidates.append(inner)  # {"Answer": {...}} or {"properties": {...}}
    return [c for value in candidates for c in (value, prune_extra(value, schema))]


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        target: Any = root
        for part in str(schema["$ref"]).lstrip("#").strip("/").split("/"):
            if part:
                target = target[part]
        schema = target
    return schema


def _string_end(text: str, start: int, quote: str) -> int:
    """Index of the quote closing the string opened at ``start`` (len(text) if unclosed)."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return len(text)


def _matching_close(text: str, start: int) -> int | None:
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            i = _string_end(text, i, ch) + 1
            continue
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _scan(text: str) -> tuple[list[str], bool]:
    """Open brackets at the end of ``text``, and whether it ends inside a string."""
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            end = _string_end(text, i, '"')
            if end >= len(text):
                return stack, True
            i = end + 1
            continue
        if ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
        i += 1
    return stack, False


def _last_string_start(text: str) -> int | None:
    """Start of the string literal that ends ``text`` (which ends with a quote)."""
    i = 0
    last = None
    while i < len(text):
        if text[i] == '"':
            end = _string_end(text, i, '"')
            if end == len(text) - 1:
                last = i
            i = end + 1
            continue
        i += 1
    return last


def _drop_last_string(text: str) -> str:
    if text.endswith('"'):
        start = _last_string_start(text)
        if start is not None:
            return text[:start]
    return text
