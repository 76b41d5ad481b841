"""Types of the model gateway: what goes into a model call and what comes out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["Message", "Usage", "Completion", "ModelRequest", "Recorder", "Outcome", "Delta",
           "DeltaSink"]

Message = dict[str, Any]
"""One chat message in the OpenAI shape: ``{"role": "user", "content": "..."}``."""

Outcome = Literal["ok", "error", "retry"]
"""How one attempt of a model call ended, as recorded in ``llm.call`` events:
``ok`` answered; ``retry`` failed transiently and will be tried again; ``error`` failed for good."""

Recorder = Callable[[str, str, str, dict[str, Any]], object]
"""Where events go: ``(run_id, kind, actor, payload) -> anything``; ``KnowledgeBase.record``
has this shape. The gateway records one ``llm.call`` event per attempt."""


@dataclass(frozen=True)
class Delta:
    """A piece of a model's answer as it streams in, and which attempt it belongs to.

    A streaming model hands each piece of its text to the request's ``on_delta`` as it arrives.
    The pieces of one attempt concatenate to that attempt's text; a new ``(ask, attempt)`` means
    the text starts again (a retry after a transient failure, a re-ask after invalid output), so
    a consumer drops what it had. The call's :class:`Completion` stays the one truth."""

    text: str
    ask: int = 1
    attempt: int = 1


DeltaSink = Callable[[Delta], object]
"""Where streamed pieces go: ``ModelRequest.on_delta``."""


class Usage(BaseModel):
    """Tokens one call used, as the provider reported them."""

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Completion(BaseModel):
    """A model's answer to one call."""

    model_config = ConfigDict(frozen=True)

    text: str
    """The assistant message's content ("" when there was none)."""
    model: str
    """The model that answered, as the provider named it (``mapek/offline`` offline)."""
    usage: Usage = Usage()
    cost_usd: float = 0.0
    """From litellm's bundled price map; 0 for a model with no known price."""
    latency_ms: float = 0.0
    """Wall time of the successful attempt."""
    offline: bool = False
    """True when the offline model produced it: front ends must say so."""
    finish_reason: str | None = None
    """``stop``, ``length`` (cut at max_tokens), ...; None when the provider gave none."""
    attempts: int = 1
    """Transport attempts it took (1 + retries)."""


@dataclass(frozen=True)
class ModelRequest:
    """One model call, as the gateway hands it down a chain of models.

    Wrappers read what they need (the recorder reads ``run_id``/``actor``, the retrier sets
    ``attempt``) and pass it on with ``dataclasses.replace``.
    """

    messages: list[Message]
    max_tokens: int | None = None
    """Cap on completion tokens; also the completion estimate for budget checks."""
    temperature: float | None = None
    timeout: float | None = None
    """Seconds for one attempt; None means the model's default."""
    schema: dict[str, Any] | None = None
    """JSON schema of the expected answer (structured output), if any."""
    schema_name: str = "answer"
    task: str = "chat"
    """What the call is for (``persona_turn``, ``analyse``, ...); recorded, and the offline
    model's script is chosen by it."""
    context: dict[str, Any] = field(default_factory=dict)
    """Small JSON context for the task; reaches the offline model's script."""
    run_id: str = "default"
    actor: str = "system"
    """Who is calling: recorded as the event's actor."""
    ask: int = 1
    """1 for a first ask, 2 and up for re-asks after invalid structured output."""
    attempt: int = 1
    """Transport attempt, set by the retrier."""
    max_attempts: int = 1
    """Attempts the retrier allows in all; lets the recorder tell ``retry`` from ``error``."""
    on_delta: DeltaSink | None = field(default=None, compare=False, repr=False)
    """Stream the answer here as it is generated, where the model streams (the offline model
    simulates it; a model that does not stream sends nothing). Wrappers pass it down untouched:
    retries, budgets and recording still see one completed call."""
