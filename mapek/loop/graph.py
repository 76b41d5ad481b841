"""The MAPE-K loop as a LangGraph graph.

::

    START -> agenda -> plan --finish--> synthesise -> END
                        |  ^
                        v  |------------------------------.
                      screen -> execute -> monitor -> analyse
                        |      ^                      |    ^
                        approve (interrupt: the human approves destructive/external calls)
                                    consequential ->  escalate (interrupt: the human answers)

Checkpointed to SQLite in the workspace once per round: the graph runs with ``async``
durability through a :class:`~mapek.loop.rounds.RoundSaver`, which keeps a round's inner
checkpoints in memory and writes the one after ``analyse`` (and, when the graph stops, at an
interrupt, a pause, an error or the end, the latest). A killed worker resumes from the last
round's checkpoint and replays the round from the event log, where every node finds what it
already wrote by its idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from mapek.loop.analyse import analyse
from mapek.loop.execute import execute
from mapek.loop.human import approve, escalate
from mapek.loop.monitor import monitor
from mapek.loop.plan import agenda, plan
from mapek.loop.screen import screen
from mapek.loop.state import LoopState
from mapek.loop.synthesis import synthesise

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from mapek.loop.context import LoopContext

__all__ = ["build_graph", "structure", "NODES"]

NODES = ("agenda", "plan", "screen", "approve", "execute", "monitor", "analyse", "escalate",
         "synthesise")


class _Node(Protocol):
    """A bound node as LangGraph's ``add_node`` types it: called with ``state`` and its
    ``config``."""

    def __call__(self, state: LoopState, config: RunnableConfig) -> Any: ...


def _bind(fn: Callable[[LoopState, Any], dict[str, Any]], ctx: LoopContext,
          name: str, after: Callable[[int | None], None] | None = None,
          route: Callable[[dict[str, Any]], str] | None = None) -> _Node:
    """``fn`` as a graph node: its records batched, the round's end told to ``after``, and
    with ``route`` the next node chosen from the state the node leaves (a ``Command``: a
    conditional edge would rebuild the state from every channel to call its path)."""
    def node(state: LoopState, config: RunnableConfig) -> Any:
        with ctx.batch():  # the node's noted records: one transaction when it returns
            out = fn(state, ctx)
        if after is not None:  # this superstep's checkpoint ends the round
            step = (config.get("metadata") or {}).get("langgraph_step")
            after(step if isinstance(step, int) else None)
        if route is None:
            return out
        from langgraph.types import Command

        return Command(update=out, goto=route({**state, **out}))

    node.__name__ = name
    return node


# The conditional edges: the node, its destinations, and the rule that picks one (state keys
# are plain last values, so the state after a node is the state before it updated by its output).
_ROUTES: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], str]]] = {
    "plan": (("synthesise", "screen"),
             lambda s: "synthesise" if s["plan"].get("finish") else "screen"),
    "screen": (("approve", "execute"),
               lambda s: "approve" if s["verdict"].get("pending") else "execute"),
    "execute": (("synthesise", "monitor"),
                lambda s: "synthesise" if s["plan"].get("settle") else "monitor"),
    "analyse": (("escalate", "plan"), lambda s: "escalate" if s.get("to_escalate") else "plan"),
}


def build_graph(ctx: LoopContext, checkpointer: Any) -> Any:
    """The compiled graph for one session."""
    from langgraph.graph import END, START, StateGraph

    g = StateGraph(LoopState)
    # A round ends with its analysis: a RoundSaver writes the checkpoint after it.
    ends = getattr(checkpointer, "round_ends", None)
    for name, fn in (("agenda", agenda), ("plan", plan), ("screen", screen), ("approve", approve),
                     ("execute", execute), ("monitor", monitor), ("analyse", analyse),
                     ("escalate", escalate), ("synthesise", synthesise)):
        to, route = _ROUTES.get(name, ((), None))
        g.add_node(name, _bind(fn, ctx, name, ends if name == "analyse" else None, route),
                   destinations=to or None)
    g.add_edge(START, "agenda")
    g.add_edge("agenda", "plan")
    g.add_edge("approve", "execute")
    g.add_edge("monitor", "analyse")
    g.add_edge("escalate", "plan")
    g.add_edge("synthesise", END)
    return g.compile(checkpointer=checkpointer)


def structure() -> tuple[list[str], list[tuple[str, str, bool]], str]:
    """The graph's shape, to draw it: its nodes (``__start__`` and ``__end__`` included), its
    edges as ``(source, target, conditional)``, and its Mermaid text. Built without a session
    (no node runs) and without the network."""
    graph = build_graph(None, None).get_graph()  # type: ignore[arg-type]  # nodes never run
    edges = [(e.source, e.target, bool(e.conditional)) for e in graph.edges]
    return list(graph.nodes), edges, graph.draw_mermaid()
