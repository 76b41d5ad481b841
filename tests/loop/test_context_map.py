"""``LoopContext.map`` (a round's persona turns): every item but the last on the session's
threads, the last in the calling thread at the same time; results in order; the first failure
in order raised once every item has finished."""

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
