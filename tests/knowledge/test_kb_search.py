"""KnowledgeBase over a real log and a real embedded Chroma: search with filters, reindex,
catch-up from the log, batching while Chroma is slow, and Chroma failures that lose nothing."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from mapek.config import Settings, Workspace
from mapek.errors import VectorIndexError
from mapek.knowledge import ChromaIndex, KnowledgeBase, SearchHit, VectorIndex
from mapek.models import Event, EventDraft

CORPUS = [  # run, kind, actor, text
    ("r1", "topic", "human", "Should we move the customer database to a managed cloud service?"),
    ("r1", "question", "cfo", "What will the managed database cost per month?"),
    ("r1", "answer", "engineer", "The managed database costs about four thousand dollars a month"),
    ("r1", "finding", "security", "Backups of the customer database are not encrypted"),
    ("r1", "decision", "strategist", "Delay the migration until the backups are encrypted"),
    ("r2", "topic", "human", "Should we open an office in Lisbon?"),
    ("r2", "question", "legal", "Which labour laws apply to remote staff in Portugal?"),
    ("r2", "answer", "operations", "Office rent in Lisbon is lower than in Paris"),
    ("r2", "finding", "security", "Remote staff laptops lack disk encryption"),
]


def record_corpus(kb: KnowledgeBase) -> None:
    for run, kind, actor, text in CORPUS:
        kb.record(run, kind, actor, {"text": text})
        kb.record(run, "llm.call", actor, {"text": text, "tokens": 12})  # not semantic


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    with KnowledgeBase.open(tmp_path / "ws", max_delay=0.05) as k:
        yield k


def ids(hits: Sequence[SearchHit]) -> list[str]:
    return [h.event_id for h in hits]


def test_search_finds_the_right_events(kb: KnowledgeBase) -> None:
    record_corpus(kb)
    hits = kb.search("how much does the managed database cost", n=3)
    assert ids(hits)[:2] == ["r1#3", "r1#5"] or ids(hits)[:2] == ["r1#5", "r1#3"]
    top = hits[0]
    assert top.kind in {"question", "answer"} and top.run_id == "r1"
    assert 0 <= top.distance < hits[-1].distance and top.score == pytest.approx(1 - top.distance)
    assert kb.get(top.run_id, top.seq).text == top.text  # type: ignore[union-attr]
    assert all(kb.get(h.run_id, h.seq).kind != "llm.call" for h in hits)  # type: ignore[union-attr]


def test_filters_by_run_persona_and_kind(kb: KnowledgeBase) -> None:
    record_corpus(kb)
    enc = kb.search("encryption", n=10, persona="security")
    assert sorted(ids(enc)) == ["r1#7", "r2#7"]
    assert ids(kb.search("encryption", n=10, persona="security", run="r2")) == ["r2#7"]
    assert ids(kb.search("encryption", n=10, run="r1", kind="decision")) == ["r1#9"]
    assert sorted(ids(kb.search("office", n=10, kind=["topic", "answer"], run="r2"))) == [
        "r2#1", "r2#5"]
    assert kb.search("anything", persona="nobody") == []
    assert len(kb.search("database", n=100)) == len(CORPUS)


def test_what_gets_indexed(kb: KnowledgeBase) -> None:
    texts: list[Any] = ["pricing model", "  \t\n", "", None, 42, ["a list"], "\u00a0nbsp",
                        "  spaced pricing  "]
    for t in texts:
        kb.record("r", "message", "cfo", {"text": t})
    kb.record("r", "message", "cfo", {"note": "no text"})
    kb.record("r", "llm.call", "cfo", {"text": "pricing, but not semantic"})
    kb.flush()
    with kb.projector.using_index() as index:
        assert isinstance(index, ChromaIndex)
        indexed = sorted(int(i.split("#")[1]) for i in index.entries()["ids"])
        assert indexed == [1, 7, 8]
        assert kb.log.semantic_seqs("r", upto=index.position()) == indexed  # the same rule
    assert kb.log.semantic_seqs("r", upto=0) == [] and kb.log.semantic_seqs("nope") == []
    assert sorted(ids(kb.search("pricing", n=10))) == ["r#1", "r#7", "r#8"]
    assert ids(kb.search("pricing", n=10, run="r"))[:2] == ["r#1", "r#8"]


def test_run_filter_via_the_log_matches_the_metadata_filter(kb: KnowledgeBase) -> None:
    record_corpus(kb)
    kb.record("r3", "answer", "cfo", {"text": "the database budget is fine"})
    kb.flush()  # both sides read the index alone
    for query in ("database cost", "encryption", "office in Lisbon"):
        for filters in ({"run": "r1"}, {"run": ["r1", "r3"], "persona": "cfo"},
                        {"run": "r2", "kind": ["answer", "finding"]}, {"run": "none"}):
            fast = kb.search(query, n=3, **filters)  # type: ignore[arg-type]
            with kb.projector.using_index() as index:
                slow = index.query(query, 3, **filters)  # type: ignore[arg-type]
            assert [(h.event_id, round(h.distance, 5)) for h in fast] == [
                (h.event_id, round(h.distance, 5)) for h in slow], (query, filters)


def entries(kb: KnowledgeBase) -> dict[str, tuple[Any, ...]]:
    with kb.projector.using_index() as index:
        assert isinstance(index, ChromaIndex)
        got = index.entries()
    return {i: (d, m, [round(float(x), 6) for x in e]) for i, d, m, e in
            zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"],
                strict=True)}


def test_reindex_equals_incremental_index(kb: KnowledgeBase) -> None:
    record_corpus(kb)
    kb.flush()
    incremental = entries(kb)
    assert len(incremental) == len(CORPUS)
    assert kb.reindex() == len(CORPUS)
    assert entries(kb) == incremental
    assert kb.reindex("r2") == 4 and entries(kb) == incremental
    with kb.projector.using_index() as index:
        assert index.position() == 2 * len(CORPUS)


def test_index_catches_up_with_events_from_elsewhere(kb: KnowledgeBase, tmp_path: Path) -> None:
    kb.record("r", "finding", "security", {"text": "the firewall is open"})
    assert ids(kb.search("firewall")) == ["r#1"]
    # another process (here: another log connection) writes without touching the index
    other = KnowledgeBase.open(tmp_path / "ws", index_on_record=False)
    other.record("r", "finding", "legal", {"text": "the firewall contract ended"})
    other.log.append(EventDraft(run_id="r", kind="answer", payload={"text": "firewall fixed"}))
    other.close()
    assert sorted(ids(kb.search("firewall", n=5))) == ["r#1", "r#2", "r#3"]


def test_events_queued_at_a_crash_are_indexed_later(tmp_path: Path) -> None:
    crashed = KnowledgeBase.open(tmp_path / "ws", max_delay=60)
    crashed.record("r", "decision", "cfo", {"text": "approve the budget"})
    crashed.projector.close()  # the process dies: the log write is durable, the queue is gone
    crashed.log.close()
    with KnowledgeBase.open(tmp_path / "ws") as kb:
        assert ids(kb.search("budget")) == ["r#1"]


class SlowIndex(VectorIndex):
    """Wraps the real index and makes every write slow (a remote, loaded Chroma)."""

    def __init__(self, inner: VectorIndex, delay: float):
        self.inner, self.delay, self.writes = inner, delay, 0

    def upsert(self, events: Sequence[Event], position: int | None = None) -> None:
        time.sleep(self.delay)
        self.writes += 1
        self.inner.upsert(events, position)

    def position(self) -> int:
        return self.inner.position()

    def query(self, text: str, n: int = 5, **filters: Any) -> list[SearchHit]:
        return self.inner.query(text, n, **filters)

    def delete(self, run_id: str | None = None) -> None:
        self.inner.delete(run_id)


class GatedIndex(SlowIndex):
    """Wraps the real index; every write waits until the test opens the gate (a remote Chroma
    that hangs), and says when one has started."""

    def __init__(self, inner: VectorIndex):
        super().__init__(inner, delay=0)
        self.gate, self.entered = threading.Event(), threading.Event()
        self.stuck = False

    def upsert(self, events: Sequence[Event], position: int | None = None) -> None:
        self.entered.set()
        if not self.gate.wait(60):
            self.stuck = True  # nobody opened the gate: the test's records never returned
        super().upsert(events, position)


def test_record_does_not_wait_for_a_hanging_chroma(tmp_path: Path) -> None:
    """The log write is the only write a record waits for: with the index's write held open,
    400 records all return (and are in the log) before the index has taken one of them; once
    released, the index catches up in batches."""
    ws = Workspace.open(tmp_path / "ws")
    gated = GatedIndex(ChromaIndex.open(Settings(), ws))
    with KnowledgeBase(KnowledgeBase.open(ws).log, lambda: gated, batch_size=100,
                       max_delay=0.05) as kb:
        kb.record("r", "message", "p0", {"text": "point number 0 about costs"})
        assert gated.entered.wait(30), "the projector never started a write"
        for i in range(1, 400):  # the index's first write is still held
            kb.record("r", "message", f"p{i % 4}", {"text": f"point number {i} about costs"})
        assert not gated.gate.is_set() and not gated.stuck
        assert kb.log.last_seq("r") == 400 and gated.position() == 0
        gated.gate.set()
        assert kb.flush() >= 0
        with kb.projector.using_index() as index:
            assert index.position() == 400
        assert not gated.stuck
        assert gated.writes <= 8  # batched: not one write per event
        assert len(kb.search("point number 7", n=3)) == 3


def test_chroma_failure_loses_no_log_event(kb: KnowledgeBase, caplog: pytest.LogCaptureFixture
                                           ) -> None:
    kb.record("r", "question", "cfo", {"text": "what is the runway"})
    kb.flush()
    with kb.projector.using_index() as index:
        assert isinstance(index, ChromaIndex)
        index.client.delete_collection(index.name)  # the index breaks under our feet
    for text in ("runway is nine months", "hiring freeze", "cut cloud spend"):
        kb.record("r", "answer", "cfo", {"text": text})  # the log write still succeeds
    deadline = time.monotonic() + 5
    while kb.projector.last_error is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert isinstance(kb.projector.last_error, VectorIndexError)
    assert "vector index catch-up failed" in caplog.text
    with pytest.raises(VectorIndexError, match="reindex rebuilds"):
        kb.flush()
    with pytest.raises(VectorIndexError):
        kb.search("runway")
    assert [e.seq for e in kb.events("r")] == [1, 2, 3, 4] and kb.verify().ok
    assert kb.reindex() == 4
    assert sorted(ids(kb.search("runway", n=2))) == ["r#1", "r#2"]


def test_close_flushes_and_reopen_sees_everything(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "ws", max_delay=60) as kb:
        kb.record_many([EventDraft(run_id="r", kind="finding", actor="security",
                                   payload={"text": f"finding {i}"}) for i in range(5)])
    kb.close()  # again: nothing happens
    with KnowledgeBase.open(tmp_path / "ws") as kb:
        with kb.projector.using_index() as index:
            assert isinstance(index, ChromaIndex)
            assert index.position() == 5 and index.count() == 5


def test_concurrent_record_and_search_threads(kb: KnowledgeBase) -> None:
    errors: list[BaseException] = []

    def writer(tag: str) -> None:
        try:
            for i in range(50):
                kb.record("r", "message", tag, {"text": f"{tag} says {i}"})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("ann", "bob")]
    for t in threads:
        t.start()
    for _ in range(5):
        kb.search("says", n=3)
    for t in threads:
        t.join()
    assert not errors and kb.verify().ok
    kb.flush()
    with kb.projector.using_index() as index:
        assert isinstance(index, ChromaIndex)
        personas = [m["persona"] for m in index.entries()["metadatas"]]
    assert len(personas) == 100 and personas.count("ann") == 50  # every event, exactly once
    assert {h.persona for h in kb.search("ann says", n=10, persona="ann")} == {"ann"}


_READ_ONLY = """
import sys
from mapek.knowledge import KnowledgeBase
with KnowledgeBase.open(sys.argv[1], create=False) as kb:
    kb.record("r", "llm.call", "cfo", {"tokens": 3})
    kb.events("r"), kb.verify(), kb.runs(), list(kb.follow("r", timeout=0))
