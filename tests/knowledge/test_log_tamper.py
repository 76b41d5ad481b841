"""Tampering with the log's storage directly (the SQLite file, or the PostgreSQL tables, with
the append-only triggers off): verify names the first bad event every time, on both backends."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from mapek.errors import LogIntegrityError, UnknownRunError
from mapek.knowledge import EventLog
from mapek.models import Event
from tests.knowledge.backends import BACKENDS, Raw

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

N = 10


@pytest.fixture
def tampered(log: EventLog, raw: Raw, fill: Callable[..., None]) -> Iterator[Raw]:
    """A log with runs ``a`` (10 events), ``r`` (10) and ``z`` (3), and a raw connection to it
    with the append-only triggers dropped, as an attacker would."""
    fill(log, "a", N)
    fill(log, "r", N)
    fill(log, "z", 3)
    raw.drop_guards()
    yield raw


def row(con: Raw, seq: int) -> dict[str, object]:
    cur = con.execute("SELECT * FROM events WHERE run_id = 'r' AND seq = ?", (seq,))
    return dict(zip([c[0] for c in cur.description], cur.fetchone(), strict=True))


def forged(con: Raw, seq: int, text: str) -> tuple[object, ...]:
    """A well-formed event #seq chained to the current #seq-1, with a correct hash."""
    prev = row(con, seq - 1)
    ev = Event(run_id="r", seq=seq, ts=1.0, kind="message", actor="mallory",
               payload={"text": text}, prev_hash=str(prev["hash"]))
    return ("r", seq, 1.0, "message", "mallory", None, json.dumps({"text": text}), None,
            ev.prev_hash, ev.compute_hash())


def shift(con: Raw, from_seq: int, by: int) -> None:
    con.execute("UPDATE events SET seq = seq + 1000 WHERE run_id = 'r' AND seq >= ?", (from_seq,))
    con.execute("UPDATE events SET seq = seq - 1000 + ? WHERE run_id = 'r' AND seq >= 1000", (by,))


