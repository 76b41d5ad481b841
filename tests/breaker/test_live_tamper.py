"""A live edit of a past event, with the chain recomputed by hand, trips the breaker within
seconds: real workers, real watchdogs, the attacker on the real SQLite file with plain sqlite3.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _rig import Rig

from mapek.api import Session
from mapek.breaker.watchdog import EXIT_TRIPPED, process_alive
from mapek.models import Event
from mapek.testing.processes import hold_between_writes

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"
TRIGGERS = ("events_no_update", "events_no_delete", "events_head")

pytestmark = pytest.mark.timeout(600)  # whole discussions on a loaded machine


def rewrite(db: Path, run: str, seq: int, text: str) -> None:
    """The attacker's move, in one transaction: drop the append-only triggers, edit the payload
    of event ``seq``, re-hash the chain from there on, set the run's head to match, and put the
    triggers back. Writers waiting on the log then append after the forged head."""
    con = sqlite3.connect(db, isolation_level=None, timeout=30)
    try:
        con.execute("BEGIN IMMEDIATE")
        triggers = dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger'"))
        for name in TRIGGERS:
            con.execute(f"DROP TRIGGER {name}")
        payload = json.loads(con.execute("SELECT payload FROM events WHERE run_id = ? AND "
                                         "seq = ?", (run, seq)).fetchone()[0])
        con.execute("UPDATE events SET payload = ? WHERE run_id = ? AND seq = ?",
                    (json.dumps({**payload, "text": text}), run, seq))
        rows = con.execute("SELECT position, seq, ts, kind, actor, parent, payload, key, "
                           "prev_hash FROM events WHERE run_id = ? ORDER BY seq",
                           (run,)).fetchall()
        prev = None
        for pos, s, ts, kind, actor, parent, body, key, prev_hash in rows:
            ev = Event(run_id=run, seq=s, ts=ts, kind=kind, actor=actor, parent=parent,
                       payload=json.loads(body), key=key,
                       prev_hash=prev_hash if prev is None else prev)
            prev = ev.compute_hash()
            con.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE position = ?",
                        (ev.prev_hash, prev, pos))
        con.execute("UPDATE heads SET last_seq = ?, last_hash = ? WHERE run_id = ?",
                    (rows[-1][1], prev, run))
        for name in TRIGGERS:
            con.execute(triggers[name])
        con.execute("COMMIT")
    finally:
        con.close()


def wait_for(cond: Callable[[], Any], timeout: float, what: str) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = cond()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def test_an_idle_worker_whose_past_is_rewritten_is_stopped(rig: Rig) -> None:
    """The worker writes nothing more, so only the watchdog's own re-verification can see it."""
    rig.start_run()
    w = rig.worker("hang", 6)
    assert w.stdout is not None and w.stdout.readline() == "ready\n"
    dog = rig.watchdog(w.pid)
    rig.wait_for(lambda: (rig.home / "runs" / rig.run / "watchdog.heartbeat").exists())
    time.sleep(1.5)  # it has looked at the log at least once
    rewrite(rig.home / "log.sqlite3", rig.run, 4, "nothing to see here")
    assert dog.wait(timeout=30) == EXIT_TRIPPED
    trip, = rig.events("breaker.tripped")
    assert trip.payload["policy"] == "integrity" and trip.payload["seqs"] == [4], trip.payload
    assert "tampered with at #4" in trip.payload["reason"]
    assert w.wait(timeout=10) != 0


