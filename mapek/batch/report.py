"""The comparative report of a batch: markdown, one self-contained HTML file, and the JSON
data behind both.

Per topic: each cell's decision, recommendations and dissent side by side; agreement across
panels, models and repeats (:mod:`mapek.batch.agreement`: a word-overlap heuristic, explained
in the report); which personas dissent consistently; what was escalated to a person and how it
was answered; cost, tokens, turns and time per cell. The HTML draws its charts as inline SVG:
no script, no stylesheet or font from the network, so it opens anywhere, offline.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

from mapek.batch.agreement import AGREE, FACTORS, PARTLY, agreement, label
from mapek.batch.state import BatchFold
from mapek.safety.display import for_display

__all__ = ["BatchReport", "build_report", "CONSISTENT_RATE"]

CONSISTENT_RATE = 0.5
"""A persona dissents consistently when it dissents in at least this share of the finished
cells it sat in (and in two cells or more)."""

MEASURE = ("Agreement is the overlap of content words (Jaccard similarity, 0 to 1) between "
           "the decisions, and between the recommendations, of every pair of a topic's "
           "finished cells that differ in one factor only (panel, model or repeat), averaged. "
           f"{AGREE:g} and up: agree; {PARTLY:g} to {AGREE:g}: partly; below: split. It is a "
           "heuristic that sees words, not meaning: read the decisions side by side before "
           "relying on a score.")


def build_report(fold: BatchFold, root: Path) -> BatchReport:
    """The report's data, from the log and each finished cell's ``synthesis.json``."""
    assert fold.plan is not None
    plan = fold.plan
    status = fold.status()
    by_key = {c.key: c for c in status.cells}
    personas_of = {name: [p if isinstance(p, str) else p.name for p in members]
                   for name, members in plan.panels.items()}
    topics = []
    all_cells: list[dict[str, Any]] = []
    for topic in plan.topics:
        cells: list[dict[str, Any]] = []
        for cell in plan.cells():
            if cell.topic.id != topic.id:
                continue
            st = by_key[cell.key]
            syn = _synthesis(root, st.run_id)
            f = fold.cells.get(st.run_id) if st.run_id else None
            escalated = [{"qid": q.qid, "question": q.text, "asked_by": q.asked_by,
                          "status": q.status, "answer": q.answer_text,
                          "answered_by": q.answered_by}
                         for q in (f.escalated() if f is not None else [])]
            cells.append({
                "key": cell.key, "run_id": st.run_id, "topic": topic.id, "panel": cell.panel,
                "model": cell.model, "repeat": cell.repeat, "seed": cell.seed,
                "personas": personas_of[cell.panel], "state": st.state,
                "outcome": st.outcome, "finished": bool(syn),
                "decisions": list(syn.get("decisions") or []),
                "recommendations": list(syn.get("recommendations") or []),
                "dissent": [{"persona": d.get("persona", ""), "position": d.get("position", "")}
                            for d in syn.get("dissent") or []],
                "open_questions": list(syn.get("open_questions") or []),
                "summary": str(syn.get("summary") or ""),
                "escalated": escalated, "tokens": st.tokens, "usd": st.usd,
                "turns": st.turns, "seconds": st.seconds})
        agree = {f: agreement(cells, f).to_dict() for f in FACTORS}
        topics.append({"id": topic.id, "text": topic.text, "cells": cells, "agreement": agree,
                       "dissenters": _dissenters(cells),
                       "escalations": [{"cell": c["key"], **e} for c in cells
                                       for e in c["escalated"]]})
        all_cells += cells
    data = {
        "batch_id": fold.batch_id, "name": plan.name, "state": status.state,
        "reason": status.reason, "generated_at": time.time(), "source": fold.source,
        "measure": MEASURE,
        "factors": {"panels": list(plan.panels), "models": [m.label for m in plan.models],
                    "repeats": plan.repeats, "seeds": plan.seeds},
        "topics": topics, "dissenters": _dissenters(all_cells),
        "totals": {"cells": len(all_cells), "finished": sum(c["finished"] for c in all_cells),
                   "tokens": status.tokens, "usd": status.usd,
                   "turns": sum(c["turns"] for c in all_cells),
                   "seconds": round(sum(c["seconds"] for c in all_cells), 2),
                   "elapsed": status.elapsed, "counts": status.counts},
        "limits": status.limits,
        "answers": [{"gid": e.payload.get("gid"), "question": e.payload.get("question"),
                     "text": e.payload.get("text"), "cells": len(e.payload.get("cells") or [])}
                    for e in fold.answers],
    }
    return BatchReport(data)


def _synthesis(root: Path, run_id: str | None) -> dict[str, Any]:
    if run_id is None:
        return {}
    path = root / "runs" / run_id / "synthesis.json"
    try:
        out = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return out if isinstance(out, dict) else {}


def _dissenters(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per persona: finished cells it sat in, cells where it dissented, the share, and whether
    that is consistent; most dissenting first."""
    sat: dict[str, int] = {}
    dissented: dict[str, int] = {}
    for c in cells:
        if not c["finished"]:
            continue
        for p in c["personas"]:
            sat[p] = sat.get(p, 0) + 1
        for p in {d["persona"] for d in c["dissent"]}:
            dissented[p] = dissented.get(p, 0) + 1
    out = [{"persona": p, "cells": n, "dissents": dissented.get(p, 0),
            "rate": round(dissented.get(p, 0) / n, 3),
            "consistent": dissented.get(p, 0) >= 2 and dissented.get(p, 0) / n >= CONSISTENT_RATE}
           for p, n in sat.items()]
    return sorted(out, key=lambda r: (-r["rate"], -r["dissents"], r["persona"]))


