"""A model as data: :class:`ModelSpec`, what to call and how, without any secret.

::

    spec = ModelSpec(name="openai/qwen2.5-7b", api_base="http://127.0.0.1:8000/v1",
                     api_key_env="VLLM_KEY", params={"temperature": 0.2, "seed": 7})
    model = spec.build(timeout=30)          # reads $VLLM_KEY now, not before

A spec is frozen and JSON-serialisable: a run records it in its log and a worker in another
process rebuilds it (``ModelSpec.model_validate(recorded)``). So it never holds a key: only the
*name* of the environment variable that does (``api_key_env``), read by :meth:`ModelSpec.build`.
Anything that looks like a key where a name belongs, or a secret-bearing entry in ``params``,
is refused with a :class:`~mapek.errors.ConfigError` that does not repeat the value.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mapek.config import OFFLINE_MODEL, Settings
from mapek.errors import ConfigError, UnknownModelError
from mapek.llm.litellm_model import LiteLLMModel
from mapek.llm.offline import PROVIDER

__all__ = ["ModelSpec", "Model", "StructuredOutput", "STRUCTURED_OUTPUT_MODES"]

StructuredOutput = Literal["auto", "json_schema", "prompt"]
"""How a structured call asks for its JSON schema (see :attr:`ModelSpec.structured_output`)."""

STRUCTURED_OUTPUT_MODES: tuple[str, ...] = ("auto", "json_schema", "prompt")
"""The values of :data:`StructuredOutput`."""

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Prefixes of API keys and tokens as providers issue them (OpenAI, Anthropic, Stripe-style,
# GitHub, Slack, AWS, Google, Hugging Face, Groq, xAI, Replicate, OpenRouter, ...).
_KEY_PREFIXES = ("sk-", "sk_", "pk_", "rk_", "ghp_", "gho_", "ghu_", "ghs_", "github_pat_",
                 "xoxb-", "xoxp-", "aiza", "hf_", "gsk_", "xai-", "r8_",
                 "sk-or-", "glpat-", "bearer ")
# Entries of `params` that would carry a secret into the log (names lower-cased, '-' as '_').
_SECRET_NAME = re.compile(
    r"api_?key|secret|passw(or)?d|credential|private_key|access_key|(^|_)token($|_)"
    r"|^authorization$|^proxy_authorization$|^cookie$|^set_cookie$"
)
# Entries of `params` that the model adapter sets itself, with where they belong instead.
_RESERVED = {
    "model": "the spec's name",
    "messages": "the call",
    "metadata": "the call (mapek passes its context there)",
    "stream": "nothing: mapek reads whole answers",
    "api_base": "the spec's api_base",
    "base_url": "the spec's api_base",
    "response_format": "the spec's structured_output",
    "timeout": "the gateway's timeout (MAPEK_REQUEST_TIMEOUT)",
    "max_retries": "the gateway's max_retries (MAPEK_MAX_RETRIES)",
    "num_retries": "the gateway's max_retries (MAPEK_MAX_RETRIES)",
}


class ModelSpec(BaseModel):
    """One model: its litellm string, its server, where its key is, and extra call options.

    Frozen, ``extra="forbid"``, JSON-serialisable (``model_dump(mode="json")`` and back).
    Invalid values raise :class:`~mapek.errors.ConfigError` (one line, value not echoed).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = OFFLINE_MODEL
    """The litellm model string: ``openai/<name>`` (an OpenAI-compatible server with
    ``api_base``), ``ollama/llama3``, ``hosted_vllm/<name>``, ``anthropic/...``,
    ``mapek/offline``."""
    api_base: str | None = None
    """The server's base URL (``http://127.0.0.1:8000/v1``); None: litellm's default for the
    provider, which may itself come from the environment (``OPENAI_API_BASE``, ...)."""
    api_key_env: str | None = None
    """The NAME of the environment variable holding the API key (``OPENAI_API_KEY``), never the
    key. Read at :meth:`build`; None: litellm's own look-up for the provider."""
    params: dict[str, Any] = Field(default_factory=dict)
    """More keyword arguments for ``litellm.completion``: ``temperature``, ``seed``, ``top_p``,
    ``extra_headers`` (no credentials), ... Defaults: a call's own ``temperature`` and
    ``max_tokens`` win over these."""
    structured_output: StructuredOutput = "auto"
    """How structured calls ask for their schema. The schema is always in the prompt too, and
    an answer is always repaired and validated (bounded re-asks):

    - ``auto``: also send ``response_format`` (JSON schema) where litellm reports support, or
      the provider is an OpenAI-compatible server (``openai/<name>`` with a base URL set here
      or in ``OPENAI_BASE_URL``/``OPENAI_API_BASE``, ``hosted_vllm``, ``ollama``, ...);
    - ``json_schema``: always send ``response_format``;
    - ``prompt``: never send it (servers that reject ``response_format``)."""

    def __init__(self, name: str | None = None, /, **data: Any) -> None:
        if name is not None:  # ModelSpec("openai/gpt-4o-mini", api_base=...)
            data["name"] = name
        try:
            super().__init__(**data)
        except ValidationError as exc:
            # one line, and without pydantic's echo of the input (a misplaced key, say)
            problems = "; ".join(_problem(err) for err in exc.errors())
            raise ConfigError(f"invalid model spec: {problems}") from None

    @classmethod
    def from_settings(cls, settings: Settings, name: str | None = None) -> ModelSpec:
        """The spec of ``name`` (default: the settings' ``model``) with the settings' base URL,
        key variable and structured-output mode (``MAPEK_API_BASE``, ``MAPEK_API_KEY_ENV``,
        ``MAPEK_STRUCTURED_OUTPUT``); ConfigError, naming the setting, when they are invalid."""
        try:
            return cls(name=settings.model if name is None else name,
                       api_base=settings.api_base, api_key_env=settings.api_key_env,
                       structured_output=settings.structured_output)
        except ConfigError as exc:
            text = str(exc)
            for field, env in (("api_key_env", "MAPEK_API_KEY_ENV"),
                               ("api_base", "MAPEK_API_BASE")):
                if text.startswith(f"model spec: {field} "):
                    raise ConfigError(f"{text} (the setting {env})") from None
            raise

    # -- validation --------------------------------------------------------------------------
    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise UnknownModelError(value, "the model string is empty (for example "
                                    "'openai/gpt-4o-mini', 'ollama/llama3', 'mapek/offline')")
        return value

    @field_validator("api_base")
    @classmethod
    def _check_api_base(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:  # blank: unset (MAPEK_API_BASE= in a shell)
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ConfigError(
                "model spec: api_base must be an http:// or https:// URL "
                "(for example http://127.0.0.1:8000/v1)"
            )
        authority = value.split("://", 1)[1].split("/", 1)[0]
        if "@" in authority:
            raise ConfigError(
                "model spec: api_base must not hold credentials (user:password@); it is "
                "recorded in the run's log. Put the key in an environment variable and name "
                "it in api_key_env"
            )
        return value

    @field_validator("api_key_env")
    @classmethod
    def _check_api_key_env(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        if _looks_like_key(value):
            raise ConfigError(
                "model spec: api_key_env takes the NAME of an environment variable holding "
                "the key (for example OPENAI_API_KEY), not the key itself; the value given "
                "looks like a key and was not recorded"
            )
        if not _ENV_NAME.match(value):
            raise ConfigError(
                "model spec: api_key_env must be an environment variable name (letters, "
                "digits and _, not starting with a digit), for example OPENAI_API_KEY"
            )
        return value

    @field_validator("params")
    @classmethod
    def _check_params(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not isinstance(key, str):
                raise ConfigError("model spec: params keys must be strings")
            where = _RESERVED.get(key)
            if where is not None:
                raise ConfigError(f"model spec: params may not set {key!r}; it comes from "
                                  f"{where}")
        secret = _secret_path(value)
        if secret is not None:
            raise ConfigError(
                f"model spec: params may not hold credentials ({secret}); they would be "
                "recorded in the run's log. Put the key in an environment variable and name "
                "it in api_key_env"
            )
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                "model spec: params must be JSON values (strings, numbers, booleans, null, "
                f"lists, objects), as they are recorded in the run's log: {exc}"
            ) from None
        return dict(value)

    # -- use ---------------------------------------------------------------------------------
    @property
    def offline(self) -> bool:
        """True for the built-in offline model (``mapek/offline[-<fault>]``)."""
        return self.name.startswith(PROVIDER + "/")

    def resolve_api_key(self) -> str | None:
        """The key, read now from ``api_key_env`` (None when no variable is named).

        :class:`~mapek.errors.ConfigError` when the variable is named but unset or empty.
        """
        if self.api_key_env is None:
            return None
        key = os.environ.get(self.api_key_env, "").strip()
        if not key:
            raise ConfigError(
                f"environment variable {self.api_key_env} is not set (the model spec of "
                f"{self.name!r} names it as the API key's variable, api_key_env)"
            )
        return key

    def build(self, *, timeout: float = 60.0, api_key: str | None = None) -> LiteLLMModel:
        """The model to call, reading the key from ``api_key_env`` now.

        ``timeout``: default seconds per attempt. ``api_key``: a key the caller holds (it wins
        over ``api_key_env``, and like it is never recorded). The offline model needs no key,
        so its ``api_key_env`` is not read. An unroutable name raises
        :class:`~mapek.errors.UnknownModelError` at the first call (offline variants at once).
        """
        if api_key is None and not self.offline:
            api_key = self.resolve_api_key()
        return LiteLLMModel(
            self.name, api_base=self.api_base, api_key=api_key, timeout=timeout,
            extra=self.params, structured_output=self.structured_output,
        )

    def __hash__(self) -> int:  # `params` is a dict: hash the JSON form, which equality follows
        return hash(self.model_dump_json())

    def __str__(self) -> str:
        return self.name if self.api_base is None else f"{self.name} at {self.api_base}"


def _problem(err: Any) -> str:
    """One validation problem as ``field: message``, pointing credentials to api_key_env."""
    where = ".".join(str(p) for p in err["loc"]) or "spec"
    if err["type"] == "extra_forbidden" and _SECRET_NAME.search(where.lower()):
        return (f"{where}: not a field; a spec never holds a key (it is recorded in the run's "
                "log): name the environment variable holding it in api_key_env")
    return f"{where}: {err['msg']}"


def _looks_like_key(value: str) -> bool:
    """A heuristic: a known key prefix, or long and random-looking (mixed case and digits, or
    very long), where an environment variable name (``OPENAI_API_KEY``) is expected."""
    lowered = value.lower()
    if re.match(r"^A[KS]IA[A-Z0-9]{16}$", value):  # an AWS access key id
        return True
    if (len(value) >= 16 and not value.isupper()
            and any(lowered.startswith(p) for p in _KEY_PREFIXES)):
        return True
    if not _ENV_NAME.match(value):
        return len(value) >= 20 and not any(ch.isspace() for ch in value)
    letters = value.replace("_", "")
    mixed = (any(c.islower() for c in letters) and any(c.isupper() for c in letters)
             and any(c.isdigit() for c in letters))
    return (len(value) >= 32 and mixed) or (len(value) >= 40 and "_" not in value)


def _secret_path(value: Any, path: str = "params") -> str | None:
    """The first entry of ``value`` (nested: ``extra_headers``, ...) named like a credential."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}"
            if isinstance(key, str) and _SECRET_NAME.search(key.lower().replace("-", "_")):
                return here
            found = _secret_path(item, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _secret_path(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


Model = ModelSpec
"""``mapek.Model``: the name users write (``Model("openai/gpt-4o-mini", api_base=...)``); the
abstract model interface stays :class:`mapek.llm.model.Model`."""
