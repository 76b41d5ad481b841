"""What the agents of the loop must return: the structured outputs asked of every model.

Each is a pydantic model handed to the gateway's ``structured`` call, which validates, repairs
and re-asks. The offline model has a script for each (``mapek.loop.scripts``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Stance",
    "AskedQuestion",
    "ProposedAction",
    "PersonaTurn",
    "Agenda",
    "Dissent",
    "Synthesis",
    "TriageJudgement",
]

Stance = Literal["support", "oppose", "conditional", "undecided"]
"""A persona's position on the topic after a turn."""


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskedQuestion(_Out):
    """A question a persona raises in its turn."""

    text: str = Field(min_length=3, description="The question, as one sentence ending in '?'.")
    to: str | None = Field(
        default=None,
        description="Who should answer: a peer's name, 'human' for the person who convened the "
        "discussion, or null to let the orchestrator route it.",
    )


class ProposedAction(_Out):
    """A tool call a persona proposes; it is screened before anything runs."""

    tool: str = Field(description="Name of the tool to call.")
    args: dict[str, Any] = Field(
        default_factory=dict,
        description="Arguments by name, fitting the tool's argument schema (listed in the prompt).",
    )
    why: str = Field(default="", description="Why this action helps the discussion.")


class PersonaTurn(_Out):
    """One persona's contribution to the discussion."""

    text: str = Field(min_length=1, description="What the persona says, 2-5 sentences.")
    stance: Stance = Field(description="The persona's position on the topic after this turn.")
    claims: list[str] = Field(
        default_factory=list, description="New claims or evidence this turn adds, short phrases."
    )
    questions: list[AskedQuestion] = Field(default_factory=list, max_length=3)
    actions: list[ProposedAction] = Field(default_factory=list, max_length=3)


class Agenda(_Out):
    """The orchestrator's agenda for a discussion."""

    items: list[str] = Field(min_length=1, max_length=6, description="Agenda items, in order.")


class Dissent(_Out):
    """A position held against the majority, and who holds it."""

    persona: str
    position: str


class Synthesis(_Out):
    """The end of a discussion: what was decided and what was not."""

    summary: str
    decisions: list[str] = Field(default_factory=list)
    recommendations: list[str] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)
    dissent: list[Dissent] = Field(default_factory=list)


class TriageJudgement(_Out):
    """A model's judgement on a question the cheap signals could not settle."""

    consequential: bool
    reason: str = Field(description="One reason code, for example money, legal, definitional.")
