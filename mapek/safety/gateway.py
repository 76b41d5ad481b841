"""The tool gateway: every tool call an agent makes goes through :meth:`ToolGateway.call`.

::

    check (no side effect)                     call
    ├─ unknown tool               -> deny      ├─ recorded result under the same key -> returned
    ├─ screening of the one call  -> verdict   ├─ deny  -> refused, recorded
    ├─ read                       -> allow     ├─ arguments not fitting the tool's schema ->
    ├─ write: a live grant, and the target     │   ``invalid``, recorded, nothing runs (re-ask)
    │   not a human's             -> allow     ├─ needs approval -> approver(request), per call,
    ├─ destructive: a human's target -> deny   │   with the exact arguments; no answer ->
    │   this run's, in a sandbox  -> allow     │   ``needs_approval``, nothing runs
    │   otherwise                 -> approval  ├─ run the tool; errors are outcomes
    └─ external                   -> approval  ├─ screen the output: injection is quarantined
                                               │   (``screen.output``)
                                               └─ ``tool.call``: effect, grant, outcome, provenance

With a key, a write, destructive or external call goes through the effects ledger
(:mod:`mapek.ledger`): its ``effect.intent`` is recorded just before the tool runs; an intent
without a result (the process died during the call) runs again only if the tool is idempotent,
otherwise a human says whether it happened; a key presented with other arguments is refused.

Arguments are checked against the tool's schema (:meth:`~mapek.safety.tools.Tool.validate_args`)
after the check and before a human is asked or anything runs: a call the check refuses is refused
whatever its arguments; any other whose arguments do not fit is recorded (outcome ``invalid``,
the error naming the bad arguments) and its result re-asks the caller with the schema, so it
can propose the call again. The tool runs with the coerced arguments.

Provenance and grants come from the log alone (:mod:`mapek.safety.grants`): a ``created_by`` in a
tool's arguments is never read. What a failed check does is the policy's setting
(:class:`~mapek.safety.policy.ScreeningPolicy`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mapek.errors import UserError
from mapek.ledger import ANSWERS, Ledger, accepts_key, effect_key
from mapek.models import EventDraft
from mapek.safety.content import quarantine, screen_output
from mapek.safety.grants import Grant, GrantBook, ProvenanceBook, resource_key
from mapek.safety.policy import ScreeningPolicy
from mapek.safety.rules._base import collapse_dots
from mapek.safety.screening import Resource, ScreenContext, Screener
from mapek.safety.tools import INJECTED, Tool, ToolArgumentsError, ToolRegistry

__all__ = ["ToolGateway", "CallCheck", "CallResult", "ApprovalRequest", "Approver"]

_RANK = {"allow": 0, "needs_approval": 1, "deny": 2}


@dataclass
class ApprovalRequest:
    """What a human sees before a destructive or external call: the exact arguments."""

    call_id: str
    tool: str
    effect: str
    args: dict[str, Any]
    actor: str
    reasons: list[str]
    in_doubt: bool = False
    """Not "may it run?" but "did it happen?": the call's process died after its intent and
    before its result; the answer is ``happened`` (record it, do not run) or ``run``."""

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


Approver = Callable[[ApprovalRequest], "bool | str | None"]
"""A human channel's answer for one call: True, False, or None (nobody answered). For a request
``in_doubt``: ``"happened"``, ``"run"`` (or True); anything else leaves the call in doubt."""


@dataclass
class CallCheck:
    """The pre-call check: the decision, and everything behind it."""

    tool: str
    decision: str
    reasons: list[str] = field(default_factory=list)
    effect: str | None = None
    grant: int | None = None
    """The ``grant`` event's seq behind a write."""
    resource: str | None = None
    owner: str | None = None
    catalogue_ids: list[str] = field(default_factory=list)


@dataclass
class CallResult:
    """What the caller (an agent) gets back."""

    outcome: str
    """``ok``, ``error``, ``refused``, ``needs_approval`` or ``invalid`` (the arguments do not
    fit the tool's schema; ``output`` says which and shows the schema)."""
    output: str = ""
    reason: str = ""
    flagged: bool = False
    seq: int | None = None
    approval: ApprovalRequest | None = None


