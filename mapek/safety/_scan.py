"""Faster scans with the injection lexicons' big alternations, matching exactly what they match.

A lexicon pattern is an alternation of hundreds of words (``\\b(?:send|forward|...)\\w*\\b|
töröld|...``); Python's ``re`` tries every alternative at every position of the text, about a
microsecond per character. :class:`Dispatched` wraps such a pattern and runs it only where a
match can start, with only the alternatives that can start there:

* from the pattern's parse tree it computes the characters a match can begin with (under
  ``re.I``, by case-fold class: ``k`` stands for ``k``, ``K`` and the Kelvin sign) and whether a
  word boundary must precede them; a small regex of those characters finds the candidate
  positions (in C);
* at a candidate position it runs a copy of the pattern whose alternations keep only the
  alternatives that can begin with the character there, in their original order (compiled once
  per character class and kept).

An alternative dropped at a position cannot match there (its first character is another), and
the kept ones are tried in the same order, so every ``match``, ``search`` and ``finditer``
returns the same spans and groups as the wrapped pattern. Alternatives that may begin at any
word character (an e-mail address, ``\\w*sprachmodell``) are scanned on their own by the
regex engine and their positions added to the candidates. A pattern whose first characters
cannot be bounded (the vocative begins with a negated class) is :class:`Gated` instead when
every match holds a big alternation: where that finds nothing, the pattern is not run.
:func:`dispatched` wraps only where it paid on the injection lexicons (many alternatives where
a match begins, candidates rarer than word starts).

:class:`Shared` keeps a pattern's whole-text matches for the last few texts: the rules
(:func:`mapek.safety.addressee.find`) and the learned layer scan the same tool output with the
same patterns one after the other.

``tests/safety/test_scan.py`` compares every lexicon pattern with its faster scan (labelled,
random and case-fold corner texts, whole and windowed); ``tests/safety/test_screen_identical.py``
compares ``screen_output`` with digests written by the code before.
"""

from __future__ import annotations

import functools
import importlib
import re
import sys
import weakref
from collections.abc import Callable, Iterator
from typing import Any, cast

__all__ = ["Dispatched", "Gated", "Shared", "dispatched", "dispatching", "shared", "sharing"]

try:  # the parser and compiler of ``re``: stable in CPython 3.11 to 3.13, private by name
    _sre: Any = importlib.import_module("_sre")
    _casefix: Any = importlib.import_module("re._casefix")
    _compiler: Any = importlib.import_module("re._compiler")
    _parser: Any = importlib.import_module("re._parser")
    _c: Any = importlib.import_module("re._constants")

    _EXTRA: dict[int, tuple[int, ...]] = dict(_casefix._EXTRA_CASES)
    _OK = True
except (ImportError, AttributeError):  # pragma: no cover - another Python: scan as before
    _OK = False

_RANGE_MAX = 512
"""A class range wider than this makes the first characters unbounded."""


def _key(code: int) -> int:
    """The case-fold class of a character: two characters one ``re.I`` literal can both match
    have the same key (the smallest of the lower-cased character and its extra cases)."""
    lo: int = _sre.unicode_tolower(code)
    extra = _EXTRA.get(lo)
    return min(lo, *extra) if extra else lo


First = dict[int, bool]
"""The keys a match can begin with, each with whether a word boundary must come before it; a
negative key is a category (:data:`_CATEGORIES`)."""

_CATEGORIES: dict[Any, int] = {}
_MASKS: dict[int, str] = {-1: r"\w", -2: r"\d", -3: r"\s"}
if _OK:
    _CATEGORIES = {_c.CATEGORY_WORD: -1, _c.CATEGORY_DIGIT: -2, _c.CATEGORY_SPACE: -3}


