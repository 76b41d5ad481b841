"""Behaviour added to a model by wrapping it: retries, budgets, recording.

The gateway stacks them as ``RetryingModel(BudgetedModel(RecordingModel(model)))``: each attempt
is checked against the budget and recorded on its own, and the retrier sees every attempt.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from mapek.errors import MapekError, ModelConnectionError, ModelError, ModelTimeoutError
from mapek.llm._tokens import estimate_prompt_tokens
from mapek.llm.budget import Budget
from mapek.llm.model import Model, WrapperModel
from mapek.llm.types import Completion, ModelRequest, Outcome, Recorder

__all__ = ["RetryingModel", "BudgetedModel", "RecordingModel", "is_transient", "LLM_CALL"]

LLM_CALL = "llm.call"
"""Event kind of a recorded model call attempt."""

_TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: a timeout, a connection failure, HTTP 408/409/425/429 or a 5xx.

    Not: bad requests, authentication, unknown models, invalid output, budgets.
    """
    if isinstance(exc, (ModelTimeoutError, ModelConnectionError)):
        return True
    if isinstance(exc, ModelError) and exc.status_code is not None:
        return exc.status_code in _TRANSIENT_STATUS or exc.status_code >= 500
    return False


class RetryingModel(WrapperModel):
    """Retries transient failures with exponential backoff and jitter, a bounded number of times.

    Built on tenacity. litellm has its own retries (``num_retries``, itself built on tenacity,
    plus the OpenAI SDK's ``max_retries``), but they run inside one litellm call, where we can
    neither record each attempt as an event nor count them, and they classify errors their own
    way per provider. So litellm's and the SDK's retries are switched off (``LiteLLMModel``
    passes ``max_retries=0, num_retries=0``) and this is the one retry layer. tenacity is pinned
    in ``constraints.txt`` (it comes with chromadb and langgraph); it is imported on first use.
    """

    def __init__(
        self, wrapped: Model, *, max_retries: int = 2, backoff: float = 0.5,
        max_backoff: float = 8.0,
    ) -> None:
        super().__init__(wrapped)
        self.max_retries = max(0, max_retries)
        """Retries after the first attempt."""
        self.backoff = backoff
        """Seconds before the first retry; doubles each time, plus up to as much jitter."""
        self.max_backoff = max_backoff
        """Longest wait between attempts, in seconds."""

    def _policy(self) -> dict[str, Any]:
        import tenacity

        return dict(
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            wait=tenacity.wait_exponential_jitter(
                multiplier=self.backoff, max=self.max_backoff, jitter=self.backoff
            ),
            retry=tenacity.retry_if_exception(is_transient),
            reraise=True,
        )

    def complete(self, request: ModelRequest) -> Completion:
        n = self.max_retries + 1
        try:  # the first attempt without tenacity (its set-up costs more than an instant call)
            return self.wrapped.complete(replace(request, attempt=1, max_attempts=n))
        except BaseException as exc:  # noqa: BLE001 - tenacity decides, as if it had made it
            first = exc
        import tenacity

        tries = 0
        try:
            for attempt in tenacity.Retrying(**self._policy()):
                with attempt:
                    tries = attempt.retry_state.attempt_number
                    if tries == 1:
                        raise first
                    result = self.wrapped.complete(replace(request, attempt=tries, max_attempts=n))
        except ModelError as exc:
            final = _gave_up(exc, tries)
            if final is exc:
                raise
            raise final from exc
        return result.model_copy(update={"attempts": tries}) if tries > 1 else result

    async def acomplete(self, request: ModelRequest) -> Completion:
        n = self.max_retries + 1
        try:
            return await self.wrapped.acomplete(replace(request, attempt=1, max_attempts=n))
        except BaseException as exc:  # noqa: BLE001 - tenacity decides, as if it had made it
            first = exc
        import tenacity

        tries = 0
        try:
            async for attempt in tenacity.AsyncRetrying(**self._policy()):
                with attempt:
                    tries = attempt.retry_state.attempt_number
                    if tries == 1:
                        raise first
                    result = await self.wrapped.acomplete(
                        replace(request, attempt=tries, max_attempts=n)
                    )
        except ModelError as exc:
            final = _gave_up(exc, tries)
            if final is exc:
                raise
            raise final from exc
        return result.model_copy(update={"attempts": tries}) if tries > 1 else result


