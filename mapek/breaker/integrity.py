"""The watchdog's re-verification of the run it guards, so a live edit of the past trips it.

The fold checks each *new* event's link in the chain as it arrives; that cannot see an event
already read being rewritten, nor a chain recomputed while the worker waits and writes nothing.
:class:`IntegrityWatch` looks again, on the watchdog's clock:

- every ``quick`` seconds (1 s), a cheap look at the stored chain (``seq``, ``prev_hash``,
  ``hash`` of each event, no content): numbered 1..n and linked, every hash the same as at the
  last look, every anchored head (:mod:`mapek.knowledge.anchor`) matched and none past the end.
  An edit with the chain recomputed changes stored hashes, so it is caught within a second or
  two;
- every ``full`` seconds (10 s, longer for a long run, so that it costs at most about 2% of the
  time), the complete :meth:`~mapek.knowledge.log.EventLog.verify` of the run, re-hashing every
  event's content: this also catches an edit whose hash was left as it was.

A problem becomes a :class:`~mapek.breaker.policies.Breach` of the ``integrity`` policy (the
one that already trips on a broken link; a review can disable it by that name), naming the run,
the first bad ``seq`` and what is wrong. Problems of the anchor file or key themselves (a
missing key, a removed line) do not stop the run: they concern the whole workspace, and
``mapek kb verify`` reports them.
"""

from __future__ import annotations

import time
from typing import Any

from mapek.breaker.policies import Breach
from mapek.models import GENESIS_HASH

__all__ = ["IntegrityWatch", "QUICK_EVERY", "FULL_EVERY"]

QUICK_EVERY = 1.0
"""Seconds between looks at the stored chain and the anchors."""
FULL_EVERY = 10.0
"""Seconds between complete re-verifications of the run (at least)."""
_FULL_SHARE = 0.02
"""The share of the time a complete re-verification may take."""


class IntegrityWatch:
    """Re-verifies one run of a log, incrementally and in full, at two rates."""

    def __init__(self, log: Any, run_id: str, *, quick: float = QUICK_EVERY,
                 full: float = FULL_EVERY) -> None:
        self.log, self.run_id, self.quick, self.full = log, run_id, quick, full
        self._seen: dict[int, str] = {}
        """Each event's stored hash at the last look."""
        self._next_quick = 0.0
        self._next_full = 0.0
        self.checks = 0
        """Looks taken (quick and full), for tests and benchmarks."""

    def check(self, now: float | None = None) -> Breach | None:
        """Look again if a look is due; the breach if the run's log was tampered with."""
        clock = time.monotonic() if now is None else now
        if clock >= self._next_full:
            t0 = time.monotonic()
            found = self._full()
            took = time.monotonic() - t0
            self._next_full = clock + max(self.full, took / _FULL_SHARE)
            self._next_quick = clock + self.quick
        elif clock >= self._next_quick:
            found = self._quick()
            self._next_quick = clock + self.quick
        else:
            return None
        self.checks += 1
        return None if found is None else self.breach(*found)

    def final(self) -> Breach | None:
        """A complete verification now, whatever the clock says (the run's last look)."""
        found = self._full()
        self.checks += 1
        return None if found is None else self.breach(*found)

    def explain(self, breach: Breach) -> Breach:
        """A breach of the chain seen at a new event, traced back by a complete verification
        to the first rewritten event when that lies earlier (a recomputed chain breaks only
        at the next append, far from the edit)."""
        found = self._full()
        if found is None or found[0] >= min(breach.seqs or [found[0] + 1]):
            return breach
        return self.breach(*found)

    def breach(self, seq: int, problem: str) -> Breach:
        return Breach(policy="integrity", threshold="an unbroken chain that matches its anchors",
                      observed=f"#{seq}: {problem}", seqs=[seq],
                      reason=f"the log of run {self.run_id} was tampered with at #{seq}: "
                             f"{problem}")

    # -- the two looks -----------------------------------------------------------------------

    def _full(self) -> tuple[int, str] | None:
        try:
            status = self.log.verify(self.run_id).runs[0]
        except Exception as exc:  # noqa: BLE001 - a log that cannot be read is not a verdict
            return None if _unreadable(exc) else (1, f"the log cannot be verified: {exc}")
        if status.ok:
            return self._quick()  # and remember the hashes as they are now
        return status.seq or 1, status.problem or "broken"

    def _quick(self) -> tuple[int, str] | None:
        try:
            book = self.log.anchor_book
            links: list[tuple[int, str, str]] = self.log.links(self.run_id)
        except Exception as exc:  # noqa: BLE001
            return None if _unreadable(exc) else (1, f"the log cannot be read: {exc}")
        anchored: dict[int, str] = book.runs.get(self.run_id, {}) if book is not None else {}
        problems: list[tuple[int, str]] = []
        prev, expected = GENESIS_HASH, 1
        for seq, prev_hash, digest in links:
            if seq != expected:
                problems.append((min(seq, expected), f"#{expected} is missing or renumbered "
                                                     f"(the next stored event is #{seq})"))
                break
            if prev_hash != prev:
                problems.append((seq - 1, f"#{seq - 1} was rewritten (#{seq} recorded a "
                                          "different hash for it)"))
                break
            seen = self._seen.get(seq)
            if seen is not None and seen != digest:
                problems.append((seq, f"#{seq} was rewritten after the watchdog read it (its "
                                      "stored hash changed)"))
                break
            want = anchored.get(seq)
            if want is not None and want != digest:
                problems.append((seq, f"#{seq} does not match its anchor (rewritten, and the "
                                      "chain recomputed)"))
                break
            prev, expected = digest, expected + 1
        last = len(links)
        top = max(anchored, default=0)
        if top > last:
            problems.append((last + 1, f"#{last + 1}..#{top} were anchored but are gone from "
                                       "the log"))
        lost = [s for s in self._seen if s > last]
        if lost:
            problems.append((last + 1, f"#{last + 1}..#{max(lost)} were read before and are "
                                       "gone from the log"))
        if problems:
            return min(problems)
        self._seen = {seq: digest for seq, _, digest in links}
        return None


def _unreadable(exc: Exception) -> bool:
    """A passing failure to read (a busy or closed database), not evidence of tampering."""
    from mapek.errors import StorageError

    return isinstance(exc, StorageError)
