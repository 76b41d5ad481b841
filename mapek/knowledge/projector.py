"""Keeps the vector index in step with the log, in batches, off the caller's path.

The projector does not carry events itself: it reads them back from the log, from the index's
recorded position onwards. So the index is a pure projection of the log. Events written by other
processes, or queued when a process died, are indexed on the next catch-up, and nothing is lost
when Chroma fails: the log has every event, the position stays put, and the next catch-up (or a
``reindex``) retries.

``notify()`` (called by ``KnowledgeBase.record`` for each semantic event) wakes a background
thread, which catches up once ``batch_size`` events are pending or ``max_delay`` seconds have
passed. ``flush()`` catches up in the caller's thread and raises ``VectorIndexError`` on failure.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from mapek.errors import UserError, VectorIndexError
from mapek.knowledge.log import EventLog
from mapek.knowledge.vectors import Filter, SearchHit, VectorIndex
from mapek.models import SEMANTIC_KINDS

__all__ = ["IndexProjector"]

logger = logging.getLogger(__name__)


class IndexProjector:
    """Projects a log's semantic events into a vector index, in batches."""

    def __init__(
        self,
        log: EventLog,
        open_index: Callable[[], VectorIndex],
        *,
        batch_size: int = 256,
        max_delay: float = 0.5,
    ):
        self.log, self._open_index = log, open_index
        self.batch_size, self.max_delay = batch_size, max_delay
        self._index: VectorIndex | None = None
        self._work = threading.RLock()  # one catch-up, reindex or query at a time
        self._cond = threading.Condition()
        self._pending = 0
        self._first_pending = 0.0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.last_error: VectorIndexError | None = None
        """The last failure of a background catch-up (cleared by a successful one)."""

    @property
    def index(self) -> VectorIndex:
        """The vector index, opened on first use (this is when chromadb is imported)."""
        with self._work:
            if self._index is None:
                self._index = self._open_index()
            return self._index

    def notify(self, n: int = 1) -> None:
        """Say that ``n`` semantic events were appended; starts the background thread."""
        with self._cond:
            if self._stopping:
                return
            first = self._pending == 0
            if first:
                self._first_pending = time.monotonic()
            self._pending += n
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="mapek-indexer",
                                                daemon=True)
                self._thread.start()
            if first or self._pending >= self.batch_size:  # start the clock, or go now
                self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and self._pending == 0:
                    self._cond.wait()
                while not self._stopping and self._pending < self.batch_size:
                    left = self._first_pending + self.max_delay - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._stopping:
                    return
                self._pending = 0
            try:
                self.catch_up()
            except Exception as exc:  # reported, and retried on the next notify or flush
                err = exc if isinstance(exc, VectorIndexError) else VectorIndexError(str(exc))
                self.last_error = err
                logger.error("vector index catch-up failed (the log is intact; will retry): %s",
                             exc)

    def catch_up(self) -> int:
        """Index every semantic event committed to the log so far; return how many were added."""
        with self._work:
            index = self.index
            start = cursor = index.position()
            added = 0
            while True:
                rows, scanned = self.log.scan(cursor, kinds=SEMANTIC_KINDS,
                                              limit=self.batch_size)
                batch = [ev for _, ev in rows if ev.text.strip()]
                if batch or scanned != cursor:
                    index.upsert(batch, position=scanned)
                added += len(batch)
                if scanned == cursor or len(rows) < self.batch_size:
                    break
                cursor = scanned
            if added or start != index.position():
                logger.debug("indexed %d events up to log position %d", added, index.position())
            self.last_error = None
            return added

    def flush(self) -> int:
        """Catch up now, in this thread. Raises ``VectorIndexError`` if the index fails."""
        with self._cond:
            self._pending = 0
        try:
            return self.catch_up()
        except UserError:  # a bad setting: say so plainly
            raise
        except Exception as exc:
            raise VectorIndexError(f"{exc} (the log keeps every event: reindex rebuilds the "
                                   "index from it)") from exc

    def search(self, text: str, n: int = 5, **filters: Filter) -> list[SearchHit]:
        """Flush, then query the index (filters: ``run``, ``persona``, ``kind``)."""
        self.flush()
        with self._work:
            return self.index.query(text, n, **filters)

    def reindex(self, run_id: str | None = None) -> int:
        """Rebuild from the log alone: one run's entries, or (``None``) the whole index."""
        with self._work:
            index = self.index
            index.delete(run_id)
            if run_id is None:
                return self.catch_up()
            added, cursor = 0, 0
            while True:
                rows, scanned = self.log.scan(cursor, run_id=run_id, kinds=SEMANTIC_KINDS,
                                              limit=self.batch_size)
                batch = [ev for _, ev in rows if ev.text.strip()]
                index.upsert(batch)
                added += len(batch)
                if len(rows) < self.batch_size:
                    return added
                cursor = scanned

    def close(self) -> None:
        """Stop the background thread (without flushing) and close the index."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()
        with self._work:
            if self._index is not None:
                self._index.close()
