"""Screening: every planned action is checked before Execute runs anything.

The rule here is the floor the blast-radius work builds on: an action runs only if its tool is
known and declared read-only. Anything else is refused with a reason, recorded, and shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mapek.loop.state import LoopState

if TYPE_CHECKING:
    from mapek.loop.context import LoopContext

__all__ = ["screen"]


def screen(state: LoopState, ctx: LoopContext) -> dict[str, Any]:
    p, rnd = state["plan"], state["plan"]["round"]
    allowed, refused = [], []
    for i, action in enumerate(p.get("actions", [])):
        t = ctx.tools.get(action["tool"])
        if t is None:
            refused.append({"step": i, **action, "reason": f"unknown tool {action['tool']!r}"})
        elif not t.read_only:
            refused.append({"step": i, **action, "reason": f"tool {t.name!r} is declared "
                            f"{t.effect}; agents hold read-only access unless granted"})
        else:
            allowed.append({"step": i, **action})
    verdict = "deny" if refused else "allow"
    v = {"round": rnd, "verdict": verdict, "allowed": allowed, "refused": refused}
    ctx.record("screen.verdict", "screen", v, key=f"screen:{rnd}")
    return {"verdict": v}
