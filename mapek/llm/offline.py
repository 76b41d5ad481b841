"""The offline model: a deterministic script engine behind the model string ``mapek/offline``.

It is registered with litellm as the custom provider ``mapek`` (see ``_offline_provider``), so a
call to it runs the real litellm path (routing, usage, cost, the gateway's retries). It never
touches the network, answers instantly, and is deterministic: the same request gives the same
answer, because every choice is drawn from a ``random.Random`` seeded with a hash of the request.
A ``seed`` parameter (``ModelSpec(name="mapek/offline", params={"seed": 7})``) goes into that
hash: the same conversation under another seed takes other choices.

What to say is decided by a *script* chosen by task name. The gateway sends the task and a small
JSON context as litellm metadata (``metadata={"mapek": {"task": ..., "context": ..., "ask": ...,
"attempt": ...}}``), which litellm hands to the provider untouched and does not forward to real
providers. Tasks without a script fall back to ``structured`` when a JSON schema is requested
(``response_format``) and to ``chat`` otherwise.

Scripts shipped here:

- ``persona_turn``: a persona speaking in a peer discussion (see ``_offline_persona``).
- ``structured``: a valid instance of any JSON schema, filled with words from the conversation.
- ``chat``: a short deterministic reply to the last user message.

Add a task with :func:`register_script`. A script takes an :class:`OfflineRequest` and returns a
string (the reply) or a dict; with a schema requested, a dict's entries are used as values for the
properties of the same name and the rest of the instance is generated.

Faults for tests, chosen by the model string (``mapek/offline-<fault>``) or ``context["fault"]``:

==================  =============================================================================
``garbage``         prose instead of JSON on the first ask; a valid answer on re-asks
``garbage-always``  prose instead of JSON on every ask
``invalid-always``  well-formed JSON that never fits the schema
``fenced``          the JSON inside a ```json code fence, with prose around it
``sloppy``          single quotes and trailing commas
``truncated``       the JSON cut off two thirds of the way through, on the first ask
``extra``           an extra, unexpected field
``missing``         the first required field left out on the first ask
``timeout``         every attempt times out (litellm ``Timeout``)
``flaky``           the first attempt of each call fails with HTTP 503, the next succeeds (a
                    streamed call fails after sending the first half of its answer)
==================  =============================================================================

Streaming is simulated: asked to stream (a request with ``on_delta``), the offline model sends
its answer in pieces of a few words (:func:`stream_pieces`), waiting ``MAPEK_OFFLINE_STREAM_DELAY``
seconds before each (default 0: the pieces come at once, and a run takes no longer).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mapek.errors import ConfigError, UnknownModelError
from mapek.llm._offline_persona import HUMAN_QUESTION_PREFIX, TRIVIAL_QUESTION_PREFIX, persona_turn
from mapek.llm._offline_request import OfflineRequest
from mapek.llm._schema_sample import sample_instance

__all__ = [
    "PROVIDER",
    "FAULTS",
    "OfflineRequest",
    "OfflineReply",
    "Script",
    "register_script",
    "unregister_script",
    "registered_scripts",
    "respond",
    "parse_offline_model",
    "sample_instance",
    "content_words",
    "HUMAN_QUESTION_PREFIX",
    "TRIVIAL_QUESTION_PREFIX",
    "STREAM_DELAY_ENV",
    "stream_delay",
    "stream_pieces",
]

PROVIDER = "mapek"
"""The litellm provider name of the offline model: model strings ``mapek/offline[-<fault>]``."""

FAULTS = frozenset(
    {
        "garbage", "garbage-always", "invalid-always", "fenced", "sloppy", "truncated", "extra",
        "missing", "timeout", "flaky",
    }
)
"""Fault switches for tests (see the module docstring)."""

_JSON_FAULTS = FAULTS - {"timeout", "flaky"}

STREAM_DELAY_ENV = "MAPEK_OFFLINE_STREAM_DELAY"
"""Environment variable: seconds the offline model waits before each piece of a streamed
answer (default 0; ``mapek tui`` sets a small one, so a person sees the turns come in)."""
_MAX_STREAM_DELAY = 5.0
_PIECE = re.compile(r"\s*\S+(?:\s+\S+)?")
"""Two words (with the spaces before them) per streamed piece."""


def stream_delay() -> float:
    """Seconds per streamed piece from ``MAPEK_OFFLINE_STREAM_DELAY``; ConfigError if it is not
    a number from 0 to 5."""
    raw = os.environ.get(STREAM_DELAY_ENV, "").strip()
    if not raw:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= _MAX_STREAM_DELAY:
        raise ConfigError(f"{STREAM_DELAY_ENV} must be seconds from 0 to {_MAX_STREAM_DELAY:g}, "
                          f"not {raw!r}")
    return value


def stream_pieces(text: str) -> list[str]:
    """``text`` in the pieces the offline model streams (two words each, the spacing kept):
    they concatenate to ``text``."""
    pieces = _PIECE.findall(text)
    rest = text[sum(map(len, pieces)):]
    if rest:
        pieces.append(rest)
    return pieces

def parse_offline_model(model: str) -> str:
    """The fault of an offline model string (``""`` for none); UnknownModelError if invalid.

    Accepts ``mapek/offline``, ``mapek/offline-<fault>`` and the bare ``offline[-<fault>]`` that
    litellm passes to the provider after stripping the prefix.
    """
    name = model.removeprefix(PROVIDER + "/")
    if name == "offline":
        return ""
    fault = name.removeprefix("offline-")
    if name.startswith("offline-") and fault in FAULTS:
        return fault
    raise UnknownModelError(
        model,
        f"the offline provider knows 'mapek/offline' and 'mapek/offline-<fault>' "
        f"with fault one of {', '.join(sorted(FAULTS))}",
    )


@dataclass(frozen=True)
class OfflineReply:
    """What the engine answers: the text and why it stopped."""

    text: str
    finish_reason: str = "stop"


Script = Callable[[OfflineRequest], "str | dict[str, Any]"]
"""A task's script: the request in, the reply text (or property values for a schema) out."""

