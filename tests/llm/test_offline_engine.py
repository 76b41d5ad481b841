"""The offline model's engine and scripts, without litellm: determinism, schemas, personas."""

from __future__ import annotations

import datetime
import enum
import json
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from mapek.errors import UnknownModelError
from mapek.llm import offline
from mapek.llm.offline import (
    HUMAN_QUESTION_PREFIX,
    TRIVIAL_QUESTION_PREFIX,
    OfflineRequest,
    parse_offline_model,
    register_script,
    registered_scripts,
    respond,
    sample_instance,
    unregister_script,
)
from mapek.models import Persona


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Node(BaseModel):
    label: str
    children: list[Node] = []


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = Field(ge=1, le=9)


class Dog(BaseModel):
    kind: Literal["dog"]
    bark: float = Field(gt=0, lt=1, multiple_of=0.05)


class Everything(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=3, max_length=5)
    code: str = Field(pattern=r"^[A-Z]{3}-\d{4}$")
    when: datetime.datetime
    day: datetime.date
    uid: uuid.UUID
    price: Decimal
    colour: Colour
    maybe: int | None = None
    pair: tuple[int, str]
    tags: set[str]
    mapping: dict[str, float]
    pet: Annotated[Cat | Dog, Field(discriminator="kind")]
    pets: list[Cat | Dog] = Field(min_length=3, max_length=4)
    tree: Node
    confidence: float = Field(ge=0, le=1)
    score: int = Field(gt=0, multiple_of=5)
    persona: Persona
    flag: bool


@pytest.mark.parametrize("seed", range(25))
def test_sample_instance_validates_for_a_hard_schema(seed: int) -> None:
    Everything.model_validate(sample_instance(Everything.model_json_schema(), seed=seed))


@pytest.mark.parametrize(
    "tp", [list[int], dict[str, list[Cat]], str | None, Literal["a", "b"], tuple[int, ...], Node]
)
def test_sample_instance_validates_for_plain_types(tp: Any) -> None:
    adapter = TypeAdapter(tp)
    adapter.validate_python(sample_instance(adapter.json_schema(), seed=1))


def test_sample_instance_is_deterministic_and_uses_hints_and_words() -> None:
    schema = Persona.model_json_schema()
    a = sample_instance(schema, seed="x", words=["kubernetes"], hints={"role": "CFO"})
    assert a == sample_instance(schema, seed="x", words=["kubernetes"], hints={"role": "CFO"})
    assert a["role"] == "CFO" and "kubernetes" in json.dumps(a)


def _request(**kw: Any) -> OfflineRequest:
    kw.setdefault("messages", [{"role": "user", "content": "Plan the database migration."}])
    return OfflineRequest(**kw)


def test_same_request_same_answer_different_request_different_answer() -> None:
    assert respond(_request()).text == respond(_request()).text
    other = _request(messages=[{"role": "user", "content": "Review the vendor contract."}])
    assert respond(other).text != respond(_request()).text


def test_structured_fallback_for_an_unknown_task_with_a_schema() -> None:
    reply = respond(_request(task="no-such-task", schema=Everything.model_json_schema()))
    Everything.model_validate_json(reply.text)


def test_max_tokens_cuts_the_reply() -> None:
    reply = respond(_request(schema=Everything.model_json_schema()), max_tokens=5)
    assert reply.finish_reason == "length" and len(reply.text) == 20


def test_register_script_and_schema_hints() -> None:
    class Answer(BaseModel):
        text: str
        score: int

    register_script("t-answer", lambda req: {"text": f"turn {req.context['n']}"})
    try:
        assert "t-answer" in registered_scripts()
        reply = respond(_request(task="t-answer", context={"n": 7},
                                 schema=Answer.model_json_schema()))
        assert Answer.model_validate_json(reply.text).text == "turn 7"
        register_script("t-answer", lambda req: "plain words")
        assert respond(_request(task="t-answer")).text == "plain words"
    finally:
        unregister_script("t-answer")
    assert "t-answer" not in registered_scripts()


