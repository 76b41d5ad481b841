"""SVG snapshots (pytest-textual-snapshot) of the main screens at 80x24 and 160x48.

The runs are scripted logs with fixed run ids and a fixed clock (``scripted_home``) and the
app's own clock is fixed, so nothing in a screenshot depends on when it is taken. Update
after an intended change with ``pytest tests/tui --snapshot-update`` and look at the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mapek_tui import MapekApp

from mapek.api import Session

from .conftest import RUN_TRIPPED, RUN_WAITING, T0, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


def _app(run_id: str) -> MapekApp:
    return MapekApp(Session.attach(run_id), clock=lambda: T0 + 400.0)


def _keys(*keys: str, status: str | None = None) -> Any:
    async def run_before(pilot: Any) -> None:
        await settle(pilot.app, pilot, status=status)
        log = pilot.app.discussion
        for _ in range(40):  # the discussion's own scroll to its last line has happened
            if log.scroll_y >= log.max_scroll_y:
                break
            await pilot.pause(0.05)
        for k in keys:
            if k == "_":  # a thread worker is loading: give it time
                await pilot.pause(0.8)
            else:
                await pilot.press(k)
                await pilot.pause(0.4)  # a dialog's layout settles (longer on a busy machine)
                await pilot.wait_for_scheduled_animations()
        for w in pilot.app.screen.query("Input, TextArea"):
            w.cursor_blink = False  # a steady cursor: the same picture every time
        await pilot.pause(0.1)
        await pilot.wait_for_scheduled_animations()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_main_waiting_for_the_human(scripted_home: Path, snap_compare: Any,
                                    size: tuple[int, int]) -> None:
    assert snap_compare(_app(RUN_WAITING), terminal_size=size,
                        run_before=_keys(status="running"))


@pytest.mark.parametrize("size", SIZES)
def test_main_tripped(scripted_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(_app(RUN_TRIPPED), terminal_size=size,
                        run_before=_keys(status="tripped"))


@pytest.mark.parametrize("size", SIZES)
def test_answer_dialog(scripted_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(_app(RUN_WAITING), terminal_size=size,
                        run_before=_keys("a", status="running"))


@pytest.mark.parametrize("size", SIZES)
def test_approval_dialog(scripted_home: Path, snap_compare: Any,
                         size: tuple[int, int]) -> None:
    assert snap_compare(_app(RUN_TRIPPED), terminal_size=size,
                        run_before=_keys("p", status="tripped"))


@pytest.mark.parametrize("size", SIZES)
def test_help(scripted_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(_app(RUN_WAITING), terminal_size=size,
                        run_before=_keys("question_mark", status="running"))


@pytest.mark.parametrize("size", SIZES)
def test_history(scripted_home: Path, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(_app(RUN_WAITING), terminal_size=size,
                        run_before=_keys("h", "_", status="running"))
