"""A user's own tools and personas reach the worker process, and survive a kill and a resume.

Real parts throughout: a module of tools written to disk and imported by the worker process
through its import string, the real worker and watchdog processes, the SQLite log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mapek.models import Persona

ANALYST = Persona(name="analyst", role="Pricing analyst", goal="Get the price right",
                  expertise=["pricing"], concerns=["the margin", "the discount policy"],
                  tools=["lookup_price"])
TOPIC = "Should we raise the price of our starter plan next quarter?"


def _calls(events: list[Any], tool: str) -> list[Any]:
    return [e for e in events if e.kind == "tool.call" and e.payload["tool"] == tool]


def _check_calls(calls: list[Any]) -> None:
    assert calls, "the persona holding the tool never called it"
    for ev in calls:
        assert ev.payload["outcome"] == "ok", ev.payload
        assert set(ev.payload["args"]) == {"sku"} and isinstance(ev.payload["args"]["sku"], str)
        assert "costs 12.50 EUR" in ev.payload["output"]


def test_an_inline_persona_calls_a_tool_given_as_an_object(home: Path, user_module: str
                                                           ) -> None:
    import importlib

    from mapek import Session

    shop = importlib.import_module(user_module)
    s = Session.create(TOPIC, personas=["cfo", ANALYST], tools=[shop.lookup_price],
                       human="defer", max_turns=6)
    with s:
        started = s.kb.events(s.run_id, kinds=["run.started"])[0].payload
        assert started["runtime"]["tools"][0]["ref"] == "shop_tools:lookup_price"
        assert started["runtime"]["personas"][1]["name"] == "analyst"  # stored whole
        res = s.run()
        assert res.status in ("converged", "stalled", "max_turns"), res
        events = s.history()
        _check_calls(_calls(events, "lookup_price"))
        # it ran in the worker process, not here
        assert shop.CALLS == []
        pids = {e.payload["pid"] for e in events if e.kind == "worker.started"}
        assert os.getpid() not in pids
        # the persona mentions what the tool told it
        said = " ".join(e.text for e in events if e.kind == "message" and e.actor == "analyst")
        assert "12.50" in said


def test_in_process_runs_a_closure_as_it_is(home: Path) -> None:
    from mapek import Session
    from mapek.safety.tools import tool

    seen: list[str] = []

    @tool(effect="read")
    def lookup_price(sku: str) -> str:
        seen.append(sku)
        return f"{sku} costs 12.50 EUR"

    s = Session.create(TOPIC, personas=["cfo", ANALYST], tools=[lookup_price], human="defer",
                       max_turns=6, in_process=True)
    with s:
        res = s.run()
        assert res.status in ("converged", "stalled", "max_turns"), res
        _check_calls(_calls(s.history(), "lookup_price"))
        assert seen  # this very closure ran


def _cli(*args: str, env: dict[str, str] | None = None, timeout: float = 240
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_cli_tools_reach_a_yaml_persona_and_survive_a_kill(home: Path, user_module: str,
                                                           tmp_path: Path) -> None:
    from mapek import Session

    pdir = tmp_path / "personas"
    pdir.mkdir()
    (pdir / "pricer.yaml").write_text(
        "name: pricer\nrole: Pricing lead\ngoal: Price it right\nexpertise: [pricing]\n"
        "concerns: [the margin, churn]\ntools: [lookup_price, kb_search]\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mapek.cli", "discuss", TOPIC, "--personas", "cfo,pricer",
         "--personas-dir", str(pdir), "--tools", "shop_tools:lookup_price",
         "--non-interactive", "--on-question", "defer", "--max-turns", "8"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    # wait for the first call of the user's tool, then kill the whole front end and its worker
    from mapek.knowledge import KnowledgeBase

    deadline = time.monotonic() + 180
    run_id, worker = None, []
    while time.monotonic() < deadline:
        if (home / "log.sqlite3").exists():
            with KnowledgeBase.open(home, create=False) as kb:
                runs = kb.runs()
                run_id = runs[0].run_id if runs else None
                events = kb.events(run_id) if run_id else []
            if _calls(events, "lookup_price"):
                worker = [e.payload["pid"] for e in events if e.kind == "worker.started"]
                break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the tool was never called")
    for pid in (*worker, proc.pid):
        try:
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=30)
    assert run_id is not None
    done = _cli("resume", run_id)
    assert done.returncode == 0, done.stderr
    with Session.attach(run_id) as s:
        events = s.history()
        assert s.result().status in ("converged", "stalled", "max_turns")
        calls = _calls(events, "lookup_price")
        _check_calls(calls)
        keys = [e.key for e in calls]
        assert len(keys) == len(set(keys)), "a call was repeated after the resume"
    verify = _cli("kb", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--tools", "shop_tools:nope"], "has no 'nope'"),
    (["--tools", "nowhere_mod:f"], "cannot be imported"),
    (["--personas", "cfo,odd"], "'query_prometheus'"),
])
def test_cli_refuses_bad_parts_in_one_line(home: Path, user_module: str, tmp_path: Path,
                                           args: list[str], message: str) -> None:
    pdir = tmp_path / "p"
    pdir.mkdir()
    (pdir / "odd.yaml").write_text("name: odd\nrole: Odd\ngoal: g\nexpertise: [x]\n"
                                   "tools: [query_prometheus]\n")
    out = _cli("discuss", TOPIC, "--personas-dir", str(pdir), "--non-interactive",
               *(args if "--personas" in args else ["--personas", "cfo,skeptic", *args]))
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not (home / "log.sqlite3").exists() or _cli("runs", "list", "--json").stdout.strip() \
        in ("[]", "")


def test_a_closure_without_in_process_is_refused_and_nothing_written(home: Path) -> None:
    from mapek import Session
    from mapek.errors import ConfigError
    from mapek.safety.tools import tool

    @tool(effect="read")
    def lookup_price(sku: str) -> str:
        return sku

    with pytest.raises(ConfigError, match="in_process=True"):
        Session.create(TOPIC, personas=["cfo", ANALYST], tools=[lookup_price])
    assert not (home / "log.sqlite3").exists()
