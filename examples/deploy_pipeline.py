"""The seed's story, run: build -> security scan -> deploy, with proof of work between steps.

The security agent's scanner cannot run (its executable is missing), the agent swallows the
error and answers "continue, no vulnerabilities found" -- an HTTP 200 with an empty result. A
pipeline that trusts the status code deploys, vulnerability included. Here every step hands over
a signed evidence envelope; the gate checks it against the task's requirement and against the
event log (the ``tool.call`` events the gateway recorded) and stops the pipeline before deploy,
saying why.

::

    python examples/deploy_pipeline.py                  # broken scanner, empty success: exit 5
    python examples/deploy_pipeline.py --scanner lying  # claims a full scan the log does not show
    python examples/deploy_pipeline.py --scanner ok     # real scan finds the eval(): stopped
    python examples/deploy_pipeline.py --healthy        # real scan of fixed code: deployed (exit 0)

Everything is real: the scanner is a subprocess, the tools run through
:class:`mapek.safety.gateway.ToolGateway`, the log is a SQLite workspace in a temp folder (kept
with ``--home DIR``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from mapek.config import Workspace
from mapek.errors import EvidenceRejected
from mapek.evidence import (
    EvidenceChecker,
    EvidenceCollector,
    LogVerifier,
    Quorum,
    RecheckVerifier,
    run_key,
)
from mapek.knowledge import KnowledgeBase
from mapek.safety.gateway import ToolGateway
from mapek.safety.tools import ToolRegistry, tool

RUN = "deploy-pipeline"

SOURCES = {
    "app.py": "from handlers import handle\n\ndef main(request):\n    return handle(request)\n",
    "db.py": "import sqlite3\n\ndef rows(conn, user_id):\n"
             "    return conn.execute('SELECT * FROM t WHERE id = ?', (user_id,)).fetchall()\n",
    "auth.py": "import hmac\n\ndef same(a, b):\n    return hmac.compare_digest(a, b)\n",
    "utils.py": "def clamp(x, lo, hi):\n    # TODO: ints only\n    return max(lo, min(hi, x))\n",
}
VULNERABLE = ("def handle(request):\n    expr = request.args['expr']\n"
              "    return eval(expr)  # the vulnerability that must not ship\n")
FIXED = ("import ast\n\ndef handle(request):\n    expr = request.args['expr']\n"
         "    return ast.literal_eval(expr)\n")

SCANNER = textwrap.dedent(r'''
    """A small static scanner: one file in, JSON findings out."""
    import hashlib, json, re, sys
    RULES = [
        ("eval-call", "error", r"(?<![\w.])eval\("),
        ("exec-call", "error", r"(?<![\w.])exec\("),
        ("shell-true", "error", r"shell\s*=\s*True"),
        ("pickle-loads", "error", r"pickle\.loads\("),
        ("sql-format", "error", r"execute\(\s*f[\"']"),
        ("hardcoded-password", "error", r"password\s*=\s*[\"'][^\"']+[\"']"),
        ("md5", "warning", r"hashlib\.md5\("),
        ("todo", "warning", r"#\s*TODO"),
    ]
    path = sys.argv[1]
    data = open(path, "rb").read()
    findings = []
    for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        for rule, sev, rx in RULES:
            if re.search(rx, line):
                findings.append({"rule": rule, "severity": sev, "line": n})
    print(json.dumps({"path": path, "sha256": hashlib.sha256(data).hexdigest(),
                      "rules_run": len(RULES),
                      "errors": sum(f["severity"] == "error" for f in findings),
                      "warnings": sum(f["severity"] == "warning" for f in findings),
                      "findings": findings}, sort_keys=True))
''')


def make_tools(root: Path, scanner: Path) -> ToolRegistry:
    """The pipeline's tools: list and scan (read), build (write), deploy (external)."""

    @tool(effect="read", resource="source tree")
    def list_files(root: str) -> str:
        """The Python files under a folder."""
        files = sorted(str(p) for p in Path(root).rglob("*.py"))
        return json.dumps({"root": root, "count": len(files), "files": files})

    @tool(effect="read", resource="source tree")
    def scan_file(path: str) -> str:
        """Run the security scanner on one file."""
        proc = subprocess.run([sys.executable, str(scanner), path], capture_output=True,
                              text=True, timeout=60)
        if proc.returncode != 0:
            raise RuntimeError(f"scanner exited {proc.returncode}: {proc.stderr.strip()[-200:]}")
        return proc.stdout.strip()

    @tool(effect="write", resource="build folder", target="out")
    def build(src: str, out: str) -> str:
        """Pack the sources into a release artefact."""
        files = sorted(Path(src).rglob("*.py"))
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(out, "w:gz") as tar:
            for f in files:
                tar.add(f, arcname=f.relative_to(src))
        digest = hashlib.sha256(Path(out).read_bytes()).hexdigest()
        return json.dumps({"artifact": out, "files": len(files), "errors": 0, "sha256": digest})

    @tool(effect="external", resource="production")
    def deploy(artifact: str, env: str) -> str:
        """Ship the artefact to an environment (here: copy it into <root>/<env>/)."""
        dest = root / env / Path(artifact).name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(Path(artifact).read_bytes())
        return json.dumps({"deployed": str(dest), "env": env})

    reg = ToolRegistry()
    for t in (list_files, scan_file, build, deploy):
        reg.register(t)
    return reg


