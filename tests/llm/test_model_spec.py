"""A model as a spec (base URL, key variable, params, structured-output mode), on the real HTTP
path: litellm's ``openai/<name>`` provider against the stand-in OpenAI-compatible server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from mapek.config import Settings
from mapek.errors import ConfigError, UnknownModelError, UserError
from mapek.llm import Gateway, LiteLLMModel, ModelSpec
from mapek.testing.openai_server import OpenAIStandIn

KEY = "sk-test-2f9c81d0a7b4e6c3d5f1a8b9"
"""A key-shaped value, set in the environment only: it must reach the server and nothing
else."""


class Verdict(BaseModel):
    decision: str
    confidence: float
    reasons: list[str]


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn() as running:
        yield running


@pytest.fixture
def stand_in(server: OpenAIStandIn) -> OpenAIStandIn:
    server.reset("ok")
    return server


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No base URL or key from the machine running the tests."""
    for var in ("OPENAI_API_BASE", "OPENAI_BASE_URL", "OPENAI_API_KEY", "MAPEK_API_BASE",
                "MAPEK_API_KEY_ENV", "MAPEK_STRUCTURED_OUTPUT", "MAPEK_MODEL"):
        monkeypatch.delenv(var, raising=False)


def _schema_sent(body: dict[str, Any]) -> Any:
    return body["response_format"]["json_schema"]["schema"]


# -- (a) an explicit base URL: the schema goes as response_format ----------------------------
def test_spec_with_api_base_sends_response_format(stand_in: OpenAIStandIn,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "unused")  # the openai client wants some key
    spec = ModelSpec(name="openai/anything", api_base=stand_in.url,
                     params={"temperature": 0.25, "seed": 7})
    gw = Gateway(spec, timeout=5, max_retries=0)
    verdict = gw.structured("Should we ship?", Verdict, actor="cto")
    assert isinstance(verdict, Verdict) and gw.spec == spec
    [body] = stand_in.requests
    assert body["model"] == "anything"
    assert body["response_format"]["type"] == "json_schema"
    assert _schema_sent(body) == Verdict.model_json_schema()
    assert (body["temperature"], body["seed"]) == (0.25, 7)  # params reach the server
    # a call's own temperature wins over the spec's default
    gw.complete("hi", temperature=0.9)
    assert stand_in.requests[-1]["temperature"] == 0.9 and "response_format" not in \
        stand_in.requests[-1]


# -- (b) the base URL from litellm's own environment variables -------------------------------
@pytest.mark.parametrize("var", ["OPENAI_API_BASE", "OPENAI_BASE_URL"])
def test_environment_base_url_sends_response_format(stand_in: OpenAIStandIn,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    var: str) -> None:
    monkeypatch.setenv(var, stand_in.url)
    monkeypatch.setenv("OPENAI_API_KEY", "unused")
    model = ModelSpec(name="openai/anything").build(timeout=5)
    assert model.api_base is None and model.sends_schema
    gw = Gateway(model, max_retries=0)
    assert isinstance(gw.structured("Should we ship?", Verdict), Verdict)
    [body] = stand_in.requests
    assert _schema_sent(body) == Verdict.model_json_schema()


def test_without_any_base_url_an_unknown_openai_model_gets_the_prompt_only() -> None:
    # the official endpoint with a name litellm does not know: no response_format is assumed
    assert not LiteLLMModel("openai/anything").sends_schema
    assert LiteLLMModel("openai/gpt-4o-mini").sends_schema  # litellm reports support
    assert LiteLLMModel("openai/anything", structured_output="json_schema").sends_schema


# -- (c) structured_output="prompt": the schema only in the prompt, still validated ----------
def test_prompt_mode_sends_no_response_format(stand_in: OpenAIStandIn,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "unused")
    spec = ModelSpec(name="openai/anything", api_base=stand_in.url, structured_output="prompt")
    verdict = Gateway(spec, timeout=5, max_retries=0).structured("Should we ship?", Verdict)
    assert isinstance(verdict, Verdict)
    [body] = stand_in.requests
    assert "response_format" not in body
    system = body["messages"][0]
    assert system["role"] == "system" and "JSON schema" in system["content"]
    assert json.dumps(Verdict.model_json_schema(), separators=(",", ":")) in system["content"]


