"""The code passes ``ruff check`` (rules in pyproject.toml): a finding fails the suite and CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHS = ["mapek", "tests", "benchmarks", "examples", "apps", "tasks.py"]


def test_ruff_check_passes() -> None:
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache",
                        "--output-format", "concise", *PATHS], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"ruff check found problems:\n{r.stdout}{r.stderr}"
