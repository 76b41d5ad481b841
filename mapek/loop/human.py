"""The human in the loop: the escalation node, and the channels that reach a person.

The escalation node calls LangGraph's ``interrupt`` first and does nothing before it: an
interrupted node re-runs from its start on resume, so a side effect placed before the interrupt
would happen twice. The worker turns the interrupt into an ``escalation.requested`` event; a front
end's :class:`HumanChannel` shows the batch to a person and writes the answers into the log.
"""

from __future__ import annotations

import abc
import os
import queue
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mapek.loop.state import HumanMode, LoopState

if TYPE_CHECKING:
    from mapek.loop.context import LoopContext

__all__ = ["escalate", "approve", "for_human", "HumanChannel", "TerminalChannel",
           "ProgrammaticChannel", "PolicyChannel", "PolicyRefusal", "Reply", "Approvals"]

Reply = dict[str, str | None]
"""qid -> the human's answer, or ``None`` to defer the question. A question left out of the
reply is left alone (it was settled elsewhere, or it waits in the log)."""


@dataclass(frozen=True)
class PolicyRefusal:
    """A call refused by the front end's rule, not by a person: recorded as an ``approval``
    event with actor ``policy`` and ``why`` as its note (a channel with nobody behind it never
    writes in a person's name)."""

    why: str


Approvals = dict[str, "bool | str | PolicyRefusal"]
"""call_id -> whether the human approves that exact call; for a call in doubt (the worker died
during it) also ``"happened"``: it did happen, record it without running it again; or a
:class:`PolicyRefusal`. A call left out is left waiting in the log (``mapek approve``)."""


def for_human(text: str, setting: Any = None) -> tuple[str, dict[str, Any] | None]:
    """The pre-human check (:func:`mapek.safety.content.for_human`): what the person is shown,
    and the finding."""
    from mapek.safety.content import for_human as check

    return check(text, setting)


def escalate(state: LoopState, ctx: LoopContext) -> dict[str, Any]:
    from langgraph.types import interrupt

    batch = [{k: state["questions"][qid].get(k) for k in ("qid", "text", "asked_by", "to",
                                                          "reason", "score")}
             for qid in state["to_escalate"]]
    flags = {}
    q: dict[str, Any] | None  # a question of the batch, then of the state (None: not there)
    for q in batch:  # the pre-human check: pure, so it may come before the interrupt
        q["text"], found = for_human(q["text"] or "", ctx.screening.human)
        if found:
            flags[q["qid"]] = found
    replies: Reply = interrupt({"questions": batch})  # nothing above this line writes anything
    for qid, found in flags.items():
        ctx.record("screen.human", "observer", {"qid": qid, **found}, key=f"screen.human:{qid}")
    questions = {k: dict(v) for k, v in state["questions"].items()}
    for qid, text in (replies or {}).items():
        q = questions.get(qid)
        if q is None or q["status"] == "answered":
            continue
        if text:
            q.update(status="answered", answer=text, answered_by="human", needs_reaction=True)
        else:
            q.update(status="deferred")
    return {"questions": questions, "to_escalate": []}


def approve(state: LoopState, ctx: LoopContext) -> dict[str, Any]:
    """Ask the human about each pending destructive or external call, with its exact arguments.

    The worker publishes the interrupt as ``approval.requested`` and resumes with the
    ``approval`` events a front end writes. An unanswered call is not approved.
    """
    from langgraph.types import interrupt

    v = state["verdict"]
    shown = [{k: a.get(k) for k in ("call_id", "tool", "effect", "args", "proposed_by",
                                    "reasons", "why")} for a in v.get("pending", [])]
    replies: Approvals = interrupt({"approvals": shown})  # nothing above this line writes
    allowed, refused = list(v.get("allowed", [])), list(v.get("refused", []))
    with ctx._lock:  # noqa: SLF001 - the context's log lock
        by_policy = {e.payload.get("call_id"): e.payload.get("note") or "" for e in ctx.kb.events(
            ctx.run_id, kinds=["approval"]) if e.actor == "policy"}
    for a in v.get("pending", []):
        if (replies or {}).get(a["call_id"]):
            allowed.append({**a, "approved": True})
        else:
            who = (f"refused by policy ({by_policy[a['call_id']]})"
                   if a["call_id"] in by_policy else "the human did not approve this call")
            refused.append({**a, "reason": f"{who}: " + "; ".join(a.get("reasons", []))})
    return {"verdict": {**v, "allowed": allowed, "refused": refused, "pending": []}}


