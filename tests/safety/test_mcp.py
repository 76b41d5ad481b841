"""MCP servers' tools as mapek tools, against a real MCP server (``_mcp_server.py``) over stdio
and over streamable HTTP, and through the real tool gateway on a real SQLite log."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mapek.errors import ConfigError
from mapek.knowledge import KnowledgeBase
from mapek.safety.gateway import ApprovalRequest, ToolGateway
from mapek.safety.mcp import (
    MCPConnectionError,
    MCPServer,
    MCPToolError,
    close,
    mcp_tools,
    name_tool,
)
from mapek.safety.tools import Tool, ToolRegistry

pytestmark = pytest.mark.timeout(120)

SERVER = str(Path(__file__).with_name("_mcp_server.py"))
DELETED = "MAPEK_TEST_DELETED"

HINTED = {  # the test server's tools and what their hints map to
    "lookup_price": ("read", True),
    "delete_sku": ("destructive", False),
    "restock": ("destructive", False),  # no annotations at all
    "set_price": ("write", True),
    "notify": ("external", False),
    "confused": ("destructive", False),  # read-only and destructive: the worse
    "broken": ("read", True),
    "stats": ("read", True),
    "server_pid": ("read", True),
    "slow": ("read", True),
}


@pytest.fixture(scope="module")
def deleted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The file the server's ``delete_sku`` appends to: it ran iff the file has lines."""
    path = tmp_path_factory.mktemp("mcp") / "deleted.txt"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(DELETED, str(path))
        yield path


@pytest.fixture(scope="module")
def stdio(deleted: Path) -> Iterator[MCPServer]:
    server = MCPServer(command=[sys.executable, SERVER], name="prices", env=[DELETED])
    yield server
    close(server)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def http(deleted: Path) -> Iterator[MCPServer]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, SERVER, "http", str(port)],
                            env={**os.environ, DELETED: str(deleted)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("the MCP server did not start listening")
                time.sleep(0.1)
        server = MCPServer(url=f"http://127.0.0.1:{port}/mcp", name="prices_http")
        yield server
        close(server)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[Any]:
    with KnowledgeBase.open(tmp_path / "ws", index_on_record=False) as k:
        yield k


def _by_tool(tools: list[Tool], prefix: str) -> dict[str, Tool]:
    out = {t.name.removeprefix(f"{prefix}__"): t for t in tools}
    assert all(t.name == f"{prefix}__{n}" for n, t in out.items())
    return out


def _registry(tools: list[Tool]) -> ToolRegistry:
    reg = ToolRegistry()
    for t in tools:
        reg.register(t)
    return reg


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


# -- the server's tools ------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_tools_are_named_described_and_their_hints_read_as_untrusted(
        transport: str, request: pytest.FixtureRequest) -> None:
    server: MCPServer = request.getfixturevalue(transport)
    tools = _by_tool(mcp_tools(server), server.prefix)
    assert {n: (t.effect, t.idempotent) for n, t in tools.items()} == HINTED
    lookup = tools["lookup_price"]
    assert lookup.description == "Look up the price of a SKU."
    assert lookup.parameters is not None
    assert lookup.parameters["properties"]["sku"]["type"] == "string"
    assert lookup.parameters["required"] == ["sku"]
    assert tools["restock"].parameters["properties"]["quantity"]["default"] == 1  # type: ignore
    assert lookup.timeout == server.timeout and lookup.target is None
    assert lookup.resource == f"MCP server {server.prefix}"


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_calls_return_the_servers_text_and_a_failure_raises(
        transport: str, request: pytest.FixtureRequest) -> None:
    server: MCPServer = request.getfixturevalue(transport)
    tools = _by_tool(mcp_tools(server), server.prefix)
    assert tools["lookup_price"].fn(sku="A1") == "A1: 12.50 EUR"
    assert tools["restock"].fn(sku="B2", quantity="4") == "restocked 4 x B2"  # coerced there
    assert json.loads(tools["stats"].fn()) == {"skus": 2, "currency": "EUR"}
    with pytest.raises(MCPToolError, match="no warehouse holds Z9") as err:
        tools["broken"].fn(sku="Z9")
    assert str(err.value).startswith(f"{server.prefix}__broken: ")
    with pytest.raises(MCPToolError, match="sku"):  # the server's own argument check
        tools["lookup_price"].fn()


