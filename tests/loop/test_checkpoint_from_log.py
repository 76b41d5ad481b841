"""A corrupt checkpoint file is named, with the way out, and the way out works: random bytes in
``checkpoints.sqlite3`` make ``mapek resume RUN`` say which file and ``--from-log`` in one line;
``mapek resume RUN --from-log`` moves the file aside and rebuilds the run from its event log
(real worker subprocesses), finishing with no turn and no model call repeated and a log that
verifies."""

from __future__ import annotations

import collections
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mapek.api import Session
from mapek.config import Settings, Workspace
from mapek.errors import CheckpointCorrupt
from mapek.knowledge.checkpoints import as_corrupt, check_checkpoints, discard_checkpoints


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=300)


def _events(home: Path, run: str) -> list[tuple[int, str, str | None, str]]:
    db = sqlite3.connect(home / "log.sqlite3")
    try:
        return db.execute("SELECT seq, kind, key, actor FROM events WHERE run_id = ? "
                          "ORDER BY seq", (run,)).fetchall()
    finally:
        db.close()


def _paused_run(home: Path) -> str:
    with Session.create("Open a Berlin office?", ["cfo", "engineer", "skeptic"], max_turns=8,
                        human="defer") as s:
        s.step(2)  # a real worker runs two rounds and pauses; its checkpoint is on disk
        assert s.result().status == "paused"
        return s.run_id


@pytest.mark.slow  # two real worker runs and four CLI processes
def test_a_corrupt_checkpoint_is_named_and_the_run_rebuilt_from_its_log(home: Path) -> None:
    run = _paused_run(home)
    before = _events(home, run)
    turns_before = [k for _, kind, k, _ in before if kind == "message"]
    assert len(turns_before) == 4
    ck = home / "checkpoints.sqlite3"
    ck.write_bytes(os.urandom(8192))
    for extra in ("-wal", "-shm"):
        Path(f"{ck}{extra}").unlink(missing_ok=True)

    r = _cli("resume", run)
    assert r.returncode == 1, (r.stdout, r.stderr)
    [line] = r.stderr.strip().splitlines()
    assert str(ck) in line and f"mapek resume {run} --from-log" in line
    assert "Traceback" not in r.stderr + r.stdout
    assert _events(home, run) == before  # nothing started, nothing written

    r = _cli("resume", run, "--from-log")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "checkpoint.discarded" in r.stdout and "max_turns" in r.stdout
    aside = [p.name for p in home.iterdir() if p.name.startswith("checkpoints.sqlite3.corrupt-")]
    assert len(aside) == 1  # the broken file is kept, aside, for a look

    after = _events(home, run)
    assert after[:len(before)] == before  # the log is only appended to
    turns = [k for _, kind, k, _ in after if kind == "message"]
    assert len(turns) == 8 and len(set(turns)) == 8, collections.Counter(turns)
    assert turns[:4] == turns_before
    discarded = next(s for s, kind, _, _ in after if kind == "checkpoint.discarded")
    calls = [a for s, kind, _, a in after if kind == "llm.call" and s > discarded]
    assert len(calls) == 4 + 1  # the four new turns and the synthesis: nothing asked twice
    assert sum(kind == "agenda" for _, kind, _, _ in after) == 1
    assert sum(kind == "run.finished" for _, kind, _, _ in after) == 1
    assert (home / "runs" / run / "synthesis.md").is_file()

    r = _cli("kb", "verify")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.slow
def test_from_log_on_a_sound_file_drops_only_the_runs_checkpoints(home: Path) -> None:
    ws = Workspace.open(home)
    run = _paused_run(home)
    check_checkpoints(Settings(), ws, run)  # sound: no error
    what = discard_checkpoints(Settings(), ws, run)
    assert "dropped" in what and (home / "checkpoints.sqlite3").is_file()
    db = sqlite3.connect(home / "checkpoints.sqlite3")
    try:
        assert db.execute("SELECT count(*) FROM checkpoints WHERE thread_id = ?",
                          (run,)).fetchone() == (0,)
    finally:
        db.close()


def test_what_counts_as_corruption(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "ws")
    err = as_corrupt(sqlite3.DatabaseError("database disk image is malformed"), ws, "R1")
    assert isinstance(err, CheckpointCorrupt) and "mapek resume R1 --from-log" in str(err)
    assert as_corrupt(sqlite3.OperationalError("database is locked"), ws) is None
    ws.checkpoints_path.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(CheckpointCorrupt, match="checkpoints.sqlite3 is corrupt"):
        check_checkpoints(Settings(home=ws.root), ws, "R1")
