"""The comparative report, built from a real log whose cells' outcomes are known: agreement
across panels and repeats, consistent dissenters, escalations and their answers, figures per
cell; the HTML opened in a real headless browser; `Batch.results()` as a table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from _batchrig import chromium, console_errors, png_colours, render

from mapek import Batch
from mapek.batch.plan import plan_from_dict
from mapek.batch.runner import create_batch
from mapek.knowledge import KnowledgeBase

PLAN = {"name": "known outcomes",
        "topics": ["Should we open an office in Berlin?",
                   {"id": "price", "text": "Should we raise prices?"}],
        "panels": {"fin": ["cfo", "skeptic"], "prod": ["engineer", "skeptic"]},
        "repeats": 2}

DECISIONS = {("t1", "fin"): "Proceed in stages, office opens after a pilot",
             ("t1", "prod"): "Proceed in stages, office opens after a pilot",
             ("price", "fin"): "Raise prices ten percent for new customers",
             ("price", "prod"): "Keep current pricing until churn data arrives"}


def _record_batch(home: Path) -> str:
    """A batch whose every cell ran (events as a worker writes them) and left a synthesis."""
    plan = plan_from_dict(PLAN)
    with KnowledgeBase.open(home, index_on_record=False) as kb:
        batch_id = create_batch(kb, plan, source="test")
        for i, cell in enumerate(plan.cells(), start=1):
            run = f"{batch_id}.{i:03d}"
            kb.record(batch_id, "batch.cell", "human", {"cell": cell.key, "run": run},
                      key=f"cell:{cell.key}")
            kb.record(run, "run.started", "human", {"text": cell.topic.text})
            kb.record(run, "worker.started", "worker", {"pid": 0})
            kb.record(run, "llm.call", "cfo", {"prompt_tokens": 100 * i,
                                               "completion_tokens": 10, "cost_usd": 0.001})
            kb.record(run, "message", "cfo", {"text": "turn", "round": 1})
            kb.record(run, "message", "skeptic", {"text": "turn", "round": 1})
            if cell.panel == "fin":
                kb.record(run, "question", "cfo", {"qid": "q1", "text": "Approve 100k?"})
                kb.record(run, "question.escalated", "observer", {"qids": ["q1"]})
                if cell.repeat == 1:
                    kb.record(run, "answer", "human", {"qid": "q1", "text": "Yes, 80k"})
            kb.record(run, "run.finished", "worker", {"status": "converged"})
            d = home / "runs" / run
            d.mkdir(parents=True, exist_ok=True)
            rec = ["Address: churn among small accounts"] if cell.repeat == 1 else \
                ["Address: churn among small accounts", "Address: a rollback plan"]
            (d / "synthesis.json").write_text(json.dumps({
                "decisions": [DECISIONS[(cell.topic.id, cell.panel)]],
                "recommendations": rec, "summary": "s", "open_questions": [],
                "dissent": [{"persona": "skeptic", "position": "oppose: not yet"}]}))
    return batch_id


def test_the_report_says_where_cells_agree_and_who_dissents(home: Path,
                                                              tmp_path: Path) -> None:
    batch_id = _record_batch(home)
    with Batch.attach(batch_id) as b:
        report = b.report()
        data = report.data
        t1, price = data["topics"]
        assert t1["agreement"]["panel"]["decisions"] == 1.0
        assert t1["agreement"]["panel"]["label"] == "agree"
        assert price["agreement"]["panel"]["decisions"] < 0.3
        assert "does not hold" in price["agreement"]["panel"]["sentence"]
        assert t1["agreement"]["repeat"]["pairs"] == 2  # (fin r1, fin r2), (prod r1, prod r2)
        assert t1["agreement"]["repeat"]["recommendations"] == pytest.approx(
            len({"churn", "among", "small", "accounts"})
            / len({"churn", "among", "small", "accounts", "rollback", "plan"}), abs=1e-3)
        skeptic = next(d for d in data["dissenters"] if d["persona"] == "skeptic")
        assert skeptic == {"persona": "skeptic", "cells": 8, "dissents": 8, "rate": 1.0,
                           "consistent": True}
        assert not next(d for d in data["dissenters"] if d["persona"] == "cfo")["consistent"]
        esc = t1["escalations"]
        assert len(esc) == 2 and {e["status"] for e in esc} == {"answered", "escalated"}
        assert any(e["answer"] == "Yes, 80k" for e in esc)
        cell = t1["cells"][0]
        assert cell["tokens"] == 110 and cell["usd"] == 0.001 and cell["turns"] == 2
        md = report.markdown()
        assert "- **across panels**: agree" in md and "(**consistently**)" in md
        assert "answered: Yes, 80k" in md and "| fin | mapek/offline | 1 | converged |" in md

        rows = b.results()  # pandas is in the test extra: a DataFrame
        assert type(rows).__name__ == "DataFrame" and len(rows) == 8
        assert set(rows["topic"]) == {"t1", "price"}
        assert rows["tokens"].sum() == sum(100 * i + 10 for i in range(1, 9))
        sys.modules["pandas"] = None  # type: ignore[assignment]  # as if not installed
        try:
            plain = b.results()
        finally:
            del sys.modules["pandas"]
        assert isinstance(plain, list) and plain[0]["dissenters"] == "skeptic"
        assert "known outcomes" in b._repr_html_()

    html = tmp_path / "report.html"
    report.write_html(html)
    page = html.read_text()
    assert "<script" not in page and "http://" not in page.replace(
        "http://www.w3.org/2000/svg", "")
    if chromium() is None:
        pytest.skip("no chromium to open the HTML report in (apt-get install chromium)")
    png, dom, log = render(html, tmp_path)
    assert not console_errors(log), console_errors(log)
    colours, ink = png_colours(png)
    assert colours > 20 and ink > 0.02
    assert "Should we open an office in Berlin?" in dom and "1.00 agree" in dom
    assert "Yes, 80k" in dom


def test_the_report_escapes_control_codes_and_masks_secrets(home: Path) -> None:
    """A cell's synthesis holding terminal escape codes and a secret: the markdown and the HTML
    show them escaped and masked, never raw."""
    secret = "AKIAABCDEFGHIJKLMNOP"
    plan = plan_from_dict({"name": "esc", "topics": ["Ship \x1b[2J it?"],
                           "panels": {"p": ["cfo", "skeptic"]}})
    with KnowledgeBase.open(home, index_on_record=False) as kb:
        batch_id = create_batch(kb, plan, source="test")
        [cell] = plan.cells()
        run = f"{batch_id}.001"
        kb.record(batch_id, "batch.cell", "human", {"cell": cell.key, "run": run},
                  key=f"cell:{cell.key}")
        kb.record(run, "run.started", "human", {"text": cell.topic.text})
        kb.record(run, "run.finished", "worker", {"status": "converged"})
        d = home / "runs" / run
        d.mkdir(parents=True)
        (d / "synthesis.json").write_text(json.dumps({
            "decisions": [f"Use key {secret}\x07 now\u009b31m"], "recommendations": [],
            "summary": "s", "open_questions": [],
            "dissent": [{"persona": "skeptic", "position": "\x1b]0;title\x07no"}]}))
    with Batch.attach(batch_id) as b:
        report = b.report()
    for page in (report.markdown(), report.html()):
        assert not any(c in page for c in ("\x1b", "\x07", "\u009b"))
        assert secret not in page and "[REDACTED aws-access-key]" in page
        assert "␛[2J" in page
