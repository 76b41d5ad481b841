#!/usr/bin/env python3
"""One entry point for every chore, needing only python3 (3.11+).

    python3 tasks.py discuss ["TOPIC"]   set up .venv if needed, run a peer discussion offline
    python3 tasks.py test [PYTEST ARGS]   set up .venv if needed, run the whole test suite
                                          (no args: two passes, see run_suite; with args:
                                          one pytest run with them)
    python3 tasks.py bench [NAME]         run benchmarks/bench_*.py
    python3 tasks.py setup                only set up .venv

Set-up creates ``.venv`` next to this file and installs mapek (editable) with its test extra,
pinned by ``constraints.txt`` so a fresh machine gets the versions we tested. It is repeated only
when ``pyproject.toml`` or ``constraints.txt`` change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".mapek-installed"
DEFAULT_TOPIC = "Should we move our customer database to a managed cloud service this quarter?"


def _fingerprint() -> str:
    h = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def setup() -> None:
    # Deliberate although pyproject requires 3.11: an older Python reaching tasks.py gets this
    # one clear line instead of a failure deep inside pip or the venv.
    if sys.version_info < (3, 11):  # noqa: UP036
        sys.exit(f"mapek needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if STAMP.exists() and STAMP.read_text() == _fingerprint() and PY.exists():
        return
    if not PY.exists():
        print("tasks: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("tasks: installing mapek and its pinned dependencies into .venv", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(_fingerprint())


def _run(cmd: list[str], env: dict[str, str] | None = None) -> int:
    return subprocess.run(cmd, cwd=ROOT, env={**os.environ, **(env or {})}).returncode


def run_suite() -> int:
    """The whole suite in two passes: the tests not marked ``serial`` on up to two processes
    (pytest-xdist; ``MAPEK_TEST_WORKERS`` sets how many, 0 for none), then the ``serial`` ones
    (timing-sensitive, or sharing one resource: tests/conftest.py says which) one at a time.
    The first non-zero exit code wins, so a pass that collects nothing (pytest's 5) fails."""
    workers = os.environ.get("MAPEK_TEST_WORKERS") or str(min(2, os.cpu_count() or 1))
    # worksteal: a worker that runs out of tests takes queued ones from the other, so one long
    # test near the end does not leave a core idle
    passes = [("parallel", ["-m", "not serial", "-n", workers, "--dist", "worksteal"]),
              ("serial", ["-m", "serial"])]
    codes = []
    for name, args in passes:
        print(f"tasks: test pass {name}: pytest {' '.join(args)}", flush=True)
        start = time.monotonic()
        code = _run([str(PY), "-m", "pytest", *args])
        print(f"tasks: test pass {name}: exit {code} after {time.monotonic() - start:.0f} s",
              flush=True)
        codes.append(code)
    return next((c for c in codes if c), 0)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    task, rest = argv[0], argv[1:]
    if task not in {"setup", "discuss", "test", "bench"}:
        print(f"tasks: unknown task {task!r}; try: setup, discuss, test, bench", file=sys.stderr)
        return 2
    setup()
    if task == "setup":
        return 0
    if task == "discuss":
        args = rest or [DEFAULT_TOPIC]
        return _run([str(BIN / "mapek"), "discuss", *args])
    if task == "test":
        return _run([str(PY), "-m", "pytest", *rest]) if rest else run_suite()
    benches = sorted((ROOT / "benchmarks").glob(f"bench_{rest[0] if rest else '*'}.py"))
    if not benches:
        print(f"tasks: no benchmark matches {rest!r}", file=sys.stderr)
        return 2
    for bench in benches:
        print(f"tasks: running {bench.name}", flush=True)
        if rc := _run([str(PY), str(bench)]):
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
