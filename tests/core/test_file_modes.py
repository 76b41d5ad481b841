"""Workspace files are private: a real ``mapek discuss`` (front end, worker, watchdog) and
``mapek kb reindex`` (Chroma) under a permissive umask leave every file 0600 and every folder
0700; the library, in a host process whose umask it must not change, creates its own files (log
and its -wal/-shm, checkpoints, anchors, keys, run folders) private all the same."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)  # what a default shell has: files 0644, folders 0755
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, int]:
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for dirpath, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = stat.S_IMODE(p.lstat().st_mode)
    return out


def _open_to_others(root: Path) -> dict[str, str]:
    return {k: oct(m) for k, m in _modes(root).items() if m & 0o077}


def test_a_session_leaves_nothing_readable_by_others(home: Path, open_umask: None) -> None:
    r = subprocess.run([sys.executable, "-m", "mapek.cli", "discuss", "Open a Berlin office?",
                        "--max-turns", "2", "--non-interactive"], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    # A session leaves the vector index to the next catch-up (the worker closes without it);
    # the catch-up writes Chroma's files, under the same umask.
    r = subprocess.run([sys.executable, "-m", "mapek.cli", "kb", "reindex"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    modes = _modes(home)
    for name in ("log.sqlite3", "checkpoints.sqlite3", "anchors.jsonl", "anchor.key"):
        assert name in modes, f"{name} was not written: the test does not see what it checks"
    assert any(k.endswith("synthesis.md") for k in modes)
    assert any(k.endswith("worker.log") for k in modes)
    assert any(k.startswith("chroma/") for k in modes)
    assert _open_to_others(home) == {}
    assert modes["."] == 0o700 and modes["log.sqlite3"] == 0o600


def test_the_library_creates_private_files_in_a_host_with_an_open_umask(
        tmp_path: Path, open_umask: None) -> None:
    from mapek.config import Workspace
    from mapek.knowledge import KnowledgeBase

    ws = Workspace.open(tmp_path / "nested" / "ws")
    with KnowledgeBase.open(ws.root, index_on_record=False) as kb:
        kb.record("r1", "run.started", "human", {"text": "t"})
        kb.record("r1", "message", "cfo", {"text": "hello"})
        ws.run_dir("r1")
        modes = _modes(ws.root)
        assert "log.sqlite3-wal" in modes  # open: the WAL files exist, with the log's mode
    assert _open_to_others(ws.root) == {}
    assert stat.S_IMODE((tmp_path / "nested").stat().st_mode) == 0o700  # made for it
    assert os.umask(0o022) == 0o022  # the host's umask is the host's
