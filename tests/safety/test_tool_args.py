"""Tools' argument schemas (derived from signatures, or given as JSON schema) and the gateway's
check of every call against them, on a real SQLite log."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import pytest
from pydantic import BaseModel, Field

from mapek.errors import UserError
from mapek.knowledge import KnowledgeBase
from mapek.ledger import accepts_key
from mapek.safety.gateway import ToolGateway
from mapek.safety.tools import Tool, ToolArgumentsError, ToolRegistry, tool

RUN = "r1"


class Line(BaseModel):
    sku: str
    qty: int = 1


@tool(effect="read")
def lookup(query: str, limit: int = 3, mode: Literal["exact", "fuzzy"] = "exact",
           tags: list[str] | None = None, region: Optional[str] = None,  # noqa: UP045
           line: Line | None = None, idempotency_key: str | None = None,
           note: Annotated[str, Field(description="a note to keep")] = "") -> str:
    """Look up prices.

    Args:
        query: what to look for,
            in plain words.
        limit: how many hits at most.
    """
    return "x"


def test_a_schema_is_derived_from_the_signature() -> None:
    s = lookup.args_schema()
    props = s["properties"]
    assert s["type"] == "object" and s["additionalProperties"] is False
    assert s["required"] == ["query"]
    assert props["query"] == {"type": "string", "description": "what to look for, in plain words."}
    assert props["limit"] == {"type": "integer", "default": 3, "description":
                              "how many hits at most."}
    assert props["mode"]["enum"] == ["exact", "fuzzy"] and props["mode"]["default"] == "exact"
    assert {"type": "array", "items": {"type": "string"}} in props["tags"]["anyOf"]
    assert {"type": "null"} in props["region"]["anyOf"]
    assert {"$ref": "#/$defs/Line"} in props["line"]["anyOf"]
    assert s["$defs"]["Line"]["required"] == ["sku"]
    assert props["note"]["description"] == "a note to keep"
    # What the gateway passes itself is not the model's to set; no pydantic titles either.
    assert "idempotency_key" not in props and "title" not in json.dumps(s)
    # A copy each time: editing one does not change the tool.
    s["properties"].clear()
    assert lookup.args_schema()["properties"]


def test_arguments_are_coerced_and_only_given_ones_are_passed() -> None:
    out = lookup.validate_args({"query": "cpu", "limit": "5", "line": {"sku": "a"},
                                "idempotency_key": "forged"})
    assert out == {"query": "cpu", "limit": 5, "line": Line(sku="a", qty=1)}


@pytest.mark.parametrize(("args", "fields", "said"), [
    ({}, ["query"], "query: required, missing"),
    ({"query": "q", "limit": "many"}, ["limit"], "limit: Input should be a valid integer"),
    ({"query": "q", "mode": "loose"}, ["mode"], "mode: Input should be 'exact' or 'fuzzy'"),
    ({"query": "q", "tags": "a"}, ["tags"], "tags"),
    ({"query": "q", "line": {"qty": 2}}, ["line.sku"], "line.sku: required, missing"),
    ({"query": "q", "colour": "red", "size": 2}, ["colour", "size"],
     "colour: unknown argument; size: unknown argument"),
])
def test_a_bad_call_names_its_fields(args: dict[str, Any], fields: list[str], said: str) -> None:
    with pytest.raises(ToolArgumentsError) as err:
        lookup.validate_args(args)
    assert isinstance(err.value, UserError)
    assert err.value.fields == fields and err.value.tool == "lookup"
    assert str(err.value).startswith("invalid arguments for lookup: ") and said in str(err.value)
    assert "\n" not in str(err.value)


def test_kwargs_functions_take_extra_arguments() -> None:
    @tool(effect="read")
    def anything(a: int, **rest: Any) -> str:
        return "ok"

    s = anything.args_schema()
    assert s["additionalProperties"] is True and s["required"] == ["a"]
    assert anything.validate_args({"a": "1", "b": [1]}) == {"a": 1, "b": [1]}
    with pytest.raises(ToolArgumentsError, match="a: required"):
        anything.validate_args({"b": 1})


def test_untyped_parameters_and_unresolvable_hints() -> None:
    @tool(effect="read")
    def loose(x, n=2, flag=False):  # type: ignore[no-untyped-def]
        return "ok"

    props = loose.args_schema()["properties"]
    assert props["x"] == {} and props["n"]["type"] == "integer"
    assert props["flag"]["type"] == "boolean"
    assert loose.validate_args({"x": {"any": 1}, "n": "4"}) == {"x": {"any": 1}, "n": 4}

    class Local:
        pass

    def local(thing: Local, name: str) -> str:
        return "ok"

    t = Tool("local", "read", local)  # `Local` cannot be resolved from the module: anything
    assert t.args_schema()["required"] == ["thing", "name"]
    assert t.validate_args({"thing": 1, "name": "n"}) == {"thing": 1, "name": "n"}


def test_an_explicit_json_schema_is_checked_with_jsonschema() -> None:
    params = {"type": "object", "properties": {"city": {"type": "string"},
                                               "days": {"type": "integer", "minimum": 1}},
              "required": ["city"]}

    @tool(effect="read", parameters=params)
    def forecast(**kwargs: Any) -> str:
        return "sunny"

    assert forecast.args_schema() == params
    assert forecast.validate_args({"city": "Oslo", "days": 2}) == {"city": "Oslo", "days": 2}
    with pytest.raises(ToolArgumentsError) as err:
        forecast.validate_args({"days": 0, "wind": True})
    assert err.value.fields == ["city", "wind", "days"]
    assert "city: required, missing" in str(err.value) and "wind: unknown argument" in \
        str(err.value) and "days: 0 is less than the minimum of 1" in str(err.value)
    # additionalProperties said explicitly is respected.
    open_t = dataclasses.replace(forecast, parameters={**params, "additionalProperties": True})
    assert open_t.validate_args({"city": "Oslo", "wind": True}) == {"city": "Oslo", "wind": True}


def test_the_signature_digest_changes_with_the_signature_only() -> None:
    def v1(path: str) -> str:
        return "ok"

    def v1_doc(path: str) -> str:
        """Now documented.

        Args:
            path: the file.
        """
        return "ok"

    def v2(path: str, force: bool = False) -> str:
        return "ok"

    a, b, c = (Tool("t", "write", f) for f in (v1, v1_doc, v2))
    assert a.signature_digest() == Tool("t", "write", v1).signature_digest()
    assert len(a.signature_digest()) == 16
    assert a.signature_digest() == b.signature_digest()  # a description is not a signature
    assert a.signature_digest() != c.signature_digest()
    assert a.signature_digest() != Tool("t", "destructive", v1).signature_digest()


def test_a_wrapped_function_keeps_its_schema(tmp_path: Path) -> None:
    from mapek.breaker.guard import WorkerGuard

    def put(entry: str, idempotency_key: str | None = None) -> str:
        return entry

    reg = ToolRegistry()
    reg.register(tool(effect="write")(put))
    beat = tmp_path / "heartbeat"
    beat.touch()
    WorkerGuard(beat, stale=60).wrap_tools(reg)  # what a watched worker does to its tools
    wrapped = reg.tools["put"]
    assert wrapped.fn is not put and accepts_key(wrapped.fn)
    assert wrapped.args_schema()["required"] == ["entry"]
    with pytest.raises(ToolArgumentsError, match="other: unknown argument"):
        wrapped.validate_args({"entry": "e", "other": 1})


# -- the gateway ---------------------------------------------------------------------------


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[Any]:
    with KnowledgeBase.open(tmp_path / "ws", index_on_record=False) as k:
        yield k


def _registry(ran: list[dict[str, Any]]) -> ToolRegistry:
    reg = ToolRegistry()

    @tool(effect="read")
    def price(item: str, quantity: int = 1) -> str:
        ran.append({"tool": "price", "item": item, "quantity": quantity})
        return f"{quantity} x {item}: {quantity * 3} EUR"

    @tool(effect="destructive", target="path")
    def wipe(path: str) -> str:
        ran.append({"tool": "wipe", "path": path})
        return f"wiped {path}"

    reg.register(price)
    reg.register(wipe)
    return reg


def test_an_invalid_call_is_not_run_and_is_recorded(kb: Any) -> None:
    ran: list[dict[str, Any]] = []
    asked: list[Any] = []
    gw = ToolGateway(_registry(ran), kb, RUN, approver=lambda r: asked.append(r) or True)
    res = gw.call("price", {"item": "disk", "quantity": "lots", "colour": "red"}, actor="cfo",
                  key="k1")
    assert res.outcome == "invalid" and ran == []
    assert "quantity" in res.reason and "colour: unknown argument" in res.reason
    # The result re-asks: what was wrong, and the schema to call it again with.
    assert "Nothing ran" in res.output and '"quantity":{"default":1,"type":"integer"}' in \
        res.output
    [ev] = kb.events(RUN, kinds=["tool.call"])
    p = ev.payload
    assert (p["outcome"], p["tool"], p["reask"], ev.key) == ("invalid", "price", True, "k1")
    assert p["args"] == {"item": "disk", "quantity": "lots", "colour": "red"}
    assert "colour" in p["reason"] and p["effect"] == "read"
    # The same key again: the recorded result, nothing recorded twice.
    again = gw.call("price", {"item": "disk", "quantity": "lots", "colour": "red"},
                    actor="cfo", key="k1")
    assert again.outcome == "invalid" and again.seq == ev.seq
    assert len(kb.events(RUN, kinds=["tool.call"])) == 1
    # A destructive call with bad arguments is not put to a human.
    res = gw.call("wipe", {"folder": "/tmp/x"}, actor="engineer")
    assert res.outcome == "invalid" and asked == [] and ran == []
    # A valid call runs with the coerced arguments.
    res = gw.call("price", {"item": "disk", "quantity": "2"}, actor="cfo")
    assert res.outcome == "ok" and res.output == "2 x disk: 6 EUR"
    assert ran == [{"tool": "price", "item": "disk", "quantity": 2}]
    assert kb.events(RUN, kinds=["tool.call"])[-1].payload["args"] == {"item": "disk",
                                                                      "quantity": "2"}


def test_a_call_refused_anyway_is_refused_whatever_its_arguments(kb: Any) -> None:
    ran: list[dict[str, Any]] = []
    gw = ToolGateway(_registry(ran), kb, RUN, approver=lambda r: True)
    gw.register_resource("ledger.csv")
    res = gw.call("wipe", {"path": "ledger.csv", "force": True}, actor="engineer")
    assert res.outcome == "refused" and "created by a human" in res.reason and ran == []
    # Ahead of screening, such a call is left to screening: nothing recorded as invalid.
    assert gw.invalid("wipe", {"path": "ledger.csv", "force": True}, actor="engineer") is None
    assert gw.invalid("price", {"item": "a"}, actor="cfo") is None  # fits
    assert gw.invalid("nope", {"x": 1}, actor="cfo") is None  # unknown: the check denies it
    bad = gw.invalid("price", {}, actor="cfo", key="pre:1")
    assert bad is not None and bad.outcome == "invalid" and "item: required" in bad.reason
    assert gw.invalid("price", {}, actor="cfo", key="pre:1").seq == bad.seq  # type: ignore[union-attr]
    outcomes = [e.payload["outcome"] for e in kb.events(RUN, kinds=["tool.call"])]
    assert outcomes == ["refused", "invalid"]


def test_the_model_is_built_once_per_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    import mapek.safety.tools as tools_mod

    built: list[str] = []
    real = tools_mod.create_model

    def counting(name: str, **kw: Any) -> Any:
        built.append(name)
        return real(name, **kw)

    monkeypatch.setattr(tools_mod, "create_model", counting)
    t = Tool("lookup2", "read", lookup.fn)
    for _ in range(5):
        t.args_schema()
        t.validate_args({"query": "q"})
        t.signature_digest()
    assert built == ["lookup2_args"]
    dataclasses.replace(t, name="lookup3").args_schema()  # another tool: its own model
    assert built == ["lookup2_args", "lookup3_args"]
