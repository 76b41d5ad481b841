"""A session's views for Jupyter, on a real run (the offline model, in this process): its events
and the workspace's runs as DataFrames, its charts and the loop's graph as PNG images, its HTML.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import mapek
from mapek.api import Session
from mapek.errors import ConfigError
from mapek.fold import RunFold
from mapek.loop.graph import NODES
from mapek.notebook import Chart, GraphDrawing, node_visits, plot_runs, positions_by_round

TOPIC = "Should we open an office in Berlin?"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    home = tmp_path_factory.mktemp("nb") / "ws"
    mp = pytest.MonkeyPatch()
    mp.setenv("MAPEK_HOME", str(home))
    mp.delenv("MAPEK_MODEL", raising=False)
    mp.delenv("MAPEK_OTLP_ENDPOINT", raising=False)
    try:
        s = Session.create(TOPIC, ["cfo", "engineer", "skeptic"], human="queue", max_turns=8,
                           in_process=True)
        assert s.run().status in ("converged", "stalled", "max_turns")
        yield s
        s.close()
    finally:
        mp.undo()


def test_events_are_a_dataframe(session: Session) -> None:
    history = session.history()
    frame = session.events()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.seq) == [e.seq for e in history]
    assert list(frame.kind) == [e.kind for e in history]
    assert {"time", "t", "actor", "round", "text", "tokens", "usd", "payload"} <= set(frame)
    assert str(frame.time.dtype).startswith("datetime64") and frame.t.iloc[0] == 0
    fold = RunFold.of(history)
    assert frame.tokens.sum() == fold.spend.tokens > 0
    # the round column: a message's own round
    msgs = frame[frame.kind == "message"]
    assert (msgs["round"] == [p["round"] for p in msgs.payload]).all()
    assert list(session.events(after=history[-3].seq).seq) == [e.seq for e in history[-2:]]


def test_runs_table(session: Session) -> None:
    table = mapek.runs_table(home=session.workspace.root)
    assert isinstance(table, pd.DataFrame) and list(table.run_id) == [session.run_id]
    row = table.iloc[0]
    fold = RunFold.of(session.history())
    assert row.status == session.result().status and row.topic == TOPIC
    assert (row.turns, row.rounds, row.tokens) == (fold.turns, fold.rounds, fold.spend.tokens)
    assert row.personas == "cfo, engineer, skeptic" and row.model == "mapek/offline"


def test_plot_is_a_png_of_the_run(session: Session) -> None:
    chart = session.plot()
    assert isinstance(chart, Chart) and chart._repr_png_().startswith(PNG)
    titles = [ax.get_title() for ax in chart.axes]
    assert titles[:1] == ["tokens and cost over time"]
    assert "positions by round" in titles and "escalations to the human, by round" in titles
    tokens = chart.axes[0].get_lines()[0]
    assert tokens.get_ydata()[-1] == RunFold.of(session.history()).spend.tokens
    pos = positions_by_round(session.history())
    cells = sum(len(stances) for stances in pos.values())
    grid = next(ax for ax in chart.axes if ax.get_title() == "positions by round")
    assert pos and len(grid.patches) == cells
    assert [t.get_text() for t in grid.get_yticklabels()] == \
        sorted({p for s in pos.values() for p in s})


def test_two_runs_side_by_side(session: Session) -> None:
    history = session.history()
    half = [e for e in history if e.seq <= history[len(history) // 2].seq]
    chart = plot_runs([("whole", history), ("half", half)])
    assert chart.png().startswith(PNG)
    left, right = chart.axes[:2]
    ends = [line.get_ydata()[-1] for line in left.get_lines()]
    assert ends == [RunFold.of(history).spend.tokens, RunFold.of(half).spend.tokens]
    turns = [bar.get_height() for bar in right.patches][::4]  # each run's first bar: turns
    assert turns == [RunFold.of(history).turns, RunFold.of(half).turns]


def test_graph_is_drawn_locally_with_visits(session: Session) -> None:
    drawing = session.graph()
    assert isinstance(drawing, GraphDrawing) and drawing.png().startswith(PNG)
    assert set(NODES) <= set(drawing.nodes) and {"__start__", "__end__"} <= set(drawing.nodes)
    assert ("analyse", "escalate", True) in drawing.edges
    assert ("execute", "monitor", True) in drawing.edges  # or, settling, to the synthesis
    assert ("execute", "synthesise", True) in drawing.edges
    assert drawing.mermaid.lstrip("-\n").startswith("config:") and "graph TD" in drawing.mermaid
    visits = node_visits(session.history())
    plans = sum(e.kind == "plan" for e in session.history())
    assert visits["plan"] == plans and visits["synthesise"] == 1
    labels = [t.get_text() for t in drawing.axes[0].texts]
    assert f"plan\n×{plans}" in labels


def test_html_shows_status_spend_turns_questions_timeline(session: Session) -> None:
    page = session._repr_html_()
    fold = RunFold.of(session.history())
    assert f"<b>mapek session {session.run_id}</b>" in page
    assert session.result().status in page
    assert f"{fold.turns}/8 in {fold.rounds} rounds" in page
    assert f"{fold.spend.tokens:,} tokens" in page
    assert "<svg" in page and "<summary>timeline</summary>" in page
    assert "<b>run.finished</b>" in page
    for q in fold.questions.values():
        assert f"<td>{q.qid}</td>" in page


def test_without_the_extra_one_clear_error(session: Session,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas: ImportError
    with pytest.raises(ConfigError, match=r"pip install 'mapek\[notebook\]'"):
        session.events()
    with pytest.raises(ConfigError, match="pandas"):
        mapek.runs_table(home=session.workspace.root)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ConfigError, match="matplotlib"):
        session.plot()


def test_the_api_imports_neither_pandas_nor_matplotlib() -> None:
    import subprocess

    code = ("import sys, mapek.api, mapek.notebook, mapek.otel; "
            "print(sorted(m for m in ('pandas', 'matplotlib', 'opentelemetry.sdk') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parent)
    assert out.stdout.strip() == "[]"
