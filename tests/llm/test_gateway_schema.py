"""The structured path builds a schema class's JSON schema and prompt once, and still hands each
call a schema of its own."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from mapek.llm import Gateway, ModelRequest
from mapek.llm.gateway import schema_instructions
from mapek.testing import FunctionModel


class Vote(BaseModel):
    choice: str
    reasons: list[str]


def test_schema_is_built_once_per_class_and_each_call_gets_a_copy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    class Ballot(Vote):  # a class of this test's own: the cache has not seen it
        pass

    built: list[int] = []
    real = Ballot.model_json_schema

    def counting(*args: Any, **kwargs: Any) -> dict[str, Any]:
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(Ballot, "model_json_schema", counting)
    seen: list[ModelRequest] = []

    def answer(request: ModelRequest) -> str:
        seen.append(request)
        assert request.schema is not None
        request.schema["properties"].clear()  # a provider that edits what it is given
        return '{"choice": "ship", "reasons": ["tests pass"]}'

    gw = Gateway(FunctionModel(answer))
    for _ in range(3):
        assert gw.structured("ship?", Ballot) == Ballot(choice="ship", reasons=["tests pass"])
    assert len(built) == 1
    assert len({id(r.schema) for r in seen}) == 3
    expected = real()
    assert seen[-1].messages[0] == {"role": "system", "content": schema_instructions(expected)}
    assert seen[-1].schema_name == "Ballot"
