"""Peer row for ``bench_loop.py``: AutoGen AgentChat's ``RoundRobinGroupChat``, per turn.

Runs in its own virtual environment (``bench_loop.py --part peers`` makes it and installs
``autogen-agentchat`` and ``autogen-ext`` there, never into the project's). Four
``AssistantAgent``s on a zero-latency ``ReplayChatCompletionClient`` (canned answers, no
network), a ``RoundRobinGroupChat`` ending after ``--turns`` agent messages
(``MaxMessageTermination``); framework time per turn = wall time of ``team.run`` / agent turns.
Nothing is stored: AutoGen keeps the conversation in memory (no durable checkpoint). Prints
one JSON line: ``{"version", "turns", "runs_ms_per_turn"}``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import time

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.conditions import MaxMessageTermination
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_ext.models.replay import ReplayChatCompletionClient

PERSONAS = ["cfo", "engineer", "skeptic", "legal"]


async def one_run(turns: int) -> tuple[float, int]:
    per = turns // len(PERSONAS) + 2
    agents = [AssistantAgent(name, model_client=ReplayChatCompletionClient(
        [f"{name} says point {i}: the migration's cost and risk, as I see them." for i in
         range(per)]), system_message=f"You are the {name}.") for name in PERSONAS]
    team = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(turns + 1))
    start = time.perf_counter()
    result = await team.run(task="Should we migrate our customer database to a managed cloud "
                            "service this quarter?")
    wall = time.perf_counter() - start
    said = sum(1 for m in result.messages if getattr(m, "source", "user") != "user")
    return wall, said


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    await one_run(8)  # warm-up: imports and first-use costs are not counted
    runs = []
    for _ in range(args.repeats):
        wall, said = await one_run(args.turns)
        runs.append(wall / said * 1000)
    print(json.dumps({"version": importlib.metadata.version("autogen-agentchat"),
                      "turns": said, "runs_ms_per_turn": runs}))


if __name__ == "__main__":
    asyncio.run(main())
