"""Models that answer from Python instead of a provider (after pydantic-ai's ``FunctionModel``
and ``TestModel``). They plug into :class:`~mapek.llm.Gateway` like any model, so retries,
budgets, recording and structured-output repair all run; litellm is never imported.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from mapek.llm._tokens import estimate_prompt_tokens, estimate_text_tokens
from mapek.llm.model import Model
from mapek.llm.types import Completion, ModelRequest, Usage

__all__ = ["FunctionModel", "ScriptedModel"]

Reply = str | Completion | BaseException
"""A text, a whole completion, or an exception to raise (a ModelError, say)."""


class FunctionModel(Model):
    """Answers each request with ``function(request)``; every request is kept in ``requests``."""

    def __init__(
        self, function: Callable[[ModelRequest], Reply], *, name: str = "function",
        cost_per_token: float = 0.0,
    ) -> None:
        self.function = function
        self.name = name
        self.cost_per_token = cost_per_token
        self.requests: list[ModelRequest] = []
        self._lock = threading.Lock()

    def complete(self, request: ModelRequest) -> Completion:
        with self._lock:
            self.requests.append(request)
        reply = self.function(request)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, Completion):
            return reply
        usage = Usage(
            prompt_tokens=estimate_prompt_tokens(request.messages),
            completion_tokens=estimate_text_tokens(reply),
        )
        return Completion(
            text=reply, model=self.name, usage=usage,
            cost_usd=usage.total_tokens * self.cost_per_token, finish_reason="stop",
        )

    async def acomplete(self, request: ModelRequest) -> Completion:
        return self.complete(request)

    def estimate_cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens + completion_tokens) * self.cost_per_token


class ScriptedModel(FunctionModel):
    """Answers with ``replies`` in order; raises AssertionError when they run out."""

    def __init__(self, replies: Iterable[Reply], *, name: str = "scripted", **kw: Any) -> None:
        self.replies = list(replies)
        self._next = 0
        super().__init__(self._reply, name=name, **kw)

    def _reply(self, request: ModelRequest) -> Reply:
        with self._lock:
            if self._next >= len(self.replies):
                raise AssertionError(f"ScriptedModel ran out of replies after {self._next}")
            reply = self.replies[self._next]
            self._next += 1
        return reply