class ToolGateway:
    """One run's door to its tools."""

    def __init__(self, tools: ToolRegistry, kb: Any, run_id: str, *,
                 policy: ScreeningPolicy | None = None, screener: Screener | None = None,
                 approver: Approver | None = None, sandbox: bool = False,
                 max_output_chars: int = 2000, clock: Callable[[], float] = time.time,
                 lock: threading.Lock | None = None) -> None:
        self.tools, self.kb, self.run_id = tools, kb, run_id
        self.policy = policy or ScreeningPolicy()
        self.screener = screener or Screener(tools=tools)
        self.approver = approver
        self.sandbox = sandbox
        """A sandbox run: a destructive call on what this run created needs no approval."""
        self.max_output_chars = max_output_chars
        self.clock = clock
        self._lock = lock or threading.Lock()
        self._book, self._seen = ProvenanceBook(), 0
        self._heads: dict[str, list[str]] | None = None
        self.ledger = Ledger(kb, run_id, lock=self._lock)
        """Intents and results of write, destructive and external calls made with a key."""

    # -- the log -----------------------------------------------------------------------------

    def _record(self, kind: str, actor: str, payload: dict[str, Any], key: str | None = None,
                parent: int | None = None) -> Any:
        with self._lock:
            return self.kb.append(EventDraft(run_id=self.run_id, kind=kind, actor=actor,
                                             payload=payload, key=key, parent=parent))

    def grants(self) -> GrantBook:
        return GrantBook.from_events(self.kb.events(self.run_id, kinds=["grant"]))

    def provenance(self) -> ProvenanceBook:
        """Who created each resource: every run of the workspace (a sandbox: only its own run,
        since it works on a fresh copy). Read incrementally: each call reads only the records
        appended since the last one."""
        kinds = ["resource.registered", "tool.call"]
        run = self.run_id if self.sandbox else None
        # after a log position (all runs) or after a seq (one run), up to where the log was
        # read, matches or not (with no resource records, the last match is the log's start)
        events, self._seen = self.kb.log.read_since(self._seen, run, kinds)
        if self._book.fold(events):
            self._heads = None
        return self._book  # live: read it, do not change it

    def grant(self, tool: str, *, justification: str, to: str = "session",
              expires_at: float | None = None, ttl: float | None = None,
              by: str = "human") -> Grant:
        """Record a write grant (``ttl`` seconds from now, or ``expires_at``)."""
        t = self.tools.get(tool)
        if t is None:
            raise UserError(f"cannot grant unknown tool {tool!r}")
        if t.effect != "write":
            raise UserError(f"{tool!r} is declared {t.effect}: only write is granted; "
                            "destructive and external calls need a human's approval per call")
        if len(justification.strip()) < 3:
            raise UserError(f"a grant of {tool!r} needs a justification")
        if ttl is not None:
            expires_at = self.clock() + ttl
        g = Grant(tool=tool, to=to, justification=justification.strip(), expires_at=expires_at,
                  granted_by=by)
        ev = self._record("grant", by, g.model_dump(exclude={"seq"}))
        return g.model_copy(update={"seq": ev.seq})

    def register_resource(self, name: str, *, by: str = "human") -> None:
        """Record that a person created a resource: no agent may delete or overwrite it."""
        self._record("resource.registered", by, {"resource": resource_key(name)})

    def context(self, book: ProvenanceBook | None = None, about: Any = None) -> ScreenContext:
        """What screening knows about this run: its id, resources and who made them. With
        ``about`` (the arguments or plan to be screened), only the resources it may name: a
        workspace holds thousands, a call names a few."""
        book = book or self.provenance()
        if about is None:
            names: Any = book.created_by
        else:
            index = self._index(book)
            text = json.dumps(about, default=str).lower()
            heads = {_head(tok) for tok in _TOKEN.findall(text)}
            names = [n for h in heads for n in index.get(h, ())]
        return ScreenContext(
            run_id=self.run_id,
            environment="sandbox" if self.sandbox else None,
            created_by=f"run:{self.run_id}" if self.sandbox else None,
            resources={n: Resource(created_by=book.created_by[n]) for n in names})

    def _index(self, book: ProvenanceBook) -> dict[str, list[str]]:
        """Resource names by their first segment (kept while the book does not change)."""
        if book is self._book and self._heads is not None:
            return self._heads
        index: dict[str, list[str]] = {}
        for n in book.created_by:
            index.setdefault(_head(n), []).append(n)
        if book is self._book:
            self._heads = index
        return index

    # -- checking ----------------------------------------------------------------------------

    def check(self, tool: str, args: dict[str, Any], actor: str,
              book: ProvenanceBook | None = None) -> CallCheck:
        """The pre-call check; writes nothing."""
        t = self.tools.get(tool)
        if t is None:
            return CallCheck(tool, "deny", [f"unknown tool {tool!r}"])
        book = book or self.provenance()
        c = CallCheck(tool, "allow", effect=t.effect)
        if t.target and args.get(t.target) is not None:
            c.resource = resource_key(args[t.target])
            c.owner = book.owner(c.resource)
        own = c.owner == f"run:{self.run_id}"
        if t.effect == "write":
            g, why = self.grants().find(tool, actor, self.clock())
            if g is None:
                self._raise(c, "deny", why)
            else:
                c.grant = g.seq
            if c.owner == "human":
                self._raise(c, "deny", f"{c.resource!r} was created by a human: no agent may "
                            "overwrite it", "deleting-human-created")
        elif t.effect == "destructive":
            if c.owner == "human":
                self._raise(c, "deny", f"{c.resource!r} was created by a human: no agent may "
                            "delete it", "deleting-human-created")
            elif not (own and self.sandbox):
                self._raise(c, "needs_approval", f"{tool!r} is destructive: a human approves "
                            "each call", "declared-destructive-tool")
        elif t.effect == "external":
            self._raise(c, "needs_approval", f"{tool!r} acts outside the system: a human "
                        "approves each call", "declared-external-tool")
        if not (t.effect == "destructive" and own and self.sandbox):
            v = self.screener.screen_plan({"steps": [{"tool": tool, "args": _plain(args)}]},
                                          self.context(book, args))
            for r in v.reasons:
                if r.verdict != "allow" and r.catalogue_id in c.catalogue_ids:
                    self._raise(c, r.verdict, "")  # the same finding, said once
                elif r.verdict != "allow":
                    self._raise(c, r.verdict, f"screening: {r.message} ({r.why})",
                                r.catalogue_id)
        return c

    @staticmethod
    def _raise(c: CallCheck, decision: str, reason: str, catalogue_id: str | None = None
               ) -> None:
        if _RANK[decision] > _RANK[c.decision]:
            c.decision = decision
        if reason:
            c.reasons.append(reason)
        if catalogue_id and catalogue_id not in c.catalogue_ids:
            c.catalogue_ids.append(catalogue_id)

    # -- calling -----------------------------------------------------------------------------

    def call(self, tool: str, args: dict[str, Any] | None = None, *, actor: str,
             key: str | None = None, approved: bool | None = None,
             in_doubt: str | None = None, node: str | None = None) -> CallResult:
        """Check, (ask,) run, screen the output, record. ``approved`` is a human's answer
        already given for this exact call (the loop's approval step). With a ``key``, a write,
        destructive or external call goes through the effects ledger (:mod:`mapek.ledger`):
        intent recorded before the call, a recorded result returned instead of running again,
        a call in doubt retried only if idempotent, else asked (``in_doubt``: a human's
        ``happened`` or ``run`` given already). A tool taking ``idempotency_key`` gets
        :func:`~mapek.ledger.effect_key` of the run, ``node``, tool and arguments (the same for
        every retry of that node: what a service dedupes on), or ``key`` without a node."""
        args = dict(args or {})
        effect = None
        if key is not None:
            effect = self.ledger.lookup(key, tool, args)
            done = effect.done if effect is not None else None
            if done is not None:
                return CallResult(done.outcome, done.output, done.reason, done.flagged, done.seq)
        t = self.tools.get(tool)
        ledgered = key is not None and t is not None and not t.read_only
        if ledgered and t is not None and key is not None and effect is not None and \
                effect.status == "in_doubt" and not t.idempotent:
            answered = self._in_doubt(t, args, actor, key, effect, in_doubt)
            if answered is not None:
                return answered
        c = self.check(tool, args, actor)
        setting = self.policy.call
        action = setting.action(c.decision)
        approval = None
        if action in ("block", "reask"):  # refused whatever its arguments
            return self._finish(c, args, actor, key, "refused", reason="; ".join(c.reasons),
                                reask=action == "reask")
        kwargs: dict[str, Any] = args
        if t is not None:  # before a human is asked, before anything runs
            try:
                kwargs = t.validate_args(args)
            except ToolArgumentsError as exc:
                return self._invalid(t, args, actor, key, exc)
        if action == "escalate":
            approval = ApprovalRequest(key or f"{tool}:{self.clock():.6f}", tool,
                                       c.effect or "", args, actor, c.reasons)
            if approved is None and self.approver is not None:
                said = self.approver(approval)
                approved = said if isinstance(said, bool) else None
            if approved is None:
                return self._finish(c, args, actor, key, "needs_approval",
                                    reason="; ".join(c.reasons), approval=approval)
            if not approved:
                return self._finish(c, args, actor, key, "refused",
                                    reason="a human refused: " + "; ".join(c.reasons),
                                    approved=False)
        assert t is not None
        if ledgered:
            self.ledger.intend(key, tool, args, actor=actor, effect=t.effect,  # type: ignore[arg-type]
                               idempotent=t.idempotent, node=node)
        if key and accepts_key(t.fn):
            args_in = {k: v for k, v in args.items() if k not in INJECTED}
            kwargs = {**kwargs, "idempotency_key": effect_key(self.run_id, node, tool, args_in)
                      if node else key}
        out, outcome = _invoke(t, kwargs)
        if outcome == "timeout":
            if ledgered and not t.idempotent:  # given up on, may still happen: in doubt
                return self._in_doubt(t, args, actor, key, self.ledger.get(key), None,  # type: ignore[arg-type]
                                      why=out, ask=False) or CallResult("error", out, out)
            outcome = "error"
        return self._finish(c, args, actor, key, outcome, output=out, tool=t,
                            approved=approved)

    def invalid(self, tool: str, args: dict[str, Any], *, actor: str,
                key: str | None = None) -> CallResult | None:
        """Check a proposed call's arguments ahead of screening: the ``invalid`` result
        (recorded, once per key) when they do not fit the tool's schema, as :meth:`call` would
        give it. None when they fit, when the tool is unknown, or when the call would be refused
        whatever its arguments (its refusal is recorded where it is screened)."""
        t = self.tools.get(tool)
        if t is None:
            return None
        try:
            t.validate_args(args)
        except ToolArgumentsError as exc:
            if key is not None:
                with self._lock:
                    done = self.kb.log.find(self.run_id, key)
                if done is not None:
                    p = done.payload
                    return CallResult(p.get("outcome", "invalid"), p.get("output", ""),
                                      p.get("reason", ""), seq=done.seq)
            if self.policy.call.action(self.check(tool, args, actor).decision) in (
                    "block", "reask"):
                return None
            return self._invalid(t, dict(args), actor, key, exc)
        return None

    def _invalid(self, t: Tool, args: dict[str, Any], actor: str, key: str | None,
                 exc: ToolArgumentsError) -> CallResult:
        """Record a call whose arguments do not fit: nothing runs; the caller is re-asked."""
        schema = json.dumps(t.args_schema(), separators=(",", ":"))
        ask = (f"{exc}. Nothing ran. Propose {t.name} again with arguments that fit its "
               f"schema: {schema}")
        c = CallCheck(t.name, "deny", [str(exc)], effect=t.effect)
        return self._finish(c, args, actor, key, "invalid", output=ask, reason=str(exc),
                            reask=True)

    def _in_doubt(self, t: Tool, args: dict[str, Any], actor: str, key: str, effect: Any,
                  answer: str | None, why: str = "", ask: bool = True) -> CallResult | None:
        """A call that may have happened and may not simply run again: a human says whether it
        did. None: the answer is ``run`` (go on); else the result to return."""
        why = (f"{t.name} may already have happened: "
               + (f"{why}; " if why else f"the process died during attempt {effect.attempts} "
                  "(an intent, no result); ")
               + "it is not declared idempotent; answer 'happened' to record it without "
               "running it, or 'run' to run it again")
        req = ApprovalRequest(f"doubt:{key}:{effect.attempts}", t.name, t.effect, args, actor,
                              [why], in_doubt=True)
        answer = effect.answer or answer if ask else None
        if answer is None and ask and self.approver is not None:
            said = self.approver(req)
            answer = "run" if said is True else said if said in ANSWERS else None
        if answer not in ANSWERS:
            if effect.attempts not in effect.asked:
                self.ledger.doubt(key, why)
            return CallResult("needs_approval", reason=why, approval=req)
        if effect.answer is None:
            self.ledger.resolve(key, answer)
        if answer == "run":
            return None
        c = self.check(t.name, args, actor)
        c.reasons.append("a human said the call had happened: recorded, not run again")
        return self._finish(c, args, actor, key, "ok", tool=t,
                            reason="a human said the call had happened; not run again")

    def refuse(self, tool: str, args: dict[str, Any], *, actor: str, reason: str,
               key: str | None = None, reask: bool = False) -> CallResult:
        """Record a call refused before it reached :meth:`call` (by plan screening, say)."""
        if key is not None:
            with self._lock:
                done = self.kb.log.find(self.run_id, key)
            if done is not None:
                return CallResult("refused", "", done.payload.get("reason", ""), seq=done.seq)
        t = self.tools.get(tool)
        c = CallCheck(tool, "deny", [reason], effect=t.effect if t else None)
        return self._finish(c, dict(args), actor, key, "refused", reason=reason, reask=reask)

    def _finish(self, c: CallCheck, args: dict[str, Any], actor: str, key: str | None,
                outcome: str, *, output: str = "", reason: str = "", tool: Tool | None = None,
                approval: ApprovalRequest | None = None, approved: bool | None = None,
                reask: bool = False) -> CallResult:
        flagged, screen, size = False, None, len(output)
        if outcome in ("ok", "error") and output:
            v = screen_output(output)
            flagged, screen = v.flagged, v.summary()
            setting = self.policy.output
            act = setting.action(v.decision)
            if act in ("block", "reask", "escalate"):
                output = f"[withheld: the output of {c.tool} reads like injected instructions " \
                         f"({', '.join(v.kinds)})]"
            elif flagged and setting.transform == "quarantine":
                output = quarantine(output[:self.max_output_chars], v, c.tool)
        shown = output if flagged else output[:self.max_output_chars]
        provenance = None
        if outcome == "ok" and tool is not None and c.resource is not None:
            provenance = {"write": "created" if c.owner is None else "overwritten",
                          "destructive": "removed"}.get(tool.effect)
        payload = {"tool": c.tool, "effect": c.effect, "args": _plain(args), "actor": actor,
                   "decision": c.decision, "reasons": c.reasons,
                   "catalogue_ids": c.catalogue_ids, "grant": c.grant, "outcome": outcome,
                   "reason": reason, "approved": approved, "resource": c.resource,
                   "owner": c.owner, "provenance": provenance, "output": shown,
                   "output_chars": size, "flagged": flagged, "reask": reask}
        ev = self._record("tool.call", actor, payload, key=key)
        if flagged and screen is not None:
            self._record("screen.output", "gateway", {"tool": c.tool, **screen}, parent=ev.seq,
                         key=f"{key}:output" if key else None)
        return CallResult(outcome, shown, reason, flagged, ev.seq, approval)


