"""Cells as Ray tasks (``--executor ray``) on a real local Ray with 2 CPUs, started by these
tests and shut down after them (no Ray process is left behind): a plan runs to the end from the
command line and ``kb verify`` passes; a cell whose Ray worker process is killed (SIGKILL)
finishes once, followed by Ray's retry, and one that loses its session worker with it (a lost
node) resumes from its checkpoint; a missing Ray or an unreachable address is one line,
exit 2, nothing written."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _batchrig import assert_nothing_twice, batch_events, mapek, run_events, wait_for

from mapek.batch.state import BatchFold
from mapek.knowledge import KnowledgeBase
from mapek.testing.processes import hold_between_writes, wait_pending

PLAN = """\
topics:
  - Should we open an office in Berlin?
panels:
  finance: [cfo, skeptic, legal]
  product: [engineer, customer, strategist]
session: {{max_turns: {turns}}}
limits: {{concurrency: 2}}
"""


def _our_processes(marker: str) -> list[int]:
    """Processes whose command line names ``marker`` (the Ray temp folder of these tests)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if marker.encode() in cmd and int(entry) != os.getpid():
            found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """A real local Ray (2 CPUs) for this module, in a temp folder of its own; this process is
    its first driver, the CLI a second one. Shut down after, and checked gone."""
    ray = pytest.importorskip("ray")
    temp = tempfile.mkdtemp(prefix="mkray", dir="/tmp")  # short: Ray's sockets live in it
    for attempt in (1, 2):  # on a loaded machine Ray's node may miss its 30 s to start
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=temp)
            break
        except Exception:
            ray.shutdown()
            if attempt == 2:
                raise
    try:
        yield str(ray.get_runtime_context().gcs_address)
    finally:
        ray.shutdown()
        try:
            wait_for(lambda: not _our_processes(temp), timeout=60,
                     what="the Ray processes to exit")
        finally:
            shutil.rmtree(temp, ignore_errors=True)


def _fold(home: Path, batch_id: str) -> BatchFold:
    with KnowledgeBase.open(home, index_on_record=False) as kb:
        f = BatchFold(batch_id)
        f.refresh(kb)
    return f


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as f:
        return int(f.read().rsplit(b")", 1)[1].split()[1])


def _cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode(errors="replace")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_plan_runs_to_the_end_with_the_ray_executor(ray_address: str, home: Path,
                                                      tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.format(turns=3))
    r = mapek("batch", "run", str(plan), "--executor", "ray", "--ray-address", ray_address)
    assert r.returncode == 0, r.stdout + r.stderr
    batch_id = re.search(r"batch (batch-[\w-]+): 2 cells", r.stdout).group(1)  # type: ignore[union-attr]
    st = json.loads(mapek("batch", "status", batch_id, "--json").stdout)
    assert st["state"] == "finished" and st["counts"] == {"done": 2}
    assert st["executor"] == "ray"
    drivers = [e for e in batch_events(home, batch_id) if e.kind == "batch.driver"]
    assert [d.payload["executor"] for d in drivers] == ["ray"]
    for c in st["cells"]:
        evs = assert_nothing_twice(home, c["run_id"])
        started = [e for e in evs if e.kind == "worker.started"]
        assert len(started) == 1 and started[0].payload["host"] == socket.gethostname()
        assert sum(e.kind == "run.finished" for e in evs) == 1
    v = mapek("kb", "verify")
    assert v.returncode == 0, v.stdout + v.stderr


