"""The model gateway: every model call of mapek goes through a :class:`Gateway`.

::

    gw = Gateway("mapek/offline", recorder=kb.record, run_id=run, budget=Budget(max_tokens=50_000))
    text = gw.complete("Summarise the risks.", actor="observer").text
    plan = gw.structured(messages, Plan, task="plan", actor="orchestrator")

It stacks ``RetryingModel(BudgetedModel(RecordingModel(model)))`` over a model (a litellm model
string by default), and adds structured output: the JSON schema goes to the model (as
``response_format`` where supported, and always in the prompt), the answer is repaired and
validated, and an invalid answer is re-asked at most ``repair_attempts`` times with the problems
appended to the conversation, before :class:`~mapek.errors.ModelOutputError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from mapek.config import Settings
from mapek.errors import ModelOutputError
from mapek.llm.budget import Budget
from mapek.llm.model import Model
from mapek.llm.repair import RepairError, repair
from mapek.llm.spec import ModelSpec
from mapek.llm.types import Completion, DeltaSink, Message, ModelRequest, Recorder
from mapek.llm.wrappers import BudgetedModel, RecordingModel, RetryingModel

__all__ = ["Gateway", "schema_instructions", "REASK_PREFIX"]

T = TypeVar("T", bound=BaseModel)

REASK_PREFIX = "Your previous reply could not be used:"
"""Start of the message appended to the conversation when structured output is re-asked."""


class Gateway:
    """Calls a model with retries, budgets, event recording and structured output.

    ``model`` is a :class:`~mapek.llm.spec.ModelSpec` (used as it is), a litellm model string
    (its base URL, key variable and structured-output mode then come from ``settings``:
    ``MAPEK_API_BASE``, ``MAPEK_API_KEY_ENV``, ``MAPEK_STRUCTURED_OUTPUT``) or a
    :class:`~mapek.llm.model.Model` (a test double, say). Unset fields come from ``settings``
    (``MAPEK_MODEL``, ``MAPEK_REQUEST_TIMEOUT``, ``MAPEK_MAX_RETRIES``,
    ``MAPEK_REPAIR_ATTEMPTS``). ``api_base`` and ``api_key`` (a key the caller holds, never
    recorded), when given, win over the spec's and the settings'. ``recorder=None`` records
    nothing; ``budget=None`` spends without limit.
    """

    def __init__(
        self,
        model: ModelSpec | str | Model | None = None,
        *,
        settings: Settings | None = None,
        recorder: Recorder | None = None,
        run_id: str = "default",
        budget: Budget | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        repair_attempts: int | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        api_base: str | None = None,
        api_key: str | None = None,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
    ) -> None:
        settings = settings or Settings()
        self.settings = settings
        self.recorder = recorder
        self.run_id = run_id
        """Run id recorded with each call unless the call names another."""
        self.budget = budget
        self.timeout = settings.request_timeout if timeout is None else timeout
        self.max_retries = settings.max_retries if max_retries is None else max_retries
        self.repair_attempts = (
            settings.repair_attempts if repair_attempts is None else repair_attempts
        )
        self.max_tokens = max_tokens
        """Default cap on completion tokens per call (None: the provider's default)."""
        self.temperature = temperature
        self._backoff = (backoff, max_backoff)
        if model is None:
            model = settings.model
        if isinstance(model, str):
            model = ModelSpec.from_settings(settings, model)
        self.spec: ModelSpec | None = None
        """The spec the model was built from (None when a :class:`Model` was given): JSON to
        record, and to rebuild the same model elsewhere."""
        if isinstance(model, ModelSpec):
            if api_base is not None:
                model = ModelSpec(**{**model.model_dump(), "api_base": api_base})
            self.spec = model
            model = model.build(timeout=self.timeout, api_key=api_key)
        self.base = model
        """The model at the bottom of the stack."""
        stack: Model = model
        if recorder is not None:
            stack = RecordingModel(stack, recorder)
        if budget is not None:
            stack = BudgetedModel(stack, budget)
        self.model: Model = RetryingModel(
            stack, max_retries=self.max_retries, backoff=backoff, max_backoff=max_backoff
        )
        """The whole stack: what each call goes through."""

    @property
    def model_name(self) -> str:
        return self.base.name

    @property
    def offline(self) -> bool:
        """True when answers come from the offline model."""
        return self.base.offline

    def using(self, model: ModelSpec | str | Model, **overrides: Any) -> Gateway:
        """A gateway for another model (a persona's own, say), sharing settings, recorder,
        budget, run and limits. A :class:`ModelSpec` is used as it is; a string takes the
        settings' base URL and key variable, like the constructor's. ``api_base``/``api_key``
        given to this gateway belong to its server, so they are not carried over: pass them in
        ``overrides`` if the other model lives on the same server."""
        options: dict[str, Any] = dict(
            settings=self.settings, recorder=self.recorder, run_id=self.run_id,
            budget=self.budget, timeout=self.timeout, max_retries=self.max_retries,
            repair_attempts=self.repair_attempts, max_tokens=self.max_tokens,
            temperature=self.temperature, backoff=self._backoff[0], max_backoff=self._backoff[1],
        )
        return Gateway(model, **(options | overrides))

    # -- plain completions -------------------------------------------------------------------
    def complete(
        self,
        messages: str | Sequence[Message],
        *,
        task: str = "chat",
        context: Mapping[str, Any] | None = None,
        actor: str = "system",
        run_id: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
        on_delta: DeltaSink | None = None,
    ) -> Completion:
        """The model's answer to ``messages`` (a string is one user message). ``on_delta``
        gets its text as it streams in, where the model streams (:class:`~mapek.llm.types.Delta`:
        each attempt's pieces; a new attempt starts over)."""
        return self.model.complete(
            self._request(messages, task, context, actor, run_id, max_tokens, temperature, timeout,
                          on_delta)
        )

    async def acomplete(
        self,
        messages: str | Sequence[Message],
        *,
        task: str = "chat",
        context: Mapping[str, Any] | None = None,
        actor: str = "system",
        run_id: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
        on_delta: DeltaSink | None = None,
    ) -> Completion:
        """:meth:`complete`, asynchronously."""
        return await self.model.acomplete(
            self._request(messages, task, context, actor, run_id, max_tokens, temperature, timeout,
                          on_delta)
        )

    # -- structured output -------------------------------------------------------------------
    def structured(
        self,
        messages: str | Sequence[Message],
        schema: type[T],
        *,
        task: str = "structured",
        context: Mapping[str, Any] | None = None,
        actor: str = "system",
        run_id: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
        on_delta: DeltaSink | None = None,
    ) -> T:
        """An instance of ``schema`` from the model; ModelOutputError if it cannot get one.
        ``on_delta`` gets the raw answer (JSON) as it streams in, each ask and attempt from its
        start (:class:`mapek.llm.stream.FieldStream` turns that into one field's text)."""
        conversation = _Structured(
            self, schema,
            self._request(messages, task, context, actor, run_id, max_tokens, temperature, timeout,
                          on_delta),
        )
        request: ModelRequest | None = conversation.first()
        while request is not None:
            request = conversation.answer(self.model.complete(request))
        return conversation.result()

    async def astructured(
        self,
        messages: str | Sequence[Message],
        schema: type[T],
        *,
        task: str = "structured",
        context: Mapping[str, Any] | None = None,
        actor: str = "system",
        run_id: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
        on_delta: DeltaSink | None = None,
    ) -> T:
        """:meth:`structured`, asynchronously."""
        conversation = _Structured(
            self, schema,
            self._request(messages, task, context, actor, run_id, max_tokens, temperature, timeout,
                          on_delta),
        )
        request: ModelRequest | None = conversation.first()
        while request is not None:
            request = conversation.answer(await self.model.acomplete(request))
        return conversation.result()

    # -- helpers -----------------------------------------------------------------------------
    def _request(
        self,
        messages: str | Sequence[Message],
        task: str,
        context: Mapping[str, Any] | None,
        actor: str,
        run_id: str | None,
        max_tokens: int | None,
        temperature: float | None,
        timeout: float | None,
        on_delta: DeltaSink | None = None,
    ) -> ModelRequest:
        if isinstance(messages, str):
            listed: list[Message] = [{"role": "user", "content": messages}]
        else:
            listed = [dict(m) for m in messages]
        return ModelRequest(
            messages=listed,
            max_tokens=max_tokens if max_tokens is not None else self.max_tokens,
            temperature=temperature if temperature is not None else self.temperature,
            timeout=timeout if timeout is not None else self.timeout,
            task=task,
            context=dict(context or {}),
            run_id=run_id or self.run_id,
            actor=actor,
            on_delta=on_delta,
        )

    def __repr__(self) -> str:
        return f"Gateway({self.model_name!r}, run_id={self.run_id!r})"


def schema_instructions(schema: Mapping[str, Any]) -> str:
    """The prompt text that asks for JSON matching ``schema``."""
    return (
        "Reply with a single JSON object that validates against this JSON schema, and nothing "
        "else: no prose, no code fences.\n"
        + json.dumps(schema, separators=(",", ":"), ensure_ascii=False)
    )


class _Structured(Generic[T]):
    """One structured-output conversation: first ask, repair, re-asks, verdict."""

    def __init__(self, gateway: Gateway, schema: type[T], request: ModelRequest) -> None:
        self.gateway = gateway
        self.schema = schema
        schema_text, instructions, name = _schema_parts(schema)
        messages = _with_instructions(request.messages, instructions)
        self.request = ModelRequest(
            messages=messages,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            timeout=request.timeout,
            schema=json.loads(schema_text),  # a copy per call: a provider may edit it
            schema_name=name,
            task=request.task,
            context=request.context,
            run_id=request.run_id,
            actor=request.actor,
            on_delta=request.on_delta,
        )
        self.asks = 0
        self.problem = ""
        self.last_output = ""
        self.value: T | None = None

    def first(self) -> ModelRequest:
        self.asks = 1
        return self.request

    def answer(self, completion: Completion) -> ModelRequest | None:
        """Take an answer: None when done (valid), else the re-ask; raises when out of asks."""
        self.last_output = completion.text
        try:
            self.value = repair(completion.text, self.schema)
            return None
        except RepairError as exc:
            self.problem = exc.problem
        if self.asks > self.gateway.repair_attempts:
            raise ModelOutputError(
                f"model {self.gateway.model_name} gave no valid {self.schema.__name__} in "
                f"{self.asks} attempts; last problem: {self.problem}",
                model=self.gateway.model_name,
                attempts=self.asks,
                last_output=self.last_output,
            )
        self.asks += 1
        messages = [
            *self.request.messages,
            {"role": "assistant", "content": completion.text},
            {
                "role": "user",
                "content": f"{REASK_PREFIX} {self.problem}. Reply again with only the JSON "
                f"object, matching the schema.",
            },
        ]
        self.request = _replace(self.request, messages=messages, ask=self.asks)
        return self.request

    def result(self) -> T:
        assert self.value is not None
        return self.value


def _replace(request: ModelRequest, **changes: Any) -> ModelRequest:
    from dataclasses import replace

    return replace(request, **changes)


def _with_instructions(messages: list[Message], instructions: str) -> list[Message]:
    if messages and messages[0].get("role") == "system" and isinstance(
        messages[0].get("content"), str
    ):
        first = {**messages[0], "content": f"{messages[0]['content']}\n\n{instructions}"}
        return [first, *messages[1:]]
    return [{"role": "system", "content": instructions}, *messages]


@lru_cache(maxsize=256)
def _schema_parts(schema: type[BaseModel]) -> tuple[str, str, str]:
    """A schema class's JSON schema (as JSON text), the prompt instructions that ask for it, and
    its name. Built once per class: pydantic builds the JSON schema afresh on every call (about
    1 ms for a persona turn's), and a class's schema does not change."""
    json_schema = schema.model_json_schema()
    return (json.dumps(json_schema, separators=(",", ":"), ensure_ascii=False),
            schema_instructions(json_schema), _schema_name(schema))


def _schema_name(schema: type[BaseModel]) -> str:
    name = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in schema.__name__)
    return name[:64] or "answer"
