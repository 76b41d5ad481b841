"""MCP servers' tools as mapek tools: every call still goes through the tool gateway.

::

    server = MCPServer.parse("npx -y @modelcontextprotocol/server-filesystem /srv/docs")
    server = MCPServer(url="https://prices.example.com/mcp", name="prices",
                       effects={"lookup": "read"})
    for t in mcp_tools(server):      # connects, lists the server's tools
        registry.register(t)         # prices__lookup, prices__delete, ...

**Effects.** A server's tool annotations are *hints* from code mapek does not control, read as
untrusted: a missing hint is the worst case, contradictory hints give the worse effect. A
server can still claim ``readOnlyHint`` falsely: the operator's ``effects`` / ``effects_file``
overrides win over every hint (and the gateway still screens each call's arguments).

- no annotations, or neither ``readOnlyHint`` nor ``destructiveHint``: ``destructive`` (a
  person approves each call);
- ``readOnlyHint: true``: ``read``; with ``destructiveHint: true`` as well (contradictory):
  the worse, ``destructive``;
- not read-only and ``destructiveHint: false``: ``write`` (it needs a grant);
- not read-only and ``destructiveHint`` true or unset: ``destructive``;
- ``openWorldHint: true`` on a tool that is not ``read``: ``external`` (a read-only web
  search stays ``read``).

``idempotentHint: true`` (or ``read``) makes the tool ``idempotent``. An unset ``openWorldHint``
is not read as true (the spec's default): a ``write`` hint keeps needing a grant either way.

**Names.** A tool is registered as ``<server name>__<tool name>`` (``prices__lookup``): letters,
digits, ``_`` and ``-`` only, at most 64 characters, which is what model providers accept for a
function name (a dot is not). Other characters become ``_``; a longer name is cut and ends
with a hash of the full one. The server name defaults to the command's script or package
(``server-filesystem``) or the URL's host (``prices_example_com``).

**Connections.** One connection per server per process, owned by a background thread running
its own asyncio event loop (the MCP client is async; the gateway calls tools synchronously from
its worker threads). It starts with the first use, and ends at interpreter exit or with
:func:`close`. A lost connection is opened again on the next call. A tool's description is
screened like tool output: one that reads like injected instructions is withheld.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import hashlib
import inspect
import json
import keyword
import os
import re
import shlex
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mapek.errors import ConfigError
from mapek.safety.tools import EFFECTS, Effect, Tool

if TYPE_CHECKING:  # pragma: no cover
    from mcp import Client
    from mcp.types import CallToolResult, ToolAnnotations

__all__ = [
    "MCPServer",
    "MCPConnectionError",
    "MCPToolError",
    "mcp_tools",
    "name_tool",
    "hinted_effect",
    "close",
]

MAX_NAME = 64
"""The longest tool name mapek registers (model providers' limit for a function name)."""

SEPARATOR = "__"
"""Between a server's name and its tool's name: ``prices__lookup``."""

_GRACE = 5.0
"""Seconds a call may outlive its server's timeout before the client gives up on it: the
gateway's own timeout (the tool's ``timeout``) fires first, so the call is recorded as given up
on (in doubt when the ledger keeps it), not as a failure that did not happen."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LAUNCHERS = frozenset({
    "python", "python3", "py", "node", "npx", "uv", "uvx", "pipx", "deno", "bun", "bunx",
    "pnpm", "yarn", "npm", "sh", "bash", "env", "docker", "podman", "run", "exec", "x", "dlx",
    "java", "ruby", "go", "cargo", "dotnet", "-m",
})


class MCPConnectionError(ConfigError):
    """An MCP server that could not be started or reached (named, with the reason)."""


class MCPToolError(RuntimeError):
    """An MCP tool's call that failed: the server's own message (``isError``), or the protocol's.
    The gateway records it as the call's error."""


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


class MCPServer(BaseModel):
    """An MCP server whose tools become mapek tools: a command (stdio) or a URL (streamable
    HTTP). Plain JSON data: it is stored in a run's log and rebuilt in other processes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    command: list[str] | None = None
    """stdio: the server's argv (``["npx", "-y", "@modelcontextprotocol/server-memory"]``)."""
    url: str | None = None
    """streamable HTTP: the server's endpoint (``https://example.com/mcp``)."""
    name: str | None = None
    """Prefix of its tools' names (``prices`` -> ``prices__lookup``); derived from the command
    or the URL when not given. Letters, digits, ``_`` and ``-``; at most 32 characters."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables passed to a stdio server, by name only: ``{name the server sees:
    name in mapek's environment}`` (a list of names passes each under its own name). Values are
    read when the server starts and never stored. Without it a stdio server gets only the
    SDK's safe defaults (``HOME``, ``PATH``, ``USER``, ...)."""
    effects: dict[str, Effect] = Field(default_factory=dict)
    """The operator's effect per tool (the server's tool name, or the registered one): wins over
    the server's hints."""
    effects_file: str | None = None
    """A YAML mapping ``tool name: effect``, the operator's overrides (over ``effects`` too);
    stored as an absolute path, read when the tools are listed."""
    timeout: float = 30.0
    """Seconds to start, list, or answer one call (the registered tools' ``timeout``)."""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "MCP server"
            raise ConfigError(f"MCP server: {where}: {_one_line(err['msg'])}") from None

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        command, url = data.get("command"), data.get("url")
        if (command is None) == (url is None):
            raise ConfigError("an MCP server is either a command (stdio) or a URL (streamable "
                              "HTTP): give exactly one")
        if isinstance(data.get("env"), list | tuple):
            data["env"] = {n: n for n in data["env"]}
        if data.get("name") is None:
            if isinstance(command, list | tuple) and command and \
                    all(isinstance(a, str) for a in command):
                data["name"] = _name_from_command(list(command))
            elif isinstance(url, str):
                data["name"] = _name_from_url(url)
        return data

    @field_validator("command")
    @classmethod
    def _command(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and (not v or not v[0].strip()):
            raise ConfigError("an MCP server's command is empty")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None:
            parts = urlsplit(v)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(f"an MCP server's URL must be http(s)://host/...; got {v!r}")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        if v is not None and (not _NAME.match(v) or SEPARATOR in v):
            raise ConfigError(f"an MCP server's name is letters, digits, '_' and '-' (up to 32, "
                              f"no '{SEPARATOR}'); got {v!r}")
        return v

    @field_validator("env")
    @classmethod
    def _env(cls, v: dict[str, str]) -> dict[str, str]:
        for k, n in v.items():
            if not _ENV_NAME.match(k) or not _ENV_NAME.match(n):
                raise ConfigError(f"an MCP server's env maps variable names to variable names "
                                  f"(values are never stored); got {k!r}: {n!r}")
        return v

    @field_validator("effects_file")
    @classmethod
    def _effects_file(cls, v: str | None) -> str | None:
        if v is None:
            return None
        path = Path(v).expanduser().resolve()
        _read_effects_file(path)  # a bad file is refused now, with its line
        return str(path)

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, v: float) -> float:
        if not v > 0:
            raise ConfigError(f"an MCP server's timeout is a number of seconds above 0; got {v!r}")
        return v

    @model_validator(mode="after")
    def _stdio_only_env(self) -> MCPServer:
        if self.env and self.url is not None:
            raise ConfigError(f"env passes environment variables to a stdio server; {self.url} "
                              "is a URL")
        return self

    @classmethod
    def parse(cls, text: str) -> MCPServer:
        """The command-line form: an ``http(s)://`` URL, or a command with its arguments
        (split like a shell does: ``"python server.py --db 'my file.db'"``)."""
        text = text.strip()
        if not text:
            raise ConfigError("an MCP server is a command (stdio) or an http(s):// URL; got "
                              "nothing")
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
            if not text.lower().startswith(("http://", "https://")):
                raise ConfigError(f"an MCP server URL is http:// or https://; got {text!r}")
            return cls(url=text)
        try:
            argv = shlex.split(text)
        except ValueError as exc:
            raise ConfigError(f"cannot read the MCP server command {text!r}: {exc}") from None
        return cls(command=argv)

    @property
    def label(self) -> str:
        """The server as a person wrote it: its command line or its URL."""
        return shlex.join(self.command) if self.command is not None else str(self.url)

    @property
    def show(self) -> str:
        """The label as messages quote it."""
        return f"`{self.label}`"

    @property
    def prefix(self) -> str:
        """The name its tools are registered under (``prices`` in ``prices__lookup``)."""
        return self.name or "mcp"

    def overrides(self) -> dict[str, tuple[Effect, str]]:
        """The operator's effects by tool name, each with where it was said (for errors):
        ``effects``, then ``effects_file`` over it."""
        out: dict[str, tuple[Effect, str]] = {k: (v, "effects") for k, v in self.effects.items()}
        if self.effects_file is not None:
            path = Path(self.effects_file)
            for k, (v, line) in _read_effects_file(path).items():
                out[k] = (v, f"{path} line {line}")
        return out

    def _key(self) -> str:
        """What one connection is for: the same command or URL with the same env."""
        return json.dumps([self.command, self.url, sorted(self.env.items())])


def _read_effects_file(path: Path) -> dict[str, tuple[Effect, int]]:
    """``tool name: effect`` from a YAML file, each with its line; a bad file is a
    :class:`ConfigError` naming the file and the line."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the MCP effects file {path}: {exc.strerror or exc}") \
            from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else 1
        raise ConfigError(f"{path} line {line}: not valid YAML ({exc.problem})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({_one_line(str(exc))})") from None
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(f"{path} line {root.start_mark.line + 1}: an MCP effects file is a "
                          f"mapping of tool name to effect ({', '.join(EFFECTS)})")
    out: dict[str, tuple[Effect, int]] = {}
    for k, v in root.value:
        line = k.start_mark.line + 1
        if not isinstance(k, yaml.ScalarNode) or not k.value:
            raise ConfigError(f"{path} line {line}: a key must be a tool's name")
        if not isinstance(v, yaml.ScalarNode) or v.value not in EFFECTS:
            shown = v.value if isinstance(v, yaml.ScalarNode) else "a " + v.id
            raise ConfigError(f"{path} line {line}: {k.value}: the effect must be one of "
                              f"{', '.join(EFFECTS)}; got {shown!r}")
        if k.value in out:
            raise ConfigError(f"{path} line {line}: {k.value} is given twice (also line "
                              f"{out[k.value][1]})")
        out[k.value] = (cast(Effect, v.value), line)
    return out


def _clean(text: str) -> str:
    return re.sub(r"_{2,}", "_", re.sub(r"[^A-Za-z0-9_-]+", "_", text)).strip("_-")


def _name_from_command(argv: list[str]) -> str:
    """The script or package a command runs: ``server-filesystem`` for ``npx -y
    @modelcontextprotocol/server-filesystem /srv``, ``prices`` for ``python prices.py``."""
    pick = argv[0]
    for arg in argv:
        base = PurePosixPath(arg.replace("\\", "/")).name.lower()
        stem = re.sub(r"(\.exe|\d+(\.\d+)*)$", "", base)
        if arg.startswith("-") or stem in _LAUNCHERS or base in _LAUNCHERS:
            continue
        pick = arg
        break
    pick = re.sub(r"@[^/@]*$", "", pick) if not pick.startswith("@") or pick.count("@") > 1 \
        else pick  # a version (pkg@1.2)
    stem = PurePosixPath(pick.replace("\\", "/")).name
    stem = re.sub(r"\.(py|js|mjs|cjs|ts|exe|sh)$", "", stem)
    return (_clean(stem) or "mcp")[:32].rstrip("_-") or "mcp"


def _name_from_url(url: str) -> str:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = (parts.hostname or "mcp") + (f"_{port}" if port else "")
    return (_clean(host) or "mcp")[:32].rstrip("_-") or "mcp"


def name_tool(server: str, tool: str) -> str:
    """The registered name of a server's tool: ``<server>__<tool>``, letters, digits, ``_``
    and ``-``, at most 64 characters (cut, with a hash of the full name, when longer)."""
    full = f"{server}{SEPARATOR}{re.sub(r'[^A-Za-z0-9_-]', '_', tool)}"
    if len(full) <= MAX_NAME:
        return full
    digest = hashlib.sha256(f"{server}/{tool}".encode()).hexdigest()[:8]
    return f"{full[:MAX_NAME - 9]}_{digest}"


def hinted_effect(annotations: ToolAnnotations | None) -> tuple[Effect, bool]:
    """The effect and idempotence an MCP tool's annotations hint at, read as untrusted: no
    hint is the worst case; contradictory hints give the worse effect."""
    a = annotations
    if a is None:
        return "destructive", False
    effect: Effect
    if a.read_only_hint is True and a.destructive_hint is not True:
        effect = "read"
    elif a.open_world_hint is True:
        effect = "external"
    elif a.destructive_hint is False:
        effect = "write"
    else:  # said destructive, or not said (the spec's default, and the worst case)
        effect = "destructive"
    return effect, effect == "read" or a.idempotent_hint is True


# -- connections ---------------------------------------------------------------------------


class _Connection:
    """One server's MCP session, owned by a task of a background thread's event loop; other
    threads submit coroutines to it."""

    def __init__(self, server: MCPServer) -> None:
        self.server = server
        self.pid = os.getpid()
        self.broken = False
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, name=f"mcp:{server.prefix}",
                                       daemon=True)
        self.client: Client | None = None
        self._stop = asyncio.Event()
        self._owner: concurrent.futures.Future[None] | None = None
        self._errlog: IO[str] | None = None
        self._shut = False

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            if pending:
                gathered = asyncio.gather(*pending, return_exceptions=True)
                while not gathered.done():
                    try:
                        self.loop.run_until_complete(gathered)
                    except RuntimeError:  # a stop() that came late: the tasks still unwind
                        continue
            self.loop.close()

    def open(self) -> None:
        try:
            env = self._environment()
        except MCPConnectionError:
            self.close()
            raise
        self.thread.start()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._owner = asyncio.run_coroutine_threadsafe(self._own(ready, env), self.loop)
        try:
            ready.result(timeout=self.server.timeout)
        except BaseException as exc:
            if not isinstance(exc, Exception):  # Ctrl-C while it starts
                self.close()
                raise
            if isinstance(exc, concurrent.futures.TimeoutError):
                why = f"did not answer within {self.server.timeout:g} s"
            else:
                verb = "started" if self.server.command is not None else "reached"
                why = f"could not be {verb}: {_reason(exc)}"
            self._shutdown()  # the server has ended: its stderr is complete
            tail = self._stderr_tail()
            self.close()
            raise MCPConnectionError(f"MCP server {self.server.show} {why}{tail}") from None

    def _environment(self) -> dict[str, str]:
        env = {}
        for name, source in self.server.env.items():
            value = os.environ.get(source)
            if value is None:
                raise MCPConnectionError(
                    f"MCP server {self.server.show}: the environment variable {source} "
                    f"(passed as {name}) is not set")
            env[name] = value
        return env

    async def _own(self, ready: concurrent.futures.Future[None], env: dict[str, str]) -> None:
        from mcp import Client, StdioServerParameters
        from mcp.client.stdio import stdio_client
        from mcp.types import Implementation

        info = Implementation(name="mapek", version=_version())
        try:
            if self.server.command is not None:
                self._errlog = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
                params = StdioServerParameters(command=self.server.command[0],
                                               args=self.server.command[1:], env=env)
                client = Client(stdio_client(params, errlog=self._errlog), client_info=info)
            else:
                client = Client(str(self.server.url), client_info=info)
            async with client:
                self.client = client
                ready.set_result(None)
                await self._stop.wait()
        except BaseException as exc:  # noqa: BLE001 - reported to the opener, or the calls
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception)
                                    else RuntimeError(_reason(exc)))
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self.client = None
            self.broken = True

    def _stderr_tail(self) -> str:
        """The last line the server wrote to its stderr (the reason it stopped, usually)."""
        if self._errlog is None:
            return ""
        try:
            self._errlog.seek(0)
            lines = [ln.strip() for ln in self._errlog.read()[-4000:].splitlines() if ln.strip()]
        except (OSError, ValueError):
            return ""
        return f" (its stderr: {_one_line(lines[-1], 200)})" if lines else ""

    def run(self, make: Callable[[Client], Any], what: str, timeout: float) -> Any:
        """Run ``make(client)`` (a coroutine) on the connection's loop and wait for it (up to
        ``timeout`` seconds and a grace)."""
        if threading.current_thread() is self.thread:
            raise RuntimeError("an MCP tool cannot be called from its connection's own thread")
        client = self.client
        if client is None:
            self.broken = True
            raise MCPToolError(f"{what}: the connection to MCP server {self.server.show} "
                               "is closed")
        future = asyncio.run_coroutine_threadsafe(make(client), self.loop)
        try:
            return future.result(timeout=timeout + _GRACE)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"{what}: MCP server {self.server.show} did not answer "
                               f"within {timeout:g} s") from None
        except MCPToolError:
            raise
        except Exception as exc:
            if _connection_lost(exc):
                self.broken = True
            raise MCPToolError(f"{what}: {_reason(exc)}{self._stderr_tail()}") from None

    def close(self) -> None:
        self._shutdown()
        if self._errlog is not None:
            self._errlog.close()
            self._errlog = None

    def _shutdown(self) -> None:
        """Leave the session (a stdio server's process ends) and stop the thread's loop; once
        (a second call, from ``close`` after a failed ``open``, finds it done)."""
        if self._shut:
            return
        self._shut = True
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self._stop.set)
            if self._owner is not None and self.client is None:
                self._owner.cancel()  # still connecting: give up on it
            if self._owner is not None:
                try:
                    self._owner.result(timeout=10)
                except BaseException:  # noqa: BLE001, S110 - closing: nothing left to report
                    pass
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
        elif not self.loop.is_closed() and not self.thread.ident:
            self.loop.close()  # never started
        self.client = None


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("mapek")
    except Exception:  # noqa: BLE001 - an uninstalled checkout
        return "0"


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for e in exc.exceptions for leaf in _leaves(e)]
    return [exc]


def _reason(exc: BaseException) -> str:
    """One line for what went wrong (the first leaf of an exception group)."""
    leaf = _leaves(exc)[0]
    if isinstance(leaf, FileNotFoundError):
        return f"command not found ({leaf.filename or leaf})" if leaf.filename else \
            "command not found"
    if isinstance(leaf, PermissionError):
        return f"permission denied ({leaf.filename or leaf})"
    text = str(leaf) or type(leaf).__name__
    if text == "Connection closed":
        return "the server closed the connection"
    name = type(leaf).__name__
    return _one_line(text if name in ("MCPError", "MCPToolError") else f"{name}: {text}")


def _connection_lost(exc: BaseException) -> bool:
    from mcp.shared.exceptions import MCPError
    from mcp.types import CONNECTION_CLOSED

    for leaf in _leaves(exc):
        if isinstance(leaf, MCPError):
            if leaf.code == CONNECTION_CLOSED:
                return True
        elif not isinstance(leaf, ValueError | TypeError):
            return True  # a transport's error (closed stream, refused connection, ...)
    return False


_CONNECTIONS: dict[str, _Connection] = {}
_LOCK = threading.Lock()


def _connection(server: MCPServer) -> _Connection:
    """The process's connection to ``server``, opened (again) when there is none."""
    key = server._key()
    conn = _CONNECTIONS.get(key)
    if conn is not None and not conn.broken and conn.pid == os.getpid():
        return conn  # the usual case, without waiting for another server's start
    with _LOCK:
        conn = _CONNECTIONS.get(key)
        if conn is not None and (conn.broken or conn.pid != os.getpid()):
            if conn.pid == os.getpid():
                conn.close()
            conn = None
        if conn is None:
            conn = _Connection(server)
            conn.open()
            _CONNECTIONS[key] = conn
        return conn


def close(server: MCPServer | None = None) -> None:
    """Close the process's connection to ``server`` (every server's, without one): a stdio
    server's process ends. The next call opens it again."""
    with _LOCK:
        keys = [server._key()] if server is not None else list(_CONNECTIONS)
        conns = [c for k in keys if (c := _CONNECTIONS.pop(k, None)) is not None]
    for conn in conns:
        if conn.pid == os.getpid():
            conn.close()


def _forget_after_fork() -> None:
    """A forked child does not own its parent's connections (their threads did not follow)."""
    _CONNECTIONS.clear()


atexit.register(close)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


# -- tools ----------------------------------------------------------------------------------


class _MCPCall:
    """A registered tool's function: calls the server's tool with the keyword arguments."""

    def __init__(self, server: MCPServer, tool: str, registered: str,
                 schema: dict[str, Any]) -> None:
        self.server, self.tool, self.registered = server, tool, registered
        self.__name__ = registered
        self.__doc__ = f"The tool {tool!r} of MCP server {server.show}."
        signature = _signature(schema)
        if signature is not None:
            self.__signature__ = signature

    def __call__(self, **kwargs: Any) -> str:
        what = self.registered

        async def call(client: Client) -> CallToolResult:
            return await client.call_tool(self.tool, kwargs)

        conn = _connection(self.server)
        result = conn.run(call, what, self.server.timeout)
        return _output(result, what)

    def __repr__(self) -> str:
        return f"<MCP tool {self.tool!r} of {self.server.show}>"


def _signature(schema: dict[str, Any]) -> inspect.Signature | None:
    """Keyword-only parameters from a JSON schema's properties (what introspection sees, such
    as the gateway's ``idempotency_key`` check); None when a name is not a Python name."""
    props = schema.get("properties")
    if not isinstance(props, dict):
        return None
    required = set(schema.get("required") or [])
    params = []
    for name, spec in props.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            return None
        default = inspect.Parameter.empty if name in required else \
            (spec.get("default") if isinstance(spec, dict) else None)
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default))
    return inspect.Signature(params, return_annotation=str)


