"""Exact search in memory (``mapek.knowledge._exact``): distances, filters, order, dropping."""

from __future__ import annotations

import numpy as np

from mapek.knowledge._exact import MemoryVectors, merge_hits
from mapek.models import Event


def event(i: int, run: str = "r") -> Event:
    return Event(run_id=run, seq=i, kind=("message", "answer")[i % 2],
                 actor=("cfo", "legal", "skeptic")[i % 3], payload={"text": f"text {i}"})


def test_exact_distances_filters_and_order_beyond_one_chunk() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(3000, 24)).astype(np.float32)
    mem = MemoryVectors()
    mem.add([(i, event(i)) for i in range(1, 1501)], vectors[:1500])
    mem.add([(i, event(i)) for i in range(1501, 3001)], vectors[1500:])  # grows the matrix
    q = rng.normal(size=24).astype(np.float32)
    units = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    dist = 1 - units @ (q / np.linalg.norm(q))
    hits = mem.search(q, 7)
    assert [h.seq for h in hits] == [int(i) + 1 for i in np.argsort(dist, kind="stable")[:7]]
    assert [round(h.distance, 5) for h in hits] == [round(float(d), 5)
                                                   for d in np.sort(dist)[:7]]
    legal = mem.search(q, 5, persona="legal", kind=["answer"])
    assert legal and all(h.persona == "legal" and h.kind == "answer" for h in legal)
    want = [i + 1 for i in np.argsort(dist, kind="stable") if (i + 1) % 6 == 1][:5]
    assert [h.seq for h in legal] == want  # seq % 3 == 1 (legal) and odd (answer)
    assert mem.search(q, 5, persona="nobody") == [] and mem.search(q, 5, run="other") == []
    mem.advance(2990)
    assert len(mem) == 10 and {h.seq for h in mem.search(q, 20)} == set(range(2991, 3001))


def test_merge_keeps_each_event_once_closest_first() -> None:
    mem = MemoryVectors()
    mem.add([(1, event(1)), (2, event(2))], [[1.0, 0.0], [0.0, 1.0]])
    a, b = mem.search([1.0, 0.1], 2), mem.search([1.0, 0.0], 1)
    assert [h.event_id for h in merge_hits(a, b, n=5)] == ["r#1", "r#2"]


def test_unchanged_since_says_whether_an_entry_matching_the_filters_came() -> None:
    mem = MemoryVectors()
    # answer by legal, message by skeptic
    mem.add([(1, event(1)), (2, event(2))], [[1.0, 0.0], [0.0, 1.0]])
    stamp = mem.stamp()
    assert mem.unchanged_since(stamp) and mem.unchanged_since(stamp, kind="answer")
    mem.add([(4, event(4))], [[1.0, 1.0]])  # message, legal
    assert not mem.unchanged_since(stamp)  # no filter: any entry counts
    assert mem.unchanged_since(stamp, kind="answer")
    assert mem.unchanged_since(stamp, kind=["answer", "nothing"])
    assert not mem.unchanged_since(stamp, kind=["answer", "message"])
    assert not mem.unchanged_since(stamp, persona="legal")
    assert mem.unchanged_since(stamp, persona="legal", kind="answer")  # misses one filter
    assert mem.unchanged_since(stamp, run="other")
    assert not mem.unchanged_since(stamp, run="r")
    stamp = mem.stamp()
    mem.add([(5, event(5))], [[0.5, 1.0]])  # answer, skeptic
    assert not mem.unchanged_since(stamp, kind="answer")
    stamp = mem.stamp()
    mem.advance(1)  # an entry dropped: nothing is as it was
    assert not mem.unchanged_since(stamp, kind="nothing")
    stamp = mem.stamp()
    mem.reset(0)
    assert not mem.unchanged_since(stamp, kind="nothing")
