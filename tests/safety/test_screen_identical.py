"""Tool-output screening reads every labelled text exactly as the code before the speed work
did: the same ``learned.features`` (every bucket, every value to the bit), the same rule
findings of ``injection.find``, the same ``screen_output`` verdict (findings, layer, margin to
the bit). The reference digests (``screen_reference.jsonl``) were written by that code
(``python -m tests.safety._screen_reference``); they hold every text of
``tests/data/injection_*.jsonl`` and seeded variations of them (splices, cuts, upper case,
long runs, texts longer than the learned layer's window).

A change to the lexicons or the model changes the digests on purpose: rewrite the reference
with the module above, after checking the change of verdicts it shows."""

from __future__ import annotations

import json
from functools import cache

import pytest

from tests.safety._screen_reference import REFERENCE, corpus, digest

SHARDS = 4
"""The texts are checked in this many shards (every fourth text each), so that the parallel
pass's two workers share a minute of screening instead of one worker carrying it at the end."""


@cache
def _pairs() -> list[tuple[dict[str, object], tuple[str, str]]]:
    ref = [json.loads(line) for line in REFERENCE.read_text(encoding="utf-8").splitlines()]
    texts = corpus()
    assert [r["id"] for r in ref] == [k for k, _ in texts]
    return list(zip(ref, texts, strict=True))


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_text_is_screened_exactly_as_the_reference_says(shard: int) -> None:
    pairs = _pairs()
    wrong: list[str] = []
    for row, (key, text) in pairs[shard::SHARDS]:
        got = {"id": key, **digest(text)}
        if got != row:
            diff = sorted(k for k in row if row[k] != got.get(k))
            wrong.append(f"{key}: {diff}")
    assert not wrong, f"{len(wrong)} texts read differently: {wrong[:20]}"
    assert len(pairs[shard::SHARDS]) > 1000  # each shard checks a real share of the corpus