def _hold_when_talking(home: Path, box: dict[str, Any], timeout: float = 300) -> dict[str, int]:
    """Each cell's worker, held (SIGSTOP) as soon as it has had two persona turns: an offline
    discussion can end within seconds, so both are held until the kills."""
    held: dict[str, int] = {}
    end = time.time() + timeout
    with KnowledgeBase.open(home, index_on_record=False) as kb:
        while len(held) < 2:
            assert "error" not in box, box
            assert time.time() < end, f"timed out waiting for two talking cells ({held})"
            if "id" in box:
                f = BatchFold(box["id"])
                f.refresh(kb)
                for c in f.cells.values():
                    if c.run_id in held or not c.worker_pid:
                        continue
                    assert c.final is None, f"{c.run_id} ended before it could be held"
                    if len(kb.events(c.run_id, kinds=["message"])) >= 2:
                        # not in the middle of a write: the other cell shares the log
                        hold_between_writes(c.worker_pid, home / "log.sqlite3")
                        held[c.run_id] = c.worker_pid
            time.sleep(0.02)
    return held


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_cell_whose_ray_worker_is_killed_finishes_once(ray_address: str, home: Path,
                                                         tmp_path: Path) -> None:
    from mapek import Batch

    box: dict[str, Any] = {}

    def drive() -> None:
        b = Batch.create(json_plan(), home=home)
        box["id"] = b.batch_id
        try:
            box["status"] = b.run(executor="ray")  # this process's Ray (ray.init above)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions below
            box["error"] = exc
        finally:
            b.close()

    def json_plan() -> dict[str, Any]:
        import yaml

        return dict(yaml.safe_load(PLAN.format(turns=12)))

    t = threading.Thread(target=drive, daemon=True)
    t.start()
    workers = _hold_when_talking(home, box)
    (kept, kept_pid), (lost, lost_pid) = sorted(workers.items())
    before = {run: run_events(home, run) for run in workers}
    ray_workers = {run: _parent(pid) for run, pid in workers.items()}
    for rpid in ray_workers.values():  # the session's worker is the Ray task's child
        assert _cmdline(rpid).startswith("ray::"), _cmdline(rpid)
    assert len(set(ray_workers.values())) == 2
    os.kill(ray_workers[kept], signal.SIGKILL)  # the task's process goes: its worker lives
    os.kill(ray_workers[lost], signal.SIGKILL)  # a lost node: the task and its worker go
    os.kill(lost_pid, signal.SIGKILL)
    os.kill(kept_pid, signal.SIGCONT)  # the kept cell's worker goes on, with no task over it

    t.join(timeout=900)
    assert not t.is_alive() and "error" not in box, box
    st = box["status"]
    assert st.state == "finished" and st.counts == {"done": 2}, (st.state, st.reason)
    kinds = [e.kind for e in batch_events(home, box["id"])]
    assert "batch.error" not in kinds  # Ray's retries ran the cells on to their end
    assert kinds.count("batch.finished") == 1
    for run in workers:
        after = assert_nothing_twice(home, run)
        assert [e.hash for e in after[:len(before[run])]] == [e.hash for e in before[run]]
        assert sum(e.kind == "run.finished" for e in after) == 1
        assert sum(e.kind == "run.started" for e in after) == 1
    # the kept cell's worker was followed to its end, not started again ...
    assert sum(e.kind == "worker.started" for e in run_events(home, kept)) == 1
    # ... the lost one's resumed from its checkpoint in a new worker
    assert sum(e.kind == "worker.started" for e in run_events(home, lost)) == 2
    v = mapek("kb", "verify")
    assert v.returncode == 0, v.stdout + v.stderr


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_stopped_ray_batch_keeps_its_cells_and_resumes(ray_address: str, home: Path,
                                                         tmp_path: Path) -> None:
    """SIGTERM (as Ctrl-C) on the driver: each running cell's Ray task is cancelled and stops
    its worker in order; ``batch resume`` on Ray continues them from their checkpoints."""
    from _batchrig import batch_ids, start_mapek

    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.format(turns=12))
    driver = start_mapek("batch", "run", str(plan), "--executor", "ray", "--ray-address",
                         ray_address, out=tmp_path / "run.out")
    box: dict[str, Any] = {}
    try:
        box["id"] = wait_for(lambda: (batch_ids(home) or [None])[0], timeout=300,
                             what="the batch")
        workers = _hold_when_talking(home, box)
        driver.send_signal(signal.SIGTERM)
        # the cancels are on their way: each held worker is let go once its SIGTERM waits on
        # it (a fixed pause let a loaded machine continue a worker first; it then finished)
        for pid in workers.values():
            assert wait_pending(pid, signal.SIGTERM, timeout=120), f"no SIGTERM reached {pid}"
            os.kill(pid, signal.SIGCONT)
        assert driver.wait(timeout=300) == 130, (tmp_path / "run.out").read_text()
    finally:
        if driver.poll() is None:
            driver.kill()
    f = _fold(home, box["id"])
    assert sorted(c.state() for c in f.cells.values()) == ["interrupted", "interrupted"]
    for run, pid in workers.items():
        assert f.cells[run].final is not None and f.cells[run].final.kind == "run.stopped"
        wait_for(lambda pid=pid: not os.path.exists(f"/proc/{pid}")
                 or b" Z " in open(f"/proc/{pid}/stat", "rb").read(), timeout=30,
                 what="the stopped worker to be gone")
    r = mapek("batch", "resume", box["id"], "--executor", "ray", "--ray-address", ray_address)
    assert r.returncode == 0, r.stdout + r.stderr
    st = json.loads(mapek("batch", "status", box["id"], "--json").stdout)
    assert st["state"] == "finished" and st["counts"] == {"done": 2}
    for run in workers:
        evs = assert_nothing_twice(home, run)
        assert sum(e.kind == "worker.started" for e in evs) == 2
        assert sum(e.kind == "run.finished" for e in evs) == 1
    v = mapek("kb", "verify")
    assert v.returncode == 0, v.stdout + v.stderr