class BatchReport:
    """The report; :attr:`data` is the JSON behind the markdown and the HTML."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    # -- tables --------------------------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per cell (what :meth:`mapek.Batch.results` returns)."""
        out = []
        for t in self.data["topics"]:
            for c in t["cells"]:
                out.append({
                    "topic": t["id"], "topic_text": t["text"], "panel": c["panel"],
                    "model": c["model"], "repeat": c["repeat"], "seed": c["seed"],
                    "run_id": c["run_id"], "state": c["state"], "outcome": c["outcome"],
                    "decision": " ".join(c["decisions"]),
                    "recommendations": "; ".join(c["recommendations"]),
                    "dissenters": ", ".join(d["persona"] for d in c["dissent"]),
                    "escalated": len(c["escalated"]),
                    "answered": sum(e["status"] == "answered" for e in c["escalated"]),
                    "tokens": c["tokens"], "usd": c["usd"], "turns": c["turns"],
                    "seconds": c["seconds"]})
        return out

    def json(self) -> str:
        return json.dumps(self.data, indent=2, ensure_ascii=False, default=str)

    # -- markdown ------------------------------------------------------------------------------

    def markdown(self) -> str:
        d = self.data
        tot = d["totals"]
        lines = [f"# Batch report: {d['name'] or d['batch_id']}", "",
                 f"Batch `{d['batch_id']}` · {d['state']} · {tot['finished']}/{tot['cells']} "
                 f"cells finished · {tot['tokens']} tokens · ${tot['usd']:.4f} · "
                 f"{tot['turns']} turns", "",
                 f"Panels: {', '.join(d['factors']['panels'])} · models: "
                 f"{', '.join(d['factors']['models'])} · repeats: {d['factors']['repeats']}",
                 "", f"_How agreement is measured:_ {d['measure']}", ""]
        for t in d["topics"]:
            lines += [f"## {t['id']}: {t['text']}", "", "### Agreement", ""]
            for f in FACTORS:
                a = t["agreement"][f]
                lines.append(f"- **across {f}s**: {a['label']} — {a['sentence']}")
            lines += ["", "### Cells side by side", "",
                      "| panel | model | repeat | outcome | decision | recommendations | "
                      "dissent |", "|---|---|---|---|---|---|---|"]
            for c in t["cells"]:
                lines.append("| " + " | ".join(_md(x) for x in (
                    c["panel"], c["model"], str(c["repeat"]), c["outcome"] or c["state"],
                    "; ".join(c["decisions"]) or "—",
                    "; ".join(c["recommendations"]) or "—",
                    "; ".join(f"{x['persona']}: {x['position']}" for x in c["dissent"])
                    or "none")) + " |")
            lines += ["", "### Dissent", ""]
            dis = [x for x in t["dissenters"] if x["dissents"]]
            lines += [f"- {x['persona']}: dissents in {x['dissents']} of {x['cells']} cells"
                      + (" (**consistently**)" if x["consistent"] else "") for x in dis] \
                or ["- nobody dissented"]
            lines += ["", "### Escalated to a person", ""]
            lines += [f"- {e['cell']}: {e['question']} (asked by {e['asked_by']}) — "
                      + (f"answered: {e['answer']}" if e["status"] == "answered" and
                         e["answered_by"] == "human" else e["status"])
                      for e in t["escalations"]] or ["- nothing"]
            lines.append("")
        lines += ["## Consistent dissenters across the batch", ""]
        lines += [f"- {x['persona']}: {x['dissents']} of {x['cells']} cells ({x['rate']:.0%})"
                  for x in d["dissenters"] if x["consistent"]] or ["- none"]
        lines += ["", "## Cost, tokens, turns and time per cell", "",
                  "| cell | state | tokens | USD | turns | seconds |", "|---|---|---|---|---|---|"]
        for t in d["topics"]:
            for c in t["cells"]:
                lines.append(f"| {_md(c['key'])} | {c['state']} | {c['tokens']} | "
                             f"{c['usd']:.4f} | {c['turns']} | {c['seconds']:.0f} |")
        return for_display("\n".join(lines) + "\n")

    # -- HTML ----------------------------------------------------------------------------------

    def html(self) -> str:
        d = self.data
        tot = d["totals"]
        title = escape(d["name"] or d["batch_id"])
        parts = [f"<h1>Batch report: {title}</h1>",
                 f"<p class=meta>Batch <code>{escape(d['batch_id'])}</code> · "
                 f"{escape(d['state'])} · {tot['finished']}/{tot['cells']} cells finished · "
                 f"{tot['tokens']} tokens · ${tot['usd']:.4f} · {tot['turns']} turns · "
                 f"panels: {escape(', '.join(d['factors']['panels']))} · models: "
                 f"{escape(', '.join(d['factors']['models']))} · repeats: "
                 f"{d['factors']['repeats']}</p>",
                 f"<p class=note><b>How agreement is measured.</b> {escape(d['measure'])}</p>",
                 "<h2>Agreement by topic</h2>", _agreement_svg(d["topics"])]
        dis = [x for x in d["dissenters"] if x["cells"]]
        if dis:
            parts += ["<h2>Who dissents</h2>",
                      _bars_svg([(x["persona"], x["rate"]) for x in dis], fmt="{:.0%}",
                                highlight={x["persona"] for x in dis if x["consistent"]},
                                label="share of finished cells with dissent (dark: "
                                      "consistent)")]
        for t in d["topics"]:
            parts.append(self._topic_html(t))
        cells = [c for t in d["topics"] for c in t["cells"]]
        parts += ["<h2>Cost, tokens, turns and time per cell</h2>",
                  _bars_svg([(c["key"], c["tokens"]) for c in cells], fmt="{:.0f}",
                            label="tokens per cell"),
                  _bars_svg([(c["key"], c["seconds"]) for c in cells], fmt="{:.0f} s",
                            label="worker time per cell"),
                  "<table><tr><th>cell</th><th>run</th><th>state</th><th>tokens</th>"
                  "<th>USD</th><th>turns</th><th>seconds</th></tr>"
                  + "".join(f"<tr><td>{escape(c['key'])}</td><td><code>"
                            f"{escape(c['run_id'] or '-')}</code></td><td>{escape(c['state'])}"
                            f"</td><td>{c['tokens']}</td><td>{c['usd']:.4f}</td>"
                            f"<td>{c['turns']}</td><td>{c['seconds']:.0f}</td></tr>"
                            for c in cells) + "</table>"]
        body = "\n".join(parts)
        return (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
                f"<meta name=viewport content='width=device-width, initial-scale=1'>"
                f"<title>Batch report: {title}</title><style>{_CSS}</style></head>"
                f"<body>{body}</body></html>\n")

    def _topic_html(self, t: dict[str, Any]) -> str:
        out = [f"<section class=topic id='topic-{escape(t['id'])}'>",
               f"<h2>{escape(t['id'])}: {escape(t['text'])}</h2><ul class=agree>"]
        for f in FACTORS:
            a = t["agreement"][f]
            out.append(f"<li><span class='tag {a['label'].replace('/', '')}'>"
                       f"{escape(a['label'])}</span> across {f}s: {escape(a['sentence'])}</li>")
        out.append("</ul><div class=cells>")
        for c in t["cells"]:
            recs = "".join(f"<li>{escape(r)}</li>" for r in c["recommendations"]) or "<li>—</li>"
            dis = "".join(f"<li><b>{escape(x['persona'])}</b>: {escape(x['position'])}</li>"
                          for x in c["dissent"]) or "<li>none</li>"
            out.append(
                f"<div class=cell><h3>{escape(c['panel'])} · {escape(c['model'])} · "
                f"repeat {c['repeat']}</h3><p class=meta>{escape(c['outcome'] or c['state'])}"
                f" · {c['turns']} turns · {c['tokens']} tokens · "
                f"{escape(', '.join(c['personas']))}</p>"
                f"<h4>Decision</h4><p>{escape('; '.join(c['decisions']) or '—')}</p>"
                f"<h4>Recommendations</h4><ul>{recs}</ul><h4>Dissent</h4><ul>{dis}</ul></div>")
        out.append("</div>")
        dissenting = [x for x in t["dissenters"] if x["dissents"]]
        out.append("<h3>Dissent</h3><ul>" + ("".join(
            f"<li>{escape(x['persona'])}: dissents in {x['dissents']} of {x['cells']} cells"
            + (" <b>(consistently)</b>" if x["consistent"] else "") + "</li>"
            for x in dissenting) or "<li>nobody dissented</li>") + "</ul>")
        out.append("<h3>Escalated to a person</h3><ul>" + ("".join(
            f"<li>{escape(e['cell'])}: {escape(e['question'])} (asked by "
            f"{escape(e['asked_by'])}) — "
            + (f"answered: {escape(e['answer'] or '')}" if e["status"] == "answered"
               and e["answered_by"] == "human" else escape(e["status"])) + "</li>"
            for e in t["escalations"]) or "<li>nothing</li>") + "</ul></section>")
        return "".join(out)

    def write_html(self, path: str | Path) -> Path:
        p = Path(path)
        p.write_text(self.html(), encoding="utf-8")
        return p

    def write_markdown(self, path: str | Path) -> Path:
        p = Path(path)
        p.write_text(self.markdown(), encoding="utf-8")
        return p

    def _repr_html_(self) -> str:
        return self.html()


