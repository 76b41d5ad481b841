"""The run's :class:`~mapek.safety.gateway.ToolGateway`, through which every tool call goes.

The tools themselves come from the session's runtime (:mod:`mapek.runtime`): mapek's own
(:mod:`mapek.safety.builtin_tools`) and the user's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mapek.loop.context import LoopContext
    from mapek.safety.gateway import ToolGateway

__all__ = ["tool_gateway"]


def tool_gateway(ctx: LoopContext) -> ToolGateway:
    """The run's gateway, made once per context (it shares the context's log lock)."""
    gw: ToolGateway | None = ctx.__dict__.get("_tool_gateway")
    if gw is None:
        from mapek.safety.gateway import ToolGateway

        gw = ToolGateway(ctx.tools, ctx.kb, ctx.run_id, lock=ctx._lock,  # noqa: SLF001
                         policy=ctx.screening)
        ctx.__dict__["_tool_gateway"] = gw
    return gw
