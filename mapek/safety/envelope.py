"""Tool outputs that carry a document inside JSON: the envelope and its bodies, read apart.

An HTTP fetch, a mail API or a search tool often returns its text as one long JSON string
(``{"status": 200, "headers": {...}, "body": "<the page>"}``). Read as it arrives, the body's
newlines are ``\\n`` escapes and its quotation marks ``\\"``: its lines run together, a
quotation no longer reads as one, and every field is structure. The injection screen then
judges the wrapper instead of the text: on the development sets the same benign texts, wrapped
in such an envelope, were flagged nearly three times as often (``benchmarks/probe_envelopes.py``,
``RESULTS.injection.md``).

:func:`split` finds the *bodies* of a JSON document, the string values long enough to be a
document of their own (at least :data:`MIN_BODY` characters, or at least :data:`MIN_LINES`
lines); each is screened as text on its own, decoded, under a first line naming its key
(``body:``), and the rest of the document (the *stub*, each body replaced by ``""``) is screened
as it is. A record with short fields (a tool definition, a CRM row, a tool call written as JSON)
has no body and is screened whole, as before: there the fields' context is the evidence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = ["Body", "Envelope", "split", "MIN_BODY", "MIN_LINES"]

MIN_BODY = 300
"""A string value of at least this many characters is a body."""
MIN_LINES = 3
"""A string value of at least this many lines is a body, however short."""
MIN_QUOTING = 80
"""A string value of at least this many characters is a body when it holds a quotation mark or
a line break: escaped (``\\"``, ``\\n``), they pair the wrong quotation marks and join lines."""
_MAX = 1_000_000
"""Texts longer than this are screened as they are (the detectors window them)."""

_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_KEY_BEFORE = re.compile(r'"((?:[^"\\\n]|\\.){1,80})"\s*:\s*$')


@dataclass(frozen=True)
class Body:
    start: int
    """Where the string literal (its opening quotation mark) starts in the raw text."""
    end: int
    """Where it ends (after its closing quotation mark)."""
    key: str
    """The key it is the value of ("" in a list)."""
    text: str
    """The decoded value, under a first line naming its key (``body:``) when it has one."""


@dataclass(frozen=True)
class Envelope:
    stub: str
    """The raw text with each body replaced by ``""``."""
    bodies: tuple[Body, ...]

    def stub_offset(self, i: int) -> int:
        """The raw text's offset of the stub's offset ``i``."""
        shift = 0
        for b in self.bodies:
            at = b.start - shift  # where the body's "" stands in the stub
            if i <= at:
                break
            if i < at + 2:
                return b.start
            shift += (b.end - b.start) - 2
        return i + shift


def _key(text: str, start: int) -> str:
    m = _KEY_BEFORE.search(text, max(0, start - 200), start)
    if m is None:
        return ""
    try:
        key = json.loads(f'"{m.group(1)}"')
    except ValueError:
        return ""
    return key if isinstance(key, str) else ""


def split(text: str) -> Envelope | None:
    """The envelope of ``text`` when it is a JSON object or array holding at least one body;
    None for anything else (prose, JSON with short fields only, invalid JSON)."""
    head = text.lstrip()[:1]
    if head not in ("{", "[") or len(text) > _MAX:
        return None
    try:
        json.loads(text)
    except (ValueError, RecursionError):  # not JSON; nested too deep to read
        return None
    bodies: list[Body] = []
    for m in _STRING.finditer(text):
        raw = m.group()
        if "\\" not in raw and len(raw) < MIN_BODY:
            continue  # (a quick look: too short to be a body, and no escaped newline)
        after = text[m.end():m.end() + 40].lstrip()
        if after.startswith(":"):
            continue  # a key
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(value, str):
            continue
        if len(value) < MIN_BODY and value.count("\n") + 1 < MIN_LINES and not (
                len(value) >= MIN_QUOTING and ('"' in value or "\n" in value)):
            continue
        key = _key(text, m.start())
        bodies.append(Body(m.start(), m.end(), key, f"{key}:\n{value}" if key else value))
    if not bodies:
        return None
    parts: list[str] = []
    last = 0
    for b in bodies:
        parts += [text[last:b.start], '""']
        last = b.end
    parts.append(text[last:])
    return Envelope("".join(parts), tuple(bodies))
