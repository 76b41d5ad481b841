"""Checking a run's hash chain, the same way for every log backend.

A chain is good when its events are numbered 1..n with no gap, every event's ``hash`` is the
sha256 of its own content, every ``prev_hash`` is the hash of the event before it (the first
one's is ``GENESIS_HASH``), and the last event matches the run's recorded head (its last ``seq``
and hash, written in the same transaction as each append), so that deleting the newest events
is caught too. ``check_run`` walks one run and names the first event that breaks any of this.

With anchors (:mod:`mapek.knowledge.anchor`), a good chain must also hold every anchored head:
the event at each anchored ``seq`` has the hash anchored for it (else the chain was recomputed
after an edit, an insertion or a renumbered deletion), and no anchored ``seq`` lies past the
run's end (else the tail was cut, or the whole run deleted, with the head rewritten). A run with
no anchors is *not anchored* (written before anchoring began): a note, not a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping

from pydantic import BaseModel, ConfigDict, computed_field

from mapek.errors import LogIntegrityError, UnknownRunError
from mapek.models import GENESIS_HASH, Event

__all__ = ["AnchorStatus", "RunStatus", "VerifyReport", "check_run", "runs_to_verify"]

_SEARCH_WINDOW = 2000
"""How far from its place to look for the ``seq`` a moved event was recorded with."""


class RunStatus(BaseModel):
    """The verdict on one run's chain."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    events: int
    """Events read before the first problem (all of them when the chain is good)."""
    seq: int | None = None
    """The first bad event's ``seq`` (for a deletion: the first missing ``seq``)."""
    problem: str | None = None
    """What is wrong with it, in words."""
    anchored: int = 0
    """The highest ``seq`` whose anchor the chain matched (0: none, or no anchors checked)."""
    note: str | None = None
    """What a good run's status leaves open: ``not anchored``, or an unanchored tail."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def first_bad_seq(self) -> int | None:
        """Alias of ``seq``."""
        return self.seq


class AnchorStatus(BaseModel):
    """The verdict on the anchor file and key themselves."""

    model_config = ConfigDict(frozen=True)

    lines: int
    runs: int
    """Runs the anchors name."""
    authenticated: bool
    """False when the key is missing or unusable."""
    problems: tuple[str, ...] = ()
    """What is wrong with the anchor file or key (the first few), in words."""
    more_problems: int = 0
    summary: str = ""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return not self.problems


class VerifyReport(BaseModel):
    """The verdict on a whole log (or one run): per-run status and the first bad event, and
    the anchor file's own status (None: the log is not anchored)."""

    model_config = ConfigDict(frozen=True)

    runs: tuple[RunStatus, ...]
    anchors: AnchorStatus | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.runs) and (self.anchors is None or self.anchors.ok)

    @property
    def bad(self) -> tuple[RunStatus, ...]:
        """The runs whose chain is broken."""
        return tuple(r for r in self.runs if not r.ok)

    @property
    def first_bad(self) -> RunStatus | None:
        """The first broken run (in the log's run order), or None."""
        return next((r for r in self.runs if not r.ok), None)

    def raise_if_broken(self) -> VerifyReport:
        """Raise :class:`LogIntegrityError` naming the first bad event; else return self."""
        bad = self.first_bad
        if bad is not None:
            raise LogIntegrityError(bad.run_id, bad.seq or 0, bad.problem or "broken")
        if self.anchors is not None and self.anchors.problems:
            raise LogIntegrityError("(anchors)", 0, self.anchors.problems[0])
        return self

    def __str__(self) -> str:
        lines = [
            f"{r.run_id}: ok, {r.events} events" + (f" ({r.note})" if r.note else "")
            if r.ok
            else f"{r.run_id}: BROKEN at #{r.seq}: {r.problem}"
            for r in self.runs
        ]
        if self.anchors is not None:
            lines += [f"anchors: BROKEN: {p}" for p in self.anchors.problems] or \
                [f"anchors: {self.anchors.summary}"]
        return "\n".join(lines) or "empty log"


def _recorded_seq(event: Event, limit: int) -> int | None:
    """The ``seq`` this event's hash was computed with, if it is not its current one."""
    lo, hi = max(1, event.seq - _SEARCH_WINDOW), min(limit, event.seq + _SEARCH_WINDOW)
    for delta in range(1, max(event.seq - lo, hi - event.seq) + 1):
        for seq in (event.seq - delta, event.seq + delta):
            if lo <= seq <= hi and (
                event.model_copy(update={"seq": seq}).compute_hash() == event.hash
            ):
                return seq
    return None


