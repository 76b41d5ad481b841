"""Text the way a model reads it: disguises undone before injection detection.

A model reading a tool's output sees through fullwidth letters, look-alike Cyrillic and Greek
letters, zero-width characters, HTML comments, link titles, percent-encoded URLs and base64,
hex or rot13 that the text asks it to decode. A detector matching the raw characters does not.
:func:`views` returns the text as a set of :class:`View` objects to scan: the text itself with
NFKC applied, zero-width characters dropped and confusable letters folded to Latin (one view for
English patterns, one keeping the original script for other languages), the string values of
structured data joined (for instructions split across fields), and every encoded segment that
decodes to readable text. Each view maps its offsets back to the original text, so findings
point at what was actually written.

Work is linear in the text; pure-ASCII text (the common case) is never copied for NFKC or
folding, and decoding is capped per segment and in total.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import codecs
import html
import quopri
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import unquote

__all__ = ["View", "views", "fold", "ZERO_WIDTH"]

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u2061\u2062\u2063\u2064\u200e\u200f" \
             "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u034f"
"""Characters that render as nothing: dropped before matching (a ZWJ inside an emoji or a
Persian word is dropped too, which changes nothing a pattern looks for)."""

_DROP: dict[int, int | None] = dict.fromkeys(map(ord, ZERO_WIDTH))

_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x",
    "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y",
    "ӏ": "l", "ɡ": "g", "к": "k", "м": "m", "н": "h", "т": "t", "п": "n", "г": "r", "ь": "b",
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "Х": "X", "У": "Y", "Ѕ": "S", "І": "I", "Ј": "J", "Ԛ": "Q", "Ԝ": "W",
    "Һ": "H", "Ү": "Y", "Ӏ": "I", "Ԁ": "D",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H",
    "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Latin look-alikes outside ASCII that NFKC keeps
    "ı": "i", "ȷ": "j", "ℓ": "l", "ꞵ": "b", "ɑ": "a", "ɩ": "i", "օ": "o",
    # small capitals
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h", "ɪ": "i",
    "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s",
    "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
    "‐": "-", "‑": "-", "‒": "-", "−": "-", "＂": '"', "‘": "'", "’": "'", "ʼ": "'", "′": "'",
}
"""Letters that look like Latin ones (Unicode's confusables, the common subset): folded to
the Latin letter in the English view. A word in real Russian or Greek becomes gibberish there
and matches nothing; the script view keeps it as written for the other-language patterns."""

_FOLD = str.maketrans(_CONFUSABLES)
_BRAILLE = "a1b'k2l@cif/msp\"e3h9o6r^djg>ntq,*5<-u8v.%[$+x!&;:4\\0z7(_?w]#y)="
"""Braille cells U+2801 to U+283F in North American Braille ASCII order (a cell's letter)."""
_LETTERS: dict[int, str] = {
    **{0x1F1E6 + i: chr(65 + i) for i in range(26)},  # regional indicators (flags' letters)
    **{0x1F170 + i: chr(65 + i) for i in range(26)},  # negative squared letters
    **{0x1F130 + i: chr(65 + i) for i in range(26)},  # squared letters
    **{0x1F150 + i: chr(65 + i) for i in range(26)},  # negative circled letters
    **{0x249C + i: chr(97 + i) for i in range(26)},  # parenthesized small letters
    **{0x2801 + i: c for i, c in enumerate(_BRAILLE) if c.isalpha()},
    0x2800: " ", 0x2802: ",", 0x2832: ".", 0x2816: "!", 0x2826: "?",
}
"""Symbols that a model reads as the letter they hold (a flag's regional indicators, boxed and
parenthesized letters, Braille): mapped to the letter before NFKC in the English view."""
_TAGS = {c: c - 0xE0000 for c in range(0xE0020, 0xE007F)}
"""Unicode tag characters (invisible, one per ASCII character: "ASCII smuggling") read as the
ASCII they encode."""
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_CAP_SEGMENT = 100_000
_CAP_DECODED = 1_000_000


def fold(text: str) -> str:
    """NFKC, zero-width characters dropped and look-alike letters folded (no offsets kept)."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text.translate(_DROP).translate(_TAGS)).translate(_FOLD)


@dataclass
class View:
    """One way of reading the text, with a map from its offsets to the original's."""

    text: str
    kind: str
    """``plain`` (the text, normalised and folded), ``script`` (normalised, original script),
    ``fields`` (string values of structured data joined), or ``decoded:<how>``."""
    origin: tuple[int, int]
    """The span of the original text this view reads (the whole text, or one segment)."""
    _segs: list[tuple[int, int, int, bool]] = field(default_factory=list, repr=False)
    """(view start, original start, original end, identity) for each piece of the view."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original text's span for ``text[start:end]``."""
        if not self._segs:
            return self.origin
        return self._at(start, False), self._at(max(start, end - 1), True)

    def _at(self, i: int, end: bool) -> int:
        k = bisect.bisect_right(self._segs, (i, 1 << 62)) - 1
        vs, os_, oe, ident = self._segs[max(k, 0)]
        if ident:
            return os_ + (i - vs) + (1 if end else 0)
        return oe if end else os_


def _normalised(text: str, do_fold: bool) -> View:
    """NFKC and zero-width removal (and folding), keeping an offset map."""
    if text.isascii():
        return View(text, "plain" if do_fold else "script", (0, len(text)),
                    [(0, 0, len(text), True)])
    out: list[str] = []
    segs: list[tuple[int, int, int, bool]] = []
    n = pos = 0
    for m in _NON_ASCII.finditer(text):
        a, b = m.span()
        if a > pos:
            out.append(text[pos:a])
            segs.append((n, pos, a, True))
            n += a - pos
        run = text[a:b]
        if do_fold:
            run = run.translate(_LETTERS)
        new = unicodedata.normalize("NFKC", run.translate(_DROP).translate(_TAGS))
        if do_fold:
            new = new.translate(_FOLD)
        if new == run:
            segs.append((n, a, b, True))
        elif new:
            segs.append((n, a, b, False))
        out.append(new)
        n += len(new)
        pos = b
    if pos < len(text):
        out.append(text[pos:])
        segs.append((n, pos, len(text), True))
    return View("".join(out), "plain" if do_fold else "script", (0, len(text)), segs)


_JSON_KEY = re.compile(r'"[\w .@$-]{1,40}"\s*:\s*')
_LINE_KEY = re.compile(r"(?m)^[ \t]*(?:[A-Za-z][\w-]{0,30}(?:;[^:\n]{0,40})?:(?!//)|"
                       r"\[[^\]\n]{1,25}\]|\d{1,2}:\d{2}(?::\d{2})?)[ \t]*")
_SEPARATORS = re.compile(r'""|[;|\t]+|","|",|,"|\\n|\\"')
_STRUCTURED = re.compile(r'(?m)"\s*:\s*"|^[A-Z][A-Z-]{1,20}[:;]|^[^\s,"]+,[^\n]*,')
"""JSON, iCal/vCard fields, CSV rows (a first field without spaces and two more)."""


def _fields(plain: str) -> str | None:
    """String values of JSON, CSV, vCard/iCal/YAML and tables joined into one line each, so
    an instruction split across fields reads as one sentence; None for plain prose."""
    if len(plain) > 200_000 or not _STRUCTURED.search(plain):
        return None
    t = _JSON_KEY.sub(" ", plain)
    t = _LINE_KEY.sub("", t)
    t = _SEPARATORS.sub(" ", t)
    t = t.replace('"', " ").replace("{", " ").replace("}", " ").replace("[", " ")
    t = t.replace("]", " ")
    t = re.sub(r"[ \t]*\n[ \t]*", " ", t)
    return re.sub(r"[ \t]{2,}", " ", t)


_B64 = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/=_-])")
_HEX_ESC = re.compile(r"(?:\\x[0-9a-fA-F]{2}){6,}")
_HEX_RUN = re.compile(r"(?<![0-9a-fA-F])(?:[0-9a-fA-F]{2}){10,}(?![0-9a-fA-F])")
_HEX_SPACED = re.compile(r"(?<![0-9a-fA-F])(?:(?:0x)?[0-9a-fA-F]{2}[ ,:]){8,}(?:0x)?[0-9a-fA-F]{2}"
                         r"(?![0-9a-fA-F])")
