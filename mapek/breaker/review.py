"""Review after a trip: raise a limit, disable or re-enable a policy, or force the circuit open.

Every override is a ``breaker.override`` event (actor ``human``) that says who and why; the
watchdog folds it like any other event, so the next worker runs under the raised limit, and the
post-mortem lists it. ``force_open`` trips a running worker at once.
"""

from __future__ import annotations

import getpass
from collections.abc import Collection
from typing import TYPE_CHECKING

from mapek.bounds import LIMIT_BOUNDS, MAX_COUNT, check_bound
from mapek.breaker.policies import LIMIT_NAMES
from mapek.errors import ConfigError, UserError
from mapek.models import Event

if TYPE_CHECKING:
    from mapek.knowledge import KnowledgeBase

__all__ = ["POLICY_NAMES", "parse_raise", "record_override"]

POLICY_NAMES = frozenset({
    "time", "tokens", "cost", "turns", "depth", "escalations", "forbidden_action",
    "human_created", "error_rate", "slow_rate", "repeated_tool_call", "repeated_message",
    "no_progress", "integrity", "forced_open", "evidence",
})
"""The policies a review can disable by name."""


def parse_raise(items: list[str], names: Collection[str] = LIMIT_NAMES, *,
                positive: bool = False) -> dict[str, float]:
    """``["tokens=50000", "usd=2.5"]`` -> ``{"tokens": 50000, "usd": 2.5}``, each NAME one of
    ``names`` (a run's breaker limits by default; a batch passes its own); ``positive``: a
    value must be above 0, not only 0 or more."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in names:
            raise ConfigError(f"--raise {item!r}: expected NAME=VALUE with NAME one of "
                              f"{', '.join(sorted(names))}")
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"--raise {item!r}: {value!r} is not a number") from None
        why = check_bound(number, LIMIT_BOUNDS.get(name, MAX_COUNT))
        if why is not None:
            raise ConfigError(f"--raise {item!r}: {why}")
        if positive and number <= 0:
            raise ConfigError(f"--raise {item!r}: a limit is above 0")
        if number < 0:
            raise ConfigError(f"--raise {item!r}: a limit cannot be negative")
        out[name] = int(number) if number.is_integer() else number
    return out


def record_override(kb: KnowledgeBase, run_id: str, *, raise_limits: dict[str, float] | None = None,
                    disable: list[str] | None = None, enable: list[str] | None = None,
                    force_open: bool = False, reason: str = "", by: str | None = None) -> Event:
    """Record one ``breaker.override``; a reason is required."""
    raise_limits, disable, enable = raise_limits or {}, disable or [], enable or []
    if not (raise_limits or disable or enable or force_open):
        raise UserError("an override must raise a limit, disable or enable a policy, or "
                        "force the breaker open")
    if not reason.strip():
        raise UserError("an override needs a --reason (it is recorded with who made it)")
    unknown = [p for p in (*disable, *enable) if p not in POLICY_NAMES]
    if unknown:
        raise ConfigError(f"unknown policy {unknown[0]!r} (policies: "
                          f"{', '.join(sorted(POLICY_NAMES))})")
    parse_raise([f"{k}={v}" for k, v in raise_limits.items()])  # same checks as the CLI
    who = by or getpass.getuser()
    parts = [f"raise {k} to {v:g}" for k, v in raise_limits.items()]
    parts += [f"disable {p}" for p in disable] + [f"enable {p}" for p in enable]
    parts += ["force the breaker open"] if force_open else []
    return kb.record(run_id, "breaker.override", "human",
                     {"raise": raise_limits, "disable": disable, "enable": enable,
                      "force_open": force_open, "reason": reason.strip(), "by": who,
                      "text": f"{who}: {', '.join(parts)} ({reason.strip()})"})
