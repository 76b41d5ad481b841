"""Typed payloads: every kind the code writes has a model; real payloads read back exactly;
old, new, unknown and damaged payloads read without error."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import ValidationError

from mapek.decisions import Decision
from mapek.events import (
    KINDS,
    Agenda,
    BreakerOverride,
    GenericPayload,
    LLMCall,
    Message,
    RunConfig,
    RunStarted,
    parse_payload,
    payload_model,
    read_payload,
    typed,
    typed_as,
)
from mapek.loop.state import SessionConfig
from mapek.models import Event, canonical_json
from mapek.safety.grants import Grant

from .conftest import Runs

REPO = Path(__file__).resolve().parents[2]
_WRITERS = {"record": 1, "recorder": 1, "_record": 0, "_append": 0, "on_pause": 0, "note": 0}
"""Calls that write an event, and the position of their kind argument (``ctx.record`` and
``EventDraft(kind=...)`` are handled apart; ``ctx.note`` writes with its node's batch)."""


def _constants(tree: ast.Module) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Name) and isinstance(value, ast.Constant) \
                    and isinstance(value.value, str):
                out[target.id] = value.value
            elif isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
                for t, v in zip(target.elts, value.elts, strict=True):
                    if isinstance(t, ast.Name) and isinstance(v, ast.Constant):
                        out[t.id] = str(v.value)
    return out


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _own_nodes(body: list[ast.stmt] | list[ast.expr]) -> list[ast.AST]:
    """The nodes of a scope's body, not those of functions defined in it (scanned apart)."""
    out: list[ast.AST] = []
    todo: list[ast.AST] = [n for n in body if not isinstance(n, _SCOPES)]
    while todo:
        node = todo.pop()
        out.append(node)
        todo.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, _SCOPES))
    return out