def test_unregistering_a_fallback_still_answers() -> None:
    unregister_script("chat")
    try:
        assert respond(_request(task="nothing")).text
    finally:
        register_script("chat", offline.chat_script)


@pytest.mark.parametrize(
    ("model", "fault"),
    [("mapek/offline", ""), ("mapek/offline-garbage", "garbage"), ("offline-flaky", "flaky")],
)
def test_parse_offline_model(model: str, fault: str) -> None:
    assert parse_offline_model(model) == fault


def test_unknown_offline_variant_is_a_clear_error() -> None:
    with pytest.raises(UnknownModelError, match="mapek/offline-<fault>"):
        parse_offline_model("mapek/offline-nonsense")


@pytest.mark.parametrize("fault", sorted(offline.FAULTS - {"timeout", "flaky"}))
def test_json_faults_break_the_first_ask(fault: str) -> None:
    class Small(BaseModel):
        model_config = ConfigDict(extra="forbid")
        title: str
        count: int

    good = respond(_request(schema=Small.model_json_schema())).text
    broken = respond(_request(schema=Small.model_json_schema(), fault=fault)).text
    assert broken != good
    again = respond(_request(schema=Small.model_json_schema(), fault=fault, ask=2)).text
    if fault in ("garbage", "truncated", "missing"):
        assert again == good  # only the first ask is broken


# -- persona_turn -------------------------------------------------------------------------------

PERSONAS = [
    {"name": "cfo", "role": "Chief Financial Officer", "expertise": ["finance"],
     "concerns": ["cost overruns", "return on investment"]},
    {"name": "cto", "role": "Chief Technology Officer", "expertise": ["architecture"],
     "concerns": ["data migration risk", "production downtime"]},
    {"name": "counsel", "role": "General Counsel", "expertise": ["law"],
     "concerns": ["vendor contract terms", "GDPR compliance"]},
]
TOPIC = "Move the billing service to a managed Kubernetes platform this quarter"


def _discussion(turns: int) -> list[dict[str, str]]:
    transcript: list[dict[str, str]] = []
    for turn in range(turns):
        persona = PERSONAS[turn % 3]
        context = {"persona": persona, "topic": TOPIC, "transcript": list(transcript),
                   "turn": turn, "peers": [p["name"] for p in PERSONAS]}
        text = respond(_request(task="persona_turn", context=context)).text
        transcript.append({"speaker": persona["name"], "text": text})
    return transcript


def test_persona_turns_build_on_each_other_and_converge() -> None:
    transcript = _discussion(14)
    assert transcript == _discussion(14)  # deterministic
    for turn in transcript:
        sentences = [s for s in turn["text"].replace("?", "?.").split(". ") if s.strip()]
        assert 1 <= len(sentences) <= 4, turn
    for previous, turn in zip(transcript[1:8], transcript[2:9], strict=True):
        assert previous["speaker"] in turn["text"]  # names the last speaker
    early = " ".join(t["text"] for t in transcript[:8])
    assert HUMAN_QUESTION_PREFIX in early
    assert TRIVIAL_QUESTION_PREFIX in early
    assert any(t["text"].startswith(p["name"]) or f"{p['name']}, " in t["text"]
               for t in transcript[:8] for p in PERSONAS)  # a question to a named peer
    late = [t["text"] for t in transcript[-3:]]
    assert all("?" not in t for t in late)
    assert all("support" in t or "agree" in t for t in late)
    assert any(c in early for p in PERSONAS for c in p["concerns"])


def test_persona_turn_without_context_still_speaks() -> None:
    text = respond(_request(task="persona_turn", messages=[
        {"role": "system", "content": "You are the Head of Security."},
        {"role": "user", "content": "Should we open the admin API to partners?"},
    ])).text
    assert "Head of Security" in text
