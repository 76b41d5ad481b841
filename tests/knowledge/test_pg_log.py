"""What only the PostgreSQL log does: many writer processes on one run, LISTEN/NOTIFY following
and its polling fallback, reconnecting, and one clear error for every bad URL or database.
(The contract it shares with SQLite is tested on both in test_log_basics/_tamper/_processes.)"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from mapek.config import Workspace
from mapek.errors import ConfigError, StorageError, WorkspaceError
from mapek.knowledge.base import open_log
from mapek.knowledge.pg_log import PostgresEventLog
from mapek.models import EventDraft
from mapek.runtime import StorageSpec
from mapek.testing.postgres import PostgresServer

HELPER = str(Path(__file__).with_name("_log_proc.py"))


@pytest.fixture
def pg(pg_url: str) -> Iterator[PostgresEventLog]:
    with PostgresEventLog(pg_url) as log:
        yield log


def draft(run: str = "r1", **kw: object) -> EventDraft:
    return EventDraft(run_id=run, kind=str(kw.pop("kind", "message")), **kw)  # type: ignore[arg-type]


def backends(url: str, what: str) -> list[int]:
    """Server process ids of mapek's connections to the database: the followers' ("LISTEN")
    or the logs' own ("log")."""
    listening = "" if what == "LISTEN" else "NOT"
    with psycopg.connect(url, autocommit=True) as con:
        return [r[0] for r in con.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            f" AND application_name = 'mapek' AND {listening} query ILIKE 'LISTEN%%'")]


def terminate(url: str, pids: list[int]) -> None:
    """End these server processes, and wait until they are gone."""
    with psycopg.connect(url, autocommit=True) as con:
        for pid in pids:
            con.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))


# -- many processes ----------------------------------------------------------------------------

