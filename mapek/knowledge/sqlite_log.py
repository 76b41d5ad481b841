"""The event log in one SQLite file (WAL mode), shared safely by several processes.

Appends run in ``BEGIN IMMEDIATE`` transactions: the writer takes SQLite's write lock first,
then reads the run's head (last ``seq`` and hash) inside the transaction, so two processes
appending to one run serialise and can never fork the chain. For a run whose rows this process
holds (a ``_Tail``), the head and the idempotency keys come from those rows, checked inside the
transaction with one ``PRAGMA data_version``: if another connection has committed since, the
rows past the tail's end are read first. Readers never block writers (WAL).
Triggers refuse ``UPDATE`` and ``DELETE`` on events, so code cannot rewrite history by mistake;
deliberate edits to the file are caught by :meth:`SQLiteEventLog.verify`, and, when the log is
opened with its workspace's :class:`~mapek.knowledge.anchor.Anchors` (as :func:`open_log` does),
so are edits whose chain was recomputed: after every commit the writer anchors the runs' new
heads in a keyed file outside the database (see :mod:`mapek.knowledge.anchor`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
import threading
import time
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

from mapek.errors import StorageError, WorkspaceError
from mapek.knowledge._sqlite_schema import COLS as _COLS
from mapek.knowledge._sqlite_schema import INSERT as _INSERT
from mapek.knowledge._sqlite_schema import SCHEMA_NAME, SCHEMA_VERSION, connect
from mapek.knowledge.anchor import AnchorBook, Anchors
from mapek.knowledge.log import EventLog, RunInfo
from mapek.knowledge.verify import (
    AnchorStatus,
    RunStatus,
    VerifyReport,
    check_run,
    runs_to_verify,
)
from mapek.models import GENESIS_HASH, SEMANTIC_KINDS, Event, EventDraft

__all__ = ["SCHEMA_NAME", "SCHEMA_VERSION", "SQLiteEventLog"]

_ENCODE = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
).encode
"""``canonical_json`` without building an encoder per call (the same parameters, so the same
text; a test holds them equal)."""
_FIELDS = frozenset(Event.model_fields)


def _make_event(fields: dict[str, Any]) -> Event:
    """An ``Event`` from trusted fields, without validation: what ``model_construct`` does, in a
    third of its time (the append hot path builds one per event)."""
    ev = Event.__new__(Event)
    object.__setattr__(ev, "__dict__", fields)
    object.__setattr__(ev, "__pydantic_fields_set__", set(_FIELDS))
    object.__setattr__(ev, "__pydantic_extra__", None)
    object.__setattr__(ev, "__pydantic_private__", None)
    return ev


def _chained(d: EventDraft, head: tuple[int, str]) -> tuple[Event, tuple[Any, ...]]:
    """The next link of a run's hash chain after ``head`` (its last seq and hash): the event,
    and the row both backends store (run_id, seq, ts, kind, actor, parent, payload JSON, key,
    prev_hash, hash). One routine, so SQLite and PostgreSQL chain alike."""
    seq = head[0] + 1
    if d.parent is not None and not 1 <= d.parent < seq:
        raise ValueError(f"parent #{d.parent} is not an earlier event of run "
                         f"{d.run_id} (this event is #{seq})")
    payload_json = _ENCODE(d.payload)
    fields = {
        "run_id": d.run_id, "kind": d.kind, "actor": d.actor, "parent": d.parent,
        "payload": json.loads(payload_json), "key": d.key, "seq": seq, "ts": time.time(),
        "prev_hash": head[1], "hash": "",
    }
    ev = _make_event(fields)
    # fields is the event's __dict__: setting the hash here completes the event
    fields["hash"] = digest = hashlib.sha256(_ENCODE(ev.body()).encode()).hexdigest()
    return ev, (d.run_id, seq, fields["ts"], d.kind, d.actor, d.parent, payload_json, d.key,
                head[1], digest)


def _event(row: tuple) -> Event:  # type: ignore[type-arg]
    _, run_id, seq, ts, kind, actor, parent, payload, key, prev_hash, digest = row
    return _make_event({
        "run_id": run_id, "kind": kind, "actor": actor, "parent": parent,
        "payload": json.loads(payload), "key": key, "seq": seq, "ts": ts,
        "prev_hash": prev_hash, "hash": digest,
    })


def _marks(values: Collection[object]) -> str:
    return ",".join("?" * len(values))


def _decoded(rows: Iterable[tuple]) -> Iterator[Event | str]:  # type: ignore[type-arg]
    for row in rows:
        try:
            yield _event(row)
        except (ValueError, TypeError):
            yield f"edited: event #{row[2]} has a payload that is not JSON"


_TAIL_MAX = 5_000
"""Most events of one run kept in a :class:`_Tail` (a longer run is read from the file)."""
_TAILS = 16
"""Most runs with a tail per log (the least recently appended to go first)."""


class _Tail:
    """The rows of one run this process appends to, in ``seq`` order from 1, as the file holds
    them (decoded on each read, as a read from the file would be), and its events by key.

    It answers reads of the run without a query while nobody else has written to the
    database: SQLite's ``PRAGMA data_version`` changes when another connection commits, and
    ``version`` is the value at which the tail was last known complete. When it has changed,
    the rows past the tail's end are read (only those: the log is append-only) and the tail is
    complete again. This process's own appends extend it when they follow its end; one that
    does not (another writer appended to the run in between) leaves it to that read."""

    __slots__ = ("rows", "keys", "version")

    def __init__(self, rows: list[tuple[Any, ...]], version: int | None) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.keys: dict[str, int] = {}
        self.version = version
        self.extend(rows)

    @property
    def end(self) -> int:
        """The seq of the last row held (0: none)."""
        return len(self.rows)

    def extend(self, rows: Iterable[tuple[Any, ...]]) -> None:
        for r in rows:
            if r[2] != len(self.rows) + 1:  # not the next seq: held already, or a gap
                if r[2] <= len(self.rows):
                    continue
                self.version = None
                return
            self.rows.append(r)
            if r[8] is not None:
                self.keys[r[8]] = r[2]


class SQLiteEventLog(EventLog):
    """The event log in a SQLite file; one instance per process, safe to share between threads.

    Reads of a run this instance appends to (:meth:`scan` by run, :meth:`find`,
    :meth:`last_seq`) are answered from a :class:`_Tail` of the run's rows kept in memory,
    checked against the file with one ``PRAGMA data_version`` per read: what another process
    appended is read from the file (past the tail's end only) before the answer.

    ``anchors``: the workspace folder (or an :class:`Anchors`) whose ``anchor.key`` and
    ``anchors.jsonl`` anchor every append and are checked by :meth:`verify`; None (the default
    for a bare file) anchors nothing and checks the chain alone.
    """

    def __init__(self, path: Path | str, *, create: bool = True, busy_timeout: float = 30.0,
                 anchors: Anchors | Path | str | None = None):
        self.path = Path(path)
        self._lock = threading.RLock()
        self._closed = False
        self._conn = connect(self.path, create=create, busy_timeout=busy_timeout)
        self._tails: dict[str, _Tail] = {}
        """Runs this instance appends to (at most ``_TAILS``, the latest last)."""
        self.anchors = anchors if isinstance(anchors, Anchors | None) else Anchors(anchors)
        """The anchor file and key this log writes and checks, or None."""

    def _failed(self, exc: sqlite3.Error, doing: str) -> WorkspaceError | StorageError:
        """The error of ours that a sqlite3 error becomes."""
        if self._closed:
            return StorageError(f"the event log {self.path} is closed")
        if getattr(exc, "sqlite_errorname", "").startswith("SQLITE_READONLY"):
            return WorkspaceError(f"the event log {self.path} is read-only", path=str(self.path))
        return StorageError(f"cannot {doing} the event log {self.path}: {exc}")

    def _run(self, sql: str, args: tuple = ()) -> list[tuple]:  # type: ignore[type-arg]
        with self._lock:
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise self._failed(exc, "read") from exc

    def append_many(self, drafts: Iterable[EventDraft], *,
                    anchor_each: bool = False) -> list[Event]:
        drafts = list(drafts)
        if not drafts:
            return []
        with self._lock:
            conn = self._conn
            try:
                _leftover(conn)
                conn.execute("BEGIN IMMEDIATE")
                try:
                    tails = self._tails_for(conn, drafts)
                    each = anchor_each and self.anchors is not None
                    known = _heads(conn, drafts, tails) if each else {}
                    out, heads, rows = self._append_locked(conn, drafts, tails)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.rollback()
                    self._tails.clear()  # what was read or held inside may not be committed
                    raise
            except sqlite3.Error as exc:
                raise self._failed(exc, "append to") from exc
            for run, tail in tails.items():  # committed: the tails hold the new rows
                tail.extend(rows.get(run, ()))
            if self.anchors is not None:  # after the commit: an anchor names committed events
                self.anchors.write(heads if not anchor_each else [
                    (ev.run_id, (ev.seq, ev.hash)) for ev in out if ev.seq > known.get(
                        ev.run_id, 0)])
        return out

    @staticmethod
    def _append_locked(conn: sqlite3.Connection, drafts: list[EventDraft],
                       tails: dict[str, _Tail]
                       ) -> tuple[list[Event], dict[str, tuple[int, str]],
                                  dict[str, list[tuple[Any, ...]]]]:
        """Insert the drafts; return the events, each run's new head (runs whose drafts
        were all recorded before have none) and each run's inserted rows (as a read returns
        them, without their log position). A run in ``tails`` (complete inside this
        transaction: :meth:`_tails_for`) has its keys and head looked up there, not queried."""
        heads: dict[str, tuple[int, str]] = {}
        keyed: dict[tuple[str, str], Event] = {}
        out: list[Event] = []
        rows: dict[str, list[tuple[Any, ...]]] = {}
        for d in drafts:
            tail = tails.get(d.run_id)
            if d.key is not None:
                known = keyed.get((d.run_id, d.key))
                if known is None:
                    if tail is not None:
                        seq = tail.keys.get(d.key)
                        row = tail.rows[seq - 1] if seq is not None else None
                    else:
                        row = conn.execute(f"SELECT {_COLS} FROM events WHERE run_id = ? AND "
                                           "key = ?", (d.run_id, d.key)).fetchone()
                    known = _event(row) if row else None
                if known is not None:  # idempotent: this step was already recorded
                    out.append(known)
                    continue
            head = heads.get(d.run_id)
            if head is None:
                if tail is not None:
                    head = (tail.end, tail.rows[-1][10]) if tail.rows else (0, GENESIS_HASH)
                else:
                    head = conn.execute("SELECT last_seq, last_hash FROM heads WHERE run_id = ?",
                                        (d.run_id,)).fetchone() or (0, GENESIS_HASH)
            ev, row = _chained(d, head)
            conn.execute(_INSERT, row)
            rows.setdefault(d.run_id, []).append((None, *row))
            heads[d.run_id] = (ev.seq, ev.hash)
            if d.key is not None:
                keyed[(d.run_id, d.key)] = ev
            out.append(ev)
        return out, heads, rows

    def _tails_for(self, conn: sqlite3.Connection, drafts: list[EventDraft]
                   ) -> dict[str, _Tail]:
        """The tails of the drafted runs, complete as of this transaction (which holds the
        write lock, so they stay so until it ends): made for a run appended to for the first
        time here, if it is not too long to hold; brought up to date (the rows past its end)
        for one that another connection has written to since, as ``PRAGMA data_version`` says
        (one query for all the runs). A tail that cannot be made complete is dropped."""
        out: dict[str, _Tail] = {}
        version: int | None = None
        for run in dict.fromkeys(d.run_id for d in drafts):
            tail = self._tails.pop(run, None)
            if tail is not None:
                if version is None:
                    version = _version(conn)
                if tail.version != version:  # another connection committed: read past the end
                    tail.version = version
                    tail.extend(conn.execute(f"SELECT {_COLS} FROM events WHERE run_id = ? AND"
                                             " seq > ? ORDER BY seq", (run, tail.end)).fetchall())
                    if tail.version is None:  # cannot happen (seqs follow): query instead
                        continue
            else:
                row = conn.execute("SELECT last_seq FROM heads WHERE run_id = ?",
                                   (run,)).fetchone()
                if row is not None and int(row[0]) > _TAIL_MAX:
                    continue
                old = conn.execute(f"SELECT {_COLS} FROM events WHERE run_id = ? ORDER BY seq",
                                   (run,)).fetchall() if row is not None else []
                if version is None:
                    version = _version(conn)
                tail = _Tail(old, version)
            if tail.end > _TAIL_MAX:
                continue  # dropped: read from the file from now on
            self._tails[run] = out[run] = tail  # the latest last
            while len(self._tails) > _TAILS:
                del self._tails[next(iter(self._tails))]
        return out

    def _tail(self, run_id: str) -> _Tail | None:
        """The run's tail, complete as of now, or None (not held). Under the lock."""
        tail = self._tails.get(run_id)
        if tail is None:
            return None
        conn = self._conn
        _leftover(conn)  # an interrupted transaction's rows are not the file's
        version = _version(conn)
        if tail.version != version:  # someone else committed: read past the tail's end
            tail.version = version
            tail.extend(conn.execute(f"SELECT {_COLS} FROM events WHERE run_id = ? AND seq > ?"
                                     " ORDER BY seq", (run_id, tail.end)).fetchall())
            if tail.version is None:  # cannot happen (seqs follow): read from the file
                del self._tails[run_id]
                return None
        return tail

    def scan(
        self,
        after: int = 0,
        *,
        run_id: str | None = None,
        kinds: Collection[str] | None = None,
        limit: int = 500,
    ) -> tuple[list[tuple[int, Event]], int]:
        if run_id is not None:
            with self._lock:
                try:
                    tail = self._tail(run_id)
                    if tail is not None:
                        return _scan_tail(tail, after, kinds, limit)
                except sqlite3.Error as exc:
                    raise self._failed(exc, "read") from exc
        args: list[object] = [after]
        where = "position > ?"
        if run_id is not None:
            where, args = "run_id = ? AND seq > ?", [run_id, after]
        if kinds is not None:
            where += f" AND kind IN ({_marks(kinds)})"
            args.extend(kinds)
        order = "seq" if run_id is not None else "position"
        sql = f"SELECT {_COLS} FROM events WHERE {where} ORDER BY {order} LIMIT ?"
        top = ("SELECT last_seq FROM heads WHERE run_id = ?", (run_id,)) if run_id is not None \
            else ("SELECT max(position) FROM events", ())
        with self._lock:
            try:
                _leftover(self._conn)
                self._conn.execute("BEGIN")
                try:
                    rows = self._conn.execute(sql, (*args, limit)).fetchall()
                    end = self._conn.execute(*top).fetchone() if len(rows) < limit else None
                finally:
                    self._conn.execute("COMMIT")
                pairs = [(r[2] if run_id is not None else r[0], _event(r)) for r in rows]
            except sqlite3.Error as exc:
                raise self._failed(exc, "read") from exc
        scanned = pairs[-1][0] if pairs else after
        if end is not None and end[0] is not None:
            scanned = max(scanned, end[0])
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
        sql = (f"SELECT seq FROM events WHERE run_id = ? AND kind IN ({_marks(kinds)})"
               " AND json_type(payload, '$.text') = 'text'"
               " AND trim(json_extract(payload, '$.text'), ' ' || char(9, 10, 13)) != ''")
        args: list[object] = [run_id, *kinds]
        if actors is not None:
            sql += f" AND actor IN ({_marks(actors)})"
            args.extend(actors)
        if upto is not None:
            sql += " AND position <= ?"
            args.append(upto)
        try:
            return [r[0] for r in self._run(sql + " ORDER BY seq", tuple(args))]
        except StorageError as exc:  # a SQLite built without JSON functions: cannot say
            if "no such function" in str(exc.__cause__):
                return None
            raise

    def find(self, run_id: str, key: str) -> Event | None:
        with self._lock:
            try:
                tail = self._tail(run_id)
            except sqlite3.Error as exc:
                raise self._failed(exc, "read") from exc
            if tail is not None:
                seq = tail.keys.get(key)
                return _event(tail.rows[seq - 1]) if seq is not None else None
        rows = self._run(f"SELECT {_COLS} FROM events WHERE run_id = ? AND key = ?", (run_id, key))
        return _event(rows[0]) if rows else None

    def runs(self) -> list[RunInfo]:
        rows = self._run("SELECT run_id, last_seq, first_ts, last_ts FROM heads ORDER BY first_ts")
        return [RunInfo(*r) for r in rows]

    def last_seq(self, run_id: str) -> int:
        with self._lock:
            try:
                tail = self._tail(run_id)
            except sqlite3.Error as exc:
                raise self._failed(exc, "read") from exc
            if tail is not None:
                return tail.end
        rows = self._run("SELECT last_seq FROM heads WHERE run_id = ?", (run_id,))
        return int(rows[0][0]) if rows else 0

    def links(self, run_id: str) -> list[tuple[int, str, str]]:
        rows = self._run("SELECT seq, prev_hash, hash FROM events WHERE run_id = ? ORDER BY seq",
                         (run_id,))
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    @property
    def anchor_book(self) -> AnchorBook | None:
        with self._lock:
            return self.anchors.read() if self.anchors is not None else None

    def verify(self, run_id: str | None = None, *, raise_on_error: bool = False) -> VerifyReport:
        # The anchors first, then the log's snapshot: every anchor read names an event the
        # snapshot holds (an anchor is written after its commit).
        with self._lock:
            book = self.anchors.read() if self.anchors is not None else None
            conn = self._conn
            try:
                _leftover(conn)
                conn.execute("BEGIN")  # one snapshot: appends committed meanwhile are not seen
                try:
                    heads = {r[0]: (r[1], r[2]) for r in conn.execute(
                        "SELECT run_id, last_seq, last_hash FROM heads ORDER BY first_ts")}
                    ids = runs_to_verify(
                        run_id, heads, book.runs if book is not None else (),
                        has_events=lambda r: conn.execute(
                            "SELECT 1 FROM events WHERE run_id = ? LIMIT 1", (r,)).fetchone()
                        is not None,
                        logged=lambda: [r[0] for r in conn.execute(
                            "SELECT DISTINCT run_id FROM events")])
                    statuses: list[RunStatus] = []
                    for rid in ids:
                        cur = conn.execute(f"SELECT {_COLS} FROM events WHERE run_id = ?"
                                           " ORDER BY seq, position", (rid,))
                        anchored = None if book is None else book.runs.get(rid, {})
                        statuses.append(check_run(rid, _decoded(cur), heads.get(rid),
                                                  anchored=anchored))
                finally:
                    conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._failed(exc, "read") from exc
        report = VerifyReport(runs=tuple(statuses), anchors=_anchor_status(book))
        return report.raise_if_broken() if raise_on_error else report

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._tails.clear()
            self._conn.close()
            if self.anchors is not None:
                self.anchors.close()

    def __repr__(self) -> str:
        return f"SQLiteEventLog({str(self.path)!r})"


