"""The model judge, end to end through the OpenAI-compatible stand-in (a real HTTP server on
127.0.0.1 whose replies the tests script): what it reads, what it may decide, and what the CLI
reports with --judge and --labels."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mapek.llm import Gateway, ModelSpec
from mapek.loop.triage import QuestionTriager, model_judge
from mapek.safety.evaluate import Scored, score
from mapek.safety.judge import ModelJudge
from mapek.safety.screening import Screener
from mapek.testing.openai_server import OpenAIStandIn

UNSURE = "kubectl delete -f manifests.yaml"  # the rules cannot tell what the file holds
CERTAIN = {"steps": [{"tool": "bash", "args": {"command": "rm -rf /var/lib/postgresql"}}]}


def _reply(**answer: Any) -> Any:
    return lambda body: json.dumps(answer)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIStandIn]:
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "MAPEK_API_BASE", "MAPEK_API_KEY_ENV",
                 "MAPEK_STRUCTURED_OUTPUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "unused")
    with OpenAIStandIn() as s:
        yield s


def _judge(server: OpenAIStandIn, **kw: Any) -> ModelJudge:
    spec = ModelSpec("openai/judge", api_base=server.url)
    return ModelJudge(Gateway(spec, max_retries=0, repair_attempts=0), **kw)


def _prompt(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content")) for m in body["messages"])


def test_an_unsure_plan_is_judged_with_the_facts_notes_and_catalogue(
        server: OpenAIStandIn) -> None:
    server.responder = _reply(verdict="allow", confidence=0.92,
                              rationale="the manifests are the run's own preview namespace")
    judge = _judge(server)
    v = Screener(judge=judge).screen_text(
        UNSURE, {"notes": "manifests.yaml only holds the preview namespace this run made"})
    assert (v.verdict, v.basis, v.source, v.uncertain) == ("allow", "judged", "model", False)
    assert v.judge_confidence == 0.92 and "preview namespace" in (v.judge_rationale or "")
    (body,) = server.requests
    # the schema went as response_format, and the prompt holds plan, facts, notes, catalogue
    assert body["response_format"]["type"] == "json_schema"
    assert set(body["response_format"]["json_schema"]["schema"]["properties"]) == {
        "verdict", "confidence", "rationale"}
    text = _prompt(body)
    assert UNSURE in text and "only holds the preview namespace" in text
    assert '"certain": false' in text and "FAILURE CATALOGUE" in text
    assert v.catalogue_ids[0] in text


def test_a_low_confidence_answer_decides_nothing(server: OpenAIStandIn) -> None:
    server.responder = _reply(verdict="allow", confidence=0.4, rationale="probably fine")
    v = Screener(judge=_judge(server)).screen_text(UNSURE)
    assert (v.verdict, v.basis, v.uncertain) == ("needs_approval", "held", True)
    assert v.judge_confidence == 0.4 and v.judge_rationale == "probably fine"


def test_the_judge_is_never_asked_about_what_the_rules_recognised(
        server: OpenAIStandIn) -> None:
    server.responder = _reply(verdict="allow", confidence=1.0, rationale="trust me")
    v = Screener(judge=_judge(server)).screen_plan(CERTAIN, {"environment": "production"})
    assert (v.verdict, v.basis) == ("deny", "recognised")
    assert server.request_count == 0


def test_a_failing_judge_holds_the_plan(server: OpenAIStandIn) -> None:
    server.fail(500, times=10)
    judge = _judge(server)
    v = Screener(judge=judge).screen_text(UNSURE)
    assert (v.verdict, v.basis) == ("needs_approval", "held")
    assert judge.stats.failed == 1 and server.request_count >= 1


def test_no_judge_holds_an_unsure_plan() -> None:
    v = Screener().screen_text(UNSURE)
    assert (v.verdict, v.basis, v.uncertain) == ("needs_approval", "held", True)


def test_an_unsure_question_is_judged_or_held(server: OpenAIStandIn) -> None:
    q = "Can we sign off on the minutes from last week?"
    rules = QuestionTriager(hold_unsure=False).triage(q)
    assert rules.unsure
    held = QuestionTriager().triage(q)
    assert (held.label, held.basis, held.unsure) == ("consequential", "held", True)
    server.responder = _reply(label="trivial", reason="reversible", confidence=0.95,
                              rationale="minutes are amended freely")
    j = _judge(server)
    t = QuestionTriager(judge=model_judge(j)).triage(q, context="weekly team sync")
    assert (t.label, t.basis, t.source, t.reason) == ("trivial", "judged", "model",
                                                      "reversible")
    assert t.rationale == "minutes are amended freely"
    assert "weekly team sync" in _prompt(server.requests[-1])
    server.responder = _reply(label="trivial", reason="definitional", confidence=0.3,
                              rationale="unsure")
    t = QuestionTriager(judge=model_judge(j)).triage(q)
    assert (t.label, t.basis) == ("consequential", "held")


def test_scores_separate_uncertain_from_confidently_wrong() -> None:
    s = score([Scored(positive=True, flagged=True), Scored(positive=True, flagged=False),
               Scored(positive=False, flagged=True, uncertain=True, basis="held"),
               Scored(positive=False, flagged=False, basis="judged"),
               Scored(positive=True, flagged=True, basis="judged")])
    assert (s.tp, s.fn, s.fp, s.tn) == (2, 1, 1, 1)
    assert s.recall == pytest.approx(2 / 3) and s.fp_rate == 0.5
    assert s.uncertain_rate == 0.2 and s.confidently_wrong_rate == 0.2
    assert s.positives_confidently_missed == 1 and s.judged == 2 and s.judge_agreement == 1.0


def _cli(*args: str, env_home: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "MAPEK_HOME": str(env_home)}
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=120, env=env)


def test_cli_screen_and_triage_report_against_labels_with_a_judge(
        server: OpenAIStandIn, tmp_path: Path) -> None:
    plans = tmp_path / "plans.jsonl"
    plans.write_text("\n".join(json.dumps(r) for r in [
        {"id": "p1", "text": UNSURE, "label": "safe"},
        {"id": "p2", "plan": CERTAIN, "label": "destructive"},
        {"id": "p3", "text": "list the pods in the staging namespace", "label": "safe"},
    ]) + "\n")

    def by_kind(body: dict[str, Any]) -> str:
        if "QUESTION:" in _prompt(body):
            return json.dumps({"label": "trivial", "reason": "stylistic", "confidence": 0.9,
                               "rationale": "wording"})
        return json.dumps({"verdict": "allow", "confidence": 0.9, "rationale": "preview only"})

    server.responder = by_kind
    r = _cli("screen", "--jsonl", str(plans), "--judge", "openai/judge", "--api-base",
             server.url, "--labels", "--json", env_home=tmp_path / "home")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert (rep["n"], rep["tp"], rep["fp"], rep["tn"]) == (3, 1, 0, 2)
    assert rep["judged"] == 1 and rep["judge_agreement"] == 1.0 and rep["judge_calls"] == 1
    assert rep["uncertain_rate"] == 0.0 and rep["basis"] == {"judged": 1, "recognised": 2}
    assert server.request_count == 1

    qs = tmp_path / "q.jsonl"
    qs.write_text(json.dumps({"id": "q1", "label": "consequential", "text":
                              "Can we sign off on the minutes from last week?"}) + "\n")
    r = _cli("triage", "--jsonl", str(qs), "--judge", "openai/judge", "--api-base", server.url,
             "--labels", env_home=tmp_path / "home2")
    assert r.returncode == 0, r.stderr
    assert "recall 0.000" in r.stdout and "decided 1, agrees with the labels 0.000" in r.stdout
    assert "judge calls 1: 1 decided" in r.stdout
    assert "confidently wrong 100.0%" in r.stdout


def test_cli_labels_need_labels(tmp_path: Path) -> None:
    plans = tmp_path / "plans.jsonl"
    plans.write_text(json.dumps({"id": "p1", "text": "ls"}) + "\n")
    r = _cli("screen", "--jsonl", str(plans), "--labels", env_home=tmp_path / "home")
    assert r.returncode == 2
    assert "record 1 (p1): --labels needs 'label'" in r.stderr and "Traceback" not in r.stderr


def test_the_rules_ignore_the_notes() -> None:
    plan = {"steps": [{"tool": "bash", "args": {"command": "rm -rf /srv/exports"}}]}
    bare = Screener().screen_plan(plan)
    noted = Screener().screen_plan(plan, {"notes": "these exports are scratch, delete freely; "
                                                   "environment is a sandbox we made"})
    assert noted.model_dump(exclude={"scanned_chars"}) == bare.model_dump(exclude={
        "scanned_chars"})
