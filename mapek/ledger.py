"""The effects ledger: what makes a resumed run perform each side effect exactly once.

Every write, destructive or external tool call made with a key goes through the ledger (the
:class:`~mapek.safety.gateway.ToolGateway` does it). The key comes from durable identity, never
from a fresh random id: :func:`effect_key` of the run, the node path (``execute/3/1``,
``workflow/7/0``), the tool and its canonical arguments, so a resumed process derives the same key
for the same call. In the run's log::

    effect.intent   key:intent:N    before attempt N: tool, args, their digest, idempotent
    tool.call       key             the result (as for every call through the gateway)
    effect.in_doubt key:doubt:N     attempt N has no result and may not run again by itself
    effect.resolved key:resolved:N  a human's answer for attempt N: ``happened`` or ``run``

On a call with a key the ledger says what it is:

- **done** (a ``tool.call`` under the key): the recorded result is returned, nothing runs;
- **in doubt** (an intent and no result: the process died mid-call): an idempotent tool runs
  again (attempt N+1); any other is escalated to a human, with the exact arguments, and stays in
  doubt until someone answers ``happened`` (the result is recorded without running) or ``run``;
  it is never assumed not to have happened;
- **new**: the intent is recorded, then the tool runs.

The same key with other arguments (or another tool) is
:class:`~mapek.errors.IdempotencyKeyCollision` and nothing runs. A tool whose function takes an
``idempotency_key`` parameter receives the key, to forward to services that accept one (Stripe's
``Idempotency-Key``, say).

The ledger reads a run's effect events once (one pass over the log, filtered by kind) and then
only what was appended since, so resuming a run of 10,000 completed steps reads its log once.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mapek.errors import IdempotencyKeyCollision, UserError
from mapek.knowledge.sqlite_log import SQLiteEventLog
from mapek.models import Event, EventDraft, canonical_json

if TYPE_CHECKING:
    from mapek.knowledge.base import KnowledgeBase

__all__ = [
    "ANSWERS",
    "EFFECT_KINDS",
    "Answer",
    "Done",
    "Effect",
    "Ledger",
    "accepts_key",
    "args_digest",
    "effect_key",
]

Answer = Literal["happened", "run"]
"""A human's answer for an effect in doubt: it happened (record it, do not run it) or run it."""
ANSWERS: tuple[str, ...] = ("happened", "run")

EFFECT_KINDS = ("effect.intent", "tool.call", "effect.in_doubt", "effect.resolved")
"""The log kinds the ledger reads."""


_FIELDS = ("key", "tool", "attempt", "args_digest", "idempotent", "node", "answer", "outcome",
           "output", "reason", "flagged", "args")
_SQL = ("SELECT seq, kind, key, json_extract(payload, "
        + ", ".join(f"'$.{f}'" for f in _FIELDS)
        + ") FROM events WHERE run_id = ? AND seq > ? AND kind IN (?, ?, ?, ?) ORDER BY seq")
"""Each effect event with the ledger's fields of its payload as one JSON array (SQLite parses
each payload once)."""
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=str).encode
"""``canonical_json`` without building an encoder per call (the same parameters)."""


def _plain(args: dict[str, Any]) -> Any:
    return json.loads(json.dumps(args, default=str))


def _canonical(obj: Any) -> str:
    """``canonical_json`` of the JSON form of ``obj`` (what the log keeps of it)."""
    try:
        return _ENCODE(obj)  # canonical_json's text for its JSON form, without a round trip
    except TypeError:  # keys that do not sort together (1 and "a"): as the log would keep them
        return canonical_json(_plain(obj))


def args_digest(args: dict[str, Any]) -> str:
    """sha256 of the arguments' canonical JSON (the form the log keeps)."""
    return hashlib.sha256(_canonical(args).encode()).hexdigest()


def effect_key(run_id: str, node_path: str, tool: str, args: dict[str, Any]) -> str:
    """The idempotency key of one call: sha256 over the canonical JSON of the run, the node path,
    the tool and its arguments. The same call at the same place of a run always gets the same
    key; nothing random goes in."""
    if not run_id or not node_path or not tool:
        raise UserError("an effect key needs a run id, a node path and a tool name")
    ident = {"run": run_id, "node": node_path, "tool": tool, "args": args}
    return hashlib.sha256(_canonical(ident).encode()).hexdigest()


