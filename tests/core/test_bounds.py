"""Numbers are bounded where they come in: an out-of-range or non-finite option, policy value,
plan value or ``--raise`` is one line naming it, exit 2, and nothing written (``--max-turns
99999999999999999999999`` used to be accepted and then overflow the checkpoint at every start
and resume)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mapek.breaker.review import parse_raise
from mapek.errors import ConfigError


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def _one_line_exit_2(r: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mapek: error: "), r.stderr
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.mark.parametrize(("option", "value"), [
    ("--max-turns", "99999999999999999999999"), ("--max-turns", "0"),
    ("--max-tokens", "99999999999999999999"), ("--max-usd", "inf"), ("--max-usd", "nan"),
    ("--max-usd", "1e400"), ("--time-limit", "1e30"), ("--escalations", "100000000000"),
])
def test_discuss_options_out_of_range(home: Path, option: str, value: str) -> None:
    _one_line_exit_2(_cli("discuss", "Open an office?", option, value, "--non-interactive"),
                     option)
    assert not home.exists()


def test_policy_and_plan_values_out_of_range(home: Path, tmp_path: Path) -> None:
    for body, field in (("max_tokens: 99999999999999999999999", "max_tokens"),
                        ("max_usd: .inf", "max_usd"), ("max_turns: 1000000000", "max_turns"),
                        ("time_limit: .nan", "time_limit"), ("max_depth: 10000000", "max_depth")):
        pol = tmp_path / "pol.yaml"
        pol.write_text(f"extends: default\n{body}\n")
        _one_line_exit_2(_cli("discuss", "x", "--policy", str(pol), "--non-interactive"),
                         str(pol), field)
    for body, field in (("session: {max_turns: 99999999999999999999999}", "session.max_turns"),
                        ("limits: {max_usd: .nan}", "limits.max_usd"),
                        ("limits: {concurrency: 100000}", "limits.concurrency"),
                        ("session: {time_limit: 1.0e+99}", "session.time_limit")):
        plan = tmp_path / "plan.yaml"
        plan.write_text(f"topics: [a]\npanels: {{p: [cfo, skeptic]}}\n{body}\n")
        _one_line_exit_2(_cli("batch", "run", str(plan)), "plan.yaml:3", field)
    assert not home.exists()


def test_raise_values_out_of_range() -> None:
    for item, why in (("tokens=1e400", "finite"), ("usd=nan", "finite"),
                      ("turns=99999999999999999999999", "at most"), ("time=1e12", "at most")):
        with pytest.raises(ConfigError, match=why):
            parse_raise([item])
    assert parse_raise(["tokens=5000", "usd=2.5"]) == {"tokens": 5000, "usd": 2.5}


def test_the_session_config_bounds_the_api_too(home: Path) -> None:
    from mapek.api import Session

    with pytest.raises(ConfigError, match="max_turns"):
        Session.create("x", ["cfo", "skeptic"], max_turns=10**23)
    with pytest.raises(ConfigError, match="max_usd"):
        Session.create("x", ["cfo", "skeptic"], max_usd=float("nan"))
