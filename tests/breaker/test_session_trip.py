"""Every front end goes through Session: the watchdog starts with the worker, the trip shows in
the CLI with its own exit code, the post-mortem reads the log, and a reviewed run resumes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mapek.api import Session
from mapek.cli import EXIT_TRIPPED
from mapek.errors import ConfigError

TOPIC = "Should we open an office in Berlin?"


def mapek(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd, env={**os.environ, "COLUMNS": "200"})


def test_bad_policy_file_starts_no_run(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_tokens: -5\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: max_tokens"):
        Session.create(TOPIC, ["cfo", "engineer"], human="defer", policy=bad)
    r = mapek("discuss", TOPIC, "--personas", "cfo,engineer", "--non-interactive",
              "--policy", str(bad))
    assert r.returncode == 2 and "bad.yaml: max_tokens" in r.stderr
    assert "Traceback" not in r.stderr
    from mapek.knowledge import KnowledgeBase

    with KnowledgeBase.open(home) as kb:
        assert kb.runs() == []


def test_trip_postmortem_and_reviewed_resume(home: Path, tmp_path: Path) -> None:
    pol = tmp_path / "tight.yaml"
    pol.write_text("extends: default\nmax_turns: 2\n")
    r = mapek("discuss", TOPIC, "--personas", "cfo,engineer", "--non-interactive",
              "--on-question", "defer", "--max-turns", "4", "--policy", str(pol))
    assert r.returncode == EXIT_TRIPPED, r.stdout + r.stderr
    assert "breaker tripped" in r.stdout and "turns: 3 turns > limit 2" in r.stdout
    assert "worker stopped (SIGTERM" in r.stdout
    from mapek.knowledge import KnowledgeBase

    with KnowledgeBase.open(home) as kb:
        run = kb.runs()[-1].run_id
        trip = kb.events(run, kinds=["breaker.tripped"])[-1]
        after = [e for e in kb.events(run, after=trip.seq) if e.actor == "worker"]
    assert after == []  # the worker wrote nothing after the trip
    with Session.attach(run) as s:
        res = s.result()
    assert res.status == "tripped" and "turns" in res.reason

    html = tmp_path / "pm.html"
    r = mapek("postmortem", run, "--html", str(html))
    assert r.returncode == 0, r.stderr
    assert "tripped by turns" in r.stdout and "Spend per persona" in r.stdout
    page = html.read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page and "<polyline" in page
    assert "src=" not in page and "href=" not in page  # self-contained

    r = mapek("resume", run, "--raise", "turns=50")
    assert r.returncode == 2 and "--reason" in r.stderr
    r = mapek("resume", run, "--raise", "turns=50", "--reason", "reviewed: normal debate")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "breaker override recorded" in r.stdout
    with KnowledgeBase.open(home) as kb:
        ov, = kb.events(run, kinds=["breaker.override"])
        assert ov.payload["raise"] == {"turns": 50} and ov.payload["reason"]
        assert ov.payload["by"] and kb.events(run, kinds=["run.finished"])
        # Half-open: a trial round in a worker of its own. This run has 4 turns: it ends
        # within the trial, or just after it (how many turns ran before the trip stopped it
        # depends on timing).
        kinds = [e.kind for e in kb.events(run, after=ov.seq) if e.kind in (
            "breaker.half_open", "run.paused", "breaker.closed", "worker.started",
            "run.finished")]
        assert kinds in (["breaker.half_open", "worker.started", "run.finished"],
                         ["breaker.half_open", "worker.started", "run.paused", "breaker.closed",
                          "worker.started", "run.finished"])
    assert "half-open" in r.stdout
    r = mapek("postmortem", run)
    assert "override by" in r.stdout and "raise turns to 50" in r.stdout


def test_a_trial_that_trips_again_keeps_the_breaker_open(home: Path, tmp_path: Path) -> None:
    pol = tmp_path / "tight.yaml"
    pol.write_text("extends: default\nmax_turns: 2\n")
    s = Session.create(TOPIC, ["cfo", "engineer"], human="defer", max_turns=8, policy=pol)
    with s:
        assert s.run().status == "tripped"
        s.review(raise_limits={"turns": 3}, reason="one more turn, to see")  # not enough
        with pytest.raises(Exception, match="a trial is a number of rounds"):
            s.resume(trial=-1)
        res = s.resume()
        assert res.status == "tripped" and "turns" in res.reason
        kinds = [e.kind for e in s.history()]
        assert kinds.count("breaker.half_open") == 1 and "breaker.closed" not in kinds
        assert kinds.count("breaker.tripped") == 2 and "run.finished" not in kinds
        from mapek.breaker.postmortem import build_report

        assert "half-open: a trial of 1 round(s)" in build_report(s.kb, s.run_id).markdown()
        s.review(raise_limits={"turns": 40}, reason="reviewed: a normal debate")
        mark = s.kb.log.last_seq(s.run_id)
        res = s.resume()
        assert res.status in ("converged", "stalled", "max_turns"), res
        kinds = [e.kind for e in s.history(mark) if e.kind in (
            "breaker.half_open", "run.paused", "breaker.closed", "worker.started",
            "run.finished", "breaker.tripped")]
        assert kinds == ["breaker.half_open", "worker.started", "run.paused", "breaker.closed",
                         "worker.started", "run.finished"]
