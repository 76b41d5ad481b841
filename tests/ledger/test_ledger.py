"""The effects ledger through the tool gateway, on a real SQLite log: intent before the call,
the recorded result instead of a second run, calls in doubt, key collisions, keys for tools."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mapek.errors import IdempotencyKeyCollision, UserError
from mapek.knowledge import KnowledgeBase
from mapek.ledger import Ledger, accepts_key, args_digest, effect_key
from mapek.models import EventDraft
from mapek.safety.gateway import ToolGateway
from mapek.safety.tools import ToolRegistry, tool

RUN = "run-ledger"


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[Any]:
    with KnowledgeBase.open(tmp_path / "ws", index_on_record=False) as k:
        yield k


def _tools(calls: list[dict[str, Any]]) -> ToolRegistry:
    reg = ToolRegistry()

    @tool(effect="write", resource="ledger")
    def append(entry: str) -> str:
        """Not safe to repeat."""
        calls.append({"tool": "append", "entry": entry})
        return f"appended {entry}"

    @tool(effect="write", resource="ledger", idempotent=True)
    def put(entry: str, idempotency_key: str | None = None) -> str:
        """Safe to repeat; forwards the key."""
        calls.append({"tool": "put", "entry": entry, "key": idempotency_key})
        return f"put {entry}"

    @tool(effect="read", resource="ledger")
    def look(entry: str) -> str:
        calls.append({"tool": "look", "entry": entry})
        return "seen"

    @tool(effect="external", resource="mail")
    def send(to: str) -> str:
        calls.append({"tool": "send", "to": to})
        return f"sent to {to}"

    for t in (append, put, look, send):
        reg.register(t)
    return reg


def _gateway(kb: Any, calls: list[dict[str, Any]], **kw: Any) -> ToolGateway:
    gw = ToolGateway(_tools(calls), kb, RUN, **kw)
    for name in ("append", "put"):
        gw.grant(name, justification="the test writes", by="human")
    return gw


def _kill_mid_call(kb: Any, gw: ToolGateway, tool: str, args: dict[str, Any], key: str) -> None:
    """What a process that died during the call leaves: the intent, no result."""
    t = gw.tools.get(tool)
    assert t is not None
    gw.ledger.intend(key, tool, args, actor="agent", effect=t.effect, idempotent=t.idempotent,
                     node="execute/1/0")


def test_effect_key_is_durable_identity() -> None:
    k = effect_key("r", "execute/1/0", "append", {"b": 2, "a": [1, "x"]})
    assert k == effect_key("r", "execute/1/0", "append", {"a": [1, "x"], "b": 2})
    assert len(k) == 64 and int(k, 16) >= 0
    others = {effect_key("r2", "execute/1/0", "append", {"b": 2, "a": [1, "x"]}),
              effect_key("r", "execute/1/1", "append", {"b": 2, "a": [1, "x"]}),
              effect_key("r", "execute/1/0", "put", {"b": 2, "a": [1, "x"]}),
              effect_key("r", "execute/1/0", "append", {"b": 3, "a": [1, "x"]})}
    assert k not in others and len(others) == 4
    with pytest.raises(UserError, match="node path"):
        effect_key("r", "", "append", {})


def test_intent_is_recorded_before_the_call_and_the_result_after(kb: Any) -> None:
    calls: list[dict[str, Any]] = []
    seen: list[list[str]] = []

    gw = _gateway(kb, calls)
    real = gw.tools.tools["append"].fn

    def spy(entry: str) -> str:  # what the log holds while the tool runs
        seen.append([e.kind for e in kb.events(RUN, kinds=["effect.intent", "tool.call"])])
        return real(entry)

    object.__setattr__(gw.tools.tools["append"], "fn", spy)
    key = effect_key(RUN, "workflow/0/0", "append", {"entry": "a"})
    res = gw.call("append", {"entry": "a"}, actor="agent", key=key, node="workflow/0/0")
    assert res.outcome == "ok" and seen == [["effect.intent"]]
    intent, result = kb.events(RUN, kinds=["effect.intent", "tool.call"])
    assert intent.key == f"{key}:intent:1" and result.key == key
    assert intent.payload["args_digest"] == args_digest({"entry": "a"})
    assert intent.payload["node"] == "workflow/0/0" and intent.payload["idempotent"] is False
    assert gw.ledger.get(key).status == "done"  # type: ignore[union-attr]


def test_a_completed_effect_returns_its_result_without_running_again(kb: Any) -> None:
    calls: list[dict[str, Any]] = []
    key = effect_key(RUN, "workflow/0/0", "append", {"entry": "a"})
    first = _gateway(kb, calls).call("append", {"entry": "a"}, actor="agent", key=key)
    again = ToolGateway(_tools(calls), kb, RUN).call("append", {"entry": "a"}, actor="agent",
                                                     key=key)  # a new process: a new gateway
    assert [c["entry"] for c in calls] == ["a"]
    assert (again.outcome, again.output, again.seq) == ("ok", "appended a", first.seq)
    assert len(kb.events(RUN, kinds=["effect.intent"])) == 1


def test_read_only_calls_need_no_ledger(kb: Any) -> None:
    calls: list[dict[str, Any]] = []
    gw = _gateway(kb, calls)
    gw.call("look", {"entry": "a"}, actor="agent", key="k-look")
    gw.call("look", {"entry": "a"}, actor="agent", key="k-look")
    assert len(calls) == 1 and not kb.events(RUN, kinds=["effect.intent"])
    assert len(kb.events(RUN, kinds=["tool.call"])) == 1


def test_an_idempotent_call_in_doubt_runs_again(kb: Any) -> None:
    calls: list[dict[str, Any]] = []
    gw = _gateway(kb, calls)
    key = effect_key(RUN, "workflow/1/0", "put", {"entry": "b"})
    _kill_mid_call(kb, gw, "put", {"entry": "b"}, key)
    gw2 = ToolGateway(_tools(calls), kb, RUN)
    assert gw2.ledger.get(key).status == "in_doubt"  # type: ignore[union-attr]
    res = gw2.call("put", {"entry": "b"}, actor="agent", key=key)
    assert res.outcome == "ok" and calls == [{"tool": "put", "entry": "b", "key": key}]
    assert [e.payload["attempt"] for e in kb.events(RUN, kinds=["effect.intent"])] == [1, 2]
    assert gw2.ledger.get(key).status == "done"  # type: ignore[union-attr]


def test_a_call_in_doubt_that_is_not_idempotent_is_escalated_not_run(kb: Any) -> None:
    calls: list[dict[str, Any]] = []
    gw = _gateway(kb, calls)
    key = effect_key(RUN, "workflow/2/0", "append", {"entry": "c"})
    _kill_mid_call(kb, gw, "append", {"entry": "c"}, key)
    asked = []
    gw2 = ToolGateway(_tools(calls), kb, RUN, approver=lambda r: asked.append(r) or False)
    res = gw2.call("append", {"entry": "c"}, actor="agent", key=key)
    assert res.outcome == "needs_approval" and calls == []
    assert res.approval is not None and res.approval.in_doubt
    assert res.approval.args == {"entry": "c"} and "may already have happened" in res.reason
    assert asked and asked[0].in_doubt  # the human channel was asked; False is no answer
    # no result is recorded: asking again asks again, never runs
    res = ToolGateway(_tools(calls), kb, RUN).call("append", {"entry": "c"}, actor="agent", key=key)
    assert res.outcome == "needs_approval" and calls == []
    assert len(kb.events(RUN, kinds=["effect.in_doubt"])) == 1  # the doubt, recorded once
    assert not kb.events(RUN, kinds=["tool.call"])


def test_a_human_says_it_happened_the_result_is_recorded_without_running(kb: Any) -> None:
    calls: list[dict[str, Any]] = []
    gw = _gateway(kb, calls)
    key = effect_key(RUN, "workflow/3/0", "append", {"entry": "d"})
    _kill_mid_call(kb, gw, "append", {"entry": "d"}, key)
    Ledger(kb, RUN).resolve(key[:12], "happened", note="seen in the ledger service")
    res = ToolGateway(_tools(calls), kb, RUN).call("append", {"entry": "d"}, actor="agent", key=key)
    assert res.outcome == "ok" and calls == []
    assert "had happened" in kb.events(RUN, kinds=["tool.call"])[-1].payload["reason"]
    again = ToolGateway(_tools(calls), kb, RUN).call("append", {"entry": "d"}, actor="agent",
                                                     key=key)
    assert again.seq == res.seq and calls == []


def test_a_human_says_run_it_it_runs_once_more(kb: Any) -> None:
    calls: list[dict[str, Any]] = []
    gw = _gateway(kb, calls)
    key = effect_key(RUN, "workflow/4/0", "append", {"entry": "e"})
    _kill_mid_call(kb, gw, "append", {"entry": "e"}, key)
    gw2 = ToolGateway(_tools(calls), kb, RUN, approver=lambda r: "run" if r.in_doubt else None)
    assert gw2.call("append", {"entry": "e"}, actor="agent", key=key).outcome == "ok"
    assert gw2.call("append", {"entry": "e"}, actor="agent", key=key).outcome == "ok"
    assert calls == [{"tool": "append", "entry": "e"}]
    kinds = [e.kind for e in kb.events(RUN) if e.kind.startswith(("effect.", "tool."))]
    assert kinds == ["effect.intent", "effect.resolved", "effect.intent", "tool.call"]


def test_a_key_collision_is_a_clear_error_and_nothing_runs(kb: Any) -> None:
    calls: list[dict[str, Any]] = []
    gw = _gateway(kb, calls)
    gw.call("append", {"entry": "f"}, actor="agent", key="order-17")
    before = kb.log.last_seq(RUN)
    with pytest.raises(IdempotencyKeyCollision, match="collision.*arguments.*nothing was run"):
        gw.call("append", {"entry": "g"}, actor="agent", key="order-17")
    with pytest.raises(IdempotencyKeyCollision, match="tool 'put', recorded for 'append'"):
        gw.call("put", {"entry": "f"}, actor="agent", key="order-17")
    assert len(calls) == 1 and kb.log.last_seq(RUN) == before
    # also against an intent without a result
    _kill_mid_call(kb, gw, "put", {"entry": "h"}, "order-18")
    with pytest.raises(IdempotencyKeyCollision):
        gw.call("put", {"entry": "i"}, actor="agent", key="order-18")
    assert len(calls) == 1
    assert kb.verify(RUN).ok


def test_a_ledger_row_half_written_by_a_crash_is_in_doubt(kb: Any) -> None:
    """A crash leaves at most an intent without its result (each event is one transaction)."""
    calls: list[dict[str, Any]] = []
    gw = _gateway(kb, calls)
    key = effect_key(RUN, "workflow/5/0", "append", {"entry": "j"})
    _kill_mid_call(kb, gw, "append", {"entry": "j"}, key)
    led = Ledger(kb, RUN)
    [e] = led.in_doubt()
    assert (e.key, e.tool, e.args, e.attempts, e.node) == (key, "append", {"entry": "j"}, 1,
                                                          "execute/1/0")
    # an effect event with no usable key (written by hand, say) is ignored, not trusted
    kb.append(EventDraft(run_id=RUN, kind="effect.intent", actor="x", payload={"tool": "append"}))
    assert [x.key for x in Ledger(kb, RUN).in_doubt()] == [key]
    with pytest.raises(UserError, match="'happened' or 'run'"):
        led.resolve(key, "maybe")
    with pytest.raises(UserError, match="no effect"):
        led.resolve("nosuchkey-123", "run")
    gw.call("put", {"entry": "k"}, actor="agent", key="done-1")
    with pytest.raises(UserError, match="is done, not in doubt"):
        Ledger(kb, RUN).resolve("done-1", "run")


def test_a_tool_that_takes_the_key_receives_it(kb: Any) -> None:
    calls: list[dict[str, Any]] = []
    gw = _gateway(kb, calls)
    gw.call("put", {"entry": "l"}, actor="agent", key="key-l")
    gw.call("put", {"entry": "m"}, actor="agent")  # no key: nothing to pass
    gw.call("put", {"entry": "n", "idempotency_key": "forged"}, actor="agent", key="key-n:0",
            node="workflow/3")  # the key of the node (same for each retry), not an argument
    assert [c["key"] for c in calls] == ["key-l", None,
                                        effect_key(RUN, "workflow/3", "put", {"entry": "n"})]
    assert accepts_key(gw.tools.tools["put"].fn) and not accepts_key(gw.tools.tools["append"].fn)


def test_an_approval_is_asked_before_the_intent(kb: Any) -> None:
    calls: list[dict[str, Any]] = []
    gw = _gateway(kb, calls)
    res = gw.call("send", {"to": "a@example.com"}, actor="agent", key="mail-1")
    assert res.outcome == "needs_approval" and not kb.events(RUN, kinds=["effect.intent"])
    gw2 = _gateway(kb, calls)
    res = gw2.call("send", {"to": "b@example.com"}, actor="agent", key="mail-2", approved=True)
    assert res.outcome == "ok" and len(kb.events(RUN, kinds=["effect.intent"])) == 1


def test_a_call_given_up_on_at_its_timeout_is_in_doubt_not_an_error(kb: Any) -> None:
    import threading

    release = threading.Event()
    reg = ToolRegistry()

    @tool(effect="write", resource="slow service", timeout=0.2)
    def slow_append(entry: str) -> str:
        release.wait(10)
        return "late"

    @tool(effect="write", resource="slow service", timeout=0.2, idempotent=True)
    def slow_put(entry: str) -> str:
        release.wait(10)
        return "late"

    reg.register(slow_append)
    reg.register(slow_put)
    gw = ToolGateway(reg, kb, RUN)
    for name in ("slow_append", "slow_put"):
        gw.grant(name, justification="the test writes", by="human")
    try:
        res = gw.call("slow_append", {"entry": "o"}, actor="agent", key="slow-1")
        assert res.outcome == "needs_approval" and res.approval and res.approval.in_doubt
        assert "given up on" in res.reason and "may already have happened" in res.reason
        assert gw.ledger.get("slow-1").status == "in_doubt"  # type: ignore[union-attr]
        assert not kb.events(RUN, kinds=["tool.call"])
        res = gw.call("slow_put", {"entry": "p"}, actor="agent", key="slow-2")
        assert res.outcome == "error" and "TimeoutError" in res.output  # safe to repeat
    finally:
        release.set()


def test_the_loop_asks_about_its_calls_in_doubt_before_running_any(kb: Any) -> None:
    from mapek.loop.execute import _doubts

    calls: list[dict[str, Any]] = []
    gw = _gateway(kb, calls)
    allowed = [{"step": i, "tool": tool_, "args": {"entry": str(i)}, "proposed_by": "cfo"}
               for i, tool_ in enumerate(["append", "put", "append", "append", "look"])]
    for a in allowed[:3]:  # died during steps 0-2 of round 4
        _kill_mid_call(kb, gw, a["tool"], a["args"], f"tool:4:{a['step']}")
    Ledger(kb, RUN).resolve("tool:4:2", "happened")
    gw.call("append", {"entry": "3"}, actor="cfo", key="tool:4:3", node="execute/4/3")
    [d] = _doubts(gw, allowed, 4)  # put is idempotent, 2 answered, 3 done, look reads
    assert (d["call_id"], d["tool"], d["args"], d["in_doubt"]) == (
        "doubt:tool:4:0:1", "append", {"entry": "0"}, True)
    assert "may already have happened" in d["why"]
    # approve -> "run": it runs once more, with the node's key recorded with the intent
    res = gw.call("append", {"entry": "0"}, actor="cfo", key="tool:4:0", in_doubt="run",
                  node="execute/4/0")
    assert res.outcome == "ok" and calls[-1] == {"tool": "append", "entry": "0"}
    assert _doubts(gw, allowed, 4) == []
