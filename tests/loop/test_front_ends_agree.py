"""Front ends that tell the truth and agree with each other.

Real parts throughout: `mapek discuss` processes with their worker and watchdog processes, other
front ends (`mapek answer`, `mapek approve`) as subprocesses on the same run, a real MCP server
(tests/safety/_mcp_server.py over stdio) for a destructive tool, one SQLite log.

- A worker that dies before ``worker.started`` makes `discuss` exit 6, saying why.
- A front end that falls behind a run that then finishes ends with the outcome's own code and
  the synthesis (not exit 2 "call ... was not run and cannot be now").
- A queue session writes nothing in a person's name: a queued call waits for `mapek approve`
  (and then runs); a call a front end's policy refuses says ``policy`` and why.
- A question or call settled in another front end is said so in the `discuss` window, which
  goes on; the run id and the attach command come first.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mapek.models import Event
from mapek.testing.processes import hold_between_writes as _hold_between_writes

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"
SERVER = Path(__file__).resolve().parent.parent / "safety" / "_mcp_server.py"


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=timeout)


class _Front:
    """A `mapek discuss` process whose output is read as it comes."""

    def __init__(self, *args: str, stdin: bool = False) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mapek.cli", "discuss", *args],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True)
        self.out: list[str] = []
        self.err: list[str] = []
        self._threads = [threading.Thread(target=self._read, args=(s, b), daemon=True)
                         for s, b in ((self.proc.stdout, self.out),
                                      (self.proc.stderr, self.err))]
        for t in self._threads:
            t.start()

    @staticmethod
    def _read(stream: Any, into: list[str]) -> None:
        """As it comes, a prompt with no line end included."""
        while chunk := os.read(stream.fileno(), 4096):
            into.append(chunk.decode("utf-8", "replace"))

    @property
    def stdout(self) -> str:
        return "".join(self.out)

    def wait_output(self, text: str, timeout: float = 90, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while self.stdout.count(text) < count:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"discuss never printed {text!r}; stdout:\n"
                                     f"{self.stdout[-3000:]}\nstderr:\n{''.join(self.err)}")
            time.sleep(0.1)

    def wait(self, timeout: float = 240) -> int:
        code = self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout=10)
        return code

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _log(home: Path) -> tuple[str | None, list[Event]]:
    from mapek.knowledge import KnowledgeBase

    if not (home / "log.sqlite3").exists():
        return None, []
    with KnowledgeBase.open(home, create=False, index_on_record=False) as kb:
        runs = kb.runs()
        if not runs:
            return None, []
        return runs[0].run_id, kb.events(runs[0].run_id)


def _wait_log(home: Path, found: Callable[[list[Event]], Any], what: str,
              timeout: float = 180, poll: float = 0.1) -> tuple[str, list[Event]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run_id, events = _log(home)
        if run_id is not None and found(events):
            return run_id, events
        time.sleep(poll)
    raise AssertionError(f"the log never showed {what}")


def _started(events: list[Event]) -> bool:
    return any(e.kind == "worker.started" for e in events)


def _held_when(home: Path, pid: int, found: Callable[[list[Event]], Any], what: str,
               timeout: float = 180) -> tuple[str, list[Event]]:
    """Hold process ``pid`` (between two log writes) and read the log, until it shows what
    ``found`` looks for; return with the process held (SIGSTOP), else let it go on a moment
    and look again."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _hold_between_writes(pid, home / "log.sqlite3")
        run_id, events = _log(home)
        if run_id is not None and found(events):
            return run_id, events
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.01)
    raise AssertionError(f"the log never showed {what}")


def _mcp_setup(tmp_path: Path) -> tuple[Path, list[str]]:
    """A merchant persona holding the MCP server's read and destructive tools; the file the
    destructive tool appends to; the `discuss` arguments."""
    deleted = tmp_path / "deleted.txt"
    wrapper = tmp_path / "prices.py"
    wrapper.write_text(f"import os, runpy\nos.environ['MAPEK_TEST_DELETED'] = {str(deleted)!r}\n"
                       f"runpy.run_path({str(SERVER)!r}, run_name='__main__')\n")
    pdir = tmp_path / "personas"
    pdir.mkdir()
    (pdir / "merchant.yaml").write_text(
        "name: merchant\nrole: Merchandiser\ngoal: Keep the catalogue right\n"
        "expertise: [catalogue]\nconcerns: [stale prices, dead SKUs]\n"
        "tools: [prices__lookup_price, prices__delete_sku]\n")
    return deleted, ["Should we prune our SKU catalogue?", "--personas", "cfo,merchant",
                     "--personas-dir", str(pdir), "--mcp", f"{sys.executable} {wrapper}",
                     "--non-interactive", "--on-question", "queue"]


def _held(events: list[Event]) -> list[dict[str, Any]]:
    return [r for e in events if e.kind == "approval.requested"
            for r in e.payload["approvals"] if r["tool"] == "prices__delete_sku"]


