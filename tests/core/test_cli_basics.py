"""The CLI as a user meets it: real subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mapek


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=120, env=env)


def test_help_and_version() -> None:
    r = run("--help")
    assert r.returncode == 0 and "personas" in r.stdout and "kb" in r.stdout
    r = run("version", "--json")
    assert json.loads(r.stdout) == {"version": mapek.__version__}


def test_startup_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "import mapek\n"
        "from mapek.cli import app\n"
        "try:\n    app(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('litellm', 'chromadb', 'langgraph', 'textual') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_usage_mistakes_are_one_line_and_nonzero(home: Path) -> None:
    r = run("personas", "show", "ghost")
    assert r.returncode == 2
    assert r.stderr.startswith("mapek: error: unknown persona 'ghost'")
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run("personas", "list", "--bogus")
    assert r.returncode == 2 and "No such option: --bogus" in r.stderr
    assert "Traceback" not in r.stderr


def test_broken_user_persona_file_is_named(tmp_path: Path, home: Path) -> None:
    (tmp_path / "cfo.yaml").write_text("role: X\ngoal: Y\nexpertise: nope-not-a-list\n")
    r = run("personas", "list", "--personas-dir", str(tmp_path))
    assert r.returncode == 2
    assert f"{tmp_path / 'cfo.yaml'}: field 'expertise'" in r.stderr
    assert "Traceback" not in r.stderr


def test_personas_json(home: Path) -> None:
    r = run("personas", "list", "--json")
    names = [p["name"] for p in json.loads(r.stdout)]
    assert {"cfo", "legal", "security"} <= set(names)
    r = run("personas", "show", "legal", "--json")
    assert json.loads(r.stdout)["role"].startswith("General Counsel")
