"""The post-mortem of a run, built from its event log alone.

:func:`build_report` reads the run's events once and returns a :class:`Report`: a timeline;
tokens, cost and model time per persona and per stage; tool calls and their effects; plans and
screening verdicts; escalations and answers; breaker trips, overrides and what led to them; and
a suggested policy or failure-catalogue entry. ``markdown()`` is for the terminal, ``html()`` a
self-contained page with an inline SVG chart of cumulative tokens and cost over time.
"""

from __future__ import annotations

import html as _html
import math
from dataclasses import dataclass, field
from typing import Any

from mapek.errors import UnknownRunError
from mapek.events import (
    Answer,
    Approval,
    BreakerClosed,
    BreakerHalfOpen,
    BreakerNotified,
    BreakerOverride,
    BreakerStopped,
    BreakerTripped,
    Plan,
    QuestionDeferred,
    QuestionEscalated,
    RunConfig,
    ScreenVerdict,
    ToolCall,
    WatchdogRespawned,
    WatchdogRestarted,
    typed,
    typed_as,
)
from mapek.fold import RunFold, Spend
from mapek.models import Event
from mapek.safety.display import for_display

__all__ = ["Report", "build_report", "suggest"]

_NOISE = {"llm.call", "observer.monitor", "orchestrator.decision", "decision.made",
          "question.triaged", "topic"}
_LEAD_UP = 8
"""Events shown before a trip, besides those the policy named."""