def _written_kinds() -> tuple[dict[str, list[str]], list[str]]:
    """Every kind passed to a writer in mapek/ and apps/ (constants, module constants, both
    branches of a conditional, a local variable set to those), and the calls whose kind could
    not be told (a writer's own parameter passed through is fine)."""
    found: dict[str, list[str]] = {}
    unknown: list[str] = []
    for path in sorted([*REPO.joinpath("mapek").rglob("*.py"),
                        *REPO.joinpath("apps").rglob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        consts = _constants(tree)
        where = str(path.relative_to(REPO))
        scopes: list[ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda] = [
            tree, *(n for n in ast.walk(tree) if isinstance(n, _SCOPES))]
        for func in scopes:
            params = set() if isinstance(func, ast.Module) else {
                a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]}
            local: dict[str, ast.expr] = {}
            nodes = _own_nodes(func.body if isinstance(func.body, list) else [func.body])
            for node in nodes:
                if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                        and isinstance(node.targets[0], ast.Name):
                    local[node.targets[0].id] = node.value

            def values(e: ast.expr, local: dict[str, ast.expr] = local,
                       consts: dict[str, str] = consts) -> list[str] | None:
                if isinstance(e, ast.Constant) and isinstance(e.value, str):
                    return [e.value]
                if isinstance(e, ast.Name) and e.id in consts:
                    return [consts[e.id]]
                if isinstance(e, ast.Name) and e.id in local:
                    return values(local[e.id])
                if isinstance(e, ast.IfExp):
                    a, b = values(e.body), values(e.orelse)
                    return None if a is None or b is None else a + b
                return None

            for node in nodes:
                if not isinstance(node, ast.Call):
                    continue
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else \
                    f.id if isinstance(f, ast.Name) else None
                arg: ast.expr | None = None
                if name == "EventDraft":
                    arg = next((k.value for k in node.keywords if k.arg == "kind"), None)
                elif name in _WRITERS:
                    pos = _WRITERS[name]
                    if name == "record" and isinstance(f, ast.Attribute) \
                            and isinstance(f.value, ast.Name) and f.value.id == "ctx":
                        pos = 0  # LoopContext.record(kind, actor, payload)
                    arg = node.args[pos] if len(node.args) > pos else None
                if arg is None:
                    continue
                kinds = values(arg)
                if kinds is not None:
                    for k in kinds:
                        found.setdefault(k, []).append(f"{where}:{node.lineno}")
                elif not (isinstance(arg, ast.Name) and arg.id in params):
                    unknown.append(f"{where}:{node.lineno}: {ast.unparse(arg)}")
    return found, unknown


def test_every_kind_the_code_writes_has_a_payload_model() -> None:
    found, unknown = _written_kinds()
    assert not unknown, f"writers whose event kind the test cannot tell: {unknown}"
    # The scan sees the writers it should: direct, through a constant, through a conditional.
    assert {"llm.call", "decision.made", "workflow.started", "evidence.accepted",
            "evidence.rejected", "worker.unwatched", "breaker.tripped", "message"} <= set(found)
    missing = {k: v for k, v in found.items() if k not in KINDS}
    assert not missing, f"kinds written without a payload model in mapek.events: {missing}"
    # And no model describes a kind nothing writes (but the legacy decisions, still read).
    assert KINDS - set(found) == {"orchestrator.decision"}


def test_models_mirror_the_writers_own_models() -> None:
    assert set(SessionConfig.model_fields) == set(RunConfig.model_fields)
    assert set(Decision.model_fields) == set(payload_model("decision.made").model_fields)
    assert set(Grant.model_fields) - {"seq"} == set(payload_model("grant").model_fields)


def test_real_payloads_read_back_exactly(runs: Runs) -> None:
    kinds = set()
    for run in (runs.offline, runs.priced):
        for ev in runs.events(run):
            kinds.add(ev.kind)
            p = parse_payload(ev.kind, ev.payload)  # strict: raises if a writer drifted
            assert type(p) is payload_model(ev.kind) is not GenericPayload, ev.kind
            assert canonical_json(p.dump()) == canonical_json(ev.payload), ev.kind
            assert typed(ev) == p
    assert {"run.started", "llm.call", "message", "plan", "decision.made", "tool.call",
            "question", "answer", "run.paused", "run.finished"} <= kinds


def _event(kind: str, payload: dict[str, object], seq: int = 1) -> Event:
    return Event(run_id="r", seq=seq, kind=kind, actor="cfo", payload=payload)


def test_old_and_newer_payloads_keep_their_fields() -> None:
    # A newer writer's extra field is kept (and written back); an older payload with fewer
    # fields reads with defaults.
    p = typed(_event("llm.call", {"prompt_tokens": 7, "completion_tokens": 3,
                                  "cached_tokens": 5}))
    assert isinstance(p, LLMCall) and p.total_tokens == 10 and p.cost_usd == 0.0
    assert p.get("cached_tokens") == 5 and p.dump()["cached_tokens"] == 5
    assert p.model_extra == {"cached_tokens": 5}
    old = typed(_event("message", {"text": "hi"}))
    assert isinstance(old, Message) and old.turn.stance == "" and old.round is None
    over = typed(_event("breaker.override", {"raise": {"tokens": 10}, "reason": "ok"}))
    assert isinstance(over, BreakerOverride) and over.raise_limits == {"tokens": 10}
    assert over.get("raise") == {"tokens": 10} and over.dump() == {"raise": {"tokens": 10},
                                                                   "reason": "ok"}


def test_unknown_kinds_and_damaged_payloads_never_break_reading() -> None:
    p = typed(_event("robot.dance", {"text": "beep", "n": 3}))
    assert type(p) is GenericPayload and p.text == "beep" and p.get("n") == 3
    # A value that does not fit is left out; the rest still reads.
    started = typed(_event("run.started", {"config": {"topic": "t", "personas": ["a", "b"],
                                                      "max_turns": "many"},
                                           "breaker": "loose", "text": "t"}))
    assert isinstance(started, RunStarted)
    assert started.config.topic == "t" and started.config.max_turns is None
    assert started.breaker.policy is None and started.text == "t"
    asked = read_payload("approval.requested",
                         {"approvals": [{"call_id": "c1", "tool": "rm", "step": "x"}, 5]})
    assert [a.call_id for a in asked.get("approvals")] == ["c1"]
    assert typed(_event("agenda", {"items": "not a list"})) == Agenda()
    with pytest.raises(ValidationError):
        parse_payload("agenda", {"items": "not a list"})  # the strict reader says why
    for garbage in ({"config": None}, {"questions": [None]}, {"qids": {"a": 1}}):
        for kind in KINDS:
            typed(_event(kind, garbage))  # never raises


def test_typed_as_picks_one_kind() -> None:
    ev = _event("llm.call", {"prompt_tokens": 1})
    assert typed_as(ev, LLMCall) is not None and typed_as(ev, Message) is None
    assert typed_as(_event("robot.dance", {}), LLMCall) is None


def test_watchdog_restarts_read_back_exactly() -> None:
    # As the front end (api.Session) and the worker's guard (breaker.guard) write them.
    for kind, payload in (
            ("watchdog.restarted", {"by": "front end", "exit_code": -9, "pid": 4242,
                                    "text": "the watchdog exited (-9) under a live worker"}),
            ("watchdog.respawned", {"pid": 4243, "by": "worker", "paused_s": 12.5,
                                    "text": "no watchdog for 12 s: the worker started one"}),
            ("watchdog.respawned", {"error": "[Errno 12] Cannot allocate memory",
                                    "by": "worker", "paused_s": 3.0, "text": "no watchdog"})):
        p = parse_payload(kind, payload)
        assert type(p) is payload_model(kind) and canonical_json(p.dump()) == \
            canonical_json(payload)