print("chromadb" in sys.modules)
"""


def test_log_only_use_never_imports_chromadb(kb: KnowledgeBase, tmp_path: Path) -> None:
    kb.record("r", "message", "cfo", {"text": "hello"})
    done = subprocess.run([sys.executable, "-c", _READ_ONLY, str(tmp_path / "ws")],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "False"), done.stderr


def test_unknown_embedding_is_a_config_error(tmp_path: Path) -> None:
    from mapek.errors import ConfigError

    kb = KnowledgeBase.open(Settings(home=tmp_path / "ws", embedding="word2vec"))
    kb.record("r", "message", "cfo", {"text": "logged all the same"})
    with pytest.raises(ConfigError, match="unknown embedding 'word2vec'"):
        kb.search("anything")
    assert kb.log.last_seq("r") == 1
    with pytest.raises(ConfigError):  # closing says it too, and still closes
        kb.close()
    with KnowledgeBase.open(tmp_path / "ws", create=False) as again:
        assert again.events("r")[0].text == "logged all the same"


# -- search merges the index with the log's not-yet-indexed tail -----------------------------

def position_and_count(kb: KnowledgeBase) -> tuple[int, int]:
    with kb.projector.using_index() as index:
        assert isinstance(index, ChromaIndex)
        return index.position(), index.count()


def hits_key(hits: Sequence[SearchHit]) -> list[tuple[str, float]]:
    return [(h.event_id, round(h.distance, 5)) for h in hits]


def semantic_ids(kb: KnowledgeBase) -> list[str]:
    return sorted(e.id for e in kb.events() if e.kind != "llm.call")


FILTERS: list[dict[str, Any]] = [
    {}, {"run": "r1"}, {"persona": "security"}, {"kind": ["answer", "finding"]},
    {"run": ["r1", "r2"], "persona": ["cfo", "legal"]}, {"run": "r2", "kind": "finding"},
    {"persona": "nobody"},
]
QUERIES = ["how much does the managed database cost", "encryption", "office in Lisbon"]


def test_an_event_recorded_a_moment_ago_is_found_without_an_upsert(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "ws", max_delay=60) as kb:  # the batcher waits
        kb.record("r", "topic", "human", {"text": "capacity planning"})
        kb.flush()
        kb.record("r", "finding", "security", {"text": "the firewall is open to the world"})
        assert ids(kb.search("firewall open", n=1)) == ["r#2"]
        assert ids(kb.search("firewall open", n=1, run="r", persona="security")) == ["r#2"]
        assert position_and_count(kb) == (1, 1)  # found in memory: nothing was written
        kb.flush()
        assert position_and_count(kb) == (2, 2)
        assert ids(kb.search("firewall open", n=1)) == ["r#2"]


@pytest.mark.parametrize("indexed", [0, 4, 9])
def test_filters_apply_to_the_tail_as_to_the_index(tmp_path: Path, indexed: int) -> None:
    """Whatever part of the corpus is indexed (none, some, all), search gives the hits and
    distances of a fully indexed search."""
    with KnowledgeBase.open(tmp_path / "ws", max_delay=60) as kb:
        for i, (run, kind, actor, text) in enumerate(CORPUS, 1):
            kb.record(run, kind, actor, {"text": text})
            kb.record(run, "llm.call", actor, {"text": text, "tokens": 12})
            if i == indexed:
                kb.flush()
        merged = {(q, i): hits_key(kb.search(q, n=4, **f))
                  for q in QUERIES for i, f in enumerate(FILTERS)}
        assert position_and_count(kb) == (2 * indexed, indexed)
        kb.flush()
        for (q, i), got in merged.items():
            assert got == hits_key(kb.search(q, n=4, **FILTERS[i])), (q, FILTERS[i])


def test_no_duplicates_when_the_tail_has_meanwhile_been_indexed(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "ws", max_delay=60) as kb:
        record_corpus(kb)
        assert len(kb.search("database", n=100)) == len(CORPUS)  # all in the tail
        with kb.projector.using_index() as index:  # indexed, but the position not moved
            index.upsert([e for e in kb.events() if e.kind != "llm.call"])
            assert index.position() == 0
        for filters in FILTERS:
            hits = kb.search("database encryption office", n=100, **filters)
            assert len(ids(hits)) == len(set(ids(hits)))
        assert sorted(ids(kb.search("database", n=100))) == semantic_ids(kb)


def test_a_long_tail_is_indexed_by_the_search(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "ws", batch_size=8, index_on_record=False) as kb:
        for i in range(5):
            kb.record("r", "message", "cfo", {"text": f"point {i}"})
        assert ids(kb.search("point 3", n=1)) == ["r#4"]
        assert position_and_count(kb) == (0, 0)  # a short tail stays in memory
        for i in range(5, 20):
            kb.record("r", "message", "cfo", {"text": f"point {i}"})
        assert ids(kb.search("point 17", n=1)) == ["r#18"]
        assert position_and_count(kb) == (20, 20)  # too long: indexed first


def test_search_after_a_reindex_starts_the_tail_again(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "ws", max_delay=60) as kb:
        record_corpus(kb)
        kb.flush()
        kb.record("r1", "answer", "cfo", {"text": "the encryption project is funded"})
        assert ids(kb.search("encryption project funded", n=1)) == ["r1#11"]
        with kb.projector.using_index() as index:
            index.delete()  # emptied under the projector: the position goes back to 0
        assert sorted(ids(kb.search("database", n=100))) == semantic_ids(kb)
        assert kb.reindex() == len(CORPUS) + 1
        assert ids(kb.search("encryption project funded", n=1)) == ["r1#11"]


# -- the index position is written lazily, never ahead of the entries ------------------------

def stored_position(ws: Path) -> int:
    index = ChromaIndex.open(Settings(), Workspace.open(ws))
    try:
        return index.position()
    finally:
        index.client.close()  # without ChromaIndex.close: that would write a position


def test_position_is_written_lazily_and_on_close(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    kb = KnowledgeBase.open(ws, max_delay=60)
    with kb.projector.using_index() as index:
        assert isinstance(index, ChromaIndex)
        index.position_every = 3600.0
        kb.record("r", "topic", "human", {"text": "pricing"})
        kb.record("r", "answer", "cfo", {"text": "prices go up"})
        kb.flush()
        assert index.position() == 2  # known at once
        assert index._collection.metadata["mapek_position"] == 0  # stored later
        index.position_every = 0.0
        kb.record("r", "answer", "cfo", {"text": "prices go down"})
        kb.flush()
        assert index._collection.metadata["mapek_position"] == 3
        index.position_every = 3600.0
        kb.record("r", "answer", "cfo", {"text": "prices stay"})
        kb.flush()
        assert index._collection.metadata["mapek_position"] == 3  # lags
    kb.close()
    assert stored_position(ws) == 4  # written on close


def test_a_lagging_position_after_a_crash_only_reindexes(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    crashed = KnowledgeBase.open(ws, max_delay=60)
    with crashed.projector.using_index() as index:
        assert isinstance(index, ChromaIndex)
        index.position_every = 3600.0
    record_corpus(crashed)
    crashed.flush()
    with crashed.projector.using_index() as index:
        assert index.position() == 2 * len(CORPUS)
    crashed.projector._release = lambda **_: None  # type: ignore[method-assign]
    crashed.projector.close()  # dies: nothing stored, the lock goes with the process
    assert crashed.projector._index is not None
    crashed.projector._index.client.close()
    assert crashed._index_lock is not None
    crashed._index_lock.release()
    crashed.log.close()
    assert stored_position(ws) == 0  # lags behind the 9 entries written
    with KnowledgeBase.open(ws) as kb:
        assert kb.projector.flush() == len(CORPUS)  # indexed again: upserts, no duplicates
        assert position_and_count(kb) == (2 * len(CORPUS), len(CORPUS))
        assert sorted(ids(kb.search("database", n=100))) == semantic_ids(kb)


def test_a_failed_upsert_never_moves_the_position(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "ws", max_delay=60) as kb:
        with kb.projector.using_index() as index:
            assert isinstance(index, ChromaIndex)
            index.position_every = 0.0
            kb.record("r", "topic", "human", {"text": "pricing"})
            kb.flush()
            real = index._collection

            class Broken:
                def upsert(self, **_: Any) -> None:
                    raise RuntimeError("disk full")

                def __getattr__(self, name: str) -> Any:
                    return getattr(real, name)

            index._collection = Broken()
            kb.record("r", "answer", "cfo", {"text": "prices go up"})
            with pytest.raises(VectorIndexError, match="disk full"):
                kb.flush()
            assert index.position() == 1
            assert int(real.metadata["mapek_position"]) == 1
            assert ids(kb.search("prices go up", n=1)) == ["r#2"]  # found in the tail
            index._collection = real
        assert kb.flush() == 1
        assert position_and_count(kb) == (2, 2)


# -- a search filtered by run is answered in memory, from the log ----------------------------

def test_run_filtered_search_needs_no_index(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "ws", max_delay=60) as kb:
        record_corpus(kb)
        assert ids(kb.search("backups encrypted", n=2, run="r1")) == ["r1#7", "r1#9"]
        assert kb.projector._index is None  # never opened: no lock, no Chroma
        kb.record("r1", "answer", "legal", {"text": "the backups are encrypted now"})
        assert ids(kb.search("backups encrypted now", n=1, run=["r1", "r2"])) == ["r1#11"]
        assert kb.search("backups", run="r1", persona="nobody") == []
        assert kb.search("backups", run="nope") == []


def test_memory_is_bounded_and_a_long_run_goes_to_the_index(tmp_path: Path) -> None:
    """memory_size 16: a run is taken in while it has at most 4 events; 5 runs of 4 entries
    do not all fit, so runs come and go."""
    topics = ["database cost", "office rent", "backup encryption", "hiring plan", "cloud bill"]
    runs = [f"a{i}" for i in range(5)]
    with KnowledgeBase.open(tmp_path / "ws", max_delay=60, memory_size=16) as kb:
        for r, topic in zip(runs, topics, strict=True):
            for j in range(4):
                kb.record(r, "answer", "legal", {"text": f"{topic} answer {j}"})
        expected = {(q, r): hits_key(kb.search(q, n=3, run=r)) for q in topics for r in runs}
        assert kb.projector._index is None
        memory = kb.projector._memory
        assert memory is not None and sum(len(m) for m in memory._runs.values()) <= 16
        for q in reversed(topics):  # runs come and go within the bound: the same answers
            for r in runs:
                assert hits_key(kb.search(q, n=3, run=r)) == expected[q, r]
                assert sum(len(m) for m in memory._runs.values()) <= 16
        for i in range(5):  # too long to take in: the index searches it
            kb.record("long", "message", "cfo", {"text": f"database point {i}"})
        assert ids(kb.search("database point 4", n=1, run="long")) == ["long#5"]
        assert kb.projector._index is not None and memory.get("long") is None
        kb.record("a0", "answer", "legal", {"text": "database cost answer 4"})  # grows on
        assert ids(kb.search("database cost answer 4", n=1, run="a0")) == ["a0#5"]


def test_with_a_model_embedding_only_a_short_run_is_embedded_at_once(tmp_path: Path) -> None:
    from mapek.knowledge.embeddings import HashingEmbeddingFunction

    class ModelLike:  # a slow embedding: not ``fast``
        def __init__(self) -> None:
            self.inner, self.texts = HashingEmbeddingFunction(), 0

        def __call__(self, texts: list[str]) -> Any:
            self.texts += len(texts)
            return self.inner(texts)

    made = ModelLike()
    with KnowledgeBase.open(tmp_path / "ws", max_delay=60, embedding=lambda: made) as kb:
        kb.projector.take_in = None  # the default for a model embedding: 256 events
        texts = [f"database point {i}" for i in range(257)]
        texts[2] = "the kiwi orchard budget"  # one unmistakable event: the index is approximate
        kb.record_many([EventDraft(run_id="r", kind="message", actor="cfo",
                                   payload={"text": t}) for t in texts])
        assert ids(kb.search("kiwi orchard budget", n=1, run="r")) == ["r#3"]  # via the index
        assert kb.projector._index is not None and made.texts <= 1
        kb.record("s", "message", "cfo", {"text": "a short run"})
        assert ids(kb.search("short run", n=1, run="s")) == ["s#1"]  # in memory
        assert made.texts <= 3


def test_run_filtered_search_works_while_another_process_has_the_index(tmp_path: Path) -> None:
    import subprocess as sp

    ws = tmp_path / "ws"
    with KnowledgeBase.open(ws) as kb:
        kb.record("s", "topic", "human", {"text": "office move"})
    helper = str(Path(__file__).with_name("_kb_proc.py"))
    holder = sp.Popen([sys.executable, helper, "hold", str(ws), "3"], stdout=sp.PIPE,
                      stderr=sp.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with KnowledgeBase.open(ws, lock_timeout=0.3) as kb:
            kb.record("s", "finding", "security", {"text": "no badge readers"})
            assert ids(kb.search("badge readers", n=1, run="s")) == ["s#2"]
            with pytest.raises(VectorIndexError, match="in use by another process"):
                kb.search("badge readers")
    finally:
        holder.communicate(timeout=60)
    assert holder.returncode == 0


def test_a_run_search_is_scored_again_only_when_a_matching_event_came(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A persona's prompt asks for the run's answers with the same text every turn: while no
    answer comes, the hits kept from the last scoring are the hits, and they equal what a
    fresh knowledge base (scoring everything) finds."""
    from mapek.knowledge._exact import MemoryVectors

    scored: list[Any] = []
    search = MemoryVectors.search

    def counting(self: MemoryVectors, *args: Any, **kwargs: Any) -> list[SearchHit]:
        scored.append(kwargs)
        return search(self, *args, **kwargs)

    monkeypatch.setattr(MemoryVectors, "search", counting)
    ws = tmp_path / "ws"
    with KnowledgeBase.open(ws, max_delay=60) as kb:
        record_corpus(kb)

        def both(text: str, **filters: Any) -> list[str]:
            got = ids(kb.search(text, n=2, run="r1", **filters))
            with KnowledgeBase.open(ws, max_delay=60) as fresh:
                assert ids(fresh.search(text, n=2, run="r1", **filters)) == got
            return got

        first = both("database cost", kind="answer")
        assert len(scored) == 2  # ours, the fresh one's
        kb.record("r1", "message", "cfo", {"text": "the database cost is too high"})
        kb.record("r1", "question", "legal", {"text": "what does the database cost"})
        assert both("database cost", kind="answer") == first
        assert len(scored) == 3  # only the fresh one scored
        assert both("database cost", kind="message") == ["r1#11"]  # another search: scored
        assert len(scored) == 5
        kb.record("r1", "answer", "cfo", {"text": "the database cost is known: four thousand"})
        assert both("database cost", kind="answer")[0] == "r1#13"  # a new answer: scored
        assert len(scored) == 7
        assert both("database cost", kind="answer", persona="engineer") == ["r1#5"]
        assert len(scored) == 9
        kb.record("r1", "answer", "cfo", {"text": "database cost again"})  # not the engineer
        assert both("database cost", kind="answer", persona="engineer") == ["r1#5"]
        assert len(scored) == 10
