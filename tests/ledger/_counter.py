"""The crash trials' outside world: an HTTP counter of side effects owned by the test (not by the
worker), tools that act on it, and one trial (run, SIGKILL at a random moment, resume until done).

The counter applies ``POST /apply/<name>``: each request is applied (counted) unless it carries an
``Idempotency-Key`` already applied, which it answers from its record instead (as Stripe does).
It sleeps a little after applying and before answering, as a slow service would, so a kill often
lands between the effect and its result being recorded. Used by ``tests/ledger`` and
``benchmarks/bench_ledger.py`` (run as ``--tools _counter:tools`` with this folder on the path).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


class CounterServer:
    """Counts applied effects by name on 127.0.0.1; every request is kept."""

    def __init__(self, delay: tuple[float, float] = (0.0, 0.02)) -> None:
        self.applied: Counter[str] = Counter()
        self.requests: list[dict[str, Any]] = []
        self.keys: dict[str, str] = {}
        self.delay = delay
        self.first = threading.Event()
        """Set by the first request: the run reached its effects."""
        self._lock = threading.Lock()
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                key = self.headers.get("Idempotency-Key")
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                counter.first.set()
                with counter._lock:
                    counter.requests.append({"name": name, "key": key,
                                             "t": time.perf_counter()})
                    if key is not None and key in counter.keys:
                        body = counter.keys[key]
                    else:
                        counter.applied[name] += 1
                        body = f"applied {name} #{counter.applied[name]}"
                        if key is not None:
                            counter.keys[key] = body
                time.sleep(random.uniform(*counter.delay))
                data = body.encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the caller was killed meanwhile: the effect stands
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> CounterServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self) -> None:
        with self._lock:
            self.applied.clear()
            self.requests.clear()
            self.keys.clear()
            self.first.clear()


def _post(url: str, name: str, key: str | None = None) -> str:
    req = urllib.request.Request(f"{url}/apply/{name}", data=b"{}", method="POST")
    if key is not None:
        req.add_header("Idempotency-Key", key)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read().decode()


def tools(root: Path) -> list[Any]:
    """``append_entry`` (write, not idempotent, knows nothing of keys) and ``upsert`` (write,
    idempotent: forwards the ledger's key as ``Idempotency-Key``)."""
    from mapek.safety.tools import tool

    @tool(effect="write", resource="counter")
    def append_entry(url: str, name: str) -> str:
        """Apply an effect that is not safe to repeat."""
        return _post(url, name)

    @tool(effect="write", resource="counter", idempotent=True)
    def upsert(url: str, name: str, idempotency_key: str | None = None) -> str:
        """Apply an effect once per key."""
        return _post(url, name, idempotency_key)

    return [append_entry, upsert]


def workflow_file(folder: Path, url: str, steps: int = 8, name: str = "crash-trial") -> tuple[
        Path, list[str]]:
    """A workflow of ``steps`` side effects (appends and upserts, alternating, with a read among
    them); returns the file and the effect names expected once each."""
    lines = [f"name: {name}", "grants: [append_entry, upsert]", "steps:", "  - tool: fs_list",
             "    args: {path: .}"]
    names = []
    for i in range(steps):
        tool = "append_entry" if i % 2 == 0 else "upsert"
        names.append(f"{tool}-{i}")
        lines += [f"  - tool: {tool}", f"    args: {{url: '{url}', name: {tool}-{i}}}"]
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, names


def worker(wf: Path, home: Path, run_id: str, *, resume: bool) -> subprocess.Popen[str]:
    """The workflow runner in its own process."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO)])}
    env.pop("MAPEK_HOME", None)
    args = [sys.executable, "-m", "mapek.workflow", str(wf), "--home", str(home),
            "--tools", "_counter:tools", "--json",
            *(["--resume", run_id] if resume else ["--run", run_id])]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@dataclass
class Trial:
    killed_at: float
    killed: bool
    """The worker was still running when the kill came."""
    resumes: int = 0
    escalations: int = 0
    """Calls in doubt a human had to answer."""
    retried_idempotent: int = 0
    """Idempotent calls run again after an intent without a result."""
    applied: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    lost: int = 0
    resume_s: list[float] = field(default_factory=list)


def trial(wf: Path, names: list[str], home: Path, server: CounterServer, run_id: str,
          kill_after: float, *, from_first_effect: bool = False) -> Trial:
    """Start the run, SIGKILL it ``kill_after`` seconds after its start (or after the counter's
    first request), resume until it finishes; a call in doubt is answered by looking at the
    counter (a human checking the outside system)."""
    from mapek.knowledge import KnowledgeBase
    from mapek.ledger import Ledger

    p = worker(wf, home, run_id, resume=False)
    if from_first_effect:
        while not server.first.wait(0.05) and p.poll() is None:
            pass
    try:
        p.wait(timeout=kill_after)
        killed = False
    except subprocess.TimeoutExpired:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        killed = True
    p.communicate()
    t = Trial(kill_after, killed)
    if p.returncode not in (0, -signal.SIGKILL, 5):
        raise AssertionError(f"first run exited {p.returncode}")
    for _ in range(20):
        with KnowledgeBase.open(home, index_on_record=False) as kb:
            started = kb.log.find(run_id, "workflow.started") is not None
            if kb.log.find(run_id, "workflow.finished") is not None:
                break
            doubt = [e for e in Ledger(kb, run_id).in_doubt()]
            t.retried_idempotent += sum(1 for e in doubt if e.idempotent)
        t0 = time.perf_counter()
        r = worker(wf, home, run_id, resume=started)
        out, err = r.communicate(timeout=120)
        t.resume_s.append(time.perf_counter() - t0)
        t.resumes += 1
        if r.returncode == 5:  # a call in doubt: a human looks at the counter and answers
            d = json.loads(out)["in_doubt"]
            with KnowledgeBase.open(home, index_on_record=False) as kb:
                said = "happened" if server.applied[d["args"]["name"]] else "run"
                Ledger(kb, run_id).resolve(d["key"], said, note="checked the counter")
            t.escalations += 1
        elif r.returncode != 0:
            raise AssertionError(f"resume exited {r.returncode}: {err.strip()[-500:]}")
    else:
        raise AssertionError("the run did not finish after 20 resumes")
    t.applied = {n: server.applied[n] for n in names}
    t.duplicates = sum(max(0, c - 1) for c in t.applied.values())
    t.lost = sum(1 for c in t.applied.values() if c == 0)
    return t
