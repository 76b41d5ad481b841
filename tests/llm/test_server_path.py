"""The real HTTP model path: litellm's `openai/<name>` provider against a stand-in server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from mapek.errors import (
    BudgetExceeded,
    ModelConnectionError,
    ModelError,
    ModelOutputError,
    ModelTimeoutError,
    UnknownModelError,
)
from mapek.llm import Budget, Gateway
from mapek.testing.openai_server import OpenAIStandIn

TIMEOUT = 0.3


class Point(BaseModel):
    x: int
    y: int


Events = list[tuple[str, str, str, dict[str, Any]]]


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(stall_seconds=5) as running:
        yield running


@pytest.fixture
def stand_in(server: OpenAIStandIn) -> OpenAIStandIn:
    server.reset("ok")
    return server


@pytest.fixture
def events() -> Events:
    return []


def _gateway(server: OpenAIStandIn, events: Events, model: str = "openai/stand-in",
             **kw: Any) -> Gateway:
    kw.setdefault("max_retries", 2)
    return Gateway(
        model, api_base=server.url, api_key="dummy-key", timeout=TIMEOUT, backoff=0.001,
        recorder=lambda *event: events.append(event), **kw,
    )


def test_good_answer(stand_in: OpenAIStandIn, events: Events) -> None:
    completion = _gateway(stand_in, events).complete("hello", actor="cto")
    assert completion.text == "echo: hello" and not completion.offline
    assert completion.usage.prompt_tokens > 0 and completion.cost_usd == 0.0  # unknown price
    assert stand_in.request_count == 1
    body = stand_in.requests[0]
    assert body["model"] == "stand-in" and "metadata" not in body  # our context stays local
    assert stand_in.headers[0].get("authorization") == "Bearer dummy-key"
    [(_, kind, actor, payload)] = events
    assert (kind, actor, payload["outcome"], payload["cost_usd"]) == ("llm.call", "cto", "ok", 0)


def test_known_price_is_costed(stand_in: OpenAIStandIn, events: Events) -> None:
    completion = _gateway(stand_in, events, "openai/gpt-4o-mini").complete("hello " * 50)
    assert completion.cost_usd > 0 and events[0][3]["cost_usd"] == completion.cost_usd


def test_structured_sends_the_schema(stand_in: OpenAIStandIn, events: Events) -> None:
    point = _gateway(stand_in, events).structured("where?", Point)
    assert isinstance(point, Point)
    body = stand_in.requests[0]
    assert body["response_format"]["json_schema"]["schema"] == Point.model_json_schema()
    assert "JSON schema" in body["messages"][0]["content"]


def test_invalid_content_is_reasked_then_fails(stand_in: OpenAIStandIn, events: Events) -> None:
    stand_in.mode = "invalid"
    with pytest.raises(ModelOutputError) as info:
        _gateway(stand_in, events, repair_attempts=2).structured("where?", Point)
    assert info.value.attempts == 3 and stand_in.request_count == 3
    assert info.value.last_output == '{"unexpected": true}'
    reask = stand_in.requests[-1]["messages"]
    assert reask[-2]["role"] == "assistant" and "x: Field required" in reask[-1]["content"]


def test_garbage_body_is_a_model_error(stand_in: OpenAIStandIn, events: Events) -> None:
    stand_in.mode = "garbage"
    with pytest.raises(ModelError, match="not JSON"):
        _gateway(stand_in, events).complete("hello")
    assert events[-1][3]["outcome"] == "error"


def test_stall_times_out_after_bounded_retries(stand_in: OpenAIStandIn, events: Events) -> None:
    stand_in.mode = "stall"
    with pytest.raises(ModelTimeoutError, match="gave up after 3 attempts"):
        _gateway(stand_in, events, max_retries=2).complete("hello")
    assert stand_in.wait_for_requests(3) == 3
    # Each attempt was cut by the request timeout (the stand-in never answers): behaviour, not
    # a wall-clock bound (the first call in a process also pays for importing litellm).
    assert [e[3]["outcome"] for e in events] == ["retry", "retry", "error"]
    assert {e[3]["error_type"] for e in events} == {"ModelTimeoutError"}


@pytest.mark.parametrize("status", [500, 502, 429])
def test_transient_status_then_success(stand_in: OpenAIStandIn, events: Events,
                                       status: int) -> None:
    stand_in.fail(status, times=2)
    completion = _gateway(stand_in, events).complete("hello")
    assert completion.text == "echo: hello" and completion.attempts == 3
    assert stand_in.request_count == 3
    assert [e[3]["outcome"] for e in events] == ["retry", "retry", "ok"]


@pytest.mark.parametrize("status", [400, 401])
def test_client_errors_are_not_retried(stand_in: OpenAIStandIn, events: Events,
                                       status: int) -> None:
    stand_in.fail(status, times=1)
    with pytest.raises(ModelError) as info:
        _gateway(stand_in, events).complete("hello")
    assert info.value.status_code == status and stand_in.request_count == 1
    assert [e[3]["outcome"] for e in events] == ["error"]


def test_404_means_the_server_does_not_know_the_model(stand_in: OpenAIStandIn,
                                                      events: Events) -> None:
    stand_in.fail(404, times=1)
    with pytest.raises(UnknownModelError, match="does not know it"):
        _gateway(stand_in, events).complete("hello")
    assert stand_in.request_count == 1


def test_dropped_connection(stand_in: OpenAIStandIn, events: Events) -> None:
    stand_in.mode = "drop"
    with pytest.raises(ModelConnectionError):
        _gateway(stand_in, events, max_retries=1).complete("hello")
    assert stand_in.request_count == 2


def test_refused_connection() -> None:
    with OpenAIStandIn() as gone:
        url = gone.url
    gw = Gateway("openai/stand-in", api_base=url, api_key="k", max_retries=0, timeout=2)
    with pytest.raises(ModelConnectionError):
        gw.complete("hello")


def test_budget_raises_before_the_request(stand_in: OpenAIStandIn, events: Events) -> None:
    budget = Budget(max_tokens=100)
    gw = _gateway(stand_in, events, budget=budget, max_tokens=64)
    gw.complete("hi")
    assert stand_in.request_count == 1
    with pytest.raises(BudgetExceeded):
        gw.complete("hi " * 30)
    assert stand_in.request_count == 1 and len(events) == 1

    usd = Budget(max_usd=1e-6)
    with pytest.raises(BudgetExceeded, match="USD"):
        _gateway(stand_in, events, "openai/gpt-4o-mini", budget=usd).complete("hi " * 200)
    assert stand_in.request_count == 1


async def test_async_paths(stand_in: OpenAIStandIn, events: Events) -> None:
    gw = _gateway(stand_in, events, max_retries=1)
    assert (await gw.acomplete("hello")).text == "echo: hello"
    assert isinstance(await gw.astructured("where?", Point), Point)
    stand_in.reset("stall")
    with pytest.raises(ModelTimeoutError):
        await gw.acomplete("hello")
    assert stand_in.wait_for_requests(2) == 2
    stand_in.reset("drop")
    with pytest.raises(ModelConnectionError):
        await gw.acomplete("hello")
    stand_in.reset()
    stand_in.fail(503, times=1)
    assert (await gw.acomplete("hello")).attempts == 2
    assert [e[3]["outcome"] for e in events][-2:] == ["retry", "ok"]
