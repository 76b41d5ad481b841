"""Opening a log that is missing, unreadable or not ours gives one clear error, and changes
nothing on disk; a storage failure while appending loses nothing already logged."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from mapek.errors import StorageError, UserError, WorkspaceError
from mapek.knowledge import KnowledgeBase, SQLiteEventLog
from mapek.knowledge.sqlite_log import SCHEMA_VERSION
from mapek.models import EventDraft


def test_missing_workspace(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="does not exist"):
        KnowledgeBase.open(tmp_path / "absent", create=False)
    with pytest.raises(WorkspaceError, match="does not exist"):
        SQLiteEventLog(tmp_path / "absent" / "log.sqlite3")
    assert not (tmp_path / "absent").exists()


def test_workspace_without_a_log(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="no event log"):
        KnowledgeBase.open(tmp_path, create=False)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    junk = b"these are my notes, not a database\n" * 200
    path.write_bytes(junk)
    with pytest.raises(WorkspaceError, match="is not a SQLite database") as info:
        KnowledgeBase.open(tmp_path)
    assert isinstance(info.value, UserError) and info.value.path == str(path)
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)
    assert path.read_bytes() == junk


@pytest.mark.parametrize("table", ["customers", "meta"])
def test_a_database_that_is_not_ours(tmp_path: Path, table: str) -> None:
    path = tmp_path / "log.sqlite3"
    con = sqlite3.connect(path)
    con.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute(f"INSERT INTO {table} (name) VALUES ('ada')")
    con.commit()
    con.close()
    with pytest.raises(WorkspaceError, match="a SQLite database but not a mapek event log"):
        SQLiteEventLog(path)
    con = sqlite3.connect(path)
    assert con.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall() == [
        (table,)]
    con.close()


def test_a_log_from_a_newer_mapek(log: SQLiteEventLog, log_path: Path) -> None:
    log.append(EventDraft(run_id="r", kind="k"))
    con = sqlite3.connect(log_path)
    con.execute("UPDATE meta SET value = ? WHERE key = 'version'", (str(SCHEMA_VERSION + 1),))
    con.commit()
    con.close()
    with pytest.raises(WorkspaceError, match="newer mapek"):
        SQLiteEventLog(log_path)


def test_busy_database_fails_cleanly_and_loses_nothing(log_path: Path) -> None:
    with SQLiteEventLog(log_path, busy_timeout=0.05) as log:
        first = log.append(EventDraft(run_id="r", kind="k", payload={"n": 1}))
        other = sqlite3.connect(log_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(StorageError, match="locked"):
            log.append(EventDraft(run_id="r", kind="k", payload={"n": 2}))
        assert log.events("r") == [first]  # readers are not blocked, nothing was lost
        other.execute("ROLLBACK")
        other.close()
        assert log.append(EventDraft(run_id="r", kind="k")).seq == 2
        assert log.verify().ok


# -- permissions: root reads everything, so as root the check runs as user "nobody" ------------

@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder another user can reach (pytest's tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="mapek-perm-"))
    path.chmod(0o755)
    yield path
    for p in sorted(path.rglob("*"), reverse=True):
        p.chmod(0o700)
        p.unlink() if p.is_file() else p.rmdir()
    path.rmdir()


_OPEN = """
import os, sys
from mapek.errors import MapekError
from mapek.knowledge import KnowledgeBase
if os.geteuid() == 0:  # become "nobody" (the interpreter is already loaded)
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
try:
    with KnowledgeBase.open(sys.argv[1], create=False) as kb:
        print("read", kb.log.last_seq("r"))
        kb.record("r", "k")
except MapekError as e:
    print(type(e).__name__, e)
else:
    print("recorded")
"""


def open_as_other_user(path: Path) -> str:
    """Open the knowledge base at ``path`` in a subprocess (as ``nobody`` when we are root)
    and return the error line it prints."""
    done = subprocess.run([sys.executable, "-c", _OPEN, str(path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().replace("\n", " | ")


def make_log(folder: Path) -> Path:
    folder.mkdir()
    with SQLiteEventLog(folder / "log.sqlite3") as log:
        log.append(EventDraft(run_id="r", kind="k"))
    return folder


ROOT = os.geteuid() == 0


@pytest.mark.parametrize(
    ("folder_mode", "log_mode", "message"),
    [
        (0o700 if ROOT else 0, 0o666, "WorkspaceError workspace {ws} is not readable and writable"),
        (0o777, 0o600 if ROOT else 0,
         "WorkspaceError cannot open the event log {ws}/log.sqlite3: not readable and writable"),
        (0o777, 0o644 if ROOT else 0o444,
         "read 1 | WorkspaceError the event log {ws}/log.sqlite3 is read-only"),
        (0o777, 0o666, "read 1 | recorded"),
    ],
    ids=["folder", "log-unreadable", "log-read-only", "control"],
)
def test_unreadable_workspace_or_log(shared_dir: Path, folder_mode: int, log_mode: int,
                                     message: str) -> None:
    ws = make_log(shared_dir / "ws")
    for f in ws.iterdir():
        f.chmod(0o666)
    (ws / "log.sqlite3").chmod(log_mode)
    ws.chmod(folder_mode)
    try:
        assert open_as_other_user(ws) == message.format(ws=ws)
    finally:
        ws.chmod(0o755)
        (ws / "log.sqlite3").chmod(0o644)
    with SQLiteEventLog(ws / "log.sqlite3", create=False) as log:  # nothing was lost
        assert log.verify().ok
        assert log.last_seq("r") == (2 if message.endswith("recorded") else 1)
