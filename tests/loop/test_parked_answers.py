"""The screen node's look at the answers to queued calls reads the log incrementally: the same
answers as reading the whole run (a call's latest answer wins, only a human's or a policy's
count), what another process appended included, without reading the run again each round."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mapek.knowledge import KnowledgeBase
from mapek.loop.screen import _answers


def _whole_run(kb: KnowledgeBase, run: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """What the answers were before: the whole run read each time."""
    return {str(e.payload.get("call_id")): (e.actor, e.payload) for e in kb.events(
        run, kinds=["approval"]) if e.actor in ("human", "policy")}


def test_answers_are_read_incrementally_and_equal_a_whole_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = tmp_path / "ws"
    with KnowledgeBase.open(ws) as kb, KnowledgeBase.open(ws) as other:
        ctx: Any = SimpleNamespace(kb=kb, run_id="run", _lock=threading.Lock(), answers=None)
        for i in range(50):
            kb.record("run", "message", "cfo", {"text": f"turn {i}"})
        reads: list[int] = []
        scan = kb.log.scan

        def counted(after: int = 0, **kw: Any) -> Any:
            if kw.get("kinds") == ["approval"]:
                reads.append(after)
            return scan(after, **kw)

        monkeypatch.setattr(kb.log, "scan", counted)
        assert _answers(ctx) == {} == _whole_run(other, "run")
        kb.record("run", "approval", "human", {"call_id": "tool:1:0", "approved": True})
        kb.record("run", "approval", "agent", {"call_id": "tool:1:1", "approved": True})
        kb.record("run", "approval", "policy", {"call_id": "tool:2:0", "note": "no one"})
        got = _answers(ctx)
        assert got == _whole_run(other, "run")
        assert set(got) == {"tool:1:0", "tool:2:0"} and got["tool:1:0"][0] == "human"
        # another process answers (a person's `mapek approve`), and answers one call again
        other.record("run", "approval", "human", {"call_id": "tool:2:0", "approved": False})
        kb.record("run", "message", "cfo", {"text": "more"})
        got = _answers(ctx)
        assert got == _whole_run(other, "run") and got["tool:2:0"][0] == "human"
        assert reads == [0, 50, 53]  # each look starts where the last one ended
        got["tool:9:9"] = ("human", {})  # a copy: changing it changes no later answer
        assert "tool:9:9" not in _answers(ctx)
