"""The discussion's transcript, folded from the event log instead of stored in checkpoints.

Every persona turn is a ``message`` event (keyed ``turn:<round>:<persona>``) holding what the
turn said and its place in its round (``slot``). The graph's state keeps only ``said``, the
seq of the last message its transcript includes; :func:`transcript` gives the turns up to it,
in order (round, then place in the round), from a per-process cache of the run's messages
that ``execute`` fills as turns are taken and that is read back from the log once in a
process that starts from a checkpoint. So a checkpoint no longer stores the whole transcript
again each time (its size no longer grows with the run), and a run resumed from an earlier
checkpoint sees exactly the turns that checkpoint had seen: a message written after it (by a
worker killed inside the next round) stays out until the replayed round takes it up by its
key.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from mapek.loop.state import LoopState

if TYPE_CHECKING:
    from mapek.loop.context import LoopContext

__all__ = ["transcript", "remember", "entry", "fitting"]


class _Fold:
    """One run's turns seen by this process: seq -> transcript entry, and how far the log was
    read."""

    def __init__(self) -> None:
        self.turns: dict[int, dict[str, Any]] = {}
        self.read = 0
        self.ordered: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def add(self, entries: list[dict[str, Any]]) -> None:
        for e in entries:
            self.turns[e["seq"]] = e
        self.ordered = sorted(self.turns.values(),
                              key=lambda t: (t["round"], t.get("slot", 0), t["seq"]))


def _fold(ctx: LoopContext) -> _Fold:
    with ctx._lock:  # noqa: SLF001 - the context's lock
        if not isinstance(ctx.turns, _Fold):
            ctx.turns = _Fold()
        return ctx.turns


def entry(seq: int, persona: str, rnd: int, slot: int, turn: dict[str, Any], task: str,
          fit: list[dict[str, Any]], unfit: list[dict[str, Any]]) -> dict[str, Any]:
    """A transcript entry: what the nodes read of a turn."""
    return {"seq": seq, "persona": persona, "round": rnd, "slot": slot, "text": turn["text"],
            "stance": turn["stance"], "claims": turn["claims"], "questions": turn["questions"],
            "actions": fit, "invalid": unfit, "task": task}


def fitting(gw: Any, actions: list[dict[str, Any]], persona: str, rnd: int
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A turn's proposed actions whose arguments fit their tool's schema (they go to screening
    next round), and those that do not: recorded by the gateway as ``invalid`` right away, once
    (keyed by round, persona and position), never screened nor run."""
    fit: list[dict[str, Any]] = []
    unfit: list[dict[str, Any]] = []
    for i, a in enumerate(actions):
        bad = gw.invalid(a["tool"], a.get("args") or {}, actor=persona,
                         key=f"invalid:{rnd}:{persona}:{i}")
        (fit if bad is None else unfit).append(a)
    return fit, unfit


def remember(ctx: LoopContext, entries: list[dict[str, Any]]) -> None:
    """Turns ``execute`` just took (their messages are in the log)."""
    fold = _fold(ctx)
    with fold.lock:
        fold.add(entries)


def transcript(state: LoopState, ctx: LoopContext) -> list[dict[str, Any]]:
    """The turns the state has seen (messages up to ``state["said"]``), in order."""
    upto = int(state.get("said") or 0)
    fold = _fold(ctx)
    with fold.lock:
        if upto > max(fold.read, max(fold.turns, default=0)):
            _read(ctx, fold)
        return [t for t in fold.ordered if t["seq"] <= upto]


def _read(ctx: LoopContext, fold: _Fold) -> None:
    """Fold the run's messages written since the last read (a process that starts from a
    checkpoint: once). A turn's actions are checked against their tools' schemas again, as
    ``execute`` did: an unfitting call's ``invalid`` record is found by its key, not written
    twice."""
    from mapek.loop.toolbox import tool_gateway

    with ctx._lock:  # noqa: SLF001 - the context's log lock
        events = ctx.kb.events(ctx.run_id, after=fold.read, kinds=["message"])
    gw = None
    new = []
    for ev in events:
        fold.read = max(fold.read, ev.seq)
        p = ev.payload
        if ev.seq in fold.turns or not isinstance(p.get("turn"), dict):
            continue
        rnd = int(p.get("round") or 0)
        actions = p["turn"].get("actions") or []
        if actions and gw is None:
            gw = tool_gateway(ctx)
        fit, unfit = fitting(gw, actions, ev.actor, rnd) if actions else ([], [])
        new.append(entry(ev.seq, ev.actor, rnd, int(p.get("slot") or 0), p["turn"],
                         str(p.get("task") or "discuss"), fit, unfit))
    fold.add(new)
