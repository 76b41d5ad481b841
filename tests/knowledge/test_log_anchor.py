"""The anchored log: tamperings that recompute the chain are caught, and so is tampering with
the anchor file or key. The attacker works on the real SQLite file with plain sqlite3 (holding
the database, not the key); ``mapek kb verify`` runs as a real process."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mapek.config import Workspace
from mapek.knowledge import KnowledgeBase, SQLiteEventLog
from mapek.knowledge.base import open_log
from mapek.models import Event, EventDraft

N = 10
INSERT = ("INSERT INTO events (run_id, seq, ts, kind, actor, parent, payload, key, prev_hash, hash)"
          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
TRIGGERS = ("events_no_update", "events_no_delete", "events_head")


def mapek(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "MAPEK_HOME": str(home)})


def fill(log: SQLiteEventLog, run_id: str, n: int) -> None:
    for i in range(n):
        log.append(EventDraft(run_id=run_id, kind="message", actor=f"p{i % 3}",
                              payload={"text": f"event {i} of {run_id}", "i": i}))


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace whose log has runs ``a`` (10 events), ``r`` (10) and ``z`` (3), anchored."""
    home = tmp_path / "ws"
    with open_log(None, Workspace.open(home)) as log:
        assert isinstance(log, SQLiteEventLog)
        fill(log, "a", N)
        fill(log, "r", N)
        fill(log, "z", 3)
    return home


class Attacker(sqlite3.Connection):
    triggers: dict[str, str]
    """The triggers' SQL, to put them back after the edit."""


@pytest.fixture
def attacker(ws: Path) -> Iterator[Attacker]:
    """A raw connection to the log with the append-only triggers dropped, as an attacker would
    (they are put back by ``recompute``)."""
    con = sqlite3.connect(ws / "log.sqlite3", isolation_level=None, factory=Attacker)
    con.triggers = dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
    for name in TRIGGERS:
        con.execute(f"DROP TRIGGER {name}")
    yield con
    con.close()


def recompute(con: Attacker, run: str) -> None:
    """The attacker's cover-up: renumber nothing, re-hash every event of the run in seq order,
    set the run's head to match, and put the triggers back."""
    cols = "position, seq, ts, kind, actor, parent, payload, key"
    prev = "0" * 64
    rows = con.execute(f"SELECT {cols} FROM events WHERE run_id = ? ORDER BY seq",
                       (run,)).fetchall()
    for pos, seq, ts, kind, actor, parent, payload, key in rows:
        ev = Event(run_id=run, seq=seq, ts=ts, kind=kind, actor=actor, parent=parent,
                   payload=json.loads(payload), key=key, prev_hash=prev)
        prev = ev.compute_hash()
        con.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE position = ?",
                    (ev.prev_hash, prev, pos))
    if rows:
        con.execute("UPDATE heads SET last_seq = ?, last_hash = ? WHERE run_id = ?",
                    (rows[-1][1], prev, run))
    else:
        con.execute("DELETE FROM heads WHERE run_id = ?", (run,))
    for name in TRIGGERS:
        con.execute(con.triggers[name])


def renumber(con: sqlite3.Connection, run: str, from_seq: int, by: int) -> None:
    con.execute("UPDATE events SET seq = seq + 1000 WHERE run_id = ? AND seq >= ?",
                (run, from_seq))
    con.execute("UPDATE events SET seq = seq - 1000 + ? WHERE run_id = ? AND seq >= 1000",
                (by, run))


def chain_alone_ok(ws: Path) -> bool:
    """What verify said before anchors: the chain and heads, by themselves, are consistent."""
    with SQLiteEventLog(ws / "log.sqlite3", create=False) as bare:
        return bare.verify().ok


def caught(ws: Path, run: str, seq: int, start: str) -> str:
    """Verify (API and CLI) flags exactly ``run`` at ``seq`` with a problem starting so."""
    assert chain_alone_ok(ws)  # the tampering is invisible to the chain alone
    with open_log(None, Workspace.open(ws, create=False)) as log:
        report = log.verify()
    assert [r.run_id for r in report.bad] == [run], str(report)
    bad = report.first_bad
    assert bad is not None and bad.seq == seq and bad.problem is not None, str(report)
    assert bad.problem.startswith(start), bad.problem
    assert report.anchors is not None and report.anchors.ok
    r = mapek(ws, "kb", "verify")
    assert r.returncode == 3, r.stdout + r.stderr
    line, = [ln for ln in r.stdout.splitlines() if ln.startswith("BAD")]
    assert f" {run} " in line and f"#{seq}" in line, line
    assert "Traceback" not in r.stderr
    return bad.problem