def _version(conn: sqlite3.Connection) -> int:
    """SQLite's ``data_version``: changes when another connection commits to the file."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def _scan_tail(tail: _Tail, after: int, kinds: Collection[str] | None, limit: int
               ) -> tuple[list[tuple[int, Event]], int]:
    """:meth:`SQLiteEventLog.scan` of a run, from its tail: the same pairs and cursor."""
    pairs: list[tuple[int, Event]] = []
    for r in itertools.islice(tail.rows, max(after, 0), None):
        if kinds is None or r[4] in kinds:
            pairs.append((r[2], _event(r)))
            if len(pairs) >= limit:
                return pairs, r[2]
    return pairs, max(pairs[-1][0] if pairs else after, tail.end)


def _leftover(conn: sqlite3.Connection) -> None:
    """Roll back a transaction an interrupt (Ctrl-C between BEGIN and COMMIT) left open on this
    connection: its writes never committed, so the log is as it was; without this, the next
    BEGIN fails with "cannot start a transaction within a transaction"."""
    if conn.in_transaction:
        conn.rollback()



def _anchor_status(book: AnchorBook | None) -> AnchorStatus | None:
    if book is None:
        return None
    return AnchorStatus(lines=book.lines, runs=len(book.runs), authenticated=book.authenticated,
                        problems=tuple(book.problems), more_problems=book.more_problems,
                        summary=book.summary())


def _heads(conn: sqlite3.Connection, drafts: list[EventDraft],
           tails: dict[str, _Tail]) -> dict[str, int]:
    """Each drafted run's last ``seq`` before the transaction's inserts (inside it; from its
    tail, complete in the transaction, when it has one)."""
    out: dict[str, int] = {}
    for run in {d.run_id for d in drafts}:
        tail = tails.get(run)
        if tail is not None:
            out[run] = tail.end
            continue
        row = conn.execute("SELECT last_seq FROM heads WHERE run_id = ?", (run,)).fetchone()
        out[run] = int(row[0]) if row else 0
    return out
