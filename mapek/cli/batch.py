"""``mapek batch run|resume|status|questions|answer|report|list``: batch strategy sessions.

A batch puts every topic of a plan file to every panel on every model, ``repeats`` times, each
cell a session; several run at once under one budget, with one inbox for the questions and one
comparative report (see :mod:`mapek.batch`).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from mapek.cli._common import EXIT_TRIPPED, JsonFlag, console, emit_json, settings

__all__ = ["batch_answer", "batch_app", "batch_list", "batch_questions", "batch_report",
           "batch_resume", "batch_run", "batch_status"]

batch_app = typer.Typer(help="Batch strategy sessions: topics x panels x models, run in "
                        "parallel, resumable, compared in one report.", no_args_is_help=True)

ExecutorOpt = Annotated[str, typer.Option(
    "--executor", help="What runs the cells: local (a pool of worker processes here) or ray "
    "(each cell a Ray task; pip install 'mapek[ray]').")]
RayAddressOpt = Annotated[str | None, typer.Option(
    "--ray-address", help="With --executor ray: the Ray cluster (HOST:PORT, ray://HOST:PORT "
    "or auto); without it a Ray is started here.")]


def _open(batch_id: str) -> Any:
    from mapek.batch.api import Batch

    settings().workspace(create=False)  # no workspace: one clear line, exit 2
    return Batch.attach(batch_id)


def _drive(batch: Any, action: str, *, executor: Any, as_json: bool, **options: Any) -> None:
    """Run or resume with a live display; Ctrl-C (or SIGTERM) stops the cells in order.
    ``executor``: an :class:`~mapek.batch.executor.Executor`, closed here."""
    from mapek.batch.runner import BatchRunner

    view = _Progress(batch.batch_id, as_json=as_json)
    try:
        runner = BatchRunner(batch.kb, batch.batch_id, home=batch.workspace.root,
                             executor=executor, on_progress=view.update)
        runner.check(action, options.get("raise_limits"), options.get("retry_failed", False))
    except BaseException:
        executor.close()
        raise

    def _term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, _term)
    try:
        with view:
            status = runner.run(action, **options)
    except KeyboardInterrupt:
        view.close()
        typer.echo(f"\nstopped; the cells keep their state: mapek batch resume "
                   f"{batch.batch_id}", err=True)
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGTERM, old)
    if as_json:
        _json_line({"event": "status", **status.to_dict()})
    else:
        _print_status(status)
    if status.state == "stopped" and status.reason and "budget is spent" in status.reason:
        raise typer.Exit(EXIT_TRIPPED)
    from mapek.batch.state import ENDED

    if status.counts.get("failed") or any(
            c.state not in ENDED and c.state != "waiting" for c in status.cells):
        raise typer.Exit(1)  # a cell failed, or did not end (its batch.error says why)


@batch_app.command("run")
def batch_run(
    plan: Annotated[Path, typer.Argument(help="The plan file (YAML).")],
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="JSON lines: progress ({\"event\": \"progress\"}), then the final "
        "status ({\"event\": \"status\"}).")] = False,
) -> None:
    """Run every cell of a plan (topic x panel x model x repeat), several at once.

    Shows progress live; Ctrl-C stops the running cells in order (mapek batch resume goes
    on). Exit code 7 when the batch budget was spent (the batch breaker tripped)."""
    from mapek.batch.api import Batch
    from mapek.batch.executor import make_executor
    from mapek.batch.plan import load_plan

    load_plan(plan)  # a bad plan: one line, exit 2, before an executor (Ray) is started
    # an unknown executor, Ray missing or unreachable: exit 2 before anything is written
    runner = make_executor(executor, ray_address=ray_address)
    try:
        batch = Batch.create(plan)
    except BaseException:
        runner.close()
        raise
    if not as_json:
        typer.echo(f"batch {batch.batch_id}: {len(batch.plan.cells())} cells")
    with batch:
        _drive(batch, "run", executor=runner, as_json=as_json)


@batch_app.command("resume")
def batch_resume(
    batch_id: str,
    raise_: Annotated[list[str] | None, typer.Option(
        "--raise", help="Raise a batch limit: usd=, tokens=, time= (repeatable; recorded).")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded with who).")] = "",
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Resume failed cells too.")] = False,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines, as batch run --json.")
                       ] = False,
) -> None:
    """Continue a batch: skip ended cells, resume interrupted ones, start the rest.

    Interrupted cells (Ctrl-C, a kill, the batch breaker) continue from their checkpoints;
    nothing is written twice. A spent batch budget needs --raise NAME=VALUE --reason."""
    from mapek.batch.runner import parse_batch_raise

    raised = parse_batch_raise(raise_ or [])
    if raised and not reason.strip():
        from mapek.errors import UserError

        raise UserError("raising a batch limit needs a --reason (it is recorded with who "
                        "raised it)")
    with _open(batch_id) as batch:
        st = batch.status()
        if st.state == "finished" and not raised and not (retry_failed
                                                           and st.counts.get("failed")):
            typer.echo(f"batch {batch_id} has finished; nothing to resume")
            return
        from mapek.batch.executor import make_executor

        _drive(batch, "resume", executor=make_executor(executor, ray_address=ray_address),
               as_json=as_json, raise_limits=raised or None, reason=reason,
               retry_failed=retry_failed)


@batch_app.command("status")
def batch_status(batch_id: str, as_json: JsonFlag = False) -> None:
    """Where every cell of a batch is, and the spend against the batch budget."""
    with _open(batch_id) as batch:
        st = batch.status()
    if as_json:
        emit_json(st.to_dict())
    else:
        _print_status(st)


@batch_app.command("list")
def batch_list(as_json: JsonFlag = False) -> None:
    """Every batch in the workspace."""
    from mapek.batch.api import list_batches
    from mapek.cli._common import open_kb

    with open_kb() as kb:
        rows = list_batches(kb)
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    table = Table("batch", "state", "cells", "name")
    for r in rows:
        table.add_row(r["batch_id"], r["state"], str(r["cells"]), r["name"])
    console().print(table)


@batch_app.command("questions")
def batch_questions(batch_id: str, as_json: JsonFlag = False) -> None:
    """Every question waiting in any cell, the same question once (with its cells)."""
    with _open(batch_id) as batch:
        groups = batch.questions()
        fold = batch.fold()
    approvals = [{"run_id": run, **r} for run, c in fold.cells.items()
                 for r in c.pending_approvals()]
    if as_json:
        emit_json({"batch_id": batch_id, "questions": [g.to_dict() for g in groups],
                   "approvals": approvals})
        return
    con = console()
    if not groups:
        con.print(f"no question is waiting in batch {batch_id}")
    for g in groups:
        con.print(f"[bold]{g.gid}[/] {g.text}", soft_wrap=True)
        for w in g.asked_in:
            con.print(f"    {w.cell}  (run {w.run_id}, {w.qid}, asked by {w.asked_by})",
                      soft_wrap=True)
    for a in approvals:
        con.print(f"[bold]approval[/] run {a['run_id']} call {a['call_id']}: {a.get('tool')} "
                  f"{a.get('args')}  (mapek approve {a['run_id']} {a['call_id']})",
                  soft_wrap=True)
    if groups:
        con.print(f"answer one for every cell that asked it: mapek batch answer {batch_id} "
                  "QID \"TEXT\"")


@batch_app.command("answer")
def batch_answer(batch_id: str, qid: str, text: str) -> None:
    """Answer a question (QID from `mapek batch questions`) in every cell that asked it.

    Those cells go on: a cell stopped at the question continues at once, a running one hears
    the answer at its next round."""
    with _open(batch_id) as batch:
        where = batch.answer(qid, text)
    typer.echo(f"answered {qid} in {len(where)} cell(s): "
               + ", ".join(f"{w.cell} ({w.run_id} {w.qid})" for w in where))


@batch_app.command("report")
def batch_report(
    batch_id: str,
    html: Annotated[Path | None, typer.Option("--html", help="Write the report as one "
                                              "self-contained HTML file, with charts.")] = None,
    md: Annotated[Path | None, typer.Option("--md", help="Write it as markdown.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the data behind it as "
                                          "JSON.")] = False,
) -> None:
    """The comparative report: where panels, models and repeats agree, and who dissents.

    Per topic: each cell's decision, recommendations and dissent side by side; agreement across
    panels, models and repeats (a word-overlap heuristic, explained in the report); consistent
    dissenters; what was escalated and how it was answered; cost, tokens, turns, time."""
    with _open(batch_id) as batch:
        report = batch.report()
    if html is not None:
        html.write_text(report.html(), encoding="utf-8")
    if md is not None:
        md.write_text(report.markdown(), encoding="utf-8")
    if as_json:
        emit_json(report.data)
        return
    if html is None and md is None:
        from rich.markdown import Markdown

        console().print(Markdown(report.markdown()))
    for path in (html, md):
        if path is not None:
            typer.echo(f"wrote {path}")


# -- display ------------------------------------------------------------------------------------


def _json_line(obj: Any) -> None:
    import json
    import sys

    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def _print_status(st: Any) -> None:
    from rich.table import Table

    con = console()
    table = Table()
    for name in ("cell", "run", "state", "outcome", "tokens", "USD", "turns", "s", "q"):
        table.add_column(name, overflow="fold")
    for c in st.cells:
        table.add_row(c.key, c.run_id or "-", c.state, c.outcome, str(c.tokens),
                      f"{c.usd:.4f}", str(c.turns), f"{c.seconds:.0f}",
                      str(c.questions_waiting or ""))
    con.print(table)
    con.print(_summary(st), soft_wrap=True)


def _summary(st: Any) -> str:
    c = st.counts
    done = sum(c.get(k, 0) for k in ("done", "stopped", "tripped"))
    lim = st.limits
    spend = f"${st.usd:.4f}" + (f" of ${lim['max_usd']:g}" if lim.get("max_usd") else "")
    tokens = f"{st.tokens} tokens" + (f" of {lim['max_tokens']}" if lim.get("max_tokens")
                                      else "")
    left = f" · {st.time_left:.0f} s left" if st.time_left is not None else ""
    return (f"batch {st.batch_id} · {st.state}{' (' + st.reason + ')' if st.reason else ''} · "
            f"{done}/{len(st.cells)} done · running {c.get('running', 0)} · queued "
            f"{c.get('queued', 0)} · failed {c.get('failed', 0)} · waiting on a person "
            f"{c.get('waiting', 0)} · interrupted {c.get('interrupted', 0)} · "
            f"{st.questions_waiting} question(s) in the inbox · {spend} · {tokens} · "
            f"{st.elapsed:.0f} s{left}")


class _Progress:
    """The live display: a rich Live panel on a terminal; elsewhere (a pipe, a log file, CI)
    one plain line each time the counts change; with ``--json``, JSON lines."""

    def __init__(self, batch_id: str, *, as_json: bool) -> None:
        self.batch_id, self.as_json = batch_id, as_json
        self.con = console()
        self.live: Any = None
        self.last = ""
        self.started = time.monotonic()

    def __enter__(self) -> _Progress:
        if self.con.is_terminal and not self.as_json:
            from rich.live import Live

            self.live = Live(console=self.con, refresh_per_second=4, transient=True)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)
            self.live = None

    def update(self, st: Any) -> None:
        if self.as_json:
            line = {"event": "progress", "counts": st.counts, "tokens": st.tokens,
                    "usd": st.usd, "questions_waiting": st.questions_waiting}
            if repr(line) != self.last:
                self.last = repr(line)
                _json_line({**line, "elapsed": st.elapsed, "time_left": st.time_left})
            return
        if self.live is not None:
            self.live.update(self._panel(st))
            return
        key = repr(sorted(st.counts.items())) + str(st.questions_waiting)
        if key != self.last:
            self.last = key
            self.con.print(_progress_line(st), soft_wrap=True)

    def _panel(self, st: Any) -> Any:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        total = len(st.cells)
        ended = sum(st.counts.get(k, 0) for k in ("done", "stopped", "tripped", "failed"))
        grid = Table.grid(padding=(0, 2))
        grid.add_row(f"[bold]batch {self.batch_id}[/]",
                     f"{ended}/{total} ended",
                     ProgressBar(total=total, completed=ended, width=40))
        grid.add_row("cells", _counts(st), "")
        grid.add_row("spend", _spend(st), "")
        grid.add_row("time", _time(st), "")
        rows = [c for c in st.cells if c.state in ("running", "waiting")]
        cells = Table("running cell", "state", "turns", "tokens", box=None)
        for c in rows[:12]:
            cells.add_row(c.key, c.state, str(c.turns), str(c.tokens))
        return Group(grid, cells)


def _counts(st: Any) -> str:
    c = st.counts
    return (f"done {c.get('done', 0)} · running {c.get('running', 0)} · queued "
            f"{c.get('queued', 0)} · failed {c.get('failed', 0)} · waiting on a person "
            f"{c.get('waiting', 0)}"
            + (f" · stopped {c['stopped']}" if c.get("stopped") else "")
            + (f" · tripped {c['tripped']}" if c.get("tripped") else "")
            + (f" · interrupted {c['interrupted']}" if c.get("interrupted") else "")
            + f" · inbox {st.questions_waiting}")


def _spend(st: Any) -> str:
    lim = st.limits
    usd = f"${st.usd:.4f}" + (f" / ${lim['max_usd']:g}" if lim.get("max_usd") else "")
    tok = f"{st.tokens} tokens" + (f" / {lim['max_tokens']}" if lim.get("max_tokens") else "")
    return f"{usd} · {tok}"


def _time(st: Any) -> str:
    out = f"{st.elapsed:.0f} s"
    if st.time_left is not None:
        out += f" · {st.time_left:.0f} s left of the batch's time limit"
    done = [c for c in st.cells if c.state == "done" and c.seconds]
    todo = sum(1 for c in st.cells if c.state in ("queued", "running", "waiting",
                                                  "interrupted"))
    if done and todo:
        per = sum(c.seconds for c in done) / len(done)
        conc = max(1, int(st.limits.get("concurrency") or 1))
        out += f" · about {per * todo / conc:.0f} s to go"
    return out


def _progress_line(st: Any) -> str:
    total = len(st.cells)
    ended = sum(st.counts.get(k, 0) for k in ("done", "stopped", "tripped", "failed"))
    return f"[{ended}/{total}] {_counts(st)} · {_spend(st)} · {_time(st)}"
