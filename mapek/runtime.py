"""The runtime spec: everything a session runs with, recorded in ``run.started``.

A session's parts are personas, tools (import strings and MCP servers), the model (a
:class:`~mapek.llm.spec.ModelSpec`, with per-persona overrides), storage, notifiers and the
breaker policy. A user hands them to :meth:`mapek.Session.create` as objects or to the CLI as
strings; :func:`spec_for` turns them into a :class:`RuntimeSpec` of plain data, which is written
into the run's first event. Every process that serves the run (the worker, a resumed worker, the
watchdog) builds its parts from that record with :func:`build_runtime` (the watchdog with the
storage and notifier builders below, which are the same functions), so a resumed run gets exactly
what it started with, and a part that has since vanished or changed its signature is a clear
error naming it.

::

    spec = spec_for(personas=["cfo", Persona(...)], tools=[lookup_price], model="openai/gpt-4o")
    rt = build_runtime(spec, kb=kb, run_id=run_id, run_dir=run_dir)
    rt.tools.names()   # the built-in tools, lookup_price, and each MCP server's tools

A Python object becomes its import string (``package.module:name``): a module-level function,
tool, registry or list of tools. What another process cannot import (a lambda, a closure, an
object defined in ``__main__`` or in a notebook) is refused with the way out: make it importable,
or run the session ``in_process=True``, where the objects are used as they are.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mapek._imports import import_object, import_string
from mapek.errors import ConfigError, PersonaError
from mapek.llm.spec import ModelSpec
from mapek.models import Persona
from mapek.safety.mcp import MCPServer
from mapek.safety.tools import Tool, ToolRegistry

__all__ = ["RuntimeSpec", "StorageSpec", "ToolRef", "Runtime", "spec_for", "build_runtime",
           "import_object", "import_string", "load_tools", "check_persona_tools",
           "spec_of_run", "resolve_personas", "tool_digest"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageSpec(_Data):
    """Where the run's knowledge lives."""

    log_url: str | None = None
    """The event log: ``None`` for the workspace's SQLite file, ``sqlite:///PATH``, or a
    PostgreSQL database (``postgresql://...``)."""
    vector_url: str | None = None
    """The vector index: ``None`` for the workspace's embedded Chroma, or a Chroma server
    (``http://host:port``)."""

    @field_validator("log_url", "vector_url")
    @classmethod
    def _no_password(cls, v: str | None) -> str | None:
        """A URL is recorded in the log: a password in it is replaced by ``***`` (each process
        opens the log with the URL it was given, ``MAPEK_LOG_URL``, not this record)."""
        if v is None or "@" not in v:
            return v
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(v)
        if parts.password is None:
            return v
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))

    @field_validator("log_url")
    @classmethod
    def _known_scheme(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("sqlite:///", "postgresql://", "postgres://")):
            from mapek.knowledge._pg_schema import redact

            raise ValueError(f"{redact(v)!r}: a log URL is sqlite:///PATH or postgresql://...")
        return v

    @field_validator("vector_url")
    @classmethod
    def _chroma(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError(f"{v!r}: a vector index URL is a Chroma server, http(s)://host:port")
        return v


class ToolRef(_Data):
    """A tool (or a set of them) by import string, with what its tools looked like when the run
    started: a resumed run refuses a tool whose signature or effect has changed since."""

    ref: str | None = Field(default=None, pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
    """``package.module:name``: a tool, a :class:`~mapek.safety.tools.ToolRegistry`, a list of
    tools, or a function of no arguments returning one of those. ``None``: a tool handed to an
    in-process session as an object, which only that process (or one given the same object
    again) can run."""
    digests: dict[str, str] = Field(default_factory=dict)
    """Tool name to :func:`tool_digest`, filled in when the spec is made."""


class RuntimeSpec(_Data):
    """What a session runs with: every part, as data another process can rebuild."""

    personas: list[str | Persona] = Field(min_length=2)
    """By name (from the persona library) or whole (defined inline, stored in the log)."""
    personas_dir: str | None = None
    """The user's persona folder the names were resolved in (besides the packaged ones)."""
    tools: list[ToolRef] = Field(default_factory=list)
    """The user's tools, besides the built-in ones."""
    mcp: list[dict[str, Any]] = Field(default_factory=list)
    """MCP servers (:class:`~mapek.safety.mcp.MCPServer`, as data); their tools join the rest."""
    builtin_tools: bool = True
    """Give the discussion mapek's own tools (kb_search, read_reference, write_note, ...)."""
    model: ModelSpec = Field(default_factory=ModelSpec)
    """The session's model; every agent uses it unless a persona has its own."""
    persona_models: dict[str, ModelSpec] = Field(default_factory=dict)
    """Per-persona models, by persona name (over a persona file's own ``model``)."""
    storage: StorageSpec = Field(default_factory=StorageSpec)
    notifiers: list[str] = Field(default_factory=list)
    """Import strings of :class:`~mapek.breaker.notifiers.Notifier` objects or factories, run
    on a trip beside those of the policy file."""
    policy: str | None = None
    """The breaker preset or policy file (``None``: ``default``)."""
    triager: str | None = None
    """Import string of the observer's question triager (an object with the methods of
    :class:`~mapek.loop.triage.QuestionTriager`, or a function of no arguments returning one);
    ``None``: mapek's own."""
    in_process: bool = False
    """The graph runs in the process that created the session, with its objects as they are
    (no worker process, so no watchdog process either: budgets and turn limits still hold)."""

    def persona_names(self) -> list[str]:
        return [p if isinstance(p, str) else p.name for p in self.personas]

    def mcp_servers(self) -> list[MCPServer]:
        return [MCPServer.model_validate(m) for m in self.mcp]


@dataclass
class Runtime:
    """A session's parts, built from its :class:`RuntimeSpec` in the process that runs it."""

    spec: RuntimeSpec
    personas: dict[str, Persona]
    """Name to persona, in the session's order; a persona's ``model`` is its override."""
    tools: ToolRegistry
    models: dict[str, ModelSpec] = field(default_factory=dict)
    """Persona name to the model it speaks with, where it differs from ``spec.model``."""
    triager: Any = None
    """The spec's own triager, built; ``None``: mapek's own."""


# -- tools --------------------------------------------------------------------------------------

def tool_digest(t: Tool) -> str:
    """A short digest of what a tool looks like to a run: its effect and its arguments."""
    own = getattr(t, "signature_digest", None)
    if callable(own):
        return str(own())
    try:
        sig = str(inspect.signature(t.fn))
    except (TypeError, ValueError):
        sig = "?"
    params = getattr(t, "parameters", None)
    blob = json.dumps({"effect": t.effect, "sig": sig, "parameters": params}, sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _as_tools(obj: Any, ref: str) -> list[Tool]:
    if isinstance(obj, Tool):
        return [obj]
    if isinstance(obj, ToolRegistry):
        return list(obj.tools.values())
    if isinstance(obj, list | tuple):
        bad = [o for o in obj if not isinstance(o, Tool)]
        if bad:
            raise ConfigError(f"tools {ref!r}: {bad[0]!r} is not a tool (wrap it with "
                              "@tool(effect=...))")
        return list(obj)
    if callable(obj):
        try:
            params = inspect.signature(obj).parameters
        except (TypeError, ValueError):
            params = {}  # type: ignore[assignment]
        if any(p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY,
               p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params.values()):
            raise ConfigError(f"tool {ref!r} has no declared effect; wrap it with "
                              "@tool(effect='read'|'write'|'destructive'|'external') "
                              "(a factory of tools takes no arguments)")
        made = obj()
        if made is None or callable(made) and not isinstance(made, Tool | ToolRegistry):
            raise ConfigError(f"tools {ref!r}: a factory must return a tool, a registry or a "
                              "list of tools")
        return _as_tools(made, ref)
    raise ConfigError(f"tools {ref!r}: {type(obj).__name__} is not a tool, a registry or a "
                      "list of tools")


def load_tools(refs: Iterable[ToolRef], *, check: bool = True) -> list[Tool]:
    """The tools the import strings name. With ``check``, each must still look as it did when
    the spec was made (same names, effects and arguments)."""
    out: list[Tool] = []
    for r in refs:
        if r.ref is None:
            raise ConfigError(
                f"tool{'s' if len(r.digests) > 1 else ''} {', '.join(map(repr, r.digests))} "
                "were handed to the session as objects in its own process and cannot be rebuilt "
                "here; resume it in a process that has them: Session.attach(RUN, "
                "tools=[...]).resume()")
        tools = _as_tools(import_object(r.ref, what="tool"), r.ref)
        if check and r.digests:
            have = {t.name: tool_digest(t) for t in tools}
            for name, digest in r.digests.items():
                if name not in have:
                    raise ConfigError(f"tool {name!r} ({r.ref}) has vanished since the run "
                                      "started")
                if have[name] != digest:
                    raise ConfigError(f"tool {name!r} ({r.ref}) has changed its signature or "
                                      "effect since the run started; restore it, or start a "
                                      "new run")
        out += tools
    return out


def _ref_for(item: Any, in_process: bool) -> tuple[ToolRef, list[Tool]]:
    if isinstance(item, str):
        tools = _as_tools(import_object(item, what="tool"), item)
        return ToolRef(ref=item, digests={t.name: tool_digest(t) for t in tools}), tools
    try:
        ref: str | None = import_string(item)
    except ConfigError:
        if not in_process:
            raise
        ref = None  # in process: the object itself is used; the spec keeps its digest
    label = ref or str(getattr(item, "name", None) or getattr(item, "__name__", repr(item)))
    tools = _as_tools(item, label)
    return ToolRef(ref=ref, digests={t.name: tool_digest(t) for t in tools}), tools


def check_persona_tools(personas: Iterable[Persona], tools: ToolRegistry) -> None:
    """Every tool a persona names must be one the runtime has."""
    have = set(tools.names())
    for p in personas:
        missing = [t for t in p.tools if t not in have]
        if missing:
            raise PersonaError(
                f"persona {p.name!r} names tool{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(repr, missing))}, which this session does not have (tools: "
                f"{', '.join(sorted(have)) or 'none'}); pass it with tools=[...] or --tools "
                "package.module:function")


# -- making and building the spec ---------------------------------------------------------------

def _model_spec(model: Any, default: ModelSpec) -> ModelSpec:
    if model is None:
        return default
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, str):
        return default.model_copy(update={"name": model})
    raise ConfigError(f"model {model!r}: give a litellm model string or mapek.Model(...); a "
                      "model object cannot travel to the worker process (pass in_process=True "
                      "to use it as it is)")


def spec_for(*, personas: Sequence[str | Persona], tools: Sequence[Any] = (),
             mcp: Sequence[Any] = (), model: Any = None, default_model: ModelSpec | None = None,
             persona_models: dict[str, Any] | None = None, personas_dir: str | None = None,
             storage: StorageSpec | None = None, notifiers: Sequence[Any] = (),
             policy: str | None = None, builtin_tools: bool = True,
             triager: Any = None, in_process: bool = False) -> tuple[RuntimeSpec, list[Tool]]:
    """A :class:`RuntimeSpec` from what a user handed over (objects or strings), and the tools
    it names (checked importable now, so a mistake is found before anything is written).

    ``tools`` items: a tool, registry, list or factory (module-level objects), an import string,
    or an :class:`~mapek.safety.mcp.MCPServer` (also accepted in ``mcp``)."""
    refs: list[ToolRef] = []
    found: list[Tool] = []
    servers: list[Any] = list(mcp)
    for item in tools:
        if isinstance(item, MCPServer):
            servers.append(item)
            continue
        ref, made = _ref_for(item, in_process)
        refs.append(ref)
        found += made
    base = default_model or ModelSpec()
    notes = [n if isinstance(n, str) else import_string(n, what="notifier") for n in notifiers]
    try:
        spec = RuntimeSpec(
            personas=list(personas), personas_dir=personas_dir, tools=refs,
            mcp=[s if isinstance(s, dict) else s.model_dump(mode="json") for s in servers],
            builtin_tools=builtin_tools, model=_model_spec(model, base),
            persona_models={k: _model_spec(v, base) for k, v in (persona_models or {}).items()},
            storage=storage or StorageSpec(), notifiers=notes, policy=policy,
            triager=triager if triager is None or isinstance(triager, str)
            else import_string(triager, what="triager"), in_process=in_process)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(map(str, err["loc"]))
        raise ConfigError(f"{where}: {err['msg']}") from None
    return spec, found


def spec_of_run(started_payload: dict[str, Any]) -> RuntimeSpec:
    """The spec a run started with, from its ``run.started`` payload (a run recorded before
    specs existed gets the spec its configuration implies)."""
    raw = started_payload.get("runtime")
    if raw is not None:
        try:
            return RuntimeSpec.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(f"the run's runtime spec does not validate: "
                              f"{exc.errors()[0]['msg']}") from None
    cfg = started_payload.get("config") or {}
    breaker = started_payload.get("breaker") or {}
    return RuntimeSpec(personas=list(cfg.get("personas") or []),
                       personas_dir=cfg.get("personas_dir"),
                       model=ModelSpec(name=cfg.get("model") or "mapek/offline"),
                       policy=breaker.get("policy"))


def resolve_personas(spec: RuntimeSpec, default_dir: Path | str | None = None
                     ) -> dict[str, Persona]:
    """The spec's personas by name, in order: library names resolved, inline ones as given."""
    from mapek.personas import PersonaLibrary

    names = [p for p in spec.personas if isinstance(p, str)]
    lib = PersonaLibrary.load(spec.personas_dir or default_dir) if names else None
    out: dict[str, Persona] = {}
    for p in spec.personas:
        persona = lib.get(p) if isinstance(p, str) and lib is not None else p
        assert isinstance(persona, Persona)
        if persona.name in out:
            raise PersonaError(f"persona {persona.name!r} is listed twice")
        out[persona.name] = persona
    return out


def build_runtime(spec: RuntimeSpec, *, kb: Any = None, run_id: str | None = None,
                  run_dir: Path | None = None, personas_dir: Path | str | None = None,
                  extra_tools: Sequence[Tool] = (), check: bool = True) -> Runtime:
    """Every part of a session from its spec: personas, tools (built-in, imported, MCP) and the
    models per persona. ``kb``/``run_id``/``run_dir`` bind the built-in tools to the run.
    ``extra_tools``: live objects of an in-process session, used as they are. Each persona's
    tools must exist in the result (:func:`check_persona_tools`)."""
    personas = resolve_personas(spec, personas_dir)
    reg = ToolRegistry()
    if spec.builtin_tools:
        from mapek.safety.builtin_tools import builtin_tools

        for t in builtin_tools(kb, run_id or "", run_dir).tools.values():
            reg.register(t)
    mine = list(extra_tools) if extra_tools else load_tools(spec.tools, check=check)
    for server in spec.mcp_servers() if spec.mcp else []:
        from mapek.safety.mcp import mcp_tools

        mine += mcp_tools(server)
    for t in mine:
        if reg.get(t.name) is not None:
            raise ConfigError(f"tool {t.name!r} is defined twice (a built-in tool has that name, "
                              "or two of yours do); rename one")
        reg.register(t)
    check_persona_tools(personas.values(), reg)
    models = dict(spec.persona_models)
    unknown = sorted(set(models) - set(personas))
    if unknown:
        raise ConfigError(f"a model is set for {', '.join(map(repr, unknown))}, not a persona of "
                          f"this session ({', '.join(personas)})")
    triager = None
    if spec.triager is not None:
        triager = import_object(spec.triager, what="triager")
        if isinstance(triager, type) or not hasattr(triager, "triage"):
            triager = triager()
        if not hasattr(triager, "triage"):
            raise ConfigError(f"triager {spec.triager!r} has no triage() method")
    return Runtime(spec=spec, personas=personas, tools=reg, models=models, triager=triager)
