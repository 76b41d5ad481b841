"""`mapek kb ...` as a user runs it: real subprocesses on a real workspace."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from mapek.config import Workspace
from mapek.knowledge import KnowledgeBase


def mapek(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=120)


def _fill(home: Path) -> None:
    with KnowledgeBase.open(Workspace.open(home)) as kb:
        kb.record("r1", "message", "cfo",
                  {"text": "The migration budget needs a payback plan."})
        kb.record("r1", "message", "engineer",
                  {"text": "We need a tested rollback for the cut-over."})
        kb.record("r1", "question", "legal",
                  {"qid": "q1", "text": "Who signs the vendor contract?"})
        kb.record("r2", "message", "cfo", {"text": "Pricing for the Berlin office looks high."})


def test_search_with_filters(home: Path) -> None:
    _fill(home)
    r = mapek("kb", "search", "rollback for the cut-over", "--json")
    assert r.returncode == 0, r.stderr
    hits = json.loads(r.stdout)
    assert hits[0]["persona"] == "engineer" and hits[0]["run_id"] == "r1"
    r = mapek("kb", "search", "budget", "--run", "r2", "--json")
    assert {h["run_id"] for h in json.loads(r.stdout)} == {"r2"}
    r = mapek("kb", "search", "contract", "--kind", "question", "--json")
    assert [h["kind"] for h in json.loads(r.stdout)] == ["question"]
    r = mapek("kb", "search", "budget")
    assert "r1#1" in r.stdout and "cfo" in r.stdout


def test_verify_and_reindex(home: Path) -> None:
    _fill(home)
    r = mapek("kb", "verify")
    assert r.returncode == 0 and "ok" in r.stdout
    r = mapek("kb", "reindex", "--json")
    assert json.loads(r.stdout) == {"indexed": 4}


def test_hand_edited_log_fails_verify_and_names_the_event(home: Path) -> None:
    _fill(home)
    con = sqlite3.connect(home / "log.sqlite3", isolation_level=None)
    con.execute("DROP TRIGGER events_no_update")
    con.execute("UPDATE events SET payload = ? WHERE run_id = 'r1' AND seq = 2",
                (json.dumps({"text": "We need no rollback."}),))
    con.close()
    r = mapek("kb", "verify")
    assert r.returncode == 3
    assert "r1" in r.stdout and "#2" in r.stdout
    assert "ok" in r.stdout  # r2 is untouched and still reported good
    r = mapek("kb", "verify", "--run", "r1", "--json")
    assert r.returncode == 3 and json.loads(r.stdout)["ok"] is False
    # nothing was lost: every event is still readable
    with KnowledgeBase.open(Workspace.open(home)) as kb:
        assert len(kb.events("r1")) == 3


def test_missing_workspace_is_one_line(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPEK_HOME", str(tmp_path / "absent"))
    r = mapek("kb", "verify")
    assert r.returncode == 2
    assert r.stderr.startswith("mapek: error: workspace") and "does not exist" in r.stderr
    assert "Traceback" not in r.stderr


def test_log_that_is_not_sqlite(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "log.sqlite3").write_text("this is not a database\n" * 100)
    r = mapek("kb", "verify")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "log.sqlite3" in r.stderr
    assert (home / "log.sqlite3").read_text().startswith("this is not a database")
