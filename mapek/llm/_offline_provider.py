"""The offline model as a litellm custom provider (``litellm.CustomLLM``), built on first use.

litellm strips the ``mapek/`` prefix, calls :meth:`completion` (or :meth:`acompletion`) with the
messages, the OpenAI parameters it accepted (``optional_params``: ``max_tokens``,
``response_format``, ...) and its own parameters (``litellm_params``, where ``metadata`` arrives
untouched), and then does its usual accounting on the response we fill in. Asked to stream
(``stream=True``), it answers through :meth:`streaming` (:meth:`astreaming`): the same answer in
the pieces and at the pace the offline model streams (:func:`mapek.llm.offline.stream_pieces`,
``MAPEK_OFFLINE_STREAM_DELAY``), as litellm's generic streaming chunks, the usage in the last.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from types import ModuleType
from typing import Any

from mapek.config import OFFLINE_MODEL
from mapek.errors import UnknownModelError
from mapek.llm._tokens import estimate_prompt_tokens, estimate_text_tokens
from mapek.llm.offline import (
    FAULTS,
    PROVIDER,
    OfflineReply,
    OfflineRequest,
    parse_offline_model,
    respond,
    stream_delay,
    stream_pieces,
)

__all__ = ["plain_message"]


def build_provider(litellm: ModuleType) -> Any:
    """An instance of a ``litellm.CustomLLM`` subclass answering with the offline engine."""

    class OfflineProvider(litellm.CustomLLM):  # type: ignore[name-defined,misc]
        def completion(self, model: str, messages: list[Any], api_base: Any,
                       custom_prompt_dict: Any, model_response: Any, print_verbose: Any,
                       encoding: Any, api_key: Any, logging_obj: Any,
                       optional_params: dict[str, Any],
                       acompletion: Any = None, litellm_params: Any = None, logger_fn: Any = None,
                       headers: Any = None, timeout: Any = None, client: Any = None) -> Any:
            return _answer(litellm, model, messages, model_response, optional_params,
                           litellm_params)

        async def acompletion(self, model: str, messages: list[Any], api_base: Any,
                              custom_prompt_dict: Any, model_response: Any, print_verbose: Any,
                              encoding: Any, api_key: Any, logging_obj: Any,
                              optional_params: dict[str, Any], acompletion: Any = None,
                              litellm_params: Any = None, logger_fn: Any = None,
                              headers: Any = None, timeout: Any = None,
                              client: Any = None) -> Any:
            return _answer(litellm, model, messages, model_response, optional_params,
                           litellm_params)

        def streaming(self, model: str, messages: list[Any], api_base: Any,
                      custom_prompt_dict: Any, model_response: Any, print_verbose: Any,
                      encoding: Any, api_key: Any, logging_obj: Any,
                      optional_params: dict[str, Any], acompletion: Any = None,
                      litellm_params: Any = None, logger_fn: Any = None, headers: Any = None,
                      timeout: Any = None, client: Any = None) -> Iterator[dict[str, Any]]:
            reply, plain, failure = _reply(litellm, model, messages, optional_params,
                                           litellm_params, streamed=True)
            delay = stream_delay()
            for chunk in _chunks(reply, plain, failure):
                if delay and not chunk["is_finished"]:
                    time.sleep(delay)
                yield chunk
            if failure is not None:
                raise failure

        async def astreaming(self, model: str, messages: list[Any], api_base: Any,
                             custom_prompt_dict: Any, model_response: Any, print_verbose: Any,
                             encoding: Any, api_key: Any, logging_obj: Any,
                             optional_params: dict[str, Any], acompletion: Any = None,
                             litellm_params: Any = None, logger_fn: Any = None,
                             headers: Any = None, timeout: Any = None,
                             client: Any = None) -> AsyncIterator[dict[str, Any]]:
            reply, plain, failure = _reply(litellm, model, messages, optional_params,
                                           litellm_params, streamed=True)
            delay = stream_delay()
            for chunk in _chunks(reply, plain, failure):
                if delay and not chunk["is_finished"]:
                    await asyncio.sleep(delay)
                yield chunk
            if failure is not None:
                raise failure

    return OfflineProvider()


def _chunks(reply: OfflineReply, plain: list[dict[str, Any]],
            failure: Exception | None) -> Iterator[dict[str, Any]]:
    """``reply`` as litellm's generic streaming chunks (``GenericStreamingChunk``): a piece of
    text each, then the finish with the usage; an attempt that is to fail stops halfway."""
    pieces = stream_pieces(reply.text)
    if failure is not None:
        pieces = pieces[: len(pieces) // 2]
    for piece in pieces:
        yield {"text": piece, "tool_use": None, "is_finished": False, "finish_reason": "",
               "usage": None, "index": 0}
    if failure is None:
        prompt_tokens = estimate_prompt_tokens(plain)
        completion_tokens = estimate_text_tokens(reply.text)
        yield {"text": "", "tool_use": None, "is_finished": True,
               "finish_reason": reply.finish_reason, "index": 0,
               "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                         "total_tokens": prompt_tokens + completion_tokens}}


def _answer(litellm: ModuleType, model: str, messages: list[Any], model_response: Any,
            optional_params: Mapping[str, Any], litellm_params: Mapping[str, Any] | None) -> Any:
    reply, plain, _ = _reply(litellm, model, messages, optional_params, litellm_params,
                             streamed=False)
    choice = model_response.choices[0]
    choice.message.content = reply.text
    choice.finish_reason = reply.finish_reason
    model_response.model = OFFLINE_MODEL
    prompt_tokens = estimate_prompt_tokens(plain)
    completion_tokens = estimate_text_tokens(reply.text)
    model_response.usage = litellm.Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
    )
    return model_response


def _reply(litellm: ModuleType, model: str, messages: list[Any],
           optional_params: Mapping[str, Any], litellm_params: Mapping[str, Any] | None, *,
           streamed: bool) -> tuple[OfflineReply, list[dict[str, Any]], Exception | None]:
    """The engine's reply, the messages as plain dicts, and the error a streamed attempt ends
    with (the ``flaky`` fault's, after half its answer); raises what comes before any text."""
    try:
        fault = parse_offline_model(model)
    except UnknownModelError as exc:
        raise litellm.NotFoundError(message=str(exc), model=model, llm_provider=PROVIDER) from exc
    meta = ((litellm_params or {}).get("metadata") or {}).get("mapek") or {}
    context = meta.get("context") or {}
    if not fault and context.get("fault") in FAULTS:
        fault = context["fault"]
    attempt = int(meta.get("attempt", 1))
    if fault == "timeout":
        raise litellm.Timeout(
            message="offline model: simulated timeout (fault 'timeout')",
            model=model, llm_provider=PROVIDER,
        )
    failure: Exception | None = None
    if fault == "flaky" and attempt == 1:
        failure = litellm.ServiceUnavailableError(
            message="offline model: simulated HTTP 503 (fault 'flaky')",
            model=model, llm_provider=PROVIDER,
        )
        if not streamed:
            raise failure
    plain = [plain_message(m) for m in messages]
    request = OfflineRequest(
        messages=plain,
        task=str(meta.get("task") or "chat"),
        context=dict(context),
        schema=_schema(optional_params.get("response_format")),
        ask=int(meta.get("ask", 1)),
        attempt=attempt,
        fault=fault,
        salt=_seed(optional_params.get("seed")),
    )
    reply = respond(request, max_tokens=optional_params.get("max_tokens"))
    return reply, plain, failure


def _seed(value: Any) -> int | str | None:
    """The caller's ``seed`` parameter, as a JSON value (None: no seed was given)."""
    if value is None or isinstance(value, int | str):
        return value
    return str(value)


def plain_message(message: Any) -> dict[str, Any]:
    """A chat message as a plain dict (litellm may hand over its own message objects)."""
    if isinstance(message, Mapping):
        return dict(message)
    dump = getattr(message, "model_dump", None)
    return dict(dump()) if callable(dump) else {"role": "user", "content": str(message)}


def _schema(response_format: Any) -> dict[str, Any] | None:
    """The JSON schema of an OpenAI ``response_format``; a bare object for ``json_object``."""
    if isinstance(response_format, Mapping):
        if response_format.get("type") == "json_schema":
            spec = response_format.get("json_schema") or {}
            schema = spec.get("schema") if isinstance(spec, Mapping) else None
            return dict(schema) if isinstance(schema, Mapping) else {"type": "object"}
        if response_format.get("type") == "json_object":
            return {"type": "object"}
    elif isinstance(response_format, type) and hasattr(response_format, "model_json_schema"):
        return dict(response_format.model_json_schema())
    return None
