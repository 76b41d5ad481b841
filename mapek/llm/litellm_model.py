"""Any litellm model string as a :class:`~mapek.llm.model.Model`: one attempt per call.

This is the adapter boundary: litellm's exceptions become mapek's here (``raise ... from exc``),
and litellm's responses become :class:`~mapek.llm.types.Completion`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Mapping
from types import ModuleType
from typing import Any, Literal

from mapek.errors import (
    ConfigError,
    MapekError,
    ModelConnectionError,
    ModelError,
    ModelTimeoutError,
    UnknownModelError,
)
from mapek.llm._litellm import get_litellm
from mapek.llm._tokens import estimate_prompt_tokens, estimate_text_tokens
from mapek.llm.model import Model
from mapek.llm.offline import PROVIDER, parse_offline_model
from mapek.llm.types import Completion, Delta, ModelRequest, Usage

__all__ = ["LiteLLMModel", "translate_error", "environment_api_base", "OFFLINE_VIA_LITELLM"]

OFFLINE_VIA_LITELLM = "MAPEK_OFFLINE_VIA_LITELLM"
"""Environment variable: set to ``1`` to send the offline model's calls through litellm (its
custom provider ``mapek``) as a real model's go. By default they go straight to the offline
engine, which answers the same, without importing litellm (seconds per process)."""

# Providers that accept an OpenAI `response_format` of type json_schema although litellm's price
# map does not say so for every model name (local servers, our offline model).
_SCHEMA_PROVIDERS = frozenset({PROVIDER, "hosted_vllm", "ollama", "ollama_chat", "lm_studio",
                               "llamafile", "vllm"})
# Where litellm itself finds a provider's base URL when none is passed, in its order.
_BASE_ENV = {"openai": ("OPENAI_BASE_URL", "OPENAI_API_BASE")}
_MODES = ("auto", "json_schema", "prompt")
# Providers whose structured output (`response_format` json_schema) streams as message content:
# OpenAI and the servers that speak its protocol, and Anthropic (litellm turns its tool-call JSON
# mode back into content while streaming). Elsewhere a structured request that sends the schema
# as `response_format` is answered without streaming; one that asks in the prompt streams.
_STREAM_SCHEMA_PROVIDERS = frozenset({PROVIDER, "openai", "azure", "hosted_vllm", "vllm", "ollama",
                                      "ollama_chat", "lm_studio", "llamafile", "anthropic",
                                      "groq", "deepseek", "mistral", "together_ai",
                                      "fireworks_ai", "openrouter", "xai"})


class LiteLLMModel(Model):
    """A litellm model string (``ollama/llama3``, ``openai/gpt-4o-mini``, ``hosted_vllm/...``,
    ``openai/<name>`` with ``api_base``, ``mapek/offline``).

    ``structured_output`` says when a structured request's schema also goes as
    ``response_format`` (it is in the prompt anyway): ``auto`` where litellm reports support or
    the provider is an OpenAI-compatible server (``openai/<name>`` with a base URL, passed or
    in ``OPENAI_BASE_URL``/``OPENAI_API_BASE``; ``hosted_vllm``, ``ollama``, ...),
    ``json_schema`` always, ``prompt`` never. ``extra`` holds defaults for
    ``litellm.completion``: a request's own ``temperature`` and ``max_tokens`` win.

    litellm is imported at the first call, not here. The model string is checked at the first
    call too (offline variants at once): an unroutable one raises
    :class:`~mapek.errors.UnknownModelError`.

    A request with ``on_delta`` is streamed (``stream=True``, usage asked for with
    ``stream_options``): each piece of content goes to ``on_delta`` as it arrives, and the
    pieces are assembled (``litellm.stream_chunk_builder``) into the same :class:`Completion`
    a plain call gives. Not streamed: a structured request that sends ``response_format`` to a
    provider whose structured output may not stream as content (see
    ``_STREAM_SCHEMA_PROVIDERS``). The offline model simulates streaming, answered here or
    through litellm's custom provider alike (``MAPEK_OFFLINE_STREAM_DELAY``, see
    :mod:`mapek.llm.offline`).
    """

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        extra: Mapping[str, Any] | None = None,
        structured_output: Literal["auto", "json_schema", "prompt"] = "auto",
        via_litellm: bool | None = None,
    ) -> None:
        if not model or not model.strip():
            raise UnknownModelError(model, "the model string is empty")
        if structured_output not in _MODES:
            raise ConfigError(f"structured_output must be one of {', '.join(_MODES)}, "
                              f"not {structured_output!r}")
        self.name = model
        self.api_base = api_base
        self.api_key = api_key
        self.timeout = timeout
        """Default seconds per attempt, when the request sets none."""
        self.extra = dict(extra or {})
        """More keyword arguments for ``litellm.completion`` (``extra_headers``, ``seed``, ...)."""
        self.structured_output = structured_output
        """``auto``, ``json_schema`` or ``prompt``: see the class docstring."""
        self.offline = model.startswith(PROVIDER + "/")
        if self.offline:
            parse_offline_model(model)
        if via_litellm is None:
            via_litellm = os.environ.get(OFFLINE_VIA_LITELLM, "").strip() not in ("", "0")
        self.via_litellm = not self.offline or via_litellm
        """False for the offline model answered in this process without litellm (the
        default; ``via_litellm=True`` or ``MAPEK_OFFLINE_VIA_LITELLM=1`` route it through
        litellm's custom provider instead). Always True for any other model."""
        self._provider: str | None = None
        self._schema_ok = False
        self._priced = True
        """False once litellm's price map turned out not to know this model."""

    @property
    def concurrent(self) -> bool:  # type: ignore[override]
        """False only for the offline model answered in this process with no stream delay:
        its answers are computed under the interpreter lock, with nothing to wait for."""
        if self.via_litellm:
            return True
        from mapek.llm.offline import stream_delay

        return stream_delay() > 0

    # -- the call ----------------------------------------------------------------------------
    def complete(self, request: ModelRequest) -> Completion:
        if not self.via_litellm:
            return self._offline_answer(request)
        litellm = self._litellm()
        kwargs = self._kwargs(request)
        if self._streams(request):
            return self._stream(litellm, kwargs, request)
        start = time.perf_counter()
        try:
            response = litellm.completion(**kwargs)
        except Exception as exc:
            raise translate_error(exc, self.name, kwargs.get("timeout"), litellm) from exc
        return self._completion(litellm, response, request, start)

    async def acomplete(self, request: ModelRequest) -> Completion:
        if not self.via_litellm:
            return await self._aoffline_answer(request)
        litellm = self._litellm()
        kwargs = self._kwargs(request)
        if self._streams(request):
            return await self._astream(litellm, kwargs, request)
        start = time.perf_counter()
        try:
            response = await litellm.acompletion(**kwargs)
        except Exception as exc:
            raise translate_error(exc, self.name, kwargs.get("timeout"), litellm) from exc
        return self._completion(litellm, response, request, start)

    def estimate_cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        if not self.via_litellm:
            return 0.0  # litellm's price map has no price for the offline model either
        litellm = self._litellm()
        try:
            prompt_usd, completion_usd = litellm.cost_per_token(
                model=self.name, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
            )
            return float(prompt_usd) + float(completion_usd)
        except Exception:  # no known price: free as far as we can tell
            return 0.0

    # -- plumbing ----------------------------------------------------------------------------
    def _litellm(self) -> ModuleType:
        litellm = get_litellm()
        if self._provider is None:
            self._route(litellm)
        return litellm

    def _route(self, litellm: ModuleType) -> None:
        try:
            _, provider, _, _ = litellm.get_llm_provider(self.name, api_base=self.api_base)
        except Exception as exc:
            raise UnknownModelError(self.name, _UNROUTABLE) from exc
        try:
            supported = bool(
                litellm.supports_response_schema(model=self.name, custom_llm_provider=provider)
            )
        except Exception:
            supported = False
        if self.structured_output == "json_schema":
            self._schema_ok = True
        elif self.structured_output == "prompt":
            self._schema_ok = False
        else:
            base = self.api_base or environment_api_base(provider, litellm)
            self._schema_ok = (
                supported
                or provider in _SCHEMA_PROVIDERS
                or (provider == "openai" and base is not None)  # an OpenAI-compatible server
            )
        self._provider = provider

    @property
    def sends_schema(self) -> bool:
        """True when structured requests carry ``response_format`` (routes the model string,
        importing litellm, the first time it is read; never for the offline model)."""
        if not self.via_litellm:
            return self.structured_output != "prompt"  # provider `mapek` takes schemas
        self._litellm()
        return self._schema_ok

    # -- streaming ---------------------------------------------------------------------------
    def _streams(self, request: ModelRequest) -> bool:
        """Stream this request through litellm (see the class docstring)."""
        if request.on_delta is None:
            return False
        sends_schema = request.schema is not None and self._schema_ok
        return not sends_schema or self._provider in _STREAM_SCHEMA_PROVIDERS

    def _stream(self, litellm: ModuleType, kwargs: dict[str, Any],
                request: ModelRequest) -> Completion:
        assert request.on_delta is not None
        kwargs = {**kwargs, "stream": True, "stream_options": {"include_usage": True}}
        start = time.perf_counter()
        chunks: list[Any] = []
        try:
            stream = iter(litellm.completion(**kwargs))
        except Exception as exc:
            raise translate_error(exc, self.name, kwargs.get("timeout"), litellm) from exc
        while True:
            try:
                chunk = next(stream)
            except StopIteration:
                break
            except Exception as exc:
                raise translate_error(exc, self.name, kwargs.get("timeout"), litellm) from exc
            chunks.append(chunk)
            piece = _piece(chunk)
            if piece:  # the consumer's own errors are not the model's: not translated
                request.on_delta(Delta(piece, request.ask, request.attempt))
        return self._assembled(litellm, chunks, request, start)

    async def _astream(self, litellm: ModuleType, kwargs: dict[str, Any],
                       request: ModelRequest) -> Completion:
        assert request.on_delta is not None
        kwargs = {**kwargs, "stream": True, "stream_options": {"include_usage": True}}
        start = time.perf_counter()
        chunks: list[Any] = []
        try:
            stream = (await litellm.acompletion(**kwargs)).__aiter__()
        except Exception as exc:
            raise translate_error(exc, self.name, kwargs.get("timeout"), litellm) from exc
        while True:
            try:
                chunk = await stream.__anext__()
            except StopAsyncIteration:
                break
            except Exception as exc:
                raise translate_error(exc, self.name, kwargs.get("timeout"), litellm) from exc
            chunks.append(chunk)
            piece = _piece(chunk)
            if piece:
                request.on_delta(Delta(piece, request.ask, request.attempt))
        return self._assembled(litellm, chunks, request, start)

    def _assembled(self, litellm: ModuleType, chunks: list[Any], request: ModelRequest,
                   start: float) -> Completion:
        """The streamed chunks as one response, read as a plain call's."""
        try:
            response = litellm.stream_chunk_builder(chunks, messages=request.messages)
        except Exception as exc:
            raise ModelError(f"model {self.name} sent a stream that does not assemble: "
                             f"{_one_line(exc)}", model=self.name) from exc
        if response is None:
            raise ModelError(f"model {self.name} sent an empty stream", model=self.name)
        return self._completion(litellm, response, request, start)

    # -- the offline model, answered here ----------------------------------------------------
    def _offline_answer(self, request: ModelRequest) -> Completion:
        """The offline engine's answer, as litellm's custom provider would give it (same
        text, usage, faults and errors), without litellm; streamed in pieces when asked."""
        start = time.perf_counter()
        answer, failure = self._offline_reply(request)
        if request.on_delta is not None:
            from mapek.llm.offline import stream_delay

            delay = stream_delay()
            for piece in _offline_pieces(answer.text, failure is not None):
                if delay:
                    time.sleep(delay)
                request.on_delta(Delta(piece, request.ask, request.attempt))
        if failure is not None:
            raise failure
        return answer.model_copy(update={"latency_ms": (time.perf_counter() - start) * 1000})

    async def _aoffline_answer(self, request: ModelRequest) -> Completion:
        """:meth:`_offline_answer`, waiting between streamed pieces without blocking."""
        start = time.perf_counter()
        answer, failure = self._offline_reply(request)
        if request.on_delta is not None:
            from mapek.llm.offline import stream_delay

            delay = stream_delay()
            for piece in _offline_pieces(answer.text, failure is not None):
                if delay:
                    await asyncio.sleep(delay)
                request.on_delta(Delta(piece, request.ask, request.attempt))
        if failure is not None:
            raise failure
        return answer.model_copy(update={"latency_ms": (time.perf_counter() - start) * 1000})

    def _offline_reply(self, request: ModelRequest) -> tuple[Completion, ModelError | None]:
        """The offline engine's answer, and the error a streamed attempt ends with (the
        ``flaky`` fault's, after half the answer); raises at once what comes before any text."""
        from mapek.llm._offline_provider import plain_message
        from mapek.llm.offline import FAULTS, OfflineRequest, respond

        start = time.perf_counter()
        fault = parse_offline_model(self.name)
        context = dict(request.context or {})
        if not fault and context.get("fault") in FAULTS:
            fault = str(context["fault"])
        if fault == "timeout":
            raise ModelTimeoutError(f"model {self.name} did not answer", model=self.name)
        failure: ModelError | None = None
        if fault == "flaky" and request.attempt == 1:
            failure = ModelError(f"model {self.name} failed (HTTP 503): offline model: "
                                 "simulated HTTP 503 (fault 'flaky')", model=self.name,
                                 status_code=503)
            if request.on_delta is None:
                raise failure
        plain = [plain_message(m) for m in request.messages]
        seed = self.extra.get("seed")
        max_tokens = request.max_tokens if request.max_tokens is not None \
            else self.extra.get("max_tokens")
        reply = respond(OfflineRequest(
            messages=plain, task=request.task or "chat", context=context,
            schema=dict(request.schema) if request.schema is not None
            and self.structured_output != "prompt" else None,
            ask=request.ask, attempt=request.attempt, fault=fault,
            salt=seed if seed is None or isinstance(seed, int | str) else str(seed)),
            max_tokens=max_tokens)
        return Completion(
            text=reply.text,
            model=self.name,
            usage=Usage(prompt_tokens=estimate_prompt_tokens(plain),
                        completion_tokens=estimate_text_tokens(reply.text)),
            cost_usd=0.0,
            latency_ms=(time.perf_counter() - start) * 1000,
            offline=True,
            finish_reason=reply.finish_reason,
        ), failure

    def _kwargs(self, request: ModelRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            **self.extra,  # defaults: what follows is mapek's, and the request's
            "model": self.name,
            "messages": request.messages,
            "timeout": request.timeout if request.timeout is not None else self.timeout,
            # one retry layer only: the gateway's (see RetryingModel)
            "max_retries": 0,
            "num_retries": 0,
            # litellm keeps `metadata` to itself (callbacks, custom providers); the offline
            # model reads its task and context from here
            "metadata": {
                "mapek": {
                    "task": request.task,
                    "context": request.context,
                    "ask": request.ask,
                    "attempt": request.attempt,
                }
            },
        }
        if self.api_base is not None:
            kwargs["api_base"] = self.api_base
        if self.api_key is not None:
            kwargs["api_key"] = self.api_key
        if request.max_tokens is not None:
            kwargs["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if request.schema is not None and self._schema_ok:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "schema": request.schema,
                    "strict": False,
                },
            }
        if self.offline:
            # it answers in microseconds; litellm spends ~0.5 ms per call handling a timeout
            del kwargs["timeout"]
        return kwargs

    def _completion(
        self, litellm: ModuleType, response: Any, request: ModelRequest, start: float
    ) -> Completion:
        latency_ms = (time.perf_counter() - start) * 1000
        try:
            choice = response.choices[0]
            text = choice.message.content or ""
            finish_reason = getattr(choice, "finish_reason", None)
        except (AttributeError, IndexError) as exc:
            raise ModelError(f"model {self.name} sent a response with no message",
                             model=self.name) from exc
        usage = getattr(response, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        if not prompt_tokens and not completion_tokens:  # a server that reports no usage
            prompt_tokens = estimate_prompt_tokens(request.messages)
            completion_tokens = estimate_text_tokens(text)
        cost = 0.0
        if self._priced:
            try:
                cost = float(litellm.completion_cost(completion_response=response) or 0.0)
            except litellm.exceptions.ModelNotMappedError:
                self._priced = False  # no price for this model: free, and skip the look-up
            except Exception:  # a price map entry litellm cannot apply: also free
                cost = 0.0
        return Completion(
            text=text,
            model=self.name,
            usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens),
            cost_usd=cost,
            latency_ms=latency_ms,
            offline=self.offline,
            finish_reason=finish_reason,
        )