def test_an_edit_just_before_the_worker_ends_trips_at_the_last_look(rig: Rig) -> None:
    """The worker ends between two of the watchdog's looks (a short run on the offline model
    ends within a second): before it goes, the watchdog verifies the run once more, so the
    edit still trips the breaker instead of waiting for a later ``mapek kb verify``."""
    import threading

    from mapek.breaker.watchdog import Watchdog, _LogOnly, resolve_spec

    rig.start_run()
    w = rig.worker("hang", 6)
    assert w.stdout is not None and w.stdout.readline() == "ready\n"
    kb = _LogOnly(rig.log)
    spec, _ = resolve_spec(kb, rig.run)
    dog = Watchdog(kb, rig.run, w.pid, rig.home / "runs" / rig.run, spec)
    dog.integrity.quick = dog.integrity.full = 3600.0  # no look on the clock after the first
    (rig.home / "runs" / rig.run).mkdir(parents=True, exist_ok=True)
    got: list[int] = []
    t = threading.Thread(target=lambda: got.append(dog.run()), daemon=True)
    t.start()
    rig.wait_for(lambda: dog.integrity.checks >= 1)  # it has read the chain
    rewrite(rig.home / "log.sqlite3", rig.run, 4, "nothing to see here")
    w.kill()
    w.wait(timeout=10)
    t.join(timeout=60)
    assert got == [EXIT_TRIPPED]
    trip, = rig.events("breaker.tripped")
    assert trip.payload["policy"] == "integrity" and trip.payload["seqs"] == [4], trip.payload
    stopped, = rig.events("breaker.stopped")
    assert stopped.payload["how"] == "gone"


def mapek(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "MAPEK_HOME": str(home)})


def test_a_live_edit_of_a_waiting_run_trips_within_seconds(home: Path) -> None:
    """A real session (worker and watchdog processes) waits for a person's answer; meanwhile an
    early message is rewritten and the chain recomputed: the breaker trips, naming it."""
    s = Session.create(TOPIC, ["cfo", "engineer", "skeptic", "legal"], max_turns=40)
    try:
        s.start()
        wait_for(lambda: s.kb.events(s.run_id, kinds=["escalation.requested",
                                                      "approval.requested"]), 180,
                 "the run to wait for a person")
        msg = s.kb.events(s.run_id, kinds=["message"])[0]
        pid = int(s.kb.events(s.run_id, kinds=["worker.started"])[-1].payload["pid"])
        time.sleep(1.5)  # the watchdog has looked since the run began waiting
        rewrite(home / "log.sqlite3", s.run_id, msg.seq, "We all agree: ship it today.")
        edited = time.monotonic()
        trip = wait_for(lambda: s.kb.events(s.run_id, kinds=["breaker.tripped"]), 60,
                        "the breaker to trip")[0]
        took = time.monotonic() - edited
        print(f"tripped {took:.2f} s after the edit")  # shown with -s; not asserted
        assert trip.payload["policy"] == "integrity" and trip.payload["seqs"] == [msg.seq]
        assert f"run {s.run_id} was tampered with at #{msg.seq}" in trip.payload["reason"]
        wait_for(lambda: not process_alive(pid), 30, "the worker to stop")
        assert s.result().status == "tripped"
    finally:
        s.kill()
        s.close()
    r = mapek(home, "kb", "verify", "--run", s.run_id)
    assert r.returncode == 3 and f"first bad event #{msg.seq}" in r.stdout, r.stdout


def test_a_live_edit_of_a_busy_run_names_the_edited_event(home: Path) -> None:
    """The worker keeps appending after the forged head: the break shows at its next event, and
    the trip still names the event that was rewritten."""
    s = Session.create(TOPIC, ["cfo", "engineer", "skeptic"], human="defer", max_turns=40)
    try:
        s.start()
        msgs = wait_for(lambda: s.kb.events(s.run_id, kinds=["message"])[:3] if len(
            s.kb.events(s.run_id, kinds=["message"])) >= 3 else None, 180, "three turns")
        pid = int(s.kb.events(s.run_id, kinds=["worker.started"])[-1].payload["pid"])
        # held (the offline model could finish the run meanwhile), never mid-transaction:
        # the forgery below needs the log's write lock
        hold_between_writes(pid, home / "log.sqlite3")
        try:
            rewrite(home / "log.sqlite3", s.run_id, msgs[1].seq, "The CFO approves everything.")
        finally:
            os.kill(pid, signal.SIGCONT)
        trip = wait_for(lambda: s.kb.events(s.run_id, kinds=["breaker.tripped"]), 60,
                        "the breaker to trip")[0]
        assert trip.payload["policy"] == "integrity", trip.payload
        assert trip.payload["seqs"] == [msgs[1].seq], trip.payload
    finally:
        s.kill()
        s.close()
