"""What an offline script sees (:class:`OfflineRequest`): below both the engine
(:mod:`mapek.llm.offline`) and the scripts it ships (``_offline_persona``), so that neither
imports the other's module to get it. Public as ``mapek.llm.offline.OfflineRequest``."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["OfflineRequest"]


@dataclass(frozen=True)
class OfflineRequest:
    """What a script sees: the conversation plus the gateway's task and context."""

    messages: list[dict[str, Any]]
    """The chat messages, as sent."""
    task: str = "chat"
    """The task name the gateway passed (``chat`` when none)."""
    context: dict[str, Any] = field(default_factory=dict)
    """The small JSON context the gateway passed with the task."""
    schema: dict[str, Any] | None = None
    """The JSON schema requested through ``response_format``, if any."""
    ask: int = 1
    """1 for the first ask, 2 and up for re-asks after invalid output."""
    attempt: int = 1
    """Transport attempt within one ask (retries after transient errors)."""
    fault: str = ""
    """The fault switch in force (``""`` for none)."""
    salt: int | str | None = None
    """The caller's ``seed`` parameter (``ModelSpec(params={"seed": N})``), if any: the same
    request with another seed gets other draws, so repeats of a batch differ."""

    @property
    def seed(self) -> int:
        """A stable hash of the conversation, task and context (not of the fault), and of the
        caller's seed when one was given."""
        parts: list[Any] = [self.messages, self.task, self.context, self.schema]
        if self.salt is not None:
            parts.append(self.salt)
        blob = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
        return int.from_bytes(hashlib.sha256(blob.encode()).digest()[:8], "big")

    def rng(self, salt: str = "") -> random.Random:
        """A random generator seeded from :attr:`seed` (and a salt, for independent draws)."""
        return random.Random(f"{self.seed}:{salt}")

    @property
    def system(self) -> str:
        return "\n".join(_text(m) for m in self.messages if m.get("role") == "system")

    @property
    def first_user(self) -> str:
        """The first user message: the task as first put, before any re-ask."""
        for message in self.messages:
            if message.get("role") == "user":
                return _text(message)
        return ""

    @property
    def last_user(self) -> str:
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return _text(message)
        return ""


def _text(message: Mapping[str, Any]) -> str:
    content = message.get("content") or ""
    if isinstance(content, str):
        return content
    return " ".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
