"""A run as OpenTelemetry spans, received by a real OTLP/HTTP receiver on 127.0.0.1.

One run is exported live (``MAPEK_OTLP_ENDPOINT``: its worker exports it when it ends), then
again by ``mapek runs export RUN --otlp`` from its log alone; a second run trips the breaker and
its watchdog exports it. The receiver decodes the protobuf requests as a collector does, and the
tests read the spans it got: names, GenAI attributes, parent links and times.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from receiver import Receiver, Span, running  # noqa: E402

from mapek.api import Session  # noqa: E402
from mapek.config import Settings  # noqa: E402
from mapek.errors import ConfigError, UnknownRunError  # noqa: E402
from mapek.knowledge.base import open_log  # noqa: E402
from mapek.otel import OTLPExportError, build_trace, export_run, traces_url  # noqa: E402

TOPIC = "Should we open an office in Berlin?"


def mapek(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=180, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def rx() -> Iterator[Receiver]:
    with running() as r:
        yield r


@pytest.fixture(scope="module")
def run(rx: Receiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A finished run whose human answered an escalated question, exported live at its end."""
    home = tmp_path_factory.mktemp("otel") / "ws"
    mp = pytest.MonkeyPatch()
    mp.setenv("MAPEK_HOME", str(home))
    mp.setenv("MAPEK_OTLP_ENDPOINT", rx.url)
    mp.delenv("MAPEK_MODEL", raising=False)
    try:
        s = Session.create(TOPIC, ["cfo", "engineer", "skeptic"], human="interactive",
                           max_turns=10)  # a worker process, as every front end starts it
        with s:
            res = s.run(answer=lambda q: "Yes, up to 100k")
            assert res.status in ("converged", "stalled", "max_turns"), res
        yield s.run_id, home
    finally:
        mp.undo()


def tree(spans: list[Span]) -> dict[str, Span]:
    return {s.span_id: s for s in spans}


def of_run(rx: Receiver, run_id: str) -> list[Span]:
    return [s for s in rx.spans() if s.resource.get("mapek.run_id") == run_id]


def check_trace(spans: list[Span], events: list, run_id: str) -> None:
    by = tree(spans)
    roots = [s for s in spans if not s.parent_id]
    assert [r.name for r in roots] == ["mapek.session"]
    root = roots[0]
    assert root.attributes["mapek.run_id"] == run_id
    assert {s.trace_id for s in spans} == {root.trace_id}
    assert all(s.parent_id in by for s in spans if s.parent_id)  # every parent was sent
    assert root.resource["service.name"] == "mapek" and root.scope == "mapek"
    # times: the log's, every child inside its parent
    first, last = events[0].ts, events[-1].ts
    assert abs(root.start / 1e9 - first) < 1.0 and abs(root.end / 1e9 - last) < 1e-3
    for s in spans:
        assert s.start <= s.end, s.name
        if s.parent_id:
            p = by[s.parent_id]
            assert p.start <= s.start and s.end <= p.end, (s.name, p.name)

    rounds = [s for s in spans if s.name == "mapek.round"]
    assert rounds and all(by[r.parent_id] is root for r in rounds)
    assert sorted(r.attributes["mapek.round"] for r in rounds) == \
        list(range(1, len(rounds) + 1))
    # persona turns: one per message, under its round, with its model call(s) under it
    turns = [s for s in spans if s.name.startswith("invoke_agent ")]
    messages = [e for e in events if e.kind == "message"]
    assert len(turns) == len(messages)
    for t in turns:
        persona = t.name.removeprefix("invoke_agent ")
        assert t.attributes["gen_ai.operation.name"] == "invoke_agent"
        assert t.attributes["gen_ai.agent.name"] == persona
        assert by[t.parent_id].name == "mapek.round"
        assert by[t.parent_id].attributes["mapek.round"] == t.attributes["mapek.round"]
        calls = [s for s in spans if s.parent_id == t.span_id and s.name.startswith("chat ")]
        assert calls and all(c.attributes["gen_ai.agent.name"] == persona for c in calls)
    # model calls: GenAI semantic conventions, every llm.call of the log once
    chats = [s for s in spans if s.name.startswith("chat ")]
    llm = [e for e in events if e.kind == "llm.call"]
    assert len(chats) == len(llm)
    for c in chats:
        a = c.attributes
        assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.system"] == "mapek"
        assert a["gen_ai.request.model"] == "mapek/offline" == c.name.removeprefix("chat ")
        assert a["gen_ai.usage.input_tokens"] > 0 and a["gen_ai.usage.output_tokens"] > 0
        assert c.kind == 3  # SPAN_KIND_CLIENT
    assert sum(c.attributes["gen_ai.usage.input_tokens"] for c in chats) == \
        root.attributes["gen_ai.usage.input_tokens"] == \
        sum(e.payload["prompt_tokens"] for e in llm)
    # the synthesis' model call sits under the finishing span, not in a turn
    synth = [s for s in spans if s.name == "mapek.synthesis"]
    assert len(synth) == 1 and any(c.parent_id == synth[0].span_id
                                   and c.attributes["mapek.task"] == "synthesis" for c in chats)
    # tool calls: effect, verdict and outcome as logged, under a round (or, calls the last
    # turns proposed, under the finishing span that settles them)
    tools = [s for s in spans if s.name.startswith("execute_tool ")]
    calls = {e.seq: e.payload for e in events if e.kind == "tool.call"}
    assert len(tools) == len(calls) > 0
    assert any(c["outcome"] == "ok" and c["effect"] == "read" for c in calls.values())
    for t in tools:
        c = calls[t.attributes["mapek.seq"]]
        assert t.attributes["gen_ai.operation.name"] == "execute_tool"
        assert t.attributes["gen_ai.tool.name"] == t.name.removeprefix("execute_tool ") \
            == c["tool"]
        assert t.attributes["mapek.tool.effect"] == c["effect"]
        assert t.attributes["mapek.tool.verdict"] == c["decision"]
        assert t.attributes["mapek.tool.outcome"] == c["outcome"]
        assert by[t.parent_id].name in ("mapek.round", "mapek.synthesis")


