"""A discussion with an MCP server: its read-only tool runs, its destructive tool waits for a
person. A real MCP server (tests/safety/_mcp_server.py over stdio), the real CLI, worker and
watchdog processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SERVER = Path(__file__).resolve().parent.parent / "safety" / "_mcp_server.py"


def test_mcp_read_tool_runs_and_destructive_tool_is_held(home: Path, tmp_path: Path) -> None:
    from mapek.knowledge import KnowledgeBase

    deleted = tmp_path / "deleted.txt"
    # the server sees only the variables it is given: a wrapper names the side-effect file
    wrapper = tmp_path / "prices.py"
    wrapper.write_text(f"import os, runpy\nos.environ['MAPEK_TEST_DELETED'] = {str(deleted)!r}\n"
                       f"runpy.run_path({str(SERVER)!r}, run_name='__main__')\n")
    pdir = tmp_path / "personas"
    pdir.mkdir()
    (pdir / "merchant.yaml").write_text(
        "name: merchant\nrole: Merchandiser\ngoal: Keep the catalogue right\n"
        "expertise: [catalogue]\nconcerns: [stale prices, dead SKUs]\n"
        "tools: [prices__lookup_price, prices__delete_sku]\n")
    out = subprocess.run(
        [sys.executable, "-m", "mapek.cli", "discuss", "Should we prune our SKU catalogue?",
         "--personas", "cfo,merchant", "--personas-dir", str(pdir),
         "--mcp", f"{sys.executable} {wrapper}", "--non-interactive", "--on-question", "queue",
         "--max-turns", "6"],
        capture_output=True, text=True, timeout=300, env={**os.environ})
    assert out.returncode == 0, out.stderr
    with KnowledgeBase.open(home, create=False) as kb:
        run = kb.runs()[0].run_id
        events = kb.events(run)
    calls = [e for e in events if e.kind == "tool.call"]
    reads = [e for e in calls if e.payload["tool"] == "prices__lookup_price"]
    assert reads and all(e.payload["outcome"] == "ok" for e in reads), reads
    held = [r for e in events if e.kind == "approval.requested"
            for r in e.payload["approvals"] if r["tool"] == "prices__delete_sku"]
    assert held, "the destructive MCP tool was not put to a person"
    ran = [e for e in calls if e.payload["tool"] == "prices__delete_sku"
           and e.payload["outcome"] == "ok"]
    assert not ran and not deleted.exists()
