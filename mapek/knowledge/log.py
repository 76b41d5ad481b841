"""The event log interface: append-only, hash-chained, readable and followable by many processes.

``EventLog`` is the plug-in point for log backends (SQLite today, PostgreSQL later). A backend
implements seven primitives; appending one event, reading lists, fetching one event and following
the log are built on them here, the same for every backend.

Cursors: within one run an event is addressed by its ``seq`` (1, 2, 3, ...). Across all runs it
is addressed by its *log position*, a number that grows with every committed event and is never
reused, so a reader that remembers the last position it saw can resume without gaps.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType

from mapek.knowledge.anchor import AnchorBook
from mapek.knowledge.verify import VerifyReport
from mapek.models import Event, EventDraft

__all__ = ["EventLog", "Follow", "RunInfo", "Waiter"]


@dataclass(frozen=True)
class RunInfo:
    """One run as the log sees it."""

    run_id: str
    events: int
    """Number of events (the run's last ``seq``)."""
    first_ts: float
    """Time of its first event (seconds since the epoch)."""
    last_ts: float
    """Time of its last event."""


class Waiter:
    """How a follower waits for new events once it has caught up: by sleeping. A backend that
    is told of commits (PostgreSQL's ``LISTEN``) returns one that wakes up early instead."""

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds``; whether the log may have grown meanwhile (a sleeper cannot
        tell, so always True: the follower reads the log again)."""
        time.sleep(seconds)
        return True

    def close(self) -> None:
        """Release what waiting holds (nothing for a sleeper). Idempotent."""


class EventLog(ABC):
    """An append-only, hash-chained event log shared by the worker, watchdog and front ends."""

    @abstractmethod
    def append_many(self, drafts: Iterable[EventDraft], *,
                    anchor_each: bool = False) -> list[Event]:
        """Append drafts in one transaction: each gets the next ``seq`` of its run, a time and
        its link in the hash chain. All are committed, or none. With anchors, a transaction
        anchors each run's new head; ``anchor_each``: every new event (a persona turn's model
        call and message, so that a later edit is named to the event, as when each was its own
        transaction)."""

    @abstractmethod
    def scan(
        self,
        after: int = 0,
        *,
        run_id: str | None = None,
        kinds: Collection[str] | None = None,
        limit: int = 500,
    ) -> tuple[list[tuple[int, Event]], int]:
        """Read up to ``limit`` committed events past a cursor, oldest first.

        With ``run_id`` the cursor is a ``seq`` in that run; without it, a log position. Returns
        ``(cursor, event)`` pairs and the cursor up to which the log has been read, which may be
        past the last pair when ``kinds`` filtered events out. Never blocks.
        """

    @abstractmethod
    def find(self, run_id: str, key: str) -> Event | None:
        """The event of a run recorded with idempotency ``key``, or None."""

    @abstractmethod
    def runs(self) -> list[RunInfo]:
        """Every run in the log, oldest first."""

    @abstractmethod
    def last_seq(self, run_id: str) -> int:
        """The ``seq`` of the run's last event; 0 for a run with no events."""

    @abstractmethod
    def verify(self, run_id: str | None = None, *, raise_on_error: bool = False) -> VerifyReport:
        """Re-check the hash chain of one run (or all) and name the first bad event of each.

        With ``raise_on_error`` a broken chain raises :class:`~mapek.errors.LogIntegrityError`.
        """

    @abstractmethod
    def close(self) -> None:
        """Release the connection. Idempotent."""

    # -- built on the primitives ---------------------------------------------------------------

    def append(self, draft: EventDraft) -> Event:
        """Append one event and return it as committed."""
        return self.append_many((draft,))[0]

    def events(
        self,
        run_id: str | None = None,
        after: int = 0,
        kinds: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """Committed events of a run after ``seq`` (or of all runs after a log position)."""
        out: list[Event] = []
        cursor = after
        while limit is None or len(out) < limit:
            want = 1000 if limit is None else min(1000, limit - len(out))
            rows, scanned = self.scan(cursor, run_id=run_id, kinds=kinds, limit=want)
            out.extend(ev for _, ev in rows)
            if len(rows) < want or scanned == cursor:
                break
            cursor = scanned
        return out

    def read_since(
        self,
        after: int,
        run_id: str | None = None,
        kinds: Collection[str] | None = None,
    ) -> tuple[list[Event], int]:
        """Committed events after ``after`` (a run's seq, or a log position without
        ``run_id``), and how far the log was read, matching events or not: a reader that keeps
        the second and passes it back next time reads only what was appended since, rather than
        starting again at its last match (with no match yet, the start of the log)."""
        out: list[Event] = []
        cursor = after
        while True:
            rows, scanned = self.scan(cursor, run_id=run_id, kinds=kinds, limit=1000)
            out.extend(ev for _, ev in rows)
            done = len(rows) < 1000 or scanned <= cursor
            cursor = max(cursor, scanned)
            if done:
                return out, cursor

    def semantic_seqs(
        self,
        run_id: str,
        *,
        kinds: Collection[str] | None = None,
        actors: Collection[str] | None = None,
        upto: int | None = None,
    ) -> list[int] | None:
        """The ``seq`` of each event of a run that has a vector index entry (a semantic kind and
        a ``payload["text"]`` string with more than blanks), optionally of these kinds and
        actors only, committed at or before log position ``upto``. Lets a search with a run
        filter look among the right entries only. None: this backend cannot say (the default).
        """
        return None

    def links(self, run_id: str) -> list[tuple[int, str, str]]:
        """Each event of a run as stored, in ``seq`` order: ``(seq, prev_hash, hash)``, without
        its content (a cheap look at the chain; :meth:`verify` re-hashes the content)."""
        return [(ev.seq, ev.prev_hash, ev.hash) for ev in self.events(run_id)]

    @property
    def anchor_book(self) -> AnchorBook | None:
        """What the log's anchor file says now (:mod:`mapek.knowledge.anchor`); None when this
        log keeps no anchors (the default)."""
        return None

    def get(self, run_id: str, seq: int) -> Event | None:
        """The event ``seq`` of a run, or None if there is none."""
        if seq < 1:
            return None
        rows, _ = self.scan(seq - 1, run_id=run_id, limit=1)
        return rows[0][1] if rows and rows[0][1].seq == seq else None

    def follow(
        self,
        run_id: str | None = None,
        after: int = 0,
        *,
        kinds: Collection[str] | None = None,
        poll: float = 0.05,
        timeout: float | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Follow:
        """Iterate over events after ``after`` and wait for new ones as they are committed.

        ``after`` is a ``seq`` when ``run_id`` is given, else a log position (0: from the start).
        Iteration ends when ``stop()`` returns true (checked whenever the reader has caught up,
        at least every ``poll`` seconds) or after ``timeout`` seconds without a new event; by
        default it never ends. Once caught up, the follower waits with :meth:`waiter`: it reads
        the log every ``poll`` seconds, or only when told of a commit where the backend can be.
        The returned :class:`Follow` exposes ``position``, the cursor to resume from; ``close()``
        it (or use it in a ``with``) when leaving it before its end.
        """
        return Follow(self, run_id, after, kinds=kinds, poll=poll, timeout=timeout, stop=stop)

    def waiter(self, run_id: str | None = None) -> Waiter:
        """What a follower of ``run_id`` (None: of every run) waits with; by default it sleeps
        and reads again (polling)."""
        return Waiter()

    def __enter__(self) -> EventLog:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Follow(Iterator[Event]):
    """A live iterator over a log; see :meth:`EventLog.follow`."""

    def __init__(
        self,
        log: EventLog,
        run_id: str | None,
        after: int,
        *,
        kinds: Collection[str] | None = None,
        poll: float = 0.05,
        timeout: float | None = None,
        stop: Callable[[], bool] | None = None,
        batch: int = 500,
    ):
        self.log, self.run_id, self.kinds = log, run_id, kinds
        self.position = after
        """Cursor of the last event handed out (or scanned past): pass it as ``after`` to resume."""
        self._poll, self._timeout, self._stop, self._batch = poll, timeout, stop, batch
        self._buffer: deque[tuple[int, Event]] = deque()
        self._scanned = after
        self._idle_since = time.monotonic()
        self._waiter: Waiter | None = None
        self._changed = True
        self._done = False

    def __next__(self) -> Event:
        while not self._buffer:
            if self._done or (self._stop is not None and self._stop()):
                self._release()
                raise StopIteration
            if self._waiter is None:  # before the first read: no commit goes unnoticed
                self._waiter = self.log.waiter(self.run_id)
            if self._changed:
                rows, scanned = self.log.scan(
                    self._scanned, run_id=self.run_id, kinds=self.kinds, limit=self._batch
                )
                self._scanned = max(self._scanned, scanned)
                if rows:
                    self._buffer.extend(rows)
                    self._idle_since = time.monotonic()
                    break
                self.position = self._scanned
            idle = time.monotonic() - self._idle_since
            if self._timeout is not None and idle >= self._timeout:
                self._release()
                raise StopIteration
            wait = self._poll if self._timeout is None else min(self._poll, self._timeout - idle)
            self._changed = self._waiter.wait(max(wait, 0.0))
        cursor, event = self._buffer.popleft()
        self.position = cursor
        return event

    def close(self) -> None:
        """Stop following: the iterator ends and what waiting holds is released. Idempotent."""
        self._done = True
        self._buffer.clear()
        self._release()

    def _release(self) -> None:
        waiter, self._waiter = self._waiter, None
        self._changed = True  # a new waiter may have missed commits: read before waiting
        if waiter is not None:
            waiter.close()

    def __enter__(self) -> Follow:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        waiter = getattr(self, "_waiter", None)
        if waiter is not None:
            try:
                waiter.close()
            except Exception:  # noqa: BLE001 - at interpreter shutdown, say: nothing to do
                pass
