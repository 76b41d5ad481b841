"""Warm workers (mapek.warm): started ahead of time, handed their run, kept between steps,
and still stopped by signals as any worker is. Real processes, real workspaces."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mapek import warm
from mapek.api import Session

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"
PEOPLE = ["cfo", "engineer", "skeptic", "legal"]


def _pids(s: Session) -> list[int]:
    return [int(e.payload["pid"]) for e in s.history() if e.kind == "worker.started"]


def test_steps_go_on_in_one_worker_process(home: Path) -> None:
    s = Session.create(TOPIC, PEOPLE, human="defer", max_turns=8)
    first = s.step()
    assert first[-1].kind == "run.paused"
    proc = s._proc  # noqa: SLF001
    assert proc is not None and proc.poll() is None  # paused, alive, waiting for its next step
    assert not s.is_running() and s.result().status == "paused"
    second = s.step()
    assert second[-1].kind == "run.paused" and second[0].seq > first[-1].seq
    res = s.run()
    assert res.status in ("converged", "stalled", "max_turns")
    assert _pids(s) == [proc.pid] * 3  # three starts of the graph, one process
    s.close()
    assert proc.poll() is not None  # it ended with its run


def test_closing_the_front_end_ends_a_paused_worker(home: Path) -> None:
    s = Session.create(TOPIC, PEOPLE, human="defer", max_turns=8)
    s.step()
    proc = s._proc  # noqa: SLF001
    assert proc is not None and proc.poll() is None
    s.close()
    assert proc.wait(timeout=30) == 0  # the end of its input: paused, resumable
    with Session.attach(s.run_id) as again:
        assert again.result().status == "paused"
        assert again.run().status in ("converged", "stalled", "max_turns")
        assert len(set(_pids(again))) == 2  # the next front end started its own


def test_sigterm_stops_a_paused_worker_and_the_run_resumes(home: Path) -> None:
    s = Session.create(TOPIC, PEOPLE, human="defer", max_turns=8)
    s.step()
    proc = s._proc  # noqa: SLF001
    assert proc is not None
    os.kill(proc.pid, signal.SIGTERM)  # what its watchdog sends on a trip
    assert proc.wait(timeout=30) == 143
    res = s.run()  # a new worker, from the last checkpoint
    assert res.status in ("converged", "stalled", "max_turns")
    pids = _pids(s)
    assert len(pids) == 2 and pids[1] != proc.pid
    s.close()


def test_create_starts_a_waiting_worker_unless_told_not_to(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warm._close_slot()  # noqa: SLF001 - from an earlier test in this process
    monkeypatch.setenv(warm.WARM_ENV, "0")
    Session.create(TOPIC, PEOPLE, human="defer").close()
    assert warm.take_warm() is None
    monkeypatch.delenv(warm.WARM_ENV)
    s = Session.create(TOPIC, PEOPLE, human="defer", max_turns=4)
    waiting = warm.take_warm()
    assert waiting is not None and waiting.poll() is None
    warm._slot = waiting  # noqa: SLF001 - put it back: the session's start takes it
    assert s.run().status in ("converged", "stalled", "max_turns")
    assert _pids(s) == [waiting.pid]
    s.close()


def test_a_waiting_worker_nobody_needs_exits_at_the_end_of_its_input() -> None:
    proc = warm.spawn_serving()
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0


def test_a_worker_gone_before_its_run_arrives_is_replaced(home: Path) -> None:
    warm._close_slot()  # noqa: SLF001
    dead = subprocess.Popen(["true"], stdin=subprocess.PIPE)
    dead.wait()
    warm._slot = dead  # noqa: SLF001 - a waiting worker that died
    s = Session.create(TOPIC, PEOPLE, human="defer", max_turns=4)
    if warm._slot is dead:  # noqa: SLF001 - create found it dead and started another
        pytest.fail("prewarm kept a dead worker")
    assert s.run().status in ("converged", "stalled", "max_turns")
    pids = _pids(s)
    assert pids and dead.pid not in pids
    s.close()


def test_a_paused_worker_does_not_go_on_while_another_front_end_runs_the_run(
        home: Path) -> None:
    """A paused warm worker is invisible to other front ends (the log says paused): while one
    of them runs the run, the owner's next step is refused as any second worker is, and its
    paused worker ends instead of running the graph alongside."""
    import time

    from mapek.errors import UserError

    s = Session.create(TOPIC, PEOPLE, human="defer", max_turns=8)
    s.step()
    proc = s._proc  # noqa: SLF001
    assert proc is not None and proc.poll() is None
    with Session.attach(s.run_id) as other:
        other.start()
        deadline = time.monotonic() + 60
        while len(set(_pids(s))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        theirs = [p for p in _pids(s) if p != proc.pid][-1]
        os.kill(theirs, signal.SIGSTOP)  # held mid-run, so the check cannot race its end
        try:
            with pytest.raises(UserError, match="already has a live worker"):
                s.step()
        finally:
            os.kill(theirs, signal.SIGCONT)
        assert proc.wait(timeout=30) == 0  # ended in order: never ran alongside
        while other.is_running() and time.monotonic() < deadline + 120:
            time.sleep(0.1)
        assert other.result().status in ("converged", "stalled", "max_turns")
    evs = s.history()
    keys = [e.key for e in evs if e.key]
    assert len(keys) == len(set(keys))
    assert sum(e.kind == "run.finished" for e in evs) == 1
    assert len(set(_pids(s))) == 2
    s.close()


def test_a_waiting_worker_whose_imports_failed_says_so_in_the_runs_log(tmp_path: Path) -> None:
    # A broken install seen only by the waiting worker (a package shadowed on its path): the
    # front end hands it a run all the same; the failure lands in that run's worker log.
    shadow = tmp_path / "shadow" / "langgraph"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('langgraph is broken here')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(shadow.parent), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.Popen([sys.executable, "-m", "mapek.loop.worker", "--serve"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, env=env)
    log = tmp_path / "worker.log"
    assert warm.hand_over(proc, run_id="r1", home=str(tmp_path / "ws"), rounds=None,
                          watched=False, log=str(log), env=env)
    assert proc.wait(timeout=120) == 1
    said = log.read_text()
    assert "a worker's imports failed" in said and "langgraph is broken here" in said
