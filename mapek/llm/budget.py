"""Token and USD budgets, checked before each model call and charged after it."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from mapek.errors import BudgetExceeded

__all__ = ["Budget", "Reservation"]


@dataclass(frozen=True)
class Reservation:
    """What :meth:`Budget.reserve` set aside for one call, until :meth:`Budget.settle`."""

    tokens: int
    usd: float


class Budget:
    """Limits and used counters for tokens and US dollars; safe to share between threads.

    A call first *reserves* its estimate (raising :class:`~mapek.errors.BudgetExceeded` if used +
    reserved + estimate would pass a limit), then *settles*: the reservation is replaced by the
    actual usage. Reserving makes concurrent calls see each other's estimates, so two calls cannot
    both pass a check that only one of them fits.
    """

    def __init__(self, max_tokens: int | None = None, max_usd: float | None = None) -> None:
        self.max_tokens = max_tokens
        """Token limit (prompt + completion, all calls); None for no limit."""
        self.max_usd = max_usd
        """Cost limit in US dollars; None for no limit."""
        self._lock = threading.Lock()
        self._tokens = 0
        self._usd = 0.0
        self._reserved_tokens = 0
        self._reserved_usd = 0.0

    @property
    def tokens_used(self) -> int:
        with self._lock:
            return self._tokens

    @property
    def usd_used(self) -> float:
        with self._lock:
            return self._usd

    def check(self, tokens: int, usd: float = 0.0) -> None:
        """Raise BudgetExceeded if ``tokens``/``usd`` more would pass a limit; change nothing."""
        with self._lock:
            self._check(tokens, usd)

    def reserve(self, tokens: int, usd: float = 0.0) -> Reservation:
        """Check, then hold ``tokens``/``usd`` for a call in flight."""
        with self._lock:
            self._check(tokens, usd)
            self._reserved_tokens += tokens
            self._reserved_usd += usd
        return Reservation(tokens, usd)

    def settle(self, reservation: Reservation, tokens: int = 0, usd: float = 0.0) -> None:
        """Release ``reservation`` and charge what the call actually used."""
        with self._lock:
            self._reserved_tokens -= reservation.tokens
            self._reserved_usd -= reservation.usd
            self._tokens += tokens
            self._usd += usd

    def charge(self, tokens: int, usd: float = 0.0) -> None:
        """Charge usage that was not reserved (never raises: the money is already spent)."""
        with self._lock:
            self._tokens += tokens
            self._usd += usd

    def _check(self, tokens: int, usd: float) -> None:
        if self.max_tokens is not None:
            used = self._tokens + self._reserved_tokens
            if used + tokens > self.max_tokens:
                raise BudgetExceeded("token", self.max_tokens, used, tokens)
        if self.max_usd is not None:
            used_usd = self._usd + self._reserved_usd
            if used_usd + usd > self.max_usd:
                raise BudgetExceeded("USD", self.max_usd, round(used_usd, 6), round(usd, 6))

    def __repr__(self) -> str:
        return (
            f"Budget(tokens {self.tokens_used}/{self.max_tokens}, "
            f"usd {self.usd_used:.4f}/{self.max_usd})"
        )
