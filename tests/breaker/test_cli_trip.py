"""End to end, with real processes: `mapek trip` from a second terminal stops a running
`mapek discuss` through its watchdog, and a front end restarts a watchdog that died."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mapek.api import Session
from mapek.cli import EXIT_TRIPPED
from mapek.knowledge import KnowledgeBase

TOPIC = "Should we open an office in Berlin?"


def _env(home: Path) -> dict[str, str]:
    # the offline model streams its turns 20 ms a piece: the discussion lasts long enough for
    # two `mapek trip` processes to start (on the instant model it could converge first)
    return {**os.environ, "MAPEK_HOME": str(home), "COLUMNS": "200",
            "MAPEK_OFFLINE_STREAM_DELAY": "0.02"}


def _wait(cond, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    end = time.time() + timeout
    while not cond():
        assert time.time() < end, "timed out"
        time.sleep(0.05)


def _events(home: Path, kind: str) -> list:  # type: ignore[type-arg]
    with KnowledgeBase.open(home, index_on_record=False) as kb:
        runs = kb.runs()
        return kb.events(runs[-1].run_id, kinds=[kind]) if runs else []


def test_mapek_trip_from_another_terminal_stops_a_running_discussion(home: Path) -> None:
    discuss = subprocess.Popen(
        [sys.executable, "-m", "mapek.cli", "discuss", TOPIC, "--personas",
         "cfo,engineer,skeptic", "--non-interactive", "--on-question", "defer",
         "--max-turns", "400"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_env(home))
    try:
        _wait(lambda: len(_events(home, "message")) >= 2)
        with KnowledgeBase.open(home, index_on_record=False) as kb:
            run = kb.runs()[-1].run_id
        r = subprocess.run([sys.executable, "-m", "mapek.cli", "trip", run], text=True,
                           capture_output=True, env=_env(home), timeout=60)
        assert r.returncode == 2 and "--reason" in r.stderr  # the reason is required
        tripped_at = time.time()
        r = subprocess.run([sys.executable, "-m", "mapek.cli", "trip", run, "--reason",
                            "the debate is going nowhere"], text=True, capture_output=True,
                           env=_env(home), timeout=60)
        assert r.returncode == 0 and "breaker forced open" in r.stdout, r.stderr
        out, err = discuss.communicate(timeout=60)
    finally:
        if discuss.poll() is None:
            discuss.kill()
    assert discuss.returncode == EXIT_TRIPPED, out + err
    assert time.time() - tripped_at < 30
    assert "breaker tripped" in out and "the debate is going nowhere" in out
    with KnowledgeBase.open(home, index_on_record=False) as kb:
        trip, = kb.events(run, kinds=["breaker.tripped"])
        override, = kb.events(run, kinds=["breaker.override"])
        assert trip.payload["policy"] == "forced_open" and override.seq in trip.payload["seqs"]
        assert override.payload["force_open"] and override.payload["by"]
        assert len(kb.events(run, kinds=["message"])) < 400
        assert kb.verify(run).ok
    pm = subprocess.run([sys.executable, "-m", "mapek.cli", "postmortem", run], text=True,
                        capture_output=True, env=_env(home), timeout=60)
    assert pm.returncode == 0 and "forced_open" in pm.stdout


def test_front_end_restarts_a_watchdog_that_died(home: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPEK_OFFLINE_STREAM_DELAY", "0.02")  # the worker outlasts the trip
    s = Session.create(TOPIC, ["cfo", "engineer", "skeptic"], human="defer", max_turns=400)
    with s:
        s.start()
        _wait(lambda: len(s.kb.events(s.run_id, kinds=["message"])) >= 2)
        first = s._dog  # noqa: SLF001 - the watchdog this front end started
        assert first is not None and first.poll() is None
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        seen = []
        for ev in s.stream(s.kb.log.last_seq(s.run_id)):  # following restarts it
            seen.append(ev.kind)
            if s._dog is not first and len(  # noqa: SLF001
                    s.kb.events(s.run_id, kinds=["message"])) >= 8:
                break
        second = s._dog  # noqa: SLF001
        assert second is not None and second is not first and second.poll() is None
        assert second.pid != first.pid
        # If the worker noticed the gap (dead man's switch), it paused and went on once watched.
        if "worker.unwatched" in seen:
            assert "worker.watched" in seen[seen.index("worker.unwatched"):]
        # The new watchdog guards the run: a forced trip stops the worker through it.
        from mapek.breaker.review import record_override

        record_override(s.kb, s.run_id, force_open=True, reason="checking the new watchdog")
        _wait(lambda: not s.is_running(), timeout=30)
        assert s.result().status == "tripped"
