"""Secret key files: 32 random bytes as 64 hex digits, created once, mode 0600.

The evidence key of a run (:mod:`mapek.evidence`) and the workspace's anchor key
(:mod:`mapek.knowledge.anchor`) are such files, kept outside the log.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from pathlib import Path

__all__ = ["create_key_file", "read_key_file"]

_HEX64 = re.compile(r"[0-9a-f]{64}")


def create_key_file(path: Path) -> None:
    """Write a new key at ``path`` atomically (mode 0600) unless one exists; a process that
    loses the race keeps the winner's key."""
    from mapek.private import private_dir

    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_hex(32).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # atomic, and fails if another process made the key first
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def read_key_file(path: Path, what: str) -> bytes:
    """The key at ``path``; ValueError saying what is wrong (``what`` names the key): it cannot
    be read, is readable by group or others, or is not 64 hex digits."""
    try:
        mode = path.stat().st_mode
        text = path.read_bytes().decode("ascii").strip()  # no codec lookup: works anywhere
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {what} {path}: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ValueError(f"{what} {path} is readable by others (mode "
                         f"{stat.S_IMODE(mode):o}); it must be 600")
    if not _HEX64.fullmatch(text):
        raise ValueError(f"{what} {path} is not 64 hex digits")
    return bytes.fromhex(text)