def _class_keys(items: list[tuple[Any, Any]]) -> set[int] | None:
    keys: set[int] = set()
    for op, av in items:
        if op is _c.LITERAL:
            keys.add(_key(av))
        elif op is _c.RANGE and av[1] - av[0] <= _RANGE_MAX:
            keys.update(_key(x) for x in range(av[0], av[1] + 1))
        elif op is _c.CATEGORY and av in _CATEGORIES:
            keys.add(_CATEGORIES[av])
        else:  # a negation, another category, a wide range
            return None
    return keys


def _item(op: Any, av: Any, bounded: bool) -> tuple[First | None, bool]:
    """What one item of a sequence begins with (None: cannot be said) and whether it can
    match empty."""
    if op is _c.AT or op in (_c.ASSERT, _c.ASSERT_NOT):
        return {}, True  # zero-width
    if op is _c.LITERAL:
        return {_key(av): bounded}, False
    if op is _c.IN:
        keys = _class_keys(av)
        return (None if keys is None else dict.fromkeys(keys, bounded)), False
    if op is _c.SUBPATTERN:
        return _seq(av[3].data, bounded)
    if op is _c.ATOMIC_GROUP:
        return _seq(av.data, bounded)
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        f, empty = _seq(av[2].data, bounded)
        return f, empty or av[0] == 0
    if op is _c.BRANCH:
        out: First = {}
        empty = False
        for branch in av[1]:
            f, e = _seq(branch.data, bounded)
            if f is None:
                return None, True
            empty = empty or e
            for k, b in f.items():
                out[k] = out.get(k, True) and b
        return out, empty
    return None, True


def _seq(items: list[tuple[Any, Any]], bounded: bool = False) -> tuple[First | None, bool]:
    out: First = {}
    for op, av in items:
        if op is _c.AT and av is _c.AT_BOUNDARY:
            bounded = True
        f, empty = _item(op, av, bounded)
        if f is None:
            return None, True
        for k, b in f.items():
            out[k] = out.get(k, True) and b
        if not empty:
            return out, False
    return out, True


def _first(items: list[tuple[Any, Any]]) -> First | None:
    """What a match of the sequence ``items`` begins with, or None when that cannot be said
    (the sequence may match empty, or begins with a wildcard or a negated class)."""
    f, empty = _seq(items)
    return None if empty or not f else f


def _hit(first: First, key: int, mask: frozenset[int]) -> bool:
    return key in first or any(k in first for k in mask)


def _wide(first: First) -> bool:
    """A match may begin at any character of a category (a word character, a digit, a
    space) or of a wide class: such alternatives are scanned on their own, by the regex
    engine, the others at their candidate characters."""
    return sum(not b for b in first.values()) > _NARROW or any(k < 0 for k in first)


_NARROW = 12
"""An alternative that may begin with more characters than this (``[a-z]``) without a word
boundary before them is scanned on its own too."""


Items = list[tuple[Any, Any]]
_GO_ON = object()
"""What a leaf decision returns to say: the next item begins where this one would."""


def _walk(items: Items, state: Any, branch: Callable[[Any], Any | None],
          leaf: Callable[[Items, int], Any]) -> Items | None:
    """``items`` rebuilt along the way a match begins: through zero-width items and groups to
    the first alternation, whose alternatives ``branch`` rebuilds (None: left out), or to the
    first other item, which ``leaf`` decides on (the items, None, or :data:`_GO_ON`)."""
    for i, (op, av) in enumerate(items):
        if op is _c.AT or op in (_c.ASSERT, _c.ASSERT_NOT):
            continue
        if op is _c.SUBPATTERN:
            inner = _walk(av[3].data, state, branch, leaf)
            if inner is None:
                return None
            sub = _parser.SubPattern(state, inner)
            return [*items[:i], (op, (av[0], av[1], av[2], sub)), *items[i + 1:]]
        if op is _c.BRANCH:
            kept = [x for x in map(branch, av[1]) if x is not None]
            return [*items[:i], (op, (av[0], kept)), *items[i + 1:]] if kept else None
        got = leaf(items, i)
        if got is not _GO_ON:
            return cast(Items | None, got)
    return items