def test_prompt_mode_keeps_the_bounded_repair(stand_in: OpenAIStandIn,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from mapek.errors import ModelOutputError

    monkeypatch.setenv("OPENAI_API_KEY", "unused")
    stand_in.mode = "invalid"
    spec = ModelSpec(name="openai/anything", api_base=stand_in.url, structured_output="prompt")
    with pytest.raises(ModelOutputError) as info:
        Gateway(spec, timeout=5, max_retries=0, repair_attempts=1).structured("ship?", Verdict)
    assert info.value.attempts == 2 and stand_in.request_count == 2
    assert all("response_format" not in body for body in stand_in.requests)
    assert "Your previous reply could not be used" in stand_in.requests[-1]["messages"][-1][
        "content"]


# -- (d) the key comes from the environment variable the spec names --------------------------
def test_api_key_env_reaches_the_server_and_nothing_else(stand_in: OpenAIStandIn,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAND_IN_KEY", KEY)
    spec = ModelSpec(name="openai/anything", api_base=stand_in.url, api_key_env="STAND_IN_KEY")
    events: list[tuple[Any, ...]] = []
    gw = Gateway(spec, timeout=5, max_retries=0, recorder=lambda *e: events.append(e))
    gw.structured("Should we ship?", Verdict)
    assert stand_in.headers[0]["authorization"] == f"Bearer {KEY}"
    dumped = spec.model_dump_json()
    assert KEY not in dumped and KEY not in repr(spec) and KEY not in str(spec)
    assert json.loads(dumped)["api_key_env"] == "STAND_IN_KEY"
    assert KEY not in json.dumps(events, default=str) and events  # the recorded call
    assert ModelSpec.model_validate_json(dumped) == spec  # rebuilt in another process
    # the key is read at build time, so a new value is used by the next build
    monkeypatch.setenv("STAND_IN_KEY", "sk-rotated-0000")
    Gateway(ModelSpec.model_validate_json(dumped), timeout=5, max_retries=0).complete("hi")
    assert stand_in.headers[-1]["authorization"] == "Bearer sk-rotated-0000"


def test_the_spec_round_trips_as_json() -> None:
    spec = ModelSpec(name="ollama/llama3", api_base="http://127.0.0.1:11434",
                     api_key_env="OLLAMA_KEY", structured_output="json_schema",
                     params={"temperature": 0, "extra_headers": {"X-Team": "risk"}})
    data = json.loads(json.dumps(spec.model_dump(mode="json")))
    assert ModelSpec.model_validate(data) == spec
    assert ModelSpec() == ModelSpec(name="mapek/offline") and ModelSpec().offline
    assert len({spec, ModelSpec.model_validate(data), ModelSpec()}) == 2  # hashable
    with pytest.raises(Exception):  # noqa: B017 - frozen: pydantic's own error
        spec.name = "other"  # type: ignore[misc]


# -- (e) refusals: one clear line each, never echoing a key -----------------------------------
@pytest.mark.parametrize("value", [
    KEY,                                             # an OpenAI-style key
    "sk_live_51HxQ2eKj9LmN0pQ7rS8tU",                # a Stripe-style key, a valid name shape
    "AKIAIOSFODNN7EXAMPLE",                          # an AWS access key id
    "hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345",           # a Hugging Face token
    "Zx81kQ0pLm2Nb7Vc4Rt9Ws3Ye6Ua5Io1Pd",           # long and random
])
def test_a_key_where_its_variables_name_belongs_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="NAME of an environment variable") as info:
        ModelSpec(name="openai/x", api_key_env=value)
    assert value not in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "my_key", "_K", "VLLM_KEY_2", "hf_token"])
def test_variable_names_are_accepted(name: str) -> None:
    assert ModelSpec(api_key_env=name).api_key_env == name


def test_a_name_that_is_no_variable_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="environment variable name"):
        ModelSpec(api_key_env="2FAST")


@pytest.mark.parametrize(("params", "where"), [
    ({"api_key": KEY}, "params.api_key"),
    ({"extra_headers": {"Authorization": f"Bearer {KEY}"}}, "params.extra_headers.Authorization"),
    ({"extra_headers": {"X-Api-Key": KEY}}, "params.extra_headers.X-Api-Key"),
    ({"aws_secret_access_key": "x"}, "params.aws_secret_access_key"),
])
def test_credentials_in_params_are_refused(params: dict[str, Any], where: str) -> None:
    with pytest.raises(ConfigError, match="api_key_env") as info:
        ModelSpec(name="openai/x", params=params)
    assert where in str(info.value) and KEY not in str(info.value)


def test_params_the_adapter_owns_or_that_are_not_json_are_refused() -> None:
    with pytest.raises(ConfigError, match="'response_format'.*structured_output"):
        ModelSpec(params={"response_format": {"type": "json_object"}})
    with pytest.raises(ConfigError, match="'api_base'.*api_base"):
        ModelSpec(params={"api_base": "http://x"})
    with pytest.raises(ConfigError, match="JSON values"):
        ModelSpec(params={"seed": object()})
    assert ModelSpec(params={"max_tokens": 10, "top_p": 0.5}).params["max_tokens"] == 10


