"""Proof of work: a verdict travels with its evidence, and the receiver checks it.

::

    producer (an agent's harness)                 receiver (the next step's gate)
    EvidenceCollector                              EvidenceChecker.check(envelope)
    ├─ call tools through the ToolGateway          ├─ signature: HMAC-SHA256, this run's key
    │   (each ``tool.call`` seq is cited,          ├─ run and task: no replay from elsewhere
    │    each output's sha256 kept)                ├─ requirement of the task type (YAML):
    ├─ digests of the inputs worked on             │   metric bounds of a ``continue`` verdict
    └─ seal(verdict, metrics) -> Envelope          ├─ the log: cited seqs are this run's ok
        signed with runs/<run>/evidence.key        │   ``tool.call``s by the producer, and the
                                                   │   metrics agree with what they returned
                                                   ├─ consequential: a k-of-n Quorum of
                                                   │   verifiers; disagreement -> the human
                                                   └─ ``evidence.accepted`` / ``evidence.rejected``

The signature proves the envelope was sealed by this run's harness and not changed since; the log
checks prove its numbers are the ones the tools produced. A producer cannot talk its way past
either: a hollow success (nothing scanned, zero coverage) fails the requirement, a claim the log
does not show fails the log check, and both stop the circuit with the reasons recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mapek._keyfile import create_key_file, read_key_file
from mapek.errors import ConfigError, EvidenceError, EvidenceRejected
from mapek.inputs import NESTED, not_utf8, read_utf8
from mapek.models import Event, EventDraft, canonical_json

if TYPE_CHECKING:
    from mapek.config import Workspace
    from mapek.loop.human import HumanChannel
    from mapek.safety.gateway import CallResult, ToolGateway

__all__ = [
    "Decision", "TaskRef", "Verdict", "Metrics", "Envelope", "sha256_hex", "run_key",
    "key_path", "load_envelope", "MetricBound", "LogRule", "Requirement", "Requirements",
    "requirements_dir", "EvidenceCollector", "CheckResult", "EvidenceChecker", "Vote",
    "Verifier", "FunctionVerifier", "LogVerifier", "RecheckVerifier", "ModelVerifier",
    "Quorum", "QuorumOutcome",
]

Decision = Literal["continue", "stop"]
"""``continue``: the next step may go ahead. ``stop``: it must not."""

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_TOLERANCE = 1e-6
"""Absolute slack when a float metric is compared with what the log shows."""
_CLOCK_SKEW = 5.0
"""Seconds an envelope's ``created_at`` may precede the events it cites (clock jitter)."""


def sha256_hex(data: bytes | str) -> str:
    """The sha256 digest of bytes (or UTF-8 text), as hex."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


# -- the envelope ------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskRef(_Strict):
    """Which task the envelope is evidence for."""

    type: str = Field(pattern=r"^[a-z][a-z0-9_.-]*$")
    """The task type: names the requirement it is checked against (``security_audit``)."""
    id: str = Field(min_length=1)
    """This task's id within the run (``scan-1``)."""

    def __str__(self) -> str:
        return f"{self.type}:{self.id}"


class Verdict(_Strict):
    """The producer's flag, and why."""

    decision: Decision
    detail: str = ""


class Metrics(BaseModel):
    """What the work examined. The five standard metrics, plus task-specific numbers as extra
    fields (``files_total``). Every value is a finite number >= 0; ``coverage`` is 0..1."""

    model_config = ConfigDict(extra="allow", frozen=True)

    items_examined: int | None = Field(default=None, ge=0)
    """Files scanned, rows checked, modules tested."""
    coverage: float | None = Field(default=None, ge=0.0, le=1.0)
    """Share of what should have been examined that was (0..1)."""
    rules_run: int | None = Field(default=None, ge=0)
    """Rules, checks or tests executed."""
    errors: int | None = Field(default=None, ge=0)
    """Errors found (for a security scan: high-severity findings)."""
    warnings: int | None = Field(default=None, ge=0)
    """Warnings raised."""

    @model_validator(mode="after")
    def _numbers(self) -> Metrics:
        for name, value in (self.model_extra or {}).items():
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"metric name {name!r} must be lower_snake_case")
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or value < 0:
                raise ValueError(f"metric {name!r} must be a finite number >= 0, got {value!r}")
        return self

    def get(self, name: str) -> float | None:
        """A metric's value, or None when it was not reported."""
        value = getattr(self, name, None) if name in type(self).model_fields \
            else (self.model_extra or {}).get(name)
        return None if value is None else value

    def reported(self) -> dict[str, float]:
        """The metrics that were reported."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Envelope(_Strict):
    """A verdict with its evidence, signed with the run's key (HMAC-SHA256 over the canonical
    JSON of every other field)."""

    run_id: str = Field(min_length=1)
    producer: str = Field(min_length=1)
    """The actor whose tool calls produced it (the ``actor`` of the cited ``tool.call``s)."""
    task: TaskRef
    verdict: Verdict
    metrics: Metrics
    inputs: dict[str, str] = Field(default_factory=dict)
    """Name -> sha256 hex of each input worked on (a file's bytes, say)."""
    outputs: dict[str, str] = Field(default_factory=dict)
    """Name -> sha256 hex of each output (each cited tool call's output, a report)."""
    events: list[int] = Field(default_factory=list)
    """The seqs of the ``tool.call`` events that did the work, in this run."""
    created_at: float
    signature: str = ""
    """Hex HMAC-SHA256 of :meth:`body`; empty until sealed."""

    @field_validator("inputs", "outputs")
    @classmethod
    def _digests(cls, v: dict[str, str]) -> dict[str, str]:
        for name, digest in v.items():
            if not _HEX64.match(digest):
                raise ValueError(f"{name!r}: not a sha256 hex digest")
        return v

    def body(self) -> dict[str, Any]:
        """Everything signed: all fields but the signature, as JSON data."""
        data = self.model_dump(mode="json", exclude={"signature"})
        data["metrics"] = self.metrics.reported()
        return data

    def canonical(self) -> bytes:
        return canonical_json(self.body()).encode()

    @property
    def digest(self) -> str:
        """sha256 of the signed body: the envelope's identity."""
        return sha256_hex(self.canonical())

    def expected_signature(self, key: bytes) -> str:
        return hmac.new(key, self.canonical(), hashlib.sha256).hexdigest()

    def sign(self, key: bytes) -> Envelope:
        """A copy signed with ``key``."""
        return self.model_copy(update={"signature": self.expected_signature(key)})

    def signature_ok(self, key: bytes) -> bool:
        """True when the signature is this body's under ``key`` (constant-time compare)."""
        return bool(self.signature) and hmac.compare_digest(self.signature,
                                                            self.expected_signature(key))

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=2)