_SEGMENT = re.compile(r"[^\n:\u2192()\[\]]+")
_IDENT = re.compile(r"\b[A-Za-z]+(?:_[A-Za-z0-9]+){3,}\b|\b[A-Za-z]+(?:-[A-Za-z0-9]+){4,}\b")
_PCT = re.compile(r"\S*%[0-9A-Fa-f]{2}\S*")
_QP = re.compile(r"(?:=[0-9A-F]{2}|=\r?\n|[!-<>-~ \t]){0,76}(?:=[0-9A-F]{2}){4}"
                 r"(?:=[0-9A-F]{2}|=\r?\n|[!-<>-~ \t])*")
"""A quoted-printable run: at least four escaped bytes in a row somewhere in it."""
_OCTAL = re.compile(r"(?:\\[0-3][0-7]{2}){6,}")
_UESC = re.compile(r"(?:\\u[0-9a-fA-F]{4}){4,}")
"""JSON's \\u escapes written for every letter ("\\u0041\\u0073..."), not for one character."""
_BINARY = re.compile(r"(?<![01])(?:[01]{8}[ ,]?){4,}(?![01])")
"""Letters written as eight-bit binary groups."""
_SPACED = re.compile(r"(?<![^\s(\[\"'])(?:[^\s.][ .]{1,3}){6,}[^\s.]")
"""Letters written one at a time with a space or dot between ("a d d   t h e", "b.o.t")."""
_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u20d0-\u20ff]")
"""Combining marks that decorate Latin letters (underline, strike-through, accents)."""
_ROT47_SEG = re.compile(r"[^\n]+?(?=:\s|\n|$)|(?<=:\s)[^\n]+")
"""A line, or the part of it after a label, to read under rot47."""
_SYMBOLS = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~0123456789")
_ENTITY = re.compile(r"&(?:#\d{2,6}|#x[0-9a-fA-F]{2,6}|[a-z]{2,8});")
_WORDS = re.compile(r"[A-Za-z']+")
_COMMON = frozenset(
    "the a an to of and in is it for on with this that you your all be as at by from are "
    "or not any user their them then now do if each every before after so our its no me my "
    "we us they he she his her send tell call run say".split())
