"""No input ends in a traceback: binary, non-UTF-8, huge and deeply nested files given to every
command that reads one (persona files, ``--policy``, evidence envelopes, ``screen --file``,
``screen --jsonl``, ``screen --context @FILE``, ``triage --jsonl``, batch plans, workflows) give
one line and exit 2, or the command's own documented code (README: ``screen`` 0/3/4, ``evidence
check`` 0/5); and the workspace's log is untouched and verifies.

A property-based test (hypothesis) drives the CLI's entry point in this process (fast): bytes,
text, JSON values and nesting it makes up, written to a file, handed to each command. A few
fixed cases go through real ``mapek`` subprocesses.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapek.cli import main
from mapek.errors import UserError
from mapek.knowledge import KnowledgeBase

Argv = Callable[[Path], list[str]]

COMMANDS: dict[str, tuple[str, Argv, set[int]]] = {
    # name: (file name, argv for the file, exit codes the README documents for it)
    "persona": ("cfo.yaml", lambda f: ["personas", "list", "--personas-dir", str(f.parent)],
                {0, 2}),
    "envelope": ("env.json", lambda f: ["evidence", "check", str(f), "--run", "no-such-run"],
                 {2}),
    "screen-file": ("plan.json", lambda f: ["screen", "--file", str(f)], {0, 2, 3, 4}),
    "screen-jsonl": ("plans.jsonl", lambda f: ["screen", "--jsonl", str(f)], {0, 2, 3, 4}),
    "screen-context": ("ctx.json", lambda f: ["screen", "rm -rf /tmp/x", "--context",
                                              f"@{f}"], {0, 2, 3, 4}),
    "triage": ("questions.jsonl", lambda f: ["triage", "--jsonl", str(f)], {0, 2}),
}
"""Commands that are safe to run on any file (none of them starts a discussion or a tool)."""

DEEP = 50_000


def _deep_json(n: int = DEEP) -> bytes:
    return b"[" * n + b"]" * n


FIXED: dict[str, bytes] = {
    "binary": bytes(range(256)) * 8,
    "latin-1": "caf\xe9: na\xefve\nrole: x\n".encode("latin-1"),
    "nested-json": _deep_json(),
    "nested-object": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "nested-yaml": b"a:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 3000)),
    "nul": b"\x00" * 64,
    "huge": b'{"text": "' + b"x" * (8 * 1024 * 1024) + b'"}',
}


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``mapek ARGV`` through the real entry point, in this process: (exit code, stdout,
    stderr). Any exception but the exit is the traceback a person would have seen."""
    out, err = io.StringIO(), io.StringIO()
    old_argv, old_umask = sys.argv, os.umask(0o022)
    os.umask(old_umask)
    sys.argv = ["mapek", *argv]
    try:
        with redirect_stdout(out), redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    else:
        code = 0
    finally:
        sys.argv = old_argv
        os.umask(old_umask)  # main() makes its process's files private; not the test runner
    return code, out.getvalue(), err.getvalue()


def check(name: str, data: bytes, folder: Path) -> None:
    file_name, argv, codes = COMMANDS[name]
    folder.mkdir(parents=True, exist_ok=True)
    f = folder / file_name
    f.write_bytes(data)
    code, out, err = run_cli(argv(f))
    assert "Traceback" not in out + err
    assert code in codes, (name, code, err[-300:])
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("mapek: error: "), (name, err[-500:])


@pytest.fixture
def workspace(home: Path) -> Iterator[Path]:
    """A workspace with a run in its log; the test ends by checking the log is as it was."""
    with KnowledgeBase.open(home, index_on_record=False) as kb:
        kb.record("r1", "run.started", "human", {"text": "a topic"})
        kb.record("r1", "message", "cfo", {"text": "a point"})
        before = [e.hash for e in kb.events("r1")]
    yield home
    with KnowledgeBase.open(home, create=False, index_on_record=False) as kb:
        assert [e.hash for e in kb.events("r1")] == before
        assert [r.run_id for r in kb.runs()] == ["r1"]
        assert kb.verify().ok


