"""Envelopes: signing, tampering, forging, replay across runs; the per-run key; bad files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from _evidence_rig import Rig, open_rig

from mapek.errors import EvidenceError
from mapek.evidence import Envelope, Metrics, key_path, load_envelope, run_key


def test_a_sealed_envelope_survives_json_and_verifies(rig: Rig) -> None:
    env = rig.audit()
    again = load_envelope(env.to_json())
    assert again == env
    assert again.signature_ok(rig.key)
    assert again.digest == env.digest
    assert env.events == sorted(env.events) and len(env.events) == 4  # list + 3 scans


def test_any_change_after_sealing_breaks_the_signature(rig: Rig) -> None:
    env = rig.audit()
    data = json.loads(env.to_json())
    for path, value in [(("metrics", "items_examined"), 120), (("verdict", "decision"), "stop"),
                        (("events",), env.events[:-1]), (("producer",), "builder"),
                        (("task", "id"), "audit-2"), (("created_at",), env.created_at + 1)]:
        forged = json.loads(json.dumps(data))
        target = forged
        for p in path[:-1]:
            target = target[p]
        target[path[-1]] = value
        tampered = load_envelope(forged)
        assert not tampered.signature_ok(rig.key), path
        res = rig.checker().evaluate(tampered)
        assert not res.accepted
        assert "signature does not match" in res.reasons[0]


def test_a_forged_signature_is_rejected(rig: Rig) -> None:
    env = rig.audit()
    for sig in ("0" * 64, env.sign(os.urandom(32)).signature, env.signature.upper(), "zz"):
        res = rig.checker().check(env.model_copy(update={"signature": sig}))
        assert not res.accepted and "signature does not match" in res.reasons[0]
        assert rig.kb.get(rig.run_id, res.seq).kind == "evidence.rejected"  # type: ignore[union-attr]
    unsigned = env.model_copy(update={"signature": ""})
    assert rig.checker().evaluate(unsigned).reasons == ["the envelope is not signed"]


def test_an_envelope_replayed_from_another_run_is_rejected(tmp_path: Path) -> None:
    a = open_rig(tmp_path / "a", "run-a")
    b = Rig(a.ws, a.kb, a.gw.__class__(a.gw.tools, a.kb, "run-b"), run_key(a.ws, "run-b"),
            a.repo, a.broken, "run-b")
    try:
        env = a.audit()
        assert a.checker().evaluate(env).accepted
        res = b.checker().evaluate(env)  # as is: another run's key and run id
        assert not res.accepted
        assert any("signature does not match" in r for r in res.reasons)
        assert any("replayed from another run" in r for r in res.reasons)
        # relabelled to the receiving run: the run id is signed, so the signature breaks
        relabelled = env.model_copy(update={"run_id": "run-b"})
        res = b.checker().evaluate(relabelled)
        assert not res.accepted and "signature does not match" in res.reasons[0]
        # and re-signed with A's key it is still not B's
        res = b.checker().evaluate(relabelled.sign(a.key))
        assert not res.accepted
    finally:
        a.kb.close()


def test_the_run_key_is_private_stable_per_run_and_never_logged(rig: Rig) -> None:
    path = key_path(rig.ws, rig.run_id)
    assert path == rig.ws.root / "runs" / rig.run_id / "evidence.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert run_key(rig.ws, rig.run_id) == rig.key  # created once, read after
    assert run_key(rig.ws, "run-other") != rig.key
    rig.audit()
    rig.checker().check(rig.audit())
    logged = rig.ws.log_path.read_bytes()
    assert rig.key.hex().encode() not in logged and rig.key not in logged
    assert not list(path.parent.glob(".evidence.key.*"))  # no temp file left


def test_a_missing_or_loose_key_is_refused(rig: Rig) -> None:
    with pytest.raises(EvidenceError, match="has no evidence key"):
        run_key(rig.ws, "never-sealed", create=False)
    path = key_path(rig.ws, rig.run_id)
    path.chmod(0o644)
    with pytest.raises(EvidenceError, match="readable by others"):
        run_key(rig.ws, rig.run_id)
    path.chmod(0o600)
    path.write_text("not a key")
    with pytest.raises(EvidenceError, match="not 64 hex digits"):
        run_key(rig.ws, rig.run_id)


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "not JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"run_id": "r"}', "producer: Field required"),
])
def test_unreadable_envelope_text_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(EvidenceError, match=message):
        load_envelope(text)


def test_bad_envelope_fields_name_the_field(rig: Rig, tmp_path: Path) -> None:
    good = json.loads(rig.audit().to_json())
    cases = [
        (("inputs",), {"a.py": "abc"}, "inputs: Value error, 'a.py': not a sha256 hex digest"),
        (("metrics", "coverage"), 1.5, "metrics.coverage: Input should be less than or equal"),
        (("metrics", "items_examined"), -1, "metrics.items_examined: Input should be greater"),
        (("metrics", "lines"), True, "metric 'lines' must be a finite number"),
        (("metrics", "Bad-Name"), 1, "must be lower_snake_case"),
        (("verdict", "decision"), "maybe", "verdict.decision: Input should be 'continue' or"),
        (("extra",), 1, "extra: unknown field"),
    ]
    for path, value, message in cases:
        data = json.loads(json.dumps(good))
        target = data
        for p in path[:-1]:
            target = target[p]
        target[path[-1]] = value
        f = tmp_path / "env.json"
        f.write_text(json.dumps(data))
        with pytest.raises(EvidenceError, match="envelope .*env.json: ") as info:
            load_envelope(f)
        assert message in str(info.value), (path, str(info.value))
    with pytest.raises(EvidenceError, match="cannot read"):
        load_envelope(tmp_path / "missing.json")


def test_metrics_keep_task_specific_numbers() -> None:
    m = Metrics(items_examined=3, coverage=0.5, files_total=6)
    assert m.get("files_total") == 6 and m.get("coverage") == 0.5 and m.get("nope") is None
    assert m.reported() == {"items_examined": 3, "coverage": 0.5, "files_total": 6}
    assert Envelope.model_fields["signature"].default == ""


def test_processes_racing_to_create_the_key_all_get_the_same_one(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys; from mapek.config import Workspace; from mapek.evidence import run_key;"
            "print(run_key(Workspace.open(sys.argv[1]), 'race').hex())")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "ws")],
                              stdout=subprocess.PIPE, text=True) for _ in range(4)]
    keys = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(keys) == 1 and len(next(iter(keys))) == 64
    assert not list((tmp_path / "ws" / "runs" / "race").glob(".evidence.key.*"))
