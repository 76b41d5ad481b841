"""The process entry points mapek starts itself (the worker, the watchdog) and
``python -m mapek.workflow``: the argv :class:`mapek.api.Session` and scripts give them, their
exit codes, and one clear line for a mistake."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mapek.breaker import watchdog
from mapek.config import Settings
from mapek.knowledge import KnowledgeBase
from mapek.loop import worker
from mapek.workflow import main as workflow_main

Main = Callable[[list[str] | None], int]


def run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize(("main", "options"), [
    (worker.main, ["--home", "--rounds", "--watched"]),
    (watchdog.main, ["--pid", "--home", "--policy", "--poll"]),
    (workflow_main, ["--run", "--resume", "--tools", "--root", "--home", "--json"]),
])
def test_help_lists_the_options(main: Main, options: list[str],
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(o in out for o in options), out


@pytest.mark.parametrize(("main", "argv", "says"), [
    (worker.main, [], "Missing argument 'RUN'"),
    (worker.main, ["r1", "--rounds", "two"], "Invalid value for '--rounds'"),
    (worker.main, ["r1", "--bogus"], "No such option: --bogus"),
    (watchdog.main, ["r1"], "Missing option '--pid'"),
    (watchdog.main, ["r1", "--pid", "x"], "Invalid value for '--pid'"),
    (workflow_main, [], "Missing argument 'FILE'"),
])
def test_usage_mistakes_exit_2(main: Main, argv: list[str], says: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert says in capsys.readouterr().err


def test_worker_as_the_session_starts_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    r = run("mapek.loop.worker", "r1", "--home", str(missing), "--watched", "--rounds", "1")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == (f"mapek worker: error: workspace {missing} does not exist "
                                "(set MAPEK_HOME or run a session first)")
    with KnowledgeBase.open(Settings(home=tmp_path / "ws").workspace(create=True)):
        pass  # a workspace with a log, without that run
    r = run("mapek.loop.worker", "ghost", "--home", str(tmp_path / "ws"), "--watched")
    assert r.returncode == 2
    assert r.stderr.strip() == ("mapek worker: error: no run 'ghost' in this workspace "
                                "(see `mapek runs list`)")


def test_watchdog_as_the_session_starts_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    r = run("mapek.breaker.watchdog", "r1", "--pid", "1", "--home", str(missing))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().startswith(f"mapek watchdog: error: workspace {missing} ")


def test_workflow_module_runs_a_file(tmp_path: Path) -> None:
    wf = tmp_path / "wf.yaml"
    wf.write_text("name: hello\nsteps:\n  - tool: fs_list\n    args: {path: .}\n")
    r = run("mapek.workflow", str(wf), "--home", str(tmp_path / "ws"), "--run", "w1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "run w1: finished, 1 of 1 calls ok"
    r = run("mapek.workflow", str(tmp_path / "none.yaml"), "--home", str(tmp_path / "ws"))
    assert r.returncode == 2
    assert r.stderr.strip().startswith("mapek workflow: ")