"""Very common English words: a decoded or rot13'd line that is full of them is text."""


def _readable(s: str) -> bool:
    """Decoded bytes that read as words (not a hash, an image or a key)."""
    if len(s) < 8 or s.count(" ") < 2:
        return False
    printable = sum(c.isprintable() or c in "\n\t" for c in s)
    letters = sum(c.isalpha() for c in s)
    return printable >= 0.95 * len(s) and letters >= 0.6 * len(s.replace(" ", ""))


def _english(s: str) -> float:
    words = _WORDS.findall(s.lower())
    return sum(w in _COMMON for w in words) / len(words) if words else 0.0


def _decode_bytes(raw: bytes) -> str | None:
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return s if _readable(s) else None


_DECODE_CUES = ("decod", "base64", "b64", "hex", "encod", "rot13", "rot-13", "cipher", "\\x",
                "%2", "%3", "%4", "%5", "%6", "%7", "&#")


def _decoded(text: str) -> list[tuple[str, str, int, int]]:
    """(how, decoded text, start, end) for every encoded segment that decodes to words; in a
    long text, only segments near a word that asks for decoding (a model does not decode a
    blob nobody asked it to)."""
    if len(text) <= _CAP_SEGMENT:
        return _decoded_in(text, 0)
    lower = text.lower()
    spans: list[tuple[int, int]] = []
    for cue in _DECODE_CUES:
        pos = lower.find(cue)
        while pos != -1 and len(spans) < 10_000:
            a, b = max(0, pos - 2000), min(len(text), pos + 2000)
            if spans and a <= spans[-1][1] and spans[-1][0] <= a:
                spans[-1] = (spans[-1][0], max(spans[-1][1], b))
            else:
                spans.append((a, b))
            pos = lower.find(cue, pos + 2000)
    out: list[tuple[str, str, int, int]] = []
    for a, b in sorted(spans):
        out += [(how, s, a + x, a + y) for how, s, x, y in _decoded_in(text[a:b], a)]
    return out


