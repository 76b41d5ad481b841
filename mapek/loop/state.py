"""The loop's state, as LangGraph checkpoints it, and the session's configuration.

State holds plain JSON data only (dicts, lists, strings, numbers) so checkpoints stay readable and
portable. The event log remains the source of truth: state is what the graph needs to decide its
next step, and every change to it is also an event.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mapek.bounds import MAX_ESCALATIONS, MAX_SECONDS, MAX_TOKENS, MAX_TURNS, MAX_USD

__all__ = ["SessionConfig", "LoopState", "HumanMode", "RunStatus", "initial_state"]

HumanMode = Literal["interactive", "queue", "defer"]
"""How consequential questions reach the human: ``interactive`` pauses the loop (LangGraph
interrupt) until answered; ``queue`` lets the discussion go on while the question waits for an
answer in the log; ``defer`` sets it aside with a note for the synthesis."""

RunStatus = Literal["running", "converged", "stalled", "max_turns", "stopped", "failed"]


class SessionConfig(BaseModel):
    """Everything a worker needs to run a session; recorded in the ``run.started`` event."""

    model_config = ConfigDict(extra="forbid")

    topic: str = Field(min_length=1)
    personas: list[str] = Field(min_length=2)
    model: str = "mapek/offline"
    max_turns: int = Field(default=24, ge=1, le=MAX_TURNS)
    """Persona turns before the orchestrator forces a synthesis."""
    speakers_per_round: int = Field(default=2, ge=1, le=64)
    """Persona turns run concurrently in one round."""
    time_limit: float | None = Field(default=None, gt=0, le=MAX_SECONDS, allow_inf_nan=False)
    max_tokens: int | None = Field(default=None, gt=0, le=MAX_TOKENS)
    max_usd: float | None = Field(default=None, gt=0, le=MAX_USD, allow_inf_nan=False)
    escalation_budget: int = Field(default=3, ge=0, le=MAX_ESCALATIONS)
    """Consequential questions the human may be asked in one session."""
    human: HumanMode = "interactive"
    personas_dir: str | None = None

    @field_validator("topic")
    @classmethod
    def _topic_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("the topic is empty")
        return v.strip()


class LoopState(TypedDict, total=False):
    run_id: str
    config: dict[str, Any]
    agenda: list[str]
    agenda_index: int
    round: int
    turns: int
    cursor: int
    """Seq up to which the monitor and the planner have read the log for human answers,
    deferrals and interjections (the next read starts after it)."""
    said: int
    """Seq of the last ``message`` event (persona turn) the discussion has taken in: the
    transcript is folded from the log up to it (:func:`mapek.loop.transcript.transcript`),
    not stored in the state."""
    questions: dict[str, dict[str, Any]]
    """qid -> text, asked_by, to, status, label, reason, score, routed_to, answer."""
    new_questions: list[str]
    to_escalate: list[str]
    escalations_used: int
    positions: dict[str, list[str]]
    claims_seen: list[str]
    progress: list[dict[str, Any]]
    plan: dict[str, Any]
    verdict: dict[str, Any]
    interjections: list[dict[str, Any]]
    status: RunStatus
    notes: list[str]


def initial_state(run_id: str, config: SessionConfig) -> LoopState:
    return LoopState(
        run_id=run_id, config=config.model_dump(), agenda=[], agenda_index=0, round=0, turns=0,
        cursor=0, said=0, questions={}, new_questions=[], to_escalate=[],
        escalations_used=0, positions={}, claims_seen=[], progress=[], plan={}, verdict={},
        interjections=[], status="running", notes=[],
    )
