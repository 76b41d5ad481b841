"""A whole session on an OpenAI-compatible server named only by the environment: the loop's
structured calls (agenda, turns, triage, synthesis) all carry ``response_format``."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from mapek.api import Session
from mapek.loop.worker import run_session
from mapek.testing.openai_server import OpenAIStandIn

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"


@pytest.mark.parametrize("var", ["MAPEK_API_BASE", "OPENAI_API_BASE"])
def test_session_on_a_server_from_the_environment(home: Path, monkeypatch: pytest.MonkeyPatch,
                                                  var: str) -> None:
    for name in ("OPENAI_API_BASE", "OPENAI_BASE_URL", "MAPEK_API_BASE", "MAPEK_API_KEY_ENV",
                 "MAPEK_STRUCTURED_OUTPUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SERVER_KEY", "sk-loop-test-key")
    monkeypatch.setenv("MAPEK_API_KEY_ENV", "SERVER_KEY")
    with OpenAIStandIn() as server:
        monkeypatch.setenv(var, server.url)
        s = Session.create(TOPIC, ["cfo", "skeptic"], model="openai/anything", human="defer",
                           max_turns=4)
        status = run_session(s.run_id)
        bodies = list(server.requests)
        headers = list(server.headers)
    assert status in ("converged", "stalled", "max_turns"), status
    events = s.history()
    calls = [e for e in events if e.kind == "llm.call"]
    assert calls and len(calls) == len(bodies)
    assert {e.payload["outcome"] for e in calls} == {"ok"}
    tasks = Counter(e.payload.get("task") for e in calls)
    assert tasks["agenda"] == 1 and tasks["persona_turn"] >= 2 and tasks["synthesis"] == 1
    # every call of the loop is structured, and each carried the schema to the server
    assert all(b.get("response_format", {}).get("type") == "json_schema" for b in bodies)
    assert {b["model"] for b in bodies} == {"anything"}
    assert {h.get("authorization") for h in headers} == {"Bearer sk-loop-test-key"}
    for path in home.rglob("*"):  # the log, its WAL, checkpoints, artefacts: no key
        assert not path.is_file() or b"sk-loop-test-key" not in path.read_bytes(), path
    assert events[-1].kind == "run.finished"
    s.close()


@pytest.mark.parametrize("how", ["--api-base", "OPENAI_API_BASE"])
def test_cli_discussion_on_an_openai_compatible_server(home: Path, how: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # the user's report: `--model openai/<name>` with the server's URL given by `--api-base` or
    # OPENAI_API_BASE; the worker is a subprocess, so the URL must reach it (the runtime spec
    # records --api-base) and the agenda must get response_format
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "MAPEK_API_BASE", "MAPEK_API_KEY_ENV",
                 "MAPEK_STRUCTURED_OUTPUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "unused")
    with OpenAIStandIn() as server:
        flag = ["--api-base", server.url] if how == "--api-base" else []
        if how == "OPENAI_API_BASE":
            monkeypatch.setenv("OPENAI_API_BASE", server.url)
        r = subprocess.run(
            [sys.executable, "-m", "mapek.cli", "discuss", TOPIC, "--personas", "cfo,skeptic",
             "--model", "openai/anything", "--non-interactive", "--max-turns", "4", *flag],
            capture_output=True, text=True, timeout=300,
        )
        bodies = list(server.requests)
    assert r.returncode == 0, r.stderr
    assert "synthesis" in r.stdout and r.stdout.strip().splitlines()[-1].startswith("run ")
    assert len(bodies) >= 4  # agenda, two turns at least, synthesis
    assert all(b.get("response_format", {}).get("type") == "json_schema" for b in bodies)