def _output(result: CallToolResult, what: str) -> str:
    """A call's result as text: its text parts joined, else its structured content as JSON;
    an ``isError`` result raises :class:`MCPToolError` with the server's message."""
    from mcp.types import EmbeddedResource, TextContent, TextResourceContents

    parts: list[str] = []
    for block in result.content:
        if isinstance(block, TextContent):
            parts.append(block.text)
        elif isinstance(block, EmbeddedResource) and \
                isinstance(block.resource, TextResourceContents):
            parts.append(block.resource.text)
        else:
            kind = getattr(block, "type", type(block).__name__)
            mime = getattr(block, "mime_type", None) or ""
            uri = getattr(block, "uri", None) or getattr(getattr(block, "resource", None),
                                                         "uri", None)
            parts.append(f"[{kind}{' ' + mime if mime else ''}{' ' + str(uri) if uri else ''}]")
    text = "\n".join(parts)
    if result.is_error:
        raise MCPToolError(f"{what}: {_one_line(text, 1000) or 'the server reported an error'}")
    if not any(isinstance(b, TextContent) for b in result.content) and \
            result.structured_content is not None:
        return json.dumps(result.structured_content, ensure_ascii=False, default=str)
    return text


def mcp_tools(server: MCPServer) -> list[Tool]:
    """Connect to ``server`` (once per process) and return one :class:`Tool` per tool it
    lists: named ``<server>__<tool>``, described by the server, ``parameters`` its input
    schema, the effect from its hints read as untrusted and the operator's overrides."""
    from mcp.types import ListToolsResult

    from mapek.safety.content import screen_output

    conn = _connection(server)
    listed = []
    cursor: str | None = None
    for _ in range(100):  # pages; a server that never ends its listing cannot hang us

        async def page(client: Client, cursor: str | None = cursor) -> ListToolsResult:
            return await client.list_tools(cursor=cursor)

        got = conn.run(page, f"listing the tools of MCP server {server.show}", server.timeout)
        listed.extend(got.tools)
        cursor = got.next_cursor
        if cursor is None:
            break
    overrides = server.overrides()
    names = {t.name: name_tool(server.prefix, t.name) for t in listed}
    unknown = [(k, where) for k, (_, where) in overrides.items()
               if k not in names and k not in names.values()]
    if unknown:
        k, where = unknown[0]
        raise ConfigError(f"{where}: MCP server {server.show} has no tool {k!r} (it has: "
                          f"{', '.join(sorted(names)) or 'none'})")
    tools: list[Tool] = []
    seen: dict[str, str] = {}
    for t in listed:
        registered = names[t.name]
        if registered in seen:
            raise ConfigError(f"MCP server {server.show}: tools {seen[registered]!r} and "
                              f"{t.name!r} would both be registered as {registered!r}")
        seen[registered] = t.name
        effect, idempotent = hinted_effect(t.annotations)
        said = overrides.get(registered) or overrides.get(t.name)
        if said is not None:
            effect = said[0]
            idempotent = effect == "read" or idempotent
        description = (t.description or t.title or "").strip() or \
            f"The tool {t.name!r} of MCP server {server.prefix}."
        verdict = screen_output(description)
        if verdict.flagged:
            description = (f"[description withheld: it reads like injected instructions "
                           f"({', '.join(verdict.kinds)})]")
        schema = dict(t.input_schema)
        tools.append(Tool(registered, effect, _MCPCall(server, t.name, registered, schema),
                          description, idempotent=idempotent,
                          resource=f"MCP server {server.prefix}", timeout=server.timeout,
                          parameters=schema))
    return tools