@dataclass
class Report:
    run_id: str
    events: list[Event]
    fold: RunFold = field(default_factory=RunFold)
    """The run's figures (spend per persona and per stage, the timeline) from its log."""

    @property
    def spend_by_persona(self) -> dict[str, Spend]:
        return self.fold.by_actor

    @property
    def spend_by_stage(self) -> dict[str, Spend]:
        return self.fold.by_task

    @property
    def series(self) -> list[tuple[float, int, float]]:
        """(seconds since start, cumulative tokens, cumulative USD) after each model call."""
        return [(p.t, p.tokens, p.usd) for p in self.fold.timeline]

    @property
    def start(self) -> float:
        return self.events[0].ts

    def _of(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    def _t(self, ev: Event) -> str:
        return f"+{ev.ts - self.start:7.2f}s"

    # -- sections ------------------------------------------------------------------------

    def sections(self) -> list[tuple[str, list[str]]]:
        evs = self.events
        out: list[tuple[str, list[str]]] = []
        started = self.fold.started
        cfg = started.config if started is not None else RunConfig()
        total = self.fold.spend
        out.append(("Summary", [
            f"- run `{self.run_id}`: {len(evs)} events over {evs[-1].ts - self.start:.1f} s",
            f"- topic: {cfg.topic or '?'}; personas: {', '.join(cfg.personas)}; "
            f"model `{cfg.model or '?'}`",
            f"- model calls {total.calls}, tokens {total.tokens:,}, cost ${total.usd:.4f}, "
            f"model time {total.ms / 1000:.1f} s",
            f"- ended: {self._ending()}",
        ]))
        for title, table in (("Spend per persona", self.spend_by_persona),
                             ("Spend per stage", self.spend_by_stage)):
            rows = ["| who | calls | tokens | USD | model s | errors |",
                    "|---|---|---|---|---|---|"]
            rows += [f"| {k} | {s.calls} | {s.tokens:,} | {s.usd:.4f} | {s.ms / 1000:.2f} | "
                     f"{s.errors} |" for k, s in sorted(table.items(), key=lambda x: -x[1].tokens)]
            out.append((title, rows))
        tools = [(e, c) for e in self._of("tool.call") if (c := typed_as(e, ToolCall))]
        out.append(("Tool calls", [f"- #{e.seq} {e.actor} ran `{c.tool}` ({c.effect}) args "
                                   f"{c.args} → {c.outcome}" for e, c in tools]
                    or ["- none"]))
        plans = []
        for e in self._of("plan", "screen.verdict"):
            p = typed(e)
            if isinstance(p, Plan):
                who = ", ".join(s.persona or "?" for s in p.speakers)
                plans.append(f"- #{e.seq} round {p.round}: "
                             + (f"finish ({p.why})" if p.finish else
                                f"finish ({p.why}) after settling {len(p.settle)} calls"
                                if p.settle else
                                f"speakers {who}; {len(p.actions)} actions"))
            elif isinstance(p, ScreenVerdict):
                plans.append(f"  - screening #{e.seq}: {len(p.allowed)} allowed, "
                             f"{len(p.refused)} refused"
                             + "".join(f"; refused `{r.tool}`: {r.reason}" for r in p.refused))
        out.append(("Plans and screening verdicts", plans or ["- none"]))
        esc = []
        for e in self._of("question.escalated", "answer", "question.deferred", "approval"):
            p = typed(e)
            if isinstance(p, QuestionEscalated):
                esc.append(f"- #{e.seq} escalated {', '.join(p.qids)}")
            elif isinstance(p, Answer) and e.actor == "human":
                esc.append(f"  - #{e.seq} the human answered {p.qid}: {p.text}")
            elif isinstance(p, QuestionDeferred):
                esc.append(f"  - #{e.seq} {p.qid} deferred: {p.note}")
            elif isinstance(p, Approval):
                by = f"by policy ({p.note})" if e.actor == "policy" else f"by the {e.actor}"
                esc.append(f"  - #{e.seq} call {p.call_id} "
                           f"{'approved' if p.approved else 'refused'} {by}")
        out.append(("Escalations and answers", esc or ["- none"]))
        out.append(("Breaker", self._breaker()))
        out.append(("Timeline", [f"- `{self._t(e)}` #{e.seq} **{e.kind}** {e.actor}"
                                 + (f": {_short(e.text)}" if e.text else "")
                                 for e in evs if e.kind not in _NOISE]))
        out.append(("Suggestion", suggest(self)))
        return out

    def _ending(self) -> str:
        f, trip = self.fold.final, self.fold.last_trip
        if trip is not None and (f is None or f.seq < trip.seq):
            return f"breaker tripped ({trip.policy}): {trip.reason}"
        if f is not None:
            p = typed(f)
            return f"{f.kind} {p.get('status') or p.get('reason') or ''}"
        return "no final event (still running, or the worker died)"

    def _breaker(self) -> list[str]:
        lines: list[str] = []
        by_seq = {e.seq: e for e in self.events}
        for e in self._of("breaker.override"):
            o = typed_as(e, BreakerOverride) or BreakerOverride()
            lines.append(f"- #{e.seq} override by {o.by or e.actor}: {o.text}"
                         + (" **(forced open)**" if o.force_open else "")
                         + (f" **(disabled: {', '.join(o.disable)})**" if o.disable else ""))
        for e in self._of("worker.unwatched"):
            lines.append(f"- #{e.seq} the worker paused: no watchdog heartbeat")
        for e in self._of("watchdog.restarted", "watchdog.respawned"):
            w = typed(e)
            text = w.text if isinstance(w, WatchdogRestarted | WatchdogRespawned) else ""
            lines.append(f"- #{e.seq} {e.kind}: {text}")
        for e in self._of("breaker.half_open", "breaker.closed"):
            h = typed(e)
            text = h.text if isinstance(h, BreakerHalfOpen | BreakerClosed) else ""
            lines.append(f"- #{e.seq} {'half-open' if e.kind == 'breaker.half_open' else 'closed'}"
                         f": {text}")
        for e in self._of("breaker.tripped", "breaker.stopped", "breaker.notified"):
            p = typed(e)
            if isinstance(p, BreakerTripped):
                lines.append(f"- #{e.seq} **tripped** by `{p.policy}`: {p.reason}"
                             f" (threshold {p.threshold}, observed {p.observed})")
                cause = set(p.seqs)
                lead = sorted(cause | set(range(max(1, e.seq - _LEAD_UP), e.seq)))
                lines.append("  - what led to it:")
                for s in lead:
                    ev = by_seq.get(s)
                    if ev is not None:
                        mark = " ← cause" if s in cause else ""
                        lines.append(f"    - #{s} {ev.kind} {ev.actor}"
                                     f"{': ' + _short(ev.text, 80) if ev.text else ''}{mark}")
            elif isinstance(p, BreakerStopped):
                lines.append(f"- #{e.seq} worker stopped by "
                             f"{'SIGTERM' if p.how == 'term' else p.how} in "
                             f"{p.elapsed_ms} ms")
            elif isinstance(p, BreakerNotified):
                lines.append(f"- #{e.seq} notified {p.notifier}: "
                             f"{'ok' if p.ok else 'failed'} ({p.detail})")
        return lines or ["- the breaker never tripped"]

    # -- output ----------------------------------------------------------------------------

    def markdown(self) -> str:
        """The report as markdown, as a person may see it (secrets masked, control characters
        visible)."""
        parts = [f"# Post-mortem: run {self.run_id}"]
        for title, lines in self.sections():
            parts.append(f"## {title}\n\n" + "\n".join(lines))
        return for_display("\n\n".join(parts) + "\n")

    def svg(self, width: int = 720, height: int = 240) -> str:
        """Cumulative tokens (blue) and cost (orange) over time, each on its own scale."""
        pad = 40
        if not self.series:
            return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="60">' \
                   '<text x="10" y="30">no model calls</text></svg>'
        t_max = max(self.series[-1][0], 1e-9)
        k_max = max(self.series[-1][1], 1)
        u_max = max(self.series[-1][2], 1e-12)

        def pts(i: int, top: float) -> str:
            return " ".join(f"{pad + (row[0] / t_max) * (width - 2 * pad):.1f},"
                            f"{height - pad - (row[i] / top) * (height - 2 * pad):.1f}"
                            for row in self.series)

        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                f'role="img" aria-label="tokens and cost over time">'
                f'<rect width="100%" height="100%" fill="white"/>'
                f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
                f'stroke="#888"/><line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" '
                f'stroke="#888"/>'
                f'<polyline fill="none" stroke="#1f77b4" stroke-width="2" '
                f'points="{pts(1, k_max)}"/>'
                f'<polyline fill="none" stroke="#ff7f0e" stroke-width="2" stroke-dasharray="5,3" '
                f'points="{pts(2, u_max)}"/>'
                f'<text x="{pad}" y="{pad - 10}" font-size="12" fill="#1f77b4">tokens '
                f'(max {k_max:,})</text>'
                f'<text x="{width - pad}" y="{pad - 10}" font-size="12" fill="#ff7f0e" '
                f'text-anchor="end">USD (max {u_max:.4f})</text>'
                f'<text x="{width - pad}" y="{height - pad + 20}" font-size="12" '
                f'text-anchor="end">{t_max:.1f} s</text></svg>')

    def html(self) -> str:
        """A self-contained page; every text as a person may see it, then HTML-escaped."""
        body = [f"<h1>Post-mortem: run {_esc(self.run_id)}</h1>",
                "<h2>Tokens and cost over time</h2>", self.svg()]
        for title, raw in self.sections():
            lines = [for_display(ln) for ln in raw]
            body.append(f"<h2>{_html.escape(title)}</h2>")
            if lines and lines[0].startswith("|"):
                rows = [ln.strip("|").split("|") for ln in lines if not ln.startswith("|---")]
                body.append("<table>" + "".join(
                    "<tr>" + "".join(f"<{'th' if i == 0 else 'td'}>{_html.escape(c.strip())}"
                                     f"</{'th' if i == 0 else 'td'}>" for c in r) + "</tr>"
                    for i, r in enumerate(rows)) + "</table>")
            else:
                body.append("<pre>" + _html.escape("\n".join(lines)) + "</pre>")
        style = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto}"
                 "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}"
                 "pre{white-space:pre-wrap}")
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>mapek post-mortem "
                f"{_esc(self.run_id)}</title><style>{style}</style></head><body>"
                + "\n".join(body) + "</body></html>\n")