def security_agent(c: EvidenceCollector, repo: Path, mode: str) -> Any:
    """The security agent. ``broken``: its error handling turns a scanner that cannot run into
    "no findings". ``lying``: it also claims the scan it did not do, citing only what
    succeeded. ``ok``: an honest scan."""
    listing = json.loads(c.call("list_files", {"root": str(repo)}).output)
    results, failures = [], []
    for f in listing["files"]:
        r = c.call("scan_file", {"path": f}, cite=mode != "lying")
        c.input(f, Path(f).read_bytes())
        if r.outcome == "ok":
            results.append(json.loads(r.output))
        else:
            failures.append(r.output)  # the silent failure: noted nowhere
    total = listing["count"]
    if mode == "lying":  # a confident claim of the work that was supposed to happen
        metrics = {"items_examined": total, "files_total": total, "coverage": 1.0,
                   "rules_run": 8, "errors": 0, "warnings": 0}
    else:
        metrics = {"items_examined": len(results), "files_total": total,
                   "coverage": len(results) / total if total else 0.0,
                   "rules_run": max((r["rules_run"] for r in results), default=0),
                   "errors": sum(r["errors"] for r in results),
                   "warnings": sum(r["warnings"] for r in results)}
    found = [f"{Path(r['path']).name}:{x['line']} {x['rule']}" for r in results
             for x in r["findings"] if x["severity"] == "error"]
    if found:
        return c.seal("stop", "vulnerabilities found: " + ", ".join(found), metrics)
    return c.seal("continue", "no vulnerabilities found", metrics)


