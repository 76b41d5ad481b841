"""Peer rows for ``bench_loop.py``: a bare LangGraph loop, per turn.

One node, ``speak``, takes the next persona in turn (four of them), asks a zero-latency model
(a canned sentence) and appends the message to ``messages`` (a list channel with
``operator.add``, as LangGraph's guides write a chat); a conditional edge loops until
``turns`` messages. Without a checkpointer, and with LangGraph's ``SqliteSaver`` on a file
(durability ``sync``: every superstep, i.e. every turn, checkpointed before the next). No
supervision, no event log, no search: what LangGraph itself costs per turn. Run in the
benchmark's process (LangGraph is a dependency of the project).
"""

from __future__ import annotations

import operator
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any, TypedDict

PERSONAS = ["cfo", "engineer", "skeptic", "legal"]


class Chat(TypedDict):
    messages: Annotated[list[dict[str, Any]], operator.add]
    turn: int


def run(turns: int, *, sqlite: bool) -> float:
    """Milliseconds per turn of one ``turns``-turn run."""
    from langgraph.graph import END, START, StateGraph

    def speak(state: Chat) -> dict[str, Any]:
        name = PERSONAS[state["turn"] % len(PERSONAS)]
        text = f"{name} says point {state['turn']}: the migration's cost and risk, as I see them."
        return {"messages": [{"persona": name, "text": text}], "turn": state["turn"] + 1}

    g = StateGraph(Chat)
    g.add_node("speak", speak)
    g.add_edge(START, "speak")
    g.add_conditional_edges("speak", lambda s: END if s["turn"] >= turns else "speak",
                            [END, "speak"])
    config: dict[str, Any] = {"recursion_limit": turns + 10}
    with tempfile.TemporaryDirectory(prefix="bench-lg-") as tmp:
        if sqlite:
            from langgraph.checkpoint.sqlite import SqliteSaver

            conn = sqlite3.connect(str(Path(tmp) / "checkpoints.sqlite3"),
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            graph = g.compile(checkpointer=SqliteSaver(conn))
            config["configurable"] = {"thread_id": "bench"}
        else:
            conn = None
            graph = g.compile()
        try:
            start = time.perf_counter()
            out = graph.invoke({"messages": [], "turn": 0}, config,
                               **({"durability": "sync"} if sqlite else {}))
            wall = time.perf_counter() - start
        finally:
            if conn is not None:
                conn.close()
    assert len(out["messages"]) == turns, len(out["messages"])
    return wall / turns * 1000
