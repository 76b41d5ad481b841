"""A model that answers a discussion as the offline model does, in-process, with hooks to change
what one persona says: for tests of the loop that need a named persona to propose a plan or ask
a question on its first turn, or one answer bent out of shape.

    model = discussion_model(first_turn={"cfo": {"actions": [{"tool": "write_note", ...}]}})
    run_session(session.run_id, model=model)
    model.requests  # every request the loop made, as FunctionModel keeps them

The answers come from the loop's offline scripts (:mod:`mapek.loop.scripts`), the same ones
``mapek/offline`` serves, so a session on this model runs every node of the loop; unlike
``mapek/offline`` it goes through no provider registry and keeps each request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from mapek.llm.offline import OfflineRequest
from mapek.llm.types import ModelRequest
from mapek.loop import scripts
from mapek.testing.models import FunctionModel

__all__ = ["discussion_model", "offline_answer"]

_BY_TASK: dict[str, Callable[[Any], dict[str, Any]]] = {
    "persona_turn": scripts.persona_turn, "agenda": scripts.agenda_script,
    "synthesis": scripts.synthesis_script, "triage_judge": scripts.judge_script}


def offline_answer(request: ModelRequest) -> dict[str, Any]:
    """The offline scripts' answer to one structured output the loop asks for (``agenda``,
    ``persona_turn``, ``synthesis``, ``triage_judge``), as a dict that validates against the
    request's schema."""
    try:
        script = _BY_TASK[request.task]
    except KeyError:
        raise ValueError(f"no offline script answers the task {request.task!r}; "
                         f"known: {sorted(_BY_TASK)}") from None
    return script(OfflineRequest(messages=request.messages, task=request.task,
                                 context=request.context, schema=request.schema))


def discussion_model(
    *, first_turn: Mapping[str, Mapping[str, Any]] | None = None,
    edit: Callable[[ModelRequest, dict[str, Any]], None] | None = None,
    name: str = "test/function", cost_per_token: float = 0.0,
) -> FunctionModel:
    """A :class:`FunctionModel` answering with :func:`offline_answer`.

    ``first_turn`` maps a persona's name to fields that replace those of its first turn's
    answer (``actions``, ``questions``, ``message``...); ``edit`` is called with each request
    and its answer, to change the answer in place, after ``first_turn`` is applied.
    """
    extra = dict(first_turn or {})

    def answer(request: ModelRequest) -> str:
        out = offline_answer(request)
        ctx = request.context
        if request.task == "persona_turn" and ctx.get("my_turns") == 0:
            out.update(extra.get(ctx["persona"]["name"], {}))
        if edit is not None:
            edit(request, out)
        return json.dumps(out)

    return FunctionModel(answer, name=name, cost_per_token=cost_per_token)