INSERT = ("INSERT INTO events (run_id, seq, ts, kind, actor, parent, payload, key, prev_hash, hash)"
          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def first_bad(log: EventLog) -> tuple[str, int | None, str]:
    report = log.verify()
    assert not report.ok
    assert [r.run_id for r in report.bad] == ["r"], str(report)  # the other runs stay good
    bad = report.first_bad
    assert bad is not None and bad.problem
    return bad.run_id, bad.seq, bad.problem


def test_untouched_log_is_ok(log: EventLog, tampered: Raw) -> None:
    report = log.verify()
    assert report.ok and [(r.run_id, r.events) for r in report.runs] == [
        ("a", N), ("r", N), ("z", 3)]
    assert report.raise_if_broken() is report


def test_edited_payload(log: EventLog, tampered: Raw) -> None:
    tampered.execute("UPDATE events SET payload = '{\"text\":\"all fine\"}' "
                     "WHERE run_id = 'r' AND seq = 4")
    run, seq, problem = first_bad(log)
    assert (run, seq) == ("r", 4) and problem.startswith("edited")


def test_edited_actor_and_time(log: EventLog, tampered: Raw) -> None:
    tampered.execute("UPDATE events SET ts = ts + 1 WHERE run_id = 'r' AND seq = 7")
    tampered.execute("UPDATE events SET actor = 'ceo' WHERE run_id = 'r' AND seq = 9")
    assert first_bad(log)[:2] == ("r", 7)


def test_payload_that_is_not_json(log: EventLog, tampered: Raw) -> None:
    tampered.execute("UPDATE events SET payload = '{oops' WHERE run_id = 'r' AND seq = 5")
    _, seq, problem = first_bad(log)
    assert (seq, problem.startswith("edited")) == (5, True)


def test_rewritten_event_with_a_fresh_hash(log: EventLog, tampered: Raw
                                          ) -> None:
    fake = forged(tampered, 4, "nothing to see")
    tampered.execute("UPDATE events SET actor = ?, payload = ?, ts = ?, hash = ? "
                     "WHERE run_id = 'r' AND seq = 4", (fake[4], fake[6], fake[2], fake[9]))
    _, seq, problem = first_bad(log)
    assert seq == 4 and "rewritten" in problem


def test_deleted_event(log: EventLog, tampered: Raw) -> None:
    tampered.execute("DELETE FROM events WHERE run_id = 'r' AND seq = 4")
    _, seq, problem = first_bad(log)
    assert seq == 4 and problem.startswith("missing")


def test_deleted_events_renumbered(log: EventLog, tampered: Raw) -> None:
    tampered.execute("DELETE FROM events WHERE run_id = 'r' AND seq = 4")
    shift(tampered, 5, -1)
    tampered.execute("UPDATE heads SET last_seq = last_seq - 1 WHERE run_id = 'r'")
    _, seq, problem = first_bad(log)
    assert seq == 4 and "recorded as #5" in problem


def test_deleted_last_events(log: EventLog, tampered: Raw) -> None:
    tampered.execute("DELETE FROM events WHERE run_id = 'r' AND seq >= 9")
    _, seq, problem = first_bad(log)
    assert seq == 9 and problem.startswith("missing: #9..#10")


def test_deleted_run(log: EventLog, tampered: Raw) -> None:
    tampered.execute("DELETE FROM events WHERE run_id = 'r'")
    assert first_bad(log)[1:] == (1, "missing: #1..#10 deleted (the run ends at #10)")


def test_inserted_forged_event(log: EventLog, tampered: Raw) -> None:
    shift(tampered, 4, +1)
    tampered.execute(INSERT, forged(tampered, 4, "approved by the board"))
    tampered.execute("UPDATE heads SET last_seq = last_seq + 1 WHERE run_id = 'r'")
    _, seq, problem = first_bad(log)
    assert seq == 4 and problem.startswith("inserted")


def test_inserted_clumsy_event(log: EventLog, tampered: Raw) -> None:
    shift(tampered, 4, +1)
    tampered.execute(INSERT, ("r", 4, 1.0, "message", "mallory", None, "{}", None,
                              row(tampered, 3)["hash"], "f" * 64))
    _, seq, problem = first_bad(log)
    assert seq == 4 and problem.startswith("inserted")


def test_appended_behind_the_logs_back(log: EventLog, tampered: Raw
                                       ) -> None:
    tampered.execute(INSERT, forged(tampered, N + 1, "one more"))
    _, seq, problem = first_bad(log)
    assert seq == N + 1 and problem == f"inserted: the run's head is #{N}"


def test_swapped_events(log: EventLog, tampered: Raw) -> None:
    tampered.execute("UPDATE events SET seq = -1 WHERE run_id = 'r' AND seq = 4")
    tampered.execute("UPDATE events SET seq = 4 WHERE run_id = 'r' AND seq = 5")
    tampered.execute("UPDATE events SET seq = 5 WHERE run_id = 'r' AND seq = -1")
    _, seq, problem = first_bad(log)
    assert seq == 4 and problem == "reordered: this event was recorded as #5"


def test_edited_head(log: EventLog, tampered: Raw) -> None:
    tampered.execute("UPDATE heads SET last_hash = ? WHERE run_id = 'r'", ("0" * 64,))
    assert first_bad(log)[1] == N


def test_raise_on_error_and_single_run(log: EventLog, tampered: Raw) -> None:
    tampered.execute("UPDATE events SET kind = 'decision' WHERE run_id = 'r' AND seq = 6")
    assert log.verify("a").ok
    assert [r.run_id for r in log.verify("r").runs] == ["r"]
    with pytest.raises(LogIntegrityError) as info:
        log.verify(raise_on_error=True)
    assert (info.value.run_id, info.value.seq) == ("r", 6) and info.value.exit_code == 3
    with pytest.raises(UnknownRunError):
        log.verify("nope")
    assert "r: BROKEN at #6" in str(log.verify())
