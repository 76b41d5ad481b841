"""Runs in Jupyter: tables (pandas), charts and the loop's graph (matplotlib), a live view.

:class:`~mapek.api.Session` uses these (``s.events()``, ``s.plot()``, ``s.graph()``,
``s.live()``, its HTML repr), and :func:`mapek.api.runs_table` the runs-level table; everything
here reads the log alone. pandas and matplotlib are optional (``pip install 'mapek[notebook]'``)
and imported only when a table or a chart is asked for; a chart is drawn on its own figure
(no pyplot, no global state) and shows itself in Jupyter as a PNG.
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from mapek.errors import ConfigError
from mapek.events import Message, ObserverAnalysis, typed
from mapek.fold import ESCALATION_KINDS, RunFold, fold_questions

if TYPE_CHECKING:
    from mapek.loop.questions import QuestionRecord
    from mapek.models import Event

__all__ = ["Chart", "GraphDrawing", "events_frame", "runs_frame", "plot_run", "plot_runs",
           "draw_graph", "node_visits", "session_html", "positions_by_round", "SessionView"]

_EXTRA = "pip install 'mapek[notebook]'"
_MILESTONES = ("run.started", "worker.started", "plan", "question.escalated", "answer",
               "approval.requested", "approval", "interjection", "breaker.tripped",
               "breaker.override", "run.paused", "run.stopped", "run.failed", "run.finished")
"""The kinds a session's small timeline shows (an answer only when the human gave it)."""
_STANCE_COLOURS = {"support": "#2ca02c", "conditional": "#f2b134", "oppose": "#d62728",
                   "neutral": "#9e9e9e", "undecided": "#c7c7c7"}


def _pandas() -> Any:
    try:
        import pandas as pd  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise ConfigError(f"tables of runs need pandas: {_EXTRA}") from None
    return pd


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ConfigError(f"charts of runs need matplotlib: {_EXTRA}") from None
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


class Chart:
    """A matplotlib figure that shows itself as a PNG in Jupyter (``figure``: the figure, to
    change or save as you like)."""

    def __init__(self, figure: Any) -> None:
        self.figure = figure

    @property
    def axes(self) -> list[Any]:
        return list(self.figure.axes)

    def png(self) -> bytes:
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png")
        return buf.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()

    def savefig(self, *args: Any, **kwargs: Any) -> None:
        self.figure.savefig(*args, **kwargs)


# -- tables ------------------------------------------------------------------------------------

def _round_of(ev: Event, current: int) -> int:
    r = ev.payload.get("round")
    return r if isinstance(r, int) and not isinstance(r, bool) and r > current else current


