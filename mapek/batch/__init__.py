"""Batch strategy sessions: a matrix of topics, panels, models and repeats, each cell a session,
run several at once, resumable, with one inbox for the questions and one comparative report.

::

    from mapek import Batch

    b = Batch.create("plan.yaml")      # or a dict; checked, recorded as batch-...
    b.run()                            # every cell; Ctrl-C stops in order, b.resume() goes on
    b.questions(); b.answer("g1a2b3c4", "Yes, up to 100k")
    b.report().html()                  # one self-contained file; b.results(): a table

Modules: :mod:`~mapek.batch.plan` (the plan file), :mod:`~mapek.batch.state` (the batch and
its cells folded from the log), :mod:`~mapek.batch.executor` (what runs a cell: the local
pool, and the seam), :mod:`~mapek.batch.ray_executor` (cells as Ray tasks),
:mod:`~mapek.batch.runner` (the driver and the batch breaker),
:mod:`~mapek.batch.inbox` (questions grouped across cells), :mod:`~mapek.batch.report` and
:mod:`~mapek.batch.agreement` (the comparative report), :mod:`~mapek.batch.api`
(:class:`Batch`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mapek._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "Batch": "mapek.batch.api",
    "BatchPlan": "mapek.batch.plan",
    "BatchReport": "mapek.batch.report",
    "BatchStatus": "mapek.batch.state",
    "Cell": "mapek.batch.plan",
    "Executor": "mapek.batch.executor",
    "LocalExecutor": "mapek.batch.executor",
    "PlanError": "mapek.batch.plan",
    "QuestionGroup": "mapek.batch.inbox",
    "RayExecutor": "mapek.batch.ray_executor",
    "load_plan": "mapek.batch.plan",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from mapek.batch.api import Batch
    from mapek.batch.executor import Executor, LocalExecutor
    from mapek.batch.inbox import QuestionGroup
    from mapek.batch.plan import BatchPlan, Cell, PlanError, load_plan
    from mapek.batch.ray_executor import RayExecutor
    from mapek.batch.report import BatchReport
    from mapek.batch.state import BatchStatus

__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