class HumanChannel(abc.ABC):
    """How a front end puts a batch of consequential questions in front of a person."""

    mode: HumanMode = "interactive"
    """The session mode this channel needs: ``interactive`` channels pause the loop."""

    @abc.abstractmethod
    def ask(self, questions: Sequence[dict[str, Any]]) -> Reply:
        """Answers for the batch (``None`` defers a question). May block."""

    def notify(self, text: str) -> None:  # noqa: B027 - optional hook, does nothing by default
        """Tell the person something that needs no answer."""

    def approve(self, requests: Sequence[dict[str, Any]]) -> Approvals:
        """Approve or refuse each destructive or external call (its exact arguments are in
        ``args``; ``queued``: a ``queue`` session goes on meanwhile). By default nothing is
        approved: a call the loop stops for is refused by policy (this channel asks nobody),
        a queued one is left to wait in the log for ``mapek approve``."""
        return {r["call_id"]: PolicyRefusal(
            f"{type(self).__name__} asks nobody to approve calls: refused") for r in requests
            if not r.get("queued")}

    def settled(self, key: str, how: str) -> None:  # noqa: B027 - optional hook
        """A question (qid) or call (call_id) of the batch being asked was settled elsewhere
        (another front end answered it, or the run ended); ``how`` says what happened, for the
        person. Called from another thread while :meth:`ask` or :meth:`approve` runs: a channel
        that waits for a person stops waiting for that one and leaves it out of its reply."""


def _shown(value: Any) -> str:
    """A value for the terminal's markup: secrets masked, control characters visible, markup
    escaped."""
    from rich.markup import escape

    from mapek.safety.display import for_display

    return escape(for_display(str(value)))


class TerminalChannel(HumanChannel):
    """Asks at the terminal with rich; an empty answer defers the question.

    While it waits for a line, a question or call settled elsewhere (:meth:`settled`) ends the
    wait: the person is told who settled it and the channel goes on to the next one."""

    def __init__(self, console: Any | None = None, stdin: Any | None = None) -> None:
        from rich.console import Console

        self.console = console or Console(highlight=False)
        self._stdin = stdin
        self._done: dict[str, str] = {}
        self._lock = threading.Lock()
        self._buf = b""
        self._eof = False

    def settled(self, key: str, how: str) -> None:
        with self._lock:
            self._done[key] = how

    def _settled_how(self, key: str) -> str | None:
        with self._lock:
            return self._done.get(key)

    def _fd(self) -> int | None:
        """The input's file descriptor, when it can be waited on with a timeout (POSIX)."""
        if os.name != "posix":
            return None
        try:
            return int((self._stdin or sys.stdin).fileno())
        except (AttributeError, OSError, ValueError):
            return None

    def _line(self, prompt: str, key: str) -> str | None:
        """A line typed at the terminal ('' at end of input), or None once ``key`` is settled
        elsewhere."""
        self.console.print(prompt, end="", markup=False, highlight=False)
        fd = self._fd()
        if fd is None:  # no descriptor to wait on: a plain blocking read
            try:
                return str((self._stdin or sys.stdin).readline()).rstrip("\n")
            except EOFError:
                return ""
        import select

        while b"\n" not in self._buf and not self._eof:
            if self._settled_how(key) is not None:
                self.console.print()
                if os.isatty(fd):  # what was half typed belonged to this question
                    import termios

                    termios.tcflush(fd, termios.TCIFLUSH)
                return None
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                chunk = os.read(fd, 4096)
                self._buf += chunk
                self._eof = not chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode("utf-8", "replace").rstrip("\r")

    def _elsewhere(self, key: str) -> bool:
        how = self._settled_how(key)
        if how is not None:
            self.console.print(f"  [bold cyan]{key}[/] {how}; going on", soft_wrap=True)
        return how is not None

    def ask(self, questions: Sequence[dict[str, Any]]) -> Reply:
        c = self.console
        c.rule("[bold yellow]the observer needs your judgement")
        out: Reply = {}
        for q in questions:
            if self._elsewhere(q["qid"]):
                continue
            c.print(f"[bold]{_shown(q['qid'])}[/] from [bold]{_shown(q['asked_by'])}[/] "
                    f"[dim](consequential: {_shown(q.get('reason'))})[/]\n  "
                    f"{_shown(q['text'])}")
            answer = self._line("  your answer (empty to defer): ", q["qid"])
            if answer is None:
                self._elsewhere(q["qid"])
                continue
            out[q["qid"]] = answer.strip() or None
        c.rule()
        return out

    def notify(self, text: str) -> None:
        self.console.print(f"[yellow]{_shown(text)}[/]", soft_wrap=True)

    def approve(self, requests: Sequence[dict[str, Any]]) -> Approvals:
        import json

        out: Approvals = {}
        self.console.rule("[bold red]a call needs your approval")
        for r in requests:
            if self._elsewhere(r["call_id"]):
                continue
            self.console.print(f"[bold]{_shown(r['call_id'])}[/] {_shown(r.get('proposed_by'))} "
                               f"wants to run [bold]{_shown(r['tool'])}[/] "
                               f"({_shown(r.get('effect'))}) with exactly:\n  "
                               f"{_shown(json.dumps(r.get('args', {}), ensure_ascii=False))}"
                               f"\n  [dim]{_shown('; '.join(r.get('reasons') or []))}[/]",
                               soft_wrap=True)
            while True:
                said = self._line("  approve this call? [y/n] (n): ", r["call_id"])
                if said is None or said.strip().lower() in ("", "y", "yes", "n", "no"):
                    break
                self.console.print("  [prompt.invalid]Please enter Y or N")
            if said is None:
                self._elsewhere(r["call_id"])
                continue
            out[r["call_id"]] = said.strip().lower() in ("y", "yes")
        return out


