"""Workspace files are private to their owner: folders 0700, files 0600.

A workspace holds the event log, checkpoints, anchors, keys, syntheses and worker logs: what
the personas said, what the person answered, and the keys that make the log tamper-evident.
Every folder mapek makes in it is created 0700 (:func:`private_dir`), every file 0600
(:func:`private_file`, :func:`open_private`, :func:`write_private`); SQLite gives a database's
``-wal`` and ``-shm`` files the database file's mode, so creating the database file 0600 first
covers them. mapek's own processes (the ``mapek`` command, the worker, the watchdog) also run
with the umask 077 (:func:`use_private_umask`), so that what libraries create inside the
workspace (Chroma's segment files) is private too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

__all__ = ["PRIVATE_UMASK", "private_dir", "private_file", "open_private", "write_private",
           "use_private_umask"]

PRIVATE_UMASK = 0o077


def use_private_umask() -> int:
    """Make this process create files 0600 and folders 0700 (the umask 077); returns the
    previous umask. For mapek's own processes only: a library must not change its host's."""
    return os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """``path`` as a folder, created 0700 (with its missing parents) if it is not there."""
    if path.is_dir():
        return path
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for d in missing:
        try:
            d.chmod(0o700)
        except OSError:  # made by another process meanwhile; its mode is its own
            pass
    return path


def private_file(path: Path) -> Path:
    """``path`` as an empty file created 0600 if it is not there (an existing one is left as
    it is): SQLite then opens it, and gives its ``-wal`` and ``-shm`` files its mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    os.close(fd)
    return path


def open_private(path: Path, mode: str = "ab") -> IO[Any]:
    """``open(path, mode)`` (``w``, ``a``, with ``b`` or not), a new file created 0600."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    encoding = None if "b" in mode else "utf-8"
    return open(fd, mode, encoding=encoding)  # noqa: SIM115 - the caller closes it


def write_private(path: Path, text: str) -> None:
    """``path.write_text(text)`` with a new file created 0600."""
    with open_private(path, "w") as f:
        f.write(text)
