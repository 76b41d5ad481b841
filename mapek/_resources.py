"""Where packaged data lives: inside the wheel (``mapek/_data``) or, in a checkout, the repo
root."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The packaged folder ``name`` (``personas`` or ``knowledge``)."""
    bundled = _PKG / "_data" / name
    if bundled.is_dir():
        return bundled
    return _PKG.parent / name