def test_a_finished_run_exported_live_then_from_its_log(run: tuple[str, Path],
                                                        rx: Receiver) -> None:
    run_id, home = run
    settings = Settings(home=home)
    with open_log(None, settings.workspace(create=False), create=False) as log:
        events = log.events(run_id)
    live = of_run(rx, run_id)  # sent by the worker as the run ended
    assert live, "the worker did not export the run at its end"
    assert "exported" in (home / "runs" / run_id / "worker.log").read_text()
    check_trace(live, events, run_id)
    # the escalated question, from its escalation to the human's answer
    esc = [s for s in live if s.name == "mapek.escalation"
           and s.attributes["mapek.escalation.kind"] == "question"]
    assert esc
    assert esc[0].attributes["mapek.escalation.resolved"] is True
    assert esc[0].attributes["mapek.escalation.outcome"] == "answered"
    assert esc[0].attributes["mapek.escalation.by"] == "human"
    answer = next(e for e in events if e.kind == "answer" and e.actor == "human")
    assert abs(esc[0].end / 1e9 - answer.ts) < 1e-3
    # and again, from the log alone, by the CLI: the same spans, the same ids
    before = len(rx.requests)
    r = mapek("runs", "export", run_id, "--otlp", rx.url,
              env={"MAPEK_HOME": str(home), "MAPEK_OTLP_ENDPOINT": ""})
    assert r.returncode == 0, r.stderr
    assert f"exported run {run_id}: {len(live)} spans to {rx.url}/v1/traces" in r.stdout
    assert len(rx.requests) == before + 1 and rx.paths[-1] == "/v1/traces"
    again = [s for req in [rx.requests[-1]] for s in Receiver(rx.url, [req]).spans()]
    assert sorted((s.span_id, s.parent_id, s.name, s.start, s.end) for s in again) == \
        sorted((s.span_id, s.parent_id, s.name, s.start, s.end) for s in live)


