"""``mapek tui`` end to end: the installed command in a real terminal (tmux), typed into and
read back from the screen; and the bad input refused before the app starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mapek.config import Settings
from mapek.knowledge import KnowledgeBase

from .conftest import RUN_WAITING

MAPEK = str(Path(sys.executable).with_name("mapek"))
TMUX = shutil.which("tmux") or "/usr/bin/tmux"


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[list[str]]:
    """A private tmux server (its own socket), killed afterwards."""
    base = [TMUX, "-S", str(tmp_path / "tmux.sock")]
    yield base
    subprocess.run([*base, "kill-server"], capture_output=True, timeout=10)


def _screen(base: list[str]) -> str:
    return subprocess.run([*base, "capture-pane", "-p", "-t", "t"], capture_output=True,
                          text=True, timeout=10).stdout


def _wait_for(base: list[str], text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _screen(base)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; the screen:\n{screen}")


@pytest.mark.skipif(not os.path.exists(TMUX), reason="tmux is not installed")
def test_attach_interject_and_read_the_screen(scripted_home: Path, tmux: list[str]) -> None:
    env = ["-e", f"MAPEK_HOME={scripted_home}", "-e", "TERM=xterm-256color"]
    subprocess.run([*tmux, "new-session", "-d", "-s", "t", "-x", "100", "-y", "30", *env,
                    # COLUMNS/LINES (set under pytest) would pin Textual's idea of the size
                    f"env -u COLUMNS -u LINES {MAPEK} tui --attach {RUN_WAITING}; sleep 30"],
                   check=True, timeout=10)
    screen = _wait_for(tmux, "discussion")
    assert "budgets · breaker" not in screen  # 100 columns: the discussion has the width
    subprocess.run([*tmux, "send-keys", "-t", "t", "s"], check=True, timeout=10)
    screen = _wait_for(tmux, "budgets · breaker")  # s: the side panes, and back
    assert "observer" in screen
    subprocess.run([*tmux, "send-keys", "-t", "t", "s"], check=True, timeout=10)
    _wait_for(tmux, "discussion")
    _wait_for(tmux, "wait for your approval")  # the banner: the run waits for the human
    subprocess.run([*tmux, "send-keys", "-t", "t", "i"], check=True, timeout=10)
    _wait_for(tmux, "interject (Ctrl+S sends")
    subprocess.run([*tmux, "send-keys", "-t", "t", "-l", "hello from a real terminal"],
                   check=True, timeout=10)
    _wait_for(tmux, "26 characters")
    subprocess.run([*tmux, "send-keys", "-t", "t", "C-s"], check=True, timeout=10)
    _wait_for(tmux, "you interject: hello from a real terminal")
    with KnowledgeBase.open(Settings(home=scripted_home).workspace(create=False)) as kb:
        [said] = kb.events(RUN_WAITING, kinds=["interjection"])
    assert said.payload == {"text": "hello from a real terminal", "to": None}
    # Too small: a message, not a crash; back to normal when the window grows again.
    subprocess.run([*tmux, "resize-window", "-t", "t", "-x", "40", "-y", "12"], check=True,
                   timeout=10)
    _wait_for(tmux, "too small")
    subprocess.run([*tmux, "resize-window", "-t", "t", "-x", "100", "-y", "30"], check=True,
                   timeout=10)
    _wait_for(tmux, "discussion")
    subprocess.run([*tmux, "send-keys", "-t", "t", "q"], check=True, timeout=10)
    deadline = time.monotonic() + 15
    while "discussion" in _screen(tmux) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "discussion" not in _screen(tmux)  # the app quit and gave the terminal back


def test_attach_to_a_run_that_does_not_exist(scripted_home: Path) -> None:
    r = subprocess.run([MAPEK, "tui", "--attach", "20990101-000000-ffffff"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip() == ("mapek: error: no run '20990101-000000-ffffff' in this "
                                "workspace (see `mapek runs list`)")
    assert "\x1b[?1049h" not in r.stdout  # the app never took the screen


def test_topic_and_attach_together_are_refused(scripted_home: Path) -> None:
    r = subprocess.run([MAPEK, "tui", "a topic", "--attach", RUN_WAITING],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "not both" in r.stderr


@pytest.mark.skipif(not os.path.exists(TMUX), reason="tmux is not installed")
def test_a_new_session_with_its_limits(home: Path, tmux: list[str]) -> None:
    env = ["-e", f"MAPEK_HOME={home}", "-e", "TERM=xterm-256color"]
    subprocess.run([*tmux, "new-session", "-d", "-s", "t", "-x", "100", "-y", "30", *env,
                    f"env -u COLUMNS -u LINES {MAPEK} tui 'Should we rewrite the billing "
                    "system?' --max-turns 8 --max-usd 0.5 --time-limit 600; sleep 30"],
                   check=True, timeout=10)
    screen = _wait_for(tmux, "turns 0/8")  # the gauge counts to the session's own limit
    subprocess.run([*tmux, "send-keys", "-t", "t", "q"], check=True, timeout=10)
    _wait_for(tmux, "goes on; reopen it with")
    with KnowledgeBase.open(Settings(home=home).workspace(create=False)) as kb:
        [run] = kb.runs()
        [started] = kb.events(run.run_id, kinds=["run.started"])
    from mapek.api import Session
    from mapek.breaker.review import record_override

    with Session.attach(run.run_id, home=home) as s:  # the app's worker goes on: stop it
        assert not s.owns_worker
        record_override(s.kb, run.run_id, force_open=True, reason="test over")
        deadline = time.monotonic() + 60
        while s.is_running():
            assert time.monotonic() < deadline, "the tripped worker is still running"
            time.sleep(0.1)
    cfg = started.payload["config"]
    assert (cfg["max_turns"], cfg["max_usd"], cfg["time_limit"]) == (8, 0.5, 600.0)
    assert "$0.000/$0.500" in screen


def test_limits_with_attach_are_refused(scripted_home: Path) -> None:
    r = subprocess.run([MAPEK, "tui", "--attach", RUN_WAITING, "--max-usd", "1"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--max-usd set a new session's limits" in r.stderr
