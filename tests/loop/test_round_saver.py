"""RoundSaver writes a round's checkpoint outside its state lock: while the write is on the disk
the graph's next round hands over its checkpoints and says where the round ends without
waiting; writes still go to the inner saver one at a time, in order. Every round's checkpoint
is written, also when the next round ends before it is handed over; the SQLite checkpoints are
as durable as the log."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from mapek.loop.rounds import RoundSaver


class _SlowSaver(InMemorySaver):
    """Blocks each ``put`` until released; records the order of the writes."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.entered = threading.Event()
        self.order: list[str] = []

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        self.entered.set()
        assert self.release.wait(10)
        self.order.append(checkpoint["id"])
        return super().put(config, checkpoint, metadata, new_versions)


def _checkpoint(cid: str) -> dict[str, Any]:
    return {"v": 4, "id": cid, "ts": "", "channel_values": {}, "channel_versions": {},
            "versions_seen": {}, "updated_channels": None}


def test_a_write_on_the_disk_does_not_hold_up_the_next_round() -> None:
    inner = _SlowSaver()
    saver = RoundSaver(inner)
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    saver.round_ends(None)  # the next checkpoint handed over ends a round
    writer = threading.Thread(target=saver.put, args=(config, _checkpoint("0001"),
                                                      {"step": 1}, {}))
    writer.start()
    assert inner.entered.wait(10)  # the write is in progress (blocked)
    start = time.monotonic()
    saver.round_ends(5)  # the next round says where it ends ...
    saver.put_writes({"configurable": {"thread_id": "t", "checkpoint_ns": "",
                                       "checkpoint_id": "0001"}}, [("x", 1)], "task")
    assert time.monotonic() - start < 1.0  # ... without waiting for the disk
    inner.release.set()
    writer.join(10)
    saver.put(config, _checkpoint("0002"), {"step": 5}, {})  # ends the round: written
    saver.flush()
    assert inner.order == ["0001", "0002"] and saver.written == 2


def test_each_round_is_written_when_the_next_one_ends_before_its_hand_over() -> None:
    inner = InMemorySaver()
    saver = RoundSaver(inner)
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    # a round is one superstep: round 2 (step 3) may end before round 1's checkpoint (step 2)
    # is handed over in the background
    saver.round_ends(2)
    saver.round_ends(3)
    saver.put(config, _checkpoint("0002"), {"step": 2}, {})
    assert saver.written == 1
    saver.put(config, _checkpoint("0003"), {"step": 3}, {})
    assert saver.written == 2
    saver.put(config, _checkpoint("0004"), {"step": 4}, {})  # inside round 3: held
    assert saver.written == 2


def test_checkpoints_are_written_as_durably_as_the_log(home: Path) -> None:
    from mapek.config import Settings
    from mapek.knowledge.checkpoints import open_checkpointer

    settings = Settings(home=home)
    with open_checkpointer(settings, settings.workspace()) as saver:
        # WAL and synchronous=NORMAL (1), as the event log: a killed process loses no commit
        assert saver.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert saver.conn.execute("PRAGMA synchronous").fetchone()[0] == 1
