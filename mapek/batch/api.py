"""The Python API of batches: :class:`Batch`.

::

    from mapek import Batch

    b = Batch.create("plan.yaml")            # or a dict with the same fields
    b.run()                                  # blocks; await b.arun() in async code
    for g in b.questions():                  # one inbox: each question once, with its cells
        b.answer(g.gid, "Yes, up to 100k")
    b.report().write_html("report.html")     # and .markdown(), .data
    b.results()                              # a pandas DataFrame (a list of dicts without it)

Like :class:`~mapek.Session`, a batch object is a front end on the log: any number of them, in
any process, see the same batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapek.batch.inbox import QuestionGroup, WaitingQuestion, answer_group, group_questions
from mapek.batch.plan import BatchPlan, load_plan, plan_from_dict
from mapek.batch.state import BatchFold, BatchStatus
from mapek.config import Settings
from mapek.errors import UserError

if TYPE_CHECKING:
    from mapek.batch.executor import Executor
    from mapek.batch.report import BatchReport

__all__ = ["Batch", "list_batches"]


class Batch:
    """A batch of sessions, running or finished, seen through the log."""

    def __init__(self, batch_id: str, *, home: str | Path | None = None,
                 create: bool = False) -> None:
        from mapek.knowledge import KnowledgeBase

        self.batch_id = batch_id
        self.settings = Settings(home=Path(home)) if home else Settings()
        self.workspace = self.settings.workspace(create=create)
        self.kb = KnowledgeBase.open(self.workspace, settings=self.settings,
                                     index_on_record=False)

    # -- creating and attaching ----------------------------------------------------------------

    @classmethod
    def create(cls, plan: str | Path | Mapping[str, Any] | BatchPlan, *,
               home: str | Path | None = None) -> Batch:
        """Check a plan (a YAML file, a mapping, or a :class:`BatchPlan`) and record a new
        batch; :meth:`run` runs it. Nothing is written when the plan is wrong."""
        from mapek.batch.runner import create_batch

        if isinstance(plan, BatchPlan):
            checked, source = plan, "python"
        elif isinstance(plan, Mapping):
            checked, source = plan_from_dict(dict(plan)), "python"
        else:
            checked, source = load_plan(plan), str(Path(plan).resolve())
        b = cls("", home=home, create=True)
        b.batch_id = create_batch(b.kb, checked, source=source)
        return b

    @classmethod
    def attach(cls, batch_id: str, *, home: str | Path | None = None) -> Batch:
        """A front end on an existing batch."""
        b = cls(batch_id, home=home)
        if not b.kb.events(batch_id, kinds=["batch.started"], limit=1):
            b.close()
            raise UserError(f"no batch {batch_id!r} in {b.workspace.root} "
                            "(mapek batch list shows them)")
        return b

    # -- running -------------------------------------------------------------------------------

    def _runner(self, executor: str | Executor, ray_address: str | None,
                on_progress: Callable[[BatchStatus], None] | None) -> Any:
        from mapek.batch.executor import Executor, make_executor
        from mapek.batch.runner import BatchRunner

        if isinstance(executor, Executor):
            if ray_address:
                raise UserError("ray_address is for executor='ray' (an executor object "
                                "brings its own)")
            ex = executor
        else:
            ex = make_executor(executor, ray_address=ray_address)
        return BatchRunner(self.kb, self.batch_id, home=self.workspace.root, executor=ex,
                           on_progress=on_progress)

    def run(self, *, executor: str | Executor = "local", ray_address: str | None = None,
            on_progress: Callable[[BatchStatus], None] | None = None) -> BatchStatus:
        """Run every cell to its end (``concurrency`` at once). ``on_progress`` receives a
        :class:`BatchStatus` on every tick. Ctrl-C (``KeyboardInterrupt``) stops the running
        cells gracefully and is raised again; :meth:`resume` continues.

        ``executor``: ``"local"`` (worker processes here), ``"ray"`` (each cell a Ray task,
        on the cluster at ``ray_address``, or on a Ray started here and shut down after, or on
        the one this process joined with ``ray.init``), or an
        :class:`~mapek.batch.executor.Executor` (``RayExecutor(address, cpus_per_cell=...)``),
        which the run closes."""
        return self._runner(executor, ray_address,  # type: ignore[no-any-return]
                            on_progress).run("run")

    async def arun(self, *, executor: str | Executor = "local",
                   ray_address: str | None = None) -> BatchStatus:
        return await asyncio.to_thread(
            lambda: self.run(executor=executor, ray_address=ray_address))

    def resume(self, *, raise_limits: Mapping[str, float] | None = None, reason: str = "",
               retry_failed: bool = False, executor: str | Executor = "local",
               ray_address: str | None = None,
               on_progress: Callable[[BatchStatus], None] | None = None) -> BatchStatus:
        """Continue: ended cells are skipped, interrupted ones resume from their checkpoints,
        the rest start. ``raise_limits`` (``{"usd": 10}``; ``usd``, ``tokens``, ``time``)
        raises the batch's limits, recorded with ``reason``. ``retry_failed``: resume failed
        cells too. ``executor``, ``ray_address``: as in :meth:`run`."""
        from mapek.batch.runner import parse_batch_raise

        raised = parse_batch_raise([f"{k}={v}" for k, v in (raise_limits or {}).items()])
        return self._runner(executor, ray_address,  # type: ignore[no-any-return]
                            on_progress).run("resume", raise_limits=raised or None,
                                             reason=reason, retry_failed=retry_failed)

    async def aresume(self, **options: Any) -> BatchStatus:
        return await asyncio.to_thread(lambda: self.resume(**options))

    # -- reading -------------------------------------------------------------------------------

    def fold(self) -> BatchFold:
        f = BatchFold(self.batch_id)
        f.refresh(self.kb)
        if f.plan is None:
            raise UserError(f"no batch {self.batch_id!r}")
        return f

    @property
    def plan(self) -> BatchPlan:
        plan = self.fold().plan
        assert plan is not None
        return plan

    def status(self) -> BatchStatus:
        return self.fold().status()

    def questions(self) -> list[QuestionGroup]:
        """Every question waiting in any cell, the same question once (with where)."""
        return group_questions(self.fold())

    def answer(self, gid: str, text: str) -> list[WaitingQuestion]:
        """Answer a question group (:attr:`QuestionGroup.gid`) in every cell waiting on it."""
        return answer_group(self.kb, self.fold(), gid, text)

    def report(self) -> BatchReport:
        """The comparative report (:class:`~mapek.batch.report.BatchReport`)."""
        from mapek.batch.report import build_report

        return build_report(self.fold(), self.workspace.root)

    def results(self) -> Any:
        """One row per cell (topic, panel, model, repeat, decision, recommendations,
        dissenters, cost, tokens, turns, time, ...): a pandas DataFrame where pandas is
        installed, else a list of dicts."""
        rows = self.report().rows()
        try:
            import pandas as pd  # type: ignore[import-untyped,import-not-found,unused-ignore]
        except ImportError:
            return rows
        return pd.DataFrame(rows)

    # -- housekeeping --------------------------------------------------------------------------

    def close(self) -> None:
        self.kb.close()

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _repr_html_(self) -> str:
        from html import escape

        st = self.status()
        counts = ", ".join(f"{n} {k}" for k, n in sorted(st.counts.items()))
        rows = "".join(
            f"<tr><td>{escape(c.topic)}</td><td>{escape(c.panel)}</td><td>{escape(c.model)}"
            f"</td><td>{c.repeat}</td><td>{escape(c.state)}</td><td>{escape(c.outcome)}</td>"
            f"<td>{c.tokens}</td><td>{c.usd:.4f}</td><td>{c.turns}</td></tr>"
            for c in st.cells)
        name = f" “{escape(st.name)}”" if st.name else ""
        return (f"<b>mapek batch {escape(self.batch_id)}</b>{name} — {escape(st.state)} "
                f"({counts}); "
                f"{st.tokens} tokens, ${st.usd:.4f}, {st.questions_waiting} question(s) "
                "waiting<table><tr><th>topic</th><th>panel</th><th>model</th><th>repeat</th>"
                "<th>state</th><th>outcome</th><th>tokens</th><th>USD</th><th>turns</th></tr>"
                f"{rows}</table>")

    def __repr__(self) -> str:
        return f"Batch({self.batch_id!r}, home={str(self.workspace.root)!r})"


def list_batches(kb: Any) -> list[dict[str, Any]]:
    """Every batch in a workspace's log, oldest first."""
    out = []
    for info in kb.runs():
        if not info.run_id.startswith("batch-") or "." in info.run_id:
            continue
        f = BatchFold(info.run_id)
        f.refresh(kb, only=set())
        if f.plan is None:
            continue
        f.refresh(kb)
        st = f.status()
        out.append({"batch_id": info.run_id, "name": st.name, "state": st.state,
                    "cells": len(st.cells), "counts": st.counts, "started": info.first_ts})
    return out