def _decoded_in(text: str, _base: int) -> list[tuple[str, str, int, int]]:
    out: list[tuple[str, str, int, int]] = []
    budget = _CAP_DECODED

    def add(how: str, s: str | None, a: int, b: int) -> None:
        nonlocal budget
        if s and budget > 0:
            out.append((how, s[:budget], a, b))
            budget -= len(s)

    for m in _B64.finditer(text):
        seg = m.group()
        if len(seg) > _CAP_SEGMENT or seg.isalpha() and seg.islower() or seg.isdigit():
            continue
        pad = seg.rstrip("=")
        try:
            raw = base64.b64decode(pad + "=" * (-len(pad) % 4), altchars=b"-_"
                                   if ("-" in pad or "_" in pad) else None, validate=True)
        except (binascii.Error, ValueError):
            continue
        inner = raw.decode("ascii", "replace").strip()
        if len(inner) >= 16 and not _readable(inner):  # encoded twice: base64 of hex or base64
            if re.fullmatch(r"(?:[0-9a-fA-F]{2})+", inner):
                raw = binascii.unhexlify(inner)
            elif re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", inner):
                try:
                    raw = base64.b64decode(inner + "=" * (-len(inner) % 4), validate=True)
                except (binascii.Error, ValueError):
                    pass
        add("base64", _decode_bytes(raw), *m.span())
    for rx in (_HEX_ESC, _HEX_RUN, _HEX_SPACED):
        for m in rx.finditer(text):
            seg = m.group()
            if len(seg) > _CAP_SEGMENT:
                continue
            digits = re.sub(r"\\x|0x|[ ,:]", "", seg)
            try:
                raw = binascii.unhexlify(digits)
            except (binascii.Error, ValueError):
                continue
            add("hex", _decode_bytes(raw), *m.span())
    if text.count("=") >= 8:
        for m in _QP.finditer(text):
            if len(m.group()) <= _CAP_SEGMENT:
                raw = quopri.decodestring(m.group().encode("ascii", "replace"))
                add("quoted-printable", _decode_bytes(raw), *m.span())
    if "\\" in text:
        for m in _OCTAL.finditer(text):
            if len(m.group()) <= _CAP_SEGMENT:
                raw = bytes(int(o, 8) & 0xFF for o in re.findall(r"[0-7]{3}", m.group()))
                add("octal", _decode_bytes(raw), *m.span())
    if "\\u" in text:
        for m in _UESC.finditer(text):
            if len(m.group()) <= _CAP_SEGMENT:
                add("unicode-escape", _readable_or_none(
                    "".join(chr(int(h, 16)) for h in re.findall(r"[0-9a-fA-F]{4}", m.group()))),
                    *m.span())
    if "0000" in text or "01" in text and "1 0" in text:
        for m in _BINARY.finditer(text):
            if len(m.group()) <= _CAP_SEGMENT:
                raw = bytes(int(g, 2) for g in re.findall(r"[01]{8}", m.group()))
                add("binary", _decode_bytes(raw), *m.span())
    for m in _SPACED.finditer(text):
        seg = m.group()
        if len(seg) > _CAP_SEGMENT:
            continue
        if "." in seg and " " not in seg.replace(". ", "."):
            joined = re.sub(r"(?<=\S)\.(?=\S| )", "", seg)
        else:
            joined = " ".join(w.replace(" ", "").replace(".", "")
                              for w in re.split(r"[ .]{2,}", seg))
        if len([w for w in _WORDS.findall(joined) if len(w) > 1]) >= 3:
            add("spaced", joined, *m.span())
    marks = len(_MARKS.findall(text[:_CAP_SEGMENT])) if not text.isascii() else 0
    if marks >= 8 and marks >= 0.3 * sum(c.isascii() and c.isalpha() for c in text[:_CAP_SEGMENT]):
        add("marks", _MARKS.sub("", text[:_CAP_SEGMENT]), 0, min(len(text), _CAP_SEGMENT))
    if "%" in text:
        for m in _PCT.finditer(text):
            seg = m.group()
            if len(seg) <= _CAP_SEGMENT:
                s = unquote(seg.replace("+", " "))
                if s != seg:
                    add("url", re.sub(r"[?&=#]", "\n", s), *m.span())
    if "&" in text and _ENTITY.search(text):
        s = html.unescape(text[:_CAP_SEGMENT])
        if s != text[:_CAP_SEGMENT]:
            add("html", s, 0, min(len(text), _CAP_SEGMENT))
    near_rot = len(text) <= 65_536 or "rot" in text.lower()
    if near_rot and len(text) <= 1_000_000:
        for m in _SEGMENT.finditer(text):
            seg = m.group()
            if len(seg) >= 12 and seg.count(" ") >= 2 and _english(seg) < 0.12:
                r = codecs.encode(seg, "rot13")
                if _english(r) >= 0.25:
                    add("rot13", r, *m.span())
                elif seg.count(" ") >= 3 and len(out) < 50:
                    how, r2 = _unscrambled(seg)
                    if how:
                        add(how, r2, *m.span())
    if len(text) <= 65_536:
        named47 = re.search(r"rot[ -]?47", text, re.I) is not None
        for m in _ROT47_SEG.finditer(text):
            seg = m.group().lstrip(": ").strip()
            sym = sum(c in _SYMBOLS for c in seg)
            if len(seg) >= 12 and sym >= 0.2 * len(seg) and _english(seg) < 0.12:
                r = "".join(chr(33 + (ord(c) + 14) % 94) if "!" <= c <= "~" else c for c in seg)
                if _english(r) >= 0.25 or named47 and _readable(r):
                    add("rot47", r, *m.span())
    return out