_FIRSTS: weakref.WeakKeyDictionary[Any, First | None] = weakref.WeakKeyDictionary()


def _first_of(sub: Any) -> First | None:
    """:func:`_first` of a parsed group, kept while the group lives (restricting a pattern for
    each character asks it of the same alternatives again)."""
    try:
        return _FIRSTS[sub]
    except KeyError:
        f = _FIRSTS[sub] = _first(sub.data)
        return f


def _restrict(items: Items, keep: Callable[[First], bool], state: Any) -> Items | None:
    """``items`` with the alternatives whose first characters ``keep`` refuses left out of the
    alternations a match begins in (order kept); None when no alternative is left."""
    def branch(b: Any) -> Any | None:
        f = _first_of(b)
        if f is None:
            return b  # cannot tell: kept as it is
        inner = _restrict(b.data, keep, state) if keep(f) else None
        return None if inner is None else _parser.SubPattern(state, inner)

    def leaf(items: Items, i: int) -> Any:
        op, av = items[i]
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT) and av[0] == 0:
            f = _first(av[2].data)
            # it cannot begin here, so it matches empty: the next item begins here
            return _GO_ON if f is not None and not keep(f) else items
        f = _first(items[i:i + 1])
        return None if f is not None and not keep(f) else items

    return _walk(items, state, branch, leaf)


def _side(items: Items, wide: bool, state: Any) -> Items | None:
    """The alternatives of ``items`` that may begin at a character of a category or a wide
    class (``wide``), or the others; an alternation inside an alternative split the same way,
    so that every way a match begins is on one side (None: nothing on this side)."""
    def branch(b: Any) -> Any | None:
        inner = _side(b.data, wide, state)
        return None if inner is None else _parser.SubPattern(state, inner)

    def leaf(items: Items, i: int) -> Items | None:
        f = _first(items[i:])
        return items if f is None or _wide(f) == wide else None

    return _walk(items, state, branch, leaf)


_CHARS: dict[str, tuple[int, frozenset[int]]] = {}
_CATEGORY_RX: dict[int, re.Pattern[str]] = {k: re.compile(v) for k, v in _MASKS.items()}


def _char(ch: str) -> tuple[int, frozenset[int]]:
    """A text character's case-fold class and the categories it belongs to."""
    got = _CHARS.get(ch)
    if got is None:
        got = (_key(ord(ch)), frozenset(k for k, rx in _CATEGORY_RX.items() if rx.match(ch)))
        if len(_CHARS) < 65_536:
            _CHARS[ch] = got
    return got