_scripts: dict[str, Script] = {}
_scripts_lock = threading.Lock()


def register_script(task: str, script: Script) -> None:
    """Make ``script`` answer every offline call made with ``task``; replaces an earlier one."""
    if not task or not task.strip():
        raise ValueError("a script needs a task name")
    with _scripts_lock:
        _scripts[task] = script


def unregister_script(task: str) -> None:
    """Forget the script of ``task`` (no error if there is none)."""
    with _scripts_lock:
        _scripts.pop(task, None)


def registered_scripts() -> list[str]:
    """The task names that have a script, sorted."""
    with _scripts_lock:
        return sorted(_scripts)


def respond(request: OfflineRequest, *, max_tokens: int | None = None) -> OfflineReply:
    """Run the script for ``request.task`` and apply the fault switch; cut at ``max_tokens``."""
    with _scripts_lock:
        fallback = "structured" if request.schema is not None else "chat"
        script = _scripts.get(request.task) or _scripts.get(fallback)
    if script is None:  # the fallback itself was unregistered
        script = structured_script if request.schema is not None else chat_script
    produced = script(request)
    if request.schema is not None:
        text = _as_json(produced, request)
        text = _apply_fault(text, request)
    elif isinstance(produced, str):
        text = produced
    else:
        text = json.dumps(produced, ensure_ascii=False)
    if max_tokens is not None and len(text) > max_tokens * 4:
        return OfflineReply(text[: max_tokens * 4], finish_reason="length")
    return OfflineReply(text)


# -- the shipped scripts -------------------------------------------------------------------------

