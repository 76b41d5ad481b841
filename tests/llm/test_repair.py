"""Repair of broken structured output, one test per kind of breakage (no model involved)."""

from __future__ import annotations

import json
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict

from mapek.llm.repair import (
    RepairError,
    close_truncated,
    extract_json,
    fix_syntax,
    parse_json,
    prune_extra,
    repair,
)


class Item(BaseModel):
    name: str
    qty: int = 1


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer: str
    items: list[Item]
    priority: Literal["low", "high"] = "low"
    note: str | None = None


GOOD = {"customer": "Ada", "items": [{"name": "tea", "qty": 2}], "priority": "high"}


def test_valid_json_passes_untouched() -> None:
    assert repair(json.dumps(GOOD), Order) == Order.model_validate(GOOD)


def test_code_fence_with_prose_around() -> None:
    text = f"Sure! Here it is:\n```json\n{json.dumps(GOOD, indent=2)}\n```\nAnything else?"
    assert repair(text, Order).customer == "Ada"


def test_fence_without_language_tag() -> None:
    assert repair(f"```\n{json.dumps(GOOD)}\n```", Order).priority == "high"


def test_prose_around_bare_json() -> None:
    text = f"I think the order is {json.dumps(GOOD)} -- hope that helps."
    assert repair(text, Order).items[0].qty == 2


def test_single_quotes_and_trailing_commas() -> None:
    text = "{'customer': 'Ada', 'items': [{'name': 'tea', 'qty': 2,},], 'priority': 'high',}"
    assert repair(text, Order) == Order.model_validate(GOOD)


def test_python_literals_unquoted_keys_and_comments() -> None:
    text = '{customer: "Ada", // who\n items: [], note: None, /* x */ priority: "low"}'
    order = repair(text, Order)
    assert order.note is None and order.items == []


def test_apostrophe_inside_single_quoted_string() -> None:
    assert repair("{'customer': 'O\\'Brien', 'items': []}", Order).customer == "O'Brien"


def test_truncated_inside_a_string() -> None:
    text = '{"customer": "Ada", "items": [{"name": "tea", "qty": 2}], "note": "call befo'
    order = repair(text, Order)
    assert order.note == "call befo" and order.items[0].name == "tea"


def test_truncated_after_a_key_drops_the_dangling_key() -> None:
    text = '{"customer": "Ada", "items": [{"name": "tea"}], "priority":'
    assert repair(text, Order).priority == "low"


def test_truncated_mid_literal_and_mid_number() -> None:
    assert close_truncated('{"a": tru') == '{"a": true}'
    assert json.loads(close_truncated('{"a": [1, 2.')) == {"a": [1, 2]}
    assert json.loads(close_truncated('{"a": {"b": [1, {"c": "x"')) == {
        "a": {"b": [1, {"c": "x"}]}
    }


def test_truncated_inside_a_fence() -> None:
    text = 'Here:\n```json\n{"customer": "Ada", "items": [{"name": "tea", "qty": 3'
    assert repair(text, Order).items[0].qty == 3


def test_extra_fields_dropped_when_the_schema_forbids_them() -> None:
    data = {**GOOD, "confidence": 0.9, "items": [{"name": "tea", "colour": "green"}]}
    order = repair(json.dumps(data), Order)
    assert order.customer == "Ada"  # `confidence` dropped; Item allows extras and ignores them


def test_extra_fields_at_depth_are_pruned_by_schema() -> None:
    class Inner(BaseModel):
        model_config = ConfigDict(extra="forbid")
        x: int

    class Outer(BaseModel):
        model_config = ConfigDict(extra="forbid")
        inner: Inner
        rest: list[Inner] = []

    text = '{"inner": {"x": 1, "y": 2}, "rest": [{"x": 3, "z": 4}], "w": 5}'
    assert repair(text, Outer) == Outer(inner=Inner(x=1), rest=[Inner(x=3)])
    assert prune_extra({"inner": {"x": 1, "y": 2}}, Outer.model_json_schema()) == {
        "inner": {"x": 1}
    }


def test_wrapped_in_a_named_object_or_a_list() -> None:
    assert repair(json.dumps({"Order": GOOD}), Order).customer == "Ada"
    assert repair(json.dumps([GOOD]), Order).customer == "Ada"


def test_double_encoded_json() -> None:
    assert repair(json.dumps(json.dumps(GOOD)), Order).customer == "Ada"


def test_missing_required_field_is_not_invented() -> None:
    with pytest.raises(RepairError) as info:
        repair('{"items": []}', Order)
    assert "customer" in info.value.problem and "required" in info.value.problem


def test_wrong_type_is_reported() -> None:
    with pytest.raises(RepairError, match="items"):
        repair('{"customer": "Ada", "items": "tea"}', Order)


def test_no_json_at_all() -> None:
    with pytest.raises(RepairError, match="no JSON"):
        repair("I am not sure what you mean.", Order)


def test_hopeless_syntax_says_so() -> None:
    with pytest.raises(RepairError, match="not valid JSON"):
        parse_json("{:::}")


def test_unconvertible_number_is_a_repair_error() -> None:
    """json.loads raises a plain ValueError (no ``msg``/``pos``) for an integer longer than
    Python converts; the repairer reports it like any unparseable reply."""
    huge = '{"customer": "Ada", "items": [], "n": ' + "1" * 5000  # truncated, too long an int
    with pytest.raises(RepairError, match="not valid JSON .*integer string conversion"):
        parse_json(huge)
    with pytest.raises(RepairError, match="not valid JSON"):
        repair(huge, Order)


def test_helpers_individually() -> None:
    assert extract_json('say {"a": {"b": "}"}} and more {"c": 1}') == '{"a": {"b": "}"}}'
    assert fix_syntax("{'a': True, 'b': [1, 2,],}") == '{"a": true, "b": [1, 2]}'
    assert close_truncated('{"a": 1, "b"') == '{"a": 1}'
