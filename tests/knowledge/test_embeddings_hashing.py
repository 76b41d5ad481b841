"""The offline embedding: deterministic, unit length, lexical; chosen by MAPEK_EMBEDDING."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from mapek.errors import ConfigError
from mapek.knowledge.embeddings import (
    HashingEmbeddingFunction,
    LiteLLMEmbeddingFunction,
    features,
    make_embedding,
)

EF = HashingEmbeddingFunction()


def cos(a: str, b: str) -> float:
    va, vb = EF([a, b])
    return float(np.dot(va, vb))


def test_unit_length_fixed_dimension_deterministic() -> None:
    texts = ["The budget is overrun by ten percent.", "", "!!!", "a the of", "x" * 5000]
    vecs = EF(texts)
    assert all(v.shape == (384,) and v.dtype == np.float32 for v in vecs)
    assert all(abs(float(np.linalg.norm(v)) - 1.0) < 1e-5 for v in vecs)
    assert all(np.array_equal(a, b) for a, b in zip(vecs, EF(texts), strict=True))
    assert make_embedding("hashing:64")(["hello"])[0].shape == (64,)


def test_same_vectors_in_another_process() -> None:
    code = ("import json\nfrom mapek.knowledge.embeddings import HashingEmbeddingFunction\n"
            "print(json.dumps([float(x) for x in HashingEmbeddingFunction()(['cloud costs'])[0]]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout
    assert np.allclose(json.loads(out), EF(["cloud costs"])[0], atol=0)


def test_light_stemming_and_stopwords() -> None:
    words = {f[2:] for f in features("The costs of running databases were rising") if
             f.startswith("w:")}
    assert words == {"cost", "run", "databas", "ris"}
    assert "w:the" not in features("the") and features("") == {}


def test_lexical_similarity() -> None:
    query = "budget overrun"
    near = cos(query, "the project budget overran again")
    far = cos(query, "security audit of the database backups")
    assert near > 0.3 > far
    assert cos("migrate the database", "database migration") > 0.4  # trigrams link variants
    assert cos("cost", "expense") < 0.2  # the trade-off: synonyms do not match


def test_chroma_protocol_without_warnings(tmp_path: Path) -> None:
    import chromadb
    from chromadb.config import Settings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert not EF.is_legacy() and EF.name() == "mapek-hashing"
        clone = HashingEmbeddingFunction.build_from_config(EF.get_config())
        assert clone.dim == EF.dim
        client = chromadb.PersistentClient(str(tmp_path),
                                           Settings(anonymized_telemetry=False))
        col = client.get_or_create_collection("ttt", embedding_function=EF)
        col.upsert(ids=["1", "2"], documents=["budget overrun", "security audit"])
        assert col.query(query_texts=["budget"], n_results=1)["ids"] == [["1"]]
        again = client.get_collection("ttt")  # rebuilt from the persisted configuration
        assert again.query(query_texts=["audit"], n_results=1)["ids"] == [["2"]]
    assert [str(w.message) for w in caught] == []


def test_make_embedding_choices() -> None:
    assert isinstance(make_embedding("hashing"), HashingEmbeddingFunction)
    llm = make_embedding("litellm:ollama/nomic-embed-text")
    assert isinstance(llm, LiteLLMEmbeddingFunction) and llm.model == "ollama/nomic-embed-text"
    assert LiteLLMEmbeddingFunction.build_from_config(llm.get_config()).model == llm.model
    assert make_embedding("chroma-default").name() == "default"  # built, never called offline
    for bad in ["word2vec", "litellm:", "hashing:wide", "hashing:4", ""]:
        with pytest.raises(ConfigError):
            make_embedding(bad)
    with pytest.raises(ConfigError, match="unknown embedding 'word2vec'"):
        make_embedding("word2vec")


@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is not None,
                    reason="sentence-transformers is installed")
def test_sentence_transformers_missing_says_what_to_install() -> None:
    with pytest.raises(ConfigError, match=r"pip install mapek\[semantic\]"):
        make_embedding("sentence-transformers:all-MiniLM-L6-v2")


_OFFLINE = """
import sys
attempts = []
def audit(event, args):
    if event in {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname"}:
        attempts.append((event, repr(args)[:80]))
        raise OSError("network disabled by the test")
sys.addaudithook(audit)
from mapek.knowledge import KnowledgeBase
with KnowledgeBase.open(sys.argv[1]) as kb:
    kb.record("r", "finding", "security", {"text": "backups are not encrypted"})
    hits = kb.search("encrypted backups")
    kb.reindex()
    hits += kb.search("backups", persona="security")
print([h.event_id for h in hits], attempts)
import socket
try:  # the control: the hook does see a connection attempt
    socket.create_connection(("127.0.0.1", 9), timeout=1)
except OSError:
    print(len(attempts))
"""


def test_offline_embedding_never_touches_the_network(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPEK_")}
    done = subprocess.run([sys.executable, "-c", _OFFLINE, str(tmp_path / "ws")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["['r#1', 'r#1'] []", "1"]


def test_vectors_are_cached_read_only_and_equal_to_a_fresh_computation() -> None:
    text = "a sentence embedded twice, by the search and by the index"
    first, again = EF([text])[0], HashingEmbeddingFunction()([text])[0]
    assert first is again  # shared by every instance of one dimension
    assert not first.flags.writeable
    assert np.array_equal(first, HashingEmbeddingFunction._compute(text, 384))
    assert HashingEmbeddingFunction(64)([text])[0].shape == (64,)
    assert HashingEmbeddingFunction.fast
