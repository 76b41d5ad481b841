"""Persona files are parsed once per process, and read again when they change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mapek import personas as personas_module
from mapek.errors import PersonaError
from mapek.personas import PersonaLibrary


def test_files_are_parsed_once_and_again_when_they_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real = personas_module.load_persona_file

    def counting(path: Path) -> object:
        parsed.append(path.name)
        return real(path)

    monkeypatch.setattr(personas_module, "load_persona_file", counting)
    poet = tmp_path / "poet.yaml"
    poet.write_text("role: Poet\ngoal: rhyme\nexpertise: [poetry]\n")
    first = PersonaLibrary.load(tmp_path)
    packaged = len(parsed) - 1
    assert packaged >= 8 and first.get("poet").role == "Poet"
    again = PersonaLibrary.load(tmp_path)
    assert len(parsed) == packaged + 1  # nothing parsed again
    assert again.personas == first.personas and again.personas is not first.personas
    assert again.sources == first.sources

    poet.write_text("role: Bard\ngoal: rhyme\nexpertise: [poetry]\n")
    os.utime(poet, ns=(1, 1))  # a new stamp even on a coarse clock
    assert PersonaLibrary.load(tmp_path).get("poet").role == "Bard"
    (tmp_path / "cfo.yaml").write_text("role: Frugal CFO\ngoal: save\nexpertise: [finance]\n")
    assert PersonaLibrary.load(tmp_path).get("cfo").role == "Frugal CFO"  # an added file
    (tmp_path / "cfo.yaml").unlink()
    assert PersonaLibrary.load(tmp_path).get("cfo").role != "Frugal CFO"  # a removed one
    assert PersonaLibrary.load().get("cfo") == first.get("cfo")  # another folder set


def test_a_broken_file_is_reported_every_time(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("role: [unclosed\ngoal: x\n")
    for _ in range(2):
        with pytest.raises(PersonaError, match=r"broken.yaml: invalid YAML at line \d+"):
            PersonaLibrary.load(tmp_path)
