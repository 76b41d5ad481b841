"""The offline model on both of its paths: straight to the engine (the default: no litellm in
the process) and through the real litellm path (custom provider `mapek`,
``MAPEK_OFFLINE_VIA_LITELLM=1``). Every test runs on both; the last ones check that the two
give the same answers."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from mapek.errors import BudgetExceeded, ModelOutputError, ModelTimeoutError, UnknownModelError
from mapek.llm import Budget, Gateway, register_script, unregister_script
from mapek.llm._litellm import get_litellm
from mapek.llm.litellm_model import OFFLINE_VIA_LITELLM, LiteLLMModel
from mapek.llm.types import ModelRequest


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["go", "no-go"]
    confidence: float = Field(ge=0, le=1)
    reasons: list[str] = Field(min_length=1)


Events = list[tuple[str, str, str, dict[str, Any]]]


@pytest.fixture(autouse=True, params=["direct", "litellm"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which path the offline model's calls take in this test."""
    if request.param == "litellm":
        monkeypatch.setenv(OFFLINE_VIA_LITELLM, "1")
    else:
        monkeypatch.delenv(OFFLINE_VIA_LITELLM, raising=False)
    return str(request.param)


@pytest.fixture
def events() -> Events:
    return []


def test_the_path_is_the_one_chosen(path: str) -> None:
    model = LiteLLMModel("mapek/offline")
    assert model.via_litellm is (path == "litellm")
    assert LiteLLMModel("openai/gpt-4o-mini").via_litellm  # a real model: always litellm


def _gateway(events: Events, model: str = "mapek/offline", **kw: Any) -> Gateway:
    return Gateway(
        model, recorder=lambda *event: events.append(event), run_id="run-1", backoff=0.001, **kw
    )


QUESTION = "Should we migrate the billing database to managed Postgres this quarter?"


def test_complete_runs_through_litellm_and_is_marked_offline(events: Events) -> None:
    completion = _gateway(events).complete(QUESTION, actor="cfo")
    assert completion.offline and completion.model == "mapek/offline"
    assert completion.text and completion.finish_reason == "stop"
    assert completion.usage.prompt_tokens > 10 and completion.usage.completion_tokens > 5
    assert completion.cost_usd == 0.0  # no price known for the offline model
    [(run_id, kind, actor, payload)] = events
    assert (run_id, kind, actor) == ("run-1", "llm.call", "cfo")
    assert payload == {
        "model": "mapek/offline", "task": "chat", "outcome": "ok", "attempt": 1, "ask": 1,
        "prompt_tokens": completion.usage.prompt_tokens,
        "completion_tokens": completion.usage.completion_tokens,
        "cost_usd": 0.0, "latency_ms": payload["latency_ms"], "offline": True,
        "finish_reason": "stop",
    }


def test_the_litellm_response_names_the_offline_model() -> None:
    response = get_litellm().completion(
        model="mapek/offline", messages=[{"role": "user", "content": "hi"}]
    )
    assert response.model == "mapek/offline" and response.usage.total_tokens > 0


def test_offline_is_deterministic(events: Events) -> None:
    gw = _gateway(events)
    assert gw.complete(QUESTION).text == gw.complete(QUESTION).text
    assert gw.structured(QUESTION, Verdict) == gw.structured(QUESTION, Verdict)
    assert gw.complete(QUESTION).text != gw.complete(QUESTION + " Or next year?").text


def test_structured_gives_a_valid_instance_first_time(events: Events) -> None:
    verdict = _gateway(events).structured(QUESTION, Verdict, actor="observer", task="analyse")
    assert isinstance(verdict, Verdict)
    assert [e[3]["ask"] for e in events] == [1] and events[0][3]["task"] == "analyse"


@pytest.mark.parametrize(
    ("fault", "asks"),
    [("fenced", 1), ("sloppy", 1), ("extra", 1), ("garbage", 2), ("missing", 2)],
)
def test_broken_output_is_repaired_or_reasked(events: Events, fault: str, asks: int) -> None:
    verdict = _gateway(events, f"mapek/offline-{fault}").structured(QUESTION, Verdict)
    assert isinstance(verdict, Verdict)
    assert [e[3]["ask"] for e in events] == list(range(1, asks + 1))


def test_truncated_output_is_closed_or_reasked(events: Events) -> None:
    assert isinstance(_gateway(events, "mapek/offline-truncated").structured(QUESTION, Verdict),
                      Verdict)
    assert len(events) in (1, 2)


def test_fault_can_come_from_the_context(events: Events) -> None:
    _gateway(events).structured(QUESTION, Verdict, context={"fault": "garbage"})
    assert len(events) == 2


def test_garbage_forever_raises_model_output_error(events: Events) -> None:
    gw = _gateway(events, "mapek/offline-garbage-always", repair_attempts=2)
    with pytest.raises(ModelOutputError) as info:
        gw.structured(QUESTION, Verdict)
    assert info.value.attempts == 3 and len(events) == 3
    assert "proposal" in info.value.last_output and info.value.model == gw.model_name


def test_timeout_fault_is_retried_then_raises(events: Events) -> None:
    with pytest.raises(ModelTimeoutError, match="gave up after 3 attempts"):
        _gateway(events, "mapek/offline-timeout", max_retries=2).complete(QUESTION)
    assert [e[3]["outcome"] for e in events] == ["retry", "retry", "error"]