def _readable_or_none(s: str) -> str | None:
    return s if _readable(s) else None


_LEET = str.maketrans("0134578@$", "oieastbas")
_LEET_WORD = re.compile(r"\b(?=\w*[a-zA-Z])(?=\w*[013457])\w{3,}\b")


def _plain_english(s: str, ratio: float) -> bool:
    """At least five words of two letters or more, three of them and ``ratio`` of all very
    common English words."""
    words = [w for w in _WORDS.findall(s.lower()) if len(w) > 1]
    hits = sum(w in _COMMON for w in words)
    return len(words) >= 5 and hits >= 3 and hits >= ratio * len(words)


def _some_english(s: str) -> bool:
    """Looser than :func:`_plain_english`, for a transform a writer had to choose on purpose
    (upside-down letters, Atbash, a keyboard shift): five words, two of them very common."""
    words = [w for w in _WORDS.findall(s.lower()) if len(w) > 1]
    hits = sum(w in _COMMON for w in words)
    return len(words) >= 5 and hits >= 2 and hits >= 0.25 * len(words)


_TURNED = str.maketrans("ɐqɔpǝɟƃɥᴉɾʞlɯuodbɹsʇnʌʍxʎz'¡¿˙", "abcdefghijklmnopqrstuvwxyz,!?.")
"""Upside-down text read the right way up (after the line is reversed)."""
_TURNED_MARKS = frozenset("ɐɔǝɟƃɥᴉɾʞɯɹʇʌʍʎ")
_ATBASH = str.maketrans("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                        "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA")
_ROWS = ("qwertyuiop", "asdfghjkl;", "zxcvbnm,./")
_KEY_LEFT = str.maketrans("".join(r[1:] for r in _ROWS), "".join(r[:-1] for r in _ROWS))
_KEY_RIGHT = str.maketrans("".join(r[:-1] for r in _ROWS), "".join(r[1:] for r in _ROWS))
"""Each letter typed one key to the right (or left) on a QWERTY keyboard, undone."""


def _unscrambled(seg: str) -> tuple[str, str]:
    """A line that is not English but becomes English written backwards, with leetspeak
    digits read as letters, or shifted by a Caesar shift other than 13: ``(how, text)``, or
    ``("", "")``. Stricter than rot13 (five words at least, three of them common ones), and
    strictest for the 24 shifts."""
    if len(seg) > 2000:
        return "", ""
    r = seg[::-1]
    if _plain_english(r, 0.3):
        return "reversed", r
    if sum(c in _TURNED_MARKS for c in seg) >= 3:
        r = r.translate(_TURNED)
        if _some_english(r):
            return "upside-down", r
    for how, table in (("atbash", _ATBASH), ("keyboard-shift", _KEY_LEFT),
                       ("keyboard-shift", _KEY_RIGHT)):
        if not seg.isascii():
            break
        r = seg.lower().translate(table)
        if _some_english(r):
            return how, r
    if len(_LEET_WORD.findall(seg)) >= 2:
        r = seg.translate(_LEET)
        if _plain_english(r, 0.3):
            return "leet", r
    if sum("a" <= c <= "z" for c in seg.lower()) < 20:
        return "", ""
    if seg.isascii():  # the same answer as the loop below, from one pass over the words
        k = _caesar_shift(seg)
        return ("caesar", seg.translate(_CAESAR[k])) if k else ("", "")
    for k in range(1, 26):
        if k == 13:
            continue
        r = seg.translate(_CAESAR[k])
        if _plain_english(r, 0.4):
            return "caesar", r
    return "", ""


def _shape(word: str) -> tuple[int, ...]:
    """A word of letters up to a Caesar shift: each letter's distance from the first."""
    first = ord(word[0])
    return tuple((ord(c) - first) % 26 for c in word)


_COMMON_SHAPES: dict[tuple[int, ...], list[int]] = {}
"""The very common words by :func:`_shape`: the first letters (0 to 25) of those that have it."""
for _w in sorted(_COMMON):
    _COMMON_SHAPES.setdefault(_shape(_w), []).append(ord(_w[0]) - 97)


def _caesar_shift(seg: str) -> int:
    """The first shift k (1 to 25 but 13) under which the ASCII ``seg`` reads as plain English
    (``_plain_english(seg.translate(_CAESAR[k]), 0.4)``), or 0: the words of a shifted text
    are the shifted words, so each word votes for the shifts that make it a common word."""
    words = [w for w in _WORDS.findall(seg.lower()) if len(w) > 1]
    if len(words) < 5:
        return 0
    hits = [0] * 26
    for w in words:
        if "'" not in w:
            for c in _COMMON_SHAPES.get(_shape(w), ()):
                hits[(c - ord(w[0]) + 97) % 26] += 1
    need = max(3.0, 0.4 * len(words))
    return next((k for k in range(1, 26) if k != 13 and hits[k] >= need), 0)


_CODE_LINE = re.compile(
    r"^\s*(?:def |class |import |from \S+ import|return\b|elif |else\s*[:{]|try\s*[:{]|except\b|"
    r"catch\s*\(|const |let |var |function\b|public |private |protected |static |func |"
    r"package |#include|fn |impl |struct |export |async |await |@[\w.]+(?:\(.*\))?\s*$|raise |"
    r"with .*:\s*$|"
    r"if .*[:{)]\s*$|for .*[:{)]\s*$|while .*[:{)]\s*$)|[;{}]\s*$|\)\s*:\s*$|=>|->|\bself\.|"
    r"\bthis\.|^\s*[\w.\[\]]+\s*=\s*[\w.]+\(", re.M)
_PROSE_IN_CODE = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|/\*[\s\S]*?\*/|<!--[\s\S]*?-->|(?<![:\w])//[^\n]*|'
    r'(?<![\w$])#(?!include|!|\[)[^\n]*|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`[^`]*`')


