"""The batch plan file: what it expands to, and bad files as a user meets them (one line
naming the file and the line, exit 2, nothing written)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mapek.batch.plan import PlanError, load_plan, plan_from_dict
from mapek.models import Persona

GOOD = """\
name: market entry
topics:
  - Should we open an office in Berlin?
  - {id: pricing, text: "Should we raise our prices by 10% next quarter?"}
panels:
  finance: [cfo, skeptic, legal]
  product:
    - engineer
    - customer
    - {name: regulator, role: Regulator, goal: Keep us compliant, expertise: [regulation]}
models:
  - mapek/offline
  - {label: faulty, name: mapek/offline-flaky, params: {temperature: 0.2}}
repeats: 2
session: {max_turns: 6, max_tokens: 50000}
limits: {concurrency: 3, max_tokens: 400000, max_usd: 2}
questions: defer
"""


def _write(tmp_path: Path, text: str, name: str = "plan.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_a_plan_expands_to_every_cell_with_a_seed_per_repeat(tmp_path: Path) -> None:
    plan = load_plan(_write(tmp_path, GOOD))
    cells = plan.cells()
    assert len(cells) == 2 * 2 * 2 * 2
    assert len({c.key for c in cells}) == len(cells)
    assert cells[0].key == "t1|finance|mapek/offline|r1"
    assert {c.topic.id for c in cells} == {"t1", "pricing"}
    # repeats differ by the model's seed parameter; other params are kept
    specs = {(c.model, c.repeat): plan.model_spec(c) for c in cells}
    assert specs[("mapek/offline", 1)].params == {"seed": 1}
    assert specs[("faulty", 2)].params == {"temperature": 0.2, "seed": 2}
    assert specs[("faulty", 2)].name == "mapek/offline-flaky"
    # an inline persona is kept whole (it travels to the cell's runtime spec)
    product = plan.personas("product")
    assert product[:2] == ["engineer", "customer"] and isinstance(product[2], Persona)
    assert plan.session.max_turns == 6 and plan.limits.concurrency == 3
    assert plan.questions == "defer"
    # the recorded form round-trips
    again = type(plan).model_validate(plan.model_dump(mode="json"))
    assert [c.key for c in again.cells()] == [c.key for c in cells]


def test_defaults_and_explicit_seeds(tmp_path: Path) -> None:
    plan = plan_from_dict({"topics": ["a topic"], "panels": {"p": ["cfo", "legal"]}})
    assert [m.label for m in plan.models] == ["mapek/offline"]
    assert plan.seeds is None and plan.model_spec(plan.cells()[0]).params == {}
    assert plan.questions == "queue" and plan.limits.concurrency == 2
    plan = plan_from_dict({"topics": ["a"], "panels": {"p": ["cfo", "legal"]}, "repeats": 2,
                           "seeds": [40, 41]})
    assert [plan.model_spec(c).params["seed"] for c in plan.cells()] == [40, 41]


@pytest.mark.parametrize(("text", "line", "needle"), [
    ("topics: [a]\npanels:\n  p: [cfo, legal\nlimits: x\n", 4, "invalid YAML"),
    ("topics: [a]\npanels:\n  p: [cfo, legal]\nsession:\n  max_turns: 3\n  max_turnz: 4\n",
     6, "session.max_turnz: unknown field"),
    ("topics: [a]\npanels:\n  p: [cfo, legal]\nlimits:\n  concurrency: lots\n", 5,
     "limits.concurrency: Input should be a valid integer"),
    ("topics: [a]\npanels:\n  p:\n    - cfo\n    - ghost\n", 5,
     "panels.p[1]: unknown persona 'ghost'"),
    ("topics: [a]\npanels:\n  p:\n    - cfo\n    - name: reg\n      role: 5\n", 6,
     "panels.p[1].role"),
    ("topics: [a]\npanels:\n  p: [cfo]\n", 3, "panels.p: a panel needs at least two"),
    ("topics: [a]\npanels:\n  p: [cfo, legal]\nmodels:\n  - mapek/offline-nope\n", 5,
     "models[0]"),
    ("topics: [a]\npanels:\n  p: [cfo, legal]\nrepeats: 2\nseeds: [1]\n", 5,
     "seeds: 1 seeds for 2 repeats"),
    ("topics: [a]\npanels:\n  p: [cfo, legal]\nquestions: ask\n", 4, "questions:"),
    ("topics: []\npanels:\n  p: [cfo, legal]\n", 1, "topics:"),
])
def test_bad_plans_name_the_file_and_the_line(tmp_path: Path, text: str, line: int,
                                               needle: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(PlanError) as err:
        load_plan(path)
    assert str(err.value).startswith(f"{path}:{line}: "), str(err.value)
    assert needle in str(err.value)
    assert err.value.line == line and "\n" not in str(err.value)


@pytest.mark.parametrize(("text", "line"), [
    ("topics: [a]\npanels:\n  p: [cfo, legal\n", 4),              # broken YAML
    ("topics: [a]\npanels:\n  p: [cfo, legal]\ncolour: red\n", 4),  # an unknown field
    ("topics: [a]\npanels:\n  p: [cfo, legal]\nrepeats: twice\n", 4),  # a bad type
])
def test_mapek_batch_run_refuses_a_bad_plan_with_one_line_and_writes_nothing(
        home: Path, tmp_path: Path, text: str, line: int) -> None:
    path = _write(tmp_path, text, "bad plan.yaml")
    r = subprocess.run([sys.executable, "-m", "mapek.cli", "batch", "run", str(path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and f"{path}:{line}:" in lines[0], r.stderr
    assert "Traceback" not in r.stderr and not r.stdout
    assert not home.exists()  # no workspace, no log, nothing


def test_a_missing_plan_file_is_one_line(home: Path, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "mapek.cli", "batch", "run",
                        str(tmp_path / "nope.yaml")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "nope.yaml: cannot read" in r.stderr
    assert not home.exists()


def test_batch_create_records_the_plan_and_refuses_a_bad_one(home: Path) -> None:
    from mapek import Batch

    with pytest.raises(PlanError, match=r"^plan: panels\.p\[1\]: unknown persona 'ghost'"):
        Batch.create({"topics": ["a"], "panels": {"p": ["cfo", "ghost"]}}, home=home)
    assert not home.exists()  # nothing written
    with Batch.create({"name": "n", "topics": ["a", "b"], "panels": {"p": ["cfo", "legal"]},
                       "repeats": 2}, home=home) as b:
        st = b.status()
        assert st.state == "created" and st.counts == {"queued": 4} and st.name == "n"
        assert [c.key for c in st.cells][:2] == ["t1|p|mapek/offline|r1",
                                                 "t2|p|mapek/offline|r1"]
        assert b.questions() == [] and b.plan.repeats == 2
        again = Batch.attach(b.batch_id, home=home)
        assert again.status().cells == st.cells
        again.close()
    from mapek.errors import UserError

    with pytest.raises(UserError, match="no batch 'batch-nope'"):
        Batch.attach("batch-nope", home=home)