def run(home: Path, *, scanner_mode: str, clean: bool, out: Any = sys.stdout) -> int:
    """Run the pipeline in workspace ``home``; 0 when deployed, 5 when stopped."""

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    root = home / "project"
    repo = root / "src"
    repo.mkdir(parents=True, exist_ok=True)
    for name, text in {**SOURCES, "handlers.py": FIXED if clean else VULNERABLE}.items():
        (repo / name).write_text(text, encoding="utf-8")
    scanner = root / "tools" / "scanner.py"
    scanner.parent.mkdir(parents=True, exist_ok=True)
    scanner.write_text(SCANNER, encoding="utf-8")
    if scanner_mode != "ok":
        scanner = root / "tools" / "semgrep-lite.py"  # the path the agent was configured with: gone

    ws = Workspace.open(home / "ws")
    with KnowledgeBase.open(ws) as kb:
        approvals: list[str] = []

        def release_manager(req: Any) -> bool:  # the human who approves each external call
            approvals.append(req.tool)
            return True

        gw = ToolGateway(make_tools(root, scanner), kb, RUN, approver=release_manager)
        gw.grant("build", justification="CI builds release artefacts", to="builder")
        key = run_key(ws, RUN)  # runs/<run>/evidence.key, mode 0600; never in the log
        quorum = Quorum([LogVerifier("log-auditor"),
                         RecheckVerifier("second-scanner", gw, tools=["scan_file"])], k=2)
        gate = EvidenceChecker(kb, RUN, key=key, quorum=quorum, actor="release-gate")

        say(f"deploy pipeline: scanner={scanner_mode}, code={'fixed' if clean else 'vulnerable'}")
        say(f"log: {ws.log_path} (run {RUN})\n")
        artefact = str(root / "dist" / "app.tar.gz")
        try:
            c = EvidenceCollector(gw, "builder", ("build", "build-1"), key=key)
            built = json.loads(c.call("build", {"src": str(repo), "out": artefact}).output)
            env = c.seal("continue", f"packed {built['files']} files",
                         {"items_examined": built["files"], "errors": 0})
            say(f"[1 build] builder: continue ({env.verdict.detail})")
            gate.require(env, ("build", "build-1"))
            say("          evidence accepted\n")

            c = EvidenceCollector(gw, "security", ("security_audit", "audit-1"), key=key)
            env = security_agent(c, repo, scanner_mode)
            say(f"[2 scan]  security: {env.verdict.decision} ({env.verdict.detail})")
            say(f"          metrics: {json.dumps(env.metrics.reported(), sort_keys=True)}")
            say(f"          cites {len(env.events)} tool.call event(s): {env.events}")
            if env.verdict.decision == "continue":
                say("          (a pipeline that trusts the status code would deploy now)")
            res = gate.require(env, ("security_audit", "audit-1"))
            say("          " + res.explain().replace("\n", "\n          ") + "\n")

            r = gw.call("deploy", {"artifact": artefact, "env": "production"}, actor="deployer",
                        key="deploy:production")
            say(f"[3 deploy] deployer: {r.outcome} {r.output}")
            if r.outcome != "ok":
                say(f"deploy failed: {r.reason}")
                return 1
            say("\nDEPLOYED: every step's evidence held.")
            return 0
        except EvidenceRejected as exc:
            ev = kb.get(RUN, exc.seq) if exc.seq else None
            if ev is not None and ev.kind == "evidence.accepted":
                say("\nSTOPPED before deploy: the security agent's own verdict is stop.")
            else:
                say("\nSTOPPED before deploy: the security verdict's evidence did not hold.")
            if ev is not None:
                say(textwrap.indent(ev.payload["text"], "  "))
                say(f"  (recorded as {ev.kind} event #{ev.seq} in run {RUN})")
            deployed = [e for e in kb.events(RUN, kinds=["tool.call"])
                        if e.payload.get("tool") == "deploy"]
            say(f"  deploy calls in the log: {len(deployed)}")
            return exc.exit_code


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scanner", choices=["broken", "lying", "ok"], default="broken",
                   help="broken: cannot run, the agent reports an empty success (default); "
                   "lying: claims a full scan anyway; ok: a real scan")
    p.add_argument("--clean", action="store_true", help="ship the fixed code (no eval())")
    p.add_argument("--healthy", action="store_true", help="same as --scanner ok --clean")
    p.add_argument("--home", type=Path, help="keep the workspace here (default: a temp folder)")
    a = p.parse_args(argv)
    mode, clean = ("ok", True) if a.healthy else (a.scanner, a.clean)
    if a.home is not None:
        return run(a.home, scanner_mode=mode, clean=clean)
    with tempfile.TemporaryDirectory(prefix="mapek-deploy-") as tmp:
        return run(Path(tmp), scanner_mode=mode, clean=clean)


if __name__ == "__main__":
    sys.exit(main())