def events_frame(events: Sequence[Event]) -> Any:
    """A DataFrame of events, one row each: ``seq``, ``time`` (UTC), ``t`` (seconds since the
    first event), ``kind``, ``actor``, ``round`` (the round it happened in; 0 before the first),
    ``text``, ``tokens`` and ``usd`` (model calls), ``parent`` and ``payload``."""
    pd = _pandas()
    t0 = events[0].ts if events else 0.0
    rows, rnd = [], 0
    for ev in events:
        rnd = _round_of(ev, rnd)
        is_call = ev.kind == "llm.call"
        rows.append({
            "seq": ev.seq, "time": ev.ts, "t": round(ev.ts - t0, 6), "kind": ev.kind,
            "actor": ev.actor, "round": rnd, "text": ev.text,
            "tokens": int(ev.payload.get("prompt_tokens", 0))
            + int(ev.payload.get("completion_tokens", 0)) if is_call else 0,
            "usd": float(ev.payload.get("cost_usd", 0.0)) if is_call else 0.0,
            "parent": ev.parent, "payload": ev.payload})
    cols = ["seq", "time", "t", "kind", "actor", "round", "text", "tokens", "usd", "parent",
            "payload"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["time"] = pd.to_datetime(frame["time"], unit="s", utc=True)
    frame["parent"] = frame["parent"].astype("Int64")
    return frame


def runs_frame(runs: Iterable[tuple[str, Sequence[Event], str]]) -> Any:
    """A DataFrame of runs, one row each, from ``(run_id, events, status)``: status, topic,
    started (UTC), wall seconds, events, rounds, turns, model calls, tokens, USD, tool calls,
    questions, answered, escalations, trips."""
    pd = _pandas()
    rows = []
    for run_id, events, status in runs:
        f = RunFold.of(events, run_id)
        rows.append({
            "run_id": run_id, "status": status, "topic": f.topic, "started": f.first_ts,
            "wall_s": round(f.wall_s(), 3), "events": f.events, "rounds": f.rounds,
            "turns": f.turns, "model_calls": f.spend.calls, "tokens": f.spend.tokens,
            "usd": f.spend.usd, "tool_calls": f.tool_calls_total,
            "questions": len(f.questions),
            "answered": sum(q.status == "answered" for q in f.questions.values()),
            "escalations": f.escalations, "trips": len(f.trips),
            "personas": ", ".join(f.config.personas), "model": f.config.model})
    cols = ["run_id", "status", "topic", "started", "wall_s", "events", "rounds", "turns",
            "model_calls", "tokens", "usd", "tool_calls", "questions", "answered",
            "escalations", "trips", "personas", "model"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["started"] = pd.to_datetime(frame["started"], unit="s", utc=True)
    return frame


# -- charts ------------------------------------------------------------------------------------

def positions_by_round(events: Iterable[Event]) -> dict[int, dict[str, str]]:
    """Each round's stance per persona: the observer's analysis of the round, else the stances
    the personas' messages declared."""
    out: dict[int, dict[str, str]] = {}
    said: dict[int, dict[str, str]] = {}
    for ev in events:
        p = typed(ev)
        if isinstance(p, ObserverAnalysis) and p.round is not None and p.positions:
            out[p.round] = dict(p.positions)
        elif isinstance(p, Message) and p.round is not None and p.turn.stance:
            said.setdefault(p.round, {})[ev.actor] = p.turn.stance
    for rnd, stances in said.items():
        out.setdefault(rnd, stances)
    return dict(sorted(out.items()))


def _escalations_by_round(events: Iterable[Event]) -> tuple[dict[int, int], dict[int, int]]:
    """Things put to the human, and the human's answers and approvals, per round."""
    asked: dict[int, int] = {}
    answered: dict[int, int] = {}
    rnd = 0
    for ev in events:
        rnd = _round_of(ev, rnd)
        if ev.kind in ESCALATION_KINDS:
            n = len(ev.payload.get("qids") or ev.payload.get("approvals") or [0])
            asked[rnd] = asked.get(rnd, 0) + n
        elif ev.kind in ("answer", "approval", "question.deferred") and ev.actor == "human":
            answered[rnd] = answered.get(rnd, 0) + 1
    return asked, answered


def _spend_axes(ax: Any, events: Sequence[Event], fold: RunFold) -> None:
    from mapek.breaker.postmortem import Report  # the post-mortem's series: one data code

    series = Report(fold.run_id or "", list(events), fold).series
    ax.set_title("tokens and cost over time")
    ax.set_xlabel("seconds since the run started")
    if not series:
        ax.text(0.5, 0.5, "no model calls yet", ha="center", va="center",
                transform=ax.transAxes)
        return
    t = [0.0] + [row[0] for row in series]
    ax.step(t, [0] + [row[1] for row in series], where="post", color="#1f77b4",
            label="tokens")
    ax.set_ylabel("tokens", color="#1f77b4")
    cost = ax.twinx()
    cost.step(t, [0.0] + [row[2] for row in series], where="post", color="#ff7f0e",
              linestyle="--", label="USD")
    cost.set_ylim(0, max(series[-1][2] * 1.05, 0.01))
    cost.set_ylabel("USD" + (" (offline model: free)" if series[-1][2] == 0 else ""),
                    color="#ff7f0e")
    t0 = events[0].ts
    for ev in events:
        if ev.kind in ESCALATION_KINDS:
            ax.axvline(ev.ts - t0, color="#9467bd", linestyle=":", linewidth=1)
        elif ev.kind == "breaker.tripped":
            ax.axvline(ev.ts - t0, color="#d62728", linewidth=2)
    handles = ax.get_legend_handles_labels()[0] + cost.get_legend_handles_labels()[0]
    from matplotlib.lines import Line2D

    handles += [Line2D([], [], color="#9467bd", linestyle=":", label="escalation"),
                Line2D([], [], color="#d62728", linewidth=2, label="breaker trip")]
    ax.legend(handles=handles, loc="upper left", fontsize="small")


def _positions_axes(ax: Any, events: Sequence[Event]) -> None:
    from matplotlib.patches import Patch

    ax.set_title("positions by round")
    pos = positions_by_round(events)
    if not pos:
        ax.text(0.5, 0.5, "no positions yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    people = sorted({p for stances in pos.values() for p in stances})
    rounds = list(pos)
    seen: dict[str, str] = {}
    for x, rnd in enumerate(rounds):
        for y, person in enumerate(people):
            stance = pos[rnd].get(person)
            if stance is None:
                continue
            colour = _STANCE_COLOURS.get(stance, "#8c564b")
            seen[stance] = colour
            ax.add_patch(_rect(x, y, colour))
    ax.set_xlim(-0.5, len(rounds) - 0.5)
    ax.set_ylim(-0.5, len(people) - 0.5)
    ax.set_xticks(range(len(rounds)), [str(r) for r in rounds])
    ax.set_yticks(range(len(people)), people)
    ax.set_xlabel("round")
    ax.legend(handles=[Patch(color=c, label=s) for s, c in seen.items()], loc="upper left",
              bbox_to_anchor=(1.01, 1.0), fontsize="small")


def _rect(x: int, y: int, colour: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.45, y - 0.4), 0.9, 0.8, color=colour)


def _escalation_axes(ax: Any, events: Sequence[Event]) -> None:
    ax.set_title("escalations to the human, by round")
    asked, answered = _escalations_by_round(events)
    rounds = sorted(set(asked) | set(answered))
    if not rounds:
        ax.text(0.5, 0.5, "nothing was put to the human", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return
    xs = range(len(rounds))
    ax.bar([x - 0.2 for x in xs], [asked.get(r, 0) for r in rounds], width=0.4,
           color="#9467bd", label="put to the human")
    ax.bar([x + 0.2 for x in xs], [answered.get(r, 0) for r in rounds], width=0.4,
           color="#17becf", label="answered, approved or deferred")
    ax.set_xticks(list(xs), [str(r) for r in rounds])
    ax.set_xlim(-0.6, max(len(rounds), 4) - 0.4)
    ax.set_xlabel("round")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", fontsize="small")


def plot_run(events: Sequence[Event], *, title: str | None = None) -> Chart:
    """Tokens and cost over time (escalations and trips marked), positions by round, and
    escalations by round, for one run."""
    fold = RunFold.of(events)
    fig = _figure(9, 9)
    top, mid, low = fig.subplots(3, 1, height_ratios=[3, 2, 2])
    if events:
        _spend_axes(top, events, fold)
    _positions_axes(mid, events)
    _escalation_axes(low, events)
    fig.suptitle(title or f"run {fold.run_id}: {fold.status}, {fold.turns} turns, "
                 f"{fold.spend.tokens:,} tokens, ${fold.spend.usd:.4f}")
    return Chart(fig)


def plot_runs(runs: Sequence[tuple[str, Sequence[Event]]]) -> Chart:
    """Runs side by side, from ``(label, events)``: cumulative tokens call by call (a run's
    clock includes its worker's start, which says little of the run), and their turns, rounds,
    escalations and tool calls."""
    fig = _figure(10, 4.5)
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    figures = ("turns", "rounds", "escalations", "tool calls")
    width = 0.8 / max(len(runs), 1)
    for i, (label, events) in enumerate(runs):
        f = RunFold.of(events)
        left.plot(range(len(f.timeline) + 1), [0] + [p.tokens for p in f.timeline],
                  marker=".", label=f"{label} ({f.status})")
        values = (f.turns, f.rounds, f.escalations, f.tool_calls_total)
        right.bar([x + i * width for x in range(len(figures))], values, width=width,
                  label=label)
    left.set_title("cumulative tokens")
    left.set_xlabel("model calls")
    left.xaxis.get_major_locator().set_params(integer=True)
    left.legend(fontsize="small")
    right.set_title("what happened")
    right.set_xticks([x + width * (len(runs) - 1) / 2 for x in range(len(figures))], figures)
    right.legend(fontsize="small")
    return Chart(fig)


# -- the loop's graph ---------------------------------------------------------------------------

_NODE_KINDS = {"agenda": "agenda", "plan": "plan", "screen.verdict": "screen",
               "approval.requested": "approve", "observer.monitor": "monitor",
               "observer.analysis": "analyse", "escalation.requested": "escalate",
               "synthesis": "synthesise"}
"""The event each node writes once per visit (execute: the rounds in which personas spoke)."""
_PHASES = {"monitor": ("Monitor", "#aec7e8"), "analyse": ("Analyse", "#ffbb78"),
           "escalate": ("Analyse", "#ffbb78"), "agenda": ("Plan", "#98df8a"),
           "plan": ("Plan", "#98df8a"), "screen": ("Plan", "#98df8a"),
           "approve": ("Plan", "#98df8a"), "execute": ("Execute", "#ff9896"),
           "synthesise": ("Knowledge", "#c5b0d5")}


def node_visits(events: Iterable[Event]) -> dict[str, int]:
    """How many times each node of the loop ran, from the events it writes."""
    out: dict[str, int] = {}
    spoke: set[int] = set()
    for ev in events:
        node = _NODE_KINDS.get(ev.kind)
        if node is not None:
            out[node] = out.get(node, 0) + 1
        elif ev.kind == "message" and isinstance(ev.payload.get("round"), int):
            spoke.add(ev.payload["round"])
    if spoke:
        out["execute"] = len(spoke)
    return out


class GraphDrawing(Chart):
    """The loop's graph: a PNG in Jupyter, and its Mermaid text (``mermaid``), as LangGraph
    writes it (paste it into any Mermaid renderer)."""

    def __init__(self, figure: Any, mermaid: str, nodes: list[str],
                 edges: list[tuple[str, str, bool]]) -> None:
        super().__init__(figure)
        self.mermaid = mermaid
        self.nodes = nodes
        self.edges = edges
        """(source, target, conditional)."""

    def _repr_markdown_(self) -> str:
        return f"```mermaid\n{self.mermaid}\n```"


def _ranks(nodes: list[str], edges: list[tuple[str, str, bool]]) -> dict[str, int]:
    """Each node's distance from the start (breadth first); unreachable nodes last."""
    rank = {"__start__": 0}
    queue = ["__start__"]
    while queue:
        here = queue.pop(0)
        for src, dst, _ in edges:
            if src == here and dst not in rank:
                rank[dst] = rank[here] + 1
                queue.append(dst)
    last = max(rank.values(), default=0) + 1
    return {n: rank.get(n, last) for n in nodes}


def draw_graph(visits: dict[str, int] | None = None) -> GraphDrawing:
    """Draw the MAPE-K loop's LangGraph graph locally (no network: LangGraph's own PNG renderer
    calls a web service), each node coloured by its MAPE-K phase and labelled with its visits
    in a run (``visits``, from :func:`node_visits`)."""
    from mapek.loop.graph import structure

    nodes, edges, mermaid = structure()
    fig = _figure(12, 4.2)
    ax = fig.add_subplot()
    ax.set_axis_off()
    rank = _ranks(nodes, edges)
    by_rank: dict[int, list[str]] = {}
    for n in nodes:
        by_rank.setdefault(rank[n], []).append(n)
    where: dict[str, tuple[float, float]] = {}
    for r, group in by_rank.items():
        for i, n in enumerate(group):
            where[n] = (float(r), (len(group) - 1) / 2 - i)
    for src, dst, conditional in edges:
        back = rank[dst] <= rank[src]
        ax.annotate("", xy=where[dst], xytext=where[src], arrowprops={
            "arrowstyle": "-|>", "color": "#555", "shrinkA": 22, "shrinkB": 22,
            "linestyle": "--" if conditional else "-",
            "connectionstyle": f"arc3,rad={-0.45 if back else 0.0}"})
    for n, (x, y) in where.items():
        phase, colour = _PHASES.get(n, ("", "#e0e0e0"))
        label = {"__start__": "start", "__end__": "end"}.get(n, n)
        if visits is not None and n in _PHASES:
            label += f"\n×{visits.get(n, 0)}"
        ax.text(x, y, label, ha="center", va="center", fontsize=10,
                bbox={"boxstyle": "round,pad=0.5", "fc": colour, "ec": "#333"})
    xs = [p[0] for p in where.values()]
    ys = [p[1] for p in where.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 1.2, max(ys) + 1.2)
    from matplotlib.patches import Patch

    phases = dict(_PHASES.values())
    ax.legend(handles=[Patch(color=c, label=p) for p, c in phases.items()],
              loc="lower center", ncols=len(phases), fontsize="small", frameon=False,
              bbox_to_anchor=(0.5, -0.05))
    ax.set_title("the MAPE-K loop (dashed: a conditional edge)"
                 + ("; ×n: times each node ran in this run" if visits is not None else ""))
    return GraphDrawing(fig, mermaid, nodes, edges)


# -- HTML ----------------------------------------------------------------------------------------

def _svg_spark(fold: RunFold, width: int = 360, height: int = 60) -> str:
    """Cumulative tokens over time, as a small inline SVG."""
    pts = fold.timeline
    if not pts:
        return ""
    t_max = max(pts[-1].t, 1e-9)
    k_max = max(pts[-1].tokens, 1)
    line = f"2,{height - 2} " + " ".join(
        f"{2 + p.t / t_max * (width - 4):.1f},{height - 2 - p.tokens / k_max * (height - 4):.1f}"
        for p in pts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'role="img" aria-label="tokens over time"><rect width="100%" height="100%" '
            f'fill="#fafafa"/><polyline fill="none" stroke="#1f77b4" stroke-width="2" '
            f'points="{line}"/></svg>')


def session_html(run_id: str, status: str, reason: str, events: Sequence[Event],
                 questions: Iterable[QuestionRecord], *, timeline: int = 12) -> str:
    """A session as HTML: status, spend, turns, questions, and a small timeline (the last
    ``timeline`` milestones: rounds, escalations, answers, trips, how workers ended)."""
    esc = html.escape
    fold = RunFold.of(events, run_id)
    cfg = fold.config
    limit = f"/{cfg.max_turns}" if cfg.max_turns else ""
    figures = [("status", status + (f": {reason}" if reason else "")),
               ("turns", f"{fold.turns}{limit} in {fold.rounds} rounds"),
               ("spend", f"{fold.spend.calls} model calls, {fold.spend.tokens:,} tokens, "
                         f"${fold.spend.usd:.4f}"),
               ("escalations", f"{fold.escalations} ({len(fold.pending_questions())} "
                               "questions waiting)"),
               ("tool calls", ", ".join(f"{n} {k}" for k, n in fold.tool_calls.items())
                or "none"),
               ("trips", str(len(fold.trips))),
               ("events", f"{fold.events} over {fold.wall_s():.1f} s")]
    head = "".join(f"<tr><th style='text-align:left'>{esc(k)}</th>"
                   f"<td style='text-align:left'>{esc(v)}</td></tr>" for k, v in figures)
    t0 = events[0].ts if events else 0.0
    marks = [e for e in events if e.kind in _MILESTONES
             and (e.kind != "answer" or e.actor == "human")][-timeline:]
    steps = "".join(
        f"<li><code>+{e.ts - t0:6.1f}s</code> #{e.seq} <b>{esc(e.kind)}</b> {esc(e.actor)}"
        + (f" round {e.payload['round']}" if e.kind == "plan" else "")
        + (f": {esc(_short(e.text))}" if e.text else "") + "</li>" for e in marks)
    rows = "".join(f"<tr><td>{esc(q.qid)}</td><td>{esc(q.asked_by)}</td>"
                   f"<td>{esc(q.status)}</td><td>{esc(q.label or '')}</td>"
                   f"<td style='text-align:left'>{esc(q.text)}</td></tr>" for q in questions)
    qtable = (f"<table><tr><th>qid</th><th>asked by</th><th>status</th><th>label</th>"
              f"<th>question</th></tr>{rows}</table>" if rows else "<p>no questions yet</p>")
    return (f"<div><b>mapek session {esc(run_id)}</b> — {esc(fold.topic)}"
            f"<table>{head}</table>{_svg_spark(fold)}"
            f"<details open><summary>timeline</summary><ul>{steps}</ul></details>"
            f"<details open><summary>questions ({len(fold.questions)})</summary>{qtable}</details>"
            "</div>")


class SessionView:
    """A session's HTML view over its events, a list that may grow (the live view appends to
    it and sets ``status`` and ``reason`` as the run goes)."""

    def __init__(self, run_id: str, events: list[Event], status: str, reason: str = "") -> None:
        self.run_id, self.events, self.status, self.reason = run_id, events, status, reason

    def _repr_html_(self) -> str:
        return session_html(self.run_id, self.status, self.reason, self.events,
                            fold_questions(self.events).values())


def _short(text: str, n: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