def test_one_connection_per_server_per_process_opened_again_after_close(
        stdio: MCPServer) -> None:
    first = _by_tool(mcp_tools(stdio), "prices")["server_pid"]
    pid = first.fn()
    again = _by_tool(mcp_tools(stdio.model_copy(update={"name": "other"})), "other")
    assert again["server_pid"].fn() == pid  # the same command and env: the same connection
    close(stdio)
    new_pid = first.fn()  # a tool made before close opens the connection again
    assert new_pid != pid and new_pid.isdigit()
    with pytest.raises(ProcessLookupError):  # the old server's process has ended
        os.kill(int(pid), 0)


def test_a_lost_stdio_server_is_started_again_on_the_next_call(stdio: MCPServer) -> None:
    pid_tool = _by_tool(mcp_tools(stdio), "prices")["server_pid"]
    pid = int(pid_tool.fn())
    os.kill(pid, 9)
    deadline = time.monotonic() + 20
    answers = []
    while time.monotonic() < deadline:
        try:
            answers.append(pid_tool.fn())
            break
        except MCPToolError as exc:  # a call that finds the connection lost fails ...
            assert "the server closed the connection" in str(exc) or "is closed" in str(exc)
            time.sleep(0.1)
    assert answers and int(answers[0]) != pid  # ... and the next one starts it again


def test_the_signature_names_the_schemas_arguments(stdio: MCPServer) -> None:
    import inspect

    tools = _by_tool(mcp_tools(stdio), "prices")
    sig = inspect.signature(tools["restock"].fn)
    assert list(sig.parameters) == ["sku", "quantity"]
    assert sig.parameters["sku"].default is inspect.Parameter.empty
    assert sig.parameters["quantity"].default == 1


# -- operator overrides ------------------------------------------------------------------------


def test_the_operators_effects_and_effects_file_win_over_hints(
        stdio: MCPServer, tmp_path: Path) -> None:
    effects = tmp_path / "effects.yaml"
    effects.write_text("# the operator's word\ndelete_sku: write\nprices__notify: read\n"
                       "lookup_price: external\n", encoding="utf-8")
    server = stdio.model_copy(update={"effects": {"restock": "write", "lookup_price": "write"}})
    server = MCPServer(**{**server.model_dump(), "effects_file": str(effects)})
    tools = _by_tool(mcp_tools(server), "prices")
    assert tools["restock"].effect == "write"  # effects
    assert tools["delete_sku"].effect == "write"  # the file
    assert tools["notify"].effect == "read" and tools["notify"].idempotent  # registered name
    assert tools["lookup_price"].effect == "external"  # the file over effects
    assert tools["set_price"].effect == "write"  # not overridden: its hints


def test_an_override_for_a_tool_the_server_lacks_is_refused_with_its_line(
        stdio: MCPServer, tmp_path: Path) -> None:
    effects = tmp_path / "effects.yaml"
    effects.write_text("lookup_price: read\ndelete_skus: read\n", encoding="utf-8")
    server = MCPServer(**{**stdio.model_dump(), "effects_file": str(effects)})
    with pytest.raises(ConfigError, match=r"effects\.yaml line 2: .*no tool 'delete_skus'"):
        mcp_tools(server)
    with pytest.raises(ConfigError, match=r"^effects: .*no tool 'nope'"):
        mcp_tools(stdio.model_copy(update={"effects": {"nope": "read"}}))


