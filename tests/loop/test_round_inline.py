"""A round runs in one LangGraph superstep (plan, screen, execute, monitor, analyse inline; see
``mapek.loop.graph``), with the same records in the same order, the plan's and the screening's
records in one transaction and the monitor's and the analysis's in another; paused by
rounds,
``analyse`` stays a superstep of its own and the pause still comes after it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mapek.api import Session
from mapek.knowledge.sqlite_log import SQLiteEventLog
from mapek.loop.rounds import RoundSaver
from mapek.loop.worker import run_session
from mapek.testing import FunctionModel
from mapek.testing.discussion import discussion_model

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"
PEOPLE = ["cfo", "engineer", "skeptic", "legal"]


def _model() -> FunctionModel:
    return discussion_model()


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Checkpoints handed to the RoundSaver (one per superstep) and log transactions."""
    seen: Counter[str] = Counter()
    put, append_many = RoundSaver.put, SQLiteEventLog.append_many

    def counting_put(self: RoundSaver, *a: Any, **k: Any) -> Any:
        seen["supersteps"] += 1
        return put(self, *a, **k)

    def counting_append(self: SQLiteEventLog, drafts: Any, **k: Any) -> Any:
        drafts = list(drafts)
        seen["transactions"] += 1
        seen[",".join(sorted({d.kind for d in drafts}))] += 1
        return append_many(self, drafts, **k)

    monkeypatch.setattr(RoundSaver, "put", counting_put)
    monkeypatch.setattr(SQLiteEventLog, "append_many", counting_append)
    return seen


def test_a_round_is_one_superstep_with_its_records_in_order(home: Path,
                                                             counted: Counter[str]) -> None:
    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=8)
    assert run_session(s.run_id, model=_model()) in ("converged", "stalled", "max_turns")
    events = s.history()
    rounds = [e.payload["round"] for e in events if e.kind == "observer.analysis"]
    assert rounds == [1, 2, 3, 4]
    # input, agenda, one per round, the closing plan, the synthesis: not five per round
    assert counted["supersteps"] <= len(rounds) + 5
    # Each round's records in the order the nodes run: plan, its decisions, the screening,
    # the turns (call, message), the monitor, the analysis.
    for rnd in rounds:
        kinds = [e.kind for e in events if e.payload.get("round") == rnd
                 and e.kind in ("plan", "screen.verdict", "message", "observer.monitor",
                                "observer.analysis")]
        assert kinds == ["plan", "screen.verdict", "message", "message", "observer.monitor",
                         "observer.analysis"], (rnd, kinds)
    # The plan's and the screening's records share a transaction, as do the monitor's and the
    # analysis's: a round is 2 such transactions (and one per turn), not 4 (a last settling
    # round may screen and run the last proposed calls before the synthesis).
    orchestrate = sum(n for k, n in counted.items() if "plan" in k.split(",")
                      and "screen.verdict" in k.split(","))
    observe = sum(n for k, n in counted.items() if "observer.monitor" in k.split(",")
                  and "observer.analysis" in k.split(","))
    assert orchestrate in (len(rounds), len(rounds) + 1) and observe == len(rounds)
    assert s.kb.verify(s.run_id).ok
    keys = [e.key for e in events if e.key]
    assert len(keys) == len(set(keys))
    s.close()


def test_paused_by_rounds_a_round_still_ends_after_its_analysis(home: Path,
                                                                counted: Counter[str]) -> None:
    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=8)
    assert run_session(s.run_id, model=_model(), rounds=1) == "paused"
    first = s.history()
    assert [e.payload["round"] for e in first if e.kind == "observer.analysis"] == [1]
    assert not [e for e in first if e.kind == "plan" and e.payload.get("round") == 2]
    assert run_session(s.run_id, model=_model(), rounds=1) == "paused"
    second = s.history()
    assert [e.payload["round"] for e in second if e.kind == "observer.analysis"] == [1, 2]
    assert run_session(s.run_id, model=_model()) in ("converged", "stalled", "max_turns")
    events = s.history()
    assert len([e for e in events if e.kind == "message"]) == 8
    keys = [e.key for e in events if e.key]
    assert len(keys) == len(set(keys)) and s.kb.verify(s.run_id).ok
    s.close()


def test_nodes_are_not_walked_for_subgraphs_and_the_graph_is_unchanged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A node is a callable object: LangGraph's search for subgraphs does not walk its bytecode
    (``dis``), and the node keeps the function's name, ``config`` parameter, input schema and
    destinations."""
    import dis

    from mapek.loop.graph import NODES, build_graph
    from mapek.loop.state import LoopState

    walked: list[object] = []
    real = dis.get_instructions
    monkeypatch.setattr(dis, "get_instructions",
                        lambda *a, **k: walked.append(a) or real(*a, **k))
    g = build_graph(None, None)  # type: ignore[arg-type]  # nodes never run
    assert walked == []
    for name in NODES:
        node = g.nodes[name]
        assert node.subgraphs == []
        assert node.bound.name == name and "config" in node.bound.func_accepts
        assert g.builder.nodes[name].input_schema is LoopState
    assert g.builder.nodes["plan"].ends == ("synthesise", "screen")


def test_the_state_has_no_reducer_channels_the_inline_round_would_bypass() -> None:
    """The inline round merges its nodes' updates by assignment (each channel keeps its last
    value), which is what LangGraph does for a channel without a reducer. A reducer channel
    (``Annotated[list, operator.add]``) would need its updates applied, not assigned, in
    ``mapek.loop.graph._bind``: this test fails first, so that whoever adds one sees where."""
    from typing import get_type_hints

    from mapek.loop.state import LoopState

    hints = get_type_hints(LoopState, include_extras=True)
    annotated = {k for k, t in hints.items() if getattr(t, "__metadata__", None)}
    assert hints and annotated == set(), annotated


@pytest.mark.parametrize("per_step", [1, 2, 3])
def test_rounds_per_superstep_one_checkpoint_written_for_them(
        home: Path, counted: Counter[str], monkeypatch: pytest.MonkeyPatch,
        per_step: int) -> None:
    """``ROUNDS_PER_STEP`` rounds run in one superstep: one checkpoint handed over and written
    for them, the same records (one analysis per round, keys unique), and the checkpoint
    written after every ``per_step``-th round's analysis."""
    from mapek.loop import graph

    monkeypatch.setattr(graph, "ROUNDS_PER_STEP", per_step)
    written: list[int] = []
    write = RoundSaver._write

    def noting(self: RoundSaver, held: Any, moved: Any) -> Any:
        written.append(held[1]["channel_values"].get("round", 0))
        return write(self, held, moved)

    monkeypatch.setattr(RoundSaver, "_write", noting)
    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=12)
    assert run_session(s.run_id, model=_model()) in ("converged", "stalled", "max_turns")
    events = s.history()
    rounds = [e.payload["round"] for e in events if e.kind == "observer.analysis"]
    assert rounds == [1, 2, 3, 4, 5, 6]
    # input, agenda, one per per_step rounds, the closing plan, the synthesis
    assert counted["supersteps"] <= -(-len(rounds) // per_step) + 5
    ends = [r for r in written if r in rounds]
    assert ends[:len(rounds) // per_step] == list(range(per_step, len(rounds) + 1, per_step))
    keys = [e.key for e in events if e.key]
    assert len(keys) == len(set(keys)) and s.kb.verify(s.run_id).ok
    s.close()
