"""The package passes ``mypy --strict mapek`` (settings in pyproject.toml): an error fails the
suite and CI. mypy's cache (``.mypy_cache`` at the repository root, git-ignored) makes a repeat
run take seconds; a first run reads the dependencies' types too (a minute of CPU, more on a busy
machine: hence the longer timeout)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(600)
def test_mypy_strict_passes() -> None:
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict",
                        "--cache-dir", str(ROOT / ".mypy_cache"), "mapek"], cwd=ROOT,
                       capture_output=True, text=True, timeout=580)
    assert r.returncode == 0, f"mypy --strict found problems:\n{r.stdout}{r.stderr}"
    assert "Success: no issues found" in r.stdout, r.stdout


@pytest.mark.timeout(600)
def test_the_terminal_app_passes_mypy_strict() -> None:
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict",
                        "--cache-dir", str(ROOT / ".mypy_cache"), "apps/tui/mapek_tui"],
                       cwd=ROOT, capture_output=True, text=True, timeout=580)
    assert r.returncode == 0, f"mypy --strict found problems:\n{r.stdout}{r.stderr}"
    assert "Success: no issues found" in r.stdout, r.stdout