@pytest.mark.parametrize("name", sorted(COMMANDS))
@pytest.mark.parametrize("kind", sorted(FIXED))
def test_fixed_bad_inputs(workspace: Path, tmp_path: Path, name: str, kind: str) -> None:
    check(name, FIXED[kind], tmp_path / "in")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=20)


@st.composite
def file_bodies(draw: st.DrawFn) -> bytes:
    """What a file might hold: raw bytes, text in some encoding, a JSON value (as JSON, JSON
    lines, or inside a plausible envelope/plan), or nesting of a drawn depth."""
    how = draw(st.sampled_from(["bytes", "text", "json", "jsonl", "shaped", "deep"]))
    if how == "bytes":
        return draw(st.binary(max_size=2000))
    if how == "text":
        enc = draw(st.sampled_from(["utf-8", "utf-16", "latin-1"]))
        return draw(st.text(max_size=500)).encode(enc, errors="replace")
    if how == "json":
        return json.dumps(draw(json_values)).encode()
    if how == "jsonl":
        return "\n".join(json.dumps(v) for v in draw(st.lists(json_values, max_size=5))).encode()
    if how == "shaped":
        key = draw(st.sampled_from(["steps", "text", "run_id", "role", "verdict", "context"]))
        return json.dumps({key: draw(json_values), **draw(
            st.dictionaries(st.text(max_size=8), json_values, max_size=3))}).encode()
    depth = draw(st.integers(min_value=100, max_value=5_000))
    return draw(st.sampled_from([b"[", b'{"a":['])) * depth


@settings(max_examples=50, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(COMMANDS)), data=file_bodies())
def test_any_file_gives_a_documented_exit_and_one_line(workspace: Path, tmp_path: Path,
                                                         name: str, data: bytes) -> None:
    check(name, data, tmp_path / "in")


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=file_bodies())
def test_policy_and_plan_files_raise_only_user_errors(tmp_path: Path, data: bytes) -> None:
    """What ``--policy FILE`` and ``mapek batch run PLAN`` read first (the CLI would then go on
    to start sessions, so the readers are driven directly): a file is accepted or refused
    with a one-line :class:`UserError`, nothing else."""
    from mapek.batch.plan import load_plan
    from mapek.breaker.policies import load_policy

    f = tmp_path / "in.yaml"
    f.write_bytes(data)
    for load in (load_policy, load_plan):
        try:
            load(f)
        except UserError as exc:
            assert exc.exit_code == 2 and "\n" not in " ".join(str(exc).split())


def _subprocess(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_real_processes_say_one_line(workspace: Path, tmp_path: Path) -> None:
    persona = tmp_path / "personas" / "cfo.yaml"
    persona.parent.mkdir()
    persona.write_bytes(os.urandom(512) + b"\xff")
    policy = tmp_path / "policy.yaml"
    policy.write_bytes(b"\xff\xfe" + os.urandom(512))
    envelope = tmp_path / "env.json"
    envelope.write_bytes(b"\x89PNG\r\n" + os.urandom(256))
    nested = tmp_path / "plan.json"
    nested.write_bytes(_deep_json())
    plan = tmp_path / "batch.yaml"
    plan.write_bytes(b"topics: " + b"[" * 20_000)
    for argv, needle in (
            (["personas", "list", "--personas-dir", str(persona.parent)], "not UTF-8"),
            (["discuss", "x", "--policy", str(policy), "--non-interactive"], "not UTF-8"),
            (["evidence", "check", str(envelope), "--run", "r1"], "not UTF-8"),
            (["screen", "--file", str(nested)], "nested too deeply"),
            (["batch", "run", str(plan)], "YAML")):
        r = _subprocess(*argv)
        assert r.returncode == 2, (argv, r.stdout, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("mapek: error: "), (argv, r.stderr)
        assert needle in lines[0], (needle, lines[0])
    r = _subprocess("kb", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