def _piece(chunk: Any) -> str:
    """The content a streamed chunk adds ("" for none: a role, a finish, the usage)."""
    try:
        choices = chunk.choices
        content = choices[0].delta.content if choices else None
    except (AttributeError, IndexError):
        return ""
    return content if isinstance(content, str) else ""


def _offline_pieces(text: str, failing: bool) -> list[str]:
    """The pieces the offline model streams: all of ``text``, or its first half for an
    attempt that is to fail."""
    from mapek.llm.offline import stream_pieces

    pieces = stream_pieces(text)
    return pieces[: len(pieces) // 2] if failing else pieces


def environment_api_base(provider: str, litellm: ModuleType | None = None) -> str | None:
    """The base URL litellm would use for ``provider`` when a call passes none: its global
    ``litellm.api_base``, else the provider's environment variables (``OPENAI_BASE_URL``, then
    ``OPENAI_API_BASE``, for ``openai``), else None (litellm's built-in default)."""
    if litellm is not None and getattr(litellm, "api_base", None):
        return str(litellm.api_base)
    for var in _BASE_ENV.get(provider, ()):
        value = os.environ.get(var, "").strip()
        if value:
            return value
    return None


def translate_error(
    exc: BaseException, model: str, timeout: Any, litellm: ModuleType
) -> MapekError:
    """mapek's error for a litellm exception (whose cause chain may hold the SDK's and httpx's).

    litellm labels a dropped connection or a body that is not JSON as ``InternalServerError``
    (500); the cause chain tells what really happened, so it is read first.
    """
    if isinstance(exc, MapekError):
        return exc
    inner = getattr(exc, "original_exception", None)
    if isinstance(exc, litellm.exceptions.MidStreamFallbackError) and isinstance(inner,
                                                                                 Exception):
        return translate_error(inner, model, timeout, litellm)  # a stream broke: what broke it
    detail = _one_line(exc)
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    chain = _chain(exc)
    if isinstance(exc, litellm.exceptions.LiteLLMUnknownProvider) or (
        isinstance(exc, litellm.BadRequestError) and "LLM Provider NOT provided" in str(exc)
    ):
        return UnknownModelError(model, _UNROUTABLE)
    if isinstance(exc, litellm.NotFoundError):
        return UnknownModelError(model, f"the server does not know it (HTTP 404: {detail})")
    if any(_is_timeout(e, litellm) for e in chain):
        seconds = f" within {timeout:g} s" if isinstance(timeout, (int, float)) else ""
        return ModelTimeoutError(f"model {model} did not answer{seconds}", model=model)
    if any(_is_connection(e, litellm) for e in chain):
        return ModelConnectionError(
            f"model {model}: connection failed or dropped ({detail})", model=model
        )
    if any(isinstance(e, json.JSONDecodeError) for e in chain):
        return ModelError(f"model {model} sent a response that is not JSON", model=model)
    return ModelError(
        f"model {model} failed{f' (HTTP {status})' if status else ''}: {detail}",
        model=model, status_code=status,
    )


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and its causes and contexts, outermost first (cycle-safe, bounded)."""
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in out and len(out) < 16:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def _is_timeout(exc: BaseException, litellm: ModuleType) -> bool:
    import httpx
    import openai

    return isinstance(
        exc, (litellm.Timeout, openai.APITimeoutError, httpx.TimeoutException, TimeoutError)
    )


def _is_connection(exc: BaseException, litellm: ModuleType) -> bool:
    import httpx
    import openai

    if isinstance(exc, (litellm.APIConnectionError, openai.APIConnectionError,
                        httpx.TransportError, ConnectionError)):
        return True
    return type(exc).__name__ in ("ClientConnectionError", "ServerDisconnectedError",
                                  "ClientOSError", "ClientPayloadError")


_UNROUTABLE = (
    "litellm cannot route it to a provider; use '<provider>/<model>', for example "
    "'openai/gpt-4o-mini', 'ollama/llama3', 'hosted_vllm/<name>', or 'mapek/offline'"
)
_NOISE = re.compile(r"^(?:litellm\.)?(?:\w+(?:Error|Exception)(?::| -)\s*)+")


def _one_line(exc: BaseException) -> str:
    """The message without litellm's repeated class-name prefixes, on one line, capped."""
    text = " ".join(str(exc).split())
    text = _NOISE.sub("", text).strip() or type(exc).__name__
    return text[:240]
