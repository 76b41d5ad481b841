"""A SQLite log answers reads of a run it appends to from the run's rows kept in memory
(``sqlite_log._Tail``), checked against the file with ``PRAGMA data_version``: the same answers
as reading the file, what another connection or process appended included."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from mapek.knowledge.sqlite_log import SQLiteEventLog
from mapek.models import EventDraft

KINDS = ["message", "plan", "llm.call", "tool.call", "answer"]


def _draft(run: str, i: int, *, key: bool = True) -> EventDraft:
    kind = KINDS[i % len(KINDS)]
    return EventDraft(run_id=run, kind=kind, actor=f"a{i % 3}",
                      payload={"text": f"event {i}", "n": i, "nested": {"l": [i, i + 1]}},
                      key=f"k:{i}" if key and i % 2 == 0 else None)


def _same(tailed: SQLiteEventLog, fresh: SQLiteEventLog, run: str) -> None:
    """Every read of ``run`` through ``tailed`` equals the one through ``fresh`` (a log that
    holds no tail: a new instance that never appended)."""
    assert fresh._tails == {}  # noqa: SLF001 - the file is read
    last = fresh.last_seq(run)
    assert tailed.last_seq(run) == last
    for after in sorted({0, 1, 2, last // 2, last - 1, last, last + 3}):
        for kinds in (None, ["message"], ["plan", "answer"], ["nothing"]):
            for limit in (1, 2, 7, 500):
                got = tailed.scan(after, run_id=run, kinds=kinds, limit=limit)
                want = fresh.scan(after, run_id=run, kinds=kinds, limit=limit)
                assert [(c, e.model_dump()) for c, e in got[0]] == \
                       [(c, e.model_dump()) for c, e in want[0]], (after, kinds, limit)
                assert got[1] == want[1], (after, kinds, limit)
    for i in range(0, last + 4, 2):
        a, b = tailed.find(run, f"k:{i}"), fresh.find(run, f"k:{i}")
        assert (a.model_dump() if a else None) == (b.model_dump() if b else None)


def test_reads_from_the_tail_equal_reads_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with SQLiteEventLog(path) as log:
        for i in range(1, 30):
            log.append(_draft("r1", i))
        log.append_many([_draft("r1", i) for i in range(30, 40)])
        assert "r1" in log._tails  # noqa: SLF001 - this log appended to r1
        with SQLiteEventLog(path) as fresh:
            _same(log, fresh, "r1")
        # a read hands out its own objects: changing one changes no later read
        ev = log.find("r1", "k:2")
        assert ev is not None
        ev.payload["nested"]["l"].append(99)
        again = log.find("r1", "k:2")
        assert again is not None and again.payload["nested"]["l"] == [2, 3]


def test_what_another_writer_appends_is_read(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with SQLiteEventLog(path) as mine, SQLiteEventLog(path) as other:
        for i in range(1, 6):
            mine.append(_draft("run", i))
        assert mine.last_seq("run") == 5
        # another connection (a human's answer, the breaker, an approval) appends to the run
        theirs = other.append(EventDraft(run_id="run", kind="answer", actor="human",
                                         payload={"text": "yes"}, key="human:1"))
        assert theirs.seq == 6
        assert mine.last_seq("run") == 6
        assert mine.find("run", "human:1") == theirs
        rows, cursor = mine.scan(5, run_id="run")
        assert [e.seq for _, e in rows] == [6] and cursor == 6
        # it appends between two of mine: my next append follows it, the reads see all
        other.append(_draft("run", 100))
        ev = mine.append(_draft("run", 7))
        assert ev.seq == 8 and ev.prev_hash == other.find("run", "k:100").hash  # type: ignore[union-attr]
        other.append_many([_draft("run", 101), _draft("other-run", 1)])
        mine.append(_draft("run", 9))
        with SQLiteEventLog(path) as fresh:
            _same(mine, fresh, "run")
            _same(other, fresh, "run")
        assert mine.verify("run").ok


def test_a_failed_append_leaves_the_reads_right(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with SQLiteEventLog(path) as log:
        for i in range(1, 5):
            log.append(_draft("run", i))
        with pytest.raises(ValueError):  # a parent that is not earlier: rolled back
            log.append_many([_draft("run", 5), EventDraft(run_id="run", kind="message",
                                                          actor="x", payload={}, parent=99)])
        assert log.last_seq("run") == 4
        log.append(_draft("run", 6))
        with SQLiteEventLog(path) as fresh:
            _same(log, fresh, "run")


def test_random_appends_from_two_writers_read_alike(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    rng = random.Random(7)
    with SQLiteEventLog(path) as a, SQLiteEventLog(path) as b:
        for i in range(1, 120):
            writer = a if rng.random() < 0.7 else b
            run = "r1" if rng.random() < 0.8 else "r2"
            if rng.random() < 0.2:
                writer.append_many([_draft(run, i), _draft(run, 1000 + i)])
            else:
                writer.append(_draft(run, i))
            if i % 20 == 0:
                with SQLiteEventLog(path) as fresh:
                    for run_id in ("r1", "r2"):
                        _same(a, fresh, run_id)
                        _same(b, fresh, run_id)


def test_an_interrupted_append_is_not_read_into_the_tail(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with SQLiteEventLog(path) as log:
        for i in range(1, 4):
            log.append(_draft("run", i))
        with SQLiteEventLog(path) as other:  # the tail must look at the file again
            other.append(_draft("run", 50))
        # what Ctrl-C between BEGIN and COMMIT leaves: rows inserted, never committed
        conn = log._conn  # noqa: SLF001
        conn.execute("BEGIN IMMEDIATE")
        SQLiteEventLog._append_locked(conn, [_draft("run", 99)], {})  # noqa: SLF001
        assert log.last_seq("run") == 4  # rolled back, not read
        assert log.find("run", "k:99") is None
        with SQLiteEventLog(path) as fresh:
            _same(log, fresh, "run")


def _statements(log: SQLiteEventLog) -> list[str]:
    """The SQL statements ``log``'s connection runs from now on (a list that grows)."""
    seen: list[str] = []
    log._conn.set_trace_callback(seen.append)  # noqa: SLF001
    return seen


