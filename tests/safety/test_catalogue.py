"""The failure catalogue: packaged, valid, linked from every rule, examples caught."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from mapek._resources import data_dir
from mapek.errors import UserError
from mapek.safety.catalogue import (
    CatalogueEntry,
    CatalogueError,
    catalogue_path,
    default_catalogue,
    load_catalogue,
)
from mapek.safety.rules import RULES
from mapek.safety.rules.shell import looks_like_command
from mapek.safety.screening import Verdict, screen_plan, screen_text


def test_packaged_catalogue_loads() -> None:
    cat = default_catalogue()
    assert catalogue_path() == data_dir("knowledge") / "failure-catalogue.yaml"
    assert cat.path == catalogue_path()
    assert len(cat) >= 30
    for e in cat:
        assert isinstance(e, CatalogueEntry)
        assert e.detection and e.blast_radius and e.response and e.examples


def test_every_rule_has_an_entry_and_every_screening_entry_a_rule() -> None:
    cat = default_catalogue()
    used = {spec.catalogue_id for spec in RULES.values()}
    assert used <= set(cat.ids())
    screening = {e.id for e in cat.for_component("screening")}
    assert screening == used, screening ^ used


def _as_step(example: str, category: str) -> dict[str, Any]:
    m = re.fullmatch(r"([\w.]+)\((.*)\)", example)
    if m and category == "saas":
        args = dict(kv.split("=", 1) for kv in m.group(2).split(", ") if "=" in kv)
        return {"steps": [{"tool": m.group(1), "args": args}]}
    if category == "sql" and not looks_like_command(example.split()[0]):
        return {"steps": [{"tool": "sql", "args": {"query": example}}]}
    return {"steps": [{"tool": "bash", "args": {"command": example}}]}


def _screen(example: str, category: str) -> list[Verdict]:
    """The example as a step (a tool call, a command or a query) and as free text."""
    return [screen_plan(_as_step(example, category)), screen_text(example)]


@pytest.mark.parametrize("entry", [e for e in load_catalogue().for_component("screening")],
                         ids=lambda e: e.id)
def test_examples_are_caught_and_look_alikes_are_not(entry: CatalogueEntry) -> None:
    for ex in entry.examples:
        if ex.startswith("a call to"):
            continue
        flagged = [v for v in _screen(ex, entry.category) if v.verdict != "allow"]
        assert flagged, (entry.id, ex)
        assert any(entry.id in v.catalogue_ids for v in flagged), (entry.id, ex)
    for ex in entry.look_alikes:
        # a look-alike is allowed or, when the rules do not recognise it as safe, held as
        # unknown (fail closed): never flagged by a destructive rule
        for v in _screen(ex, entry.category):
            assert v.verdict == "allow" or (v.basis == "held" and all(
                r.rule == "unknown.action" for r in v.reasons)), \
                (entry.id, ex, [r.rule for r in v.reasons])


VALID = """\
version: 1
entries:
  - id: sql-drop
    title: A table dropped
    category: sql
    detection: DROP TABLE statements
    blast_radius: every row of the table
    response: needs approval
    default_verdict: needs_approval
    examples: ["DROP TABLE t"]
"""


def test_a_minimal_file_loads(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text(VALID, encoding="utf-8")
    cat = load_catalogue(p)
    assert "sql-drop" in cat and cat.get("sql-drop").title == "A table dropped"
    with pytest.raises(UserError, match="no failure-catalogue entry 'nope'"):
        cat.get("nope")


@pytest.mark.parametrize(("text", "field", "message"), [
    (VALID.replace("    blast_radius: every row of the table\n", ""),
     "entries[0] (sql-drop).blast_radius", "Field required"),
    (VALID.replace("id: sql-drop", "id: Sql Drop"), "entries[0] (Sql Drop).id", "pattern"),
    (VALID.replace('examples: ["DROP TABLE t"]', "examples: []"),
     "entries[0] (sql-drop).examples", "at least 1"),
    (VALID.replace("    default_verdict: needs_approval\n", ""),
     "entries[0] (sql-drop).default_verdict", "required for a screening entry"),
    (VALID.replace("category: sql", "category: sql\n    severity: high"),
     "entries[0] (sql-drop).severity", "Extra inputs"),
    (VALID + VALID.split("entries:\n", 1)[1], "entries[1].id", "duplicate id"),
])
def test_a_broken_entry_names_file_and_field(tmp_path: Path, text: str, field: str,
                                             message: str) -> None:
    p = tmp_path / "broken.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(p)
    assert str(p) in str(info.value)
    assert field in str(info.value) and message in str(info.value)
    assert info.value.field is not None and info.value.path == str(p)


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("entries:\n  - id: x\n    title: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"bad\.yaml: not valid YAML at line \d+, column \d+"):
        load_catalogue(p)
    p.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="expected a mapping"):
        load_catalogue(p)
    with pytest.raises(CatalogueError, match="no such file"):
        load_catalogue(tmp_path / "missing.yaml")


def test_catalogue_is_found_inside_an_installed_package(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """In a wheel the file lives at mapek/_data/knowledge; data_dir prefers that folder."""
    import mapek._resources as res

    pkg = tmp_path / "mapek"
    (pkg / "_data" / "knowledge").mkdir(parents=True)
    (pkg / "_data" / "knowledge" / "failure-catalogue.yaml").write_text(VALID, encoding="utf-8")
    monkeypatch.setattr(res, "_PKG", pkg)
    cat = load_catalogue()
    assert cat.path == pkg / "_data" / "knowledge" / "failure-catalogue.yaml"
    assert cat.ids() == ["sql-drop"]
