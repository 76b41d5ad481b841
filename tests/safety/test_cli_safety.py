"""``mapek screen`` and ``mapek catalogue``: exit codes, JSON lines, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def _mapek(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize(("text", "code", "verdict"), [
    ("Summarise last week's tickets and list the open ones.", 0, "allow"),
    ("Run terraform destroy on the staging stack.", 3, "needs_approval"),
    ("rm -rf / --no-preserve-root", 4, "deny"),
])
def test_screen_text_exit_codes(text: str, code: int, verdict: str) -> None:
    r = _mapek("screen", text, "--json")
    assert r.returncode == code, r.stderr
    assert json.loads(r.stdout)["verdict"] == verdict


def test_screen_file_and_an_invalid_json_plan(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"steps": [{"tool": "psql", "args": {"sql": "SELECT 1"}},
                                          {"tool": "psql", "args": {"sql": "DROP TABLE users"}}]}))
    r = _mapek("screen", "--file", str(plan))
    assert r.returncode == 3 and r.stdout.startswith("needs_approval (steps 1)")
    assert "sql-drop" in r.stdout
    plan.write_text('{"steps": [{"tool": "sh"')
    r = _mapek("screen", "--file", str(plan))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "not valid JSON" in r.stderr
    r = _mapek("screen", "--file", str(tmp_path / "missing.json"))
    assert r.returncode == 2 and "no such file" in r.stderr


def test_screen_context_changes_the_verdict() -> None:
    cmd = "terraform destroy -auto-approve"
    assert _mapek("screen", cmd).returncode == 3
    own = json.dumps({"environment": "sandbox", "created_by": "run:r1", "run_id": "r1"})
    assert _mapek("screen", cmd, "--context", own).returncode == 0
    assert _mapek("screen", cmd, "--context", '{"environment": "production"}').returncode == 4


def test_screen_jsonl_worst_verdict_one_line_each(tmp_path: Path) -> None:
    f = tmp_path / "plans.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "text": "list the buckets"},
        {"id": "b", "text": "aws s3 rb s3://logs --force",
         "context": {"environment": "sandbox", "created_by": "run:x", "run_id": "x"}},
        {"id": "c", "text": "DELETE FROM orders"}]) + "\n")
    r = _mapek("screen", "--jsonl", str(f))
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["id"] for row in rows] == ["a", "b", "c"]
    assert all({"verdict", "reasons", "steps"} <= set(row) for row in rows)
    assert [row["verdict"] for row in rows] == ["allow", "allow", "needs_approval"]
    assert r.returncode == 3
    f.write_text('{"text": "ok"}\n{"text": \n')
    r = _mapek("screen", "--jsonl", str(f))
    assert r.returncode == 2 and ":2:" in r.stderr and not r.stdout


def test_screen_needs_exactly_one_input() -> None:
    r = _mapek("screen")
    assert r.returncode == 2 and "exactly one" in r.stderr


def test_catalogue_list_and_show() -> None:
    r = _mapek("catalogue", "list", "--json")
    entries = json.loads(r.stdout)
    assert r.returncode == 0 and {"sql-drop", "prompt-injection-tool-output"} <= \
        {e["id"] for e in entries}
    r = _mapek("catalogue", "show", "sql-drop")
    assert r.returncode == 0 and "blast radius:" in r.stdout
    assert json.loads(_mapek("catalogue", "show", "iac-destroy", "--json").stdout)["id"] == \
        "iac-destroy"
    r = _mapek("catalogue", "show", "no-such-thing")
    assert r.returncode == 2 and "no failure-catalogue entry" in r.stderr


def test_grant_gives_one_tool_write_access_recorded_and_checked(home: Path) -> None:
    from mapek.api import Session
    from mapek.safety.builtin_tools import builtin_tools
    from mapek.safety.gateway import ToolGateway

    with Session.create("Should we open an office in Berlin?", ["cfo", "engineer"],
                        human="defer") as s:
        run = s.run_id
    r = _mapek("grant", run)
    assert r.returncode == 0 and "holds no write grants" in r.stdout
    r = _mapek("grant", run, "write_note", "--why", "the cfo keeps the minutes", "--to", "cfo",
               "--ttl", "3600")
    assert r.returncode == 0 and "granted write_note to cfo" in r.stdout, r.stderr
    for args, named in [(("shell", "--why", "cleanup"), "destructive"),
                        (("send_email", "--why", "notify"), "external"),
                        (("no_such_tool", "--why", "x"), "unknown tool"),
                        (("write_note", "--why", "minutes", "--to", "ceo"), "not a persona"),
                        (("write_note", "--why", "minutes", "--ttl", "-5"), "ttl"),
                        (("write_note",), "justification")]:
        r = _mapek("grant", run, *args)
        assert r.returncode == 2 and named in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = _mapek("grant", "no-such-run", "write_note", "--why", "minutes")
    assert r.returncode == 2 and "no-such-run" in r.stderr
    r = _mapek("grant", run, "--json")
    rows = json.loads(r.stdout)
    assert [(g["tool"], g["to"], g["expired"]) for g in rows] == [("write_note", "cfo", False)]
    with Session.attach(run) as s:  # the gateway honours it: for the cfo only
        gw = ToolGateway(builtin_tools(s.kb, run, s.workspace.run_dir(run)), s.kb, run)
        assert gw.check("write_note", {"title": "m", "text": "x"}, "cfo").decision == "allow"
        assert gw.check("write_note", {"title": "m", "text": "x"}, "engineer").decision == "deny"
