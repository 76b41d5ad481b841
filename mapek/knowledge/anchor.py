"""Anchors: keyed checkpoints of every run's chain head, kept outside the log's database.

The hash chain alone proves nothing to someone who can write the database: the scheme is public,
so an edited event can be re-hashed, the chain recomputed after it and the ``heads`` table set
to match. An anchor is a fact that such a person cannot recompute: after each append commits,
the writer adds one line per run it appended to, to ``<workspace>/anchors.jsonl``::

    {"head": HASH, "mac": HMAC, "prev": LINK, "run": RUN, "seq": N, "ts": TIME, "v": 1}

``mac`` is an HMAC-SHA256, under the workspace's ``anchor.key`` (32 random bytes, created on
first use, mode 0600, never in the database), of the line's other fields; ``prev`` is the
previous line's ``mac``, so the anchor file is itself a chain. ``kb verify`` (and the watchdog,
every few seconds) then checks each run against its anchors.

What it catches, for a person holding the database file but not the key: an event edited or a
human approval forged with the chain recomputed (the chain no longer matches an anchored head),
events deleted and the rest renumbered, the tail cut with ``heads`` rewritten (an anchored
``seq`` past the log's end), a whole run deleted (a run the anchors know and the log lacks).
In the anchor file: an edited, inserted or forged line (its MAC fails), a removed or reordered
one (the next line's ``prev`` breaks); a missing key is reported as such (the anchors are then
compared with the log as they stand, which proves nothing against someone who rewrote both).

What it does not catch: anyone who holds the key too (the workspace's owner, or a thief of
``anchor.key``) can rewrite the log and re-sign the anchors; someone who can write the anchor
file can cut its tail, and the newest events then show as *not anchored* (a warning: a process
killed between a commit and its anchor leaves the same trace); someone who can write the
workspace folder can delete both the key and the anchor file, and every run then shows as *not
anchored*, as runs written before anchoring began do. One log per workspace: the anchors of a
workspace are checked against whichever log it opens.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mapek._keyfile import create_key_file, read_key_file

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["ANCHOR_FILE", "ANCHOR_KEY", "AnchorBook", "Anchors", "anchor_key"]

ANCHOR_KEY = "anchor.key"
"""The key's file name in the workspace."""
ANCHOR_FILE = "anchors.jsonl"
"""The anchor file's name in the workspace."""
GENESIS_LINK = "0" * 64
"""The ``prev`` of the anchor file's first line."""

_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MAX_PROBLEMS = 20


class _KeyProblem(Exception):
    """The key file exists but cannot be used (said in words)."""


def anchor_key(folder: Path, *, create: bool) -> bytes | None:
    """The workspace's anchor key, created (atomically, mode 0600) when missing and ``create``.

    None when there is no key and ``create`` is false. A key readable by group or others, or
    not 64 hex digits, raises ``_KeyProblem``.
    """
    path = folder / ANCHOR_KEY
    if not path.exists():
        if not create:
            return None
        create_key_file(path)
    try:
        return read_key_file(path, "the anchor key")
    except ValueError as exc:
        raise _KeyProblem(str(exc)) from None


def _mac(key: bytes, body: Mapping[str, Any]) -> str:
    return hmac.new(key, _ENCODE(body).encode(), hashlib.sha256).hexdigest()


def _link(raw: bytes) -> str:
    """What the line after ``raw`` must carry as ``prev``: its ``mac``, or for a line that is
    not an anchor at all, the sha256 of its bytes (so the chain goes on past garbage)."""
    try:
        mac = json.loads(raw).get("mac")
    except (ValueError, AttributeError, UnicodeDecodeError):
        mac = None
    if isinstance(mac, str) and _HEX64.fullmatch(mac):
        return mac
    return hashlib.sha256(raw).hexdigest()


