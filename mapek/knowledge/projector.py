"""Keeps the vector index in step with the log, in batches, off the caller's path.

The projector does not carry events itself: it reads them back from the log, from the index's
recorded position onwards. So the index is a pure projection of the log. Events written by other
processes, or queued when a process died, are indexed on the next catch-up, and nothing is lost
when Chroma fails: the log has every event, the position stays put, and the next catch-up (or a
``reindex``) retries.

``notify()`` (called by ``KnowledgeBase.record`` for each semantic event) wakes a background
thread, which catches up once ``batch_size`` events are pending or ``max_delay`` seconds have
passed. ``flush()`` catches up in the caller's thread and raises ``VectorIndexError`` on failure.
``search()`` does not wait for either. Filtered by run, it is an exact search over the run's
events, read from the log and kept embedded in memory (bounded); otherwise it merges the index's
hits with the log's not-yet-indexed tail, scored in memory. Either way it reads every write
without an upsert on its path.

One process at a time: an embedded Chroma index must not be open in two processes, so with a
``lock`` the projector opens the index only while it holds that lock, and closes it and lets go
after ``hold`` idle seconds. The background thread never waits for the lock (whoever holds it
catches up from the log anyway, and every search reads the tail past the index position);
``flush``, ``search`` and ``reindex`` wait up to ``lock_timeout`` seconds. A search filtered by
run, answered in memory, neither opens the index nor takes the lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mapek.errors import UserError, VectorIndexError
from mapek.knowledge._filelock import FileLock
from mapek.knowledge.log import EventLog
from mapek.knowledge.vectors import Filter, SearchHit, VectorIndex, indexable
from mapek.models import SEMANTIC_KINDS

if TYPE_CHECKING:
    from mapek.knowledge._exact import MemoryVectors, RunMemory

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
        max_delay: float = 2.0,
        lock: FileLock | None = None,
        hold: float = 3.0,
        lock_timeout: float = 30.0,
        embedding: Callable[[], Callable[[list[str]], Sequence[Any]]] | None = None,
        memory_size: int = 20_000,
        take_in: int | None = None,
    ):
        """``max_delay``: searches do not wait for the index (they score what it lacks in
        memory), so only readers in other processes see it lag, and each upsert to an embedded
        Chroma costs 10-50 ms whatever its size: fewer, larger batches are cheaper. ``hold``
        exceeds it, so a busy index stays open between batches. ``embedding`` makes the
        index's embedding function without opening the index: with it, a search filtered by
        run is answered in memory (see :meth:`search`), over at most ``memory_size`` events
        kept embedded; a run is taken into memory when first searched if it has at most
        ``take_in`` events in the log (default: 1,024 with a fast embedding such as the hashing
        one, 256 with a model; never above a quarter of ``memory_size``)."""
        self.log, self._open_index, self._lock = log, open_index, lock
        self._make_embedding = embedding
        self._embedding: Callable[[list[str]], Sequence[Any]] | None = None
        self._memory: RunMemory | None = None
        self._memory_lock = threading.Lock()
        self.memory_size, self.take_in = memory_size, take_in
        self.batch_size, self.max_delay = batch_size, max_delay
        self.hold, self.lock_timeout = hold, lock_timeout
        self._index: VectorIndex | None = None
        self._last_used = 0.0
        self._work = threading.RLock()  # one catch-up, reindex or query at a time
        self._cond = threading.Condition()
        self._pending = 0
        self._first_pending = 0.0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._tail: MemoryVectors | None = None
        """Semantic events past the index position, embedded, for searches (see ``search``)."""
        self._scored: OrderedDict[tuple[Any, ...], tuple[tuple[int, int], list[SearchHit]]] = \
            OrderedDict()
        """The latest in-memory searches of a run (by run, text, ``n`` and filters): where its
        memory stood and the hits. A search again, with no matching event added since, gives
        the same hits without scoring (a persona's prompt searches the answers with the same
        text every turn; most turns bring no new answer)."""
        self.last_error: VectorIndexError | None = None
        """The last failure of a background catch-up (cleared by a successful one)."""

    # -- the index, opened under the lock ----------------------------------------------------

    @contextmanager
    def using_index(self) -> Iterator[VectorIndex]:
        """The vector index, opened (and locked) if needed, for the duration of a ``with``
        block: it is not closed for idleness meanwhile. This is when chromadb loads."""
        with self._work:
            index = self._acquire(blocking=True)
            assert index is not None
            try:
                yield index
            finally:
                self._last_used = time.monotonic()

    def _acquire(self, *, blocking: bool) -> VectorIndex | None:
        with self._work:
            if self._index is None:
                lock = self._lock
                if lock is not None and not lock.acquire(self.lock_timeout if blocking else 0):
                    if not blocking:
                        return None
                    raise VectorIndexError(
                        f"the embedded vector index is in use by another process (pid "
                        f"{lock.holder() or '?'}) for over {self.lock_timeout:g} s; try again, "
                        "or share a Chroma server (MAPEK_CHROMA_URL)")
                try:
                    self._index = self._open_index()
                except BaseException:
                    if lock is not None:
                        lock.release()
                    raise
                self._start_thread()
            self._last_used = time.monotonic()
            return self._index

    def _release(self, *, idle_only: bool) -> None:
        with self._work:
            if self._index is None:
                return
            if idle_only and (self._lock is None or self._idle_left() > 0):
                return
            index, self._index = self._index, None
            try:
                index.close()
            finally:
                if self._lock is not None:
                    self._lock.release()

    def _idle_left(self) -> float:
        return self._last_used + self.hold - time.monotonic()

    # -- background batching ------------------------------------------------------------------

    def notify(self, n: int = 1) -> None:
        """Say that ``n`` semantic events were appended; starts the background thread."""
        with self._cond:
            if self._stopping:
                return
            first = self._pending == 0
            if first:
                self._first_pending = time.monotonic()
            self._pending += n
            if first or self._pending >= self.batch_size:  # start the clock, or go now
                self._start_thread()

    def _start_thread(self) -> None:
        """Start the background thread, or wake it (an index just opened: start its clock)."""
        with self._cond:
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._loop, name="mapek-indexer",
                                                daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and self._pending == 0:
                    holding = self._index is not None and self._lock is not None
                    if holding and self._idle_left() <= 0:
                        break
                    self._cond.wait(max(self._idle_left(), 0.01) if holding else None)
                while not self._stopping and 0 < self._pending < self.batch_size:
                    left = self._first_pending + self.max_delay - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._stopping:
                    return
                work, self._pending = self._pending, 0
            if not work:
                self._release(idle_only=True)
                continue
            try:
                self._catch_up(blocking=False)
            except Exception as exc:  # reported, and retried on the next notify or flush
                err = exc if isinstance(exc, VectorIndexError) else VectorIndexError(str(exc))
                self.last_error = err
                logger.error("vector index catch-up failed (the log is intact; will retry): %s",
                             exc)

    # -- catching up, searching, rebuilding ------------------------------------------------------

    def _catch_up(self, *, blocking: bool) -> int:
        with self._work:
            index = self._acquire(blocking=blocking)
            if index is None:
                return 0  # another process holds the index; it catches up from the log
            cursor, added = index.position(), 0
            while True:
                rows, scanned = self.log.scan(cursor, kinds=SEMANTIC_KINDS,
                                              limit=self.batch_size)
                batch = [ev for _, ev in rows if indexable(ev)]
                if batch or scanned != cursor:
                    index.upsert(batch, position=scanned)
                added += len(batch)
                if scanned == cursor or len(rows) < self.batch_size:
                    break
                cursor = scanned
            self.last_error = None
            self._last_used = time.monotonic()
            return added

    def catch_up(self) -> int:
        """Index every semantic event committed to the log so far; return how many were added."""
        return self._catch_up(blocking=True)

    def flush(self, *, wait: bool = True) -> int:
        """Catch up now, in this thread. Raises ``VectorIndexError`` if the index fails.

        ``wait=False``: if another process holds the embedded index, leave the work to it
        (it catches up from the log) instead of waiting for it."""
        with self._cond:
            self._pending = 0
        try:
            return self._catch_up(blocking=wait)
        except UserError:  # a bad setting: say so plainly
            raise
        except Exception as exc:
            raise VectorIndexError(f"{exc} (the log keeps every event: reindex rebuilds the "
                                   "index from it)") from exc

    def search(
        self, text: str, n: int = 5, *, run: Filter = None, persona: Filter = None,
        kind: Filter = None,
    ) -> list[SearchHit]:
        """The ``n`` semantic events closest to ``text`` among everything logged so far.

        With a run filter and an ``embedding``, the search is exact and in memory: each run's
        events are read from the log since the last search, embedded once and kept (see
        ``_search_runs``); the index is not touched. Otherwise the index is queried as it
        stands, and the log's tail past the index position (what the background thread has not
        indexed yet) is scored exactly in memory, with the index's embedding and the same
        filters, and merged with the index's hits, each event once. A tail of ``batch_size``
        events or more is indexed first, in this thread, to keep the work in memory small; an
        index that cannot embed (``VectorIndex.embed``) is always caught up first. A run
        filter sent to the index is turned into the matching entry ids, looked up in the log
        (cheap there), and the index searches among them only.
        """
        runs = _values(run)
        if runs and self._make_embedding is not None:
            found = self._search_runs(text, n, runs, persona=persona, kind=kind)
            if found is not None:
                return found
        with self._work, self.using_index() as index:
            tail = self._read_tail(index)
            position = index.position()
            ids: list[str] | None = None
            for r in _values(run) or ():
                seqs = self.log.semantic_seqs(r, kinds=_values(kind), actors=_values(persona),
                                              upto=position)
                if seqs is None:  # the backend cannot say: filter in the index
                    ids = None
                    break
                ids = (ids or []) + [f"{r}#{seq}" for seq in seqs]
            hits = index.query(text, n, run=run, persona=persona, kind=kind, ids=ids)
            if tail is None or not len(tail):
                return hits
            more = tail.search(index.embed([text])[0], n, run=run, persona=persona, kind=kind)
            if not more:
                return hits
            from mapek.knowledge._exact import merge_hits

            return merge_hits(hits, more, n=n)

    def _search_runs(self, text: str, n: int, runs: list[str], *, persona: Filter,
                     kind: Filter) -> list[SearchHit] | None:
        """Exact search over the runs' events, kept embedded in memory and read from the log
        since the last search: no index, no lock. A run is taken into memory when first
        searched if it is short (``take_in``); from then on it grows with the log. None: a run
        is too long to take in now (embedding it could take long), so the index searches
        instead. So a worker that searches its run from the start keeps it in memory, while a
        process searching many long runs (a front end, say) uses the index, without filling
        memory and evicting runs."""
        from mapek.knowledge._exact import MemoryVectors, RunMemory, merge_hits

        with self._memory_lock:
            if self._embedding is None:
                assert self._make_embedding is not None
                self._embedding = self._make_embedding()
            if self._memory is None:
                self._memory = RunMemory(self.memory_size)
            found: list[SearchHit] = []
            query: Any = None
            take_in = self.take_in
            if take_in is None:
                take_in = 1024 if getattr(self._embedding, "fast", False) else 256
            limit = min(take_in, self.memory_size // 4)
            for r in dict.fromkeys(runs):
                mem = self._memory.get(r)
                if mem is None:
                    if self.log.last_seq(r) > limit:
                        return None
                    mem = MemoryVectors(0)
                while True:
                    rows, scanned = self.log.scan(mem.cursor, run_id=r, kinds=SEMANTIC_KINDS,
                                                  limit=self.batch_size)
                    new = [(seq, ev) for seq, ev in rows if indexable(ev)]
                    if new:
                        mem.add(new, self._embed([ev.text for _, ev in new]))
                    progressed = scanned > mem.cursor
                    mem.cursor = max(mem.cursor, scanned)
                    if len(rows) < self.batch_size or not progressed:
                        break
                self._memory.put(r, mem)
                key = (r, text, n, _frozen(persona), _frozen(kind))
                scored = self._scored.get(key)
                if scored is not None and mem.unchanged_since(scored[0], persona=persona,
                                                              kind=kind):
                    self._scored.move_to_end(key)
                    found.extend(scored[1])
                    continue
                hits: list[SearchHit] = []
                if len(mem):
                    if query is None:
                        query = self._embed([text])[0]
                    hits = mem.search(query, n, persona=persona, kind=kind)
                found.extend(hits)
                self._scored[key] = (mem.stamp(), hits)
                self._scored.move_to_end(key)
                while len(self._scored) > _SCORED:
                    self._scored.popitem(last=False)
            self._memory.trim()
        return merge_hits(found, n=n)

    def _embed(self, texts: list[str]) -> Sequence[Any]:
        assert self._embedding is not None
        try:
            return self._embedding(texts)
        except Exception as exc:
            raise VectorIndexError(f"cannot embed for the vector index: {exc}") from exc

    def _read_tail(self, index: VectorIndex) -> MemoryVectors | None:
        """The semantic events logged past the index position, with their vectors (read from
        the log since the last search and embedded once). None: the index cannot embed, so it
        has been caught up instead."""
        if self._tail is None:
            from mapek.knowledge._exact import MemoryVectors  # numpy, first search only

            self._tail = MemoryVectors(index.position())
        tail = self._tail
        caught_up = False
        while True:
            position = index.position()
            if position < tail.base:  # the index was rebuilt: start again
                tail.reset(position)
            tail.advance(position)
            rows, scanned = self.log.scan(tail.cursor, kinds=SEMANTIC_KINDS,
                                          limit=self.batch_size)
            if not caught_up and len(tail) + len(rows) >= self.batch_size:
                self.flush()  # far behind (another process had the index, say): index it now
                caught_up = True
                continue
            new = [(pos, ev) for pos, ev in rows if indexable(ev)]
            if new:
                try:
                    vectors = index.embed([ev.text for _, ev in new])
                except NotImplementedError:
                    self.flush()
                    return None
                tail.add(new, vectors)
            progressed = scanned > tail.cursor
            tail.cursor = max(tail.cursor, scanned)
            if len(rows) < self.batch_size or not progressed:
                return tail

    def reindex(self, run_id: str | None = None) -> int:
        """Rebuild from the log alone: one run's entries, or (``None``) the whole index."""
        with self.using_index() as index:
            index.delete(run_id)
            if run_id is None:
                return self._catch_up(blocking=True)
            added, cursor = 0, 0
            while True:
                rows, scanned = self.log.scan(cursor, run_id=run_id, kinds=SEMANTIC_KINDS,
                                              limit=self.batch_size)
                batch = [ev for _, ev in rows if indexable(ev)]
                index.upsert(batch)
                added += len(batch)
                if len(rows) < self.batch_size:
                    return added
                cursor = scanned

    def rebuild(self, discard: Callable[[], None]) -> int:
        """Rebuild the whole index from nothing: ``discard`` sets the broken index aside (it is
        called with this projector's index closed and the index lock held, so no other process
        has the index open), then every semantic event of the log is indexed again."""
        with self._work:
            try:
                self._release(idle_only=False)
            except VectorIndexError as exc:  # a broken index may not even close cleanly
                logger.warning("the broken vector index did not close cleanly: %s", exc)
            self._index, self._tail = None, None
            lock = self._lock
            if lock is not None and not lock.acquire(self.lock_timeout):
                raise VectorIndexError(
                    f"the embedded vector index is in use by another process (pid "
                    f"{lock.holder() or '?'}); stop it, then reindex again")
            try:
                discard()
            finally:
                if lock is not None:
                    lock.release()
            return self.reindex(None)

    def close(self) -> None:
        """Stop the background thread (without flushing), close the index, let go of the lock."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._release(idle_only=False)


_SCORED = 128
"""Most in-memory searches whose hits are kept (the least recently asked go first)."""


def _frozen(f: Filter) -> Any:
    return f if f is None or isinstance(f, str) else tuple(f)


def _values(f: Filter) -> list[str] | None:
    return None if f is None else [f] if isinstance(f, str) else list(f)
