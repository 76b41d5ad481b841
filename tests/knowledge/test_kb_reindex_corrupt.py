"""``mapek kb reindex`` on a Chroma folder whose files hold garbage: search fails pointing at
reindex, and reindex does what it says: the broken folder is moved aside (kept) and the whole
index rebuilt from the log, after which search finds what was said (real Chroma, real CLI
subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mapek.knowledge import KnowledgeBase


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_reindex_sets_a_corrupt_index_aside_and_rebuilds_it(home: Path) -> None:
    with KnowledgeBase.open(home) as kb:
        kb.record("r1", "message", "cfo", {"text": "the runway is nine months"})
        kb.record("r1", "answer", "engineer", {"text": "migration takes six engineer-weeks"})
        kb.record("r2", "decision", "legal", {"text": "sign the Berlin office lease"})
        assert kb.flush() >= 0
    chroma = home / "chroma"
    files = [p for p in chroma.rglob("*") if p.is_file()]
    assert any(p.name == "chroma.sqlite3" for p in files)
    for p in files:
        p.write_bytes(os.urandom(4096))

    r = _cli("kb", "search", "runway")
    assert r.returncode == 1 and "reindex" in r.stderr and "Traceback" not in r.stderr

    r = _cli("kb", "reindex", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["indexed"] == 3
    aside = Path(out["set_aside"])
    assert aside.parent == home and aside.name.startswith("chroma.broken-")
    assert sorted(p.name for p in aside.rglob("*") if p.is_file()) == \
        sorted(p.name for p in files)  # the broken files are kept, as they were
    assert chroma.is_dir()

    r = _cli("kb", "search", "runway", "--json")
    assert r.returncode == 0, r.stderr
    hits = json.loads(r.stdout)
    assert hits and hits[0]["text"] == "the runway is nine months"
    r = _cli("kb", "reindex")  # a sound index: reindexed in place, nothing set aside
    assert r.returncode == 0 and "moved" not in r.stdout and "indexed 3 entries" in r.stdout
    assert len([p for p in home.iterdir() if p.name.startswith("chroma.broken-")]) == 1
    r = _cli("kb", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