@pytest.mark.slow  # a worker, its watchdog and a trip: about 20 s
def test_a_trip_is_exported_by_the_watchdog(rx: Receiver, home: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPEK_OTLP_ENDPOINT", rx.url)
    pol = tmp_path / "tight.yaml"
    pol.write_text("extends: default\nmax_turns: 2\n")
    s = Session.create(TOPIC, ["cfo", "engineer"], human="defer", max_turns=8, policy=pol)
    with s:
        assert s.run().status == "tripped"
        events = s.history()
    spans = of_run(rx, s.run_id)
    assert spans, "the watchdog did not export the tripped run"
    check_trip = [x for x in spans if x.name == "mapek.breaker.trip"]
    assert len(check_trip) == 1
    trip, = check_trip
    root, = [x for x in spans if not x.parent_id]
    assert trip.parent_id == root.span_id
    assert trip.status == 2 and "turns" in trip.status_message  # STATUS_CODE_ERROR
    assert trip.attributes["mapek.breaker.policy"] == "turns"
    assert [e[0] for e in trip.events][:1] == ["breaker.stopped"]
    assert root.status == 2 and root.attributes["mapek.status"] == "tripped"
    assert any(x.name.startswith("invoke_agent ") for x in spans)
    tripped = next(e for e in events if e.kind == "breaker.tripped")
    assert abs(trip.start / 1e9 - tripped.ts) < 1e-3


def test_bad_exports_say_what_is_wrong(run: tuple[str, Path], rx: Receiver) -> None:
    run_id, home = run
    env = {"MAPEK_HOME": str(home), "MAPEK_OTLP_ENDPOINT": "",
           "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2"}
    before = len(rx.requests)
    r = mapek("runs", "export", "no-such-run", "--otlp", rx.url, env=env)
    assert r.returncode == 2 and "no run 'no-such-run'" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = mapek("runs", "export", run_id, "--otlp", "127.0.0.1:4318", env=env)
    assert r.returncode == 2 and "an http:// or https:// URL" in r.stderr
    r = mapek("runs", "export", run_id, env=env)
    assert r.returncode == 2 and "--decisions FILE" in r.stderr and "--otlp" in r.stderr
    assert len(rx.requests) == before  # nothing was sent
    # a port nothing listens on
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    r = mapek("runs", "export", run_id, "--otlp", dead, env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"could not export run {run_id} to {dead}/v1/traces" in lines[0]
    assert "Traceback" not in r.stderr


def test_the_api_errors(run: tuple[str, Path], rx: Receiver) -> None:
    run_id, home = run
    with open_log(None, Settings(home=home).workspace(create=False), create=False) as log:
        with pytest.raises(UnknownRunError):
            export_run(log, "nope", rx.url)
        with pytest.raises(OTLPExportError, match="could not export"):
            export_run(log, run_id, rx.url + "/elsewhere", timeout=2)  # a 404
        events = log.events(run_id)
    with pytest.raises(ConfigError):
        traces_url("ftp://x")
    assert traces_url("http://h:4318/") == "http://h:4318/v1/traces"
    assert traces_url("https://h/api/otel/v1/traces") == "https://h/api/otel/v1/traces"
    # the tree alone, no OpenTelemetry: every span inside its parent, the session over all
    root = build_trace(events)
    assert root.start == events[0].ts and root.end == events[-1].ts
    for node, parent in root.walk():
        if parent is not None:
            assert parent.start <= node.start <= node.end <= parent.end


def test_a_missing_extra_is_one_line(run: tuple[str, Path], tmp_path: Path) -> None:
    """Without the OpenTelemetry packages: a clear line naming the extra, exit 2."""
    run_id, home = run
    block = tmp_path / "block"
    block.mkdir()
    (block / "sitecustomize.py").write_text(
        "import sys\n"
        "class _No:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.startswith('opentelemetry.exporter'):\n"
        "            raise ImportError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, _No())\n")
    path = os.pathsep.join([str(block), os.environ.get("PYTHONPATH", "")])
    r = mapek("runs", "export", run_id, "--otlp", "http://127.0.0.1:9",
              env={"MAPEK_HOME": str(home), "PYTHONPATH": path, "MAPEK_OTLP_ENDPOINT": ""})
    assert r.returncode == 2, r.stdout + r.stderr
    assert "pip install 'mapek[otel]'" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_approvals_failures_and_evidence_in_the_tree() -> None:
    """The parts an offline run does not show, from a hand-written log: a call put to the human
    and approved, a model call that failed and was retried, a failed tool call, disputed
    evidence, and a model call whose turn never came."""
    from mapek.models import Event

    def ev(seq: int, ts: float, kind: str, actor: str, **payload: object) -> Event:
        return Event(run_id="r", seq=seq, ts=100.0 + ts, kind=kind, actor=actor,
                     payload=payload)

    call = {"tool": "deploy", "args": {"env": "prod"}, "effect": "external",
            "proposed_by": "engineer", "call_id": "c1"}
    events = [
        ev(1, 0.0, "run.started", "human", config={"topic": "T", "personas": ["engineer"],
                                                   "model": "openai/gpt-4o"}),
        ev(2, 1.0, "plan", "orchestrator", round=1, speakers=[{"persona": "engineer"}]),
        ev(3, 2.0, "llm.call", "engineer", model="openai/gpt-4o", task="persona_turn",
           outcome="error", error="rate limited", error_type="RateLimitError",
           latency_ms=500.0),
        ev(4, 3.0, "llm.call", "engineer", model="openai/gpt-4o", task="persona_turn",
           prompt_tokens=10, completion_tokens=5, latency_ms=800.0, attempt=2),
        ev(5, 3.1, "message", "engineer", round=1, text="ship it", task="discuss"),
        ev(6, 3.2, "approval.requested", "orchestrator", approvals=[call]),
        ev(7, 5.0, "approval", "human", call_id="c1", approved=True),
        ev(8, 5.5, "tool.call", "engineer", tool="deploy", effect="external",
           decision="allow", approved=True, outcome="error", reason="exit 1",
           latency_ms=200.0),
        ev(9, 6.0, "evidence.escalated", "observer", text="verifiers disagree"),
        ev(10, 7.0, "plan", "orchestrator", round=2, speakers=[{"persona": "engineer"}]),
        ev(11, 8.0, "llm.call", "engineer", model="claude-sonnet-4", task="persona_turn",
           prompt_tokens=3, completion_tokens=0, latency_ms=100.0),
        ev(12, 9.0, "run.failed", "worker", reason="model down", error="ModelError"),
    ]
    root = build_trace(events)
    spans = {n.key: (n, p) for n, p in root.walk()}
    assert root.error == "model down" and root.attributes["mapek.status"] == "failed"
    turn, rnd = spans["turn:5"]
    assert rnd is not None and rnd.name == "mapek.round" and rnd.attributes["mapek.round"] == 1
    assert [c.key for c in turn.children] == ["llm:3", "llm:4"]  # the retry under the turn
    assert turn.start == 101.5 and turn.end == 103.1
    failed = turn.children[0]
    assert failed.error == "rate limited" and failed.attributes["error.type"] == "RateLimitError"
    assert failed.attributes["gen_ai.system"] == "openai"
    assert turn.attributes["gen_ai.usage.input_tokens"] == 10
    esc, parent = spans["esc:6:c1"]
    assert parent is rnd and (esc.start, esc.end) == (103.2, 105.0)
    assert esc.attributes["mapek.escalation.kind"] == "approval"
    assert esc.attributes["mapek.escalation.outcome"] == "approved"
    assert esc.attributes["gen_ai.tool.name"] == "deploy"
    tool, _ = spans["tool:8"]
    assert tool.error == "exit 1" and tool.attributes["mapek.tool.effect"] == "external"
    assert tool.attributes["mapek.tool.approved"] is True and tool.start == 105.3
    evidence, _ = spans["esc:9:evidence.escalated:9"]
    assert evidence.attributes["mapek.escalation.kind"] == "evidence.escalated"
    lost, parent = spans["llm:11"]  # its turn never came: under its round all the same
    assert parent is not None and parent.attributes["mapek.round"] == 2
    assert lost.attributes["gen_ai.system"] == "anthropic"
    assert [e[0] for e in root.events] == ["run.started", "run.failed"]  # the run's own