def test_other_bad_fields_are_one_config_error() -> None:
    with pytest.raises(ConfigError, match="api_key: not a field.*api_key_env") as info:
        ModelSpec(name="openai/x", api_key=KEY)  # type: ignore[call-arg]
    assert KEY not in str(info.value)
    with pytest.raises(ConfigError, match="structured_output"):
        ModelSpec(structured_output="xml")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="http:// or https://"):
        ModelSpec(api_base="127.0.0.1:8000/v1")
    with pytest.raises(ConfigError, match="credentials") as info:
        ModelSpec(api_base="http://me:hunter2@127.0.0.1:8000/v1")
    assert "hunter2" not in str(info.value)
    with pytest.raises(UnknownModelError, match="empty"):
        ModelSpec(name="  ")
    assert ModelSpec(api_base="  ").api_base is None  # blank: unset


def test_an_unset_key_variable_fails_at_build_not_before(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    spec = ModelSpec(name="openai/x", api_base="http://127.0.0.1:9/v1",
                     api_key_env="NOT_SET_ANYWHERE")
    recorded = spec.model_dump_json()  # recording needs no key
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE is not set") as info:
        spec.build(timeout=1)
    assert isinstance(info.value, UserError) and info.value.exit_code == 2
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE"):
        Gateway(ModelSpec.model_validate_json(recorded))
    monkeypatch.setenv("NOT_SET_ANYWHERE", "  ")  # blank counts as unset
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE"):
        spec.build()
    # the offline model needs no key: its variable is not read
    assert ModelSpec(api_key_env="NOT_SET_ANYWHERE").build().offline


# -- (f) Settings: MAPEK_API_BASE, MAPEK_API_KEY_ENV, MAPEK_STRUCTURED_OUTPUT ------------------
def test_settings_make_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPEK_MODEL", "openai/local")
    monkeypatch.setenv("MAPEK_API_BASE", "http://127.0.0.1:8000/v1")
    monkeypatch.setenv("MAPEK_API_KEY_ENV", "LOCAL_KEY")
    monkeypatch.setenv("MAPEK_STRUCTURED_OUTPUT", "prompt")
    settings = Settings()
    assert settings.api_base == "http://127.0.0.1:8000/v1"
    assert ModelSpec.from_settings(settings) == ModelSpec(name="openai/local",
                                              api_base="http://127.0.0.1:8000/v1",
                                              api_key_env="LOCAL_KEY",
                                              structured_output="prompt")
    assert ModelSpec.from_settings(settings, "ollama/llama3").name == "ollama/llama3"
    monkeypatch.setenv("MAPEK_API_KEY_ENV", KEY)
    with pytest.raises(ConfigError, match="NAME of an environment variable") as info:
        ModelSpec.from_settings(Settings())
    assert KEY not in str(info.value) and "MAPEK_API_KEY_ENV" in str(info.value)
    monkeypatch.delenv("MAPEK_API_KEY_ENV")
    assert ModelSpec.from_settings(Settings(), "mapek/offline").api_base  # carried for any name
    monkeypatch.delenv("MAPEK_API_BASE")
    monkeypatch.delenv("MAPEK_STRUCTURED_OUTPUT")
    assert ModelSpec.from_settings(Settings()) == ModelSpec(name="openai/local")


def test_a_model_string_takes_the_settings_server(stand_in: OpenAIStandIn,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPEK_API_BASE", stand_in.url)
    monkeypatch.setenv("MAPEK_API_KEY_ENV", "STAND_IN_KEY")
    monkeypatch.setenv("STAND_IN_KEY", KEY)
    gw = Gateway("openai/anything", timeout=5, max_retries=0)
    assert gw.spec == ModelSpec(name="openai/anything", api_base=stand_in.url,
                                api_key_env="STAND_IN_KEY")
    assert isinstance(gw.structured("Should we ship?", Verdict), Verdict)
    assert _schema_sent(stand_in.requests[0]) == Verdict.model_json_schema()
    assert stand_in.headers[0]["authorization"] == f"Bearer {KEY}"
    # a persona's own model string goes to the same server; a spec is used as it is
    other = gw.using("openai/other")
    other.complete("hi")
    assert stand_in.requests[-1]["model"] == "other" and other.spec is not None
    prompt_only = gw.using(ModelSpec(name="openai/third", api_base=stand_in.url,
                                     api_key_env="STAND_IN_KEY", structured_output="prompt"))
    assert isinstance(prompt_only.structured("Should we ship?", Verdict), Verdict)
    assert stand_in.requests[-1]["model"] == "third"
    assert "response_format" not in stand_in.requests[-1]
    # the gateway's own api_base/api_key win over the spec's and the settings'
    with OpenAIStandIn() as second:
        direct = Gateway("openai/anything", api_base=second.url, api_key="direct-key",
                         timeout=5, max_retries=0)
        direct.complete("hi")
        assert second.headers[0]["authorization"] == "Bearer direct-key"
        assert direct.spec is not None and direct.spec.api_base == second.url
