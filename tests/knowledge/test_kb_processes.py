"""An embedded Chroma index shared by several processes, one at a time: a front end and a worker
both record and search; a process that cannot get the index says so and loses nothing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from mapek.errors import VectorIndexError
from mapek.knowledge import ChromaIndex, KnowledgeBase
from mapek.knowledge._filelock import FileLock

HELPER = str(Path(__file__).with_name("_kb_proc.py"))


def spawn(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, HELPER, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_front_end_and_worker_share_the_embedded_index(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    with KnowledgeBase.open(ws, hold=0.2, max_delay=0.02) as front:
        front.record("s", "topic", "human", {"text": "topic capacity planning for the launch"})
        front.flush()
        worker = spawn("worker", ws, 30)
        for i in range(5):  # the human answers while the worker runs
            time.sleep(0.15)
            front.record("s", "answer", "human", {"text": f"human answer {i} about budget"})
        out, err = worker.communicate(timeout=120)
        assert (worker.returncode, out.strip()) == (0, "ok 30"), err
        hits = front.search("human answer 3 about budget", n=1, persona="human", kind="answer")
        assert [h.text for h in hits] == ["human answer 3 about budget"]
        with front.projector.using_index() as index:
            assert isinstance(index, ChromaIndex) and index.count() == 36
            assert index.position() == 36
    with KnowledgeBase.open(ws) as fresh:  # and from a fresh process' point of view
        assert len(fresh.search("worker point 7 on capacity", n=40, run="s")) == 36


def test_busy_index_is_reported_and_nothing_is_lost(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    with KnowledgeBase.open(ws) as kb:
        kb.record("s", "topic", "human", {"text": "office move"})
    with KnowledgeBase.open(ws, lock_timeout=0.3, max_delay=0.02) as kb:
        holder = spawn("hold", ws, 3)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        kb.record("s", "finding", "security", {"text": "the new office has no badge readers"})
        with pytest.raises(VectorIndexError, match=rf"in use by another process \(pid "
                                                   rf"{holder.pid}\)"):
            kb.search("badge readers")
        start = time.monotonic()
        closing = KnowledgeBase.open(ws, lock_timeout=30)
        closing.record("s", "answer", "human", {"text": "badges ordered"})
        closing.close()  # does not wait for the busy index: the holder catches up from the log
        assert time.monotonic() - start < 5
        holder.communicate(timeout=60)
        assert holder.returncode == 0
        hits = kb.search("badge readers", n=5)
        assert [h.event_id for h in hits][:1] == ["s#2"]
        assert [h.event_id for h in kb.search("badges ordered", n=1)] == ["s#3"]


def test_idle_index_is_closed_and_released(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "ws", hold=0.2, max_delay=0.02) as kb:
        kb.record("s", "topic", "human", {"text": "pricing"})
        assert kb.search("pricing")
        other = FileLock(tmp_path / "ws" / "chroma.lock")
        assert not other.acquire(0)  # held while in use
        time.sleep(0.8)
        assert other.acquire(0)  # released once idle
        other.release()
        assert kb.search("pricing")  # and reopened on demand
