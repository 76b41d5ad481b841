"""One durable write per turn, one checkpoint per round, the transcript folded from the log
(issue 16, part 2), and what a SIGKILL inside a round leaves: the round replayed from the log,
no turn lost, none asked for twice.

Real worker processes (``run_session`` in a child Python), real SQLite log and checkpoints."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from mapek.api import Session
from mapek.loop.worker import run_session
from mapek.testing.discussion import discussion_model

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"
PEOPLE = ["cfo", "engineer", "skeptic", "legal"]
REPO = Path(__file__).resolve().parents[2]


def _checkpoints(home: Path, run_id: str) -> int:
    with sqlite3.connect(home / "checkpoints.sqlite3") as conn:
        return int(conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = ?",
                                (run_id,)).fetchone()[0])


def test_a_turn_is_one_transaction_and_a_round_one_checkpoint(home: Path) -> None:
    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=8)
    model = discussion_model()
    status = run_session(s.run_id, model=model)
    assert status in ("converged", "stalled", "max_turns")
    events = s.history()
    by_seq = {e.seq: e for e in events}
    messages = [e for e in events if e.kind == "message"]
    assert len(messages) == 8
    for m in messages:
        # The turn's model call is written in the same transaction, right before its message.
        call = by_seq[m.seq - 1]
        assert call.kind == "llm.call" and call.actor == m.actor
        assert call.payload["task"] == "persona_turn" and call.payload["outcome"] == "ok"
    turn_calls = [e for e in events if e.kind == "llm.call"
                  and e.payload["task"] == "persona_turn"]
    assert len(turn_calls) == len(messages)  # no call left without its turn
    rounds = len([e for e in events if e.kind == "observer.analysis"])
    assert rounds == 4
    # One checkpoint per round (after its analysis), plus the input's and the last one, not
    # one per node (five per round before).
    assert _checkpoints(home, s.run_id) <= rounds + 3
    # The transcript is folded from the log: the checkpoint keeps the last message's seq only.
    from mapek.config import Settings
    from mapek.knowledge.checkpoints import open_checkpointer

    settings = Settings(home=home)
    with open_checkpointer(settings, settings.workspace(create=False)) as saver:
        last = saver.get_tuple({"configurable": {"thread_id": s.run_id, "checkpoint_ns": ""}})
    values = last.checkpoint["channel_values"]
    assert "transcript" not in values and values["said"] == max(m.seq for m in messages)
    assert s.kb.verify(s.run_id).ok
    s.close()


_CHILD = textwrap.dedent("""
    import os, signal, sys, threading, time
    from mapek.loop.worker import run_session
    from mapek.testing.discussion import discussion_model

    run_id, kill_round = sys.argv[1], int(sys.argv[2])
    seen, lock = [], threading.Lock()

    def die_in_round(request, out):
        c = request.context or {}
        if kill_round and request.task == "persona_turn" and c.get("round") == kill_round:
            with lock:
                seen.append(c["persona"]["name"])
                second = len(seen) == 2
            if second:  # the round's first turn is written to the log meanwhile
                time.sleep(2.0)
                os.kill(os.getpid(), signal.SIGKILL)

    print(run_session(run_id, model=discussion_model(edit=die_in_round)))
