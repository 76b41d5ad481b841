"""The runtime spec: objects become import strings, and a run's parts are rebuilt from it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from mapek.errors import ConfigError, PersonaError
from mapek.models import Persona
from mapek.runtime import (
    RuntimeSpec,
    StorageSpec,
    build_runtime,
    import_string,
    load_tools,
    spec_for,
    spec_of_run,
)
from mapek.safety.tools import tool

ANALYST = Persona(name="analyst", role="Pricing analyst", goal="Get the price right",
                  expertise=["pricing"], concerns=["the margin"], tools=["lookup_price"])


def test_objects_become_import_strings(user_module: str) -> None:
    mod = importlib.import_module(user_module)
    spec, tools = spec_for(personas=["cfo", ANALYST], tools=[mod.lookup_price, mod.registry])
    assert [r.ref for r in spec.tools] == ["shop_tools:lookup_price", "shop_tools:registry"]
    assert {t.name for t in tools} == {"lookup_price", "stock_level"}
    assert set(spec.tools[0].digests) == {"lookup_price"}
    # the spec is plain data: it survives the log (JSON) and rebuilds the same parts
    again = RuntimeSpec.model_validate_json(spec.model_dump_json())
    assert again == spec
    rt = build_runtime(again)
    assert list(rt.personas) == ["cfo", "analyst"]
    assert rt.personas["analyst"] == ANALYST
    assert {"lookup_price", "stock_level", "kb_search"} <= set(rt.tools.names())


def test_import_strings_are_accepted_as_given(user_module: str) -> None:
    spec, tools = spec_for(personas=["cfo", "skeptic"], tools=["shop_tools:lookup_price"])
    assert spec.tools[0].ref == "shop_tools:lookup_price"
    assert [t.name for t in tools] == ["lookup_price"]


def test_a_closure_is_refused_with_the_way_out() -> None:
    @tool(effect="read")
    def local_lookup(sku: str) -> str:
        return sku

    with pytest.raises(ConfigError, match="closure.*in_process=True"):
        spec_for(personas=["cfo", "skeptic"], tools=[local_lookup])
    with pytest.raises(ConfigError, match="lambda"):
        import_string(lambda: 1)  # noqa: E731 - what a user might hand over


def test_in_process_keeps_a_closure_by_digest() -> None:
    @tool(effect="read")
    def local_lookup(sku: str) -> str:
        return sku

    spec, tools = spec_for(personas=["cfo", "skeptic"], tools=[local_lookup], in_process=True)
    assert spec.tools[0].ref is None and set(spec.tools[0].digests) == {"local_lookup"}
    assert build_runtime(spec, extra_tools=tools).tools.get("local_lookup") is not None
    with pytest.raises(ConfigError, match="in its own process"):
        build_runtime(spec)  # another process cannot rebuild it


@pytest.mark.parametrize(("ref", "message"), [
    ("shop_tools:nope", "has no 'nope'"),
    ("no_such_module_xyz:f", "cannot be imported: ModuleNotFoundError"),
    ("shop_tools:not_a_tool", "is not a tool"),
    ("shop_tools:plain_function", "no declared effect"),
    ("not an import string", "package.module:name"),
])
def test_bad_tools_are_one_clear_error(user_module: str, ref: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        spec_for(personas=["cfo", "skeptic"], tools=[ref])


def test_a_persona_naming_an_unknown_tool_is_refused() -> None:
    odd = ANALYST.model_copy(update={"tools": ["query_prometheus"]})
    spec, _ = spec_for(personas=["cfo", odd])
    with pytest.raises(PersonaError, match="'query_prometheus'.*does not have"):
        build_runtime(spec)


def test_a_tool_that_changed_or_vanished_is_named(user_module: str, tmp_path: Path) -> None:
    spec, _ = spec_for(personas=["cfo", "skeptic"], tools=["shop_tools:lookup_price"])
    mod = importlib.import_module(user_module)
    src = Path(mod.__file__ or "")
    src.write_text(src.read_text().replace("def lookup_price(sku: str)",
                                           "def lookup_price(sku: str, currency: str)"))
    importlib.reload(mod)
    with pytest.raises(ConfigError, match="'lookup_price'.*changed its signature"):
        load_tools(spec.tools)
    src.write_text(src.read_text().replace("def lookup_price", "def renamed_price")
                   .replace("registry.register(stock_level)", "registry.register(stock_level)"
                            "\nlookup_price = renamed_price"))
    importlib.reload(mod)
    spec2 = spec.model_copy(update={"tools": [spec.tools[0].model_copy(
        update={"digests": {"gone_tool": "0"}})]})
    with pytest.raises(ConfigError, match="'gone_tool'.*vanished"):
        load_tools(spec2.tools)


def test_a_run_from_before_specs_gets_the_spec_its_config_implies() -> None:
    spec = spec_of_run({"config": {"personas": ["cfo", "skeptic"], "model": "mapek/offline",
                                   "personas_dir": None}, "breaker": {"policy": "strict"}})
    assert spec.personas == ["cfo", "skeptic"] and spec.policy == "strict"
    assert spec.model.name == "mapek/offline" and spec.builtin_tools


def test_api_keys_travel_by_name_only() -> None:
    spec, _ = spec_for(personas=["cfo", "skeptic"], model="openai/gpt-4o-mini")
    assert "api_key" not in spec.model_dump()["model"]
    with pytest.raises(ConfigError):
        spec_for(personas=["cfo", "skeptic"], model=object())


def test_resume_names_a_tool_that_changed_since(home: Path, user_module: str) -> None:
    import subprocess
    import sys

    from mapek import Session

    s = Session.create("Price check", personas=["cfo", "skeptic"],
                       tools=["shop_tools:lookup_price"], human="defer", max_turns=4)
    run = s.run_id
    s.close()
    mod = importlib.import_module(user_module)
    src = Path(mod.__file__ or "")
    src.write_text(src.read_text().replace("def lookup_price(sku: str)",
                                           "def lookup_price(sku: int)"))
    out = subprocess.run([sys.executable, "-m", "mapek.cli", "resume", run],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "'lookup_price'" in out.stderr and "changed its signature" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    with Session.attach(run) as again:
        assert not again.kb.events(run, kinds=["worker.started"])  # nothing started


def test_a_password_in_a_storage_url_is_not_recorded() -> None:
    spec, _ = spec_for(personas=["cfo", "skeptic"], storage=StorageSpec(
        log_url="postgresql://mapek:s3cret@127.0.0.1:5432/db"))
    assert "s3cret" not in spec.model_dump_json()
    assert spec.storage.log_url == "postgresql://mapek:***@127.0.0.1:5432/db"