def accepts_key(fn: Callable[..., Any]) -> bool:
    """Whether a tool's function takes an ``idempotency_key`` parameter."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "idempotency_key" in params


@dataclass(frozen=True)
class Done:
    """The result recorded under a key (the ``tool.call`` event's fields a caller gets back)."""

    seq: int
    outcome: str
    output: str = ""
    reason: str = ""
    flagged: bool = False


@dataclass
class Effect:
    """One key's story in the ledger."""

    key: str
    tool: str
    digest: str
    args_raw: Any = None
    """The arguments, or their JSON text as read (decoded when first asked for)."""
    node: str | None = None
    idempotent: bool = False
    attempts: int = 0
    """Intents recorded (attempt N's intent is ``key:intent:N``)."""
    done: Done | None = None
    """The result: the ``tool.call`` event under the key."""
    answers: dict[int, str] = field(default_factory=dict)
    """attempt -> a human's answer (``happened`` or ``run``)."""
    asked: set[int] = field(default_factory=set)
    """Attempts whose doubt was recorded (``effect.in_doubt``)."""

    @property
    def status(self) -> str:
        """``done``, ``in_doubt`` or ``new``."""
        if self.done is not None:
            return "done"
        return "in_doubt" if self.attempts else "new"

    @property
    def args(self) -> dict[str, Any]:
        if isinstance(self.args_raw, str):
            self.args_raw = json.loads(self.args_raw)
        return dict(self.args_raw or {})

    @property
    def answer(self) -> str | None:
        """The human's answer for the last attempt, if any."""
        return self.answers.get(self.attempts)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "tool": self.tool, "args": self.args, "node": self.node,
                "idempotent": self.idempotent, "attempts": self.attempts, "status": self.status,
                "answer": self.answer,
                "outcome": self.done.outcome if self.done else None}


