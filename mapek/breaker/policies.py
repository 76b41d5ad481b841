"""Breaker policies: what the watchdog checks on every event and on every clock tick.

A policy file (``knowledge/policies/<name>.yaml``, or any path) is a :class:`PolicySpec`; a spec
may ``extends`` another preset and is overridden per session (the limits a session was created
with, ``--raise`` after a review). :func:`build_policies` turns a spec into :class:`Policy`
objects; each reads a :class:`BreakerFold`, a small fold over the run's events updated in O(1)
per event (the run's own figures come from :class:`mapek.fold.RunFold`), and returns a
:class:`Breach` or None::

    spec = load_policy("default").merged({"max_tokens": 50_000})
    fold, policies = BreakerFold(spec), build_policies(spec)
    for ev in events:
        fold.apply(ev)
        breach = first_breach(policies, fold, ev, time.time())
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mapek._resources import data_dir
from mapek.bounds import (
    MAX_COUNT,
    MAX_DEPTH,
    MAX_ESCALATIONS,
    MAX_SECONDS,
    MAX_TOKENS,
    MAX_TURNS,
    MAX_USD,
)
from mapek.errors import ConfigError
from mapek.events import (
    FINAL_KINDS,
    BreakerOverride,
    EvidenceRejected,
    LLMCall,
    Message,
    ObserverAnalysis,
    QuestionEscalated,
    ToolCall,
    typed,
    typed_as,
)
from mapek.fold import RunFold
from mapek.models import GENESIS_HASH, Event, canonical_json
from mapek.safety.grants import ProvenanceBook, resource_key

__all__ = [
    "Breach", "PolicySpec", "WindowSpec", "NoProgressSpec", "NotifySpec", "BreakerFold", "Policy",
    "load_policy", "build_policies", "first_breach", "policy_dir", "LIMIT_NAMES",
]


LIMIT_NAMES = {"time": "time_limit", "tokens": "max_tokens", "usd": "max_usd",
               "turns": "max_turns", "depth": "max_depth", "escalations": "max_escalations"}
"""Names accepted by ``--raise NAME=VALUE``, and the spec field each one raises."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WindowSpec(_Strict):
    """A sliding-window rate breaker over ``llm.call`` and ``tool.call`` outcomes (closed, open,
    half-open, as in Hystrix and resilience4j)."""

    threshold: float = Field(default=0.5, ge=0, le=1, allow_inf_nan=False)
    """Trip when this share of the calls in the window failed (or were slow)."""
    window: int = Field(default=20, ge=1, le=MAX_COUNT)
    """Calls in the sliding window."""
    min_calls: int = Field(default=5, ge=1, le=MAX_COUNT)
    """No verdict before this many calls are in the window."""
    trial_calls: int = Field(default=3, ge=0, le=MAX_COUNT)
    """After a resume (half-open), this many calls must succeed; one failure trips again."""
    slow_ms: float = Field(default=60_000, ge=0, le=MAX_SECONDS * 1000, allow_inf_nan=False)
    """A call slower than this counts as slow (slow-call rate only)."""


class NoProgressSpec(_Strict):
    """Loops that go nowhere. A value of 0 turns that check off."""

    same_tool_call: int = Field(default=3, ge=0, le=MAX_COUNT)
    """Trip when one tool is called with the same arguments this many times."""
    same_message: int = Field(default=3, ge=0, le=MAX_COUNT)
    """Trip when the same message text is said this many times."""
    idle_rounds: int = Field(default=5, ge=0, le=MAX_COUNT)
    """Trip after this many consecutive ``observer.analysis`` rounds in which nothing changed."""


class WebhookSpec(_Strict):
    url: str
    timeout: float = Field(default=5.0, gt=0, le=MAX_SECONDS, allow_inf_nan=False)
    headers: dict[str, str] = Field(default_factory=dict)


class CommandSpec(_Strict):
    argv: list[str] = Field(min_length=1)
    """The command and its arguments; the trip arrives as JSON on stdin."""
    timeout: float = Field(default=10.0, gt=0, le=MAX_SECONDS, allow_inf_nan=False)


