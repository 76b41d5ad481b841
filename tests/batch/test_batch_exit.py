"""A batch whose cells cannot run does not end quietly: ``batch.error`` names why for each
cell, the batch closes ``incomplete``, and ``mapek batch run`` exits 1 (not 0)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mapek.batch import executor as executors
from mapek.batch.executor import CellDone, CellJob, LocalExecutor
from mapek.cli import app

PLAN = """\
topics:
  - Should we open an office in Berlin?
panels:
  finance: [cfo, skeptic]
session: {max_turns: 4}
"""


class Refusing(LocalExecutor):
    """Every job ends at once with an error, as a refused resume does."""

    def submit(self, job: CellJob) -> None:
        self.jobs = getattr(self, "jobs", 0) + 1
        with self._lock:
            self._threads[job.run_id] = None  # type: ignore[assignment]
            self._done.append(CellDone(job.run_id, "error", "UserError: refused for the test"))


def test_a_batch_whose_cell_cannot_run_exits_1_and_names_the_error(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Refusing] = []

    def factory() -> Refusing:
        made.append(Refusing())
        return made[-1]

    monkeypatch.setitem(executors.EXECUTORS, "local", factory)
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    r = CliRunner().invoke(app, ["batch", "run", str(plan), "--json"])
    assert r.exit_code == 1, r.output
    assert "did not end" in r.output
    assert made[-1].jobs == 1  # a cell never started is not retried blindly