def test_four_writer_processes_on_one_run_and_two_more_elsewhere(tmp_path: Path,
                                                                  pg_url: str) -> None:
    """Six processes open a brand-new database at once (so they race to create the tables) and
    append: four to one run, two to another. Each run ends up one gapless chain."""
    n, go = 100, tmp_path / "go"
    per_writer = n + 2 * (n // 50)
    tags = {"w1": "shared", "w2": "shared", "w3": "shared", "w4": "shared",
            "x1": "other", "x2": "other"}
    procs = [subprocess.Popen([sys.executable, HELPER, "write", pg_url, run, str(n), tag, str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for tag, run in tags.items()]
    deadline = time.time() + 90
    while not all((tmp_path / f"go.{t}.ready").exists() for t in tags):
        assert time.time() < deadline, [p.poll() for p in procs]
        for p in procs:
            assert p.poll() is None, p.communicate()[1]  # no process failed to open the log
        time.sleep(0.02)
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    with PostgresEventLog(pg_url, create=False) as log:
        assert log.verify(raise_on_error=True).ok
        for run, writers in (("shared", ["w1", "w2", "w3", "w4"]), ("other", ["x1", "x2"])):
            events = log.events(run)
            assert [e.seq for e in events] == list(range(1, per_writer * len(writers) + 1))
            for tag in writers:
                mine = [e.payload["i"] for e in events if e.actor == tag and e.kind == "message"]
                assert mine == list(range(n))
                ticks = [i for i, e in enumerate(events) if e.actor == tag and e.kind == "tick"]
                # a batch of three is one transaction: its events are next to each other
                assert all(events[i - 1].actor == tag for i in ticks)
            switches = sum(a.actor != b.actor for a, b in zip(events, events[1:], strict=False))
            assert switches >= len(writers), switches  # they really wrote at the same time
        positions, _ = log.scan(0, limit=10_000)
        assert [p for p, _ in positions] == sorted(p for p, _ in positions)
        assert len(positions) == per_writer * 6


def test_two_logs_taking_turns_on_one_run(pg: PostgresEventLog, pg_url: str) -> None:
    """Each log remembers the heads it wrote and appends in one round trip while they hold;
    when the other log has moved a head (or recorded a key) it reads and goes on correctly."""
    with PostgresEventLog(pg_url) as other:
        for i in range(6):
            (pg if i % 2 else other).append(draft(payload={"i": i}))
        first = pg.append(draft(key="step-1"))
        assert other.append(draft(key="step-1")) == first  # the key, seen by the other log
        assert other.append_many([draft(), draft("r2"), draft(key="step-1")])[2] == first
        assert pg.append(draft()).seq == 9
    assert [e.payload.get("i") for e in pg.events("r1")][:6] == list(range(6))
    assert pg.verify().ok and pg.last_seq("r1") == 9 and pg.last_seq("r2") == 1


# -- following ---------------------------------------------------------------------------------

def test_follow_is_woken_by_notify_not_by_polling(pg: PostgresEventLog, pg_url: str) -> None:
    """With a 10 s poll interval a follower still sees commits within a fraction of a second:
    NOTIFY woke it. Commits to other runs do not make it read the log."""
    reads = []
    scan = pg.scan

    def counting_scan(*args: object, **kw: object) -> object:
        reads.append(time.monotonic())
        return scan(*args, **kw)  # type: ignore[arg-type]

    pg.scan = counting_scan  # type: ignore[assignment,method-assign]
    seen: list[tuple[int, float]] = []
    n = 5

    def follow() -> None:
        for ev in pg.follow("mine", poll=10.0, timeout=30.0):
            seen.append((ev.seq, time.monotonic()))
            if ev.seq == n:
                return

    t = threading.Thread(target=follow)
    t.start()
    time.sleep(0.5)
    with PostgresEventLog(pg_url) as writer:  # another connection, as another process would
        for _ in range(20):
            writer.append(draft("theirs"))
        time.sleep(0.5)
        reads_before = len(reads)
        latencies = []
        for _ in range(n):
            sent = time.monotonic()
            writer.append(draft("mine"))
            while len(seen) < len(latencies) + 1 and time.monotonic() - sent < 10:
                time.sleep(0.001)
            latencies.append(seen[-1][1] - sent)
            time.sleep(0.2)
    t.join(timeout=30)
    assert [s for s, _ in seen] == list(range(1, n + 1))
    # a poll would take 5 s on average; a busy machine may delay a wake-up, not all of them
    assert sorted(latencies)[n // 2] < 1.0 and max(latencies) < 5.0, latencies
    assert reads_before <= 2, reads_before  # 20 commits to another run woke nobody


def test_follow_falls_back_to_polling_when_listen_breaks(pg: PostgresEventLog,
                                                         pg_url: str) -> None:
    seen: list[int] = []
    follower = threading.Thread(target=lambda: seen.extend(
        ev.seq for ev in pg.follow("r1", poll=0.05, timeout=3.0)))
    follower.start()
    deadline = time.time() + 10
    while not (pids := backends(pg_url, "LISTEN")):
        assert time.time() < deadline, "the follower never listened"
        time.sleep(0.05)
    terminate(pg_url, pids)  # the LISTEN connection dies under the follower
    time.sleep(0.3)
    for _ in range(3):
        pg.append(draft())
        time.sleep(0.1)
    follower.join(timeout=10)
    assert seen == [1, 2, 3]
    assert backends(pg_url, "LISTEN") == []  # and it did not leak a connection


def test_a_follower_left_early_releases_its_connection(pg: PostgresEventLog, pg_url: str
                                                       ) -> None:
    pg.append(draft())
    with pg.follow("r1", poll=0.05) as f:
        assert next(f).seq == 1
        assert len(backends(pg_url, "LISTEN")) == 1
    assert backends(pg_url, "LISTEN") == []
    f2 = pg.follow("r1", poll=0.05)
    assert next(f2).seq == 1
    del f2  # dropped mid-iteration, as a `for` loop left by `break` does
    assert backends(pg_url, "LISTEN") == []


# -- connections -------------------------------------------------------------------------------

def test_a_broken_connection_is_opened_again(pg: PostgresEventLog, pg_url: str) -> None:
    pg.append(draft())
    for again in (lambda: pg.last_seq("r1") == 1, lambda: pg.append(draft()).seq == 2):
        pids = backends(pg_url, "log")  # the log's own connection
        assert len(pids) == 1
        terminate(pg_url, pids)
        assert again()  # a read, or an append that had not written yet, connects again
        assert backends(pg_url, "log") not in ([], pids)
    assert pg.verify().ok


def test_nul_characters_are_refused_in_one_line(pg: PostgresEventLog) -> None:
    with pytest.raises(StorageError, match="cannot append to the event log .*NUL"):
        pg.append(draft(actor="a\x00b"))
    ev = pg.append(draft(payload={"text": "NUL in a payload is fine: \x00"}))
    assert pg.get("r1", 1) == ev and pg.verify().ok
    assert pg.semantic_seqs("r1") is None  # jsonb cannot hold \u0000: the caller scans instead


def test_semantic_seqs_match_sqlite(pg: PostgresEventLog, tmp_path: Path) -> None:
    from mapek.knowledge import SQLiteEventLog

    drafts = [draft(payload={"text": "a point"}), draft(payload={"text": "  \n\t"}),
              draft(kind="llm.call", payload={"text": "not semantic"}),
              draft(kind="question", actor="cfo", payload={"text": "why?"}),
              draft(payload={"text": 3}), draft(actor="cfo", payload={"text": "yes"})]
    with SQLiteEventLog(tmp_path / "l.sqlite3") as lite:
        lite.append_many(drafts)
        pg.append_many(drafts)
        for kw in ({}, {"actors": ["cfo"]}, {"kinds": ["question"]}, {"upto": 2}):
            assert pg.semantic_seqs("r1", **kw) == lite.semantic_seqs("r1", **kw), kw  # type: ignore[arg-type]
    assert pg.semantic_seqs("r1") == [1, 4, 6]


# -- opening -----------------------------------------------------------------------------------

def test_open_log_and_the_runtime_spec_take_postgresql_urls(pg_url: str, tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "ws")
    for url in (pg_url, pg_url.replace("postgresql://", "postgres://", 1)):
        with open_log(url, ws) as log:
            assert isinstance(log, PostgresEventLog)
            log.append(draft())
        assert StorageSpec(log_url=url).log_url == url
    with open_log(pg_url, ws, create=False) as log:
        assert log.last_seq("r1") == 2
    with pytest.raises(ValueError, match="sqlite:///PATH or postgresql://"):
        StorageSpec(log_url="mysql://u:secret@h/db")
    with pytest.raises(ConfigError, match="SQLite .* or PostgreSQL"):
        open_log("mysql://h/db", ws)
    assert not (ws.root / "log.sqlite3").exists()  # nothing of the log went to the workspace


def test_bad_urls_and_databases_give_one_clear_line(pg_server: PostgresServer, pg_url: str
                                                    ) -> None:
    closed = pg_server.url("x").replace(f":{pg_server.port}/", ":1/")  # nothing listens on 1
    with pytest.raises(StorageError, match=r"cannot connect to the event log at postgresql://"):
        PostgresEventLog(closed, connect_timeout=2)
    secret = closed.replace("mapek@", "mapek:hunter2@")
    with pytest.raises(StorageError) as info:
        PostgresEventLog(secret, connect_timeout=2)
    assert "hunter2" not in str(info.value) and "mapek:***@" in str(info.value)
    with pytest.raises(WorkspaceError, match='database "nope" does not exist'):
        PostgresEventLog(pg_server.url("nope"))
    with pytest.raises(ConfigError, match="not a PostgreSQL URL"):
        PostgresEventLog("postgresql://127.0.0.1:5432/db?nonsense_option=1")
    with pytest.raises(WorkspaceError, match="no event log at .*nothing was recorded"):
        PostgresEventLog(pg_url, create=False)
    with psycopg.connect(pg_url, autocommit=True) as con:
        assert con.execute("SELECT to_regclass('mapek_events')").fetchone() == (None,)
        con.execute("CREATE TABLE mapek_meta (key text, value text)")
        con.execute("INSERT INTO mapek_meta VALUES ('schema', 'someone.else')")
    with pytest.raises(WorkspaceError, match="not a mapek event log"):
        PostgresEventLog(pg_url)


def test_a_log_from_a_newer_mapek(pg: PostgresEventLog, pg_url: str) -> None:
    pg.append(draft())
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("UPDATE mapek_meta SET value = '99' WHERE key = 'version'")
    with pytest.raises(WorkspaceError, match="newer mapek .*v99"):
        PostgresEventLog(pg_url)


def test_the_log_shares_a_database_and_keeps_to_its_schema(pg_url: str) -> None:
    """Two logs in one database, each in its own schema (``search_path`` in the URL)."""
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("CREATE SCHEMA team_a; CREATE SCHEMA team_b")
    a_url = pg_url + "?options=-csearch_path%3Dteam_a"
    b_url = pg_url + "?options=-csearch_path%3Dteam_b"
    with PostgresEventLog(a_url) as a, PostgresEventLog(b_url) as b:
        a.append(draft(payload={"who": "a"}))
        b.append(draft(payload={"who": "b"}))
        b.append(draft(payload={"who": "b"}))
        assert (a.last_seq("r1"), b.last_seq("r1")) == (1, 2)
        assert a.verify().ok and b.verify().ok
    with psycopg.connect(pg_url, autocommit=True) as con:
        tables = {r[0] for r in con.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'mapek_events'")}
    assert tables == {"team_a", "team_b"}


def test_appended_events_read_back_identically(pg: PostgresEventLog) -> None:
    """Floats, unicode, nesting and keys survive the trip: each event's stored form hashes to
    the hash it was given."""
    payloads = [{"text": "été ✓ \U0001f600", "f": 0.1 + 0.2, "big": 1e300, "neg": -0.0},
                {"nested": {"z": [1, {"y": None}], "a": True}, "quote": "it's \"quoted\""},
                {"text": "x" * 100_000}]
    out = pg.append_many([draft(payload=p, key=f"k{i}") for i, p in enumerate(payloads)])
    back = pg.events("r1")
    assert back == out and all(e.hash == e.compute_hash() for e in back)
    assert json.dumps(back[0].payload["f"]) == json.dumps(0.1 + 0.2)


# -- anchors -----------------------------------------------------------------------------------

def test_anchors_catch_a_chain_recomputed_in_the_database(pg_url: str, tmp_path: Path) -> None:
    """Someone holding the database but not the workspace's anchor key rewrites an event and
    recomputes the chain after it: the hashes alone agree, the anchors do not."""
    ws = Workspace.open(tmp_path / "ws")
    with open_log(pg_url, ws) as log:
        for run, n in (("a", 10), ("r", 10), ("z", 3)):
            for i in range(n):
                log.append(draft(run, actor=f"p{i % 3}", payload={"text": f"{run} {i}"}))
        report = log.verify()
        assert report.ok and report.anchors is not None and report.anchors.ok
        assert report.anchors.runs == 3 and (ws.root / "anchors.jsonl").exists()
    with PostgresEventLog(pg_url) as plain:  # the same log, read without the anchors
        events = plain.events("r")
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("ALTER TABLE mapek_events DISABLE TRIGGER USER")
        prev = events[2].hash
        for ev in events[3:]:  # #4 rewritten, and every hash after it recomputed
            new = ev.model_copy(update={"prev_hash": prev, "payload": (
                {"text": "approved by the board"} if ev.seq == 4 else ev.payload)})
            prev = new.compute_hash()
            con.execute("UPDATE mapek_events SET payload = %s, prev_hash = %s, hash = %s"
                        " WHERE run_id = 'r' AND seq = %s",
                        (json.dumps(new.payload), new.prev_hash, prev, ev.seq))
        con.execute("UPDATE mapek_heads SET last_hash = %s WHERE run_id = 'r'", (prev,))
        con.execute("DELETE FROM mapek_events WHERE run_id = 'z'")  # and a whole run
        con.execute("DELETE FROM mapek_heads WHERE run_id = 'z'")
    with PostgresEventLog(pg_url) as plain:
        assert plain.verify().ok  # the chain alone cannot tell
    with open_log(pg_url, ws, create=False) as log:
        report = log.verify()
    bad = {r.run_id: r for r in report.bad}
    assert set(bad) == {"r", "z"}, str(report)
    assert bad["r"].problem is not None and bad["r"].problem.startswith("rewritten")
    assert bad["z"].problem is not None and "missing" in bad["z"].problem
