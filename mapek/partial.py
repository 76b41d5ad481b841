"""Turns being spoken: the text a persona's model has streamed so far, for front ends to show.

The run's log holds what happened, once; a turn is in it when its ``message`` event is
committed, and that event stays the truth. While the model is still answering, the worker keeps
what the persona has said so far in a small file beside the log,
``runs/<run>/partial/<persona>.json`` (:class:`PartialWriter`: rewritten whole, atomically, at
most every ``every`` seconds), and removes it once the turn's message is committed or the turn
failed. Front ends read the folder as they poll the log (:func:`read_partials`).

A partial is only ever shown as in progress, never as a message: it names the turn's event key
(a front end drops a partial whose message it has read) and the worker's pid (a dead worker's
partials are skipped), and a worker clears the folder when it starts (:func:`clear_partials`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PARTIAL_DIR", "Partial", "PartialWriter", "read_partials", "clear_partials",
           "partial_path"]

PARTIAL_DIR = "partial"
"""The folder of a run's directory that holds the turns in progress."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Partial:
    """One persona's turn in progress, as the worker last wrote it."""

    persona: str
    key: str
    """The event key the turn's ``message`` will have (``turn:<round>:<persona>``)."""
    text: str
    """What the persona has said so far (the ``text`` of its answer)."""
    pid: int
    """The worker writing it."""
    updated: float
    """``time.time()`` of the write."""


def partial_path(run_dir: Path, persona: str) -> Path:
    """The file of ``persona``'s turn in progress."""
    return run_dir / PARTIAL_DIR / f"{_UNSAFE.sub('_', persona) or '_'}.json"


class PartialWriter:
    """The worker's side: keeps one persona's turn in progress in its file.

    ``update(text)`` with the text so far (the first call writes at once, later ones at most
    every ``every`` seconds; the same text again, as :class:`mapek.llm.stream.FieldStream`
    sends it when the field is complete, writes what was held back; ``""`` removes the file:
    the text starts over), ``clear()`` when the turn is committed or given up. A write that
    fails is skipped: the partial text is a courtesy to the reader, the log is the record.
    """

    def __init__(self, run_dir: Path, persona: str, key: str, *, every: float = 0.05) -> None:
        self.path = partial_path(run_dir, persona)
        self.persona, self.key, self.every = persona, key, every
        self._written_at = 0.0
        self._pending: str | None = None
        self.writes = 0
        """Files written so far (tests read it)."""

    def update(self, text: str) -> None:
        if not text:
            self._pending, self._written_at = None, 0.0  # its new start is written at once
            self._remove()
            return
        if text == self._pending:  # complete: no more is coming for a while
            self.flush()
            return
        now = time.monotonic()
        if self.writes and now - self._written_at < self.every:
            self._pending = text
            return
        self._write(text)
        self._written_at = now

    def flush(self) -> None:
        """Write the text held back by the interval, if any."""
        if self._pending is not None:
            self._write(self._pending)
            self._written_at = time.monotonic()

    def clear(self) -> None:
        self._pending = None
        if self.writes:  # nothing written, nothing to remove (a stale file: clear_partials)
            self._remove()

    def _write(self, text: str) -> None:
        self._pending = None
        data = json.dumps({"persona": self.persona, "key": self.key, "text": text,
                           "pid": os.getpid(), "updated": time.time()}, ensure_ascii=False)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(data)
            os.replace(tmp, self.path)
            self.writes += 1
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return False
    return True


def read_partials(run_dir: Path) -> list[Partial]:
    """The turns in progress in ``run_dir``, by persona: only those of a live worker, never a
    file half written or not understood. A front end also drops those whose message it has
    read (the worker removes the file right after committing it)."""
    folder = run_dir / PARTIAL_DIR
    try:
        names = sorted(p for p in os.listdir(folder) if p.endswith(".json"))
    except OSError:
        return []
    out = []
    for name in names:
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
            p = Partial(persona=str(data["persona"]), key=str(data["key"]),
                        text=str(data["text"]), pid=int(data["pid"]),
                        updated=float(data["updated"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if p.text and _alive(p.pid):
            out.append(p)
    return out


def clear_partials(run_dir: Path) -> int:
    """Remove every turn in progress of the run (a worker starting: the last one's are
    stale); how many there were."""
    folder = run_dir / PARTIAL_DIR
    n = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        with contextlib.suppress(OSError):
            (folder / name).unlink()
            n += name.endswith(".json")
    return n
