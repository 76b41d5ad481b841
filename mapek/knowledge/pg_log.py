"""The event log in PostgreSQL (psycopg 3), shared by processes on many machines.

The same log as :class:`~mapek.knowledge.sqlite_log.SQLiteEventLog`, event for event: the same
hash chain (``Event.compute_hash`` over the canonical JSON, ``GENESIS_HASH`` first, ``seq`` per
run), the same idempotency keys (unique per run; a repeated append returns the recorded event),
the same refusal of ``UPDATE``/``DELETE`` (triggers), the same per-run heads and the same
verification. Tables and triggers: :mod:`mapek.knowledge._pg_schema`.

Concurrency: every append is a transaction that first takes an advisory lock per run it writes
to, so two processes appending to one run serialise and can never fork its chain, while
appends to other runs go on. Under the locks, the runs' heads (and idempotency keys) are read,
the events chained onto them and inserted. Log positions are drawn under a second lock held to
the commit, so they become visible in order and a follower resuming from a position misses
nothing. (The price: commits that wait for the disk, PostgreSQL's default, are one at a time;
see benchmarks/RESULTS.knowledge.md.) Readers never wait for writers.

Round trips: this process remembers each run's head as it last committed it; while no other
process has moved it, an append is one statement (``mapek_append``: the locks, a check of the
heads, the insert, the heads, the notifications). When the check fails, or a key turns out to
be recorded already, the append is made again the long way: BEGIN, the locks and the reads in
one round trip, then ``mapek_append`` and COMMIT.

Followers wait on ``LISTEN`` (:meth:`PostgresEventLog.waiter`) and read again as soon as a
commit of their run is announced, polling when that is not possible (a connection pooler in
transaction mode, say).

One instance per process, safe to share between threads (one connection, behind a lock). A
connection the server hung up on is opened again by the next call; a call that finds the
connection broken before writing anything tries once more on a new one.
"""

from __future__ import annotations

import json
import logging
import select
import threading
import time
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg.pq import ConnStatus, TransactionStatus

from mapek.errors import MapekError, StorageError
from mapek.knowledge._pg_schema import (
    APPEND_SQL,
    CHANNEL,
    RUN_LOCK_SQL,
    STALE,
    connect,
    is_postgres_url,
    open_connection,
    redact,
    run_lock,
)
from mapek.knowledge._pg_schema import COLS as _COLS
from mapek.knowledge.anchor import AnchorBook, Anchors
from mapek.knowledge.log import EventLog, RunInfo, Waiter
from mapek.knowledge.sqlite_log import _anchor_status, _chained, _decoded, _event
from mapek.knowledge.verify import RunStatus, VerifyReport, check_run, runs_to_verify
from mapek.models import GENESIS_HASH, SEMANTIC_KINDS, Event, EventDraft

__all__ = ["PostgresEventLog", "is_postgres_url"]

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

_DOC = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_RESCAN_EVERY = 5.0
"""A listening follower reads the log at least this often (seconds) even when told nothing."""