""")


def _child(run_id: str, kill_round: int, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAPEK_HOME": str(home)}
    return subprocess.run([sys.executable, "-c", _CHILD, run_id, str(kill_round)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=REPO)


@pytest.mark.parametrize("kill", [3, 4])
def test_a_sigkill_inside_a_round_replays_it_from_the_log(home: Path, kill: int) -> None:
    """Rounds 3 and 4 run in one superstep (``graph.ROUNDS_PER_STEP``): killed in round 3,
    the worker resumes from round 2's checkpoint and replays round 3; killed in round 4, it
    resumes from there too and replays round 3 (all of it in the log) and round 4."""
    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=10)
    done = _child(s.run_id, kill, home)  # killed in the round's second turn
    assert done.returncode == -9, (done.returncode, done.stderr[-2000:])
    before = s.history()
    assert before[-1].kind != "run.finished"
    said_in = [e for e in before if e.kind == "message" and e.payload["round"] == kill]
    # the round's first turn reached the log before the kill; its analysis never happened
    assert len(said_in) == 1
    assert not [e for e in before if e.kind == "observer.analysis"
                and e.payload["round"] == kill]
    done = _child(s.run_id, 0, home)  # resumed from round 2's checkpoint
    assert done.returncode == 0, done.stderr[-2000:]
    events = s.history()
    assert [e.hash for e in events[:len(before)]] == [e.hash for e in before]  # nothing lost
    assert events[-1].kind == "run.finished"
    in_round = [e for e in events if e.kind == "message" and e.payload["round"] == kill]
    assert said_in[0].seq in [e.seq for e in in_round] and len(in_round) == 2  # reused
    analyses = [e.payload["round"] for e in events if e.kind == "observer.analysis"]
    assert len(analyses) == len(set(analyses))  # no round analysed twice
    messages = [e for e in events if e.kind == "message"]
    assert max(Counter((e.payload["round"], e.actor) for e in messages).values()) == 1
    turn_calls = [e for e in events if e.kind == "llm.call"
                  and e.payload["task"] == "persona_turn" and e.payload["outcome"] == "ok"]
    assert len(turn_calls) == len(messages)  # no turn asked of the model twice
    keys = [e.key for e in events if e.key]
    assert len(keys) == len(set(keys))
    assert s.kb.verify(s.run_id).ok
    s.close()


_CHILD_SAVING = textwrap.dedent("""
    import os, signal, sys, time
    from mapek.loop import rounds
    from mapek.loop.worker import run_session
    from mapek.testing.discussion import discussion_model

    run_id, kill_at = sys.argv[1], int(sys.argv[2])
    write = rounds.RoundSaver._write

    def dying_write(self, held, moved):
        if self.written + 1 == kill_at:  # this round's checkpoint never reaches the disk
            time.sleep(1.0)  # meanwhile the next round runs and writes to the log
            os.kill(os.getpid(), signal.SIGKILL)
        return write(self, held, moved)

    if kill_at:
        rounds.RoundSaver._write = dying_write

    print(run_session(run_id, model=discussion_model()))
""")


def test_a_sigkill_while_a_rounds_checkpoint_is_written_replays_from_the_one_before(
        home: Path) -> None:
    """The round's checkpoint is written in the background while the next round runs (async
    durability): a kill then leaves the log ahead of the last checkpoint by more than a round,
    and the resumed worker replays it all from the log, nothing lost, nothing twice."""
    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=12)
    env = {**os.environ, "MAPEK_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", _CHILD_SAVING, s.run_id, "2"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=REPO)
    assert done.returncode == -9, (done.returncode, done.stderr[-2000:])
    before = s.history()
    assert before[-1].kind != "run.finished"
    # round 2 ended (its analysis is in the log) and round 3 went on while its checkpoint
    # was being written
    assert [e for e in before if e.kind == "observer.analysis" and e.payload["round"] == 2]
    assert [e for e in before if e.kind == "message" and e.payload["round"] == 3]
    assert _checkpoints(home, s.run_id) <= 2  # the input's and round 1's at most
    done = subprocess.run([sys.executable, "-c", _CHILD_SAVING, s.run_id, "0"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    events = s.history()
    assert [e.hash for e in events[:len(before)]] == [e.hash for e in before]  # nothing lost
    assert events[-1].kind == "run.finished"
    messages = [e for e in events if e.kind == "message"]
    assert len(messages) == 12
    assert max(Counter((e.payload["round"], e.actor) for e in messages).values()) == 1
    turn_calls = [e for e in events if e.kind == "llm.call"
                  and e.payload["task"] == "persona_turn" and e.payload["outcome"] == "ok"]
    assert len(turn_calls) == len(messages)  # no turn asked of the model twice
    analyses = Counter(e.payload["round"] for e in events if e.kind == "observer.analysis")
    assert max(analyses.values()) == 1  # no round analysed twice
    keys = [e.key for e in events if e.key]
    assert len(keys) == len(set(keys))
    assert s.kb.verify(s.run_id).ok
    s.close()