@pytest.mark.slow
def test_a_worker_that_dies_before_it_starts_makes_discuss_exit_6(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A tool module that ends the worker process as it is imported there (the front end
    # imports it too, and lives): the worker is gone before it records worker.started.
    code = tmp_path / "code"
    code.mkdir()
    (code / "dies_in_worker.py").write_text(
        "import os, sys\nfrom mapek.safety.tools import tool\n\n"
        "if getattr(sys.modules['__main__'].__spec__, 'name', '') == 'mapek.loop.worker':\n"
        "    print('dies_in_worker: gone before the run starts', flush=True)\n"
        "    os._exit(3)\n\n\n"
        "@tool(effect='read')\ndef probe(sku: str) -> str:\n    '''A probe.'''\n"
        "    return sku\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(code), os.environ.get("PYTHONPATH", "")) if p))
    args = ("discuss", TOPIC, "--personas", "cfo,engineer", "--tools", "dies_in_worker:probe",
            "--non-interactive", "--max-turns", "4")
    r = _cli(*args)
    assert r.returncode == 6, (r.returncode, r.stdout, r.stderr)
    run_id, events = _log(home)
    assert run_id is not None and not [e for e in events if e.kind == "worker.started"]
    first, last = r.stdout.splitlines()[0], r.stdout.strip().splitlines()[-1]
    # the run id and the attach command come first; the end says what happened and why
    assert first.startswith(f"run {run_id}") and f"mapek tui --attach {run_id}" in first
    assert f"run {run_id} · died" in last and "exited with code 3 before it started" in last
    assert "gone before the run starts" in last and f"mapek resume {run_id}" in last
    # --json: the stream stays JSON lines; the attach line goes to stderr
    r = _cli(*args, "--json")
    assert r.returncode == 6, (r.returncode, r.stdout, r.stderr)
    kinds = [json.loads(line)["kind"] for line in r.stdout.splitlines()]
    assert "worker.started" not in kinds
    assert "mapek tui --attach " in r.stderr


@pytest.mark.slow
def test_a_front_end_that_falls_behind_a_finished_run_shows_its_outcome(
        home: Path, tmp_path: Path) -> None:
    # The CI failure of test_mcp_read_tool_runs_and_destructive_tool_is_held, forced: the
    # front end is held (SIGSTOP) from the worker's start until the run has finished, then
    # reads the whole run at once, queued approval request included.
    deleted, args = _mcp_setup(tmp_path)
    front = _Front(*args, "--max-turns", "6")
    try:
        _wait_log(home, lambda evs: any(e.kind == "worker.started" for e in evs),
                  "the worker's start")
        os.kill(front.proc.pid, signal.SIGSTOP)
        try:
            run_id, events = _wait_log(home, lambda evs: any(e.kind == "run.finished"
                                                             for e in evs), "the run's end")
        finally:
            os.kill(front.proc.pid, signal.SIGCONT)
        assert _held(events), "the destructive MCP tool was not put to a person"
        code = front.wait()
    finally:
        front.kill()
    err = "".join(front.err)
    assert code == 0, (code, err)
    assert "was not run and cannot be now" not in err
    out = front.stdout
    assert "synthesis" in out and f"run {run_id} · " in out.strip().splitlines()[-1]
    assert "waiting for a human's approval" in out  # the synthesis says the call did not run
    _, events = _log(home)
    assert not [e for e in events if e.kind == "approval"]  # nobody approved or refused it
    assert not deleted.exists()


@pytest.mark.slow
def test_a_queued_call_waits_for_mapek_approve_and_then_runs(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # README: "a `queue` session goes on and runs the call in a later round once someone
    # approves it (`mapek approve`)". The worker is held while the person approves, so the
    # run cannot end first; the front end writes no approval of its own meanwhile.
    # Turns spoken at a person's pace (streamed, 20 ms a piece): the offline run would
    # otherwise end before this test can hold its worker (a flaky race, not the product's).
    monkeypatch.setenv("MAPEK_OFFLINE_STREAM_DELAY", "0.02")
    deleted, args = _mcp_setup(tmp_path)
    front = _Front(*args, "--max-turns", "12")
    try:
        # The worker is held at each look at the log, so it cannot run on to the end between
        # the call's request and the hold (a 12-turn run takes well under a second now).
        run_id, events = _wait_log(home, _started, "the worker's start", poll=0.01)
        worker = next(e.payload["pid"] for e in events if e.kind == "worker.started")
        run_id, events = _held_when(home, worker, _held, "a queued call of the destructive tool")
        try:
            time.sleep(1.0)  # as long as the old front end needed to refuse it in our name
            _, events = _log(home)
            assert not [e for e in events if e.kind == "approval"]
            call = _held(events)[0]
            ok = _cli("approve", run_id, call["call_id"])
        finally:
            os.kill(worker, signal.SIGCONT)
        assert ok.returncode == 0, ok.stderr
        assert f"approved: {call['call_id']}" in ok.stdout
        code = front.wait()
    finally:
        front.kill()
    assert code == 0, (code, "".join(front.err))
    _, events = _log(home)
    approvals = [e for e in events if e.kind == "approval"]
    assert [(e.actor, e.payload["call_id"], e.payload["approved"]) for e in approvals] == [
        ("human", call["call_id"], True)]
    ran = [e for e in events if e.kind == "tool.call" and e.key == call["call_id"]]
    assert [(e.payload["outcome"], e.payload["approved"]) for e in ran] == [("ok", True)]
    assert deleted.read_text().split() == [call["args"]["sku"]]
    assert f"{call['call_id']} approved by the human" in front.stdout


@pytest.mark.slow
def test_a_call_refused_automatically_says_policy_and_why(home: Path) -> None:
    # An interactive session driven from code with an answer callback and no approve callback:
    # nobody approves calls here. The refusal is the front end's policy, not a person's.
    from mapek import Session

    s = Session.create(TOPIC, ["cfo", "engineer", "legal", "security"], max_turns=8)
    try:
        res = s.run(answer=lambda q: "Yes, up to 200k")
        events = s.history()
    finally:
        s.close()
    assert res.status in ("converged", "stalled", "max_turns"), res
    approvals = [e for e in events if e.kind == "approval"]
    assert approvals, "the engineer's terraform destroy was never put to approval"
    assert {e.actor for e in approvals} == {"policy"}
    assert all(e.payload["approved"] is False and "asks nobody to approve calls" in
               e.payload["note"] for e in approvals)
    refused = [e for e in events if e.kind == "tool.call" and e.payload["tool"] == "shell"]
    assert refused and all(e.payload["outcome"] == "refused" and "refused by policy" in
                           e.payload["reason"] for e in refused)
    assert [e for e in events if e.kind == "answer" and e.actor == "human"]  # the callback's


@pytest.mark.slow
def test_discuss_goes_on_when_another_front_end_answers_first(home: Path) -> None:
    # An interactive discuss window prompts; every call and question it asks is settled from
    # other processes instead (`mapek approve --deny`, `mapek answer`). The window says so and
    # goes on each time; its input closes only after the run has ended.
    front = _Front(TOPIC, "--personas", "cfo,engineer,legal,security", "--max-turns", "12",
                   stdin=True)
    settled: list[str] = []
    try:
        run_id, _ = _wait_log(home, lambda evs: any(e.kind == "worker.started" for e in evs),
                              "the worker's start")
        said = _cli("interject", run_id, "Keep EU data residency in view")  # a third front end
        assert said.returncode == 0, said.stderr
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and front.proc.poll() is None:
            _, events = _log(home)
            if any(e.kind == "run.finished" for e in events):
                break
            done = {e.payload.get("call_id") or e.payload.get("qid") for e in events
                    if e.kind in ("approval", "answer", "question.deferred")}
            asked = [(r["call_id"], "approval") for e in events
                     if e.kind == "approval.requested" for r in e.payload["approvals"]]
            asked += [(q["qid"], "question") for e in events
                      if e.kind == "escalation.requested" for q in e.payload["questions"]]
            todo = [(key, what) for key, what in asked if key not in done]
            if not todo:
                time.sleep(0.2)
                continue
            key, what = todo[0]
            # once the window asks it, settle it from another front end
            front.wait_output(f"{key} ", count=2)  # the request's line, then the prompt's
            front.wait_output("approve this call? [y/n]" if what == "approval" else
                              "your answer (empty to defer)",
                              count=1 + sum(k.startswith("tool") == (what == "approval")
                                            for k in settled))
            r = (_cli("approve", run_id, key, "--deny", "--note", "from another terminal")
                 if what == "approval" else _cli("answer", run_id, key, "Yes, up to 200k"))
            assert r.returncode == 0, r.stderr
            front.wait_output(f"{key} was {'refused' if what == 'approval' else 'answered'} "
                              "elsewhere")
            settled.append(key)
        assert front.proc.stdin is not None
        front.proc.stdin.close()
        code = front.wait()
    finally:
        front.kill()
    err = "".join(front.err)
    assert code == 0, (code, err)
    assert "already answered" not in err and "no call" not in err
    kinds = {what for what in ("tool", "q") if any(k.startswith(what) for k in settled)}
    assert kinds == {"tool", "q"}, settled  # at least one call and one question
    out = front.stdout
    assert out.count("; going on") >= len(settled) and "synthesis" in out
    assert "interjects: Keep EU data residency in view" in out  # shown in the window too
    _, events = _log(home)
    # only what the other front ends wrote, and nothing in the window's name
    for e in events:
        if e.kind == "approval":
            assert (e.actor, e.payload["note"]) == ("human", "from another terminal")
        if e.kind == "answer" and e.actor == "human":
            assert e.payload["text"] == "Yes, up to 200k"
