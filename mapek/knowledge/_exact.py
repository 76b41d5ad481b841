"""Exact cosine search over a few events held in memory, with the index's embedding and filters.

The projector keeps here the log's *tail*: the semantic events past the index position, which the
background thread has not indexed yet. A search scores them against the query and merges them
with the index's hits, so it sees every event logged so far without writing to the index first.

Distances are what Chroma's cosine space gives: ``1 - cos``, on vectors normalised here.
numpy is imported with this module, which only the projector's search imports.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from mapek.knowledge.vectors import Filter, SearchHit
from mapek.models import Event

__all__ = ["MemoryVectors", "RunMemory", "merge_hits"]


def _unit(vectors: Sequence[Any]) -> np.ndarray:
    m = np.asarray(vectors, dtype=np.float32)
    if m.ndim == 1:
        m = m[None, :]
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0.0, 1.0, norms)


_CHUNK = 1024
"""Rows per matrix-vector product. Above about this many rows OpenBLAS splits a product over
threads, which on a small, busy machine costs milliseconds of hand-over (8 ms for 2,000 rows on
2 shared cores, against 0.15 ms in chunks)."""


def _distances(matrix: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Cosine distance of each (unit) row of ``matrix`` to the unit vector ``q``."""
    size = len(matrix)
    if size <= _CHUNK:
        dist: np.ndarray = 1.0 - matrix @ q  # numpy's stubs type ``@`` on ndarray as Any
        return dist
    out = np.empty(size, dtype=np.float32)
    for lo in range(0, size, _CHUNK):
        hi = min(size, lo + _CHUNK)
        np.dot(matrix[lo:hi], q, out=out[lo:hi])
    return 1.0 - out


def _values(f: Filter) -> list[str]:
    return [] if f is None else [f] if isinstance(f, str) else list(f)


_GENERATIONS = itertools.count(1)


