"""Tools and their declared worst-case effect, and the arguments each one takes.

Every tool an agent can call declares what the worst it can do is: ``read``, ``write``,
``destructive`` or ``external`` (leaves the system: email, payment, publish). There is no default:
a tool without a declared effect is refused at registration.

::

    @tool(effect="read", resource="knowledge base")
    def kb_search(query: str, limit: int = 3) -> str:
        \"\"\"Search what has been said in this run.

        Args:
            query: what to look for.
            limit: how many hits at most.
        \"\"\"

A tool's arguments have a schema (:meth:`Tool.args_schema`), derived from its function's
signature and type hints with pydantic (descriptions from ``Annotated[..., Field(...)]`` or the
docstring's ``Args:`` / ``:param x:`` lines), or given explicitly in ``parameters`` for a tool with
no Python signature (an MCP server's tool, say), then checked with ``jsonschema``. The tool gateway
checks every call against it before anything runs (:meth:`Tool.validate_args`): a missing, badly
typed or unknown argument is an error naming the field. Parameters the gateway fills itself
(``idempotency_key``) are not in the schema, and a value the caller gives for them is dropped. A
function taking ``**kwargs`` (or ``*args``) accepts arguments beyond its named ones: its schema
allows extra properties, and those reach the function unchecked.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue

from mapek.errors import UserError

__all__ = ["Effect", "Tool", "ToolRegistry", "tool", "EFFECTS", "INJECTED",
           "ToolArgumentsError"]

Effect = Literal["read", "write", "destructive", "external"]
"""``read``: changes nothing. ``write``: creates or changes data inside the system.
``destructive``: deletes or overwrites what may not come back. ``external``: acts outside the
system (sends, pays, publishes); cannot be recalled."""

EFFECTS: tuple[str, ...] = get_args(Effect)

DEFAULT_TIMEOUT = 60.0
"""Seconds a tool call may take before the gateway gives up on it."""

INJECTED: tuple[str, ...] = ("idempotency_key",)
"""Parameters the gateway passes to a tool itself (:mod:`mapek.ledger`): never shown to a model,
never taken from a call's arguments."""


class ToolArgumentsError(UserError):
    """A call's arguments do not fit the tool's schema: which ones, and what is wrong."""

    def __init__(self, tool: str, problems: list[tuple[str, str]]) -> None:
        self.tool = tool
        self.problems = problems
        """(argument, what is wrong) pairs; the argument is ``""`` for the call as a whole."""
        self.fields = list(dict.fromkeys(f for f, _ in problems if f))
        said = "; ".join(f"{f}: {m}" if f else m for f, m in problems)
        super().__init__(f"invalid arguments for {tool}: {said}")


