"""Budget, retries and recording, driven by the shipped test doubles (no litellm)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from mapek.errors import BudgetExceeded, ModelError, ModelTimeoutError, UnknownModelError
from mapek.llm import Budget, Gateway, ModelRequest
from mapek.llm.wrappers import is_transient
from mapek.testing import FunctionModel, ScriptedModel


def test_budget_reserve_settle_and_limits() -> None:
    budget = Budget(max_tokens=100, max_usd=1.0)
    held = budget.reserve(60, 0.5)
    with pytest.raises(BudgetExceeded) as info:
        budget.check(50)  # 60 reserved + 50 > 100
    assert (info.value.budget, info.value.limit, info.value.used) == ("token", 100, 60)
    budget.settle(held, tokens=20, usd=0.1)
    assert budget.tokens_used == 20 and budget.usd_used == pytest.approx(0.1)
    budget.check(80)
    with pytest.raises(BudgetExceeded, match="USD"):
        budget.reserve(1, 0.95)


def test_budget_is_thread_safe() -> None:
    budget = Budget(max_tokens=1000)
    admitted: list[int] = []

    def worker() -> None:
        for _ in range(100):
            try:
                held = budget.reserve(7)
            except BudgetExceeded:
                continue
            admitted.append(1)
            budget.settle(held, tokens=7)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert budget.tokens_used == 7 * len(admitted) <= 1000
    assert len(admitted) == 1000 // 7


def _events() -> tuple[list[tuple[str, str, str, dict[str, Any]]], Any]:
    events: list[tuple[str, str, str, dict[str, Any]]] = []
    return events, lambda run_id, kind, actor, payload: events.append(
        (run_id, kind, actor, payload)
    )


def test_gateway_over_a_function_model_records_each_call() -> None:
    events, recorder = _events()
    model = FunctionModel(lambda req: f"you said {req.messages[-1]['content']}")
    gw = Gateway(model, recorder=recorder, run_id="r1")
    assert gw.complete("hi", actor="cfo", task="persona_turn").text == "you said hi"
    [(run_id, kind, actor, payload)] = events
    assert (run_id, kind, actor) == ("r1", "llm.call", "cfo")
    assert payload["outcome"] == "ok" and payload["task"] == "persona_turn"
    assert payload["prompt_tokens"] > 0 and payload["completion_tokens"] > 0


def test_transient_errors_are_retried_with_bounded_attempts() -> None:
    events, recorder = _events()
    model = ScriptedModel([ModelError("boom", status_code=503), ModelTimeoutError("slow"), "ok"])
    gw = Gateway(model, recorder=recorder, max_retries=2, backoff=0.001)
    completion = gw.complete("x")
    assert completion.text == "ok" and completion.attempts == 3
    assert [e[3]["outcome"] for e in events] == ["retry", "retry", "ok"]
    assert [e[3]["attempt"] for e in events] == [1, 2, 3]

    model = ScriptedModel([ModelTimeoutError("slow")] * 3)
    with pytest.raises(ModelTimeoutError, match="gave up after 2 attempts"):
        Gateway(model, max_retries=1, backoff=0.001).complete("x")
    assert len(model.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    model = ScriptedModel([ModelError("no", status_code=status), "never"])
    with pytest.raises(ModelError):
        Gateway(model, max_retries=3, backoff=0.001).complete("x")
    assert len(model.requests) == 1


def test_is_transient() -> None:
    assert is_transient(ModelError("x", status_code=429))
    assert is_transient(ModelError("x", status_code=502))
    assert not is_transient(ModelError("x", status_code=400))
    assert not is_transient(ModelError("x"))
    assert not is_transient(UnknownModelError("m"))


def test_budget_refuses_before_the_call() -> None:
    model = FunctionModel(lambda req: "a" * 400, cost_per_token=0.001)
    budget = Budget(max_tokens=150)
    gw = Gateway(model, budget=budget, max_tokens=50)
    used = gw.complete("hello").usage.total_tokens  # the double ignores max_tokens: 109 tokens
    assert budget.tokens_used == used == 109
    with pytest.raises(BudgetExceeded):
        gw.complete("hello")
    assert len(model.requests) == 1  # the refused call was never made

    usd = Budget(max_usd=0.05)
    gw = Gateway(model, budget=usd, max_tokens=50)
    with pytest.raises(BudgetExceeded, match="USD"):
        gw.complete("hello " * 10)  # (prompt + 50) tokens at $0.001 > $0.05
    assert len(model.requests) == 1


def test_structured_repair_and_reask_with_a_scripted_model() -> None:
    from pydantic import BaseModel

    class Point(BaseModel):
        x: int
        y: int

    model = ScriptedModel(["no idea", '{"x": 1}', "```json\n{'x': 1, 'y': 2,}\n```"])
    gw = Gateway(model, repair_attempts=2)
    assert gw.structured("where?", Point) == Point(x=1, y=2)
    reask: ModelRequest = model.requests[2]
    assert reask.ask == 3 and "y: Field required" in reask.messages[-1]["content"]
    assert reask.messages[-2] == {"role": "assistant", "content": '{"x": 1}'}
    assert reask.schema is not None and "JSON schema" in reask.messages[0]["content"]
