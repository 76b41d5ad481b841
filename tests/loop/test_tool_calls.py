"""Personas see the tools they hold, with argument schemas; the offline model calls each of them
and hears back; a call whose arguments do not fit is not run and its proposer is re-asked.
In-process sessions on a real SQLite workspace."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mapek.api import Session
from mapek.loop.worker import run_session
from mapek.render import event_text
from mapek.safety.tools import Tool, tool
from mapek.testing import FunctionModel
from mapek.testing.discussion import discussion_model

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"
PEOPLE = ["cfo", "skeptic", "legal"]
PERSONAS = Path(__file__).resolve().parents[2] / "personas"


@dataclass
class Priced:
    """A persona folder whose CFO also holds ``lookup_price``, a custom read tool given to the
    session; ``ran`` records each time the tool really runs."""

    folder: Path
    tool: Tool
    ran: list[dict[str, Any]]

    def session(self, max_turns: int) -> Session:
        return Session.create(TOPIC, PEOPLE, tools=[self.tool], human="defer",
                              max_turns=max_turns, personas_dir=self.folder, in_process=True)


@pytest.fixture
def priced(tmp_path: Path) -> Priced:
    ran: list[dict[str, Any]] = []

    @tool(effect="read", resource="price list")
    def lookup_price(item: str, quantity: int = 1) -> str:
        """Look up what an item costs.

        Args:
            item: what to price.
            quantity: how many.
        """
        ran.append({"item": item, "quantity": quantity})
        return f"{quantity} x {item} costs {12 * quantity} EUR a month"

    folder = tmp_path / "personas"
    folder.mkdir()
    for name in PEOPLE:
        text = (PERSONAS / f"{name}.yaml").read_text()
        if name == "cfo":
            text = text.replace("tools: [kb_search, read_reference]",
                                "tools: [kb_search, read_reference, lookup_price]")
            assert "lookup_price" in text
        (folder / f"{name}.yaml").write_text(text)
    return Priced(folder, lookup_price, ran)


def test_the_offline_discussion_calls_every_tool_each_persona_holds(
        home: Path, priced: Priced) -> None:
    folder, ran = priced.folder, priced.ran
    s = priced.session(max_turns=18)
    run_session(s.run_id, tools=[priced.tool])
    events = s.history()
    held = {"cfo": ["kb_search", "read_reference", "lookup_price"], "skeptic": ["kb_search"],
            "legal": ["kb_search", "read_reference"]}
    calls = [e for e in events if e.kind == "tool.call"]
    said = [e for e in events if e.kind == "message"]
    for persona, tools in held.items():
        for name in tools:
            mine = [e for e in calls if e.actor == persona and e.payload["tool"] == name]
            assert [e.payload["outcome"] for e in mine] == ["ok"], (persona, name)
            # ... and the persona says what it gave on a later turn.
            later = [e.payload["text"] for e in said if e.actor == persona
                     and e.seq > mine[0].seq]
            assert any(f"{name} told me" in t for t in later), (persona, name, later)
    # The custom tool ran once, with arguments sampled from its schema and checked.
    assert len(ran) == 1 and isinstance(ran[0]["quantity"], int) and ran[0]["item"]
    [price] = [e for e in calls if e.payload["tool"] == "lookup_price"]
    assert price.payload["output"].startswith(f"{ran[0]['quantity']} x {ran[0]['item']}")
    # Each persona's search asked about one of its own concerns.
    queries = {e.actor: e.payload["args"]["query"] for e in calls
               if e.payload["tool"] == "kb_search"}
    for persona in held:
        yaml_text = (folder / f"{persona}.yaml").read_text()
        assert queries[persona] in yaml_text
    s.close()


def _with_extra(extra: dict[str, list[dict[str, Any]]]) -> FunctionModel:
    """The offline scripts, plus the actions a persona proposes on its first turn."""
    return discussion_model(first_turn={name: {"actions": acts} for name, acts in extra.items()})


def test_an_invalid_call_is_not_run_and_its_proposer_is_reasked(
        home: Path, priced: Priced) -> None:
    ran = priced.ran
    s = priced.session(max_turns=10)
    bad = {"item": "storage", "quantity": "lots", "colour": "red"}
    model = _with_extra({"cfo": [{"tool": "lookup_price", "args": bad, "why": "price it"}]})
    run_session(s.run_id, model=model, tools=[priced.tool])
    events = s.history()
    # Recorded as invalid, once, naming the bad arguments; never screened, never run.
    [inv] = [e for e in events if e.kind == "tool.call" and e.payload["tool"] == "lookup_price"]
    assert inv.actor == "cfo" and inv.payload["outcome"] == "invalid" and inv.payload["reask"]
    assert inv.payload["args"] == bad and inv.key == "invalid:1:cfo:0"
    assert "quantity: Input should be a valid integer" in inv.payload["reason"]
    assert "colour: unknown argument" in inv.payload["reason"]
    assert ran == []
    shown = event_text(inv)
    assert shown is not None and shown.plain.startswith(
        "  ✗ cfo: lookup_price not run, invalid arguments for lookup_price: quantity")
    screened = [a["tool"] for e in events if e.kind == "screen.verdict"
                for k in ("allowed", "refused", "pending") for a in e.payload[k]]
    assert "lookup_price" not in screened
    # The CFO's next turn is told what was wrong and shown the schema to call it again with.
    turns = [r for r in model.requests if r.task == "persona_turn"
             and r.context["persona"]["name"] == "cfo"]
    assert len(turns) >= 2
    first, nxt = turns[0], turns[1]
    assert [t["name"] for t in first.context["tools"]] == ["kb_search", "read_reference",
                                                          "lookup_price"]
    prompt = first.messages[-1]["content"]
    assert "- lookup_price (read): Look up what an item costs. Arguments: {" in prompt
    assert '"quantity":{"default":1,"description":"how many.","type":"integer"}' in prompt
    [told] = [r for r in nxt.context["results"] if r["tool"] == "lookup_price"]
    assert told["outcome"] == "invalid" and "colour: unknown argument" in told["output"]
    text = nxt.messages[-1]["content"]
    assert "Results of the tool calls you proposed" in text
    assert "- lookup_price (invalid): invalid arguments for lookup_price:" in text
    assert "Propose lookup_price again with arguments that fit its schema:" in text
    said = [e.payload["text"] for e in events if e.kind == "message" and e.actor == "cfo"]
    assert any("My lookup_price call had arguments that did not fit" in t for t in said)
    s.close()


def test_tool_cards_are_made_once_per_session_and_persona(
        home: Path, priced: Priced, monkeypatch: pytest.MonkeyPatch) -> None:
    """A persona's tool cards (and their lines in its prompt) are made on its first turn and
    kept for the session: each turn is shown the same cards and lines as the first."""
    import sys

    made: list[tuple[str, str]] = []
    schema = Tool.args_schema

    def counted(self: Tool) -> dict[str, Any]:
        made.append((sys._getframe(1).f_code.co_name, self.name))  # noqa: SLF001
        return schema(self)

    monkeypatch.setattr(Tool, "args_schema", counted)
    s = priced.session(max_turns=12)
    model = discussion_model()
    run_session(s.run_id, model=model, tools=[priced.tool])
    held = {"cfo": ["kb_search", "read_reference", "lookup_price"], "skeptic": ["kb_search"],
            "legal": ["kb_search", "read_reference"]}
    carded = [name for caller, name in made if caller == "_tool_prompt"]
    assert sorted(carded) == sorted(n for tools in held.values() for n in tools)
    for persona, tools in held.items():
        turns = [r for r in model.requests if r.task == "persona_turn"
                 and r.context["persona"]["name"] == persona]
        assert len(turns) >= 3, persona
        lines = [[ln for ln in r.messages[-1]["content"].splitlines()
                  if ln.startswith(tuple(f"- {n} (" for n in tools)) and " Arguments: " in ln]
                 for r in turns]
        assert len(lines[0]) == len(tools) and all(x == lines[0] for x in lines), persona
        assert all(r.context["tools"] == turns[0].context["tools"] for r in turns)
        assert [c["name"] for c in turns[0].context["tools"]] == tools
    s.close()