def _first_error(exc: ValidationError, unknown: str) -> str:
    """``where: what`` of a validation error's first problem."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
    return f"{loc}: {f'unknown {unknown}' if err['type'] == 'extra_forbidden' else err['msg']}"


def load_envelope(source: str | Path | Mapping[str, Any]) -> Envelope:
    """An envelope from a JSON file, JSON text or a mapping; :class:`EvidenceError` names what
    is wrong."""
    where = "envelope"
    data: Any = source
    if isinstance(source, Path) or (isinstance(source, str) and source.lstrip()[:1]
                                    not in ("{", "[")):
        path = Path(source)
        where = f"envelope {path}"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise EvidenceError(f"{where}: cannot read: {exc.strerror or exc}",
                                path=str(path)) from None
        except UnicodeDecodeError as exc:
            raise EvidenceError(f"{where}: cannot read: {not_utf8(exc)}",
                                path=str(path)) from None
        source = text
    if isinstance(source, str):
        try:
            data = json.loads(source)
        except json.JSONDecodeError as exc:
            raise EvidenceError(f"{where}: not JSON: {exc.msg} at line {exc.lineno}") from None
        except RecursionError:
            raise EvidenceError(f"{where}: not JSON: {NESTED}") from None
    if not isinstance(data, Mapping):
        raise EvidenceError(f"{where}: must be a JSON object")
    try:
        return Envelope.model_validate(dict(data))
    except ValidationError as exc:
        raise EvidenceError(f"{where}: {_first_error(exc, 'field')}") from None


# -- the per-run key ---------------------------------------------------------------------------


def key_path(workspace: Workspace, run_id: str) -> Path:
    """Where a run's evidence key lives: ``runs/<run>/evidence.key`` (mode 0600), never the log."""
    return workspace.root / "runs" / run_id / "evidence.key"


def run_key(workspace: Workspace, run_id: str, *, create: bool = True) -> bytes:
    """The run's 32-byte signing key, created once (atomically, mode 0600) on first use.

    ``create=False`` (a receiver that only checks) raises :class:`EvidenceError` when the run has
    no key. A key file readable by group or others is refused.
    """
    path = key_path(workspace, run_id)
    if not path.exists():
        if not create:
            raise EvidenceError(f"run {run_id!r} has no evidence key ({path}): no envelope of "
                                "this run was sealed in this workspace", path=str(path))
        create_key_file(path)
    try:
        return read_key_file(path, "evidence key")
    except ValueError as exc:
        raise EvidenceError(str(exc), path=str(path)) from None


# -- requirements ------------------------------------------------------------------------------

_FACT = re.compile(r"^([A-Za-z_][\w.-]*)\.(calls|distinct|sum|max)(?:\((\w+)\))?$")


def _parse_fact(expr: str) -> list[tuple[str, str, str | None]]:
    parts = [p.strip() for p in expr.split("/")]
    if len(parts) > 2:
        raise ValueError(f"{expr!r}: at most one '/'")
    out = []
    for p in parts:
        m = _FACT.match(p)
        if m is None:
            raise ValueError(f"{p!r} is not TOOL.calls, TOOL.distinct(ARG), TOOL.sum(FIELD) "
                             "or TOOL.max(FIELD)")
        tool, agg, arg = m.groups()
        if (agg == "calls") != (arg is None):
            raise ValueError(f"{p!r}: {agg} takes {'no' if agg == 'calls' else 'one'} argument")
        out.append((tool, agg, arg))
    return out


class MetricBound(_Strict):
    """What a ``continue`` verdict's metric must be; an empty bound only requires it."""

    min: float | None = None
    max: float | None = None


