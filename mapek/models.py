"""Pydantic types that cross boundaries: events in the log, personas on disk.

Later stages (questions, plans, evidence, trips) add their types here as they land.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["Event", "EventDraft", "Persona", "canonical_json", "SEMANTIC_KINDS", "GENESIS_HASH"]

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event of every run."""

SEMANTIC_KINDS = frozenset(
    {"message", "question", "answer", "finding", "decision", "synthesis", "interjection", "topic",
     "precedent"}
)
"""Event kinds whose ``payload["text"]`` is indexed in the vector store."""


def canonical_json(obj: Any) -> str:
    """The one JSON form that is hashed: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class EventDraft(BaseModel):
    """What a caller records; the log assigns seq, time and the hash chain."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    kind: str
    """Dotted kind, for example ``message``, ``question``, ``llm.call``, ``run.started``."""
    actor: str = "system"
    """Who did it: a persona name, ``observer``, ``orchestrator``, ``human``, ``watchdog``."""
    parent: int | None = None
    """``seq`` of the event this one answers or follows from, in the same run."""
    payload: dict[str, Any] = Field(default_factory=dict)
    key: str | None = None
    """Idempotency key, unique within the run: appending a draft whose key is already in the log
    returns the existing event instead of writing a second one (a re-run node writes nothing
    twice)."""

    @field_validator("run_id", "kind", "actor")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v or not v.strip():
            raise ValueError("must not be empty")
        return v


class Event(EventDraft):
    """One committed event: immutable, numbered within its run, chained to its predecessor."""

    seq: int
    ts: float = Field(default_factory=time.time)
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    @property
    def id(self) -> str:
        return f"{self.run_id}#{self.seq}"

    @property
    def text(self) -> str:
        return str(self.payload.get("text", ""))

    def body(self) -> dict[str, Any]:
        """The hashed fields (everything but ``hash``)."""
        return {
            "run_id": self.run_id,
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind,
            "actor": self.actor,
            "parent": self.parent,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
            **({"key": self.key} if self.key is not None else {}),
        }

    def compute_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.body()).encode()).hexdigest()


class Persona(BaseModel):
    """A persona agent, as written in ``personas/<name>.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    """Short id, lower case; also the file name."""
    role: str = Field(min_length=1)
    """Title shown beside every turn, for example ``Chief Financial Officer``."""
    goal: str = Field(min_length=1)
    """What this persona is trying to achieve in a discussion."""
    backstory: str = ""
    """Background that shapes how it argues."""
    instructions: str = ""
    """How it should behave in a discussion."""
    expertise: list[str] = Field(min_length=1)
    """Tags used to route questions to the peer best placed to answer them."""
    concerns: list[str] = Field(default_factory=list)
    """What it watches for; the offline model draws its questions and objections from these."""
    model: str | None = None
    """Optional litellm model string overriding the session's model for this persona."""
    tools: list[str] = Field(default_factory=list)
    """Names of the tools it may call (read-only unless a grant says otherwise)."""
    color: str = "white"
    """Colour of its turns in the terminal."""

    def system_prompt(self) -> str:
        parts = [f"You are {self.role}.", f"Your goal: {self.goal}"]
        if self.backstory:
            parts.append(self.backstory.strip())
        if self.instructions:
            parts.append(self.instructions.strip())
        parts.append("Your expertise: " + ", ".join(self.expertise) + ".")
        return "\n".join(parts)
