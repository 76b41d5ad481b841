"""What reading a user's file can go wrong with, said in one line: bytes that are not UTF-8,
and JSON or YAML nested deeper than a parser's recursion goes (Python's ``json`` and PyYAML's
pure-Python loader raise ``RecursionError`` there; libyaml stops at 1000 levels by itself).

The readers of each input (persona files, policies, envelopes, plans, JSONL) keep their own
messages; these helpers give them the words for these cases.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["NESTED", "not_utf8", "read_utf8"]

NESTED = "nested too deeply to read"
"""The problem of a JSON or YAML document whose nesting overflows the parser."""


def not_utf8(exc: UnicodeDecodeError) -> str:
    """``not UTF-8 text (byte 0xa4 at offset 12)``."""
    bad = exc.object[exc.start:exc.start + 1]
    byte = f"byte 0x{bad[0]:02x} " if bad else ""
    return f"not UTF-8 text ({byte}at offset {exc.start})"


def read_utf8(path: Path) -> str:
    """The file's text; :class:`ValueError` saying why it is not (missing, a folder, not
    readable, not UTF-8), in words fit for one line."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ValueError("no such file") from None
    except IsADirectoryError:
        raise ValueError("is a folder, not a file") from None
    except OSError as exc:
        raise ValueError(f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(not_utf8(exc)) from None
