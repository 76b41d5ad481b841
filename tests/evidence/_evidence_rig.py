"""Test rig: a real workspace (SQLite log), a real tool gateway with a small in-process
scanner, the run's key and a checker using the packaged requirements."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mapek.config import Workspace
from mapek.evidence import (
    Envelope,
    EvidenceChecker,
    EvidenceCollector,
    Quorum,
    Requirements,
    run_key,
)
from mapek.knowledge import KnowledgeBase
from mapek.safety.gateway import ToolGateway
from mapek.safety.tools import ToolRegistry, tool

RUN = "run-a"


def make_tools(broken: list[bool]) -> ToolRegistry:
    @tool(effect="read")
    def list_files(root: str) -> str:
        files = sorted(str(p) for p in Path(root).glob("*.py"))
        return json.dumps({"count": len(files), "files": files})

    @tool(effect="read")
    def scan_file(path: str) -> str:
        if broken[0]:
            raise FileNotFoundError("scanner executable not found")
        data = Path(path).read_bytes()
        errors = data.count(b"eval(")
        return json.dumps({"path": path, "sha256": hashlib.sha256(data).hexdigest(),
                           "rules_run": 4, "errors": errors, "warnings": 0}, sort_keys=True)

    @tool(effect="read")
    def other_tool(x: str) -> str:
        return x

    reg = ToolRegistry()
    for t in (list_files, scan_file, other_tool):
        reg.register(t)
    return reg


@dataclass
class Rig:
    ws: Workspace
    kb: KnowledgeBase
    gw: ToolGateway
    key: bytes
    repo: Path
    broken: list[bool]
    run_id: str = RUN

    def checker(self, quorum: Quorum | None = None, **kw: Any) -> EvidenceChecker:
        return EvidenceChecker(self.kb, self.run_id, key=self.key,
                               requirements=Requirements.load(), quorum=quorum, **kw)

    def collector(self, producer: str = "security", task: tuple[str, str] =
                  ("security_audit", "audit-1")) -> EvidenceCollector:
        return EvidenceCollector(self.gw, producer, task, key=self.key)

    def audit(self, c: EvidenceCollector | None = None, **override: Any) -> Envelope:
        """An honest scan of the repo, sealed; ``override`` replaces metrics."""
        c = c or self.collector()
        listing = json.loads(c.call("list_files", {"root": str(self.repo)}).output)
        results = []
        for f in listing["files"]:
            r = c.call("scan_file", {"path": f})
            c.input(f, Path(f).read_bytes())
            if r.outcome == "ok":
                results.append(json.loads(r.output))
        n = listing["count"]
        metrics = {"items_examined": len(results), "files_total": n,
                   "coverage": len(results) / n, "rules_run": 4 if results else 0,
                   "errors": sum(r["errors"] for r in results), "warnings": 0}
        metrics.update(override)
        return c.seal("continue", "no vulnerabilities found", metrics)


def open_rig(root: Path, run_id: str = RUN) -> Rig:
    repo = root / "repo"
    repo.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        (repo / f"m{i}.py").write_text(f"x = {i}\n", encoding="utf-8")
    ws = Workspace.open(root / "ws")
    kb = KnowledgeBase.open(ws)
    broken = [False]
    gw = ToolGateway(make_tools(broken), kb, run_id)
    return Rig(ws, kb, gw, run_key(ws, run_id), repo, broken, run_id)
