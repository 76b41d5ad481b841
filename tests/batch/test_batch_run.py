"""A whole batch as a user runs it: `mapek batch run` on a plan of 3 topics x 2 panels x 2
repeats (offline model, real worker and watchdog processes), then status, the comparative
report in markdown, HTML (opened in a real headless browser) and JSON, and the Python API."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _batchrig import (
    assert_nothing_twice,
    batch_events,
    chromium,
    console_errors,
    mapek,
    png_colours,
    render,
    run_events,
)

from mapek import Batch

PLAN = """\
name: strategy offsite
topics:
  - Should we open an office in Berlin?
  - id: cloud
    text: Should we migrate our customer database to a managed cloud service?
  - id: pricing
    text: Should we raise our subscription prices by ten percent?
panels:
  finance: [cfo, skeptic, legal]
  product: [engineer, customer, strategist]
repeats: 2
session: {max_turns: 4}
limits: {concurrency: 4, max_tokens: 5000000}
"""


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_a_batch_runs_every_cell_and_leaves_a_comparative_report(home: Path,
                                                                 tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    r = mapek("batch", "run", str(plan))
    assert r.returncode == 0, r.stdout + r.stderr
    batch_id = re.search(r"batch (batch-[\w-]+): 12 cells", r.stdout).group(1)  # type: ignore[union-attr]
    # progress as it went: counts, spend against the budget, time
    progress = [x for x in r.stdout.splitlines() if x.startswith("[")]
    assert progress[0].startswith("[0/12]") and progress[-1].startswith("[12/12]")
    assert any("running 4" in x and "queued" in x for x in progress)  # four at once
    assert all("waiting on a person" in x and "tokens / 5000000" in x for x in progress)
    assert "finished" in r.stdout

    st = json.loads(mapek("batch", "status", batch_id, "--json").stdout)
    assert st["state"] == "finished" and st["counts"] == {"done": 12}
    runs = [c["run_id"] for c in st["cells"]]
    assert len(set(runs)) == 12 and all(c["turns"] >= 4 and c["tokens"] > 0
                                        for c in st["cells"])
    assert st["tokens"] == sum(c["tokens"] for c in st["cells"])

    # recorded once each: the plan, every cell's run id, the end
    kinds = [e.kind for e in batch_events(home, batch_id)]
    assert kinds.count("batch.started") == 1 and kinds.count("batch.cell") == 12
    assert kinds.count("batch.finished") == 1 and kinds.count("batch.driver") == 1
    for run in runs:
        assert_nothing_twice(home, run)

    # repeats differ: the same topic and panel under another seed takes other turns (the
    # offline personas' opening and answering sentences are fixed; their stances and tool
    # arguments are drawn, so compare whole turns, not their text alone)
    by_key = {c["key"]: c["run_id"] for c in st["cells"]}
    said = {k: [e.payload["turn"] for e in run_events(home, run) if e.kind == "message"]
            for k, run in by_key.items()}
    assert any(said[k] != said[k.replace("|r1", "|r2")] for k in said if k.endswith("|r1"))

    # the report: markdown, HTML and JSON
    md, html = tmp_path / "report.md", tmp_path / "report.html"
    r = mapek("batch", "report", batch_id, "--md", str(md), "--html", str(html))
    assert r.returncode == 0, r.stderr
    data = json.loads(mapek("batch", "report", batch_id, "--json").stdout)
    assert [t["id"] for t in data["topics"]] == ["t1", "cloud", "pricing"]
    for t in data["topics"]:
        assert len(t["cells"]) == 4 and all(c["finished"] and c["decisions"]
                                            for c in t["cells"])
        panels, repeats = t["agreement"]["panel"], t["agreement"]["repeat"]
        assert panels["pairs"] == 2 and repeats["pairs"] == 2
        assert panels["label"] in ("agree", "partly", "split") and repeats["score"] is not None
        assert t["agreement"]["model"]["label"] == "n/a"  # one model: not compared
        assert {d["persona"] for d in t["dissenters"]} == {
            "cfo", "skeptic", "legal", "engineer", "customer", "strategist"}
    assert any(c["dissent"] for t in data["topics"] for c in t["cells"])
    assert "heuristic" in data["measure"]
    text = md.read_text()
    for t in data["topics"]:
        assert f"## {t['id']}: {t['text']}" in text
    assert text.count("**across panels**") == 3 and text.count("**across repeats**") == 3
    assert text.count("### Dissent") == 3 and "Consistent dissenters" in text

    # one self-contained file: nothing fetched from anywhere
    page = html.read_text()
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"(src|href)\s*=\s*['\"]?https?:", page)
    assert page.count("<svg") >= 3
    if chromium() is None:
        pytest.skip("no chromium to open the HTML report in (apt-get install chromium)")
    png, dom, log = render(html, tmp_path)
    assert not console_errors(log), console_errors(log)
    colours, ink = png_colours(png)
    assert colours > 20 and ink > 0.02  # a rendered page, not a blank one
    for t in data["topics"]:
        assert t["text"] in dom
    assert "across panels" in dom and "Who dissents" in dom

    # the Python API sees the same batch
    with Batch.attach(batch_id) as b:
        rows = b.results()
        rows = rows.to_dict("records") if hasattr(rows, "to_dict") else rows
        assert len(rows) == 12 and {r["topic"] for r in rows} == {"t1", "cloud", "pricing"}
        assert all(r["decision"] and r["state"] == "done" for r in rows)
        assert "strategy offsite" in b._repr_html_()
        assert b.status().counts == {"done": 12}
    assert mapek("kb", "verify").returncode == 0
    r = mapek("batch", "resume", batch_id)
    assert r.returncode == 0 and "nothing to resume" in r.stdout
    assert len(batch_events(home, batch_id)) == len(kinds)  # nothing written
