"""`mapek workflow`: a durable run of the shipped workflow file, and bad input (one line, exit 2,
the log intact)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mapek.knowledge import KnowledgeBase
from mapek.ledger import Ledger

REPO = Path(__file__).resolve().parents[2]
MAPEK = str(Path(sys.executable).with_name("mapek"))
WEEKLY = REPO / "knowledge" / "workflows" / "weekly-report.yaml"


def _mapek(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MAPEK, *args], capture_output=True, text=True, check=False,
                          timeout=120)


def test_a_durable_run_and_its_resume_from_the_ledger(home: Path) -> None:
    first = _mapek("workflow", "run", str(WEEKLY), "--run", "weekly-1", "--json")
    # fs_delete is destructive: nobody approves it here, so the run stops there (exit 1)
    assert first.returncode == 1, first.stderr
    res = json.loads(first.stdout)
    assert [s["outcome"] for s in res["steps"]] == ["ok"] * 6 + ["needs_approval"]
    report = home / "runs" / "weekly-1" / "files" / "report.md"
    assert report.read_text(encoding="utf-8").startswith("# Week 48")
    again = _mapek("workflow", "run", str(WEEKLY), "--resume", "weekly-1")
    assert again.returncode == 1 and "7 from the ledger" in again.stdout
    with KnowledgeBase.open(home, index_on_record=False) as kb:
        effects = Ledger(kb, "weekly-1").effects()
        writes = [e for e in effects if e.attempts]
        assert [e.tool for e in writes] == ["fs_write", "sql_exec", "fs_write"]
        assert all(e.status == "done" and e.attempts == 1 for e in writes)
        assert len(kb.events("weekly-1", kinds=["effect.intent"])) == 3
        assert kb.verify("weekly-1").ok
    listed = _mapek("workflow", "effects", "weekly-1")
    assert listed.returncode == 0 and listed.stdout.count("done") == 3


def test_bad_input_is_one_line_and_exit_2(home: Path, tmp_path: Path) -> None:
    cases = [
        (("workflow", "run", str(tmp_path / "nope.yaml")), "no such workflow file"),
        (("workflow", "run", str(WEEKLY), "--tools", "no_such_module:tools"), "cannot load it"),
        (("workflow", "run", str(WEEKLY), "--resume", "ghost"), "no run 'ghost'"),
        (("workflow", "run", str(WEEKLY), "--run", "a", "--resume", "b"), "not both"),
        (("workflow", "effects", "ghost"), "no run 'ghost'"),
        (("workflow", "answer", "ghost", "abc", "--run"), "no run 'ghost'"),
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps:\n  - tool: launch_rockets\n", encoding="utf-8")
    cases.append((("workflow", "run", str(bad)), "unknown tool 'launch_rockets'"))
    for args, says in cases:
        r = _mapek(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert says in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
    r = _mapek("workflow", "run", str(WEEKLY), "--run", "weekly-2")
    assert r.returncode == 1
    r = _mapek("workflow", "answer", "weekly-2", "0000000000", "--run")
    assert r.returncode == 2 and "no effect" in r.stderr
    with KnowledgeBase.open(home, index_on_record=False) as kb:
        assert kb.verify().ok