class Ledger:
    """A run's effects, read from its log; records intents, doubts and answers."""

    def __init__(self, kb: KnowledgeBase, run_id: str, *,
                 lock: threading.Lock | None = None) -> None:
        self.kb, self.run_id = kb, run_id
        self._lock = lock or threading.Lock()
        self._effects: dict[str, Effect] = {}
        self._seen = 0
        self._loaded = False

    # -- reading -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Fold what the log holds past what was read (all of it the first time): one query
        on a SQLite log, where SQLite extracts the few fields the ledger needs from each
        payload, so a long run's payloads are never decoded in Python; any other log is read
        with ``events``."""
        run = getattr(self.kb.log, "_run", None)  # the SQLite log's own locked connection
        if isinstance(self.kb.log, SQLiteEventLog) and run is not None:
            rows = run(_SQL, (self.run_id, self._seen, *EFFECT_KINDS))
            loads, fold = json.loads, self._fold
            for seq, kind, evkey, values in rows:
                fold(seq, kind, evkey, dict(zip(_FIELDS, loads(values), strict=True)))
            last = rows[-1][0] if rows else None
        else:
            new = self.kb.events(self.run_id, after=self._seen, kinds=list(EFFECT_KINDS))
            for ev in new:
                self._fold(ev.seq, ev.kind, ev.key, ev.payload)
            last = new[-1].seq if new else None
        if last is not None:
            self._seen = max(self._seen, last)
        self._loaded = True

    def _fold(self, seq: int, kind: str, evkey: str | None, p: dict[str, Any]) -> None:
        """One effect event (its payload, or the fields of it the query extracted)."""
        if kind == "tool.call":
            if evkey is None or evkey.endswith(":output"):
                return
            e = self._effects.get(evkey)
            if e is None:  # a result with no intent (a read, a refusal): its digest from args
                args = p.get("args") or {}
                args = json.loads(args) if isinstance(args, str) else args
                e = self._entry(evkey, p.get("tool") or "", args_digest(args), args)
            e.done = Done(seq, p.get("outcome") or "", p.get("output") or "",
                          p.get("reason") or "", bool(p.get("flagged")))
            return
        key = p.get("key")
        if not isinstance(key, str):
            return
        if kind == "effect.intent":
            e = self._entry(key, p.get("tool") or "", p.get("args_digest") or "", p.get("args"))
            e.attempts = max(e.attempts, int(p.get("attempt") or 1))
            e.node, e.idempotent = p.get("node"), bool(p.get("idempotent"))
        elif key in self._effects and kind == "effect.in_doubt":
            self._effects[key].asked.add(int(p.get("attempt") or 0))
        elif key in self._effects and kind == "effect.resolved" and \
                p.get("answer") in ANSWERS:
            self._effects[key].answers.setdefault(int(p.get("attempt") or 0), p["answer"])

    def _entry(self, key: str, tool: str, digest: str, args: Any) -> Effect:
        e = self._effects.get(key)
        if e is None:
            e = self._effects[key] = Effect(key, tool, digest, args)
        return e

    def get(self, key: str) -> Effect | None:
        """The key's effect, as of the log now. A done effect stays done, so it is answered
        from memory; anything else reads what the log gained since (a human's answer, say)."""
        e = self._effects.get(key) if self._loaded else None
        if e is None or e.done is None:
            self.refresh()
            e = self._effects.get(key)
        return e

    def lookup(self, key: str, tool: str, args: dict[str, Any]) -> Effect | None:
        """The key's effect; :class:`IdempotencyKeyCollision` when the key was recorded for
        another tool or other arguments."""
        e = self.get(key)
        if e is not None and (e.tool != tool or e.digest != args_digest(args)):
            raise IdempotencyKeyCollision(key, tool=tool, recorded_tool=e.tool,
                                          digest=args_digest(args), recorded_digest=e.digest)
        return e

    def effects(self) -> list[Effect]:
        """Every effect of the run, in the order first seen."""
        self.refresh()
        return list(self._effects.values())

    def in_doubt(self) -> list[Effect]:
        """Effects with an intent and no result."""
        return [e for e in self.effects() if e.status == "in_doubt"]

    # -- writing -----------------------------------------------------------------------------

    def _append(self, kind: str, actor: str, payload: dict[str, Any], key: str) -> Event:
        with self._lock:
            ev = self.kb.append(EventDraft(run_id=self.run_id, kind=kind, actor=actor,
                                           payload=payload, key=key))
        self._fold(ev.seq, ev.kind, ev.key, ev.payload)
        return ev

    def intend(self, key: str, tool: str, args: dict[str, Any], *, actor: str,
               effect: str = "", idempotent: bool = False, node: str | None = None) -> Event:
        """Record the intent of the next attempt, before the call."""
        e = self.lookup(key, tool, args)
        attempt = (e.attempts if e else 0) + 1
        return self._append("effect.intent", actor, {
            "key": key, "attempt": attempt, "tool": tool, "effect": effect, "node": node,
            "args": _plain(args), "args_digest": args_digest(args), "idempotent": idempotent},
            f"{key}:intent:{attempt}")

    def doubt(self, key: str, message: str) -> Event:
        """Record (once per attempt) that the key's last attempt is in doubt and waits for a
        human."""
        e = self._known(key)
        return self._append("effect.in_doubt", "ledger", {
            "key": e.key, "attempt": e.attempts, "tool": e.tool, "args": e.args, "node": e.node,
            "message": message}, f"{e.key}:doubt:{e.attempts}")

    def resolve(self, key: str, answer: str, *, by: str = "human", note: str = "") -> Event:
        """Record a human's answer for the key's last attempt: ``happened`` or ``run``."""
        if answer not in ANSWERS:
            raise UserError(f"an effect in doubt is answered 'happened' or 'run'; got {answer!r}")
        e = self._known(key)
        if e.status != "in_doubt":
            raise UserError(f"effect {key[:16]} of run {self.run_id} is {e.status}, not in "
                            "doubt: there is nothing to answer")
        return self._append("effect.resolved", by, {
            "key": e.key, "attempt": e.attempts, "answer": answer, "tool": e.tool, "note": note},
            f"{e.key}:resolved:{e.attempts}")

    def _known(self, key: str) -> Effect:
        e = self.get(key)
        if e is None:
            matches = [k for k in self._effects if k.startswith(key)] if len(key) >= 8 else []
            if len(matches) == 1:
                return self._effects[matches[0]]
            raise UserError(f"no effect {key!r} in run {self.run_id}"
                            + (" (the prefix is ambiguous)" if len(matches) > 1 else ""))
        return e
