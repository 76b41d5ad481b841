"""``LoopContext.map`` (a round's persona turns): every item but the last on the session's
threads, the last in the calling thread at the same time; results in order; the first failure
in order raised once every item has finished. Where the round's models compute in this process
(the offline model), one after another in the calling thread instead."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mapek.loop.context import LoopContext


def _ctx() -> LoopContext:
    none: Any = None
    return LoopContext(run_id="run", kb=none, gateway=none, model="m", personas={},
                       tools=none, triager=none, run_dir=Path("."))


def test_items_run_concurrently_the_last_in_the_calling_thread() -> None:
    ctx = _ctx()
    both = threading.Barrier(3, timeout=5)  # all three at once, or the barrier breaks
    seen: dict[int, int] = {}

    def fn(i: int) -> int:
        seen[i] = threading.get_ident()
        both.wait()
        return i * 10

    try:
        assert ctx.map(fn, [1, 2, 3]) == [10, 20, 30]
        assert seen[3] == threading.get_ident()
        assert threading.get_ident() not in (seen[1], seen[2]) and seen[1] != seen[2]
        assert ctx.map(lambda i: threading.get_ident(), [4]) == [threading.get_ident()]
        assert ctx.map(fn, []) == []
    finally:
        ctx.close()


def test_the_first_failure_in_order_is_raised_after_every_item_finished() -> None:
    ctx = _ctx()
    done: list[int] = []

    def fn(i: int) -> int:
        if i == 1:
            time.sleep(0.2)  # fails last in time, first in order
        done.append(i)
        if i in (1, 3):
            raise ValueError(f"item {i}")
        return i

    try:
        with pytest.raises(ValueError, match="item 1"):
            ctx.map(fn, [1, 2, 3])
        assert sorted(done) == [1, 2, 3]
        done.clear()
        with pytest.raises(ValueError, match="item 3"):
            ctx.map(fn, [2, 3])
        assert sorted(done) == [2, 3]
    finally:
        ctx.close()


def test_not_concurrent_runs_in_order_in_the_calling_thread_and_stops_at_a_failure() -> None:
    ctx = _ctx()
    seen: list[tuple[int, int]] = []

    def fn(i: int) -> int:
        seen.append((i, threading.get_ident()))
        if i == 2:
            raise ValueError("item 2")
        return i

    try:
        assert ctx.map(fn, [1, 3], concurrent=False) == [1, 3]
        with pytest.raises(ValueError, match="item 2"):
            ctx.map(fn, [4, 2, 5], concurrent=False)
        assert [i for i, _ in seen] == [1, 3, 4, 2]  # 5 never ran
        assert {t for _, t in seen} == {threading.get_ident()}
        assert ctx._pool is None  # noqa: SLF001 - no thread was started
    finally:
        ctx.close()


def _gateway(model: str) -> Any:
    from mapek.llm import Gateway, LiteLLMModel

    return Gateway(LiteLLMModel(model))


def test_only_an_in_process_model_runs_a_round_one_turn_after_another(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from mapek.llm.offline import STREAM_DELAY_ENV
    from mapek.models import Persona

    def ctx(model: str, **personas: Persona) -> LoopContext:
        none: Any = None
        return LoopContext(run_id="run", kb=none, gateway=_gateway(model), model=model,
                           personas=personas, tools=none, triager=none, run_dir=Path("."))

    monkeypatch.delenv(STREAM_DELAY_ENV, raising=False)
    assert not ctx("mapek/offline").concurrent(["cfo", "legal"])
    assert ctx("openai/gpt-4o-mini").concurrent(["cfo", "legal"])  # waits on a network
    monkeypatch.setenv("MAPEK_OFFLINE_VIA_LITELLM", "1")
    assert ctx("mapek/offline").concurrent(["cfo"])  # through litellm's provider
    monkeypatch.delenv("MAPEK_OFFLINE_VIA_LITELLM")
    monkeypatch.setenv(STREAM_DELAY_ENV, "0.01")
    assert ctx("mapek/offline").concurrent(["cfo"])  # it sleeps between streamed pieces
    monkeypatch.delenv(STREAM_DELAY_ENV)
    own = Persona(name="cfo", role="CFO", goal="costs", expertise=["money"], model="ollama/llama3")
    assert ctx("mapek/offline", cfo=own).concurrent(["cfo", "legal"])  # a model of its own
    assert not ctx("mapek/offline", cfo=own).concurrent(["legal"])
    from mapek.llm.spec import ModelSpec

    with_models = ctx("mapek/offline")
    with_models.models["legal"] = ModelSpec(name="openai/gpt-4o-mini")  # the runtime spec's
    assert with_models.concurrent(["legal"])
