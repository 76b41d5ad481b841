"""Streaming: the incremental reader of a JSON answer's ``text``, the offline model's simulated
stream, and litellm's real stream from the HTTP stand-in (server-sent events), through the
gateway's retries, budget and recording."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from mapek.errors import ConfigError, ModelConnectionError
from mapek.llm import Budget, Delta, FieldStream, Gateway, JsonFieldReader
from mapek.llm.offline import STREAM_DELAY_ENV, stream_pieces
from mapek.testing.openai_server import OpenAIStandIn

Events = list[tuple[str, str, str, dict[str, Any]]]


class Turn(BaseModel):
    text: str
    stance: str


TRICKY = {
    "questions": [{"text": "not this one \"nested\"", "to": None}],
    "claims": ["a } brace", "a \\\" quote", "text"],
    "text": "Line one\nline \"two\"\ttabbed \\ back/slash é ☃ 😀 \u0001 end",
    "stance": "support",
}


def _feed(doc: str, cuts: list[int]) -> tuple[str, list[str]]:
    reader = JsonFieldReader("text")
    got, last = [], 0
    for cut in [*cuts, len(doc)]:
        got.append(reader.feed(doc[last:cut]))
        last = cut
    assert "".join(got) == reader.value
    return reader.value, got


@pytest.mark.parametrize("ascii_only", [True, False])
def test_the_reader_gives_the_field_whatever_the_split_points(ascii_only: bool) -> None:
    doc = json.dumps(TRICKY, ensure_ascii=ascii_only)  # \uXXXX escapes and surrogate pairs
    for cut in range(len(doc) + 1):  # every split into two pieces
        value, _ = _feed(doc, [cut])
        assert value == TRICKY["text"], cut
    rng = random.Random(7)
    for _ in range(300):  # and many random splits into many pieces, one character included
        cuts = sorted(rng.sample(range(1, len(doc)), rng.randint(1, min(40, len(doc) - 1))))
        assert _feed(doc, cuts)[0] == TRICKY["text"]


def test_the_reader_streams_as_the_value_grows_and_ignores_the_rest() -> None:
    doc = 'Sure, here it is:\n```json\n{"stance": "oppose", "text": "abc\\ndef", "text2": "x"}'
    reader = JsonFieldReader()
    added = [reader.feed(ch) for ch in doc]
    assert reader.value == "abc\ndef" and reader.done
    shown = [a for a in added if a]
    assert shown == ["a", "b", "c", "\n", "d", "e", "f"]  # one character at a time
    assert reader.feed('"text": "again"}') == ""


def test_the_reader_gives_nothing_for_a_missing_or_non_string_field() -> None:
    for doc in ['{"stance": "x", "claims": [{"text": "deep"}]}', '{"text": 5, "b": "c"}',
                '{"text": null}', "no json at all"]:
        reader = JsonFieldReader()
        reader.feed(doc)
        assert reader.value == "", doc


def test_a_field_stream_starts_over_on_a_new_attempt_or_ask() -> None:
    seen: list[str] = []
    sink = FieldStream(seen.append)
    for piece in ['{"text": "half ', "a turn"]:
        sink(Delta(piece, ask=1, attempt=1))
    sink(Delta('{"text": "whole', ask=1, attempt=2))
    sink(Delta(' turn"}', ask=1, attempt=2))
    sink(Delta('{"tex', ask=2, attempt=1))
    sink(Delta('t": "re-asked"}', ask=2, attempt=1))
    assert seen == ["half ", "half a turn", "", "whole", "whole turn", "whole turn", "",
                    "re-asked", "re-asked"]  # each complete value said twice


def test_the_offline_model_streams_pieces_that_make_its_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STREAM_DELAY_ENV, "0.01")
    events: Events = []
    budget = Budget(max_tokens=100_000)
    gw = Gateway("mapek/offline", recorder=lambda *e: events.append(e), budget=budget)
    deltas: list[Delta] = []
    shown: list[str] = []
    field = FieldStream(shown.append)

    def sink(d: Delta) -> None:
        deltas.append(d)
        field(d)

    start = time.perf_counter()
    out = gw.structured("Should we adopt the plan?", Turn, on_delta=sink)
    took = time.perf_counter() - start
    raw = "".join(d.text for d in deltas)
    assert Turn.model_validate_json(raw) == out  # the pieces are the answer
    assert len(deltas) >= 5 and took >= 0.01 * len(deltas)  # in pieces, each after the delay
    assert shown[-1] == out.text and all(out.text.startswith(s) for s in shown)
    assert [e[3]["outcome"] for e in events] == ["ok"]  # one call recorded, one charged
    assert budget.tokens_used == events[0][3]["prompt_tokens"] + events[0][3][
        "completion_tokens"]
    assert stream_pieces("a  b\n c ") == ["a  b", "\n c", " "]


def test_a_flaky_stream_is_shown_again_from_its_start_on_the_retry() -> None:
    events: Events = []
    gw = Gateway("mapek/offline-flaky", recorder=lambda *e: events.append(e), backoff=0.01)
    deltas: list[Delta] = []
    shown: list[str] = []
    field = FieldStream(shown.append)

    def sink(d: Delta) -> None:
        deltas.append(d)
        field(d)

    out = gw.structured("Should we adopt the plan?", Turn, on_delta=sink)
    first = "".join(d.text for d in deltas if d.attempt == 1)
    second = "".join(d.text for d in deltas if d.attempt == 2)
    assert first and second.startswith(first) and len(first) < len(second)  # half, then all
    assert Turn.model_validate_json(second) == out
    assert "" in shown and shown[-1] == out.text  # the half turn was withdrawn
    assert [e[3]["outcome"] for e in events] == ["retry", "ok"]


def test_a_bad_stream_delay_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STREAM_DELAY_ENV, "fast")
    with pytest.raises(ConfigError, match=STREAM_DELAY_ENV):
        Gateway("mapek/offline").complete("hi", on_delta=lambda d: None)
    assert Gateway("mapek/offline").complete("hi").text  # not streamed: not read


# -- litellm's real stream, from the HTTP stand-in ---------------------------------------------

@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn() as running:
        yield running


@pytest.fixture
def stand_in(server: OpenAIStandIn) -> OpenAIStandIn:
    server.reset("ok")
    server.responder, server.stream_delay, server.stream_piece = None, 0.0, 8
    return server


def _gateway(server: OpenAIStandIn, events: Events, **kw: Any) -> Gateway:
    return Gateway("openai/stand-in", api_base=server.url, api_key="dummy",
                   recorder=lambda *e: events.append(e), backoff=0.01, timeout=10, **kw)


def test_litellm_streams_a_structured_answer_from_the_server(stand_in: OpenAIStandIn) -> None:
    events: Events = []
    budget = Budget(max_tokens=100_000)
    gw = _gateway(stand_in, events, budget=budget)
    stand_in.stream_delay = 0.05
    stand_in.responder = lambda body: json.dumps(
        {"stance": "support", "text": "We agree on the \"plan\".\nShip it."})
    arrived: list[tuple[float, str]] = []
    out = gw.structured("Decide.", Turn,
                        on_delta=FieldStream(lambda t: arrived.append((time.monotonic(), t))))
    returned = time.monotonic()
    body = stand_in.requests[-1]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["response_format"]["type"] == "json_schema"  # structured and streamed
    assert out.text == "We agree on the \"plan\".\nShip it."
    texts = [t for _, t in arrived]
    assert len(texts) >= 3 and texts[-1] == out.text
    assert returned - arrived[0][0] >= 0.1  # as the server sent it, not all at the end
    (_, kind, _, payload), = events
    assert kind == "llm.call" and payload["outcome"] == "ok"
    assert payload["completion_tokens"] > 0 and payload["finish_reason"] == "stop"
    assert budget.tokens_used == payload["prompt_tokens"] + payload["completion_tokens"]


def test_a_stream_cut_off_midway_is_retried_and_shown_from_its_start(
        stand_in: OpenAIStandIn) -> None:
    events: Events = []
    gw = _gateway(stand_in, events, max_retries=2)
    stand_in.responder = lambda body: '{"text": "one two three four five six", "stance": "x"}'
    stand_in.mode, stand_in.cut_after = "cut", 3
    deltas: list[Delta] = []
    shown: list[str] = []
    field = FieldStream(shown.append)

    def sink(d: Delta) -> None:
        deltas.append(d)
        field(d)

    with pytest.raises(ModelConnectionError):
        gw.structured("Decide.", Turn, on_delta=sink)
    assert [e[3]["outcome"] for e in events] == ["retry", "retry", "error"]
    assert {d.attempt for d in deltas} == {1, 2, 3}
    assert shown.count("") == 2  # each retry took back the half turn the last one showed
    stand_in.mode = "ok"
    events.clear()
    out = gw.structured("Decide.", Turn, on_delta=sink)
    assert out.text == "one two three four five six" == shown[-1]


def test_a_plain_completion_streams_too(stand_in: OpenAIStandIn) -> None:
    events: Events = []
    deltas: list[Delta] = []
    out = _gateway(stand_in, events).complete("hello there", on_delta=deltas.append)
    assert out.text == "echo: hello there" == "".join(d.text for d in deltas)
    assert len(deltas) > 1
    unstreamed = _gateway(stand_in, events).complete("hello there")
    assert unstreamed.text == out.text and "stream" not in stand_in.requests[-1]


async def test_the_async_paths_stream_too(stand_in: OpenAIStandIn,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STREAM_DELAY_ENV, "0.001")
    shown: list[str] = []
    offline = await Gateway("mapek/offline").astructured(
        "Should we adopt the plan?", Turn, on_delta=FieldStream(shown.append))
    assert len(shown) > 1 and shown[-1] == offline.text
    events: Events = []
    stand_in.responder = lambda body: '{"text": "streamed over async HTTP", "stance": "x"}'
    shown.clear()
    out = await _gateway(stand_in, events).astructured("Decide.", Turn,
                                                       on_delta=FieldStream(shown.append))
    assert stand_in.requests[-1]["stream"] is True
    assert out.text == "streamed over async HTTP" == shown[-1] and len(shown) > 1
    assert [e[3]["outcome"] for e in events] == ["ok"] and events[0][3]["completion_tokens"]


@pytest.mark.parametrize("name", ["mapek/offline", "mapek/offline-flaky"])
def test_the_offline_model_streams_through_litellm_as_a_real_model(name: str) -> None:
    from mapek.llm import LiteLLMModel

    events: Events = []
    gw = Gateway(LiteLLMModel(name, via_litellm=True), recorder=lambda *e: events.append(e),
                 backoff=0.01)
    deltas: list[Delta] = []
    shown: list[str] = []
    field = FieldStream(shown.append)

    def sink(d: Delta) -> None:
        deltas.append(d)
        field(d)

    out = gw.structured("Should we adopt the plan now?", Turn, on_delta=sink)
    last = max(d.attempt for d in deltas)
    assert Turn.model_validate_json("".join(d.text for d in deltas if d.attempt == last)) == out
    whole = Gateway(LiteLLMModel(name, via_litellm=True), backoff=0.01).structured(
        "Should we adopt the plan now?", Turn)
    assert out == whole and shown[-1] == out.text  # the same answer, streamed or not
    assert [e[3]["outcome"] for e in events] == (["retry", "ok"] if "flaky" in name else ["ok"])
    assert events[-1][3]["completion_tokens"] > 0  # the usage of the stream's last chunk
    assert ("" in shown) == ("flaky" in name)