def test_an_append_to_a_held_run_takes_its_head_and_keys_from_the_tail(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with SQLiteEventLog(path) as log:
        for i in range(1, 6):
            log.append(_draft("run", i))
        seen = _statements(log)
        ev = log.append(_draft("run", 6))  # keyed
        again = log.append(_draft("run", 6))  # the same key: recorded already
        log.append_many([_draft("run", 7), _draft("run", 8), _draft("run", 8)],
                        anchor_each=True)
        assert again == ev
        assert not [s for s in seen if s.lstrip().upper().startswith("SELECT")], seen
        assert sum(s == "PRAGMA data_version" for s in seen) == 3  # one per transaction
        with SQLiteEventLog(path) as fresh:
            _same(log, fresh, "run")
            assert fresh.verify("run").ok
            assert fresh.last_seq("run") == 8


def test_a_key_another_writer_recorded_meanwhile_is_not_recorded_again(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with SQLiteEventLog(path) as mine, SQLiteEventLog(path) as other:
        for i in range(1, 4):
            mine.append(_draft("run", i))
        # no read of mine in between: its next append must see the other's rows itself
        theirs = other.append(EventDraft(run_id="run", kind="answer", actor="human",
                                         payload={"text": "yes"}, key="human:1"))
        got = mine.append(EventDraft(run_id="run", kind="answer", actor="human",
                                     payload={"text": "yes, again"}, key="human:1"))
        assert got == theirs
        other.append(_draft("run", 10))
        nxt = mine.append_many([_draft("run", 11), EventDraft(
            run_id="run", kind="answer", actor="human", payload={}, key="human:1")])
        assert nxt[0].seq == 6 and nxt[1] == theirs
        assert nxt[0].prev_hash == other.find("run", "k:10").hash  # type: ignore[union-attr]
        with SQLiteEventLog(path) as fresh:
            _same(mine, fresh, "run")
            assert fresh.verify("run").ok


def test_a_run_too_long_to_hold_is_appended_by_querying(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from mapek.knowledge import sqlite_log

    monkeypatch.setattr(sqlite_log, "_TAIL_MAX", 4)
    path = tmp_path / "log.sqlite3"
    with SQLiteEventLog(path) as log:
        for i in range(1, 9):
            log.append(_draft("run", i))
        assert "run" not in log._tails  # noqa: SLF001
        assert log.append(_draft("run", 8)).seq == 8  # its key, found by a query
        with SQLiteEventLog(path) as fresh:
            assert fresh.verify("run").ok and fresh.last_seq("run") == 8
