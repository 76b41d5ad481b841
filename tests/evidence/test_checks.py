"""The receiver's checks: requirements, and the log behind the envelope."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _evidence_rig import Rig

from mapek.errors import EvidenceError, EvidenceRejected
from mapek.evidence import Envelope, Requirements, Verdict


def reasons(rig: Rig, env, expect=None) -> list[str]:  # type: ignore[no-untyped-def]
    return rig.checker().evaluate(env, expect).reasons


def test_an_honest_audit_is_accepted_and_recorded(rig: Rig) -> None:
    env = rig.audit()
    res = rig.checker().require(env, ("security_audit", "audit-1"))
    assert res.accepted and res.proceed and not res.reasons
    assert res.facts["scan_file.distinct(path)"] == 3
    ev = rig.kb.get(rig.run_id, res.seq)  # type: ignore[arg-type]
    assert ev is not None and ev.kind == "evidence.accepted" and ev.actor == "observer"
    assert ev.payload["envelope"] == env.digest and ev.payload["events"] == env.events
    again = rig.checker().check(env)  # checking twice records once (idempotency key)
    assert again.seq == res.seq
    assert rig.kb.verify(rig.run_id).ok


def test_a_success_with_zero_coverage_is_rejected(rig: Rig) -> None:
    rig.broken[0] = True  # the scanner cannot run: every scan errors, the agent says continue
    env = rig.audit()
    assert env.verdict.decision == "continue" and env.metrics.coverage == 0
    with pytest.raises(EvidenceRejected) as info:
        rig.checker().require(env)
    exc = info.value
    assert exc.exit_code == 5 and exc.producer == "security"
    assert exc.task == "security_audit:audit-1"
    why = "\n".join(exc.reasons)
    assert "coverage = 0 is below the required minimum 0.9" in why
    assert "items_examined = 0 is below the required minimum 1" in why
    assert "3 cited scan_file call(s) ended error" in why
    assert "scanner executable not found" in why
    ev = rig.kb.get(rig.run_id, exc.seq)  # type: ignore[arg-type]
    assert ev is not None and ev.kind == "evidence.rejected"
    assert ev.payload["reasons"] == exc.reasons and "REJECTED" in ev.payload["text"]
    assert rig.kb.verify(rig.run_id).ok


def test_claiming_120_files_with_no_scanning_calls_is_rejected(rig: Rig) -> None:
    c = rig.collector()
    c.call("list_files", {"root": str(rig.repo)})
    env = c.seal("continue", "all clean", {"items_examined": 120, "files_total": 120,
                                            "coverage": 1.0, "rules_run": 40, "errors": 0,
                                            "warnings": 0})
    why = reasons(rig, env)
    assert "items_examined = 120 contradicts the log, which shows " \
           "scan_file.distinct(path) = 0 (required: items_examined == " \
           "scan_file.distinct(path))" in why
    assert any(r.startswith("files_total = 120 contradicts the log") for r in why)
    assert any(r.startswith("rules_run = 40 contradicts the log") for r in why)
    assert any("needs at least 2 ok" in r for r in why)


def test_inflated_or_missing_metrics_are_rejected(rig: Rig) -> None:
    assert any(r.startswith("items_examined = 5 contradicts the log")
               for r in reasons(rig, rig.audit(items_examined=5)))
    assert any(r.startswith("errors = 0 contradicts the log")
               for r in reasons(rig, _with_eval(rig)))
    c = rig.collector(task=("security_audit", "audit-2"))
    env = rig.audit(c)
    data = json.loads(env.to_json())
    del data["metrics"]["rules_run"], data["metrics"]["warnings"]
    missing = Envelope.model_validate({**data, "signature": ""}).sign(rig.key)
    why = reasons(rig, missing)
    assert "required metric 'rules_run' is missing" in why
    assert "required metric 'warnings' is missing" in why


def _with_eval(rig: Rig):  # type: ignore[no-untyped-def]
    (rig.repo / "m1.py").write_text("eval(input())\n")
    return rig.audit(errors=0)


def test_a_continue_with_findings_is_a_contradiction(rig: Rig) -> None:
    (rig.repo / "m2.py").write_text("eval(input())\n")
    env = rig.audit()
    assert env.metrics.errors == 1
    assert "errors = 1 is above the allowed maximum 0" in reasons(rig, env)
    honest = rig.collector(task=("security_audit", "audit-3"))
    stop = rig.audit(honest).model_copy(update={"verdict": Verdict(decision="stop",
                                                                   detail="eval in m2.py")})
    stop = stop.sign(rig.key)
    res = rig.checker().check(stop)
    assert res.accepted and not res.proceed  # the evidence holds; the verdict is stop
    with pytest.raises(EvidenceRejected, match="says stop: the producer's verdict is stop"):
        rig.checker().require(stop)


def test_cited_events_must_be_the_producers_ok_tool_calls_in_this_run(rig: Rig) -> None:
    other = rig.gw.call("scan_file", {"path": str(rig.repo / "m0.py")}, actor="intern")
    odd = rig.gw.call("other_tool", {"x": "1"}, actor="security")
    note = rig.kb.record(rig.run_id, "run.note", "security", {"note": "done"})
    env = rig.audit()
    for seqs, expected in [
        ([*env.events, 9999], "cited event #9999 does not exist in run run-a"),
        ([*env.events, note.seq], f"cited event #{note.seq} is a 'run.note' event"),
        ([*env.events, other.seq], f"cited call #{other.seq} was made by 'intern'"),
        ([*env.events, odd.seq], f"cited call #{odd.seq} is 'other_tool', not one of"),
        ([*env.events, env.events[0]], "the envelope cites the same event twice"),
    ]:
        forged = env.model_copy(update={"events": seqs}).sign(rig.key)
        assert any(r.startswith(expected) for r in reasons(rig, forged)), expected


def test_digests_must_cover_the_calls_outputs_and_inputs(rig: Rig) -> None:
    env = rig.audit()
    first_scan = env.events[1]
    outs = {k: v for k, v in env.outputs.items() if k != f"scan_file#{first_scan}"}
    forged = env.model_copy(update={"outputs": outs}).sign(rig.key)
    assert any(f"the output of cited call #{first_scan} (scan_file) is not among" in r
               for r in reasons(rig, forged))
    ins = dict(list(env.inputs.items())[1:])
    forged = env.model_copy(update={"inputs": ins}).sign(rig.key)
    assert any("that is not among the envelope's input digests" in r
               for r in reasons(rig, forged))


def test_an_envelope_for_another_task_or_an_unknown_type_is_rejected(rig: Rig) -> None:
    env = rig.audit()
    assert reasons(rig, env, ("security_audit", "audit-9")) == [
        "the envelope is for task security_audit:audit-1, but security_audit:audit-9 was "
        "expected"]
    c = rig.collector(task=("penetration_test", "p1"))
    c.call("scan_file", {"path": str(rig.repo / "m0.py")})
    why = reasons(rig, c.seal("continue", "", {"coverage": 1}))
    assert why[0].startswith("no requirement is declared for task type 'penetration_test'")


def test_requirement_files_with_mistakes_are_named(tmp_path: Path) -> None:
    good = Path(__file__).parents[2] / "knowledge" / "evidence" / "security_audit.yaml"
    for text, message in [
        ("tools: [a]\nbogus: 1\n", "bogus: unknown key"),
        ("tools: [a]\nlog: {x: {equals: 'a.mean(y)'}}\n", "is not TOOL.calls"),
        ("tools: [a]\nlog: {x: {equals: 'b.calls'}}\n", "tool 'b' is not in tools"),
        ("tools: [a]\nlog: {x: {equals: 'a.calls', at_most: 'a.calls'}}\n", "exactly one"),
        ("tools: [a]\nlog: {x: {equals: 'a.sum'}}\n", "sum takes one argument"),
        ("tools: []\n", "tools: List should have at least 1 item"),
        ("tools: [a\n", "not valid YAML"),
        ("- a\n", "must be a mapping"),
    ]:
        folder = tmp_path / "reqs"
        folder.mkdir(exist_ok=True)
        for f in folder.glob("*.yaml"):
            f.unlink()
        (folder / "t.yaml").write_text(text)
        with pytest.raises(EvidenceError, match=message):
            Requirements.load(folder)
    (folder / "t.yaml").write_text(good.read_text())
    assert Requirements.load(folder).get("t") == Requirements.load().get("security_audit")


def test_an_envelope_dated_before_its_evidence_is_rejected(rig: Rig) -> None:
    env = rig.audit()
    early = env.model_copy(update={"created_at": env.created_at - 3600}).sign(rig.key)
    assert "the envelope is dated before the calls it cites" in reasons(rig, early)
    for seqs in ([0], [-3]):
        odd = env.model_copy(update={"events": seqs}).sign(rig.key)
        assert f"cited event #{seqs[0]} does not exist in run run-a" in reasons(rig, odd)
