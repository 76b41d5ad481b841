"""``python3 tasks.py test``: two passes (parallel, then serial), and what CI relies on: a pass
that collects nothing fails the run (pytest's exit 5), and the slow sample is drawn once over
both passes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import tasks  # noqa: E402

INI = """\
[pytest]
markers =
    serial: one at a time
"""


def _project(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "test_x.py").write_text(textwrap.dedent(body))
    return tmp_path


def _suite(root: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(tasks, "ROOT", root)
    monkeypatch.setattr(tasks, "PY", Path(sys.executable))
    monkeypatch.setenv("MAPEK_TEST_WORKERS", "2")
    for name in list(os.environ):  # this test may itself run in an xdist worker
        if name.startswith("PYTEST_XDIST_"):
            monkeypatch.delenv(name)
    # Only xdist: the installed plugins (textual's snapshots, ...) cost seconds per process.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p xdist.plugin")
    return tasks.run_suite()


def test_both_passes_run_and_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capfd: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path, """
        import os, pytest
        def test_pure(): assert os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw")
        @pytest.mark.serial
        def test_alone(): assert "PYTEST_XDIST_WORKER" not in os.environ
    """)
    assert _suite(root, monkeypatch) == 0
    out = capfd.readouterr().out
    assert "pass parallel: exit 0" in out and "pass serial: exit 0" in out
    assert out.count("1 passed") == 2  # each pass ran its one test


def test_a_pass_that_collects_nothing_fails_the_suite(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, "def test_pure(): pass\n")  # nothing for the serial pass
    assert _suite(root, monkeypatch) == 5


def test_a_failure_in_the_parallel_pass_wins_over_a_passing_serial_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, """
        import pytest
        def test_pure(): assert False
        @pytest.mark.serial
        def test_alone(): pass
    """)
    assert _suite(root, monkeypatch) == 1


SAMPLE_CONFTEST = f"""
import importlib.util
spec = importlib.util.spec_from_file_location("mapek_tests_conftest", {str(REPO / "tests" /
                                                                        "conftest.py")!r})
real = importlib.util.module_from_spec(spec)
spec.loader.exec_module(real)
pytest_collection_modifyitems = real.pytest_collection_modifyitems
"""
SAMPLE_TESTS = "import pytest\n" + "".join(
    f"@pytest.mark.slow\n{'@pytest.mark.serial' + chr(10) if i % 2 else ''}"
    f"def test_slow_{i}(): pass\n" for i in range(10))


def _collected(root: Path, marks: str, sample: str | None = "3") -> list[str]:
    env = {**os.environ, "MAPEK_SLOW_SEED": "2026-12-03", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("MAPEK_SLOW_SAMPLE", None)
    if sample is not None:
        env["MAPEK_SLOW_SAMPLE"] = sample
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", marks,
                          "-p", "no:cacheprovider"], cwd=root, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode in (0, 5), out.stdout[-2000:] + out.stderr[-2000:]
    return [ln for ln in out.stdout.splitlines() if "::" in ln]


def test_the_slow_sample_is_drawn_once_over_both_passes(tmp_path: Path) -> None:
    """The project's own hook (tests/conftest.py), on ten slow tests, half of them serial."""
    root = _project(tmp_path, SAMPLE_TESTS)
    (root / "pytest.ini").write_text(INI + "    slow: slow\n")
    (root / "conftest.py").write_text(SAMPLE_CONFTEST)
    assert len(_collected(root, "slow", sample=None)) == 10
    serial, parallel = _collected(root, "slow and serial"), _collected(root, "slow and not serial")
    assert len(serial) + len(parallel) == 3, (serial, parallel)
    assert not set(serial) & set(parallel)


@pytest.mark.parametrize("sample", ["all", "-1", "3.5"])
def test_a_slow_sample_that_is_not_a_count_is_one_clear_error(tmp_path: Path,
                                                              sample: str) -> None:
    root = _project(tmp_path, SAMPLE_TESTS)
    (root / "pytest.ini").write_text(INI + "    slow: slow\n")
    (root / "conftest.py").write_text(SAMPLE_CONFTEST)
    env = {**os.environ, "MAPEK_SLOW_SAMPLE": sample, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                         cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 4, out.stdout[-2000:] + out.stderr[-2000:]  # usage error
    assert "MAPEK_SLOW_SAMPLE must be a whole number" in out.stderr + out.stdout
    assert repr(sample) in out.stderr + out.stdout
