"""Showing a run's events to a person in a terminal (rich), one line or block per event.

Used by ``mapek discuss``, ``mapek resume`` and ``mapek runs show``. Events that only matter to
machines (checkpoints, decisions with scores) are shown dimmed or not at all unless verbose.
"""

from __future__ import annotations

from typing import Any

from mapek.models import Event

__all__ = ["EventRenderer"]

_QUIET = {"worker.started", "observer.monitor", "orchestrator.decision", "decision.made",
          "question.triaged", "llm.call", "topic"}


class EventRenderer:
    """Prints events to a rich console, with each persona in its colour and role."""

    def __init__(self, console: Any, personas: dict[str, Any] | None = None,
                 verbose: bool = False, offline: bool = False) -> None:
        self.c = console
        self.personas = personas or {}
        self.verbose = verbose
        self.offline = offline

    def _who(self, name: str) -> str:
        p = self.personas.get(name)
        if p is None:
            return f"[bold]{name}[/]"
        return f"[bold {p.color}]{name}[/] [dim]({p.role})[/]"

    def render(self, ev: Event) -> None:
        p, c, k = ev.payload, self.c, ev.kind
        if k in _QUIET and not self.verbose:
            return
        if k == "run.started":
            cfg = p["config"]
            c.rule(f"[bold]{cfg['topic']}")
            c.print(f"[dim]run {ev.run_id} · personas {', '.join(cfg['personas'])} · model "
                    f"{cfg['model']}{' (offline: scripted, not reasoned)' if self.offline else ''}"
                    f" · up to {cfg['max_turns']} turns[/]")
        elif k == "agenda":
            c.print("[bold]agenda:[/] " + " · ".join(f"{i + 1}. {x}" for i, x in
                                                       enumerate(p["items"])))
        elif k == "plan" and not p.get("finish"):
            who = ", ".join(f"{s['persona']}" + (f" (answers {s['qid']})" if s["task"] == "answer"
                            else " (hears the human)" if s["task"] in ("react", "interjection")
                            else "")
                            for s in p["speakers"])
            c.print(f"[dim]round {p['round']} · {p.get('agenda_item', '')} · next: {who}[/]")
        elif k == "message":
            stance = p.get("turn", {}).get("stance", "")
            c.print(f"{self._who(ev.actor)} [dim]{stance}[/]\n  {p['text']}")
        elif k == "question":
            c.print(f"  [cyan]? {p['qid']}[/] {ev.actor} → {p.get('to') or 'anyone'}: {p['text']}")
        elif k == "question.routed":
            c.print(f"  [cyan]↪ {p['qid']}[/] routed to {p['to']} [dim]({p['why']})[/]")
        elif k == "question.escalated":
            c.print(f"  [yellow]! {', '.join(p['qids'])}[/] consequential, for the human "
                    f"[dim]({', '.join(f'{q}: {r}' for q, r in p['reasons'].items())})[/]")
        elif k == "question.deferred":
            c.print(f"  [yellow]… {p['qid']}[/] deferred: {p.get('note', '')}")
        elif k == "answer" and ev.actor == "human":
            c.print(f"  [green]✓ {p['qid']}[/] the human answered: {p['text']}")
        elif k == "answer":
            c.print(f"  [green]✓ {p['qid']}[/] answered by {ev.actor}")
        elif k == "interjection":
            c.print(f"[bold]human[/] interjects: {p['text']}")
        elif k == "screen.verdict" and (p["refused"] or self.verbose):
            for r in p["refused"]:
                c.print(f"  [red]✗ screened out[/] {r['tool']} {r.get('args', {})} proposed by "
                        f"{r.get('proposed_by')}: {r['reason']}")
        elif k == "tool.call" and p["outcome"] == "refused":
            if self.verbose:
                c.print(f"  [dim]⚙ {ev.actor}: {p['tool']} refused[/]")
        elif k == "tool.call":
            c.print(f"  [dim]⚙ {ev.actor} ran {p['tool']} ({p['effect']}): {p['outcome']}[/]")
        elif k == "approval.requested":
            for r in p["approvals"]:
                c.print(f"  [red]? {r['call_id']}[/] {r.get('proposed_by')} asks to run "
                        f"{r['tool']} ({r.get('effect')}) {r.get('args', {})}: needs your "
                        f"approval", soft_wrap=True)
        elif k == "approval":
            c.print(f"  [{'green' if p['approved'] else 'red'}]{p['call_id']}[/] "
                    f"{'approved' if p['approved'] else 'refused'} by the human")
        elif k in ("screen.output", "screen.human"):
            c.print(f"  [magenta]⚑ {k}[/] {', '.join(p.get('kinds', []))}"
                    + (f" in the output of {p['tool']}" if p.get("tool") else "")
                    + (" (quarantined)" if k == "screen.output" else " (redacted)"))
        elif k == "observer.analysis" and (p.get("warning") or self.verbose):
            c.print(f"  [magenta]observer:[/] {p.get('warning') or p.get('status')}")
        elif k == "run.paused":
            c.print(f"[dim]paused after round {p.get('round')}[/]")
        elif k in ("run.stopped", "run.failed"):
            c.print(f"[bold red]{k}[/]: {p.get('reason', '')}")
        elif k == "breaker.tripped":
            c.print(f"[bold red]⏻ breaker tripped[/] ({p['policy']}): {p['reason']} "
                    f"[dim](threshold {p['threshold']}, observed {p['observed']}, events "
                    f"{', '.join(f'#{s}' for s in p['seqs'])})[/]", soft_wrap=True)
        elif k == "breaker.stopped":
            c.print(f"[red]  worker stopped[/] ({'SIGTERM' if p['how'] == 'term' else 'SIGKILL'}"
                    f" after {p['elapsed_ms']:.0f} ms); resumable: {p.get('resume', '')}")
        elif k == "breaker.notified":
            c.print(f"  [dim]notified {p['notifier']}: {'ok' if p['ok'] else 'FAILED'} "
                    f"({p['detail']})[/]")
        elif k in ("breaker.override", "breaker.half_open", "breaker.closed",
                   "worker.unwatched", "worker.watched"):
            c.print(f"[yellow]{k}[/]: {p.get('text') or p}")
        elif k == "decision.made":  # verbose only (quiet otherwise)
            chosen = ", ".join(p["chosen"]) if isinstance(p["chosen"], list) else p["chosen"]
            c.print(f"  [dim]⤷ {p['point']} {p['subject']}: chose {chosen or '(none)'} of "
                    f"{', '.join(f'{o} {v:g}' for o, v in p['options'].items())} "
                    f"({p['why']})[/]", soft_wrap=True)
        elif k == "run.finished":
            c.print(f"[dim]finished: {p.get('status')}[/]")
        elif self.verbose:
            c.print(f"[dim]{ev.seq:>5} {k} {ev.actor} {p}[/]")
