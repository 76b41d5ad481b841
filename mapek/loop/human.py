"""The human in the loop: the escalation node, and the channels that reach a person.

The escalation node calls LangGraph's ``interrupt`` first and does nothing before it: an
interrupted node re-runs from its start on resume, so a side effect placed before the interrupt
would happen twice. The worker turns the interrupt into an ``escalation.requested`` event; a front
end's :class:`HumanChannel` shows the batch to a person and writes the answers into the log.
"""

from __future__ import annotations

import abc
import queue
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mapek.loop.state import HumanMode, LoopState

if TYPE_CHECKING:
    from mapek.loop.context import LoopContext

__all__ = ["escalate", "approve", "for_human", "HumanChannel", "TerminalChannel",
           "ProgrammaticChannel", "PolicyChannel", "Reply", "Approvals"]

Reply = dict[str, str | None]
"""qid -> the human's answer, or ``None`` to defer the question."""

Approvals = dict[str, "bool | str"]
"""call_id -> whether the human approves that exact call; for a call in doubt (the worker died
during it) also ``"happened"``: it did happen, record it without running it again."""


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
    for a in v.get("pending", []):
        if (replies or {}).get(a["call_id"]):
            allowed.append({**a, "approved": True})
        else:
            refused.append({**a, "reason": "the human did not approve this call: "
                            + "; ".join(a.get("reasons", []))})
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
        ``args``). By default nothing is approved."""
        return {r["call_id"]: False for r in requests}


class TerminalChannel(HumanChannel):
    """Asks at the terminal with rich; an empty answer defers the question."""

    def __init__(self, console: Any | None = None) -> None:
        from rich.console import Console

        self.console = console or Console(highlight=False)

    def ask(self, questions: Sequence[dict[str, Any]]) -> Reply:
        from rich.prompt import Prompt

        c = self.console
        c.rule("[bold yellow]the observer needs your judgement")
        out: Reply = {}
        for q in questions:
            c.print(f"[bold]{q['qid']}[/] from [bold]{q['asked_by']}[/] "
                    f"[dim](consequential: {q.get('reason')})[/]\n  {q['text']}")
            try:
                answer = Prompt.ask("  your answer (empty to defer)", default="",
                                    console=c, show_default=False)
            except EOFError:
                answer = ""
            out[q["qid"]] = answer.strip() or None
        c.rule()
        return out

    def notify(self, text: str) -> None:
        self.console.print(f"[yellow]{text}[/]")

    def approve(self, requests: Sequence[dict[str, Any]]) -> Approvals:
        import json

        from rich.prompt import Confirm

        out: Approvals = {}
        self.console.rule("[bold red]a call needs your approval")
        for r in requests:
            self.console.print(f"[bold]{r['call_id']}[/] {r.get('proposed_by')} wants to run "
                               f"[bold]{r['tool']}[/] ({r.get('effect')}) with exactly:\n  "
                               f"{json.dumps(r.get('args', {}), ensure_ascii=False)}\n  [dim]"
                               f"{'; '.join(r.get('reasons') or [])}[/]", soft_wrap=True)
            try:
                out[r["call_id"]] = Confirm.ask("  approve this call?", default=False,
                                                console=self.console)
            except EOFError:
                out[r["call_id"]] = False
        return out


class ProgrammaticChannel(HumanChannel):
    """For the Python API: a callback answers, or questions wait until ``answer`` is called."""

    def __init__(self, answer: Callable[[dict[str, Any]], str | None] | None = None,
                 approve: Callable[[dict[str, Any]], bool | str] | None = None) -> None:
        self._callback = answer
        self._approve = approve
        self.pending: dict[str, dict[str, Any]] = {}
        self._replies: queue.Queue[tuple[str, str | None]] = queue.Queue()

    def ask(self, questions: Sequence[dict[str, Any]]) -> Reply:
        if self._callback is not None:
            return {q["qid"]: self._callback(q) for q in questions}
        self.pending.update({q["qid"]: q for q in questions})
        out: Reply = {}
        while any(q["qid"] not in out for q in questions):
            qid, text = self._replies.get()
            out[qid] = text
        for qid in out:
            self.pending.pop(qid, None)
        return out

    def put(self, qid: str, text: str | None) -> None:
        self._replies.put((qid, text))

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
