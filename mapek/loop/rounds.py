"""One durable checkpoint per round: a checkpointer that keeps a round's inner checkpoints in
memory and writes one at the round's end.

The graph runs with LangGraph's ``async`` durability: it hands every superstep's checkpoint
(and each task's writes) to its checkpointer in a background thread, in order, while the next
step runs (``sync`` would wait for each before the next step: a thread hand-off per superstep
for a checkpoint that is only held). :class:`RoundSaver` wraps the real saver (SQLite or
PostgreSQL) and holds them instead, keeping only the latest checkpoint and the writes made on
it; it writes through:

- the checkpoint after a round's ``analyse``: the graph calls :meth:`RoundSaver.round_ends`
  with that node's superstep when the node returns, so that step's checkpoint is written as
  soon as it is handed over, while the next round starts;
- on :meth:`RoundSaver.flush`, which the worker calls whenever the graph stops: at an
  interrupt (the interrupted task's writes are among those held), a ``--rounds`` pause, an
  error, the end.

A worker killed inside a round (or before its round's checkpoint is on disk: the next round
may have started) loses what was held and resumes from the last written round's checkpoint;
the rounds since are replayed and every node finds what it wrote by its idempotency key in the
event log (a persona turn its ``message``, a tool call its ledger entry), so nothing is lost or
done twice. The checkpoints written are LangGraph's own, each with the last written one
as its parent. A PostgreSQL saver stores only the channels whose versions moved, so a written
checkpoint carries the versions of every channel that moved since the last written one.
Writes made on a checkpoint that a later one superseded are dropped: that checkpoint holds
their effect, and a run resumed from an earlier one replays them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver

__all__ = ["RoundSaver"]


class RoundSaver(BaseCheckpointSaver):  # type: ignore[type-arg]
    """See the module's docstring. ``inner``: the saver written to."""

    def __init__(self, inner: Any) -> None:
        super().__init__(serde=inner.serde)
        self.inner = inner
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        """Held while a checkpoint is written to ``inner`` (in order; not under ``_lock``, so
        that :meth:`round_ends` and the next round's hand-overs do not wait for the disk)."""
        self._held: tuple[RunnableConfig, Any, Any] | None = None
        """The latest checkpoint handed over and not written: (config, checkpoint, metadata)."""
        self._latest: str | None = None
        """Id of the latest checkpoint handed over (held or written)."""
        self._writes: dict[str, list[tuple[RunnableConfig, Sequence[tuple[str, Any]], str,
                                           str]]] = {}
        """Task writes not written, by the id of the checkpoint they were made on: the latest
        one's, and (saves run in the background, possibly out of order) a later one's that
        came before it."""
        self._moved: dict[str, Any] = {}
        """Channel versions moved since the last written checkpoint."""
        self._parent: RunnableConfig | None = None
        """Config of the last written checkpoint: the parent of the next one written."""
        self._through = False
        self._end_steps: list[int] = []
        """The supersteps whose checkpoints end rounds and have not been handed over yet (see
        :meth:`round_ends`): with a round in one superstep, the next round may end before the
        last one's checkpoint is handed over."""
        self.written = 0
        """Checkpoints written (for tests and benchmarks)."""

    # -- what the graph and the worker call -----------------------------------------------

    def round_ends(self, step: int | None = None) -> None:
        """The checkpoint LangGraph makes after superstep ``step`` (the one running the
        round's last node; metadata ``step``) ends a round: write it through when it is handed
        over. Saves run in the background, so the checkpoint of the step before may still be
        on its way; ``step`` tells them apart. ``None``: the next checkpoint handed over."""
        with self._lock:
            if step is None:
                self._through = True
            else:
                self._end_steps.append(step)

    def flush(self) -> None:
        """Write the held checkpoint and the writes made on it: the graph stopped."""
        with self._writing:
            with self._lock:
                held, moved = self._held, self._moved
                writes = self._writes.get(self._latest or "", [])
                self._held, self._writes, self._moved = None, {}, {}
                self._end_steps = []
            if held is not None:
                self._write(held, moved)
            for args in writes:
                self.inner.put_writes(*args)

    # -- BaseCheckpointSaver --------------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> Any:
        return self.inner.get_tuple(config)

    def list(self, config: RunnableConfig | None, **kwargs: Any) -> Iterator[Any]:
        return self.inner.list(config, **kwargs)  # type: ignore[no-any-return]

    def get_next_version(self, current: Any, channel: None) -> Any:
        return self.inner.get_next_version(current, channel)

    def delete_thread(self, thread_id: str) -> None:
        self.inner.delete_thread(thread_id)

    def put(self, config: RunnableConfig, checkpoint: Any, metadata: Any,
            new_versions: Any) -> RunnableConfig:
        cid = checkpoint["id"]
        with self._writing:  # a write through waits for the one before, not the other way
            return self._put(config, checkpoint, metadata, new_versions, cid)

    def _put(self, config: RunnableConfig, checkpoint: Any, metadata: Any,
             new_versions: Any, cid: str) -> RunnableConfig:
        with self._lock:
            if self._parent is None:
                self._parent = config  # the checkpoint this run started from (or none)
            self._moved.update(new_versions)
            self._latest = cid
            # writes made on a checkpoint this one supersedes are dropped (ids sort by time)
            self._writes = {k: w for k, w in self._writes.items() if k >= cid}
            held = (config, checkpoint, metadata)
            step = (metadata or {}).get("step")
            ends = isinstance(step, int) and any(e <= step for e in self._end_steps)
            through = self._through or ends
            if through:
                self._through = False
                self._end_steps = [e for e in self._end_steps
                                   if not isinstance(step, int) or e > step]
                moved, self._moved, self._held = self._moved, {}, None
            else:
                self._held = held
        if through:  # under _writing only: written in order, the next hand-over not held up
            return self._write(held, moved)
        conf = config.get("configurable", {})
        return {"configurable": {"thread_id": conf["thread_id"],
                                 "checkpoint_ns": conf.get("checkpoint_ns", ""),
                                 "checkpoint_id": cid}}

    def put_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]],
                   task_id: str, task_path: str = "") -> None:
        cid = config.get("configurable", {}).get("checkpoint_id")
        if cid is None:
            return
        with self._lock:
            if self._latest is None:
                self._latest = cid  # writes on the checkpoint this run started from
            if cid >= self._latest:
                self._writes.setdefault(cid, []).append((config, writes, task_id, task_path))
            # else: made on a checkpoint a later one superseded (see the module's docstring)

    # -- helpers --------------------------------------------------------------------------

    def _write(self, held: tuple[RunnableConfig, Any, Any], moved: dict[str, Any]
               ) -> RunnableConfig:
        config, checkpoint, metadata = held
        parent = (self._parent or config).get("configurable", {})
        config = {**config, "configurable": {**config.get("configurable", {}),
                                             "checkpoint_id": parent.get("checkpoint_id")}}
        self._parent = self.inner.put(config, checkpoint, metadata, moved)
        self.written += 1
        return self._parent
