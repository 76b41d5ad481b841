"""Text made safe to show a person: secrets masked, control characters made visible.

Everything mapek shows (the terminal, ``synthesis.md``, the post-mortem and batch reports, the
terminal app) passes through :func:`for_display`: a topic, a persona's turn or a tool's output
may hold terminal escape sequences (ESC, BEL, CSI...) that would recolour, retitle or rewrite
the person's terminal, and secrets (API keys, passwords) that must not be shown or written
where others read them. Control characters become visible stand-ins (the Unicode control
pictures, ``␛`` for ESC; ``\\x9b`` for a C1 code; ``\\u202e`` for a bidirectional override),
one for one where a caller needs the length kept (:func:`visible_controls`); secrets become
``[REDACTED kind]`` (:func:`mapek.safety.content.mask_secrets`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["for_display", "one_line", "visible_controls", "display_payload"]

_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))


def _table(keep_newlines: bool, same_length: bool) -> dict[int, str]:
    table: dict[int, str] = {c: chr(0x2400 + c) for c in range(0x20)}
    table[0x7F] = "\u2421"
    for c in range(0x80, 0xA0):
        table[c] = "\ufffd" if same_length else f"\\x{c:02x}"
    for c in _BIDI:
        table[c] = "\ufffd" if same_length else f"\\u{c:04x}"
    if keep_newlines:
        del table[0x0A], table[0x09]
    return table


_MULTI = _table(keep_newlines=True, same_length=False)
_SINGLE = _table(keep_newlines=False, same_length=False)
_SAME = _table(keep_newlines=True, same_length=True)


def visible_controls(text: str, *, keep_newlines: bool = True, same_length: bool = False) -> str:
    """``text`` with every control character (C0 but newline and tab, DEL, C1, bidirectional
    overrides) replaced by a visible stand-in; ``same_length``: one character for one."""
    if same_length:
        return text.translate(_SAME)
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return text.translate(_MULTI if keep_newlines else _SINGLE)


def for_display(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` as a person may be shown it: secrets masked, control characters visible."""
    from mapek.safety.content import mask_secrets

    return visible_controls(mask_secrets(str(text)), keep_newlines=keep_newlines)


def one_line(text: str) -> str:
    """:func:`for_display` on one line (a title, a header): whitespace runs become a space."""
    return " ".join(for_display(text).split())


def display_payload(value: Any) -> Any:
    """Every string in ``value`` (dicts, lists, tuples, nested) through :func:`for_display`;
    dict keys too. Other values are returned as they are."""
    if isinstance(value, str):
        return for_display(value)
    if isinstance(value, Mapping):
        return {display_payload(k): display_payload(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [display_payload(v) for v in value]
    return value