# -- the one-line errors (no Ray cluster needed) ----------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _one_line(r: subprocess.CompletedProcess[str]) -> str:
    lines = [x for x in (r.stdout + r.stderr).splitlines() if x.strip()]
    assert r.returncode == 2 and len(lines) == 1, r.stdout + r.stderr
    assert "Traceback" not in lines[0]
    return lines[0]


def test_an_unreachable_ray_address_is_one_line_and_writes_nothing(home: Path,
                                                                   tmp_path: Path) -> None:
    pytest.importorskip("ray")
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.format(turns=3))
    port = _closed_port()
    line = _one_line(mapek("batch", "run", str(plan), "--executor", "ray",
                           "--ray-address", f"127.0.0.1:{port}", timeout=120))
    assert f"cannot reach the Ray cluster at 127.0.0.1:{port}" in line
    line = _one_line(mapek("batch", "run", str(plan), "--executor", "ray",
                           "--ray-address", "no-port-here"))
    assert "--ray-address 'no-port-here' is not HOST:PORT" in line
    line = _one_line(mapek("batch", "run", str(plan), "--ray-address", f"127.0.0.1:{port}"))
    assert "--ray-address is for --executor ray" in line
    assert not home.exists()  # no workspace, no batch


def test_the_ray_executor_without_ray_is_one_line(home: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.format(turns=3))
    code = ("import sys; sys.modules['ray'] = None\n"  # import ray fails, as when not installed
            "from mapek.cli import main\n"
            f"sys.argv = ['mapek', 'batch', 'run', {str(plan)!r}, '--executor', 'ray']\n"
            "main()\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
    line = _one_line(r)
    assert "--executor ray needs Ray, which is not installed: pip install 'mapek[ray]'" in line
    assert not home.exists()


def test_starting_mapek_does_not_import_ray() -> None:
    r = subprocess.run([sys.executable, "-c",
                        "import sys, mapek.cli, mapek.batch, mapek.batch.ray_executor; "
                        "from mapek import Batch; "
                        "print('ray' in sys.modules)"],
                       capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "False", r.stdout + r.stderr
