"""The seed's story as it runs: ``examples/deploy_pipeline.py`` in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mapek.knowledge import KnowledgeBase

EXAMPLE = Path(__file__).parents[2] / "examples" / "deploy_pipeline.py"


def run(tmp_path: Path, *args: str) -> tuple[int, str, list]:  # type: ignore[type-arg]
    proc = subprocess.run([sys.executable, str(EXAMPLE), "--home", str(tmp_path), *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.stderr == "", proc.stderr
    with KnowledgeBase.open(tmp_path / "ws", create=False) as kb:
        assert kb.verify().ok
        events = kb.events("deploy-pipeline")
    return proc.returncode, proc.stdout, events


def deploys(events: list) -> list:  # type: ignore[type-arg]
    return [e for e in events if e.kind == "tool.call" and e.payload["tool"] == "deploy"]


def test_a_silently_failing_scanner_stops_the_pipeline_before_deploy(tmp_path: Path) -> None:
    code, out, events = run(tmp_path)
    assert code == 5, out
    assert "security: continue (no vulnerabilities found)" in out  # the "HTTP 200"
    assert "STOPPED before deploy" in out
    assert "coverage = 0 is below the required minimum 0.9" in out
    assert "5 cited scan_file call(s) ended error" in out
    assert not deploys(events) and not (tmp_path / "project" / "production").exists()
    (rejected,) = [e for e in events if e.kind == "evidence.rejected"]
    assert rejected.payload["task"] == {"type": "security_audit", "id": "audit-1"}
    assert [e.kind for e in events].count("evidence.accepted") == 1  # the build's


def test_a_scanner_that_claims_work_it_did_not_do_is_caught_by_the_log(tmp_path: Path) -> None:
    code, out, events = run(tmp_path, "--scanner", "lying")
    assert code == 5
    assert "items_examined = 5 contradicts the log, which shows scan_file.distinct(path) = 0" \
        in out
    assert not deploys(events)


def test_a_working_scanner_finds_the_vulnerability_and_says_stop(tmp_path: Path) -> None:
    code, out, events = run(tmp_path, "--scanner", "ok")
    assert code == 5
    assert "verdict stop (vulnerabilities found: handlers.py:3 eval-call)" in out
    assert "the security agent's own verdict is stop" in out
    assert not deploys(events)


def test_the_healthy_pipeline_deploys(tmp_path: Path) -> None:
    code, out, events = run(tmp_path, "--healthy")
    assert code == 0, out
    assert "DEPLOYED" in out and "quorum: 2 of 2 verifiers approve" in out
    (deploy,) = deploys(events)
    assert deploy.payload["outcome"] == "ok" and deploy.payload["approved"] is True
    assert (tmp_path / "project" / "production" / "app.tar.gz").is_file()
    kinds = [e.kind for e in events]
    assert kinds.count("evidence.accepted") == 2 and "evidence.quorum" in kinds
    (quorum,) = [e for e in events if e.kind == "evidence.quorum"]
    assert quorum.payload["outcome"] == "accepted" and quorum.seq < deploy.seq


@pytest.mark.parametrize("args", [["--scanner", "nope"], ["--bogus"]])
def test_bad_flags_exit_2_with_one_line(tmp_path: Path, args: list[str]) -> None:
    proc = subprocess.run([sys.executable, str(EXAMPLE), *args], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "error:" in proc.stderr