@dataclass(frozen=True)
class Tool:
    """A callable with its declared blast radius."""

    name: str
    effect: Effect
    """The worst the tool can do, not what it is meant to do."""
    fn: Callable[..., Any]
    description: str = ""
    idempotent: bool = False
    """Safe to run twice with the same arguments."""
    resource: str = ""
    """What it targets (a folder, a database, a mailbox)."""
    target: str | None = None
    """The argument naming the resource a call touches (``path``, ``table``): the gateway keeps
    the provenance of what write calls create under that name."""
    timeout: float | None = DEFAULT_TIMEOUT
    """Seconds the gateway waits for a call before it reports a timeout (None: no limit)."""
    parameters: dict[str, Any] | None = field(default=None, hash=False)
    """An explicit JSON schema of the arguments, for a tool with no Python signature (an MCP
    server's tool): used instead of the function's signature, and checked with ``jsonschema``.
    An object schema with ``properties`` and no ``additionalProperties`` takes no others."""

    @property
    def read_only(self) -> bool:
        return self.effect == "read"

    # -- arguments ---------------------------------------------------------------------------

    def args_schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments a model may pass (what it is shown)."""
        copy: dict[str, Any] = json.loads(json.dumps(self._schema))  # the cached one stays
        return copy

    def validate_args(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments to call ``fn`` with: coerced to the declared types (``"3"`` for
        an ``int`` is 3; a dict for a pydantic model parameter is that model), without the
        arguments the caller left to their defaults and without :data:`INJECTED` ones. Raises
        :class:`ToolArgumentsError` naming each bad, missing or unknown argument."""
        if not isinstance(args, Mapping):
            raise ToolArgumentsError(self.name, [("", f"arguments are an object of named "
                                                      f"values, not {type(args).__name__}")])
        given = {k: v for k, v in args.items() if k not in INJECTED}
        if self.parameters is not None:
            return _check_json(self.name, self._schema, given)
        model, names = self._model
        try:
            m = model.model_validate(given)
        except ValidationError as exc:
            raise ToolArgumentsError(self.name, _problems(exc)) from None
        out = {names[f]: getattr(m, f) for f in m.model_fields_set if f in names}
        out.update(m.model_extra or {})
        return out

    def signature_digest(self) -> str:
        """A short stable hash of the arguments' schema (descriptions left out) and the
        effect: a resumed run tells by it that a tool's signature changed since."""
        shape = {"effect": self.effect, "args": _strip(self._schema, ("description", "examples"))}
        text = json.dumps(shape, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @cached_property
    def _model(self) -> tuple[type[BaseModel], dict[str, str]]:
        """The pydantic model of the signature (fields ``p0``, ``p1``... aliased to the parameter
        names, so no name clashes with pydantic's own), and field -> parameter name."""
        return _signature_model(self.name, self.fn)

    @cached_property
    def _schema(self) -> dict[str, Any]:
        if self.parameters is not None:
            return dict(self.parameters)
        model, _ = self._model
        schema = model.model_json_schema(by_alias=True, schema_generator=_Lenient)
        shown: dict[str, Any] = _strip(schema, ("title",))
        return shown


def tool(
    *, effect: Effect, name: str | None = None, idempotent: bool = False, resource: str = "",
    target: str | None = None, timeout: float | None = DEFAULT_TIMEOUT,
    parameters: dict[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], Tool]:
    """Turn a plain function into a :class:`Tool`; ``effect`` is required. ``parameters``: an
    explicit JSON schema of its arguments, for a function whose signature does not say them
    (``**kwargs``)."""
    if timeout is not None and timeout <= 0:
        raise UserError(f"a tool's timeout is a number of seconds above 0; got {timeout!r}")
    if effect not in EFFECTS:
        raise UserError(f"tool effect must be one of {', '.join(EFFECTS)}; got {effect!r}")

    def wrap(fn: Callable[..., Any]) -> Tool:
        return Tool(name or fn.__name__, effect, fn, (fn.__doc__ or "").strip(),
                    idempotent=idempotent or effect == "read", resource=resource,
                    target=target, timeout=timeout, parameters=parameters)

    return wrap


@dataclass
class ToolRegistry:
    """The tools a session knows, by name."""

    tools: dict[str, Tool] = field(default_factory=dict)

    def register(self, t: Tool | Callable[..., Any]) -> Tool:
        if isinstance(t, Tool) and t.effect not in EFFECTS:
            raise UserError(f"tool {t.name!r} declares effect {t.effect!r}; it must be one of "
                            f"{', '.join(EFFECTS)}")
        if not isinstance(t, Tool):
            name = getattr(t, "__name__", repr(t))
            raise UserError(
                f"tool {name!r} has no declared effect; wrap it with "
                "@tool(effect='read'|'write'|'destructive'|'external')"
            )
        if t.name in self.tools:
            raise UserError(f"tool {t.name!r} is registered twice")
        self.tools[t.name] = t
        return t

    def get(self, name: str) -> Tool | None:
        return self.tools.get(name)

    def names(self) -> list[str]:
        return sorted(self.tools)


# -- deriving a schema from a signature --------------------------------------------------------

class _Lenient(GenerateJsonSchema):
    """A parameter of a type with no JSON schema (an arbitrary class) shows as "anything"; the
    call is still checked against the type."""

    def handle_invalid_for_json_schema(self, schema: Any, error_info: str) -> JsonSchemaValue:
        return {}


_SIMPLE = (str, int, float, bool)


def _signature_model(name: str, fn: Callable[..., Any]) -> tuple[type[BaseModel], dict[str, str]]:
    try:
        sig = inspect.signature(fn)  # follows __wrapped__ (functools.wraps)
    except (TypeError, ValueError):  # a builtin with no signature: anything goes
        sig = inspect.Signature([inspect.Parameter("args", inspect.Parameter.VAR_KEYWORD)])
    target = inspect.unwrap(fn)
    hints = _hints(target)
    docs = _param_docs(inspect.getdoc(target) or "")
    fields: dict[str, Any] = {}
    names: dict[str, str] = {}
    extra = False
    for i, p in enumerate(sig.parameters.values()):
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            extra = True
            continue
        if p.name in INJECTED:
            continue
        ann = hints.get(p.name, p.annotation)
        if ann is inspect.Parameter.empty or isinstance(ann, str):
            ann = type(p.default) if isinstance(p.default, _SIMPLE) else Any
        default = ... if p.default is inspect.Parameter.empty else p.default
        said = docs.get(p.name) or next((m for m in getattr(ann, "__metadata__", ())
                                          if isinstance(m, str)), None)
        meta: dict[str, Any] = {"alias": p.name}
        if said:
            meta["description"] = said
        info = Field(default, **meta)
        fields[f"p{i}"] = (ann, info)
        names[f"p{i}"] = p.name
    config = ConfigDict(extra="allow" if extra else "forbid", arbitrary_types_allowed=True,
                        coerce_numbers_to_str=True)
    model = create_model(f"{_ident(name)}_args", __config__=config, **fields)
    return model, names


def _hints(fn: Any) -> dict[str, Any]:
    """The function's resolved type hints; a name that does not resolve (a class local to the
    function that made the tool) is left as its string (then taken as ``Any``)."""
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:  # noqa: BLE001 - some annotation does not resolve: one at a time
        pass
    out: dict[str, Any] = {}
    space = dict(getattr(fn, "__globals__", {}))
    closure = getattr(fn, "__closure__", None) or ()
    code = getattr(fn, "__code__", None)
    for var, cell in zip(code.co_freevars if code else (), closure, strict=False):
        try:
            space[var] = cell.cell_contents
        except ValueError:  # an empty cell
            continue
    for pname, ann in getattr(fn, "__annotations__", {}).items():
        try:
            out[pname] = eval(ann, space) if isinstance(ann, str) else ann  # noqa: S307
        except Exception:  # noqa: BLE001
            out[pname] = ann
    return out


_SECTION = re.compile(r"^(Args|Arguments|Parameters|Params)\s*:\s*$", re.I)
_GOOGLE = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_REST = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def _param_docs(doc: str) -> dict[str, str]:
    """Parameter descriptions from a (cleaned) docstring: a Google-style ``Args:`` section or
    reST ``:param name: text`` lines; indented continuation lines are joined."""
    out: dict[str, str] = {}
    current: str | None = None
    section: int | None = None  # the indent of the Args section's entries, while in it
    in_args = False
    for raw in doc.splitlines():
        line, lead = raw.strip(), len(raw) - len(raw.lstrip())
        if not line:
            current = current if in_args else None
            continue
        rest = _REST.match(line)
        if rest:
            current, in_args = rest.group(1), False
            out[current] = rest.group(2).strip()
        elif _SECTION.match(line):
            in_args, current, section = True, None, None
        elif in_args:
            section = lead if section is None else section
            entry = _GOOGLE.match(line)
            if lead < section:
                in_args, current = False, None
            elif lead == section and entry:
                current = entry.group(1).lstrip("*")
                out[current] = entry.group(2).strip()
            elif lead > section and current is not None:
                out[current] = f"{out[current]} {line}".strip()
        elif current is not None and lead > 0 and not line.startswith(":"):
            out[current] = f"{out[current]} {line}".strip()
        else:
            current = None
    return {k: v for k, v in out.items() if v}


def _ident(name: str) -> str:
    return re.sub(r"\W+", "_", name).strip("_") or "tool"


def _strip(schema: Any, keys: tuple[str, ...]) -> Any:
    """A schema without the given keywords (``title``...), keeping properties of those names."""
    if isinstance(schema, list):
        return [_strip(s, keys) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for k, v in schema.items():
        if k in ("properties", "$defs", "definitions", "patternProperties") and \
                isinstance(v, dict):
            out[k] = {name: _strip(sub, keys) for name, sub in v.items()}
        elif k in keys and isinstance(v, (str, list)):
            continue
        else:
            out[k] = _strip(v, keys)
    return out


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    out = []
    for e in exc.errors(include_url=False):
        loc = [str(x) for x in e.get("loc", ())]
        where = ".".join(loc)
        if e["type"] == "missing":
            out.append((where, "required, missing"))
        elif e["type"] == "extra_forbidden":
            out.append((where, "unknown argument"))
        else:
            out.append((where, e["msg"]))
    return out


def _check_json(name: str, schema: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """Arguments checked against an explicit JSON schema (no coercion: they go as given)."""
    from jsonschema import validators  # type: ignore[import-untyped]

    if schema.get("properties") is not None and "additionalProperties" not in schema:
        schema = {**schema, "additionalProperties": False}
    cls = validators.validator_for(schema)
    problems: list[tuple[str, str]] = []
    for err in sorted(cls(schema).iter_errors(args), key=lambda e: [str(p) for p in e.path]):
        where = ".".join(str(p) for p in err.path)
        if err.validator == "required" and not where:
            missing = re.match(r"'([^']+)'", err.message)
            problems.append((missing.group(1) if missing else "", "required, missing"))
        elif err.validator == "additionalProperties" and not where:
            extra = sorted(set(args) - set(schema.get("properties") or {}))
            problems += [(k, "unknown argument") for k in extra] or [("", err.message)]
        else:
            problems.append((where, err.message))
    if problems:
        raise ToolArgumentsError(name, problems)
    return dict(args)
