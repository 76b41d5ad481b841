"""A session's worker leaves the vector index behind the log (``KnowledgeBase.close(flush=
False)``): no Chroma start and upsert at the session's end. Every search still finds what the
session said, from the log's not-yet-indexed tail, and the next catch-up indexes it."""

from __future__ import annotations

from pathlib import Path

from mapek.api import Session
from mapek.knowledge import KnowledgeBase
from mapek.loop.worker import run_session
from mapek.testing.discussion import discussion_model

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"


def test_the_session_leaves_the_index_behind_and_searches_cover_it(home: Path) -> None:
    s = Session.create(TOPIC, ["cfo", "engineer", "skeptic", "legal"], human="queue",
                       max_turns=6)
    run_id = s.run_id
    s.close()
    run_session(run_id, model=discussion_model())
    with KnowledgeBase.open(home, create=False) as kb:
        said = [e for e in kb.events(run_id, kinds=["message"])]
        assert len(said) == 6
        # not indexed yet, searched all the same: an unfiltered search scores the tail
        hits = kb.search(said[-1].text, n=3)
        assert hits and hits[0].seq == said[-1].seq and hits[0].run_id == run_id
        assert kb.flush() >= len(said)  # the catch-up indexes what the session left
        assert kb.flush() == 0
        hits = kb.search(said[-1].text, n=3)
        assert hits and hits[0].seq == said[-1].seq