class MemoryVectors:
    """Events with their unit vectors, in log order, searched exactly.

    ``base`` is the cursor the entries start after (for the tail: the index position when they
    were taken) and ``cursor`` the cursor the log has been read up to. Cursors are log
    positions, or ``seq`` numbers for the events of one run.
    """

    def __init__(self, base: int = 0) -> None:
        self.base = self.cursor = base
        self._cursors: list[int] = []
        self._rows: list[tuple[str, str, int, str, str, str]] = []
        """(event_id, run_id, seq, persona, kind, text) per entry."""
        self._matrix: np.ndarray | None = None
        """One unit vector per row, in the first ``len(self)`` rows (grown by doubling)."""
        self._codes: tuple[dict[str, int], ...] = ({}, {}, {})
        """A number for each run, persona and kind seen, for filtering with numpy."""
        self._columns = np.empty((0, 3), dtype=np.int32)
        """The run, persona and kind numbers of each row (grown with ``_matrix``)."""
        self._generation = next(_GENERATIONS)
        """Changes when entries are dropped (:meth:`advance`, :meth:`reset`)."""
        self._added = 0
        """Entries added in this generation."""
        self._last: tuple[dict[int, int], ...] = ({}, {}, {})
        """Per run, persona and kind number: ``_added`` just after its latest entry."""

    def __len__(self) -> int:
        return len(self._rows)

    def reset(self, base: int) -> None:
        """Forget every entry; start again after cursor ``base``."""
        self.__init__(base)  # type: ignore[misc]

    def advance(self, cursor: int) -> None:
        """Everything up to ``cursor`` is now elsewhere (in the index): drop those entries."""
        if cursor <= self.base:
            return
        drop = 0
        while drop < len(self._cursors) and self._cursors[drop] <= cursor:
            drop += 1
        if drop:
            self._generation = next(_GENERATIONS)
            del self._cursors[:drop], self._rows[:drop]
            assert self._matrix is not None
            self._matrix = self._matrix[drop:].copy()
            self._columns = self._columns[drop:].copy()
        self.base = cursor
        self.cursor = max(self.cursor, cursor)

    def add(self, rows: Sequence[tuple[int, Event]], vectors: Sequence[Any]) -> None:
        """Append events (with their cursors) and their vectors, in log order."""
        if not rows:
            return
        units = _unit(vectors)
        if len(units) != len(rows):
            raise ValueError(f"{len(rows)} events but {len(units)} vectors")
        n, k = len(self._rows), len(rows)
        if self._matrix is None:
            self._matrix = np.empty((max(16, k), units.shape[1]), dtype=np.float32)
            self._columns = np.empty((len(self._matrix), 3), dtype=np.int32)
        elif n + k > len(self._matrix):
            size = max(2 * len(self._matrix), n + k)
            grown = np.empty((size, self._matrix.shape[1]), dtype=np.float32)
            grown[:n] = self._matrix[:n]
            columns = np.empty((size, 3), dtype=np.int32)
            columns[:n] = self._columns[:n]
            self._matrix, self._columns = grown, columns
        self._matrix[n:n + k] = units
        runs, personas, kinds = self._codes
        for i, (cursor, ev) in enumerate(rows, n):
            self._cursors.append(cursor)
            self._rows.append((ev.id, ev.run_id, ev.seq, ev.actor, ev.kind, ev.text))
            codes = (runs.setdefault(ev.run_id, len(runs)),
                     personas.setdefault(ev.actor, len(personas)),
                     kinds.setdefault(ev.kind, len(kinds)))
            self._columns[i] = codes
            self._added += 1
            for last, code in zip(self._last, codes, strict=True):
                last[code] = self._added

    def stamp(self) -> tuple[int, int]:
        """Where the entries stand now, for :meth:`unchanged_since`."""
        return self._generation, self._added

    def unchanged_since(self, stamp: tuple[int, int], *, run: Filter = None,
                        persona: Filter = None, kind: Filter = None) -> bool:
        """Whether a search with these filters would score the same entries as it did at
        ``stamp``: none dropped since, and none added that matches every filter (an entry added
        since that misses one filter cannot be a hit)."""
        generation, added = stamp
        if generation != self._generation:
            return False
        if added == self._added:
            return True
        for col, f in enumerate((run, persona, kind)):
            if f is None:
                continue
            last, codes = self._last[col], self._codes[col]
            if all(last.get(codes.get(v, -1), 0) <= added for v in _values(f)):
                return True
        return False

    def search(self, query: Any, n: int, *, run: Filter = None, persona: Filter = None,
               kind: Filter = None) -> list[SearchHit]:
        """The ``n`` entries closest to the ``query`` vector that match every filter."""
        if not self._rows or n <= 0:
            return []
        assert self._matrix is not None
        size = len(self._rows)
        mask: np.ndarray | None = None
        for col, f in enumerate((run, persona, kind)):
            if f is None:
                continue
            wanted = [c for v in _values(f) if (c := self._codes[col].get(v)) is not None]
            if not wanted:
                return []
            column = self._columns[:size, col]
            hit = column == wanted[0] if len(wanted) == 1 else np.isin(column, wanted)
            mask = hit if mask is None else mask & hit
        q = _unit(query)[0]
        rows: list[int] | None = None
        if mask is not None:
            rows = np.flatnonzero(mask).tolist()
            if not rows:
                return []
            dist = _distances(self._matrix[rows], q)
        else:
            dist = _distances(self._matrix[:size], q)
        if n < len(dist):
            best = np.argpartition(dist, n - 1)[:n]
            best = best[np.lexsort((best, dist[best]))]  # closest first, then log order
        else:
            best = np.argsort(dist, kind="stable")
        out = []
        for b in best.tolist():
            event_id, run_id, seq, who, k, text = self._rows[b if rows is None else rows[b]]
            out.append(SearchHit(event_id=event_id, run_id=run_id, seq=seq, persona=who, kind=k,
                                 text=text, distance=max(0.0, float(dist[b]))))
        return out


class RunMemory:
    """The embedded events of the runs searched lately (one :class:`MemoryVectors` per run, by
    ``seq``), the least recently searched runs dropped beyond ``capacity`` entries in all."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._runs: OrderedDict[str, MemoryVectors] = OrderedDict()

    def get(self, run_id: str) -> MemoryVectors | None:
        mem = self._runs.get(run_id)
        if mem is not None:
            self._runs.move_to_end(run_id)
        return mem

    def put(self, run_id: str, mem: MemoryVectors) -> None:
        self._runs[run_id] = mem
        self._runs.move_to_end(run_id)

    def trim(self) -> None:
        total = sum(len(m) for m in self._runs.values())
        while total > self.capacity and self._runs:
            _, mem = self._runs.popitem(last=False)
            total -= len(mem)

    def clear(self) -> None:
        self._runs.clear()


def merge_hits(*lists: Sequence[SearchHit], n: int) -> list[SearchHit]:
    """The ``n`` closest of several hit lists, each event once (the first list's copy kept)."""
    seen: dict[str, SearchHit] = {}
    for hits in lists:
        for h in hits:
            seen.setdefault(h.event_id, h)
    return sorted(seen.values(), key=lambda h: h.distance)[:n]
