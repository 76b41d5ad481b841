"""Turns shown as they are spoken: the discussion pane's in-progress line (dim, a cursor) from
the run's ``partial/`` folder, replaced by the message when it lands in the log; with a real
worker streaming the offline model's turns, and with the folder written by hand to pin the
order of events (the folder still holding a committed turn, a dead worker's partial)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from mapek_tui import MapekApp
from mapek_tui.widgets import DiscussionPane

from mapek.api import Session
from mapek.llm.offline import STREAM_DELAY_ENV
from mapek.partial import PartialWriter, partial_path
from mapek.render import CURSOR

from .conftest import INFRA, RUN_WAITING, T0, settle


def _text(pane: DiscussionPane) -> str:
    return "\n".join(strip.text.rstrip() for strip in pane.lines)


async def _until(pilot: object, check: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    return False


async def test_an_in_progress_line_grows_then_gives_way_to_the_message(
        scripted_home: Path) -> None:
    s = Session.attach(RUN_WAITING)  # "running": its worker's pid (this process) is alive
    run_dir = s.workspace.run_dir(RUN_WAITING)
    app = MapekApp(s, clock=lambda: T0 + 400)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot, status="running")
        pane = app.discussion
        before = _text(pane)
        partial = PartialWriter(run_dir, "skeptic", "turn:3:skeptic", every=0)
        partial.update("Before we sign anything")
        assert await _until(pilot, lambda: "Before we sign anything" + CURSOR in _text(pane))
        shown = _text(pane)
        assert shown.startswith(before) and "skeptic (" in shown and "speaking…" in shown
        partial.update("Before we sign anything, price the egress.")
        assert await _until(pilot, lambda: "price the egress." + CURSOR in _text(pane))
        assert _text(pane).count("speaking…") == 1  # rewritten in place, not appended
        # the message is committed; the worker has not removed its partial yet
        final = "Before we sign anything, price the egress. Then decide."
        ev = s.kb.record(RUN_WAITING, "message", "skeptic",
                         {"text": final, "round": 3, "task": "discuss", "qid": None,
                          "turn": {"stance": "oppose", "text": final}}, key="turn:3:skeptic")
        await settle(app, pilot, seq=ev.seq)
        await pilot.pause(0.3)  # the follower reads the folder again: still there, still not
        text = _text(pane)
        assert "Then decide." in text and "speaking…" not in text
        assert text.count(CURSOR) == before.count(CURSOR)  # the run's title has one
        assert text.startswith(before)
        partial.clear()
        # a dead worker's turn in progress is never shown
        partial_path(run_dir, "legal").write_text(
            '{"persona": "legal", "key": "turn:4:legal", "text": "half a thought", '
            '"pid": 999999999, "updated": 0}')
        await pilot.pause(0.3)
        assert "half a thought" not in _text(pane)
    s.close()


async def test_a_live_worker_streams_its_turns_into_the_pane(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STREAM_DELAY_ENV, "0.05")
    s = Session.create(INFRA, ["cfo", "engineer"], human="queue", max_turns=4)
    app = MapekApp(s, start=True)
    seen: list[str] = []
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            def speaking() -> bool:
                text = _text(app.discussion)
                if "speaking…" in text:
                    seen.append(text)
                return len(seen) >= 3 and seen[-1] != seen[0]

            assert await _until(pilot, speaking, timeout=60)
            first = s.kb.events(s.run_id, kinds=["message"])
            assert await _until(pilot, lambda: len(s.kb.events(
                s.run_id, kinds=["message"])) >= 2, timeout=60)
            await settle(app, pilot, timeout=30)
            messages = s.kb.events(s.run_id, kinds=["message"])
            text = _text(app.discussion)
            for m in messages[:2]:  # the whole turns are there
                assert " ".join(m.payload["text"].split()[:6]) in " ".join(text.split())
    finally:
        s.kill()
    assert len(first) < 2  # the line was in progress before its turn was in the log
    s.close()


def test_a_bad_stream_delay_is_refused_before_the_app_starts(
        scripted_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    monkeypatch.setenv(STREAM_DELAY_ENV, "soon")
    mapek = str(Path(sys.executable).with_name("mapek"))
    r = subprocess.run([mapek, "tui", "--attach", RUN_WAITING], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip() == ("mapek: error: MAPEK_OFFLINE_STREAM_DELAY must be seconds "
                                "from 0 to 5, not 'soon'")
    assert "\x1b[?1049h" not in r.stdout  # the app never took the screen