class Dispatched:
    """A compiled pattern that scans only where, and with only the alternatives that, can
    match: ``match``, ``search`` and ``finditer`` return what the wrapped pattern's do; any
    other attribute is the wrapped pattern's."""

    def __init__(self, rx: re.Pattern[str], tree: Any = None) -> None:
        """``tree``: the parsed pattern, when ``rx`` was compiled from one."""
        self.rx = rx
        self._tree: Any = None
        self._first: First | None = None
        self._subs: dict[tuple[int, frozenset[int]], re.Pattern[str] | None] = {}
        self._by_char: dict[str, re.Pattern[str] | None] = {}
        """:meth:`_sub` of the characters met, kept."""
        self._cands: re.Pattern[str] | None = None
        self._wide: re.Pattern[str] | None = None
        self._wide_at: re.Pattern[str] | None = None
        self._wide_items: Items | None = None
        self._wide_fanout = 0
        self._narrow: First | None = None
        """The first characters of the alternatives found through the candidates (None: the
        pattern is run as it is)."""
        self._compiled = False
        if _OK and (tree is not None or isinstance(rx.pattern, str)) and not rx.flags & re.ASCII:
            tree = tree if tree is not None else _parser.parse(rx.pattern, rx.flags)
            self._tree = tree
            first = _first(tree.data)
            if first:
                self._first = first
                narrow: First | None = first
                items = _side(tree.data, True, tree.state)
                if items is not None:
                    # the alternatives that may begin almost anywhere, scanned on their own by
                    # the regex engine; the others at their candidate characters
                    self._wide_items, self._wide_fanout = items, _fanout(items)
                    rest = _side(tree.data, False, tree.state)
                    narrow = {} if rest is None else _first(rest)
                self._narrow = narrow

    def _compile(self) -> None:
        """The candidates' regex and the scans of the alternatives that may begin anywhere
        (on first use: a pattern that is not worth wrapping never needs them)."""
        self._compiled = True
        if self._narrow is None:
            return
        state, flags = self._tree.state, self.rx.flags
        if self._wide_items is not None:
            self._wide = _compiler.compile(_parser.SubPattern(state, self._wide_items), flags)
            ahead = [(_c.ASSERT, (1, _parser.SubPattern(state, self._wide_items)))]
            self._wide_at = _compiler.compile(_parser.SubPattern(state, ahead), flags)
        self._cands = _candidates(self._narrow)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rx, name)

    def _sub(self, ch: str) -> re.Pattern[str] | None:
        """The pattern with only the alternatives that can begin with ``ch``."""
        got = _char(ch)
        if got in self._subs:
            if len(self._by_char) < 4096:
                self._by_char[ch] = self._subs[got]
            return self._subs[got]
        sub: re.Pattern[str] | None = None
        if self._first is not None and _hit(self._first, *got):
            key, mask = got
            items = _restrict(self._tree.data, lambda f: _hit(f, key, mask), self._tree.state)
            if items is not None:
                tree = _parser.SubPattern(self._tree.state, items)
                sub = _compiler.compile(tree, self.rx.flags)
        self._subs[got] = sub
        if len(self._by_char) < 4096:
            self._by_char[ch] = sub
        return sub

    def match(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        if self._first is None or not 0 <= pos < min(len(string), endpos):
            return self.rx.match(string, pos, endpos)
        ch = string[pos]
        sub = self._by_char[ch] if ch in self._by_char else self._sub(ch)
        return None if sub is None else sub.match(string, pos, endpos)

    def search(self, string: str, pos: int = 0,
               endpos: int = sys.maxsize) -> re.Match[str] | None:
        if not self._compiled:
            self._compile()
        if self._cands is None or pos < 0 or self._wide is not None:
            return next(self._scan(string, pos, endpos), None)
        subs, sub_of = self._by_char, self._sub
        for c in self._cands.finditer(string, pos, endpos):
            at = c.start()
            ch = string[at]
            sub = subs[ch] if ch in subs else sub_of(ch)
            if sub is not None:
                m = sub.match(string, at, endpos)
                if m is not None:
                    return m
        return None

    def finditer(self, string: str, pos: int = 0,
                 endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        if not self._compiled:
            self._compile()
        if self._cands is None or pos < 0:
            return self.rx.finditer(string, pos, endpos)
        # every candidate at once (the regex engine finds them), then one match each
        starts = [c.start() for c in self._cands.finditer(string, pos, endpos)]
        if self._wide_at is not None:
            starts = sorted({*starts, *(w.start() for w in self._wide_at.finditer(
                string, pos, endpos))})
        out: list[re.Match[str]] = []
        last = pos
        subs, sub_of = self._by_char, self._sub
        for at in starts:
            if at < last:
                continue
            ch = string[at]
            sub = subs[ch] if ch in subs else sub_of(ch)
            if sub is not None:
                m = sub.match(string, at, endpos)
                if m is not None:
                    out.append(m)
                    last = m.end()  # never empty: every alternative consumes a character
        return iter(out)

    def _scan(self, string: str, pos: int, endpos: int) -> Iterator[re.Match[str]]:
        if self._cands is None or pos < 0:
            yield from self.rx.finditer(string, pos, endpos)
            return
        never = sys.maxsize
        last = pos
        cands = self._cands.finditer(string, pos, endpos)
        c = next(cands, None)
        wide_at = -1
        while True:
            while c is not None and c.start() < last:
                c = next(cands, None)
            if self._wide is not None and wide_at < last:
                w = self._wide.search(string, last, endpos)
                wide_at = never if w is None else w.start()
            at = min(never if c is None else c.start(), wide_at if self._wide else never)
            if at == never:
                return
            ch = string[at]
            sub = self._by_char[ch] if ch in self._by_char else self._sub(ch)
            m = None if sub is None else sub.match(string, at, endpos)
            if m is not None:
                yield m
                last = m.end()  # never empty: every alternative consumes a character
            else:
                last = at + 1


def _candidates(first: First) -> re.Pattern[str]:
    """A regex matching one character wherever a match can begin."""
    def cls(keys: list[int]) -> str:
        return "[" + "".join(_MASKS[k] if k < 0 else f"\\U{k:08x}" for k in sorted(keys)) + "]"

    bounded = [k for k, b in first.items() if b]
    free = [k for k, b in first.items() if not b]
    alts = ([rf"\b{cls(bounded)}"] if bounded else []) + ([cls(free)] if free else [])
    return re.compile("|".join(alts) or "(?!)", re.I)


_SHORT = 600
"""A pattern's source shorter than this has never paid dispatching or gating on the injection
lexicons; it is not parsed."""


def dispatched(patterns: dict[str, re.Pattern[str]]) -> dict[str, re.Pattern[str]]:
    """``patterns`` with each one that it pays for wrapped in :class:`Dispatched` (typed as
    the patterns they stand for: they answer ``match``, ``search`` and ``finditer`` the
    same); the others as they are."""
    out: dict[str, Any] = {}
    for k, v in patterns.items():
        if not isinstance(v.pattern, str) or len(v.pattern) < _SHORT:
            out[k] = v  # too few alternatives to pay for parsing it (on the first screen)
            continue
        d = Dispatched(v)
        out[k] = d if _pays(d) else (_gated(v, d._tree) or v)
    return out


def _fanout(items: list[tuple[Any, Any]]) -> int:
    """How many alternatives the engine tries where a match may begin."""
    n = 0
    for op, av in items:
        if op is _c.AT or op in (_c.ASSERT, _c.ASSERT_NOT):
            continue
        if op is _c.SUBPATTERN:
            return n + _fanout(av[3].data)
        if op is _c.BRANCH:
            return n + sum(max(1, _fanout(b.data)) for b in av[1])
        return n + 1
    return n


def _pays(d: Dispatched) -> bool:
    """Whether dispatching pays (measured on the injection lexicons): many alternatives where a
    match begins, and candidates that are rarer than word starts."""
    if d._first is None or d._narrow is None:
        return False
    cands = d._narrow
    loose = sum(1 for k, b in cands.items() if not b and 0 <= k < 128 and chr(k).isalpha())
    fanout = _fanout(d._tree.data)
    return (fanout >= 30 and 3 * d._wide_fanout <= fanout and not any(k < 0 for k in cands)
            and (loose <= 8 or fanout >= 150))


def _nullable(op: Any, av: Any) -> bool:
    """Whether the item can match without consuming a character (when unsure: yes)."""
    if op in (_c.LITERAL, _c.IN, _c.ANY, _c.NOT_LITERAL, _c.CATEGORY):
        return False
    if op is _c.SUBPATTERN:
        return all(_nullable(o, a) for o, a in av[3].data)
    if op is _c.BRANCH:
        return any(all(_nullable(o, a) for o, a in b.data) for b in av[1])
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        return av[0] == 0 or all(_nullable(o, a) for o, a in av[2].data)
    return True


def _required(items: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Items every match of the sequence ``items`` holds a match of: its items that cannot
    match empty, and theirs within groups."""
    out: list[tuple[Any, Any]] = []
    for op, av in items:
        if _nullable(op, av):
            continue
        out.append((op, av))
        if op is _c.SUBPATTERN:
            out += _required(av[3].data)
    return out


class Gated:
    """A pattern that cannot be dispatched (a match may begin almost anywhere) but holds a
    big alternation every match needs (the AI names in a vocative): where that alternation
    finds nothing, neither does the pattern, and the pattern is not run."""

    def __init__(self, rx: re.Pattern[str], need: re.Pattern[str] | Dispatched) -> None:
        self.rx, self.need = rx, need
        self.match = rx.match

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rx, name)

    def search(self, string: str, pos: int = 0,
               endpos: int = sys.maxsize) -> re.Match[str] | None:
        if self.need.search(string, pos, endpos) is None:
            return None
        return self.rx.search(string, pos, endpos)

    def finditer(self, string: str, pos: int = 0,
                 endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        if self.need.search(string, pos, endpos) is None:
            return iter(())
        return self.rx.finditer(string, pos, endpos)


def _gated(rx: re.Pattern[str], tree: Any) -> Gated | None:
    """``rx`` (parsed: ``tree``) gated by the biggest alternation it requires, when that one
    pays dispatching."""
    if tree is None:
        return None
    best: tuple[int, Dispatched] | None = None
    for item in _required(tree.data):
        n = _fanout([item])
        if n >= 30 and (best is None or n > best[0]):
            sub = _parser.SubPattern(tree.state, [item])
            d = Dispatched(_compiler.compile(sub, rx.flags), sub)
            if _pays(d):
                best = (n, d)
    return None if best is None else Gated(rx, best[1])


class Shared:
    """A pattern whose whole-text scans are kept for the last few texts: the rules
    (:func:`mapek.safety.addressee.find`) and the learned layer (:mod:`mapek.safety.learned`)
    scan the same tool output with the same patterns one after the other. ``finditer`` over a
    whole text returns the kept matches; ``search`` over a whole text the first of them when
    they are kept (it does not fill the store: a search stops at its first match)."""

    _KEPT = 4

    def __init__(self, rx: re.Pattern[str] | Dispatched) -> None:
        self.rx = rx
        self.match = rx.match
        self._kept: dict[str, list[re.Match[str]]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rx, name)

    def finditer(self, string: str, pos: int = 0,
                 endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        if pos != 0 or endpos < len(string):
            return self.rx.finditer(string, pos, endpos)
        got = self._kept.get(string)
        if got is None:
            got = list(self.rx.finditer(string))
            if len(self._kept) >= self._KEPT:
                del self._kept[next(iter(self._kept))]
            self._kept[string] = got
        return iter(got)

    def search(self, string: str, pos: int = 0,
               endpos: int = sys.maxsize) -> re.Match[str] | None:
        if pos == 0 and endpos >= len(string):
            got = self._kept.get(string)
            if got is not None:
                return got[0] if got else None
        return self.rx.search(string, pos, endpos)


def shared(patterns: dict[str, re.Pattern[str]]) -> dict[str, re.Pattern[str]]:
    """``patterns`` :func:`dispatched`, each then :class:`Shared` (typed as the patterns)."""
    out: dict[str, Any] = {k: Shared(v) for k, v in dispatched(patterns).items()}
    return out


Lexicon = Callable[[], dict[str, re.Pattern[str]]]
"""A function that compiles a lexicon's patterns (``_rx()`` of a detector module)."""


def _applying(how: Callable[[dict[str, re.Pattern[str]]], dict[str, re.Pattern[str]]]
              ) -> Callable[[Lexicon], Lexicon]:
    def decorate(make: Lexicon) -> Lexicon:
        @functools.wraps(make)
        def wrapper() -> dict[str, re.Pattern[str]]:
            return how(make())
        return wrapper
    return decorate


sharing = _applying(shared)
"""Decorate a :data:`Lexicon`: its patterns :func:`shared`."""
dispatching = _applying(dispatched)
"""Decorate a :data:`Lexicon`: its patterns :func:`dispatched`."""