_CAESAR = [str.maketrans({**{chr(97 + i): chr((i + k) % 26 + 97) for i in range(26)},
                          **{chr(65 + i): chr((i + k) % 26 + 65) for i in range(26)}})
           for k in range(26)]
"""A Caesar shift by k, as a translation table (the same as shifting letter by letter)."""
_BLANK = re.compile(r"[^\n]")
_TEX = re.compile(r"^\s*@[a-z]+\s*\{\s*[\w:.-]+\s*,|\\(?:begin|end|section|subsection|"
                  r"documentclass|usepackage|title|author|cite|textbf|emph)\b", re.M | re.I)
"""A BibTeX entry's head ("@article{key,") or a LaTeX command: text, not source code."""


def _table(lines: list[str]) -> bool:
    """Most lines hold the same number (two or more) of ``;``: a semicolon-separated table
    (rows with an empty last cell end in ``;`` as statements do), not code."""
    common, n = Counter(ln.count(";") for ln in lines).most_common(1)[0]
    return common >= 2 and n >= 0.8 * len(lines)


def _code_prose(text: str) -> str | None:
    """For source code, the text with everything but comments and prose strings blanked (the
    same length, newlines kept): instructions in code hide in comments and strings, and code
    itself is full of verbs and labels ("model: str") that read like orders."""
    sample = text[:20_000]
    lines = [ln for ln in sample.splitlines() if ln.strip()]
    if len(lines) < 4 or len(_CODE_LINE.findall(sample)) < 0.4 * len(lines):
        return None
    if _table(lines):
        return None  # "sku;name;stock;notes": rows of a table whose lines end in ";"
    if _TEX.search(sample):
        return None  # BibTeX or LaTeX: its prose is in braces and % comments, read it all
    out: list[str] = []
    pos = 0
    for m in _PROSE_IN_CODE.finditer(text):
        seg = m.group()
        if seg[0] in "\"'`" and seg.count(" ") < 2:
            continue
        out += [_BLANK.sub(" ", text[pos:m.start()]), seg]
        pos = m.end()
    out.append(_BLANK.sub(" ", text[pos:]))
    return "".join(out)