@dataclass(frozen=True)
class _Settled:
    """In a :class:`ProgrammaticChannel`'s queue: the question was settled elsewhere."""

    how: str


class ProgrammaticChannel(HumanChannel):
    """For the Python API: a callback answers, or questions wait until ``answer`` is called."""

    def __init__(self, answer: Callable[[dict[str, Any]], str | None] | None = None,
                 approve: Callable[[dict[str, Any]], bool | str] | None = None) -> None:
        self._callback = answer
        self._approve = approve
        self.pending: dict[str, dict[str, Any]] = {}
        self._replies: queue.Queue[tuple[str, str | None | _Settled]] = queue.Queue()

    def ask(self, questions: Sequence[dict[str, Any]]) -> Reply:
        if self._callback is not None:
            return {q["qid"]: self._callback(q) for q in questions}
        self.pending.update({q["qid"]: q for q in questions})
        got: dict[str, str | None | _Settled] = {}
        while any(q["qid"] not in got for q in questions):
            qid, text = self._replies.get()
            got[qid] = text
        for qid in got:
            self.pending.pop(qid, None)
        return {qid: text for qid, text in got.items() if not isinstance(text, _Settled)}

    def put(self, qid: str, text: str | None) -> None:
        self._replies.put((qid, text))

    def settled(self, key: str, how: str) -> None:
        if self._callback is None:  # a question waited for (or about to be): stop waiting
            self._replies.put((key, _Settled(how)))

    def approve(self, requests: Sequence[dict[str, Any]]) -> Approvals:
        if self._approve is None:
            return super().approve(requests)
        out: Approvals = {}
        for r in requests:
            said = self._approve(r)
            if said == "happened":  # only a call in doubt can have happened; else: refused
                out[r["call_id"]] = "happened" if r.get("in_doubt") else False
            else:
                out[r["call_id"]] = bool(said)
        return out


class PolicyChannel(HumanChannel):
    """Batch runs: nobody is there. ``queue`` lets questions wait in the log while the discussion
    goes on; ``defer`` sets them aside with a note for the synthesis."""

    def __init__(self, mode: HumanMode = "queue") -> None:
        if mode == "interactive":
            raise ValueError("a policy channel is non-interactive: use 'queue' or 'defer'")
        self.mode = mode

    def ask(self, questions: Sequence[dict[str, Any]]) -> Reply:
        return {q["qid"]: None for q in questions}

    def approve(self, requests: Sequence[dict[str, Any]]) -> Approvals:
        """Nothing in a person's name: a queued call waits in the log for ``mapek approve``;
        a call the loop stops for (a run made interactive, driven from here) is refused by
        policy, saying why."""
        return {r["call_id"]: PolicyRefusal(
            f"a non-interactive front end ({self.mode}): nobody attends it to approve calls")
            for r in requests if not r.get("queued")}
