"""The built wheel carries the personas and the seed knowledge: an installed mapek needs no
checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_wheel_ships_data_and_finds_it_installed(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
                   cwd=REPO, check=True, capture_output=True, timeout=120)
    wheel = next(out.glob("mapek-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "mapek/py.typed" in names
    assert "mapek/_data/personas/cfo.yaml" in names
    assert "mapek/_data/knowledge/reference/five-principles.md" in names
    assert "mapek_tui/app.py" in names and "mapek_tui/widgets/discussion.py" in names  # the app
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)  # a wheel is a zip laid out as site-packages
    code = ("from mapek.personas import PersonaLibrary; lib = PersonaLibrary.load(); "
            "print(lib.sources['cfo']); print(len(lib.names()))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    source, count = r.stdout.split()
    assert source.startswith(str(target / "mapek" / "_data" / "personas")) and int(count) >= 8
