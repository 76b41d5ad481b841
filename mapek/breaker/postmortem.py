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
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from mapek.errors import UnknownRunError
from mapek.models import Event

__all__ = ["Report", "build_report", "suggest"]

_NOISE = {"llm.call", "observer.monitor", "orchestrator.decision", "decision.made",
          "question.triaged", "topic"}
_LEAD_UP = 8
"""Events shown before a trip, besides those the policy named."""


@dataclass
class _Spend:
    calls: int = 0
    tokens: int = 0
    usd: float = 0.0
    ms: float = 0.0
    errors: int = 0


@dataclass
class Report:
    run_id: str
    events: list[Event]
    spend_by_persona: dict[str, _Spend] = field(default_factory=dict)
    spend_by_stage: dict[str, _Spend] = field(default_factory=dict)
    series: list[tuple[float, int, float]] = field(default_factory=list)
    """(seconds since start, cumulative tokens, cumulative USD) after each model call."""

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
        cfg = (self._of("run.started") or [evs[0]])[0].payload.get("config", {})
        total = _Spend()
        for s in self.spend_by_persona.values():
            total.calls += s.calls
            total.tokens += s.tokens
            total.usd += s.usd
            total.ms += s.ms
        out.append(("Summary", [
            f"- run `{self.run_id}`: {len(evs)} events over {evs[-1].ts - self.start:.1f} s",
            f"- topic: {cfg.get('topic', '?')}; personas: {', '.join(cfg.get('personas', []))}; "
            f"model `{cfg.get('model', '?')}`",
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
        tools = self._of("tool.call")
        out.append(("Tool calls", [f"- #{e.seq} {e.actor} ran `{e.payload.get('tool')}` "
                                   f"({e.payload.get('effect')}) args {e.payload.get('args', {})}"
                                   f" → {e.payload.get('outcome')}" for e in tools]
                    or ["- none"]))
        plans = []
        for e in self._of("plan", "screen.verdict"):
            p = e.payload
            if e.kind == "plan":
                who = ", ".join(s.get("persona", "?") for s in p.get("speakers", []))
                plans.append(f"- #{e.seq} round {p.get('round')}: "
                             + (f"finish ({p.get('why')})" if p.get("finish") else
                                f"speakers {who}; {len(p.get('actions', []))} actions"))
            else:
                plans.append(f"  - screening #{e.seq}: {len(p.get('allowed', []))} allowed, "
                             f"{len(p.get('refused', []))} refused"
                             + "".join(f"; refused `{r.get('tool')}`: {r.get('reason')}"
                                       for r in p.get("refused", [])))
        out.append(("Plans and screening verdicts", plans or ["- none"]))
        esc = []
        for e in self._of("question.escalated", "answer", "question.deferred", "approval"):
            p = e.payload
            if e.kind == "question.escalated":
                esc.append(f"- #{e.seq} escalated {', '.join(p.get('qids', []))}")
            elif e.kind == "answer" and e.actor == "human":
                esc.append(f"  - #{e.seq} the human answered {p.get('qid')}: {p.get('text')}")
            elif e.kind == "question.deferred":
                esc.append(f"  - #{e.seq} {p.get('qid')} deferred: {p.get('note', '')}")
            elif e.kind == "approval":
                esc.append(f"  - #{e.seq} call {p.get('call_id')} "
                           f"{'approved' if p.get('approved') else 'refused'} by the human")
        out.append(("Escalations and answers", esc or ["- none"]))
        out.append(("Breaker", self._breaker()))
        out.append(("Timeline", [f"- `{self._t(e)}` #{e.seq} **{e.kind}** {e.actor}"
                                 + (f": {_short(e.text)}" if e.text else "")
                                 for e in evs if e.kind not in _NOISE]))
        out.append(("Suggestion", suggest(self)))
        return out

    def _ending(self) -> str:
        for e in reversed(self.events):
            if e.kind == "breaker.tripped":
                return f"breaker tripped ({e.payload.get('policy')}): {e.payload.get('reason')}"
            if e.kind in ("run.finished", "run.stopped", "run.failed", "run.paused"):
                return f"{e.kind} {e.payload.get('status') or e.payload.get('reason', '')}"
        return "no final event (still running, or the worker died)"

    def _breaker(self) -> list[str]:
        lines: list[str] = []
        by_seq = {e.seq: e for e in self.events}
        for e in self._of("breaker.override"):
            p = e.payload
            lines.append(f"- #{e.seq} override by {p.get('by', e.actor)}: {p.get('text', '')}"
                         + (" **(forced open)**" if p.get("force_open") else "")
                         + (f" **(disabled: {', '.join(p['disable'])})**"
                            if p.get("disable") else ""))
        for e in self._of("worker.unwatched"):
            lines.append(f"- #{e.seq} the worker paused: no watchdog heartbeat")
        for e in self._of("breaker.half_open", "breaker.closed"):
            lines.append(f"- #{e.seq} {'half-open' if e.kind == 'breaker.half_open' else 'closed'}"
                         f": {e.payload.get('text', '')}")
        for e in self._of("breaker.tripped", "breaker.stopped", "breaker.notified"):
            p = e.payload
            if e.kind == "breaker.tripped":
                lines.append(f"- #{e.seq} **tripped** by `{p.get('policy')}`: {p.get('reason')}"
                             f" (threshold {p.get('threshold')}, observed {p.get('observed')})")
                cause = set(p.get("seqs", []))
                lead = sorted(cause | set(range(max(1, e.seq - _LEAD_UP), e.seq)))
                lines.append("  - what led to it:")
                for s in lead:
                    ev = by_seq.get(s)
                    if ev is not None:
                        mark = " ← cause" if s in cause else ""
                        lines.append(f"    - #{s} {ev.kind} {ev.actor}"
                                     f"{': ' + _short(ev.text, 80) if ev.text else ''}{mark}")
            elif e.kind == "breaker.stopped":
                lines.append(f"- #{e.seq} worker stopped by "
                             f"{'SIGTERM' if p.get('how') == 'term' else p.get('how')} in "
                             f"{p.get('elapsed_ms')} ms")
            else:
                lines.append(f"- #{e.seq} notified {p.get('notifier')}: "
                             f"{'ok' if p.get('ok') else 'failed'} ({p.get('detail')})")
        return lines or ["- the breaker never tripped"]

    # -- output ----------------------------------------------------------------------------

    def markdown(self) -> str:
        parts = [f"# Post-mortem: run {self.run_id}"]
        for title, lines in self.sections():
            parts.append(f"## {title}\n\n" + "\n".join(lines))
        return "\n\n".join(parts) + "\n"

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
        body = [f"<h1>Post-mortem: run {_html.escape(self.run_id)}</h1>",
                "<h2>Tokens and cost over time</h2>", self.svg()]
        for title, lines in self.sections():
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
                f"{_html.escape(self.run_id)}</title><style>{style}</style></head><body>"
                + "\n".join(body) + "</body></html>\n")


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
    trips = report._of("breaker.tripped")  # noqa: SLF001
    if not trips:
        return ["- no trip: nothing to change. If this run should have been stopped earlier, "
                "tighten `knowledge/policies/default.yaml`."]
    p = trips[-1].payload
    pol, observed, threshold = p.get("policy", "?"), p.get("observed"), p.get("threshold")
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
             "example": f"run {report.run_id}: {p.get('reason')}"}
    lines += ["- failure-catalogue entry to consider (`knowledge/failure-catalogue.yaml`):", "",
              "```yaml", "- " + "\n  ".join(f"{k}: {v!r}" for k, v in entry.items()), "```"]
    return lines


def build_report(kb: Any, run_id: str) -> Report:
    """Read the run's log and fold it into a :class:`Report`."""
    events = kb.events(run_id)
    if not events:
        raise UnknownRunError(run_id)
    rep = Report(run_id, events)
    persona: dict[str, _Spend] = defaultdict(_Spend)
    stage: dict[str, _Spend] = defaultdict(_Spend)
    tokens, usd = 0, 0.0
    for e in events:
        if e.kind != "llm.call":
            continue
        p = e.payload
        k = int(p.get("prompt_tokens") or 0) + int(p.get("completion_tokens") or 0)
        c, ms = float(p.get("cost_usd") or 0.0), float(p.get("latency_ms") or 0.0)
        for s in (persona[e.actor], stage[str(p.get("task") or "?")]):
            s.calls, s.tokens, s.usd, s.ms = s.calls + 1, s.tokens + k, s.usd + c, s.ms + ms
            s.errors += p.get("outcome") in ("error", "retry")
        tokens, usd = tokens + k, usd + c
        rep.series.append((e.ts - events[0].ts, tokens, usd))
    rep.spend_by_persona, rep.spend_by_stage = dict(persona), dict(stage)
    return rep