def test_flaky_first_attempt_is_retried(events: Events) -> None:
    completion = _gateway(events, "mapek/offline-flaky").complete(QUESTION)
    assert completion.attempts == 2
    assert [e[3]["outcome"] for e in events] == ["retry", "ok"]
    assert "503" in events[0][3]["error"]


@pytest.mark.parametrize("model", ["nosuchprovider/model-x", "mapek/offline-nonsense",
                                   "definitely-not-a-model"])
def test_unknown_model_is_a_one_line_error(model: str) -> None:
    with pytest.raises(UnknownModelError) as info:
        Gateway(model).complete("hi")
    message = str(info.value)
    assert "\n" not in message and model in message and len(message) < 300


def test_registered_script_reaches_the_model_with_its_context(events: Events) -> None:
    seen: list[dict[str, Any]] = []

    def script(request: Any) -> str:
        seen.append(request.context)
        return f"step {request.context['step']} for {request.task}"

    register_script("t-plan", script)
    try:
        text = _gateway(events).complete("plan", task="t-plan", context={"step": 3}).text
    finally:
        unregister_script("t-plan")
    assert text == "step 3 for t-plan" and seen == [{"step": 3}]


def test_persona_turn_through_the_gateway(events: Events) -> None:
    context = {
        "persona": {"name": "cfo", "role": "Chief Financial Officer",
                    "expertise": ["finance"], "concerns": ["cost overruns"]},
        "topic": QUESTION,
        "transcript": [{"speaker": "cto", "text": "The migration needs a rollback plan."}],
        "turn": 1,
    }
    text = _gateway(events).complete("Your turn.", task="persona_turn", context=context).text
    assert "cto" in text and "cost overruns" in text


def test_budget_stops_offline_calls(events: Events) -> None:
    budget = Budget(max_tokens=200)  # each call: ~24 prompt + 100 max_tokens estimated, ~47 used
    gw = _gateway(events, budget=budget, max_tokens=100)
    gw.complete(QUESTION)
    gw.complete(QUESTION)
    with pytest.raises(BudgetExceeded):
        gw.complete(QUESTION)
    assert len(events) == 2 and budget.tokens_used == sum(
        e[3]["prompt_tokens"] + e[3]["completion_tokens"] for e in events
    )


async def test_async_complete_and_structured(events: Events) -> None:
    gw = _gateway(events, "mapek/offline-garbage")
    completion = await gw.acomplete(QUESTION)
    assert completion.offline and completion.text == _gateway([]).complete(QUESTION).text
    verdict = await gw.astructured(QUESTION, Verdict)
    assert isinstance(verdict, Verdict) and len(events) == 3


async def test_async_timeout_is_retried(events: Events) -> None:
    with pytest.raises(ModelTimeoutError):
        await _gateway(events, "mapek/offline-timeout", max_retries=1).acomplete(QUESTION)
    assert [e[3]["outcome"] for e in events] == ["retry", "error"]


PARITY = [
    ModelRequest(messages=[{"role": "user", "content": QUESTION}], task="chat"),
    ModelRequest(messages=[{"role": "user", "content": QUESTION}], task="analyse",
                 schema=Verdict.model_json_schema(), schema_name="Verdict"),
    ModelRequest(messages=[{"role": "user", "content": QUESTION}], task="analyse",
                 schema=Verdict.model_json_schema(), schema_name="Verdict", ask=2,
                 context={"fault": "missing"}),
    ModelRequest(messages=[{"role": "system", "content": "Be brief."},
                           {"role": "user", "content": QUESTION}], task="chat", max_tokens=8),
]


@pytest.mark.parametrize("model", ["mapek/offline", "mapek/offline-sloppy",
                                   "mapek/offline-truncated"])
@pytest.mark.parametrize("seed", [None, 7])
def test_both_paths_answer_alike(model: str, seed: int | None) -> None:
    extra = {"seed": seed} if seed is not None else {}
    direct = LiteLLMModel(model, extra=extra, via_litellm=False)
    routed = LiteLLMModel(model, extra=extra, via_litellm=True)
    for req in PARITY:
        a, b = direct.complete(req), routed.complete(req)
        assert (a.text, a.usage, a.finish_reason, a.cost_usd, a.model, a.offline) == \
            (b.text, b.usage, b.finish_reason, b.cost_usd, b.model, b.offline), req
    assert direct.sends_schema == routed.sends_schema is True
    assert LiteLLMModel(model, structured_output="prompt", via_litellm=False).sends_schema \
        is LiteLLMModel(model, structured_output="prompt", via_litellm=True).sends_schema \
        is False


def test_both_paths_fail_alike(events: Events) -> None:
    req = ModelRequest(messages=[{"role": "user", "content": QUESTION}], task="chat")
    for fault, kind in (("timeout", ModelTimeoutError), ("flaky", Exception)):
        errors = []
        for via in (False, True):
            with pytest.raises(kind) as info:
                LiteLLMModel(f"mapek/offline-{fault}", via_litellm=via).complete(req)
            errors.append((type(info.value), str(info.value),
                           getattr(info.value, "status_code", None)))
        assert errors[0] == errors[1], fault