def test_untouched_anchored_log_verifies(ws: Path) -> None:
    with open_log(None, Workspace.open(ws, create=False)) as log:
        report = log.verify()
    assert report.ok and [(r.run_id, r.events, r.anchored, r.note) for r in report.runs] == [
        ("a", N, N, None), ("r", N, N, None), ("z", 3, 3, None)]
    assert report.anchors is not None and report.anchors.lines == 2 * N + 3
    assert stat.S_IMODE((ws / "anchor.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((ws / "anchors.jsonl").stat().st_mode) == 0o600
    r = mapek(ws, "kb", "verify")
    assert r.returncode == 0 and "23 anchor(s) for 3 run(s)" in r.stdout, r.stdout


def test_edit_with_the_chain_recomputed(ws: Path, attacker: Attacker) -> None:
    attacker.execute("UPDATE events SET payload = ? WHERE run_id = 'r' AND seq = 4",
                     (json.dumps({"text": "all fine", "i": 3}),))
    recompute(attacker, "r")
    problem = caught(ws, "r", 4, "rewritten")
    assert "#4 does not match its anchor" in problem


def test_forged_human_approval_with_the_chain_recomputed(ws: Path,
                                                         attacker: Attacker) -> None:
    renumber(attacker, "r", 6, +1)
    attacker.execute(INSERT, ("r", 6, 1.0, "approval", "human", None,
                              json.dumps({"call_id": "c1", "approved": True}), None, "", ""))
    recompute(attacker, "r")
    caught(ws, "r", 6, "rewritten")


def test_deletion_renumbered_and_recomputed(ws: Path, attacker: Attacker) -> None:
    attacker.execute("DELETE FROM events WHERE run_id = 'r' AND seq = 4")
    renumber(attacker, "r", 5, -1)
    recompute(attacker, "r")
    caught(ws, "r", 4, "rewritten")


def test_tail_cut_with_heads_rewritten(ws: Path, attacker: Attacker) -> None:
    attacker.execute("DELETE FROM events WHERE run_id = 'r' AND seq >= 8")
    recompute(attacker, "r")
    problem = caught(ws, "r", 8, "missing")
    assert "#8..#10 deleted (anchored up to #10" in problem


def test_whole_run_deleted(ws: Path, attacker: Attacker) -> None:
    attacker.execute("DELETE FROM events WHERE run_id = 'r'")
    recompute(attacker, "r")
    problem = caught(ws, "r", 1, "missing")
    assert "the whole run is gone" in problem
    with open_log(None, Workspace.open(ws, create=False)) as log:
        assert not log.verify("r").ok  # asked for by name, it is not an unknown run


def _anchor_lines(ws: Path) -> list[str]:
    return (ws / "anchors.jsonl").read_text().splitlines(keepends=True)


def test_edited_anchor_line(ws: Path) -> None:
    lines = _anchor_lines(ws)
    item = json.loads(lines[4])
    item["head"] = "f" * 64
    lines[4] = json.dumps(item) + "\n"
    (ws / "anchors.jsonl").write_text("".join(lines))
    r = mapek(ws, "kb", "verify")
    assert r.returncode == 3
    assert "line 5 of anchors.jsonl (run a #5) does not carry this workspace's signature" \
        in r.stdout.replace("\n", " "), r.stdout
    assert "ok   a" in r.stdout  # the run itself still matches its other anchors


def test_removed_anchor_line(ws: Path) -> None:
    lines = _anchor_lines(ws)
    del lines[11]
    (ws / "anchors.jsonl").write_text("".join(lines))
    with open_log(None, Workspace.open(ws, create=False)) as log:
        report = log.verify()
    assert report.anchors is not None and not report.ok
    assert report.anchors.problems == ("line 12 of anchors.jsonl (run r #3) does not follow "
                                       "line 11: a line was removed, inserted or moved before "
                                       "it",)
    assert all(r.ok for r in report.runs)


def test_missing_key(ws: Path, attacker: Attacker) -> None:
    (ws / "anchor.key").unlink()
    attacker.execute("UPDATE events SET payload = ? WHERE run_id = 'z' AND seq = 2",
                     (json.dumps({"text": "edited"}),))
    recompute(attacker, "z")
    r = mapek(ws, "kb", "verify")
    assert r.returncode == 3
    out = r.stdout.replace("\n", " ")
    assert "anchor key" in out and "is missing: the anchors cannot be authenticated" in out
    assert "BAD  z  first bad event #2" in out  # still compared with the anchors as they stand
    # and no new key is made behind the reader's back: appends go on, unanchored, said once
    with open_log(None, Workspace.open(ws, create=False)) as log:
        fill(log, "z", 1)  # type: ignore[arg-type]
    assert not (ws / "anchor.key").exists()


def test_key_readable_by_others_is_reported(ws: Path) -> None:
    (ws / "anchor.key").chmod(0o644)
    r = mapek(ws, "kb", "verify")
    assert r.returncode == 3 and "readable by others" in r.stdout.replace("\n", " ")


def test_old_workspace_is_not_anchored_then_anchored(tmp_path: Path) -> None:
    home = tmp_path / "old"
    home.mkdir()
    with SQLiteEventLog(home / "log.sqlite3") as bare:  # written before anchoring existed
        fill(bare, "old", 5)
        fill(bare, "older", 2)
    r = mapek(home, "kb", "verify")
    assert r.returncode == 0, r.stdout
    assert "not anchored: written before anchoring began" in r.stdout
    with KnowledgeBase.open(Workspace.open(home, create=False)) as kb:
        kb.record("old", "message", "cfo", {"text": "resumed after the upgrade"})
        report = kb.verify()
    old, older = report.runs
    assert (old.ok, old.anchored, old.note) == (True, 6, None)  # #1..#6, through the chain
    assert (older.ok, older.anchored) == (True, 0) and older.note is not None


def test_unanchored_tail_is_a_note(ws: Path) -> None:
    with SQLiteEventLog(ws / "log.sqlite3") as bare:  # a writer that keeps no anchors
        fill(bare, "a", 2)
    with open_log(None, Workspace.open(ws, create=False)) as log:
        a = log.verify("a").runs[0]
    assert a.ok and a.anchored == N and a.note == "#11..#12 not anchored (appended after the " \
        "last anchor)"


def test_concurrent_writers_keep_one_anchor_chain(ws: Path) -> None:
    code = ("import sys; from mapek.config import Workspace; from mapek.knowledge.base import "
            "open_log; from mapek.models import EventDraft\n"
            "with open_log(None, Workspace.open(sys.argv[1])) as log:\n"
            "    for i in range(150):\n"
            "        log.append_many([EventDraft(run_id=sys.argv[2], kind='message',"
            " payload={'i': i})] * (1 + i % 3))\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(ws), run])
             for run in ("p", "q", "p")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    with open_log(None, Workspace.open(ws, create=False)) as log:
        report = log.verify()
    assert report.ok, str(report)
    assert report.anchors is not None and report.anchors.lines == 2 * N + 3 + 450
    p = next(r for r in report.runs if r.run_id == "p")
    assert p.events == 2 * 300 and p.anchored == p.events


def test_anchor_lines_are_canonical_for_awkward_run_ids(tmp_path: Path) -> None:
    """The writer spells each line's body out by hand (it runs after every append): the reader,
    which re-encodes the body canonically, must find every signature good."""
    home = tmp_path / "odd"
    runs = ['quote"and\\backslash', "ümlaut ☃", "tab\there", "x" * 300]
    with open_log(None, Workspace.open(home)) as log:
        for run in runs:
            fill(log, run, 2)  # type: ignore[arg-type]
        report = log.verify()
    assert report.ok, str(report)
    assert [r.anchored for r in report.runs] == [2] * len(runs)
    assert report.anchors is not None and report.anchors.lines == 2 * len(runs)


def test_a_writer_stopped_holding_the_anchor_lock_costs_an_anchor_not_the_append(
        ws: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """A process that took the anchor file's lock and was stopped (Ctrl-Z) does not block the
    others' appends for ever: after ``lock_wait`` an append goes on unanchored, said once on
    stderr, and once the lock is let go the next anchor covers it through the chain."""
    import signal

    code = ("import fcntl, os, signal, sys; fd = os.open(sys.argv[1], os.O_RDWR); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); "
            "os.kill(os.getpid(), signal.SIGSTOP)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(ws / "anchors.jsonl")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with open_log(None, Workspace.open(ws, create=False)) as log:
            assert isinstance(log, SQLiteEventLog) and log.anchors is not None
            log.anchors.lock_wait = 0.3
            fill(log, "a", 2)  # waits 0.3 s each, then appends unanchored
            assert log.last_seq("a") == N + 2
            err = capfd.readouterr().err
            assert err.count("cannot anchor the event log") == 1, err
            assert "held its lock for 0.3 s" in err
            holder.send_signal(signal.SIGCONT)
            holder.kill()
            holder.wait(timeout=30)
            fill(log, "a", 1)  # the lock is free again: anchored, covering #11 and #12
            a = log.verify("a").runs[0]
        assert a.ok and a.anchored == N + 3 and not a.note, a
    finally:
        if holder.poll() is None:
            holder.send_signal(signal.SIGCONT)
            holder.kill()
            holder.wait(timeout=30)