class LogRule(_Strict):
    """How a metric must agree with the cited tool calls.

    A fact is ``TOOL.calls`` (ok calls), ``TOOL.distinct(ARG)`` (distinct values of an argument),
    ``TOOL.sum(FIELD)`` or ``TOOL.max(FIELD)`` (a number in the calls' JSON outputs), or one
    fact divided by another.
    """

    equals: str | None = None
    at_most: str | None = None
    at_least: str | None = None

    @model_validator(mode="after")
    def _one(self) -> LogRule:
        given = [e for e in (self.equals, self.at_most, self.at_least) if e is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of equals, at_most, at_least")
        _parse_fact(given[0])
        return self

    @property
    def op(self) -> tuple[str, str]:
        if self.equals is not None:
            return "==", self.equals
        if self.at_most is not None:
            return "<=", self.at_most
        assert self.at_least is not None
        return ">=", self.at_least


class Requirement(_Strict):
    """What evidence a task type needs (``knowledge/evidence/<type>.yaml``)."""

    description: str = ""
    consequential: bool = False
    """A ``continue`` verdict also needs the checker's quorum."""
    tools: list[str] = Field(min_length=1)
    """The tools whose calls count as the work; cited events must be calls of these."""
    min_calls: int = Field(default=1, ge=0)
    """Ok calls a ``continue`` verdict must cite, at least."""
    metrics: dict[str, MetricBound] = Field(default_factory=dict)
    """Metrics a ``continue`` verdict must report, with their bounds."""
    log: dict[str, LogRule] = Field(default_factory=dict)
    """Metrics that must agree with the cited calls (for any verdict that reports them)."""
    outputs_cover_calls: bool = True
    """Each cited call's output sha256 must be among the envelope's ``outputs``."""
    input_field: str | None = None
    """A field of the calls' JSON outputs holding the sha256 of what the call read; each must be
    among the envelope's ``inputs``."""

    @model_validator(mode="after")
    def _tools_known(self) -> Requirement:
        for metric, rule in self.log.items():
            for tool, _, _ in _parse_fact(rule.op[1]):
                if tool not in self.tools:
                    raise ValueError(f"log.{metric}: tool {tool!r} is not in tools")
        return self


def requirements_dir() -> Path:
    """The packaged requirements: ``knowledge/evidence/``."""
    from mapek._resources import data_dir

    return data_dir("knowledge") / "evidence"


class Requirements:
    """The registry: task type -> :class:`Requirement`."""

    def __init__(self, items: Mapping[str, Requirement | Mapping[str, Any]] | None = None):
        self._items: dict[str, Requirement] = {}
        for name, spec in (items or {}).items():
            self.add(name, spec)

    def add(self, task_type: str, spec: Requirement | Mapping[str, Any],
            source: str = "requirement") -> Requirement:
        if not re.fullmatch(r"[a-z][a-z0-9_.-]*", task_type):
            raise EvidenceError(f"{source}: task type {task_type!r} must be lower case")
        if not isinstance(spec, Requirement):
            try:
                spec = Requirement.model_validate(dict(spec))
            except ValidationError as exc:
                raise EvidenceError(f"{source}: {_first_error(exc, 'key')}",
                                    path=source) from None
            except TypeError:
                raise EvidenceError(f"{source}: must be a mapping", path=source) from None
        self._items[task_type] = spec
        return spec

    @classmethod
    def load(cls, folder: str | Path | None = None) -> Requirements:
        """Every ``<task_type>.yaml`` of a folder (default: the packaged ones)."""
        import yaml

        folder = Path(folder) if folder is not None else requirements_dir()
        if not folder.is_dir():
            raise ConfigError(f"requirements folder {folder} does not exist")
        reg = cls()
        for path in sorted(folder.glob("*.yaml")):
            try:
                data = yaml.safe_load(read_utf8(path))
            except ValueError as exc:  # not readable, not UTF-8
                raise EvidenceError(f"requirement {path}: {exc}", path=str(path)) from None
            except yaml.YAMLError as exc:
                raise EvidenceError(f"requirement {path}: not valid YAML: {exc}",
                                    path=str(path)) from None
            except RecursionError:
                raise EvidenceError(f"requirement {path}: not valid YAML: {NESTED}",
                                    path=str(path)) from None
            if not isinstance(data, dict):
                raise EvidenceError(f"requirement {path}: must be a mapping", path=str(path))
            reg.add(path.stem, data, str(path))
        return reg

    def get(self, task_type: str) -> Requirement | None:
        return self._items.get(task_type)

    def names(self) -> list[str]:
        return sorted(self._items)


# -- the producer's side -----------------------------------------------------------------------


class EvidenceCollector:
    """An agent's harness: calls tools through the gateway as the producer, keeps the seq and
    output digest of each call, and seals the envelope with the run's key."""

    def __init__(self, gateway: ToolGateway, producer: str, task: TaskRef | tuple[str, str],
                 *, key: bytes, clock: Callable[[], float] = time.time) -> None:
        self.gateway, self.producer, self.key, self.clock = gateway, producer, key, clock
        self.task = task if isinstance(task, TaskRef) else TaskRef(type=task[0], id=task[1])
        self.events: list[int] = []
        self.inputs: dict[str, str] = {}
        self.outputs: dict[str, str] = {}

    def call(self, tool: str, args: dict[str, Any] | None = None, *, key: str | None = None,
             cite: bool = True) -> CallResult:
        """A tool call through the gateway; cited in the envelope (when it ran) unless
        ``cite=False``."""
        r = self.gateway.call(tool, args, actor=self.producer, key=key)
        if cite and r.seq is not None and r.outcome in ("ok", "error"):
            self.events.append(r.seq)
            self.outputs[f"{tool}#{r.seq}"] = sha256_hex(r.output)
        return r

    def input(self, name: str, content: bytes | str) -> str:
        """Record the digest of something worked on."""
        self.inputs[name] = sha256_hex(content)
        return self.inputs[name]

    def output(self, name: str, content: bytes | str) -> str:
        """Record the digest of something produced (a report)."""
        self.outputs[name] = sha256_hex(content)
        return self.outputs[name]

    def seal(self, decision: Decision, detail: str = "",
             metrics: Metrics | Mapping[str, float] | None = None) -> Envelope:
        """The signed envelope of everything collected."""
        m = metrics if isinstance(metrics, Metrics) else Metrics.model_validate(dict(metrics or {}))
        env = Envelope(run_id=self.gateway.run_id, producer=self.producer, task=self.task,
                       verdict=Verdict(decision=decision, detail=detail), metrics=m,
                       inputs=dict(self.inputs), outputs=dict(self.outputs),
                       events=list(self.events), created_at=self.clock())
        return env.sign(self.key)


# -- the receiver's side -----------------------------------------------------------------------


@dataclass
class CheckResult:
    """The receiver's finding on one envelope."""

    envelope: Envelope
    accepted: bool
    reasons: list[str] = field(default_factory=list)
    """Each failed check, in words (empty when accepted)."""
    passed: list[str] = field(default_factory=list)
    """Each check that held."""
    facts: dict[str, float] = field(default_factory=dict)
    """What the log shows (fact expression -> value)."""
    quorum: QuorumOutcome | None = None
    seq: int | None = None
    """The ``evidence.accepted`` / ``evidence.rejected`` event."""

    @property
    def proceed(self) -> bool:
        """The next step may go ahead: accepted, and the verdict is ``continue``."""
        return self.accepted and self.envelope.verdict.decision == "continue"

    def explain(self) -> str:
        e = self.envelope
        head = (f"{e.task} from {e.producer!r} (run {e.run_id}): verdict "
                f"{e.verdict.decision}" + (f" ({e.verdict.detail})" if e.verdict.detail else ""))
        if not self.accepted:
            return head + "\nevidence REJECTED, the circuit stops:\n" + "\n".join(
                f"  - {r}" for r in self.reasons)
        lines = [head, "evidence accepted:"] + [f"  + {p}" for p in self.passed]
        if not self.proceed:
            lines.append("the producer's own verdict is stop: the circuit stops")
        return "\n".join(lines)

    def payload(self) -> dict[str, Any]:
        e = self.envelope
        return {"envelope": e.digest, "task": e.task.model_dump(), "producer": e.producer,
                "verdict": e.verdict.model_dump(), "metrics": e.metrics.reported(),
                "events": e.events, "reasons": self.reasons, "passed": self.passed,
                "facts": self.facts,
                "quorum": None if self.quorum is None else self.quorum.outcome,
                "text": self.explain()}


def _num(x: float) -> str:
    return f"{x:g}"


class EvidenceChecker:
    """A run's receiver: checks envelopes against their requirements and against the log,
    records the finding, and stops the circuit on a rejection (:meth:`require`)."""

    def __init__(self, kb: Any, run_id: str, *, key: bytes,
                 requirements: Requirements | None = None, quorum: Quorum | None = None,
                 actor: str = "observer") -> None:
        self.kb, self.run_id, self.key = kb, run_id, key
        self.requirements = requirements if requirements is not None else Requirements.load()
        self.quorum = quorum
        self.actor = actor
        """Who records the findings (``evidence.*`` events)."""

    @classmethod
    def for_run(cls, kb: Any, workspace: Workspace, run_id: str, **options: Any
                ) -> EvidenceChecker:
        """A checker using the run's key from the workspace (which must exist)."""
        return cls(kb, run_id, key=run_key(workspace, run_id, create=False), **options)

    # -- pure: reads the log, writes nothing -----------------------------------------------------

    def evaluate(self, envelope: Envelope, expect: TaskRef | tuple[str, str] | None = None
                 ) -> CheckResult:
        """Every check but the quorum; writes nothing."""
        res = CheckResult(envelope, accepted=False)
        bad, ok = res.reasons.append, res.passed.append
        e = envelope
        if not e.signature:
            bad("the envelope is not signed")
        elif not e.signature_ok(self.key):
            bad("the signature does not match: the envelope was changed after sealing, or "
                f"sealed with another key than run {self.run_id}'s")
        else:
            ok("signature matches this run's key")
        if e.run_id != self.run_id:
            bad(f"the envelope belongs to run {e.run_id!r}, not {self.run_id!r}: replayed "
                "from another run")
        if expect is not None:
            want = expect if isinstance(expect, TaskRef) else TaskRef(type=expect[0],
                                                                        id=expect[1])
            if want != e.task:
                bad(f"the envelope is for task {e.task}, but {want} was expected")
        req = self.requirements.get(e.task.type)
        if req is None:
            bad(f"no requirement is declared for task type {e.task.type!r}: nothing to check "
                f"it against (known: {', '.join(self.requirements.names()) or 'none'})")
            return res
        if res.reasons:  # a forged or foreign envelope: its claims are not worth reading
            return res
        going = e.verdict.decision == "continue"
        events = self._cited(e, req, bad, ok)
        if going:
            okcalls = [ev for ev in events if ev.payload.get("outcome") == "ok"]
            if len(okcalls) < req.min_calls:
                bad(f"a continue verdict needs at least {req.min_calls} ok "
                    f"{'/'.join(req.tools)} call(s); the envelope cites {len(okcalls)}")
            failed: dict[tuple[str, str], list[Event]] = {}
            for ev in events:
                if ev.payload.get("outcome") != "ok":
                    failed.setdefault((str(ev.payload.get("tool")),
                                       str(ev.payload.get("outcome"))), []).append(ev)
            for (tool, outcome), evs in failed.items():
                said = str(evs[0].payload.get("output") or evs[0].payload.get("reason") or "")
                bad(f"{len(evs)} cited {tool} call(s) ended {outcome} "
                    f"({', '.join(f'#{x.seq}' for x in evs)}): a continue verdict cannot rest "
                    f"on failed calls; #{evs[0].seq} said: {said[:300]}")
            self._bounds(e, req, bad, ok)
        self._agree(e, req, [ev for ev in events if ev.payload.get("outcome") == "ok"],
                    res.facts, bad, ok)
        res.accepted = not res.reasons
        return res

    def _cited(self, e: Envelope, req: Requirement, bad: Callable[[str], None],
               ok: Callable[[str], None]) -> list[Event]:
        out: list[Event] = []
        if len(set(e.events)) != len(e.events):
            bad("the envelope cites the same event twice")
        latest = 0.0
        found = self._events(sorted(set(e.events)))
        for seq in sorted(set(e.events)):
            ev = found.get(seq)
            if ev is None:
                bad(f"cited event #{seq} does not exist in run {self.run_id}")
                continue
            p = ev.payload
            if ev.kind != "tool.call":
                bad(f"cited event #{seq} is a {ev.kind!r} event, not a tool call")
            elif ev.actor != e.producer or p.get("actor", ev.actor) != e.producer:
                bad(f"cited call #{seq} was made by {ev.actor!r}, not by the producer "
                    f"{e.producer!r}")
            elif p.get("tool") not in req.tools:
                bad(f"cited call #{seq} is {p.get('tool')!r}, not one of the task's tools "
                    f"({', '.join(req.tools)})")
            else:
                out.append(ev)
                latest = max(latest, ev.ts)
                if req.outputs_cover_calls and p.get("outcome") == "ok" and \
                        sha256_hex(str(p.get("output", ""))) not in e.outputs.values():
                    bad(f"the output of cited call #{seq} ({p.get('tool')}) is not among the "
                        "envelope's output digests: the envelope is not about what the tool "
                        "returned")
        if out and e.created_at + _CLOCK_SKEW < latest:
            bad("the envelope is dated before the calls it cites")
        if e.events and len(out) == len(e.events):
            ok(f"{len(out)} cited event(s) are this run's {'/'.join(req.tools)} calls by "
               f"{e.producer!r}" + (", outputs match their digests"
                                    if req.outputs_cover_calls else ""))
        return out

    def _events(self, seqs: list[int]) -> dict[int, Event]:
        """The run's events with these seqs: one range read when they lie close together."""
        if not seqs:
            return {}
        lo, hi = seqs[0], seqs[-1]
        if lo >= 1 and hi - lo < 4 * len(seqs) + 64:
            wanted = set(seqs)
            return {ev.seq: ev for ev in self.kb.events(self.run_id, after=lo - 1,
                                                        limit=hi - lo + 1)
                    if ev.seq in wanted}
        return {s: ev for s in seqs if (ev := self.kb.get(self.run_id, s)) is not None}

    @staticmethod
    def _bounds(e: Envelope, req: Requirement, bad: Callable[[str], None],
                ok: Callable[[str], None]) -> None:
        for name, b in req.metrics.items():
            v = e.metrics.get(name)
            if v is None:
                bad(f"required metric {name!r} is missing")
            elif b.min is not None and v < b.min:
                bad(f"{name} = {_num(v)} is below the required minimum {_num(b.min)}"
                    + (" (a success with zero coverage is no success)"
                       if name == "coverage" and v == 0 else ""))
            elif b.max is not None and v > b.max:
                bad(f"{name} = {_num(v)} is above the allowed maximum {_num(b.max)}")
            else:
                ok(f"{name} = {_num(v)} meets the requirement"
                   + (f" (>= {_num(b.min)})" if b.min is not None else "")
                   + (f" (<= {_num(b.max)})" if b.max is not None else ""))

    def _agree(self, e: Envelope, req: Requirement, calls: list[Event],
               facts: dict[str, float], bad: Callable[[str], None],
               ok: Callable[[str], None]) -> None:
        outputs: dict[int, Any] = {}
        known: dict[tuple[str, str, str | None], float] = {}

        def parsed(ev: Event) -> Any:
            if ev.seq not in outputs:
                try:
                    outputs[ev.seq] = json.loads(str(ev.payload.get("output", "")))
                except ValueError:
                    outputs[ev.seq] = None
            return outputs[ev.seq]

        def fact(tool: str, agg: str, arg: str | None) -> float:
            mine = [ev for ev in calls if ev.payload.get("tool") == tool]
            if agg == "calls":
                return float(len(mine))
            if agg == "distinct":
                seen = (ev.payload.get("args", {}).get(arg) for ev in mine
                        if arg in ev.payload.get("args", {}))
                return float(len({v if isinstance(v, str) else canonical_json(v)
                                  for v in seen}))
            values = []
            for ev in mine:
                data = parsed(ev)
                v = data.get(arg) if isinstance(data, dict) else None
                if isinstance(v, bool) or not isinstance(v, int | float):
                    raise LookupError(f"the output of call #{ev.seq} ({tool}) has no number "
                                      f"{arg!r}")
                values.append(float(v))
            if agg == "sum":
                return sum(values)
            return max(values, default=0.0)

        for name, rule in req.log.items():
            v = e.metrics.get(name)
            if v is None:
                continue  # a missing metric is the bounds' business
            op, expr = rule.op
            try:
                parts = []
                for p in _parse_fact(expr):
                    if p not in known:
                        known[p] = fact(*p)
                    parts.append(known[p])
            except LookupError as exc:
                bad(f"{name} cannot be checked against the log: {exc}")
                continue
            shown = parts[0] if len(parts) == 1 else (parts[0] / parts[1] if parts[1] else 0.0)
            facts[expr] = shown
            holds = {"==": abs(v - shown) <= _TOLERANCE, "<=": v <= shown + _TOLERANCE,
                     ">=": v >= shown - _TOLERANCE}[op]
            if holds:
                ok(f"{name} = {_num(v)} agrees with the log ({expr} = {_num(shown)})")
            else:
                bad(f"{name} = {_num(v)} contradicts the log, which shows {expr} = "
                    f"{_num(shown)} (required: {name} {op} {expr})")
        if req.input_field:
            for ev in calls:
                data = parsed(ev)
                digest = data.get(req.input_field) if isinstance(data, dict) else None
                if digest is not None and digest not in e.inputs.values():
                    bad(f"call #{ev.seq} read an input with sha256 {str(digest)[:12]}… that is "
                        "not among the envelope's input digests")

    # -- recording ------------------------------------------------------------------------------

    def check(self, envelope: Envelope, expect: TaskRef | tuple[str, str] | None = None
              ) -> CheckResult:
        """Evaluate, ask the quorum for a consequential ``continue``, record
        ``evidence.accepted`` or ``evidence.rejected``."""
        res = self.evaluate(envelope, expect)
        req = self.requirements.get(envelope.task.type)
        if res.accepted and self.quorum is not None and req is not None and req.consequential \
                and envelope.verdict.decision == "continue":
            res.quorum = self.quorum.decide(envelope, self)
            if res.quorum.accepted:
                res.passed.append(f"quorum: {res.quorum.summary()}")
            else:
                res.accepted = False
                res.reasons.append(f"quorum: {res.quorum.summary()}")
        kind = "evidence.accepted" if res.accepted else "evidence.rejected"
        ev = self.kb.append(EventDraft(
            run_id=self.run_id, kind=kind, actor=self.actor, payload=res.payload(),
            key=f"evidence.check:{envelope.digest}"))
        res.seq = ev.seq
        return res

    def require(self, envelope: Envelope, expect: TaskRef | tuple[str, str] | None = None
                ) -> CheckResult:
        """:meth:`check`, then raise :class:`EvidenceRejected` unless the next step may go
        ahead (rejected evidence, or an accepted ``stop`` verdict)."""
        res = self.check(envelope, expect)
        if not res.proceed:
            e = envelope
            reasons = res.reasons or [f"the producer's verdict is stop: {e.verdict.detail}"]
            what = "rejected" if not res.accepted else "says stop"
            raise EvidenceRejected(
                f"evidence for {e.task} from {e.producer!r} {what}: " + "; ".join(reasons),
                run_id=self.run_id, task=str(e.task), producer=e.producer, reasons=reasons,
                seq=res.seq)
        return res


# -- quorum ------------------------------------------------------------------------------------


@dataclass
class Vote:
    """One verifier's finding: ``approve`` True/False, or None (abstained: it could not tell)."""

    verifier: str
    approve: bool | None
    reasons: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    """What it looked at (digests, counts) to back its vote."""


class Verifier(ABC):
    """An independent second opinion on an envelope that already passed the checks."""

    name: str

    @abstractmethod
    def verify(self, envelope: Envelope, checker: EvidenceChecker) -> Vote:
        """Vote on the envelope; may read the log (``checker.kb``) or re-run read-only tools."""


class FunctionVerifier(Verifier):
    """A verifier from a plain function ``(envelope, checker) -> (approve, reasons)``."""

    def __init__(self, name: str,
                 fn: Callable[[Envelope, EvidenceChecker], tuple[bool | None, list[str]]]):
        self.name, self.fn = name, fn

    def verify(self, envelope: Envelope, checker: EvidenceChecker) -> Vote:
        approve, reasons = self.fn(envelope, checker)
        return Vote(self.name, approve, list(reasons))


class LogVerifier(Verifier):
    """Looks at what the envelope left out: every call of the task's tools the producer made
    between its first and last cited event must be cited, and none may have failed."""

    def __init__(self, name: str = "log-auditor") -> None:
        self.name = name

    def verify(self, envelope: Envelope, checker: EvidenceChecker) -> Vote:
        req = checker.requirements.get(envelope.task.type)
        if req is None or not envelope.events:
            return Vote(self.name, None, ["nothing cited to audit around"])
        lo, hi = min(envelope.events), max(envelope.events)
        calls = [ev for ev in checker.kb.events(checker.run_id, after=lo - 1,
                                                kinds=["tool.call"], limit=hi - lo + 1)
                 if ev.seq <= hi and ev.actor == envelope.producer
                 and ev.payload.get("tool") in req.tools]
        hidden = [ev for ev in calls if ev.seq not in set(envelope.events)]
        failed = [ev for ev in calls if ev.payload.get("outcome") != "ok"]
        reasons = [f"call #{ev.seq} {ev.payload.get('tool')} ({ev.payload.get('outcome')}) is "
                   "not cited" for ev in hidden]
        reasons += [f"call #{ev.seq} {ev.payload.get('tool')} ended {ev.payload.get('outcome')}"
                    for ev in failed if ev not in hidden]
        ev_info = {"range": [lo, hi], "calls": len(calls), "hidden": [e.seq for e in hidden]}
        if reasons:
            return Vote(self.name, False, reasons, ev_info)
        return Vote(self.name, True, [f"all {len(calls)} {'/'.join(req.tools)} call(s) of "
                                      f"{envelope.producer!r} in #{lo}..#{hi} are cited and ok"],
                    ev_info)


class RecheckVerifier(Verifier):
    """Re-does part of the work: re-runs up to ``sample`` cited read-only calls through the
    gateway under its own name and compares each output's sha256 with the one in the log."""

    def __init__(self, name: str, gateway: ToolGateway, *, sample: int = 3,
                 tools: Iterable[str] | None = None) -> None:
        self.name, self.gateway, self.sample = name, gateway, sample
        self.tools = set(tools) if tools is not None else None

    def verify(self, envelope: Envelope, checker: EvidenceChecker) -> Vote:
        redone, reasons, digests = 0, [], {}
        for seq in envelope.events:
            if redone >= self.sample:
                break
            ev = checker.kb.get(checker.run_id, seq)
            if ev is None or ev.payload.get("outcome") != "ok":
                continue
            tool = self.gateway.tools.get(ev.payload.get("tool", ""))
            if tool is None or tool.effect != "read" or \
                    (self.tools is not None and tool.name not in self.tools):
                continue  # only what is safe to run again, twice
            r = self.gateway.call(tool.name, ev.payload.get("args", {}), actor=self.name,
                                  key=f"recheck:{self.name}:{envelope.digest[:16]}:{seq}")
            redone += 1
            want, got = sha256_hex(str(ev.payload.get("output", ""))), sha256_hex(r.output)
            digests[f"#{seq}"] = {"logged": want, "recomputed": got, "recheck": r.seq}
            if r.outcome != "ok" or got != want:
                reasons.append(f"re-running #{seq} {tool.name} gave a different result "
                               f"({r.outcome}, sha256 {got[:12]}… vs {want[:12]}…)")
        if redone == 0:
            return Vote(self.name, None, ["no cited read-only call to re-run"])
        if reasons:
            return Vote(self.name, False, reasons, digests)
        return Vote(self.name, True, [f"re-ran {redone} cited call(s): same outputs"], digests)


class _ModelVote(BaseModel):
    approve: bool
    reasons: list[str] = Field(default_factory=list)


class ModelVerifier(Verifier):
    """A persona (or another model) reads the envelope and the checks it passed, and votes.

    ``llm`` is a :class:`mapek.llm.Gateway`; give each verifier its own model with
    ``gateway.using(...)`` for independence.
    """

    def __init__(self, name: str, llm: Any, *, instructions: str = "") -> None:
        self.name, self.llm = name, llm
        self.instructions = instructions or (
            "You verify another agent's evidence envelope before a consequential step. "
            "Approve only if the metrics show the work was really done.")

    def verify(self, envelope: Envelope, checker: EvidenceChecker) -> Vote:
        shown = checker.evaluate(envelope)
        prompt = (f"{self.instructions}\n\nEnvelope:\n{envelope.to_json()}\n\nChecks passed:\n"
                  + "\n".join(shown.passed) + "\n\nChecks failed:\n"
                  + ("\n".join(shown.reasons) or "none"))
        v = self.llm.structured(prompt, _ModelVote, task="evidence.verify", actor=self.name,
                                run_id=checker.run_id)
        return Vote(self.name, v.approve, list(v.reasons))


@dataclass
class QuorumOutcome:
    """The votes, and what came of them."""

    outcome: Literal["accepted", "rejected", "human-accepted", "human-rejected"]
    k: int
    votes: list[Vote]
    human: dict[str, Any] | None = None
    """The escalation: the question put and the answer (None: nobody answered)."""
    seq: int | None = None
    """The ``evidence.quorum`` event."""

    @property
    def accepted(self) -> bool:
        return self.outcome in ("accepted", "human-accepted")

    def summary(self) -> str:
        yes = sum(v.approve is True for v in self.votes)
        no = sum(v.approve is False for v in self.votes)
        text = f"{yes} of {len(self.votes)} verifiers approve, {no} reject (k={self.k}): " \
               f"{self.outcome}"
        if self.human is not None:
            text += f"; the human answered {self.human.get('answer')!r}"
        return text


def _side(votes: Iterable[Vote]) -> list[dict[str, Any]]:
    return [{"verifier": v.verifier, "reasons": v.reasons, "evidence": v.evidence}
            for v in votes]


class Quorum:
    """``k`` of ``n`` independent verifiers must approve a consequential verdict.

    All that vote agree and at least ``k`` approve: accepted. Nobody approves, or too few with
    no dissent: rejected (fail closed). Some approve and some reject: the human decides, shown
    both sides' evidence; no answer or an unclear one is a rejection.
    """

    def __init__(self, verifiers: Sequence[Verifier], k: int,
                 channel: HumanChannel | None = None) -> None:
        names = [v.name for v in verifiers]
        if len(set(names)) != len(names):
            raise ConfigError(f"quorum verifiers must be distinct, got {names}")
        if not 1 <= k <= len(verifiers):
            raise ConfigError(f"a quorum needs 1 <= k <= {len(verifiers)} verifiers, got k={k}")
        self.verifiers, self.k, self.channel = list(verifiers), k, channel

    def decide(self, envelope: Envelope, checker: EvidenceChecker) -> QuorumOutcome:
        """The recorded outcome for this envelope if there is one (a re-run step asks nobody
        twice), else ask every verifier (and the human on a split) and record it."""
        key = f"evidence.quorum:{envelope.digest}"
        done = checker.kb.log.find(checker.run_id, key)
        if done is not None:
            p = done.payload
            return QuorumOutcome(p["outcome"], p["k"], [
                Vote(v["verifier"], v["approve"], v["reasons"], v["evidence"])
                for v in p["votes"]], p["human"], done.seq)
        votes = []
        for verifier in self.verifiers:
            try:
                votes.append(verifier.verify(envelope, checker))
            except Exception as exc:  # a broken verifier abstains; it never approves
                votes.append(Vote(verifier.name, None, [f"{type(exc).__name__}: {exc}"]))
        yes = [v for v in votes if v.approve is True]
        no = [v for v in votes if v.approve is False]
        human = None
        if yes and no:
            human = self._ask(envelope, checker, yes, no)
            outcome = "human-accepted" if human["approve"] else "human-rejected"
        elif not no and len(yes) >= self.k:
            outcome = "accepted"
        else:
            outcome = "rejected"
        out = QuorumOutcome(outcome, self.k, votes, human)  # type: ignore[arg-type]
        ev = checker.kb.append(EventDraft(
            run_id=checker.run_id, kind="evidence.quorum", actor=checker.actor,
            payload={"envelope": envelope.digest, "task": str(envelope.task), "k": self.k,
                     "n": len(votes), "outcome": outcome,
                     "votes": [{"verifier": v.verifier, "approve": v.approve,
                                "reasons": v.reasons, "evidence": v.evidence} for v in votes],
                     "human": human, "text": out.summary()},
            key=key))
        out.seq = ev.seq
        return out

    def _ask(self, envelope: Envelope, checker: EvidenceChecker, yes: list[Vote],
             no: list[Vote]) -> dict[str, Any]:
        qid = f"evidence-{envelope.digest[:12]}"

        def lines(side: list[Vote]) -> str:
            return "\n".join(f"  {v.verifier}: {'; '.join(v.reasons)}" for v in side)

        text = (f"The verifiers disagree on {envelope.task} from {envelope.producer!r} "
                f"(verdict {envelope.verdict.decision}: {envelope.verdict.detail}).\n"
                f"Approve:\n{lines(yes)}\nReject:\n{lines(no)}\n"
                "Answer 'accept' to let the next step go ahead, 'reject' to stop it.")
        question = {"qid": qid, "text": text, "asked_by": "evidence.quorum", "to": "human",
                    "reason": "verifiers disagree on a consequential verdict", "score": None,
                    "envelope": envelope.model_dump(mode="json"),
                    "approve": _side(yes), "reject": _side(no)}
        checker.kb.append(EventDraft(
            run_id=checker.run_id, kind="evidence.escalated", actor=checker.actor,
            payload={"qid": qid, "envelope": envelope.digest, "text": text,
                     "approve": _side(yes), "reject": _side(no)},
            key=f"evidence.escalated:{envelope.digest}"))
        answer = None
        if self.channel is not None:
            answer = (self.channel.ask([question]) or {}).get(qid)
        word = (answer or "").strip().lower().split()
        approve = bool(word) and word[0].strip(".,!:") in ("accept", "approve", "yes", "continue")
        return {"qid": qid, "answer": answer, "approve": approve}
