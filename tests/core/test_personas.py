from __future__ import annotations

from pathlib import Path

import pytest

from mapek.errors import PersonaError
from mapek.personas import PersonaLibrary, load_persona_file


def test_packaged_library_has_at_least_eight_valid_personas() -> None:
    lib = PersonaLibrary.load()
    assert len(lib.names()) >= 8
    for name in ("cfo", "skeptic", "engineer", "strategist", "customer", "legal", "operations",
                 "security"):
        p = lib.get(name)
        assert p.role and p.goal and p.expertise and p.concerns
        assert p.system_prompt().startswith(f"You are {p.role}.")


def test_user_folder_overrides_and_adds(tmp_path: Path) -> None:
    (tmp_path / "cfo.yaml").write_text(
        "name: cfo\nrole: Frugal CFO\ngoal: spend nothing\nexpertise: [finance]\n"
        "model: ollama/llama3\n"
    )
    (tmp_path / "poet.yaml").write_text("role: Poet\ngoal: rhyme\nexpertise: [poetry]\n")
    lib = PersonaLibrary.load(tmp_path)
    assert lib.get("cfo").role == "Frugal CFO"
    assert lib.get("cfo").model == "ollama/llama3"
    assert lib.sources["cfo"] == tmp_path / "cfo.yaml"
    assert lib.get("poet").name == "poet"  # name defaults to the file name
    assert lib.get("skeptic").role == "Devil's Advocate"


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [
        ("role: X\ngoal: Y\n", "expertise", "Field required"),
        ("role: X\ngoal: Y\nexpertise: []\n", "expertise", "at least 1"),
        ("role: X\ngoal: Y\nexpertise: [a]\nmood: grumpy\n", "mood", "Extra inputs"),
        ("role: ''\ngoal: Y\nexpertise: [a]\n", "role", "at least 1"),
        ("name: other\nrole: X\ngoal: Y\nexpertise: [a]\n", "name", "does not match"),
    ],
)
def test_invalid_persona_names_file_field_and_problem(
    tmp_path: Path, text: str, field: str, fragment: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(PersonaError) as info:
        load_persona_file(path)
    msg = str(info.value)
    assert str(path) in msg and f"'{field}'" in msg and fragment in msg
    assert info.value.field == field


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("role: X\ngoal: [unclosed\nexpertise: [a]\n")
    with pytest.raises(PersonaError, match=r"broken.yaml: invalid YAML at line \d+"):
        load_persona_file(path)


def test_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(PersonaError, match="expected a mapping"):
        load_persona_file(path)


def test_unknown_and_duplicate_selection() -> None:
    lib = PersonaLibrary.load()
    with pytest.raises(PersonaError, match="unknown persona 'ghost'; known: cfo"):
        lib.select(["cfo", "ghost"])
    with pytest.raises(PersonaError, match="listed twice"):
        lib.select(["cfo", "cfo"])
    assert [p.name for p in lib.select(["legal", "cfo"])] == ["legal", "cfo"]
    assert len(lib.select([])) == len(lib.names())


def test_missing_user_folder(tmp_path: Path) -> None:
    with pytest.raises(PersonaError, match="does not exist"):
        PersonaLibrary.load(tmp_path / "nope")
