"""The event log: appends, reads, idempotency keys, append-only guard, following in-process.

The contract tests (``@both``) run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mapek.errors import StorageError
from mapek.knowledge import EventLog, SQLiteEventLog
from mapek.knowledge.sqlite_log import _ENCODE
from mapek.models import GENESIS_HASH, Event, EventDraft, canonical_json
from tests.knowledge.backends import Raw, both, open_url

Fill = Callable[..., None]


def draft(run: str = "r1", kind: str = "message", **kw: object) -> EventDraft:
    return EventDraft(run_id=run, kind=kind, actor=str(kw.pop("actor", "cfo")), **kw)  # type: ignore[arg-type]


@both
def test_append_chains_events(log: EventLog) -> None:
    e1 = log.append(draft(payload={"text": "hello"}))
    e2 = log.append(draft(payload={"text": "again"}, parent=1))
    assert (e1.seq, e2.seq) == (1, 2)
    assert e1.prev_hash == GENESIS_HASH and e2.prev_hash == e1.hash
    assert e1.hash == e1.compute_hash() and e2.hash == e2.compute_hash()
    assert e1.id == "r1#1" and e2.parent == 1
    assert log.get("r1", 2) == e2 and log.get("r1", 3) is None and log.get("nope", 1) is None
    assert log.events("r1") == [e1, e2]
    assert log.last_seq("r1") == 2 and log.last_seq("nope") == 0
    assert log.verify().ok


@both
def test_runs_are_independent(log: EventLog) -> None:
    a = log.append(draft("a"))
    b = log.append(draft("b"))
    a2 = log.append(draft("a"))
    assert (a.seq, b.seq, a2.seq) == (1, 1, 2) and b.prev_hash == GENESIS_HASH
    runs = {r.run_id: r for r in log.runs()}
    assert runs["a"].events == 2 and runs["b"].events == 1
    assert runs["a"].first_ts <= runs["b"].first_ts <= runs["a"].last_ts


@both
def test_payload_is_stored_as_json(log: EventLog) -> None:
    ev = log.append(draft(payload={"text": "été ✓", "t": (1, 2), "nested": {"b": 1, "a": None}}))
    assert ev.payload == {"text": "été ✓", "t": [1, 2], "nested": {"b": 1, "a": None}}
    assert log.get("r1", 1) == ev and ev.hash == ev.compute_hash()


def test_fast_encoder_matches_canonical_json() -> None:
    for obj in [{"b": 1, "a": [1.5, None, "x"]}, {"é": "ü", "k": {"z": True}}, {}, {"t": 1e300}]:
        assert _ENCODE(obj) == canonical_json(obj)


@both
def test_events_filters_and_limits(log: EventLog, fill: Fill) -> None:
    fill(log, "r1", 5)
    log.append(draft(kind="llm.call"))
    fill(log, "r2", 2)
    assert [e.seq for e in log.events("r1", after=2)] == [3, 4, 5, 6]
    assert [e.seq for e in log.events("r1", kinds=["llm.call"])] == [6]
    assert [e.seq for e in log.events("r1", limit=2)] == [1, 2]
    assert [e.id for e in log.events(after=5)] == ["r1#6", "r2#1", "r2#2"]
    assert len(log.events()) == 8


@both
def test_append_many_is_one_transaction(log: EventLog, fill: Fill) -> None:
    fill(log, "r1", 2)
    good = [draft(payload={"i": i}) for i in range(3)]
    with pytest.raises(ValueError, match="parent #9"):
        log.append_many([*good, draft(parent=9)])
    assert log.last_seq("r1") == 2  # nothing of the failed batch was written
    out = log.append_many([*good, draft("r2"), draft(parent=3)])
    assert [e.id for e in out] == ["r1#3", "r1#4", "r1#5", "r2#1", "r1#6"]
    assert log.events("r1")[2:] == [out[0], out[1], out[2], out[4]]
    assert log.verify().ok


@both
def test_idempotency_key_returns_existing_event(log: EventLog) -> None:
    first = log.append(draft(key="step-1", payload={"text": "once"}))
    again = log.append(draft(key="step-1", payload={"text": "twice"}))
    same_batch = log.append_many([draft(key="k2"), draft(key="k2"), draft("r2", key="k2")])
    assert again == first and log.last_seq("r1") == 2
    assert same_batch[0] == same_batch[1] and same_batch[2].run_id == "r2"
    assert log.find("r1", "step-1") == first and log.find("r1", "nope") is None
    assert first.hash == first.compute_hash() and log.verify().ok


@both
def test_code_cannot_rewrite_history(log: EventLog, raw: Raw, fill: Fill) -> None:
    fill(log, "r1", 2)
    with pytest.raises(raw.errors(), match="append-only"):
        raw.execute("UPDATE events SET payload = '{}' WHERE seq = 1")
    with pytest.raises(raw.errors(), match="append-only"):
        raw.execute("DELETE FROM events")
    assert log.verify().ok and log.last_seq("r1") == 2


def test_wal_mode_and_reopen(log_path: Path, fill: Fill) -> None:
    with SQLiteEventLog(log_path) as lg:
        fill(lg, "r1", 3)
    con = sqlite3.connect(log_path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()
    with SQLiteEventLog(log_path, create=False) as lg:
        assert lg.last_seq("r1") == 3 and lg.verify().ok
        assert lg.append(draft()).seq == 4


@both
def test_follow_sees_new_events_in_order(log: EventLog, fill: Fill) -> None:
    fill(log, "r1", 3)

    def writer() -> None:
        for i in range(20):
            log.append(draft(payload={"i": i}))
            time.sleep(0.002)

    t = threading.Thread(target=writer)
    t.start()
    seen = [e.seq for e in log.follow("r1", after=1, poll=0.01, stop=lambda: False, timeout=1.0)]
    t.join()
    assert seen == list(range(2, 24))


@both
def test_follow_stop_and_resume_positions(log: EventLog, fill: Fill) -> None:
    fill(log, "a", 2)
    log.append(draft("b", kind="llm.call"))
    fill(log, "b", 1)
    f = log.follow(poll=0.01, timeout=0.05)
    assert [e.id for e in f] == ["a#1", "a#2", "b#1", "b#2"] and f.position == 4
    fill(log, "a", 1)
    assert [e.id for e in log.follow(after=f.position, timeout=0.05)] == ["a#3"]
    only = log.follow(kinds=["message"], timeout=0.05)
    assert [e.id for e in only] == ["a#1", "a#2", "b#2", "a#3"] and only.position == 5
    stopped = log.follow("a", stop=lambda: True)
    assert list(stopped) == []


@both
def test_follow_timeout_is_idle_time(log: EventLog) -> None:
    start = time.monotonic()
    assert list(log.follow("r1", timeout=0.1, poll=0.02)) == []
    assert 0.09 <= time.monotonic() - start < 1.0


@both
def test_event_round_trip_is_a_real_event(log: EventLog) -> None:
    ev = log.append(draft(payload={"text": "x"}))
    clone = Event.model_validate(json.loads(ev.model_dump_json()))
    assert clone == ev and clone.compute_hash() == ev.hash


@both
def test_closed_log_says_so(log_url: str) -> None:
    log = open_url(log_url)
    log.close()
    log.close()  # idempotent
    for call in (lambda: log.append(draft()), lambda: log.events("r1"), log.verify, log.runs):
        with pytest.raises(StorageError, match="is closed"):
            call()


@both
def test_reopen_sees_everything(log_url: str, fill: Fill) -> None:
    with open_url(log_url) as lg:
        fill(lg, "r1", 3)
    with open_url(log_url, create=False) as lg:
        assert lg.last_seq("r1") == 3 and lg.verify().ok
        assert lg.append(draft()).seq == 4


@both
def test_a_failed_append_leaves_no_trace_and_the_log_goes_on(log: EventLog, fill: Fill) -> None:
    fill(log, "r1", 2)
    with pytest.raises(ValueError, match="parent #7"):
        log.append_many([draft("r2"), draft(key="k1"), draft(parent=7)])
    assert log.last_seq("r2") == 0 and log.find("r1", "k1") is None
    assert log.append(draft(key="k1")).seq == 3
    assert log.verify().ok and [e.seq for e in log.events("r1")] == [1, 2, 3]
