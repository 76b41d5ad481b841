"""The plug-in point for models: one attempt of one call, errors already in mapek's tree.

A :class:`Model` answers a :class:`~mapek.llm.types.ModelRequest` with a
:class:`~mapek.llm.types.Completion`, or raises a :class:`~mapek.errors.ModelError` (or
:class:`~mapek.errors.UnknownModelError`). Behaviour is added by wrapping (see ``wrappers``):
retries, budgets and recording each wrap a model and are models themselves.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from mapek.llm.types import Completion, ModelRequest

__all__ = ["Model", "WrapperModel"]


class Model(ABC):
    """A model the gateway can call."""

    name: str = "model"
    """The model string (``mapek/offline``, ``openai/gpt-4o-mini``, ...)."""
    offline: bool = False
    """True for the offline model: its output is marked as such."""
    concurrent: bool = True
    """True when calls made at once finish sooner than one after another: the model waits on
    a network, a server or a device, as every model behind litellm does. False for a model
    that computes its answers in this process (the offline model without a stream delay):
    threads would only take turns on the interpreter, so the loop runs a round's persona
    turns one after another (see :meth:`mapek.loop.context.LoopContext.map`)."""

    @abstractmethod
    def complete(self, request: ModelRequest) -> Completion:
        """Answer ``request`` (one attempt)."""

    @abstractmethod
    async def acomplete(self, request: ModelRequest) -> Completion:
        """Answer ``request`` (one attempt), asynchronously."""

    def estimate_cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD this many tokens would cost; 0 when the price is unknown."""
        return 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class WrapperModel(Model):
    """A model that delegates to another; subclasses override what they change."""

    def __init__(self, wrapped: Model) -> None:
        self.wrapped = wrapped

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.wrapped.name

    @property
    def offline(self) -> bool:  # type: ignore[override]
        return self.wrapped.offline

    @property
    def concurrent(self) -> bool:  # type: ignore[override]
        return self.wrapped.concurrent

    def complete(self, request: ModelRequest) -> Completion:
        return self.wrapped.complete(request)

    async def acomplete(self, request: ModelRequest) -> Completion:
        return await self.wrapped.acomplete(request)

    def estimate_cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return self.wrapped.estimate_cost(prompt_tokens, completion_tokens)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.wrapped!r})"