@pytest.mark.parametrize("text, expected", [
    ("lookup_price: read\n\ndelete_sku: readonly\n", r"line 3: delete_sku: the effect must be "
     r"one of read, write, destructive, external; got 'readonly'"),
    ("- lookup_price\n", r"line 1: an MCP effects file is a mapping"),
    ("lookup_price: read\nlookup_price: write\n", r"line 2: lookup_price is given twice"),
    ("lookup_price: [read]\n", r"line 1: lookup_price: the effect must be one of .* got 'a "
     r"sequence'"),
    ("a: read\nb: : :\n", r"line 2: not valid YAML"),
])
def test_a_bad_effects_file_names_the_file_and_the_line(
        tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "fx.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected) as err:
        MCPServer(url="http://127.0.0.1:1/mcp", effects_file=str(path))
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_an_effects_file_is_stored_as_an_absolute_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fx.yaml").write_text("", encoding="utf-8")  # empty: no overrides
    monkeypatch.chdir(tmp_path)
    server = MCPServer(url="http://127.0.0.1:1/mcp", effects_file="fx.yaml")
    assert server.effects_file == str(tmp_path / "fx.yaml") and server.overrides() == {}
    with pytest.raises(ConfigError, match="cannot read the MCP effects file .*missing.yaml"):
        MCPServer(url="http://127.0.0.1:1/mcp", effects_file="missing.yaml")


# -- the configuration ------------------------------------------------------------------------


def test_parse_a_url_or_a_command() -> None:
    s = MCPServer.parse("https://mcp.example.com:8443/mcp")
    assert (s.url, s.command, s.name) == ("https://mcp.example.com:8443/mcp", None,
                                          "mcp_example_com_8443")
    s = MCPServer.parse("npx -y @modelcontextprotocol/server-filesystem '/srv/my docs'")
    assert s.command == ["npx", "-y", "@modelcontextprotocol/server-filesystem", "/srv/my docs"]
    assert s.name == "server-filesystem"
    assert MCPServer.parse("uvx mcp-server-fetch@1.2").name == "mcp-server-fetch"
    assert MCPServer.parse(f"{sys.executable} {SERVER}").name == "mcp_server"
    assert MCPServer.parse("docker run -i --rm mcp/github").name == "github"


@pytest.mark.parametrize("bad, expected", [
    ("", "got nothing"),
    ("ftp://example.com/mcp", "http:// or https://"),
    ("python 'server.py", "No closing quotation"),
    ("http:///mcp", "http(s)://host"),
])
def test_parse_refuses_bad_input_in_one_line(bad: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(")", r"\)")) \
            as err:
        MCPServer.parse(bad)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("fields, expected", [
    ({"command": ["x"], "url": "http://a/mcp"}, "exactly one"),
    ({}, "exactly one"),
    ({"command": []}, "command is empty"),
    ({"url": "http://a/mcp", "name": "my server"}, "name is letters"),
    ({"url": "http://a/mcp", "name": "a__b"}, "no '__'"),
    ({"url": "http://a/mcp", "effects": {"x": "readonly"}}, "effects.x: Input should be"),
    ({"url": "http://a/mcp", "timeout": 0}, "above 0"),
    ({"url": "http://a/mcp", "env": ["TOKEN"]}, "stdio server"),
    ({"command": ["x"], "env": {"TOKEN": "secret value"}}, "variable names"),
    ({"command": ["x"], "port": 1}, "port: Extra inputs are not permitted"),
])
def test_a_bad_server_is_one_clear_config_error(fields: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as err:
        MCPServer(**fields)
    assert "\n" not in str(err.value)


def test_a_server_is_json_and_keeps_no_environment_values(
        stdio: MCPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPEK_TEST_TOKEN", "s3cret-value")
    server = MCPServer(command=["srv"], env={"TOKEN": "MAPEK_TEST_TOKEN"}, effects={"a": "read"})
    text = server.model_dump_json()
    assert "s3cret" not in text
    assert MCPServer.model_validate_json(text) == server
    assert MCPServer.model_validate(json.loads(stdio.model_dump_json())) == stdio
    assert stdio.env == {DELETED: DELETED}  # a list of names: each under its own name


def test_the_registered_names_suit_model_providers() -> None:
    assert name_tool("prices", "lookup") == "prices__lookup"
    assert name_tool("fs", "read.file v2") == "fs__read_file_v2"
    long = name_tool("server", "x" * 100)
    assert len(long) == 64 and long != name_tool("server", "x" * 99)


# -- servers that do not start ----------------------------------------------------------------


def test_a_server_that_cannot_start_is_one_line_naming_it(tmp_path: Path) -> None:
    with pytest.raises(MCPConnectionError, match=r"MCP server `/nonexistent/mcp-server --x` "
                       r"could not be started: command not found") as err:
        mcp_tools(MCPServer(command=["/nonexistent/mcp-server", "--x"]))
    assert "\n" not in str(err.value)
    crash = tmp_path / "crash.py"
    crash.write_text("import sys\nprint('Traceback: lots\\nKeyError: PRICES_DB is not set', "
                     "file=sys.stderr)\nsys.exit(3)\n", encoding="utf-8")
    with pytest.raises(MCPConnectionError, match=r"crash.py` could not be started: the server "
                       r"closed the connection \(its stderr: KeyError: PRICES_DB is not set\)"
                       ) as err:
        mcp_tools(MCPServer(command=[sys.executable, str(crash)]))
    assert "\n" not in str(err.value)
    url = f"http://127.0.0.1:{_free_port()}/mcp"  # nothing listens there
    with pytest.raises(MCPConnectionError, match=f"MCP server `{url}` could not be reached"):
        mcp_tools(MCPServer(url=url, timeout=10))


def test_a_server_that_does_not_answer_is_given_up_on(tmp_path: Path) -> None:
    mute = tmp_path / "mute.py"
    mute.write_text("import time\ntime.sleep(60)\n", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(MCPConnectionError, match=r"mute.py` did not answer within 1 s"):
        mcp_tools(MCPServer(command=[sys.executable, str(mute)], timeout=1))
    assert time.monotonic() - started < 15


def test_a_missing_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAPEK_TEST_NO_SUCH_VAR", raising=False)
    server = MCPServer(command=[sys.executable, SERVER], env={"TOKEN": "MAPEK_TEST_NO_SUCH_VAR"})
    with pytest.raises(MCPConnectionError, match="MAPEK_TEST_NO_SUCH_VAR .passed as TOKEN. is "
                       "not set"):
        mcp_tools(server)


# -- through the tool gateway -----------------------------------------------------------------


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_through_the_gateway_read_runs_and_destructive_waits_for_a_person(
        transport: str, request: pytest.FixtureRequest, kb: Any, deleted: Path) -> None:
    server: MCPServer = request.getfixturevalue(transport)
    p = server.prefix
    before = _lines(deleted)
    gw = ToolGateway(_registry(mcp_tools(server)), kb, "r1")

    res = gw.call(f"{p}__lookup_price", {"sku": "B2"}, actor="analyst")
    assert (res.outcome, res.output) == ("ok", "B2: 3.10 EUR")

    held = gw.call(f"{p}__delete_sku", {"sku": "A1"}, actor="analyst")
    assert held.outcome == "needs_approval" and "destructive" in held.reason
    assert held.approval is not None and held.approval.args == {"sku": "A1"}
    bare = gw.call(f"{p}__restock", {"sku": "A1"}, actor="analyst")  # no annotations
    assert bare.outcome == "needs_approval"

    asked: list[ApprovalRequest] = []

    def no(req: ApprovalRequest) -> bool:
        asked.append(req)
        return False

    gw.approver = no
    refused = gw.call(f"{p}__delete_sku", {"sku": "A1"}, actor="analyst")
    assert refused.outcome == "refused" and [a.tool for a in asked] == [f"{p}__delete_sku"]
    assert _lines(deleted) == before  # the destructive tool did not run

    failed = gw.call(f"{p}__broken", {"sku": "Z9"}, actor="analyst")
    assert failed.outcome == "error" and "no warehouse holds Z9" in failed.output

    calls = kb.events("r1", kinds=["tool.call"])
    assert [(e.payload["tool"], e.payload["effect"], e.payload["outcome"]) for e in calls] == [
        (f"{p}__lookup_price", "read", "ok"),
        (f"{p}__delete_sku", "destructive", "needs_approval"),
        (f"{p}__restock", "destructive", "needs_approval"),
        (f"{p}__delete_sku", "destructive", "refused"),
        (f"{p}__broken", "read", "error"),
    ]

    gw.approver = lambda req: True  # a person says yes: now, and only now, it runs
    done = gw.call(f"{p}__delete_sku", {"sku": f"{transport}-A1"}, actor="analyst")
    assert (done.outcome, done.output) == ("ok", f"deleted {transport}-A1")
    assert _lines(deleted) == [*before, f"{transport}-A1"]


def test_through_the_gateway_a_write_hint_needs_a_grant(stdio: MCPServer, kb: Any) -> None:
    gw = ToolGateway(_registry(mcp_tools(stdio)), kb, "r2")
    assert gw.call("prices__set_price", {"sku": "A1", "price": "9"}, actor="a").outcome == \
        "refused"
    gw.grant("prices__set_price", justification="price update approved", ttl=60)
    res = gw.call("prices__set_price", {"sku": "A1", "price": "9"}, actor="a")
    assert (res.outcome, res.output) == ("ok", "A1 now costs 9")
    assert gw.call("prices__notify", {"to": "acme"}, actor="a").outcome == "needs_approval"


def test_through_the_gateway_a_slow_call_is_given_up_on_at_the_servers_timeout(
        stdio: MCPServer, kb: Any) -> None:
    quick = stdio.model_copy(update={"timeout": 2.0})  # shares the module's connection
    gw = ToolGateway(_registry(mcp_tools(quick)), kb, "r3")
    started = time.monotonic()
    res = gw.call("prices__slow", {"seconds": 30}, actor="a")
    assert res.outcome == "error" and "did not answer within 2 s" in res.output
    assert time.monotonic() - started < 10
    assert gw.call("prices__lookup_price", {"sku": "A1"}, actor="a").output == "A1: 12.50 EUR"


def test_importing_the_safety_package_does_not_import_the_sdk() -> None:
    code = ("import sys, mapek.safety, mapek.safety.mcp\n"
            "assert mapek.safety.MCPServer is mapek.safety.mcp.MCPServer\n"
            "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "[]"