class EmailSpec(_Strict):
    host: str
    port: int = Field(default=25, ge=1, le=65535)
    sender: str
    to: list[str] = Field(min_length=1)
    timeout: float = Field(default=10.0, gt=0, le=MAX_SECONDS, allow_inf_nan=False)
    starttls: bool = False
    username: str | None = None
    password_env: str | None = None
    """Name of an environment variable holding the password (never the password itself)."""


class NotifySpec(_Strict):
    """Who hears about a trip, besides the terminal (which reads it from the log)."""

    webhook: WebhookSpec | None = None
    command: CommandSpec | None = None
    email: EmailSpec | None = None


class PolicySpec(_Strict):
    """One policy file. Every limit is optional (None: not checked) and never negative."""

    extends: str | None = None
    """A preset (or file) this one overrides."""
    description: str = ""
    time_limit: float | None = Field(default=None, ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    """Seconds of wall-clock time the run's workers may be alive, summed over resumes."""
    max_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS)
    """Tokens over every ``llm.call``."""
    max_usd: float | None = Field(default=None, ge=0, le=MAX_USD, allow_inf_nan=False)
    """Cost over every ``llm.call``."""
    max_turns: int | None = Field(default=None, ge=0, le=MAX_TURNS)
    """``message`` events."""
    max_depth: int | None = Field(default=None, ge=0, le=MAX_DEPTH)
    """Nesting of plans and tool calls (parent links, or a payload ``depth``)."""
    max_escalations: int | None = Field(default=None, ge=0, le=MAX_ESCALATIONS)
    """Questions put to the human (``question.escalated``)."""
    forbid_effects: list[Literal["read", "write", "destructive", "external"]] = Field(
        default_factory=list)
    """Effect classes that may never run."""
    forbid_tools: list[str] = Field(default_factory=list)
    """Tools that may never run."""
    protect_human_created: bool = True
    """Trip on a destructive action against something a human created."""
    error_rate: WindowSpec | None = None
    slow_rate: WindowSpec | None = None
    no_progress: NoProgressSpec | None = None
    integrity: bool = True
    """Check the hash chain of every event read; a broken chain trips."""
    evidence: bool = True
    """Trip on ``evidence.rejected``: an agent handed on a verdict its evidence does not bear
    out (:mod:`mapek.evidence`); proof of work is checked, so the run stops there."""
    grace: float = Field(default=2.0, ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    """Seconds between SIGTERM and SIGKILL."""
    tick: float = Field(default=0.1, gt=0, le=5, allow_inf_nan=False)
    """Seconds between clock checks when no event arrives."""
    notify: NotifySpec = Field(default_factory=NotifySpec)
    disabled: list[str] = Field(default_factory=list)
    """Policies switched off (logged by ``breaker.override``)."""
    screening: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """What a failed screening check does, per check (plan, call, output, human): read by the
    worker, not the watchdog (:class:`mapek.safety.policy.ScreeningPolicy`)."""

    @field_validator("screening")
    @classmethod
    def _screening(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from mapek.safety.policy import ScreeningPolicy

        try:
            ScreeningPolicy.from_dict(v)
        except ConfigError as exc:
            raise ValueError(str(exc).removeprefix("screening.")) from None
        return v

    def merged(self, overrides: dict[str, Any], *, source: str = "overrides") -> PolicySpec:
        """This spec with ``overrides`` laid over it (nested tables merged key by key)."""
        return _validate(_deep_merge(self.model_dump(exclude_unset=False), overrides), source)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _validate(data: dict[str, Any], source: str) -> PolicySpec:
    try:
        return PolicySpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(file)"
        msg = "unknown key" if err["type"] == "extra_forbidden" else \
            err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"policy {source}: {where}: {msg}") from None


def policy_dir() -> Path:
    """The folder of packaged presets."""
    return data_dir("knowledge") / "policies"


def _resolve(name: str) -> Path:
    path = Path(name).expanduser()
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise ConfigError(f"policy file {path} does not exist")
        return path
    preset = policy_dir() / f"{name}.yaml"
    if not preset.is_file():
        known = sorted(p.stem for p in policy_dir().glob("*.yaml"))
        raise ConfigError(f"no policy preset {name!r} (presets: {', '.join(known)})")
    return preset


def _raw(name: str, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    import yaml

    from mapek.inputs import NESTED, read_utf8

    _YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # noqa: N806 - a class

    path = _resolve(name)
    if path in seen:
        raise ConfigError(f"policy {path}: extends loops back to itself")
    try:
        data = yaml.load(read_utf8(path), Loader=_YAML_LOADER) or {}
    except ValueError as exc:  # not readable, not UTF-8
        raise ConfigError(f"policy {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"policy {path}: not valid YAML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"policy {path}: not valid YAML: {NESTED}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"policy {path}: must be a mapping of settings")
    _validate(data, str(path))  # names the file and field of the first bad entry
    parent = data.get("extends")
    if parent:
        return _deep_merge(_raw(parent, (*seen, path)), {**data, "extends": None})
    return data


def load_policy(name: str | Path = "default", overrides: dict[str, Any] | None = None
                ) -> PolicySpec:
    """A preset name (``default``, ``strict``) or a YAML file, with ``overrides`` laid over it.
    A bad file raises :class:`ConfigError` naming the file and field."""
    spec = _validate(_raw(str(name)), str(name))
    return spec.merged(overrides) if overrides else spec


class Breach(BaseModel):
    """Why the breaker trips: recorded in ``breaker.tripped``."""

    model_config = ConfigDict(frozen=True)

    policy: str
    threshold: Any
    observed: Any
    seqs: list[int] = Field(default_factory=list)
    """The events that caused it (the last ones, when many contributed)."""
    reason: str


# -- the fold -----------------------------------------------------------------------------------

_TOOL_KINDS = frozenset({"tool.call", "tool.intent", "tool.requested"})
_ACTION_KINDS = frozenset({"plan", *_TOOL_KINDS})
_OWN_KINDS = frozenset({"breaker.override", "observer.analysis", "resource.registered",
                        *_TOOL_KINDS})
"""Kinds the breaker reads beyond those the run's fold reads."""
_RECENT = 5


def _target(p: dict[str, Any]) -> str | None:
    args: dict[str, Any] = p["args"] if isinstance(p.get("args"), dict) else {}
    for src in (p, args):
        for k in ("target", "resource", "path", "name", "id"):
            v = src.get(k)
            if isinstance(v, str) and v:
                return v
    return None


@dataclass
class _Window:
    """Sliding window of call outcomes; counts kept incrementally."""

    size: int
    calls: deque[tuple[int, bool, bool]] = field(default_factory=deque)
    failed: int = 0
    slow: int = 0

    def add(self, seq: int, failed: bool, slow: bool) -> None:
        self.calls.append((seq, failed, slow))
        self.failed += failed
        self.slow += slow
        if len(self.calls) > self.size:
            _, f, s = self.calls.popleft()
            self.failed -= f
            self.slow -= s

    def clear(self) -> None:
        self.calls.clear()
        self.failed = self.slow = 0


@dataclass
class BreakerFold:
    """What the policies need to know about a run, updated in O(1) per event: the run's own
    figures (tokens, cost, turns, escalations: :class:`~mapek.fold.RunFold`, the fold every
    front end reads) and the breaker's (the hash chain, worker time, call windows, repeats,
    depth, provenance, overrides, the circuit)."""

    spec: PolicySpec
    run: RunFold = field(default_factory=RunFold)
    """The run's figures."""
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    broken: tuple[int, str] | None = None
    """The first event that breaks the hash chain, and how."""
    active_before: float = 0.0
    """Seconds of worker time before the current worker started."""
    segment_start: float | None = None
    last_ts: float | None = None
    max_depth: int = 0
    depth_seq: int = 0
    spend_seqs: deque[int] = field(default_factory=lambda: deque(maxlen=_RECENT))
    turn_seqs: deque[int] = field(default_factory=lambda: deque(maxlen=_RECENT))
    escalation_seqs: deque[int] = field(default_factory=lambda: deque(maxlen=_RECENT))
    depths: dict[int, int] = field(default_factory=dict)
    tool_calls: dict[str, list[int]] = field(default_factory=dict)
    messages: dict[str, list[int]] = field(default_factory=dict)
    idle_rounds: list[int] = field(default_factory=list)
    provenance: ProvenanceBook = field(default_factory=ProvenanceBook)
    """Who created each resource: the tool gateway's book (:mod:`mapek.safety.grants`), folded
    from this run's ``resource.registered`` and ``tool.call`` events."""
    raised: dict[str, float] = field(default_factory=dict)
    """Limits raised by ``breaker.override`` (spec field -> new value)."""
    disabled: set[str] = field(default_factory=set)
    forced: Event | None = None
    """A ``breaker.override`` that forced the circuit open and has not tripped yet."""
    circuit: Literal["closed", "open", "half_open"] = "closed"
    trial_left: int = 0
    final: bool = False
    """The run's current worker has recorded its last event (finished, stopped, ...)."""
    windows: dict[str, _Window] = field(default_factory=dict)
    last_event: Event | None = None

    def __post_init__(self) -> None:
        for name in ("error_rate", "slow_rate"):
            w: WindowSpec | None = getattr(self.spec, name)
            if w is not None:
                self.windows[name] = _Window(w.window)
        self.disabled |= set(self.spec.disabled)

    # The run's figures the limits read.
    @property
    def tokens(self) -> int:
        return self.run.spend.tokens

    @property
    def usd(self) -> float:
        return self.run.spend.usd

    @property
    def turns(self) -> int:
        return self.run.turns

    @property
    def escalations(self) -> int:
        """Questions put to the human (``max_escalations`` counts these)."""
        return self.run.questions_escalated

    @property
    def trips(self) -> int:
        return len(self.run.trips)

    @property
    def worker_pid(self) -> int | None:
        return self.run.worker_pid

    def limit(self, name: str) -> Any:
        """A spec limit, as raised after a review."""
        return self.raised.get(name, getattr(self.spec, name))

    def elapsed(self, now: float) -> float:
        """Worker seconds so far, summed over every worker of the run."""
        if self.segment_start is None or self.final:
            return self.active_before
        return self.active_before + max(0.0, now - self.segment_start)

    def apply(self, ev: Event) -> None:
        if self.spec.integrity and self.broken is None:
            self._check_link(ev)
        self.last_seq, self.last_hash, self.last_event = ev.seq, ev.hash, ev
        k = ev.kind
        p = self.run.add(ev)
        if p is None and k in _OWN_KINDS:
            p = typed(ev)
        if k == "worker.started":
            if self.segment_start is not None and self.last_ts is not None and not self.final:
                self.active_before += max(0.0, self.last_ts - self.segment_start)
            self.segment_start, self.final = ev.ts, False
            if self.circuit == "open":  # a resume after a trip: the trial starts
                self.circuit = "half_open"
                self.trial_left = max((w.trial_calls for w in
                                       (self.spec.error_rate, self.spec.slow_rate) if w), default=0)
                for w in self.windows.values():
                    w.clear()
                if not self.trial_left:
                    self.circuit = "closed"
        elif k in FINAL_KINDS:
            if self.segment_start is not None and not self.final:
                self.active_before += max(0.0, ev.ts - self.segment_start)
            self.final = True
        elif k == "breaker.tripped":
            self.circuit, self.forced = "open", None
            if self.segment_start is not None and not self.final:
                self.active_before += max(0.0, ev.ts - self.segment_start)
            self.final = True
        elif isinstance(p, BreakerOverride):
            self._override(ev, p)
        elif isinstance(p, LLMCall):
            self.spend_seqs.append(ev.seq)
            self._call(ev, p.failed, p.latency_ms)
        elif k == "message":
            self.turn_seqs.append(ev.seq)
            if ev.actor != "human":
                text = _said(p.text if isinstance(p, Message) else ev.text)
                if text:
                    self.messages.setdefault(text, []).append(ev.seq)
        elif isinstance(p, QuestionEscalated):
            self.escalation_seqs.append(ev.seq)
        elif isinstance(p, ObserverAnalysis):
            if p.new_claims or p.changed_positions:
                self.idle_rounds = []
            else:
                self.idle_rounds.append(ev.seq)
        if k in _TOOL_KINDS and p is not None:
            call = p if isinstance(p, ToolCall) else None
            if call is not None:
                self._call(ev, call.outcome == "error", call.latency_ms)
                self.tool_calls.setdefault(_call_key(call.tool, call.args), []).append(ev.seq)
            target = _target(ev.payload)
            if ev.actor == "human" and target and p.get("effect") in ("write", None):
                self.provenance.created_by[resource_key(target)] = "human"
            if call is not None:
                # The gateway's own provenance record (from the log, never from the arguments):
                # the owner it found, and what the call created or removed.
                if call.owner == "human" and call.resource:
                    self.provenance.created_by[resource_key(call.resource)] = "human"
                self.provenance.fold([ev])
        elif k == "resource.registered":
            self.provenance.fold([ev])  # only a human's registration counts (as in the gateway)
        if k in _ACTION_KINDS:
            depth = _int(ev.payload.get("depth"))
            if ev.parent is not None:
                depth = max(depth, self.depths.get(ev.parent, 0) + 1)
            self.depths[ev.seq] = depth
            if depth > self.max_depth:
                self.max_depth, self.depth_seq = depth, ev.seq
        if self.last_ts is None or ev.ts > self.last_ts:
            self.last_ts = ev.ts

    def _check_link(self, ev: Event) -> None:
        if ev.seq != self.last_seq + 1:
            self.broken = (self.last_seq + 1, f"event #{self.last_seq + 1} is missing "
                                              f"(the next is #{ev.seq})")
        elif ev.prev_hash != self.last_hash:
            self.broken = (ev.seq, "its prev_hash does not link to the event before it")
        elif ev.compute_hash() != ev.hash:
            self.broken = (ev.seq, "its content does not match its hash")

    def _call(self, ev: Event, failed: bool, latency: float) -> None:
        for name, w in self.windows.items():
            spec: WindowSpec = getattr(self.spec, name)
            slow = latency > spec.slow_ms
            w.add(ev.seq, failed, slow)
        if self.circuit == "half_open" and self.trial_left > 0:
            self.trial_left -= 1
            if self.trial_left == 0 and not failed:
                self.circuit = "closed"

    def _override(self, ev: Event, p: BreakerOverride) -> None:
        for name, value in p.raise_limits.items():
            self.raised[LIMIT_NAMES.get(name, name)] = value
        self.disabled |= set(p.disable)
        self.disabled -= set(p.enable)
        if p.force_open:
            self.forced = ev
        if p.reset_windows:
            for w in self.windows.values():
                w.clear()


def _said(text: str) -> str:
    """A message's text as repetition compares it (case and spacing ignored)."""
    return " ".join(text.lower().split())


def _call_key(tool: Any, args: Any) -> str:
    return f"{tool}:{canonical_json(args if args is not None else {})}"


def _int(v: Any) -> int:
    try:
        return int(v or 0)
    except (TypeError, ValueError):
        return 0


# -- policies -----------------------------------------------------------------------------------


class Policy(ABC):
    """One check. ``event`` is the event just folded in, or None on a clock tick."""

    name: str = "policy"

    @abstractmethod
    def evaluate(self, state: BreakerFold, event: Event | None, now: float) -> Breach | None:
        """A breach, or None."""


class _Limit(Policy):
    """An observed total against a spec limit; trips when it goes over. Checked on events and
    on clock ticks alike (a limit raised or reached while replaying history shows at once)."""

    def __init__(self, name: str, field_name: str, observe: Any, seqs: Any, unit: str) -> None:
        self.name, self.field_name, self.unit = name, field_name, unit
        self._observe, self._seqs = observe, seqs

    def evaluate(self, state: BreakerFold, event: Event | None, now: float) -> Breach | None:
        limit = state.limit(self.field_name)
        if limit is None:
            return None
        observed = self._observe(state, now)
        if observed <= limit:
            return None
        shown = round(observed, 6) if isinstance(observed, float) else observed
        return Breach(policy=self.name, threshold=limit, observed=shown,
                      seqs=list(self._seqs(state)),
                      reason=f"{self.name}: {_fmt(shown)} {self.unit} > limit {_fmt(limit)}")


def _fmt(x: Any) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:,.6g}" if isinstance(x, float) else str(x)


class ForbiddenAction(Policy):
    name = "forbidden_action"

    def evaluate(self, state: BreakerFold, event: Event | None, now: float) -> Breach | None:
        if event is None or event.kind not in _TOOL_KINDS:
            return None
        p, spec = typed(event), state.spec
        tool, effect = p.get("tool"), p.get("effect")
        if tool in spec.forbid_tools:
            return Breach(policy=self.name, threshold=spec.forbid_tools, observed=tool,
                          seqs=[event.seq], reason=f"tool {tool!r} may never run")
        if effect in spec.forbid_effects:
            return Breach(policy=self.name, threshold=spec.forbid_effects, observed=effect,
                          seqs=[event.seq],
                          reason=f"{tool!r} has effect {effect!r}, which may never run")
        return None


class HumanCreated(Policy):
    name = "human_created"

    def evaluate(self, state: BreakerFold, event: Event | None, now: float) -> Breach | None:
        if event is None or event.kind not in _TOOL_KINDS or not state.spec.protect_human_created:
            return None
        p = typed(event)
        target = _target(event.payload)
        if p.get("effect") == "destructive" and event.actor != "human" and target and (
                p.get("owner") == "human" or state.provenance.owner(target) == "human"):
            return Breach(policy=self.name, threshold="no deletion of what a human created",
                          observed=target, seqs=[event.seq],
                          reason=f"{event.actor} ran destructive {p.get('tool')!r} on "
                                 f"{target!r}, which a human created")
        return None


class RateBreaker(Policy):
    """Error rate or slow-call rate over the sliding window, with a half-open trial."""

    def __init__(self, name: str) -> None:
        self.name = name

    def evaluate(self, state: BreakerFold, event: Event | None, now: float) -> Breach | None:
        if event is None or event.kind not in ("llm.call", "tool.call"):
            return None
        spec: WindowSpec = getattr(state.spec, self.name)
        w = state.windows[self.name]
        bad = w.failed if self.name == "error_rate" else w.slow
        what = "failed" if self.name == "error_rate" else "slow"
        last = w.calls[-1] if w.calls else None
        if state.circuit == "half_open" and last is not None and last[0] == event.seq and (
                last[1] if self.name == "error_rate" else last[2]):
            return Breach(policy=self.name, threshold=f"{spec.trial_calls} trial calls",
                          observed=f"a {what} call in the half-open trial", seqs=[event.seq],
                          reason=f"{self.name}: a call {what} during the half-open trial")
        if len(w.calls) < spec.min_calls:
            return None
        rate = bad / len(w.calls)
        if rate < spec.threshold or bad == 0:
            return None
        seqs = [s for s, f, sl in w.calls if (f if self.name == "error_rate" else sl)]
        return Breach(policy=self.name, threshold=spec.threshold, observed=round(rate, 3),
                      seqs=seqs[-_RECENT:],
                      reason=f"{self.name}: {bad}/{len(w.calls)} recent calls {what} "
                             f"({rate:.0%} >= {spec.threshold:.0%})")


class Repetition(Policy):
    """The same tool call, or the same message, said too many times."""

    def __init__(self, name: str, attr: str, setting: str, what: str) -> None:
        self.name, self.attr, self.setting, self.what = name, attr, setting, what

    def evaluate(self, state: BreakerFold, event: Event | None, now: float) -> Breach | None:
        if event is None or state.spec.no_progress is None:
            return None
        n = getattr(state.spec.no_progress, self.setting)
        if not n:
            return None
        call = typed_as(event, ToolCall) if self.attr == "tool_calls" else None
        if call is not None:
            seqs = state.tool_calls.get(_call_key(call.tool, call.args))
        elif self.attr == "messages" and event.kind == "message" and event.actor != "human":
            said = typed_as(event, Message)
            seqs = state.messages.get(_said(said.text if said is not None else event.text))
        else:
            return None
        if not seqs or len(seqs) < n:
            return None
        return Breach(policy=self.name, threshold=n, observed=len(seqs), seqs=seqs[-_RECENT:],
                      reason=f"{self.name}: the same {self.what} {len(seqs)} times")


class IdleRounds(Policy):
    name = "no_progress"

    def evaluate(self, state: BreakerFold, event: Event | None, now: float) -> Breach | None:
        spec = state.spec.no_progress
        if event is None or event.kind != "observer.analysis" or spec is None \
                or not spec.idle_rounds or len(state.idle_rounds) < spec.idle_rounds:
            return None
        n = len(state.idle_rounds)
        return Breach(policy=self.name, threshold=spec.idle_rounds, observed=n,
                      seqs=state.idle_rounds[-_RECENT:],
                      reason=f"no_progress: {n} rounds in a row with no new claim and no "
                             "changed position")


class Integrity(Policy):
    name = "integrity"

    def evaluate(self, state: BreakerFold, event: Event | None, now: float) -> Breach | None:
        if state.broken is None:
            return None
        seq, problem = state.broken
        return Breach(policy=self.name, threshold="an unbroken hash chain",
                      observed=f"#{seq}: {problem}", seqs=[seq],
                      reason=f"the log's hash chain is broken at #{seq}: {problem}")


class Forced(Policy):
    name = "forced_open"

    def evaluate(self, state: BreakerFold, event: Event | None, now: float) -> Breach | None:
        ev = state.forced
        if ev is None:
            return None
        why = typed(ev).get("reason") or ""
        return Breach(policy=self.name, threshold="forced open", observed=ev.actor,
                      seqs=[ev.seq], reason=f"forced open by {ev.actor}: {why}".rstrip(": "))


class RejectedEvidence(Policy):
    name = "evidence"

    def evaluate(self, state: BreakerFold, event: Event | None, now: float) -> Breach | None:
        if event is None or event.kind != "evidence.rejected" or not state.spec.evidence:
            return None
        p = typed_as(event, EvidenceRejected) or EvidenceRejected()
        reasons = p.reasons
        task = p.task if isinstance(p.task, dict) else {"type": p.task}
        return Breach(policy=self.name, threshold="evidence that bears out the verdict",
                      observed=f"{len(reasons)} failed check(s)",
                      seqs=[event.seq, *p.events][:20],
                      reason=f"{p.producer or event.actor}'s envelope for "
                             f"{task.get('type', '?')} {task.get('id', '')} was rejected: "
                             + ("; ".join(map(str, reasons[:3])) or "see the event"))


def build_policies(spec: PolicySpec) -> list[Policy]:
    """Every check the spec asks for, cheapest and most urgent first."""
    out: list[Policy] = [Forced()]
    if spec.integrity:
        out.append(Integrity())
    out += [
        _Limit("time", "time_limit", lambda s, now: s.elapsed(now), lambda s: [s.last_seq],
               "s"),
        _Limit("tokens", "max_tokens", lambda s, now: s.tokens, lambda s: s.spend_seqs, "tokens"),
        _Limit("cost", "max_usd", lambda s, now: s.usd, lambda s: s.spend_seqs, "USD"),
        _Limit("turns", "max_turns", lambda s, now: s.turns, lambda s: s.turn_seqs, "turns"),
        _Limit("depth", "max_depth", lambda s, now: s.max_depth, lambda s: [s.depth_seq],
               "levels"),
        _Limit("escalations", "max_escalations", lambda s, now: s.escalations,
               lambda s: s.escalation_seqs, "escalations"),
        ForbiddenAction(), HumanCreated(), RejectedEvidence(),
    ]
    out += [RateBreaker(n) for n in ("error_rate", "slow_rate") if getattr(spec, n) is not None]
    if spec.no_progress is not None:
        out += [Repetition("repeated_tool_call", "tool_calls", "same_tool_call", "tool call"),
                Repetition("repeated_message", "messages", "same_message", "message"),
                IdleRounds()]
    return out


def first_breach(policies: list[Policy], state: BreakerFold, event: Event | None,
                 now: float | None = None) -> Breach | None:
    """The first policy (not disabled) that is breached, or None."""
    now = time.time() if now is None else now
    for pol in policies:
        if pol.name in state.disabled:
            continue
        breach = pol.evaluate(state, event, now)
        if breach is not None:
            return breach
    return None
