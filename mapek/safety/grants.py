"""Write grants and resource provenance, both folded from the log (never from a caller).

A **grant** gives write access to one tool, for one persona or the whole session, with a
justification and an optional expiry; it is a ``grant`` event in the run's log. A **resource**
(a file, a table) carries its provenance: ``human`` when a person registered it
(``resource.registered``, actor ``human``), ``run:<id>`` when a write call of that run created
it (the gateway's own ``tool.call`` record). Provenance is read from the log only: a tool's
arguments saying ``created_by: run:...`` change nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from mapek.safety.rules._base import collapse_dots

__all__ = ["Grant", "GrantBook", "ProvenanceBook", "resource_key"]


class Grant(BaseModel):
    """Write access to a tool, for a persona (``to``) or the whole session (``to='session'``)."""

    tool: str = Field(min_length=1)
    to: str = "session"
    justification: str = Field(min_length=3)
    expires_at: float | None = None
    """Unix time; ``None`` never expires."""
    granted_by: str = "human"
    seq: int | None = None
    """The ``grant`` event's sequence number."""

    def covers(self, tool: str, actor: str) -> bool:
        return self.tool == tool and self.to in ("session", actor)

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


@dataclass
class GrantBook:
    """The run's grants, newest last."""

    grants: list[Grant] = field(default_factory=list)

    @classmethod
    def from_events(cls, events: list[Any]) -> GrantBook:
        out = []
        for ev in events:
            if ev.kind == "grant":
                out.append(Grant.model_validate({**ev.payload, "seq": ev.seq}))
        return cls(out)

    def find(self, tool: str, actor: str, now: float | None = None) -> tuple[Grant | None, str]:
        """A live grant covering the call, or ``None`` and why not."""
        now = time.time() if now is None else now
        covering = [g for g in self.grants if g.covers(tool, actor)]
        live = [g for g in covering if not g.expired(now)]
        if live:
            return live[-1], "granted"
        if covering:
            g = covering[-1]
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(g.expires_at or 0))
            return None, (f"the grant of {tool!r} to {g.to} (event #{g.seq}) expired at {when}; "
                          "ask a human for a new grant")
        return None, (f"{actor} holds no write grant for {tool!r}; agents hold read-only access "
                      "unless a human grants write")


def resource_key(value: Any) -> str:
    """The name provenance is kept under: the target argument's value, normalised (``./``,
    ``.`` and ``..`` segments resolved, no trailing slash)."""
    s = collapse_dots(str(value).strip().replace("\\", "/"))  # scratch/../data is data
    while s.startswith("./"):
        s = s[2:]
    return s.rstrip("/") or "."


@dataclass
class ProvenanceBook:
    """Who created each resource, folded from ``resource.registered`` and ``tool.call`` events
    of every run in the workspace."""

    created_by: dict[str, str] = field(default_factory=dict)

    def fold(self, events: list[Any]) -> int:
        """Take in provenance records; returns how many changed the book."""
        changed = 0
        for ev in events:
            p = ev.payload
            if ev.kind == "resource.registered" and ev.actor == "human" and p.get("resource"):
                self.created_by[resource_key(p["resource"])] = "human"
                changed += 1
            elif ev.kind == "tool.call" and p.get("outcome") == "ok" and p.get("resource"):
                name = resource_key(p["resource"])
                change = p.get("provenance")
                if change == "created" and name not in self.created_by:
                    self.created_by[name] = f"run:{ev.run_id}"
                    changed += 1
                elif change == "removed" and self.created_by.get(name) != "human":
                    changed += self.created_by.pop(name, None) is not None
        return changed

    def owner(self, name: str) -> str | None:
        """``human``, ``run:<id>``, or None when the resource is unknown. A resource inside a
        human-created folder is the human's too, and so is a folder holding something a human
        created (removing it removes that); a folder holding what a run made is not the run's."""
        key = resource_key(name)
        if key in self.created_by:
            return self.created_by[key]
        parts = key.split("/")
        for i in range(len(parts) - 1, 0, -1):
            if self.created_by.get("/".join(parts[:i])) == "human":
                return "human"
        inside = key.rstrip("/") + "/" if key not in (".", "/") else ""
        if any(who == "human" and n.startswith(inside) for n, who in self.created_by.items()):
            return "human"
        return None
