"""Exact cosine search over a few events held in memory, with the index's embedding and filters.

The projector keeps here the log's *tail*: the semantic events past the index position, which the
background thread has not indexed yet. A search scores them against the query and merges them
with the index's hits, so it sees every event logged so far without writing to the index first.

Distances are what Chroma's cosine space gives: ``1 - cos``, on vectors normalised here.
numpy is imported with this module, which only the projector's search imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mapek.knowledge.vectors import Filter, SearchHit
from mapek.models import Event

__all__ = ["MemoryVectors", "merge_hits"]


def _unit(vectors: Sequence[Any]) -> np.ndarray:
    m = np.asarray(vectors, dtype=np.float32)
    if m.ndim == 1:
        m = m[None, :]
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0.0, 1.0, norms)


def _accepts(f: Filter) -> Any:
    """A test for one filter: None (anything), one value, or any of several values."""
    if f is None:
        return None
    if isinstance(f, str):
        return f.__eq__
    return frozenset(f).__contains__


class MemoryVectors:
    """Events with their unit vectors, in log order, searched exactly.

    ``base`` is the log position the entries start after (the index position when they were
    taken) and ``cursor`` the position the log has been read up to.
    """

    def __init__(self, base: int = 0) -> None:
        self.base = self.cursor = base
        self._positions: list[int] = []
        self._rows: list[tuple[str, str, int, str, str, str]] = []
        """(event_id, run_id, seq, persona, kind, text) per entry."""
        self._vectors: list[np.ndarray] = []
        self._matrix: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def reset(self, base: int) -> None:
        """Forget every entry; start again after log position ``base``."""
        self.__init__(base)  # type: ignore[misc]

    def advance(self, position: int) -> None:
        """The index now holds everything up to ``position``: drop those entries."""
        if position <= self.base:
            return
        keep = 0
        while keep < len(self._positions) and self._positions[keep] <= position:
            keep += 1
        if keep:
            del self._positions[:keep], self._rows[:keep], self._vectors[:keep]
            self._matrix = None
        self.base = position
        self.cursor = max(self.cursor, position)

    def add(self, rows: Sequence[tuple[int, Event]], vectors: Sequence[Any]) -> None:
        """Append events (with their log positions) and their vectors, in log order."""
        if not rows:
            return
        units = _unit(vectors)
        for (position, ev), vec in zip(rows, units, strict=True):
            self._positions.append(position)
            self._rows.append((ev.id, ev.run_id, ev.seq, ev.actor, ev.kind, ev.text))
            self._vectors.append(vec)
        self._matrix = None

    def search(self, query: Any, n: int, *, run: Filter = None, persona: Filter = None,
               kind: Filter = None) -> list[SearchHit]:
        """The ``n`` entries closest to the ``query`` vector that match every filter."""
        if not self._rows or n <= 0:
            return []
        tests = [(i, t) for i, t in ((1, _accepts(run)), (3, _accepts(persona)),
                                     (4, _accepts(kind))) if t is not None]
        rows = [j for j, row in enumerate(self._rows) if all(t(row[i]) for i, t in tests)]
        if not rows:
            return []
        if self._matrix is None:
            self._matrix = np.stack(self._vectors)
        q = _unit(query)[0]
        dist = 1.0 - (self._matrix[rows] if len(rows) < len(self._rows) else self._matrix) @ q
        best = np.argsort(dist, kind="stable")[:n]
        out = []
        for b in best:
            event_id, run_id, seq, who, k, text = self._rows[rows[b]]
            out.append(SearchHit(event_id=event_id, run_id=run_id, seq=seq, persona=who, kind=k,
                                 text=text, distance=max(0.0, float(dist[b]))))
        return out


def merge_hits(*lists: Sequence[SearchHit], n: int) -> list[SearchHit]:
    """The ``n`` closest of several hit lists, each event once (the first list's copy kept)."""
    seen: dict[str, SearchHit] = {}
    for hits in lists:
        for h in hits:
            seen.setdefault(h.event_id, h)
    return sorted(seen.values(), key=lambda h: h.distance)[:n]