@dataclass
class AnchorBook:
    """What the anchor file says, as far as it can be trusted."""

    runs: dict[str, dict[int, str]] = field(default_factory=dict)
    """Per run, each anchored ``seq`` and the head hash it had then (lines whose MAC checks, or
    every well-formed line when the key is missing)."""
    lines: int = 0
    """Lines read."""
    problems: list[str] = field(default_factory=list)
    """What is wrong with the anchor file or key, one sentence each (the first few)."""
    more_problems: int = 0
    """Problems past the first few, counted only."""
    authenticated: bool = True
    """False when the key is missing or unusable: the anchors are taken as they stand."""

    def problem(self, text: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self.more_problems += 1

    def summary(self) -> str:
        """One line: how many anchors, and whether they can be trusted."""
        if not self.lines:
            return "no anchors yet"
        runs = f"{self.lines} anchor(s) for {len(self.runs)} run(s)"
        if self.problems:
            more = f" (and {self.more_problems} more)" if self.more_problems else ""
            return f"{runs}; " + "; ".join(self.problems) + more
        return f"{runs}, all signed with this workspace's key"


LOCK_WAIT = 30.0
"""Seconds a writer waits for another process's anchor write, as long as SQLite waits for its
write lock. A writer stopped while holding the lock (a front end writing in-process when
Ctrl-Z arrives) then costs the others an anchor line, not their appends."""


class Anchors:
    """The anchor file and key of one workspace: appends (``write``) and reads (``read``).

    One instance per open log; not thread-safe by itself (the log calls it under its lock).
    Processes serialise their appends with ``flock`` on the anchor file, waiting at most
    ``lock_wait`` seconds (:data:`LOCK_WAIT`) for it.
    """

    def __init__(self, folder: Path | str, *, lock_wait: float = LOCK_WAIT) -> None:
        self.folder = Path(folder)
        self.lock_wait = lock_wait
        self.path = self.folder / ANCHOR_FILE
        self.key_path = self.folder / ANCHOR_KEY
        self._key: bytes | None = None
        self._hmac: Any = None
        """An HMAC-SHA256 keyed with the key and fed nothing: copied for each line."""
        self._fd: int | None = None
        self._end = -1
        """Where this process's last line ended (the file's size right after it)."""
        self._prev = GENESIS_LINK
        self._warned = False
        # the reader's state: the bytes read so far are hashed, to notice an edit before them
        self._book = AnchorBook()
        self._offset = 0
        self._digest = hashlib.sha256()
        self._rprev = GENESIS_LINK
        self._rkey: bytes | None = None

    # -- writing ---------------------------------------------------------------------------

    def write(self, heads: Mapping[str, tuple[int, str]] | Iterable[tuple[str, tuple[int, str]]]
              ) -> None:
        """Anchor each run's new head (``{run: (seq, hash)}``; or ``(run, (seq, hash))`` pairs,
        several for a run, in chain order) in one write. A failure (no key
        can be had, a full disk) is said once on stderr and never fails the append: the events
        are committed, and the next anchor of the run covers them through the chain."""
        if not heads:
            return
        try:
            self._write(heads)
        except Exception as exc:  # noqa: BLE001 - the append has committed: never undo it
            if not self._warned:
                self._warned = True
                print(f"mapek: cannot anchor the event log in {self.path}: {exc}",
                      file=sys.stderr)

    def _open(self) -> int:
        if self._fd is None:
            if self._key is None:
                has_lines = self.path.exists() and self.path.stat().st_size > 0
                key = anchor_key(self.folder, create=not has_lines)
                if key is None:
                    raise _KeyProblem(f"the anchor key {self.key_path} is missing but "
                                      f"{self.path} has anchors; not making a new key")
                self._key = key
                self._hmac = hmac.new(key, digestmod=hashlib.sha256)
            self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        return self._fd

    def _write(self, heads: Mapping[str, tuple[int, str]] | Iterable[tuple[str, tuple[int, str]]]
               ) -> None:
        fd = self._open()
        base = self._hmac
        assert base is not None
        if fcntl is not None:
            self._lock(fd)
        try:
            size = os.fstat(fd).st_size
            prev, lead = (self._prev, b"") if size == self._end else self._tail(fd, size)
            now = round(time.time(), 6)
            lines = [lead]
            pairs = heads.items() if isinstance(heads, Mapping) else heads
            for run_id, (seq, head) in pairs:
                # the canonical JSON of the body (sorted keys; a test holds it equal to
                # _ENCODE's), written out by hand: this runs after every append
                body = (f'{{"head":"{head}","prev":"{prev}","run":{_ENCODE(run_id)},'
                        f'"seq":{int(seq)},"ts":{float(now)!r},"v":1}}').encode()
                mac = base.copy()
                mac.update(body)
                prev = mac.hexdigest()
                lines.append(body[:-1] + f',"mac":"{prev}"}}\n'.encode())
            data = b"".join(lines)
            os.write(fd, data)
            self._end, self._prev = size + len(data), prev
        finally:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _lock(self, fd: int) -> None:
        """``flock`` the anchor file, waiting at most :attr:`lock_wait` seconds; TimeoutError
        after that (:meth:`write` says so once and the append stands, unanchored: the run's
        next anchor covers it through the chain)."""
        assert fcntl is not None
        deadline, pause = time.monotonic() + self.lock_wait, 0.0005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"another process has held its lock for {self.lock_wait:g} s (stopped "
                        "while writing?); appends go on unanchored until it lets go") from None
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    @staticmethod
    def _tail(fd: int, size: int) -> tuple[str, bytes]:
        """The link to the file's last line, and a newline to write first if that line is
        unfinished (a torn write: it stays, as a line that is not an anchor)."""
        if size == 0:
            return GENESIS_LINK, b""
        chunk = 4096
        while True:
            start = max(0, size - chunk)
            data = os.pread(fd, size - start, start)
            body = data[:-1] if data.endswith(b"\n") else data
            cut = body.rfind(b"\n")
            if cut >= 0 or start == 0:
                last = body[cut + 1:]
                return _link(last), b"" if data.endswith(b"\n") else b"\n"
            chunk *= 4

    # -- reading ---------------------------------------------------------------------------

    def read(self) -> AnchorBook:
        """Everything the anchor file says now. Incremental: only lines added since the last
        read are parsed, unless the bytes read before changed or the key did (then all of it is
        read again)."""
        try:
            key = anchor_key(self.folder, create=False)
            key_problem = None if key is not None or not self._has_lines() else (
                f"the anchor key {self.key_path} is missing: the anchors cannot be "
                "authenticated (they were compared with the log as they stand, which proves "
                "nothing against someone who rewrote both)")
        except _KeyProblem as exc:
            key, key_problem = None, (f"{exc}: the anchors cannot be authenticated (they were "
                                      "compared with the log as they stand)")
        if key != self._rkey:
            self._reset()
            self._rkey = key
        try:
            with open(self.path, "rb") as f:
                if not self._same_prefix(f):
                    self._reset()
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            had = self._book.lines
            self._reset()
            if had or key is not None:
                self._book.problem(f"the anchor file {self.path} is missing although "
                                   f"{'it had anchors' if had else 'the anchor key exists'}")
            return self._finish(key_problem)
        end = data.rfind(b"\n") + 1  # an unfinished last line waits for the next read
        for raw in data[:end].split(b"\n")[:-1]:
            self._line(raw, key)
        self._digest.update(data[:end])
        self._offset += end
        self._book.authenticated = key is not None
        return self._finish(key_problem)

    def _has_lines(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except OSError:
            return False

    def _same_prefix(self, f: Any) -> bool:
        """Whether the bytes read before are still the file's first bytes."""
        if self._offset == 0:
            return True
        digest = hashlib.sha256()
        left = self._offset
        while left:
            block = f.read(min(left, 1 << 20))
            if not block:
                return False  # shorter than before: cut
            digest.update(block)
            left -= len(block)
        return digest.digest() == self._digest.digest()

    def _reset(self) -> None:
        self._book, self._offset, self._rprev = AnchorBook(), 0, GENESIS_LINK
        self._digest = hashlib.sha256()

    def _finish(self, key_problem: str | None) -> AnchorBook:
        """A copy of the book for the caller (the runs are shared, read-only by contract)."""
        book = self._book
        out = AnchorBook(runs=book.runs, lines=book.lines, problems=list(book.problems),
                         more_problems=book.more_problems, authenticated=book.authenticated)
        if key_problem is not None:
            out.problems.insert(0, key_problem)
        return out

    def _line(self, raw: bytes, key: bytes | None) -> None:
        book = self._book
        book.lines += 1
        n = book.lines
        link, self._rprev = self._rprev, _link(raw)
        try:
            item = json.loads(raw)
            body = {k: item[k] for k in ("v", "run", "seq", "head", "ts", "prev")}
            mac, run_id, seq, head = item["mac"], body["run"], body["seq"], body["head"]
            if not (isinstance(run_id, str) and isinstance(seq, int) and isinstance(mac, str)
                    and isinstance(head, str) and _HEX64.fullmatch(head)) or len(item) != 7:
                raise ValueError
        except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError):
            book.problem(f"line {n} of {self.path.name} is not an anchor (edited, or a torn "
                         "write)")
            return
        if key is not None and not hmac.compare_digest(mac, _mac(key, body)):
            book.problem(f"line {n} of {self.path.name} (run {run_id} #{seq}) does not carry "
                         "this workspace's signature: edited, forged, or signed with another "
                         "key; it is not used")
            return
        if body["prev"] != link:
            book.problem(f"line {n} of {self.path.name} (run {run_id} #{seq}) does not follow "
                         f"line {n - 1}: a line was removed, inserted or moved before it")
        book.runs.setdefault(run_id, {})[seq] = head

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
