"""Tools and their declared worst-case effect.

Every tool an agent can call declares what the worst it can do is: ``read``, ``write``,
``destructive`` or ``external`` (leaves the system: email, payment, publish). There is no default:
a tool without a declared effect is refused at registration.

::

    @tool(effect="read", resource="knowledge base")
    def kb_search(query: str) -> str: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from mapek.errors import UserError

__all__ = ["Effect", "Tool", "ToolRegistry", "tool", "EFFECTS"]

Effect = Literal["read", "write", "destructive", "external"]
"""``read``: changes nothing. ``write``: creates or changes data inside the system.
``destructive``: deletes or overwrites what may not come back. ``external``: acts outside the
system (sends, pays, publishes); cannot be recalled."""

EFFECTS: tuple[str, ...] = get_args(Effect)

DEFAULT_TIMEOUT = 60.0
"""Seconds a tool call may take before the gateway gives up on it."""


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
    parameters: dict[str, Any] | None = None
    """explicit JSON schema of the arguments (MCP tools); None: derived from fn's signature"""

    @property
    def read_only(self) -> bool:
        return self.effect == "read"


def tool(
    *, effect: Effect, name: str | None = None, idempotent: bool = False, resource: str = "",
    target: str | None = None, timeout: float | None = DEFAULT_TIMEOUT,
) -> Callable[[Callable[..., Any]], Tool]:
    """Turn a plain function into a :class:`Tool`; ``effect`` is required."""
    if timeout is not None and timeout <= 0:
        raise UserError(f"a tool's timeout is a number of seconds above 0; got {timeout!r}")
    if effect not in EFFECTS:
        raise UserError(f"tool effect must be one of {', '.join(EFFECTS)}; got {effect!r}")

    def wrap(fn: Callable[..., Any]) -> Tool:
        return Tool(name or fn.__name__, effect, fn, (fn.__doc__ or "").strip(),
                    idempotent=idempotent or effect == "read", resource=resource,
                    target=target, timeout=timeout)

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
