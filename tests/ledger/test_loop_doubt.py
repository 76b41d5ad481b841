"""The loop's execute node on the effects ledger: a call the worker died during (its intent in
the log, no result) is put to the human before the round's calls run, not run again by itself.
In-process on a model double (real SQLite log, real graph, real checkpoints)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mapek.api import Session
from mapek.ledger import Ledger
from mapek.loop.human import ProgrammaticChannel
from mapek.loop.worker import run_session
from mapek.testing import FunctionModel
from mapek.testing.discussion import discussion_model

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"
PEOPLE = ["cfo", "engineer", "skeptic"]
NOTE = {"title": "minutes", "text": "m"}


def _model() -> FunctionModel:
    return discussion_model(first_turn={"cfo": {"actions": [{"tool": "write_note", "args": NOTE}]}})


def _run(approve: bool | str, seed_intent: str | None
         ) -> tuple[Session, list[dict[str, Any]]]:
    s = Session.create(TOPIC, PEOPLE, max_turns=6)
    s.kb.record(s.run_id, "grant", "human", {"tool": "write_note", "to": "cfo",
                                             "justification": "the cfo keeps the minutes"})
    if seed_intent is not None:  # what a worker killed during the call leaves behind
        Ledger(s.kb, s.run_id).intend(seed_intent, "write_note", NOTE, actor="cfo",
                                      effect="write", node="execute")
    seen: list[dict[str, Any]] = []

    def answer(req: dict[str, Any]) -> bool | str:
        seen.append(req)
        return approve

    s.channel = ProgrammaticChannel(lambda q: "yes, within budget", answer)
    t = threading.Thread(target=run_session, args=(s.run_id,), kwargs={"model": _model()},
                         daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while not s.kb.events(s.run_id, kinds=["worker.started"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    list(s.stream())
    t.join(60)
    return s, seen


@pytest.mark.parametrize("approve", [False, True, "happened"])
def test_a_call_in_doubt_in_the_loop_waits_for_the_human(home: Path, approve: bool | str
                                                         ) -> None:
    first, _ = _run(True, None)  # where the loop puts the call: its key
    [call] = [e for e in first.history() if e.kind == "tool.call"
              and e.payload["tool"] == "write_note"]
    key = call.key
    assert key is not None and call.payload["outcome"] == "ok"
    first.close()
    s, seen = _run(approve, key)
    doubts = [r for r in seen if r.get("in_doubt")]
    assert [(r["tool"], r["args"], r["call_id"]) for r in doubts] == [
        ("write_note", NOTE, f"doubt:{key}:1")]
    assert "may already have happened" in doubts[0]["why"]
    note = home / "runs" / s.run_id / "notes" / "minutes.md"
    effect = Ledger(s.kb, s.run_id).get(key)
    assert effect is not None
    if approve == "happened":  # it did happen: recorded as done, not run again
        assert not note.exists() and effect.status == "done" and effect.attempts == 1
        assert effect.answers == {1: "happened"}
        [ok] = [e for e in s.history() if e.kind == "approval"
                and e.payload["call_id"].startswith("doubt:")]
        assert ok.payload["happened"] is True and ok.payload["approved"] is False
    elif approve:  # "run it": it runs once more, and only once
        assert note.read_text() == "m" and effect.status == "done" and effect.attempts == 2
        assert effect.answers == {1: "run"}  # the human's answer for attempt 1
    else:  # not approved: not run, left in doubt and recorded so
        assert not note.exists() and effect.status == "in_doubt"
        assert len(s.kb.events(s.run_id, kinds=["effect.in_doubt"])) == 1
    assert s.kb.verify(s.run_id).ok
    s.close()


def test_only_a_call_in_doubt_can_be_said_to_have_happened(home: Path) -> None:
    import subprocess
    import sys

    from mapek.errors import UserError

    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=6)
    s.kb.record(s.run_id, "approval.requested", "screen", {"approvals": [
        {"call_id": "tool:2:0", "tool": "send_email", "args": {"to": "a@x.com"}},
        {"call_id": "doubt:tool:1:0:1", "tool": "write_note", "args": NOTE, "in_doubt": True}]})
    with pytest.raises(UserError, match="not in doubt"):
        s.approve("tool:2:0", happened=True)
    r = subprocess.run([sys.executable, "-m", "mapek.cli", "approve", s.run_id,
                        "doubt:tool:1:0:1", "--deny", "--happened"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "one of --deny and --happened" in r.stderr
    r = subprocess.run([sys.executable, "-m", "mapek.cli", "approve", s.run_id,
                        "doubt:tool:1:0:1", "--happened"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and "recorded as having happened" in r.stdout, r.stderr
    [ev] = s.kb.events(s.run_id, kinds=["approval"])
    assert ev.payload["happened"] is True and ev.payload["approved"] is False
    s.close()
