"""One renderer for the command line and the app: a real run printed as ``mapek runs show``
prints it, the app's wording, text shown as written (never read as markup), every kind safe."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console

from mapek.events import KINDS
from mapek.models import Event, Persona
from mapek.personas import PersonaLibrary
from mapek.render import EventRenderer, Viewer, event_summary, event_text

from .conftest import TOPIC, Runs


def _printed(events: list[Event], **kw: Any) -> str:
    con = Console(record=True, width=100, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    personas = PersonaLibrary.load(None).personas
    r = EventRenderer(con, personas, **kw)
    for ev in events:
        r.render(ev)
    return con.export_text()


def _ev(kind: str, payload: dict[str, Any], actor: str = "cfo", seq: int = 1) -> Event:
    return Event(run_id="r", seq=seq, kind=kind, actor=actor, payload=payload)


def test_a_real_run_as_the_command_line_prints_it(runs: Runs) -> None:
    events = runs.events(runs.offline)
    out = _printed(events, offline=True)
    assert f"run {runs.offline}" in out and f"▌ {TOPIC}" in out
    assert "model mapek/offline (offline: scripted, not reasoned)" in out
    assert "cfo (Chief Financial Officer)" in out and "── round 1 ·" in out
    assert "↳ routing:" in out and "answered by" in out
    assert "asks to run" in out and "needs the human's approval" in out
    assert "── finished: " in out and "llm.call" not in out
    verbose = _printed(events, verbose=True)
    calls = [e for e in events if e.kind == "llm.call"]
    assert verbose.count(" llm.call ") == len(calls) and "⤷ triage" in verbose
    assert verbose.count("⤷") == sum(e.kind == "decision.made" for e in events)
    assert "⤷" not in out


def test_the_app_and_the_terminal_name_the_human_differently() -> None:
    answer = _ev("answer", {"qid": "q1", "text": "Yes, up to 200k"}, actor="human")
    said = _ev("interjection", {"text": "Mind the egress fees", "to": "cfo"}, actor="human")
    cli, app = Viewer(), Viewer(you="you")
    assert str(event_text(answer, cli)) == "  ✓ q1 the human answered: Yes, up to 200k"
    assert str(event_text(answer, app)) == "  ✓ q1 you answered: Yes, up to 200k"
    assert str(event_text(said, cli)) == "▶ the human interjects (to cfo): Mind the egress fees"
    assert str(event_text(said, app)) == "▶ you interject (to cfo): Mind the egress fees"


def test_text_is_shown_as_written() -> None:
    # Square brackets in what a persona says are text, not console markup (a stray "[/]"
    # used to stop the command line with a markup error).
    cfo = Persona(name="cfo", role="CFO", goal="g", expertise=["money"], color="green")
    ev = _ev("message", {"text": "Costs [bold]rise[/] and [/] falls", "turn": {"stance": "x"}})
    out = _printed([ev])
    assert "Costs [bold]rise[/] and [/] falls" in out
    text = event_text(ev, Viewer({"cfo": cfo}))
    assert text is not None and text.spans[0].style == "bold green"


@pytest.mark.parametrize("verbose", [False, True])
def test_every_kind_renders_from_any_payload(verbose: bool) -> None:
    for kind in sorted(KINDS | {"robot.dance"}):
        for payload in ({}, {"text": "x", "reason": "r", "qid": "q", "approvals": [{}],
                             "refused": [{"tool": "t"}], "items": "bad"}):
            text = event_text(_ev(kind, payload), Viewer(verbose=verbose))
            assert text is None or str(text)
            assert isinstance(event_summary(_ev(kind, payload)), str)
    assert event_text(_ev("llm.call", {}), Viewer()) is None
    assert "llm.call" in str(event_text(_ev("llm.call", {}), Viewer(verbose=True)))
    assert event_summary(_ev("llm.call", {"task": "agenda", "prompt_tokens": 9,
                                          "completion_tokens": 2})) == "agenda 9+2"
