"""mapek with ``MAPEK_LOG_URL=postgresql://...`` as a user runs it: `kb verify` on the server's
log, a whole discussion whose events and LangGraph checkpoints live in PostgreSQL, and a worker
killed with SIGKILL and resumed from its PostgreSQL checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from mapek.api import Session
from mapek.knowledge.pg_log import PostgresEventLog
from mapek.models import EventDraft

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"


def mapek(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def pg_home(home: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A workspace whose log (and checkpoints) are the test database: its URL. (The folder
    still holds the vector index and the runs' files.)"""
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("MAPEK_LOG_URL", pg_url)
    return pg_url


def checkpoints(url: str, run_id: str) -> int:
    with psycopg.connect(url) as con:
        try:
            row = con.execute("SELECT count(*) FROM checkpoints WHERE thread_id = %s",
                              (run_id,)).fetchone()
        except psycopg.errors.UndefinedTable:  # the worker has not set its saver up yet
            return 0
    return int(row[0]) if row else 0


def test_kb_verify_on_a_postgresql_log(pg_home: str) -> None:
    with PostgresEventLog(pg_home) as log:
        for i in range(3):
            log.append(EventDraft(run_id="r1", kind="message", actor="cfo", payload={"i": i}))
        log.append(EventDraft(run_id="r2", kind="message", actor="cfo"))
    r = mapek("kb", "verify")
    assert r.returncode == 0, r.stderr
    assert "ok   r1  3 events" in r.stdout and "ok   r2  1 events" in r.stdout
    with psycopg.connect(pg_home, autocommit=True) as con:  # an edit behind the log's back
        con.execute("ALTER TABLE mapek_events DISABLE TRIGGER mapek_events_no_update")
        con.execute("UPDATE mapek_events SET payload = '{\"i\":7}' WHERE run_id = 'r1' AND seq = 2")
    r = mapek("kb", "verify")
    assert r.returncode == 3
    assert "BAD  r1  first bad event #2: edited" in r.stdout and "ok   r2" in r.stdout
    r = mapek("kb", "verify", "--run", "r1", "--json")
    assert r.returncode == 3 and json.loads(r.stdout)["ok"] is False


def test_unreachable_server_is_one_line(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home.mkdir(parents=True)
    monkeypatch.setenv("MAPEK_LOG_URL", "postgresql://mapek:hunter2@127.0.0.1:1/mapek")
    r = mapek("kb", "verify")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert r.stderr.startswith("mapek: error: cannot connect to the event log at postgresql://")
    assert "hunter2" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_discussion_with_its_log_and_checkpoints_in_postgresql(home: Path, pg_home: str) -> None:
    r = mapek("discuss", TOPIC, "--non-interactive", "--on-question", "defer",
              "--max-turns", "4")
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("run ")
    run_id = last.split()[1]
    verify = mapek("kb", "verify")
    assert verify.returncode == 0 and f"ok   {run_id}" in verify.stdout
    listed = json.loads(mapek("runs", "list", "--json").stdout)
    assert [x["run_id"] for x in listed] == [run_id]
    with PostgresEventLog(pg_home, create=False) as log:
        kinds = Counter(e.kind for e in log.events(run_id))
    assert kinds["run.started"] == 1 and kinds["run.finished"] == 1 and kinds["message"] >= 2
    assert checkpoints(pg_home, run_id) > 0
    # neither the log nor the checkpoints went to the workspace's SQLite files
    assert not (home / "log.sqlite3").exists() and not (home / "checkpoints.sqlite3").exists()


def test_killed_worker_resumes_from_its_postgresql_checkpoint(home: Path, pg_home: str) -> None:
    s = Session.create(TOPIC, ["cfo", "engineer", "skeptic", "legal"], human="queue",
                       max_turns=20)
    run_id = s.run_id
    s.start()
    deadline = time.time() + 120
    # killed once its first checkpoint is in PostgreSQL (written every two rounds: a round
    # count would race the loop's speed)
    while not checkpoints(pg_home, run_id) and time.time() < deadline:
        time.sleep(0.02)
    assert checkpoints(pg_home, run_id) > 0
    s.kill()  # SIGKILL
    assert s.result().status == "died"
    before = s.history()
    s.close()
    r = mapek("resume", run_id)
    assert r.returncode == 0, r.stderr
    with PostgresEventLog(pg_home, create=False) as log:
        after = log.events(run_id)
        assert log.verify(run_id).ok
    assert [e.hash for e in after[: len(before)]] == [e.hash for e in before]  # nothing lost
    assert after[-1].kind == "run.finished"
    turns = Counter((e.payload["round"], e.actor) for e in after if e.kind == "message")
    assert max(turns.values()) == 1  # no turn doubled
    assert mapek("kb", "verify").returncode == 0
    assert not (home / "checkpoints.sqlite3").exists()