class PostgresEventLog(EventLog):
    """The event log in a PostgreSQL database; one instance per process, thread-safe."""

    def __init__(self, url: str, *, create: bool = True, connect_timeout: float = 10.0,
                 anchors: Anchors | Path | str | None = None):
        """Connect to ``url`` (``postgresql://user:password@host:port/database``, any libpq
        parameter in the query string) and check (with ``create``: make) the log's tables.
        Bad URLs, refused connections and databases that are not mapek logs each raise one
        clear error (:class:`~mapek.errors.ConfigError`, :class:`~mapek.errors.StorageError`
        or :class:`~mapek.errors.WorkspaceError`).

        ``anchors``: the workspace folder (or an :class:`Anchors`) whose ``anchor.key`` and
        ``anchors.jsonl`` anchor this process's appends and are checked by :meth:`verify`
        (:mod:`mapek.knowledge.anchor`); None anchors nothing. With processes on several
        machines, each machine's workspace anchors the appends made there: a run verified on
        one machine is anchored up to what that machine wrote (the rest is an unanchored
        tail, a note)."""
        self.url = url
        self.anchors = anchors if isinstance(anchors, Anchors | None) else Anchors(anchors)
        """The anchor file and key this log writes and checks, or None."""
        self._connect_timeout = connect_timeout
        self._lock = threading.RLock()
        self._closed = False
        self._writing = False
        self._heads: dict[str, tuple[int, str]] = {}
        """Each run's head as this process last committed it: an append that finds it still
        so takes one round trip instead of two."""
        self._conn: psycopg.Connection[Any] | None = connect(
            url, create=create, connect_timeout=connect_timeout)

    # -- the connection -------------------------------------------------------------------------

    def _connection(self) -> psycopg.Connection[Any]:
        """The open connection (opened again if the last one broke); caller holds the lock."""
        if self._closed:
            raise StorageError(f"the event log {redact(self.url)} is closed")
        conn = self._conn
        if conn is None or conn.closed or conn.broken or not _alive(conn):
            if conn is not None:
                conn.close()
            self._conn = None
            conn = self._conn = connect(self.url, create=False,
                                        connect_timeout=self._connect_timeout)
        elif conn.info.transaction_status != TransactionStatus.IDLE:
            # an interrupt (Ctrl-C between BEGIN and COMMIT) left a transaction open: it never
            # committed, so the log is as it was
            conn.rollback()
        return conn

    def _failed(self, exc: psycopg.Error, doing: str) -> StorageError:
        if self._closed:
            return StorageError(f"the event log {redact(self.url)} is closed")
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StorageError(f"cannot {doing} the event log {redact(self.url)}: {reason}")

    def _call(self, fn: Callable[[psycopg.Connection[Any]], _T], doing: str) -> _T:
        """``fn`` on the connection, under the lock; once more on a new connection if the
        connection broke before ``fn`` wrote anything (the server restarted, say)."""
        with self._lock:
            for attempt in (1, 2):
                conn: psycopg.Connection[Any] | None = None
                self._writing = False
                try:
                    conn = self._connection()
                    return fn(conn)
                except psycopg.Error as exc:
                    broken = conn is not None and conn.broken
                    if attempt == 1 and broken and not self._writing and not self._closed:
                        logger.warning("the connection to %s broke (%s): connecting again",
                                       redact(self.url), str(exc).strip())
                        continue
                    raise self._failed(exc, doing) from exc
                except BaseException:
                    if conn is not None and not conn.closed and not conn.broken:
                        try:  # a ValueError mid-append, an interrupt: undo it all
                            conn.rollback()
                        except psycopg.Error:
                            pass  # the next call rolls back or connects again
                    raise
            raise AssertionError("unreachable")  # pragma: no cover

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._call(lambda conn: conn.execute(sql, args).fetchall(), "read")

    # -- appending ------------------------------------------------------------------------------

    def append_many(self, drafts: Iterable[EventDraft], *,
                    anchor_each: bool = False) -> list[Event]:
        drafts = list(drafts)
        if not drafts:
            return []
        for d in drafts:
            if "\x00" in f"{d.run_id}{d.kind}{d.actor}{d.key or ''}":
                raise StorageError(f"cannot append to the event log {redact(self.url)}: "
                                   "PostgreSQL cannot store the NUL character (\\x00) in a run "
                                   f"id, kind, actor or key (event {d.kind!r} of run {d.run_id!r})")
        with self._lock:
            built = self._call(lambda conn: self._append_locked(conn, drafts), "append to")
            if self.anchors is not None:  # after the commit: an anchor names committed events
                self.anchors.write({run: built.heads[run] for run in built.first_ts}
                                   if not anchor_each else built.new)
        return built.out

    def _append_locked(self, conn: psycopg.Connection[Any], drafts: list[EventDraft]
                       ) -> _Built:
        runs = sorted({d.run_id for d in drafts}, key=run_lock)  # one order: no deadlock
        known = {run: self._heads[run] for run in runs if run in self._heads}
        if len(known) == len(runs):
            try:
                return self._append_expecting(conn, drafts, runs, known)
            except _Stale:
                pass
        for run in runs:
            self._heads.pop(run, None)
        return self._append_reading(conn, drafts, runs)

    def _append_expecting(self, conn: psycopg.Connection[Any], drafts: list[EventDraft],
                          runs: list[str], heads: dict[str, tuple[int, str]]) -> _Built:
        """One statement, its own transaction, on the runs' heads as this process last wrote
        them: ``mapek_append`` refuses it (:class:`_Stale`) if another process has moved a
        head since; a key already in the log fails the insert (:class:`_Stale` too)."""
        built = _Built(drafts, runs, heads, {})
        if not built.rows:
            return built
        self._writing = True  # from here a broken connection leaves the outcome unknown
        try:
            conn.execute(APPEND_SQL, built.params())
        except psycopg.Error as exc:
            if exc.sqlstate == STALE or isinstance(exc, psycopg.errors.UniqueViolation) and \
                    exc.diag.constraint_name == "mapek_events_key":
                self._writing = False  # nothing was written: the statement rolled back
                raise _Stale() from exc
            raise
        self._heads.update(built.heads)
        return built

    def _append_reading(self, conn: psycopg.Connection[Any], drafts: list[EventDraft],
                        runs: list[str]) -> _Built:
        """A transaction: BEGIN, the runs' locks and the reads that need them (heads and
        idempotency keys) in one round trip; then ``mapek_append`` and COMMIT."""
        wanted = {(d.run_id, d.key) for d in drafts if d.key is not None}
        # the reads come after the locks: every earlier append to these runs has committed
        sql = ["BEGIN", *[RUN_LOCK_SQL] * len(runs),
               "SELECT run_id, last_seq, last_hash FROM mapek_heads WHERE run_id = ANY(%s)"]
        args: list[Any] = [*map(run_lock, runs), runs]
        if wanted:
            sql.append(f"SELECT {_COLS} FROM mapek_events WHERE run_id = ANY(%s)"
                       " AND key = ANY(%s)")
            args += [sorted({r for r, _ in wanted}), sorted({k for _, k in wanted})]
        cur = psycopg.ClientCursor(conn)
        cur.execute("; ".join(sql), args)
        for _ in range(1 + len(runs)):
            cur.nextset()
        heads: dict[str, tuple[int, str]] = {r[0]: (int(r[1]), r[2]) for r in cur.fetchall()}
        keyed: dict[tuple[str, str], Event] = {}
        if wanted:
            cur.nextset()
            keyed = {(r[1], r[8]): _event(r) for r in cur.fetchall() if (r[1], r[8]) in wanted}
        built = _Built(drafts, runs, heads, keyed)
        if built.rows:
            self._writing = True  # from here a broken connection leaves the outcome unknown
            conn.execute(APPEND_SQL, built.params())
        conn.execute("COMMIT")
        self._heads.update(built.heads)
        return built

    # -- reading --------------------------------------------------------------------------------

    def scan(
        self,
        after: int = 0,
        *,
        run_id: str | None = None,
        kinds: Collection[str] | None = None,
        limit: int = 500,
    ) -> tuple[list[tuple[int, Event]], int]:
        args: list[object] = []
        if run_id is not None:
            top = "SELECT last_seq FROM mapek_heads WHERE run_id = %s"
            where, order = "run_id = %s AND seq > %s", "seq"
            args = [run_id, run_id, after]
        else:
            top = "SELECT max(position) FROM mapek_events"
            where, order = "position > %s", "position"
            args = [after]
        if kinds is not None:
            where += " AND kind = ANY(%s)"
            args.append(list(kinds))
        # one statement, so one snapshot: the top is the log as the page was read
        sql = (f"SELECT ({top}), p.* FROM (SELECT 1) AS one LEFT JOIN LATERAL ("
               f"SELECT {_COLS} FROM mapek_events WHERE {where} ORDER BY {order} LIMIT %s"
               f") AS p ON true ORDER BY p.{order}")
        rows = self._rows(sql, (*args, limit))
        end = rows[0][0] if rows else None
        pairs = [(r[3] if run_id is not None else r[1], _event(r[1:]))
                 for r in rows if r[1] is not None]
        scanned = pairs[-1][0] if pairs else after
        if len(pairs) < limit and end is not None:
            scanned = max(scanned, int(end))
        return pairs, scanned

    def semantic_seqs(
        self,
        run_id: str,
        *,
        kinds: Collection[str] | None = None,
        actors: Collection[str] | None = None,
        upto: int | None = None,
    ) -> list[int] | None:
        kinds = [k for k in (SEMANTIC_KINDS if kinds is None else kinds) if k in SEMANTIC_KINDS]
        sql = ("SELECT seq FROM mapek_events WHERE run_id = %s AND kind = ANY(%s)"
               " AND jsonb_typeof(payload::jsonb -> 'text') = 'string'"
               " AND btrim(payload::jsonb ->> 'text', E' \\t\\n\\r') <> ''")
        args: list[object] = [run_id, kinds]
        if actors is not None:
            sql += " AND actor = ANY(%s)"
            args.append(list(actors))
        if upto is not None:
            sql += " AND position <= %s"
            args.append(upto)
        try:
            return [int(r[0]) for r in self._rows(sql + " ORDER BY seq", tuple(args))]
        except StorageError as exc:  # a payload PostgreSQL's jsonb cannot hold (\u0000)
            if isinstance(exc.__cause__, psycopg.DataError):
                return None
            raise

    def links(self, run_id: str) -> list[tuple[int, str, str]]:
        """Each event of a run as stored, in ``seq`` order: ``(seq, prev_hash, hash)``, without
        its content (a cheap look at the chain; :meth:`verify` re-hashes the content)."""
        return [(int(r[0]), r[1], r[2]) for r in self._rows(
            "SELECT seq, prev_hash, hash FROM mapek_events WHERE run_id = %s ORDER BY seq",
            (run_id,))]

    def find(self, run_id: str, key: str) -> Event | None:
        rows = self._rows(f"SELECT {_COLS} FROM mapek_events WHERE run_id = %s AND key = %s",
                          (run_id, key))
        return _event(rows[0]) if rows else None

    def runs(self) -> list[RunInfo]:
        rows = self._rows("SELECT run_id, last_seq, first_ts, last_ts FROM mapek_heads"
                          " ORDER BY first_ts, run_id")
        return [RunInfo(r[0], int(r[1]), float(r[2]), float(r[3])) for r in rows]

    def last_seq(self, run_id: str) -> int:
        rows = self._rows("SELECT last_seq FROM mapek_heads WHERE run_id = %s", (run_id,))
        return int(rows[0][0]) if rows else 0

    def verify(self, run_id: str | None = None, *, raise_on_error: bool = False) -> VerifyReport:
        def check(conn: psycopg.Connection[Any], book: AnchorBook | None) -> list[RunStatus]:
            # one snapshot: appends committed meanwhile are not seen
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            statuses = self._verify_in(conn, run_id, book)
            conn.rollback()
            return statuses

        # The anchors first, then the log's snapshot: every anchor read names an event the
        # snapshot holds (an anchor is written after its commit).
        with self._lock:
            book = self.anchors.read() if self.anchors is not None else None
            statuses = self._call(lambda conn: check(conn, book), "read")
        report = VerifyReport(runs=tuple(statuses), anchors=_anchor_status(book))
        return report.raise_if_broken() if raise_on_error else report

    @staticmethod
    def _verify_in(conn: psycopg.Connection[Any], run_id: str | None, book: AnchorBook | None
                   ) -> list[RunStatus]:
        heads = {r[0]: (int(r[1]), r[2]) for r in conn.execute(
            "SELECT run_id, last_seq, last_hash FROM mapek_heads ORDER BY first_ts, run_id")}
        ids = runs_to_verify(
            run_id, heads, book.runs if book is not None else (),
            has_events=lambda r: conn.execute(
                "SELECT 1 FROM mapek_events WHERE run_id = %s LIMIT 1", (r,)).fetchone()
            is not None,
            logged=lambda: [r[0] for r in conn.execute(
                "SELECT DISTINCT run_id FROM mapek_events ORDER BY run_id")])
        statuses: list[RunStatus] = []
        for rid in ids:
            with conn.cursor(name="mapek_verify") as cur:  # server-side: a long run streams
                cur.itersize = 2000
                cur.execute(f"SELECT {_COLS} FROM mapek_events WHERE run_id = %s"
                            " ORDER BY seq, position", (rid,))
                anchored = None if book is None else book.runs.get(rid, {})
                statuses.append(check_run(rid, _decoded(cur), heads.get(rid),
                                          anchored=anchored))
        return statuses

    # -- following ------------------------------------------------------------------------------

    def waiter(self, run_id: str | None = None) -> Waiter:
        """A waiter that ``LISTEN``s for commits (of ``run_id``, or of any run) on its own
        connection; it polls instead if that connection cannot be had or breaks."""
        if self._closed:
            raise StorageError(f"the event log {redact(self.url)} is closed")
        return _Listener(self.url, run_id, self._connect_timeout)

    @property
    def anchor_book(self) -> AnchorBook | None:
        with self._lock:
            return self.anchors.read() if self.anchors is not None else None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()
            if self.anchors is not None:
                self.anchors.close()

    def __repr__(self) -> str:
        return f"PostgresEventLog({redact(self.url)!r})"