def _esc(text: str) -> str:
    return _html.escape(for_display(text))


def _short(text: str, n: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


_SUGGESTIONS = {
    "tokens": "the run spent its token budget",
    "cost": "the run reached its cost ceiling",
    "time": "the run ran out of time (or hung: check the last events)",
    "turns": "the discussion ran past its turn limit",
    "depth": "plans and tool calls nested too deep",
    "escalations": "too many questions went to the human",
    "forbidden_action": "an action of a forbidden effect class or tool ran",
    "human_created": "an agent destroyed something a human created",
    "error_rate": "too many calls failed in a row",
    "slow_rate": "too many calls were slow",
    "repeated_tool_call": "an agent repeated the same tool call",
    "repeated_message": "an agent repeated itself",
    "no_progress": "rounds went by with nothing new",
    "integrity": "the log's hash chain is broken: someone edited the log",
    "forced_open": "a person forced the breaker open",
    "evidence": "an agent's verdict was not borne out by its evidence (a rejected envelope): "
                "fix the failing tool or the producer before resuming",
}


def suggest(report: Report) -> list[str]:
    """A policy change or failure-catalogue entry to consider, from the last trip."""
    trip = report.fold.last_trip
    if trip is None:
        return ["- no trip: nothing to change. If this run should have been stopped earlier, "
                "tighten `knowledge/policies/default.yaml`."]
    pol, observed, threshold = trip.policy or "?", trip.observed, trip.threshold
    lines = [f"- what happened: {_SUGGESTIONS.get(pol, pol)}."]
    field_of = {"tokens": "max_tokens", "cost": "max_usd", "time": "time_limit",
                "turns": "max_turns", "depth": "max_depth", "escalations": "max_escalations"}
    if pol in field_of and isinstance(observed, (int, float)):
        name = {"cost": "usd"}.get(pol, pol)
        new = math.ceil(observed * 1.5) if isinstance(observed, int) else observed * 1.5
        lines.append(f"- if the work was legitimate: `mapek resume {report.run_id} --raise "
                     f"{name}={new:.6g} --reason \"...\"`, or in a policy file:")
        lines += ["", "```yaml", "extends: default", f"{field_of[pol]}: {new:.6g}", "```"]
        lines.append(f"- if it was a runaway, keep `{field_of[pol]}: {threshold}` and add a "
                     "catalogue entry (below).")
    entry = {"id": f"breaker-{pol.replace('_', '-')}", "title": _SUGGESTIONS.get(pol, pol),
             "principle": "circuit breakers",
             "detect": f"watchdog policy `{pol}` (threshold {threshold})",
             "example": f"run {report.run_id}: {trip.reason}"}
    lines += ["- failure-catalogue entry to consider (`knowledge/failure-catalogue.yaml`):", "",
              "```yaml", "- " + "\n  ".join(f"{k}: {v!r}" for k, v in entry.items()), "```"]
    return lines


def build_report(kb: Any, run_id: str) -> Report:
    """Read the run's log and fold it into a :class:`Report`."""
    events = kb.events(run_id)
    if not events:
        raise UnknownRunError(run_id)
    return Report(run_id, events, RunFold.of(events, run_id))
