"""The hashing embedding's arithmetic, without chromadb (see ``embeddings`` for the method).

A worker scores its own run's events in memory with it (``IndexProjector.search``); only the
vector index needs chromadb's embedding-function class, which wraps the same vectors
(``embeddings.HashingEmbeddingFunction``). The vectors are identical, cached per process.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import numpy as np

from mapek.errors import ConfigError

__all__ = ["HashingEmbedding", "compute_vector", "features", "hashed_vector", "hashing_dim"]

_TOKEN = re.compile(r"[^\W_]+")
_STOPWORD_TEXT = (
    "a an and are as at be been but by can could did do does for from had has have he her his i "
    "if in into is it its me my no nor not of on or our she should so than that the their them "
    "then there these they this those to too was we were what when where which while who whom "
    "why will with would you your"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _stem(word: str) -> str:
    """A light suffix stripper: plurals, -ing, -ed, -ly; then a final e (base/based/bases)."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, repl in (("sses", "ss"), ("ies", "y"), ("ing", ""), ("ed", ""), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) + len(repl) >= 3:
            word = word[: -len(suffix)] + repl
            if suffix in {"ing", "ed"} and len(word) > 3 and word[-1] == word[-2] not in "lsz":
                word = word[:-1]  # stopped -> stop, running -> run
            break
    else:
        if word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def features(text: str) -> dict[str, float]:
    """The weighted features of a text: stemmed words (1.0), adjacent word pairs (0.5) and the
    character trigrams of each word (0.5 per word in total)."""
    out: dict[str, float] = {}
    get = out.get
    prev = ""
    for token in _TOKEN.findall(text.lower()):
        parts = _word(token)
        if parts is None:  # a stopword
            continue
        word, name, grams, share = parts
        out[name] = get(name, 0.0) + 1.0
        if prev:
            pair = f"b:{prev} {word}"
            out[pair] = get(pair, 0.0) + 0.5
        for gram in grams:
            out[gram] = get(gram, 0.0) + share
        prev = word
    return out


@lru_cache(maxsize=1 << 16)
def _word(token: str) -> tuple[str, str, tuple[str, ...], float] | None:
    """A token's stem, its feature, its trigram features and each trigram's weight; None for a
    stopword. Cached: a discussion repeats its words (the features, in the same order and with
    the same arithmetic, are what the uncached loop gave)."""
    if token in _STOPWORDS:
        return None
    word = _stem(token)
    padded = f"<{word}>"
    grams = tuple("c:" + padded[j : j + 3] for j in range(len(padded) - 2))
    return word, "w:" + word, grams, 0.5 / len(grams)


@lru_cache(maxsize=1 << 18)
def _slot(feature: str, dim: int) -> tuple[int, float]:
    digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    return (digest >> 1) % dim, (1.0 if digest & 1 else -1.0)


def compute_vector(text: str, dim: int) -> np.ndarray:
    """The unit-length, read-only float32 vector of ``text`` in ``dim`` dimensions."""
    feats = features(text) or {"empty": 1.0}
    slots = [_slot(f, dim) for f in feats]
    weights = [sign * w for (_, sign), w in zip(slots, feats.values(), strict=True)]
    vec = np.bincount([i for i, _ in slots], weights=weights, minlength=dim)
    norm = float(np.linalg.norm(vec))
    if norm == 0.0:  # every feature cancelled out: fall back to the first one's slot
        vec[slots[0][0]] = 1.0
        norm = 1.0
    out = (vec / norm).astype(np.float32)
    out.flags.writeable = False  # shared through the cache
    return out


@lru_cache(maxsize=8192)
def hashed_vector(text: str, dim: int) -> np.ndarray:
    """:func:`compute_vector`, cached (the last 8,192 texts of this process)."""
    return compute_vector(text, dim)


def hashing_dim(setting: str) -> int:
    """The dimension a ``hashing`` or ``hashing:<dim>`` setting names (at least 16)."""
    _, _, arg = setting.strip().partition(":")
    try:
        dim = int(arg) if arg else 384
    except ValueError as exc:
        raise ConfigError(f"MAPEK_EMBEDDING={setting!r}: the dimension must be a number") \
            from exc
    if dim < 16:
        raise ConfigError(f"hashing embedding needs at least 16 dimensions, not {dim}")
    return dim


class HashingEmbedding:
    """The hashing embedding as a plain callable (texts in, vectors out), for in-memory
    scoring: the same vectors as ``HashingEmbeddingFunction``, without importing chromadb."""

    fast = True
    """Embeds in microseconds, in this process."""

    def __init__(self, dim: int = 384) -> None:
        if dim < 16:
            raise ConfigError(f"hashing embedding needs at least 16 dimensions, not {dim}")
        self.dim = dim

    def __call__(self, input: list[str]) -> list[np.ndarray]:
        return [hashed_vector(text, self.dim) for text in input]
