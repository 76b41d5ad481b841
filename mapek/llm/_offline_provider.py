"""The offline model as a litellm custom provider (``litellm.CustomLLM``), built on first use.

litellm strips the ``mapek/`` prefix, calls :meth:`completion` (or :meth:`acompletion`) with the
messages, the OpenAI parameters it accepted (``optional_params``: ``max_tokens``,
``response_format``, ...) and its own parameters (``litellm_params``, where ``metadata`` arrives
untouched), and then does its usual accounting on the response we fill in.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from mapek.config import OFFLINE_MODEL
from mapek.errors import UnknownModelError
from mapek.llm._tokens import estimate_prompt_tokens, estimate_text_tokens
from mapek.llm.offline import FAULTS, PROVIDER, OfflineRequest, parse_offline_model, respond

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

    return OfflineProvider()


def _answer(litellm: ModuleType, model: str, messages: list[Any], model_response: Any,
            optional_params: Mapping[str, Any], litellm_params: Mapping[str, Any] | None) -> Any:
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
    if fault == "flaky" and attempt == 1:
        raise litellm.ServiceUnavailableError(
            message="offline model: simulated HTTP 503 (fault 'flaky')",
            model=model, llm_provider=PROVIDER,
        )
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
