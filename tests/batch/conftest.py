"""The batch tests' helpers (``_batchrig``) on the import path."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _turns_take_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The offline model streams each persona turn in pieces 10 ms apart (about 0.2 s a turn):
    these tests catch cells while they run (four at once, a budget seen by the driver every
    0.25 s, a worker held after two turns), and on the instant offline model a short cell can
    end before anyone looks."""
    monkeypatch.setenv("MAPEK_OFFLINE_STREAM_DELAY", "0.01")
