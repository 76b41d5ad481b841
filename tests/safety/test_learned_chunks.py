"""The learned layer scores a long text in chunks and keeps the highest: unrelated paragraphs no
longer add their weak cues up to a flag, and a flag points at the chunk that earned it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from mapek.safety import learned
from mapek.safety.content import LEARNED_KIND, screen_output

DATA = Path(__file__).resolve().parents[1] / "data"


@cache
def _texts(name: str) -> dict[str, str]:
    rows = [json.loads(x) for x in (DATA / f"{name}.jsonl").read_text().splitlines() if x.strip()]
    return {r["id"]: r["text"] for r in rows}


def text(name: str, rid: str) -> str:
    return _texts(name)[rid]


def test_a_short_text_is_one_chunk() -> None:
    assert learned.chunks("") == [(0, 0)]
    assert learned.chunks("x" * learned.CHUNK) == [(0, learned.CHUNK)]


def test_chunks_cover_a_long_text_in_order_cut_at_blank_lines_first() -> None:
    para = "A sentence about the weather in Leeds. " * 8  # ~310 characters
    t = "\n\n".join([para] * 6) + "\n" + "word " * 700
    got = learned.chunks(t)
    assert got[0][0] == 0 and got[-1][1] == len(t)
    assert all(a == b for (_, a), (b, _) in zip(got, got[1:], strict=False))
    assert all(b - a <= 2 * learned.CHUNK for a, b in got)
    assert all(t[a - 2:a] == "\n\n" for a, _ in got[1:6])  # paragraphs are not cut
    assert len(got) > 6


def test_four_benign_paragraphs_are_not_flagged_for_their_sum() -> None:
    # four benign development texts, none flagged alone; scored as one text, the model's
    # margin for the four together was over its threshold (the "cat-4" probe rows)
    parts = [text("injection_blind6", "inj6-254"), text("injection_blind3", "inj3-186"),
             text("injection_blind9", "inj9-203"), text("injection_blind9", "inj9-166")]
    assert not any(screen_output(p).flagged for p in parts)
    verdict = screen_output("\n\n".join(parts))
    assert not verdict.flagged, verdict.summary()


def test_the_model_flag_points_at_the_injected_paragraph() -> None:
    injected = text("injection_blind6", "inj6-118")
    parts = [text("injection_blind7", "inj7-432"), text("injection_blind7", "inj7-163"),
             text("injection_dev2", "inj2-064"), injected]
    page = "\n\n".join(parts)
    verdict = screen_output(page)
    assert verdict.flagged and verdict.layer == "model", verdict.summary()
    (f,) = verdict.findings
    assert f.kind == LEARNED_KIND
    at = page.index(injected)
    assert f.start <= at < f.end and f.end - f.start < len(page)
