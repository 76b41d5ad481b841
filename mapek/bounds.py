"""The largest value each numeric limit may take, checked where a value comes in.

A limit past these is a typo or a test of the system, never a plan: ``--max-turns
99999999999999999999999`` once passed and then overflowed the checkpoint at every start and
resume. The command-line options (typer ``max=``), :class:`~mapek.loop.state.SessionConfig`,
the breaker policy files and batch plans (pydantic ``le=``), and ``--raise`` all use these
bounds, so a value out of range is one clear line (exit 2) before anything is written. Floats
must also be finite (no ``inf``, no ``nan``).
"""

from __future__ import annotations

import math

__all__ = ["MAX_TURNS", "MAX_TOKENS", "MAX_USD", "MAX_SECONDS", "MAX_DEPTH", "MAX_ESCALATIONS",
           "MAX_COUNT", "LIMIT_BOUNDS", "check_bound"]

MAX_TURNS = 100_000
"""Persona turns in one run."""
MAX_TOKENS = 10**12
"""Tokens in one run or batch."""
MAX_USD = 1_000_000.0
"""US dollars in one run or batch."""
MAX_SECONDS = 366 * 24 * 3600.0
"""A year: time limits, timeouts, TTLs."""
MAX_DEPTH = 10_000
"""Nesting of plans and tool calls."""
MAX_ESCALATIONS = 10_000
"""Questions put to a person in one run."""
MAX_COUNT = 1_000_000
"""Any other count (trial rounds, windows, repeats)."""

LIMIT_BOUNDS: dict[str, float] = {"time": MAX_SECONDS, "tokens": MAX_TOKENS, "usd": MAX_USD,
                                  "turns": MAX_TURNS, "depth": MAX_DEPTH,
                                  "escalations": MAX_ESCALATIONS}
"""The bound of each breaker limit by its short name (``--raise NAME=VALUE``)."""


def check_bound(value: float, top: float) -> str | None:
    """Why ``value`` is out of range 0..``top`` (None: it is in range)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if value > top:
        return f"must be at most {top:g}"
    return None
