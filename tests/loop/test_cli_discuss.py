"""`mapek discuss`, `runs`, `resume`, `answer` and `triage` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mapek.knowledge import SQLiteEventLog
from mapek.testing.processes import hold_between_writes, interruptible, wait_pending

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"


def mapek(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=300, input=stdin)


def test_non_interactive_discussion_streams_and_ends_with_synthesis(home: Path) -> None:
    r = mapek("discuss", TOPIC, "--personas", "cfo,engineer,skeptic,legal", "--non-interactive",
              "--max-turns", "12")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "agenda 1. " in out and "Principal Engineer" in out and "synthesis" in out
    assert "offline" in out  # the output says the offline model produced it
    # the engineer's terraform destroy waits in the log for a person (`mapek approve`): the
    # front end refuses nothing in the human's name, and the synthesis says it did not run
    assert "engineer asks to run shell" in out and "still waiting for a human's approval" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("run ")
    run_id = last.split()[1]
    r = mapek("runs", "list", "--json")
    runs = json.loads(r.stdout)
    assert [x["run_id"] for x in runs] == [run_id] and runs[0]["topic"] == TOPIC
    r = mapek("runs", "show", run_id, "--json")
    shown = json.loads(r.stdout)
    assert shown["status"] in ("converged", "stalled", "max_turns")
    assert any(q["status"] == "answered" for q in shown["questions"])
    # a queued question can be answered after the run, and only once
    queued = [q for q in shown["questions"] if q["status"] == "escalated"]
    if queued:
        qid = queued[0]["qid"]
        assert mapek("answer", run_id, qid, "Approved").returncode == 0
        again = mapek("answer", run_id, qid, "Approved")
        assert again.returncode == 2 and "already answered" in again.stderr
    r = mapek("resume", run_id)
    assert r.returncode == 0 and "already finished" in r.stdout


def test_interactive_discussion_prompts_only_for_consequential(home: Path) -> None:
    # The engineer's terraform destroy is put to the human first (refused: "n"); then the first
    # question is answered and the rest deferred.
    answers = "n\nYes, up to 200k\n" + "\n" * 10
    r = mapek("discuss", TOPIC, "--personas", "cfo,engineer,legal,security", "--max-turns", "12",
              stdin=answers)
    assert r.returncode == 0, r.stderr
    assert "the observer needs your judgement" in r.stdout
    assert "a call needs your approval" in r.stdout and "refused by the human" in r.stdout
    assert "the human answered: Yes, up to 200k" in r.stdout
    # trivial questions never reached the prompt: they were routed to peers
    assert "routed to" in r.stdout
    prompts = r.stdout.count("your answer (empty to defer)")
    assert 1 <= prompts <= 3


def test_usage_mistakes(home: Path) -> None:
    r = mapek("discuss", TOPIC, "--personas", "cfo,ghost")
    assert r.returncode == 2 and "unknown persona 'ghost'" in r.stderr
    assert "Traceback" not in r.stderr
    r = mapek("discuss", "  ", "--non-interactive")
    assert r.returncode == 2 and "topic" in r.stderr
    r = mapek("discuss", TOPIC, "--non-interactive", "--on-question", "maybe")
    assert r.returncode == 2 and "--on-question" in r.stderr
    r = mapek("discuss", TOPIC, "--max-turns", "0")
    assert r.returncode == 2
    r = mapek("discuss", TOPIC, "--model", "mapek/offline-nonsense")
    assert r.returncode == 2 and "unknown model" in r.stderr
    # nothing was recorded for the refused sessions: not even a workspace was made
    assert not (home / "log.sqlite3").exists()
    r = mapek("runs", "show", "no-such-run")
    assert r.returncode == 2 and "does not exist" in r.stderr
    home.mkdir()
    r = mapek("runs", "show", "no-such-run")
    assert r.returncode == 2 and "no run 'no-such-run'" in r.stderr
    assert json.loads(mapek("runs", "list", "--json").stdout) == []


def test_unknown_real_model_string(home: Path) -> None:
    r = mapek("discuss", TOPIC, "--model", "not-a-provider/whatever-model", "--non-interactive")
    assert r.returncode == 2, r.stderr
    assert "unknown model 'not-a-provider/whatever-model'" in r.stderr
    assert "Traceback" not in r.stderr


def test_triage_cli(tmp_path: Path, home: Path) -> None:
    src = tmp_path / "q.jsonl"
    src.write_text(
        json.dumps({"text": "Will you approve a budget of $250,000 for this?"}) + "\n"
        + json.dumps({"text": "What does TCO stand for?", "asked_by": "skeptic"}) + "\n")
    r = mapek("triage", "--jsonl", str(src))
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["label"] for x in rows] == ["consequential", "trivial"]
    assert all({"label", "reason", "score"} <= set(x) for x in rows)
    src.write_text('{"text": "fine"}\nnot json\n')
    r = mapek("triage", "--jsonl", str(src))
    assert r.returncode == 2 and ":2:" in r.stderr and r.stdout == ""
    r = mapek("triage", "--jsonl", str(tmp_path / "missing.jsonl"))
    assert r.returncode == 2 and "no such file" in r.stderr


def _states(*pids: int) -> dict[int, str]:
    """What a failure needs to say about processes: each one's state, signal masks and where
    in the kernel it waits (what showed that the front end ignored SIGINT, above)."""
    out = {}
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            wchan = Path(f"/proc/{pid}/wchan").read_text()
        except OSError as exc:
            out[pid] = f"gone ({exc})"
            continue
        keep = [x for x in status.splitlines()
                if x.startswith(("State", "Sig", "ShdPnd", "Threads"))]
        out[pid] = "; ".join(keep) + f"; wchan {wchan}"
    return out


def test_ctrl_c_stops_the_worker_and_the_run_resumes(home: Path) -> None:
    import signal
    import time

    from mapek.api import Session

    # as a terminal starts it (mapek.testing.processes.interruptible): this test failed in
    # three clean-clone runs started in the background, which made the front end ignore SIGINT
    with interruptible():
        proc = subprocess.Popen([sys.executable, "-m", "mapek.cli", "discuss", TOPIC,
                                 "--non-interactive", "--max-turns", "12"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    # The front end prints behind its worker, which could end the run before the Ctrl-C: the
    # worker is held (between writes) from the log's side as soon as it has planned round 2,
    # and stays held until the front end's SIGTERM waits on it.
    db = home / "log.sqlite3"
    deadline = time.time() + 120
    pid = 0
    while not pid and time.time() < deadline:
        time.sleep(0.02)
        try:
            with SQLiteEventLog(db, create=False) as log:
                runs = log.runs()
                started = log.events(runs[0].run_id, kinds=["worker.started"]) if runs else []
        except Exception:  # noqa: BLE001 - not created yet, or being created: look again
            continue
        pid = int(started[-1].payload["pid"]) if started else 0
    assert pid, "no worker started within 120 s"
    try:
        while time.time() < deadline:
            hold_between_writes(pid, db)
            with SQLiteEventLog(db, create=False) as log:
                plans = log.events(runs[0].run_id, kinds=["plan"])
            if any(int(ev.payload.get("round", 0)) >= 2 for ev in plans):
                break
            os.kill(pid, signal.SIGCONT)
            time.sleep(0.02)
        seen = ""
        while "round 2" not in seen and time.time() < deadline:
            seen += proc.stdout.readline()  # type: ignore[union-attr]
        assert "round 2" in seen, seen
        proc.send_signal(signal.SIGINT)
        if not wait_pending(pid, signal.SIGTERM, timeout=60):
            states = _states(proc.pid, pid)
            proc.kill()
            out, err = proc.communicate(timeout=30)
            pytest.fail(f"the front end sent no SIGTERM: {states}; its stdout ends "
                        f"{out[-1500:]!r}; its stderr ends {err[-1500:]!r}")
    finally:
        os.kill(pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "mapek resume" in err and "Traceback" not in err
    runs = json.loads(mapek("runs", "list", "--json").stdout)
    run_id = runs[0]["run_id"]
    with Session.attach(run_id) as s:
        assert s.result().status == "stopped" and not s.is_running()
    r = mapek("resume", run_id)
    assert r.returncode == 0, r.stderr
    with Session.attach(run_id) as s:
        assert s.result().status in ("converged", "stalled", "max_turns")
        assert s.kb.verify(run_id).ok