def _invoke(t: Tool, kwargs: dict[str, Any]) -> tuple[str, str]:
    """Run a tool: its output and ``ok``, or the error and ``error``. A call that takes longer
    than the tool's ``timeout`` is given up on (``timeout``, reported as an error, or in doubt
    when the ledger keeps it); Python cannot kill a thread, so the call may still finish later,
    and the error says so."""
    if t.timeout is None:
        try:
            return str(t.fn(**kwargs)), "ok"
        except Exception as exc:  # a tool's failure is data for the caller, not a crash
            return f"{type(exc).__name__}: {exc}", "error"
    box: list[tuple[str, str]] = []

    def run() -> None:
        try:
            box.append((str(t.fn(**kwargs)), "ok"))
        except Exception as exc:
            box.append((f"{type(exc).__name__}: {exc}", "error"))

    worker = threading.Thread(target=run, name=f"tool:{t.name}", daemon=True)
    worker.start()
    worker.join(t.timeout)
    if worker.is_alive() or not box:  # the caller records it as an error (or in doubt)
        return (f"TimeoutError: {t.name} did not answer within {t.timeout:g} s and was given "
                "up on; it may still complete in the background"), "timeout"
    return box[0]


_TOKEN = re.compile(r"[^\s\"'`,;|&<>()=\[\]{}*]+")


def _head(name: str) -> str:
    """A resource's or a word's first path segment, after any ``kind:``/``scheme://`` prefix:
    what a call must mention for screening to need that resource (a command on a parent folder
    names the segment of what is inside it). Erring towards inclusion costs only time."""
    key = collapse_dots(name.lower().split(":", 1)[-1]).strip("/")
    while key.startswith("./"):
        key = key[2:]
    return key.split("/", 1)[0]


def _plain(args: dict[str, Any]) -> dict[str, Any]:
    """Arguments as JSON data (what the log and screening see)."""
    plain: dict[str, Any] = json.loads(json.dumps(args, default=str))
    return plain