def _alive(conn: psycopg.Connection[Any]) -> bool:
    """False when the server has hung up on this idle connection (it restarted, or the backend
    was terminated): its farewell is waiting in the socket, seen without a round trip. An idle
    log connection is sent nothing else, so anything waiting there means it is not usable."""
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
        return not readable and conn.pgconn.status == ConnStatus.OK
    except (OSError, ValueError, psycopg.Error):
        return False


class _Stale(Exception):
    """A run's head was not as this process last wrote it (another process appended), or a
    key was already in the log: read them, then append."""


class _Built:
    """Drafts made into events on top of the runs' heads: the events to return, and the
    arguments of ``mapek_append`` that records them."""

    def __init__(self, drafts: list[EventDraft], runs: list[str],
                 heads: dict[str, tuple[int, str]], keyed: dict[tuple[str, str], Event]):
        self.runs = runs
        self.before = heads
        self.heads = dict(heads)
        keyed = dict(keyed)
        self.out: list[Event] = []
        self.new: list[tuple[str, tuple[int, str]]] = []
        """Each new event's ``(run, (seq, hash))``, in chain order."""
        self.rows: list[tuple[Any, ...]] = []  # one per new event
        self.first_ts: dict[str, float] = {}  # per run: time of its first new event
        self.last_ts: dict[str, float] = {}
        for d in drafts:
            if d.key is not None:
                known = keyed.get((d.run_id, d.key))
                if known is not None:  # idempotent: this step was already recorded
                    self.out.append(known)
                    continue
            head = self.heads.get(d.run_id, (0, GENESIS_HASH))
            ev, row = _chained(d, head)
            self.rows.append(row)
            self.heads[d.run_id] = (ev.seq, ev.hash)
            self.first_ts.setdefault(d.run_id, ev.ts)
            self.last_ts[d.run_id] = ev.ts
            if d.key is not None:
                keyed[(d.run_id, d.key)] = ev
            self.out.append(ev)
            self.new.append((ev.run_id, (ev.seq, ev.hash)))

    def params(self) -> tuple[str]:
        """``mapek_append``'s argument: lock keys, expected heads, events and new heads."""
        moved = [run for run in self.runs if run in self.first_ts]
        doc = {
            "locks": [run_lock(run) for run in self.runs],
            "expect": [(run, *self.before.get(run, (0, GENESIS_HASH))) for run in self.runs],
            "events": self.rows,
            "heads": [(run, *self.heads[run], self.first_ts[run], self.last_ts[run])
                      for run in moved],
        }
        return (_DOC(doc),)