_VIEWS: dict[str, list[View]] = {}
_VIEWS_KEPT = 8
"""The views of the last few texts, kept: the rules and the learned layer read the same tool
output's views one after the other."""


def views(text: str) -> list[View]:
    """The text as a model would read it, every disguise undone, each a :class:`View` (a new
    list; the views of a text read a moment ago are reused: treat them as read-only)."""
    got = _VIEWS.get(text)
    if got is None:
        got = _views(text)
        if len(_VIEWS) >= _VIEWS_KEPT:
            del _VIEWS[next(iter(_VIEWS))]
        _VIEWS[text] = got
    return list(got)


def _views(text: str) -> list[View]:
    text = _code_prose(text) or text
    plain = _normalised(text, True)
    out = [plain]
    if not text.isascii():
        script = _normalised(text, False)
        if script.text != plain.text:
            out.append(script)
    flat = _fields(plain.text)
    if flat is not None:
        out.append(View(flat, "fields", (0, len(text))))
    for m in _IDENT.finditer(plain.text):
        oa, ob = plain.span(*m.span())
        out.append(View(m.group().replace("_", " ").replace("-", " "), "fields", (oa, ob)))
    for how, s, a, b in _decoded(plain.text):
        oa, ob = plain.span(a, b)
        out.append(View(fold(s), f"decoded:{how}", (oa, ob)))
    return out
