from __future__ import annotations

import os
from pathlib import Path

import pytest

from mapek.config import Settings, Workspace
from mapek.errors import WorkspaceError


def test_default_home_and_env(home: Path) -> None:
    s = Settings()
    assert s.home == home
    ws = s.workspace()
    assert ws.root == home.resolve() and home.is_dir()
    assert ws.log_path.name == "log.sqlite3"
    assert ws.run_dir("r1").is_dir()


def test_missing_workspace_without_create(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="does not exist"):
        Workspace.open(tmp_path / "absent", create=False)


def test_workspace_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(WorkspaceError, match="not a folder"):
        Workspace.open(f)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_unreadable_workspace(tmp_path: Path) -> None:
    d = tmp_path / "locked"
    d.mkdir()
    d.chmod(0)
    try:
        with pytest.raises(WorkspaceError, match="not readable"):
            Workspace.open(d)
    finally:
        d.chmod(0o755)


def test_workspace_that_cannot_be_created() -> None:
    # /proc refuses new folders even to root: a stand-in for any uncreatable place.
    with pytest.raises(WorkspaceError, match="cannot create workspace"):
        Workspace.open("/proc/mapek-test/ws")