def _gave_up(exc: ModelError, tries: int) -> ModelError:
    """The last error, saying how many attempts were made (same class, same attributes)."""
    if tries <= 1 or not is_transient(exc):
        return exc
    return type(exc)(
        f"{exc} (gave up after {tries} attempts)", model=exc.model, status_code=exc.status_code
    )


class BudgetedModel(WrapperModel):
    """Checks a :class:`~mapek.llm.budget.Budget` before each attempt and charges it after.

    The estimate is the prompt's tokens (a cheap estimator) plus ``max_tokens`` (or
    ``completion_estimate`` when the call sets no cap), priced with the model's price map.
    A call that would pass a limit raises :class:`~mapek.errors.BudgetExceeded` and is not made.
    """

    def __init__(self, wrapped: Model, budget: Budget, *, completion_estimate: int = 512) -> None:
        super().__init__(wrapped)
        self.budget = budget
        self.completion_estimate = completion_estimate
        """Completion tokens assumed for a call without ``max_tokens``."""

    def _reserve(self, request: ModelRequest) -> Any:
        prompt = estimate_prompt_tokens(request.messages)
        completion = request.max_tokens or self.completion_estimate
        usd = self.wrapped.estimate_cost(prompt, completion) if self.budget.max_usd else 0.0
        return self.budget.reserve(prompt + completion, usd)

    def complete(self, request: ModelRequest) -> Completion:
        held = self._reserve(request)
        try:
            result = self.wrapped.complete(request)
        except BaseException:
            self.budget.settle(held)
            raise
        self.budget.settle(held, result.usage.total_tokens, result.cost_usd)
        return result

    async def acomplete(self, request: ModelRequest) -> Completion:
        held = self._reserve(request)
        try:
            result = await self.wrapped.acomplete(request)
        except BaseException:
            self.budget.settle(held)
            raise
        self.budget.settle(held, result.usage.total_tokens, result.cost_usd)
        return result


class RecordingModel(WrapperModel):
    """Records every attempt as an ``llm.call`` event through ``recorder``.

    Payload: ``model, task, prompt_tokens, completion_tokens, cost_usd, latency_ms, outcome
    (ok/retry/error), attempt, ask, offline, finish_reason`` and, on failure, ``error`` (one line)
    and ``error_type``. A recorder that raises is not silenced: a log that cannot be written
    must stop the run.
    """

    def __init__(self, wrapped: Model, recorder: Recorder) -> None:
        super().__init__(wrapped)
        self.recorder = recorder

    def complete(self, request: ModelRequest) -> Completion:
        start = time.perf_counter()
        try:
            result = self.wrapped.complete(request)
        except MapekError as exc:
            self._failed(request, exc, start)
            raise
        self._ok(request, result)
        return result

    async def acomplete(self, request: ModelRequest) -> Completion:
        start = time.perf_counter()
        try:
            result = await self.wrapped.acomplete(request)
        except MapekError as exc:
            self._failed(request, exc, start)
            raise
        self._ok(request, result)
        return result

    def _ok(self, request: ModelRequest, result: Completion) -> None:
        self._record(
            request, "ok",
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
            cost_usd=result.cost_usd,
            latency_ms=round(result.latency_ms, 3),
            offline=result.offline,
            finish_reason=result.finish_reason,
        )

    def _failed(self, request: ModelRequest, exc: MapekError, start: float) -> None:
        retry = is_transient(exc) and request.attempt < request.max_attempts
        self._record(
            request, "retry" if retry else "error",
            prompt_tokens=0,
            completion_tokens=0,
            cost_usd=0.0,
            latency_ms=round((time.perf_counter() - start) * 1000, 3),
            offline=self.offline,
            error=str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__,
            error_type=type(exc).__name__,
        )

    def _record(self, request: ModelRequest, outcome: Outcome, **fields: Any) -> None:
        payload = {
            "model": self.name,
            "task": request.task,
            "outcome": outcome,
            "attempt": request.attempt,
            "ask": request.ask,
            **fields,
        }
        self.recorder(request.run_id, LLM_CALL, request.actor, payload)
