"""Exactly once across real SIGKILLs: the workflow runner in its own process, killed at a random
moment, resumed; the side effects are counted by an HTTP server this test owns."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mapek.knowledge import KnowledgeBase
from mapek.ledger import Ledger

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _counter import CounterServer, trial, worker, workflow_file

MAPEK = str(Path(sys.executable).with_name("mapek"))


@pytest.fixture
def server() -> Iterator[CounterServer]:
    with CounterServer(delay=(0.0, 0.03)) as s:
        yield s


def _trials(tmp_path: Path, server: CounterServer, n: int, seed: int) -> list:  # type: ignore[type-arg]
    rng = random.Random(seed)
    wf, names = workflow_file(tmp_path, server.url, steps=6)
    out = []
    for i in range(n):
        server.reset()
        out.append(trial(wf, names, tmp_path / f"ws{i}", server, f"trial-{i}",
                         rng.uniform(0.0, 0.25), from_first_effect=True))
    return out


def test_every_effect_once_across_a_sigkill_and_a_resume(tmp_path: Path,
                                                         server: CounterServer) -> None:
    trials = _trials(tmp_path, server, 3, seed=os.getpid())
    for t in trials:
        assert t.duplicates == 0 and t.lost == 0, t
        assert set(t.applied.values()) == {1}, t
    assert any(t.killed for t in trials)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [7, 8, 9])
def test_thirty_random_kills(tmp_path: Path, server: CounterServer, seed: int) -> None:
    """Ten random kills per seed, thirty over the three; as three slow tests, CI's daily sample
    of slow tests (MAPEK_SLOW_SAMPLE) takes ten of them at a time, not a minute's worth."""
    trials = _trials(tmp_path, server, 10, seed=seed)
    assert sum(t.duplicates for t in trials) == 0
    assert sum(t.lost for t in trials) == 0
    assert sum(t.killed for t in trials) >= 5  # the others finished before their kill
    assert sum(t.resumes for t in trials) >= 5


def test_a_call_in_doubt_waits_for_a_human_then_resumes(tmp_path: Path, home: Path) -> None:
    """Killed while the (non-idempotent) call was in flight: the resumed run does not run it
    again by itself; it exits 5 naming the call; `mapek workflow answer --happened` records it;
    the next resume finishes without calling it a second time."""
    with CounterServer(delay=(30.0, 30.0)) as slow:  # the first call never answers in time
        wf, _ = workflow_file(tmp_path, slow.url, steps=1)
        p = worker(wf, home, "doubt-1", resume=False)
        assert slow.first.wait(30), p.communicate()
        os.kill(p.pid, signal.SIGKILL)
        p.communicate()
        assert slow.applied == {"append_entry-0": 1}
        r = worker(wf, home, "doubt-1", resume=True)
        out, err = r.communicate(timeout=60)
        assert r.returncode == 5, err
        assert "append_entry may already have happened" in err
        d = json.loads(out)["in_doubt"]
        assert d["args"] == {"url": slow.url, "name": "append_entry-0"}
        assert len(slow.requests) == 1
        env = {**os.environ, "MAPEK_HOME": str(home)}
        listed = subprocess.run([MAPEK, "workflow", "effects", "doubt-1"], env=env,
                                capture_output=True, text=True, check=True).stdout
        assert "in_doubt" in listed and "append_entry" in listed
        bad = subprocess.run([MAPEK, "workflow", "answer", "doubt-1", d["key"]], env=env,
                             capture_output=True, text=True, check=False)
        assert bad.returncode == 2 and "exactly one of --happened and --run" in bad.stderr
        ok = subprocess.run([MAPEK, "workflow", "answer", "doubt-1", d["key"][:12],
                             "--happened", "--note", "seen in the counter"], env=env,
                            capture_output=True, text=True, check=False)
        assert ok.returncode == 0, ok.stderr
        r = worker(wf, home, "doubt-1", resume=True)
        out, err = r.communicate(timeout=60)
        assert r.returncode == 0, err
        assert json.loads(out)["status"] == "finished"
        assert len(slow.requests) == 1 and slow.applied["append_entry-0"] == 1
    with KnowledgeBase.open(home, index_on_record=False) as kb:
        [e] = Ledger(kb, "doubt-1").effects()[-1:]
        assert e.status == "done" and e.answer == "happened"
        assert kb.verify("doubt-1").ok


def test_resume_refuses_a_changed_workflow_and_an_unknown_run(tmp_path: Path,
                                                              home: Path,
                                                              server: CounterServer) -> None:
    wf, _ = workflow_file(tmp_path, server.url, steps=2)
    r = worker(wf, home, "changed-1", resume=False)
    assert r.wait(60) == 0
    wf.write_text(wf.read_text().replace("append_entry-0", "append_entry-9"))
    r = worker(wf, home, "changed-1", resume=True)
    _, err = r.communicate(timeout=60)
    assert r.returncode == 2 and "resume it with the file it started with" in err
    r = worker(wf, home, "nosuch", resume=True)
    _, err = r.communicate(timeout=60)
    assert r.returncode == 2 and "no run 'nosuch'" in err
    assert server.applied["append_entry-0"] == 1 and server.applied["append_entry-9"] == 0
