"""The MAPE-K loop as a LangGraph graph.

::

    START -> agenda -> plan --finish--> synthesise -> END
                        |  ^
                        v  |------------------------------.
                      screen -> execute -> monitor -> analyse
                        |      ^                      |    ^
                        approve (interrupt: the human approves destructive/external calls)
                                    consequential ->  escalate (interrupt: the human answers)

Checkpointed to SQLite in the workspace once per superstep that ends a round: the graph runs
with ``async`` durability through a :class:`~mapek.loop.rounds.RoundSaver`, which keeps the
inner checkpoints in memory and writes the one after ``analyse`` (and, when the graph stops, at
an interrupt, a pause, an error or the end, the latest). A killed worker resumes from the last
written checkpoint and replays the rounds since from the event log, where every node finds what
it already wrote by its idempotency key.

Up to :data:`ROUNDS_PER_STEP` rounds run in one superstep: the ``plan`` node runs ``screen``,
``execute``, ``monitor`` and ``analyse`` inline, each on the state the one before left, then
the next round's ``plan`` and its nodes, and the graph takes over where a person or the
synthesis comes in (``approve``, ``escalate``, ``synthesise``). The nodes and edges are the
ones drawn above; a checkpoint made before any node resumes there.
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


_Fn = Callable[[LoopState, Any], dict[str, Any]]
_Route = Callable[[dict[str, Any]], str]


def _bind(fn: _Fn, ctx: LoopContext, name: str, after: Callable[[int | None], None] | None = None,
          route: _Route | None = None,
          chain: dict[str, tuple[_Fn, _Route]] | None = None,
          again: tuple[_Fn, _Route] | None = None) -> _Node:
    """``fn`` as a graph node: its records batched, the round's end told to ``after``, and
    with ``route`` the next node chosen from the state the node leaves (a ``Command``: a
    conditional edge would rebuild the state from every channel to call its path).

    ``chain``: nodes that run inline, by name, with their routes. While the next node is one
    of them it runs here, in this superstep, on the state the nodes before it left; the
    update is the nodes' updates merged (each channel keeps its last value) and the node goes
    to the first node not in ``chain``. ``again``: ``plan`` and its route, to run the next
    round inline too when the chain comes back to ``plan``, until :data:`ROUNDS_PER_STEP`
    rounds were analysed in this superstep. Each node's noted records are written when it
    returns, before the next node runs, except that nodes of one :data:`_BATCHES` group
    running one after the other share a transaction. ``after`` is told when ``analyse`` ran,
    here or inline."""
    def node(state: LoopState, config: RunnableConfig) -> Any:
        out: dict[str, Any] = {}
        ran: list[str] = []
        goto: str | None = name
        step, step_route = fn, route
        while goto is not None:
            group = _BATCHES.get(goto)
            with ctx.batch():  # the node's noted records: one transaction when it is done
                out.update(step({**state, **out}, ctx))  # type: ignore[typeddict-item]
                ran.append(goto)
                goto = step_route({**state, **out}) if step_route is not None else None
                while chain and goto in chain and group and _BATCHES.get(goto) == group:
                    step, step_route = chain[goto]  # its records go with the node's before
                    out.update(step({**state, **out}, ctx))  # type: ignore[typeddict-item]
                    ran.append(goto)
                    goto = step_route({**state, **out})
            if goto == "plan" and again is not None and ran.count("analyse") < ROUNDS_PER_STEP:
                step, step_route = again  # the next round, in this superstep
                continue
            if not chain or goto not in chain:
                break
            step, step_route = chain[goto]
        if after is not None and "analyse" in ran:  # this superstep's checkpoint ends the round
            at = (config.get("metadata") or {}).get("langgraph_step")
            after(at if isinstance(at, int) else None)
        if goto is None:
            return out
        from langgraph.types import Command

        return Command(update=out, goto=goto)

    return _Bound(name, node)


class _Bound:
    """A node as an object, not a closure: LangGraph looks for subgraphs among the values a
    node function reaches (``find_subgraph_pregel``), which for a closure over the context
    walks its bytecode with ``dis`` (about 0.7 ms per node, 6 ms per session's graph); a
    callable object is not walked. None of the nodes holds a subgraph, so the graph is the
    same: the node's name, its signature (``state``, ``config``) and its type hints are the
    function's."""

    __slots__ = ("__name__", "_run")

    def __init__(self, name: str, run: Callable[[LoopState, RunnableConfig], Any]) -> None:
        self.__name__ = name
        self._run = run

    def __call__(self, state: LoopState, config: RunnableConfig) -> Any:
        return self._run(state, config)


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
_EDGES: dict[str, _Route] = {"monitor": lambda s: "analyse"}
"""The plain edge out of a node that runs inline: where it goes on to in a chain. (Scheduled
by the graph, ``monitor`` keeps its edge and runs alone: a ``Command`` would go on beside the
edge.)"""


_BATCHES = {"plan": "orchestrate", "screen": "orchestrate", "monitor": "observe",
            "analyse": "observe"}
"""Nodes whose noted records go in one transaction when they run one after the other in a
superstep: the plan's and the screening's (both written before ``execute`` does anything),
the monitor's and the analysis's (both before the round's checkpoint)."""

ROUNDS_PER_STEP = 2
"""Most rounds run in one superstep (inline, see :func:`_bind`'s ``again``), so one checkpoint
is written per this many rounds: LangGraph prepares, schedules and checkpoints a superstep, and
hands its writes and its checkpoint to a background thread, once for the rounds together. A
worker killed meanwhile resumes from the checkpoint before them and replays them from the log
(each node finds its records by key), as it would replay one."""

_INLINE = ("screen", "execute", "monitor", "analyse")
"""The nodes a round runs inline after ``plan`` (see :func:`_bind`'s ``chain``): a round is
one superstep, so LangGraph prepares, schedules and checkpoints it once instead of five times.
The round's checkpoint is still the one after ``analyse``, and the graph still stops between
nodes where a person or the synthesis comes in (``approve``, ``escalate``, ``synthesise``)."""


def build_graph(ctx: LoopContext, checkpointer: Any, *, inline: bool = True,
                pause_after_rounds: bool = False) -> Any:
    """The compiled graph for one session. ``inline``: a round's nodes run in one superstep
    (:data:`_INLINE`); the graph's nodes and edges are the same either way (a checkpoint
    made at any node resumes), only the supersteps differ. ``pause_after_rounds``: the
    worker pauses after each round (``interrupt_after=["analyse"]``), so ``analyse`` stays
    a superstep of its own."""
    from langgraph.graph import END, START, StateGraph

    g = StateGraph(LoopState)
    # A round ends with its analysis: a RoundSaver writes the checkpoint after it.
    ends = getattr(checkpointer, "round_ends", None)
    fns: dict[str, _Fn] = {
        "agenda": agenda, "plan": plan, "screen": screen, "approve": approve,
        "execute": execute, "monitor": monitor, "analyse": analyse, "escalate": escalate,
        "synthesise": synthesise}
    chain: dict[str, tuple[_Fn, _Route]] = {}
    if inline:
        for name in _INLINE:
            if name == "analyse" and pause_after_rounds:
                continue
            chain[name] = (fns[name], _ROUTES[name][1] if name in _ROUTES else _EDGES[name])
    for name, fn in fns.items():
        to, route = _ROUTES.get(name, ((), None))
        again = (fns["plan"], _ROUTES["plan"][1]) if name == "plan" and "analyse" in chain \
            else None
        g.add_node(name, _bind(fn, ctx, name, ends, route, chain, again),
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