def check_run(
    run_id: str, events: Iterable[Event | str], head: tuple[int, str] | None, *,
    anchored: Mapping[int, str] | None = None,
) -> RunStatus:
    """Walk a run's events in ``seq`` order and return its status.

    ``events`` may contain a string in place of an event that could not even be decoded (the
    string says why). ``head`` is the recorded ``(last_seq, last_hash)``, or None if the run has
    no head record. ``anchored``: the run's anchored heads (``{seq: hash}``; empty: the run has
    none), or None when the log keeps no anchors.
    """
    expected, prev_hash = 1, GENESIS_HASH
    matched = 0  # the last anchored seq the chain matched
    recent: dict[int, str] = {0: GENESIS_HASH}
    limit = max(head[0] if head else 0, 1) + _SEARCH_WINDOW

    def bad(seq: int, problem: str) -> RunStatus:
        return RunStatus(run_id=run_id, events=expected - 1, seq=seq, problem=problem)

    items = iter(events)
    for item in items:
        if isinstance(item, str):
            return bad(expected, item)
        ev = item
        if ev.seq < expected:
            return bad(ev.seq, f"duplicate: a second event numbered #{ev.seq}")
        if ev.seq > expected:
            gap = f"#{expected}" if ev.seq == expected + 1 else f"#{expected}..#{ev.seq - 1}"
            return bad(expected, f"missing: {gap} deleted (the next event is #{ev.seq})")
        if ev.compute_hash() != ev.hash:
            was = _recorded_seq(ev, limit)
            if was is None:
                nxt = next(items, None)
                if isinstance(nxt, Event) and nxt.prev_hash == prev_hash:
                    return bad(ev.seq, f"inserted: #{ev.seq} is not in the chain "
                                       f"(the event after it links to #{ev.seq - 1})")
                return bad(ev.seq, "edited: its content does not match its hash")
            if was < ev.seq and ev.prev_hash == recent.get(was - 1):
                return bad(was, f"inserted: #{was}..#{ev.seq - 1} are not in the chain "
                                f"(#{ev.seq} was recorded as #{was})")
            return bad(ev.seq, f"reordered: this event was recorded as #{was}")
        if ev.prev_hash != prev_hash:
            if ev.seq == 1:
                return bad(1, "inserted: the first event does not start the chain")
            if ev.prev_hash == recent.get(ev.seq - 2):
                return bad(ev.seq - 1, f"inserted: #{ev.seq - 1} is not in the chain")
            return bad(ev.seq - 1, f"edited: #{ev.seq - 1} was rewritten "
                                   f"(#{ev.seq} recorded a different hash for it)")
        if anchored:
            want = anchored.get(ev.seq)
            if want is not None and want != ev.hash:
                where = f"#{ev.seq}" if matched + 1 == ev.seq else \
                    f"one of #{matched + 1}..#{ev.seq}"
                return bad(matched + 1, f"rewritten: #{ev.seq} does not match its anchor, so "
                                        f"{where} was edited, inserted or deleted and the "
                                        "chain recomputed")
            if want is not None:
                matched = ev.seq
        prev_hash = ev.hash
        recent[ev.seq] = ev.hash
        recent.pop(ev.seq - 64, None)
        expected += 1
    last = expected - 1
    top = max(anchored) if anchored else 0
    if top > last:
        if last == 0:
            return bad(1, f"missing: the whole run is gone from the log (it was anchored up "
                          f"to #{top})")
        gap = f"#{last + 1}" if top == last + 1 else f"#{last + 1}..#{top}"
        return bad(last + 1, f"missing: {gap} deleted (anchored up to #{top}; the log and its "
                             f"head end at #{last})")
    if head is None:
        return bad(1, "inserted: the run has no head record") if last else bad(1, "empty run")
    if head[0] > last:
        gap = f"#{last + 1}" if head[0] == last + 1 else f"#{last + 1}..#{head[0]}"
        return bad(last + 1, f"missing: {gap} deleted (the run ends at #{head[0]})")
    if head[0] < last:
        return bad(head[0] + 1, f"inserted: the run's head is #{head[0]}")
    if head[1] != prev_hash:
        return bad(last, "edited: the last event does not match the run's head")
    note = None
    if anchored is not None and not matched:
        note = "not anchored: written before anchoring began, or its anchors are gone"
    elif anchored is not None and matched < last:
        tail = f"#{last}" if matched + 1 == last else f"#{matched + 1}..#{last}"
        note = f"{tail} not anchored (appended after the last anchor)"
    return RunStatus(run_id=run_id, events=last, anchored=matched, note=note)


def runs_to_verify(run_id: str | None, heads: Collection[str], anchored: Collection[str], *,
                   has_events: Callable[[str], bool], logged: Callable[[], Iterable[str]]
                   ) -> list[str]:
    """The runs a verify reads, the same for every backend: ``run_id`` alone
    (:class:`UnknownRunError` if neither the log nor the anchors know it), or every run with
    a head, then runs with events and no head, then runs the anchors know and the log has
    lost (a whole deleted run is reported, not skipped)."""
    if run_id is not None:
        if run_id not in heads and run_id not in anchored and not has_events(run_id):
            raise UnknownRunError(run_id)
        return [run_id]
    ids = list(heads) + [r for r in logged() if r not in heads]
    seen = set(ids)
    return ids + [r for r in anchored if r not in seen]
