"""``mapek evidence check FILE --run RUN``: exit 0 to go ahead, 5 to stop, 2 for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from _evidence_rig import open_rig

from mapek.knowledge import KnowledgeBase


def mapek(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_evidence_check_from_the_command_line(home: Path, tmp_path: Path) -> None:
    rig = open_rig(tmp_path)  # the workspace is tmp_path/ws = MAPEK_HOME
    assert rig.ws.root == home.resolve()
    good = tmp_path / "good.json"
    good.write_text(rig.audit().to_json())
    rig.broken[0] = True
    hollow = tmp_path / "hollow.json"
    hollow.write_text(rig.audit(rig.collector(task=("security_audit", "a2"))).to_json())
    rig.kb.close()

    ok = mapek("evidence", "check", str(good), "--run", rig.run_id)
    assert ok.returncode == 0, ok.stderr
    assert "evidence accepted" in ok.stdout and "coverage = 1 meets" in ok.stdout

    bad = mapek("evidence", "check", str(hollow), "--run", rig.run_id, "--json", "--record")
    assert bad.returncode == 5, bad.stderr
    out = json.loads(bad.stdout)
    assert out["accepted"] is False and any("coverage = 0" in r for r in out["reasons"])
    with KnowledgeBase.open(home, create=False) as kb:
        (ev,) = kb.events(rig.run_id, kinds=["evidence.rejected"])
        assert ev.seq == out["seq"] and ev.actor == "human"
        before = kb.log.last_seq(rig.run_id)

    data = json.loads(good.read_text())
    data["metrics"]["items_examined"] = 120
    good.write_text(json.dumps(data))
    forged = mapek("evidence", "check", str(good), "--run", rig.run_id)
    assert forged.returncode == 5 and "signature does not match" in forged.stdout

    for args, message in [
        (["--run", "nope"], "no run 'nope'"),
        (["--run", rig.run_id, "--requirements", str(tmp_path / "none")], "does not exist"),
    ]:
        r = mapek("evidence", "check", str(good), *args)
        assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1, r.stderr
    (tmp_path / "junk.json").write_text("{oops")
    r = mapek("evidence", "check", str(tmp_path / "junk.json"), "--run", rig.run_id)
    assert r.returncode == 2 and "not JSON" in r.stderr
    with KnowledgeBase.open(home, create=False) as kb:  # nothing written without --record
        assert kb.log.last_seq(rig.run_id) == before and kb.verify().ok
