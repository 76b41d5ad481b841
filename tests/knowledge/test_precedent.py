"""Precedent, the K in MAPE-K: a person's verdicts in one session are labelled examples a later
session consults and cites (real SQLite log, real Chroma index, the real loop in-process on a
model double that asks fixed questions and proposes fixed calls)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mapek.api import Session
from mapek.knowledge.precedent import PrecedentBook
from mapek.loop.triage import QuestionTriager
from mapek.loop.worker import run_session
from mapek.safety.screening import Screener
from mapek.testing import FunctionModel
from mapek.testing.discussion import discussion_model

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"
PEOPLE = ["cfo", "engineer", "skeptic"]
# The rules are unsure of this one (tests/loop/test_triage.py's hard pair); the model double's
# judge calls it consequential ("sign"), so the first session puts it to the person.
UNSURE_Q = "Can we sign off on the minutes from last week?"
MAIL = {"tool": "send_email", "args": {"to": "all@x.com", "subject": "news"}}


def _model() -> FunctionModel:
    return discussion_model(name="function", first_turn={
        "cfo": {"questions": [{"text": UNSURE_Q, "to": None}], "actions": [MAIL]}})


def _triaged(s: Session) -> dict[str, Any]:
    qid = next(q.qid for q in s.questions().values() if q.text == UNSURE_Q)
    return next(e.payload for e in s.history() if e.kind == "question.triaged"
                and e.payload["qid"] == qid)


def test_a_persons_verdicts_become_precedents_a_later_session_cites(home: Path) -> None:
    first = Session.create(TOPIC, PEOPLE, human="queue", max_turns=6, speakers_per_round=3)
    run_session(first.run_id, model=_model(), rounds=2)
    tri = _triaged(first)
    assert (tri["basis"], tri["label"]) == ("judged", "consequential")  # no precedent yet
    qid = tri["qid"]
    # The person: "the peers could have settled this", and refuses the mass mail.
    first.relabel(qid, "minutes are the team's business")
    call = next(r for r in first.pending_approvals() if r["tool"] == "send_email")
    assert "precedents" not in call
    first.approve(call["call_id"], approved=False, note="no mass mail without comms")
    kept = [e for e in first.history() if e.kind == "precedent"]
    assert {(e.payload["domain"], e.payload["label"]) for e in kept} == {
        ("triage", "trivial"), ("screening", "deny")}
    first.close()

    second = Session.create(TOPIC, PEOPLE, human="queue", max_turns=6, speakers_per_round=3)
    run_session(second.run_id, model=_model(), rounds=2)
    tri = _triaged(second)
    cited = next(e for e in kept if e.payload["domain"] == "triage")
    # settled by the person's precedent, citing it, and not put to the person again
    assert (tri["basis"], tri["label"], tri["source"]) == ("precedent", "trivial", "precedent")
    assert tri["precedent"] == f"{first.run_id}#{cited.seq}"
    assert f"precedent:{first.run_id}#{cited.seq}" in tri["signals"]
    assert second.questions()[tri["qid"]].status != "escalated"
    # the same call waits for approval again (a precedent never lowers a verdict), and the
    # person is shown their refusal
    call = next(r for r in second.pending_approvals() if r["tool"] == "send_email")
    refusal = next(e for e in kept if e.payload["domain"] == "screening")
    assert any(p.startswith(f"precedent {first.run_id}#{refusal.seq} (deny")
               and "no mass mail without comms" in p for p in call["precedents"])
    second.close()


def test_screening_shows_precedents_but_they_never_lower_a_verdict(home: Path) -> None:
    s = Session.create(TOPIC, PEOPLE, human="queue")
    book = PrecedentBook(s.kb)
    book.add(s.run_id, "screening", 'bash {"command": "rm -rf /srv/exports"}', "allow",
             note="fine, scratch", source="approval")
    v = Screener(precedents=book.lookup("screening")).screen_plan(
        {"steps": [{"tool": "bash", "args": {"command": "rm -rf /srv/exports"}}]},
        {"environment": "production"})
    assert v.verdict == "deny" and v.basis == "recognised"
    assert v.precedents and v.precedents[0].label == "allow"
    assert v.precedents[0].similarity > 0.9
    # a trivial precedent settles only an unsure question; a sure one keeps the rules' label
    book.add(s.run_id, "triage", "Should we wire $2M to the new vendor today?", "trivial")
    t = QuestionTriager(precedents=book.lookup("triage")).triage(
        "Should we wire $2M to the new vendor today?")
    assert (t.label, t.basis) == ("consequential", "recognised")
    s.close()


def test_relabel_from_the_cli_and_bad_input(home: Path) -> None:
    import subprocess
    import sys

    s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=6, speakers_per_round=3)
    run_session(s.run_id, model=_model(), rounds=1)
    qid = _triaged(s)["qid"]
    s.close()
    r = subprocess.run([sys.executable, "-m", "mapek.cli", "relabel", s.run_id, qid, "--note",
                        "the team keeps its own minutes"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"{qid}: the peers could have settled it" in r.stdout
    r = subprocess.run([sys.executable, "-m", "mapek.cli", "relabel", s.run_id, "q999"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "no question 'q999'" in r.stderr
    assert "Traceback" not in r.stderr
    with Session.attach(s.run_id) as again:
        kept = [e.payload for e in again.history() if e.kind == "precedent"]
        relabelled = [e for e in again.history() if e.kind == "question.relabelled"]
    assert len(relabelled) == 1 and relabelled[0].actor == "human"
    assert kept == [{"domain": "triage", "text": UNSURE_Q, "label": "trivial",
                     "note": "the team keeps its own minutes", "source": "question.relabelled",
                     "source_seq": relabelled[0].seq}]


def test_the_cli_consults_precedents(home: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    s = Session.create(TOPIC, PEOPLE, human="queue")
    book = PrecedentBook(s.kb)
    refusal = book.add(s.run_id, "screening", 'bash {"command": "rm -rf /srv/exports"}', "deny",
                       note="exports feed the auditors", source="approval")
    settled = book.add(s.run_id, "triage", UNSURE_Q, "trivial", source="question.relabelled")
    s.close()
    r = subprocess.run([sys.executable, "-m", "mapek.cli", "screen", "--precedents",
                        "rm -rf /srv/exports"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 3, r.stderr  # still needs approval: a precedent decides nothing
    assert f"precedent {s.run_id}#{refusal.seq} (deny" in r.stdout
    assert "exports feed the auditors" in r.stdout
    qs = tmp_path / "q.jsonl"
    qs.write_text(json.dumps({"id": "q1", "text": UNSURE_Q}) + "\n")
    r = subprocess.run([sys.executable, "-m", "mapek.cli", "triage", "--jsonl", str(qs),
                        "--precedents"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout)
    assert (row["label"], row["basis"]) == ("trivial", "precedent")
    assert row["precedent"] == f"{s.run_id}#{settled.seq}"
