"""Streaming a structured answer to a reader: one string field of the JSON, as it arrives.

A persona answers in JSON (``{"text": "...", "stance": ..., "claims": [...]}``); streaming the
raw JSON is no use to a person. :class:`JsonFieldReader` reads the JSON as it streams in, a
piece at a time split anywhere (inside a key, an escape, a ``\\uXXXX``), and gives the decoded
value of one top-level string field (``text``) so far. :class:`FieldStream` is a
:data:`~mapek.llm.types.DeltaSink` built on it: it starts over on each new attempt or re-ask and
calls back with the field's whole value so far whenever it grew.
"""

from __future__ import annotations

from collections.abc import Callable

from mapek.llm.types import Delta

__all__ = ["JsonFieldReader", "FieldStream"]

_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
           "t": "\t"}
_WS = " \t\r\n"


class JsonFieldReader:
    """The value of the top-level string field ``name`` of a JSON object streaming in.

    :meth:`feed` takes the next piece of the answer and returns what it added to the value
    (decoded: escapes resolved). Anything before the first ``{`` (prose, a code fence) is
    skipped; fields of nested objects with the same name (a question's ``text``) are not the
    field. ``value`` is the text so far, ``done`` turns True at the value's closing quote, and
    whatever follows is ignored. A field whose value is not a string gives nothing.
    """

    def __init__(self, name: str = "text") -> None:
        self.name = name
        self.value = ""
        self.done = False
        self._depth = 0
        self._in_str = False
        self._esc = False
        self._hex: str | None = None
        """Hex digits of a ``\\u`` escape read so far (None: not in one)."""
        self._high: str | None = None
        """A high surrogate waiting for its low half."""
        self._expect_key = False
        """At depth 1, the next string is a key."""
        self._role = ""
        """What the string being read is: ``key``, ``value`` (the field's) or ``""``."""
        self._key: list[str] = []
        self._last_key = ""
        self._after_colon = False
        """At depth 1, just past the ``:`` of the field: its value comes next."""

    def feed(self, piece: str) -> str:
        """Read ``piece``; the text it added to the field's value ("" for none)."""
        if self.done:
            return ""
        out: list[str] = []
        for ch in piece:
            if self.done:
                break
            if self._in_str:
                self._string_char(ch, out)
            else:
                self._structure(ch)
        added = "".join(out)
        self.value += added
        return added

    # -- outside strings ---------------------------------------------------------------------
    def _structure(self, ch: str) -> None:
        if self._depth == 0:
            if ch == "{":
                self._depth, self._expect_key = 1, True
            return
        if ch in _WS:
            return
        if ch == '"':
            self._in_str = True
            if self._depth == 1 and self._expect_key:
                self._role, self._key = "key", []
            elif self._depth == 1 and self._after_colon and self._last_key == self.name:
                self._role = "value"
            else:
                self._role = ""
            self._after_colon = False
            return
        self._after_colon = self._depth == 1 and ch == ":" and not self._expect_key
        if ch in "{[":
            self._depth += 1
        elif ch in "}]":
            self._depth -= 1
            if self._depth <= 0:  # the object ended without the field
                self.done = True
        elif ch == "," and self._depth == 1:
            self._expect_key = True

    # -- inside strings ----------------------------------------------------------------------
    def _string_char(self, ch: str, out: list[str]) -> None:
        decode = self._role in ("key", "value")
        if self._hex is not None:
            self._hex += ch
            if len(self._hex) == 4:
                code, self._hex = self._hex, None
                if decode:
                    self._emit(self._codepoint(code), out)
            return
        if self._esc:
            self._esc = False
            if ch == "u":
                self._hex = ""
            elif decode:
                self._emit(_SIMPLE.get(ch, ch), out)
            return
        if ch == "\\":
            self._esc = True
            return
        if ch == '"':
            self._end_string(out)
            return
        if decode:
            self._emit(ch, out)

    def _codepoint(self, digits: str) -> str:
        try:
            n = int(digits, 16)
        except ValueError:
            return "\ufffd"
        if 0xD800 <= n <= 0xDBFF:
            self._high = chr(n)
            return ""
        if 0xDC00 <= n <= 0xDFFF and self._high is not None:
            high, self._high = ord(self._high), None
            return chr(0x10000 + ((high - 0xD800) << 10) + (n - 0xDC00))
        return chr(n)

    def _emit(self, text: str, out: list[str]) -> None:
        if self._high is not None and text:  # a high surrogate without its low half
            self._high = None
            text = "\ufffd" + text
        if not text:
            return
        if self._role == "value":
            out.append(text)
        else:
            self._key.append(text)

    def _end_string(self, out: list[str]) -> None:
        if self._high is not None:
            self._high = None
            self._emit("\ufffd", out)
        self._in_str = False
        if self._role == "key":
            self._last_key, self._expect_key = "".join(self._key), False
        elif self._role == "value":
            self.done = True
        self._role = ""


class FieldStream:
    """A delta sink that streams one string field of a structured answer to ``on_text``.

    ``on_text`` gets the field's whole value so far each time it grows, the same value once
    more when the field is complete (its closing quote came: the rest of the answer is other
    fields), and ``""`` when the text starts over (a new attempt or re-ask after some text was
    shown), so what it shows is never the half of an answer that was given up.
    """

    def __init__(self, on_text: Callable[[str], object], field: str = "text") -> None:
        self.on_text = on_text
        self.field = field
        self.reader = JsonFieldReader(field)
        self._attempt: tuple[int, int] | None = None

    def __call__(self, delta: Delta) -> None:
        attempt = (delta.ask, delta.attempt)
        if attempt != self._attempt:
            shown = self.reader.value
            self._attempt, self.reader = attempt, JsonFieldReader(self.field)
            if shown:
                self.on_text("")
        was_done = self.reader.done
        if self.reader.feed(delta.text):
            self.on_text(self.reader.value)
        if self.reader.done and not was_done and self.reader.value:
            self.on_text(self.reader.value)  # complete
