"""Fixtures for the evidence tests (see ``_evidence_rig``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _evidence_rig import Rig, open_rig  # noqa: E402


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = open_rig(tmp_path)
    yield r
    r.kb.close()