_STOPWORDS = frozenset(
    """about above after again against because before being below between both could during
    each every first from further have having here into itself just more most other our ours
    ourselves over same should some such than that their theirs them themselves then there these
    they this those through under until very what when where which while with would your yours
    yourself reply object schema json string number boolean array integer field fields answer
    return only valid single without prose fences please following decide""".split()
)


def content_words(request: OfflineRequest, limit: int = 12, *, latest: bool = False) -> list[str]:
    """Salient words of the context and the first (or ``latest``) user message, in order."""
    sources: list[str] = []
    for key in ("topic", "question", "text", "goal"):
        value = request.context.get(key)
        if isinstance(value, str):
            sources.append(value)
    sources.append(request.last_user if latest else request.first_user)
    words: list[str] = []
    for source in sources:
        for word in re.findall(r"[A-Za-z][A-Za-z-]{4,}", source):
            low = word.lower().strip("-")
            if low not in _STOPWORDS and low not in words:
                words.append(low)
                if len(words) >= limit:
                    return words
    return words


def structured_script(request: OfflineRequest) -> dict[str, Any]:
    """Property values from ``context["hints"]``; the engine generates the rest."""
    hints = request.context.get("hints")
    return dict(hints) if isinstance(hints, Mapping) else {}


def chat_script(request: OfflineRequest) -> str:
    """A short, deterministic acknowledgement of the last user message."""
    words = content_words(request, limit=4, latest=True)
    rng = request.rng("chat")
    if not words:
        return "Understood. I have nothing to add yet."
    focus = ", ".join(words[:3])
    return rng.choice(
        [
            f"Understood. The main points are {focus}; I suggest we take them in that order.",
            f"Noted. I would start with {words[0]}, then look at {focus}.",
            f"Agreed on the outline. The open questions concern {focus}.",
        ]
    )


def _as_json(produced: str | dict[str, Any], request: OfflineRequest) -> str:
    assert request.schema is not None
    if isinstance(produced, str):
        try:
            json.loads(produced)
            return produced  # the script wrote the JSON itself
        except ValueError:
            produced = {key: produced for key in ("text", "content", "message", "answer")}
    instance = sample_instance(
        request.schema, seed=request.seed, hints=produced, words=content_words(request)
    )
    return json.dumps(instance, ensure_ascii=False)


def _apply_fault(text: str, request: OfflineRequest) -> str:
    fault = request.fault
    if fault not in _JSON_FAULTS:
        return text
    first = request.ask <= 1
    if fault == "garbage-always" or (fault == "garbage" and first):
        return "I have thought about it carefully, and I believe the proposal is broadly fine."
    if fault == "invalid-always":
        return json.dumps({"unexpected": True})
    if fault == "fenced":
        return f"Sure! Here is the JSON you asked for:\n```json\n{text}\n```\nLet me know."
    if fault == "sloppy":
        return _sloppy(text)
    if fault == "truncated" and first:
        return text[: max(1, len(text) * 2 // 3)]
    data = json.loads(text)
    if fault == "extra" and isinstance(data, dict):
        data["unexpected_note"] = "added by the offline model's 'extra' fault"
    if fault == "missing" and first and isinstance(data, dict):
        for key in request.schema.get("required", []) if request.schema else []:
            data.pop(key, None)
            break
    return json.dumps(data, ensure_ascii=False)


def _sloppy(text: str) -> str:
    """Python-ish JSON: single-quoted strings, trailing commas."""
    def repr_like(value: Any) -> str:
        if isinstance(value, dict):
            inner = ", ".join(f"{repr_like(k)}: {repr_like(v)}" for k, v in value.items())
            return "{" + inner + (", }" if value else "}")
        if isinstance(value, list):
            return "[" + ", ".join(repr_like(v) for v in value) + (", ]" if value else "]")
        if isinstance(value, str):
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return json.dumps(value)

    return repr_like(json.loads(text))


def _install_builtin_scripts() -> None:
    register_script("chat", chat_script)
    register_script("structured", structured_script)
    register_script("persona_turn", persona_turn)


_install_builtin_scripts()
