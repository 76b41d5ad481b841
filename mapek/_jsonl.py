"""Reading JSONL input files the same way everywhere: every problem names the file and line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mapek.errors import UserError
from mapek.inputs import NESTED, not_utf8

__all__ = ["read_objects"]

ErrorFactory = Callable[[str, int, int | None], Exception]
"""(message, line, column) -> the exception to raise."""


def _user_error(message: str, line: int, column: int | None) -> Exception:
    return UserError(message)


def read_objects(path: Path | str, error: ErrorFactory = _user_error
                 ) -> list[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every non-blank line; a line that is not a JSON object
    raises ``error`` naming ``path:line``. Nothing is returned unless the whole file is good."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: cannot read: {not_utf8(exc)}") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{path}:{n}: not valid JSON at line {n}, column {exc.colno}: "
                        f"{exc.msg}", n, exc.colno) from None
        except RecursionError:
            raise error(f"{path}:{n}: not valid JSON: {NESTED}", n, None) from None
        if not isinstance(rec, dict):
            raise error(f"{path}:{n}: expected a JSON object, got {type(rec).__name__}", n, None)
        out.append((n, rec))
    return out