class _Listener(Waiter):
    """Waits for ``NOTIFY mapek_events`` of one run (or any); a sleeper once it cannot."""

    def __init__(self, url: str, run_id: str | None, connect_timeout: float):
        self._run_id = run_id
        self._conn: psycopg.Connection[Any] | None = None
        self._last_read = time.monotonic()
        try:
            self._conn = open_connection(url, connect_timeout=connect_timeout)
            self._conn.execute(f"LISTEN {CHANNEL}")
        except (psycopg.Error, MapekError) as exc:
            logger.warning("following %s by polling: cannot LISTEN (%s)", redact(url), exc)
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def wait(self, seconds: float) -> bool:
        conn = self._conn
        if conn is None:
            return super().wait(seconds)
        now = time.monotonic()
        deadline = now + seconds
        if now - self._last_read >= _RESCAN_EVERY:  # belt and braces: read now and then
            self._last_read = now
            return True
        try:
            while True:
                left = deadline - time.monotonic()
                for note in conn.notifies(timeout=max(left, 0.0)):
                    if self._run_id is None or note.payload in ("", self._run_id):
                        self._last_read = time.monotonic()
                        return True
                    if time.monotonic() >= deadline:
                        break
                if time.monotonic() >= deadline:
                    return False
        except psycopg.Error as exc:
            logger.warning("following by polling from now on: the LISTEN connection broke (%s)",
                           exc)
            self._drop()
            return True

    def close(self) -> None:
        self._drop()

    def __del__(self) -> None:
        try:
            self._drop()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