def escape(text: str) -> str:
    """``text`` for the HTML page: as a person may see it (secrets masked, control characters
    visible), then HTML-escaped."""
    return html.escape(for_display(text))


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;
max-width:1150px;padding:0 16px;color:#1d2430;background:#fff}
h1{font-size:26px;margin:0 0 6px}h2{font-size:20px;margin:28px 0 8px;border-bottom:1px solid
#dde3ea;padding-bottom:4px}h3{font-size:15px;margin:12px 0 4px}h4{font-size:13px;margin:8px 0 2px;
color:#56606e;text-transform:uppercase;letter-spacing:.04em}
.meta{color:#56606e;font-size:13px}.note{background:#f4f7fb;border-left:4px solid #7a93b8;
padding:8px 12px;font-size:13px}
.cells{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px}
.cell{border:1px solid #dde3ea;border-radius:6px;padding:10px 12px;background:#fbfcfe}
.cell ul{margin:0;padding-left:18px}.agree{list-style:none;padding:0}.agree li{margin:4px 0}
.tag{display:inline-block;min-width:52px;text-align:center;border-radius:10px;padding:0 8px;
font-size:12px;font-weight:600;color:#fff;background:#8a94a3}
.tag.agree{background:#2f8f5b}.tag.partly{background:#c98a16}.tag.split{background:#c2453d}
table{border-collapse:collapse;font-size:13px;margin-top:8px}td,th{border:1px solid #dde3ea;
padding:3px 8px;text-align:left}svg{max-width:100%;height:auto;display:block;margin:8px 0}
"""

_COLOURS = {"agree": "#2f8f5b", "partly": "#c98a16", "split": "#c2453d", "n/a": "#c9ced6"}


def _agreement_svg(topics: list[dict[str, Any]]) -> str:
    """A grid: one row per topic; per factor, a square for the decisions and one for the
    recommendations, each coloured by its label and showing its score."""
    cw, ch, left, top = 108, 34, 300, 46
    cols = [(f, part) for f in FACTORS for part in ("decisions", "recommendations")]
    width, height = left + cw * len(cols) + 10, top + ch * len(topics) + 10
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
           f"viewBox='0 0 {width} {height}' role='img' aria-label='agreement by topic'>"]
    for j, f in enumerate(FACTORS):
        out.append(f"<text x='{left + (2 * j + 1) * cw}' y='16' text-anchor='middle' "
                   f"font-size='13' font-weight='600'>across {f}s</text>")
    for j, (_, part) in enumerate(cols):
        out.append(f"<text x='{left + j * cw + cw / 2}' y='36' text-anchor='middle' "
                   f"font-size='11' fill='#56606e'>{part}</text>")
    for i, t in enumerate(topics):
        y = top + i * ch
        out.append(f"<text x='{left - 8}' y='{y + ch / 2 + 4}' text-anchor='end' "
                   f"font-size='12'>{escape(_short(t['id'] + ': ' + t['text'], 44))}</text>")
        for j, (f, part) in enumerate(cols):
            a = t["agreement"][f]
            score = a[part] if a["pairs"] else None
            name = label(score)
            x = left + j * cw
            text = "n/a" if score is None else f"{score:.2f} {name}"
            out.append(f"<rect x='{x + 3}' y='{y + 3}' width='{cw - 6}' height='{ch - 6}' "
                       f"rx='4' fill='{_COLOURS[name]}'/>"
                       f"<text x='{x + cw / 2}' y='{y + ch / 2 + 4}' text-anchor='middle' "
                       f"font-size='12' fill='#fff' font-weight='600'>{text}</text>")
    out.append("</svg>")
    return "".join(out)


def _bars_svg(items: list[tuple[str, float]], *, fmt: str, label: str,
              highlight: set[str] | None = None) -> str:
    """Horizontal bars, one per item, scaled to the largest."""
    bh, left, bar_w = 22, 300, 560
    width, height = left + bar_w + 90, 28 + bh * max(1, len(items))
    top = max((v for _, v in items), default=0) or 1
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
           f"viewBox='0 0 {width} {height}' role='img' aria-label='{escape(label)}'>"
           f"<text x='{left}' y='16' font-size='12' fill='#56606e'>{escape(label)}</text>"]
    for i, (name, v) in enumerate(items):
        y = 24 + i * bh
        w = max(1.0, bar_w * (v / top)) if v else 0
        fill = "#35507a" if highlight is None or name in highlight else "#9fb2cf"
        out.append(f"<text x='{left - 8}' y='{y + 15}' text-anchor='end' font-size='12'>"
                   f"{escape(_short(name, 46))}</text><rect x='{left}' y='{y + 3}' "
                   f"width='{w:.1f}' height='{bh - 6}' fill='{fill}' rx='2'/>"
                   f"<text x='{left + w + 6:.1f}' y='{y + 15}' font-size='12'>"
                   f"{escape(fmt.format(v))}</text>")
    out.append("</svg>")
    return "".join(out)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"

