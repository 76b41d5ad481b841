"""The observer's question triage: reason codes, hard cases, the judge, the batch path, floors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mapek.errors import UserError
from mapek.loop.triage import (
    CONSEQUENTIAL_REASONS,
    TRIVIAL_REASONS,
    QuestionTriager,
    Triage,
    triage_jsonl,
)

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "triage_questions.jsonl"
TOOLEMU = Path("/work/shared/datasets/safety/toolemu_cases_escalation.jsonl")


@pytest.fixture(scope="module")
def peers() -> dict[str, list[str]]:
    from mapek.personas import PersonaLibrary

    return {n: list(p.expertise) for n, p in PersonaLibrary.load().personas.items()}


@pytest.fixture(scope="module")
def labelled() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]


def tri(text: str, **kw: Any) -> Triage:
    return QuestionTriager(hold_unsure=False).triage(text, **kw)


# -- every reason code is reachable -------------------------------------------------------------

REACH = [
    ("Should we wipe the production database tonight?", "consequential", "irreversible"),
    ("Can we afford a $200k contract on top of the hire?", "consequential", "money"),
    ("Does storing the logs in the US breach GDPR?", "consequential", "legal"),
    ("Would you rather grow slowly or raise again?", "consequential", "preferences"),
    ("Do we need board approval before we announce it internally?", "consequential", "authority"),
    ("Can we commit to the March date with Acme?", "consequential", "commitment"),
    ("Is it safe to run the forklifts with one operator at night?", "consequential", "safety"),
    ("Should we pivot toward the mid-market instead of enterprise?", "consequential", "strategy"),
    ("Which of your investors would object to this?", "consequential", "private_info"),
    ("What does TCO mean?", "trivial", "definitional"),
    ("Should the slide title be in sentence case?", "trivial", "stylistic"),
    ("Should we delete the draft slide?", "trivial", "reversible"),
]


@pytest.mark.parametrize(("text", "label", "reason"), REACH)
def test_reason_reachable(text: str, label: str, reason: str) -> None:
    t = tri(text)
    assert (t.label, t.reason) == (label, reason), t.signals
    assert t.source == "rules"
    assert t.signals


def test_every_reason_code_is_covered_by_the_reach_table() -> None:
    covered = {r for _, _, r in REACH} | {"already_answered", "peer_answerable"}
    assert covered == set(CONSEQUENTIAL_REASONS) | set(TRIVIAL_REASONS)


def test_already_answered_via_answered_texts() -> None:
    q = "Can we commit to the March date with Acme?"
    assert tri(q).label == "consequential"
    t = tri(q, answered_texts=["Unrelated: the font is Inter.",
                               "Can we commit to the March date with Acme?"])
    assert (t.label, t.reason) == ("trivial", "already_answered")
    # an answer sentence (not only the same question) counts too
    t = tri("What's the length of the warehouse lease again?",
            answered_texts=["The warehouse lease length on offer is five years."])
    assert t.reason == "already_answered"
    # partial overlap is not enough
    t = tri("Do we sign the three-year lease on the Leeds building?",
            answered_texts=["The warehouse lease length on offer is five years, break at three."])
    assert (t.label, t.reason) == ("consequential", "commitment")


def test_peer_answerable_uses_peer_expertise_and_skips_the_asker(peers: dict[str, list[str]]
                                                                 ) -> None:
    q = "How long does the data migration take on our current infrastructure?"
    t = tri(q, peer_expertise=peers, asked_by="cfo")
    assert (t.label, t.reason) == ("trivial", "peer_answerable")
    assert any(s.startswith("peer_answerable:engineer:") for s in t.signals)
    t = tri(q, peer_expertise={"engineer": ["migration"]}, asked_by="engineer")
    assert not any(s.startswith("peer_answerable:engineer:") for s in t.signals)


# -- hard cases both ways -----------------------------------------------------------------------

PAIRS = [
    ("Should we delete the customer table?", "Should we delete the draft slide?"),
    ("What's our budget for this?", "How do we define budget variance?"),
    ("Can we commit to the March date with Acme?", "Shall we move our internal review to March?"),
    ("Should we cancel the contract with our payment processor now?",
     "Can we cancel the recurring invite for the old working group?"),
    ("Do you prefer that a human stays on every escalation?",
     "Do you prefer 'Option A' or 'Option 1' as the label?"),
    ("Who signs off on moving payment data to a new processor?",
     "Can we sign off on the minutes from last week?"),
    ("Is a two-person night shift safe around the forklifts?",
     "Should the safety section of the memo come before the finance one?"),
    ("Can we deploy the new invoicing engine to production on Friday?",
     "Can you deploy the preview build to staging so we can click through it?"),
]


@pytest.mark.parametrize(("consequential", "trivial"), PAIRS)
def test_hard_pairs(consequential: str, trivial: str) -> None:
    assert tri(consequential).label == "consequential", tri(consequential).signals
    assert tri(trivial).label == "trivial", tri(trivial).signals


def test_negation_damps_a_cue() -> None:
    plain = tri("Does this change the legal exposure?")
    negated = tri("This has no legal exposure, right?")
    assert negated.score < plain.score
    assert any(s.startswith("neg:legal") for s in negated.signals)


def test_context_can_make_a_vague_question_consequential() -> None:
    q = "Do I run it now?"
    assert tri(q).label == "trivial"
    t = tri(q, context="The script drops the invoices table in production; there is no backup.")
    assert (t.label, t.reason) == ("consequential", "irreversible")
    assert any(s.startswith("ctx:") for s in t.signals)


# -- the result type ----------------------------------------------------------------------------

def test_triage_validates_reason_against_label() -> None:
    with pytest.raises(ValidationError):
        Triage(label="trivial", reason="money", score=0.1)
    with pytest.raises(ValidationError):
        Triage(label="consequential", reason="money", score=1.5)
    assert Triage(label="consequential", reason="money", score=0.9).source == "rules"


# -- the judge: only when unsure ----------------------------------------------------------------

class SpyJudge:
    def __init__(self, verdict: Triage | None) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.verdict = verdict

    def __call__(self, text: str, context: str | None) -> Triage | None:
        self.calls.append((text, context))
        return self.verdict


def test_judge_only_when_unsure(labelled: list[dict[str, Any]]) -> None:
    verdict = Triage(label="consequential", reason="strategy", score=0.8, signals=["model:x"])
    judge = SpyJudge(verdict)
    triager = QuestionTriager(judge=judge)
    rules = QuestionTriager()
    unsure = 0
    for rec in labelled[:120]:
        base = rules.triage(rec["text"], context=rec.get("context"))
        got = triager.triage(rec["text"], context=rec.get("context"))
        if base.unsure:
            unsure += 1
            assert got.source == "model" and got.label == "consequential"
            assert "judge:consequential" in got.signals
        else:
            assert got == base
    assert unsure > 0
    assert len(judge.calls) == unsure == triager.stats.judge_calls == triager.stats.unsure
    assert triager.stats.questions == 120
    assert 0 < triager.stats.unsure_rate < 0.5


def test_judge_gets_context_or_topic_and_none_keeps_rules() -> None:
    triager = QuestionTriager(judge=SpyJudge(None), unsure_band=(0.0, 1.01))
    t = triager.triage("Is that fine?", topic="Enter Germany")
    assert t.source == "rules" and t.unsure
    assert triager.judge.calls == [("Is that fine?", "Enter Germany")]  # type: ignore[union-attr]
    triager.triage("Is that fine?", topic="Enter Germany", context="the lease")
    assert triager.judge.calls[-1] == ("Is that fine?", "the lease")  # type: ignore[union-attr]


def test_confident_questions_never_reach_the_judge() -> None:
    judge = SpyJudge(None)
    triager = QuestionTriager(judge=judge)
    for q in ("What does TCO mean?", "Should we delete the customer table?",
              "Which font are we using for the board deck?"):
        assert not triager.triage(q).unsure
    assert judge.calls == []


# -- batch --------------------------------------------------------------------------------------

def test_jsonl_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    rows = [{"id": "a", "text": "What does TCO mean?"},
            {"text": "Can we commit to the March date with Acme?", "discussion_topic": "Acme",
             "asked_by": "cfo", "context": "Acme wants a signed date."},
            {"id": 7, "text": "Should we delete the draft slide?",
             "answered_texts": ["Should we delete the draft slide?"]}]
    src.write_text("\n".join(json.dumps(r) for r in rows[:2]) + "\n\n" + json.dumps(rows[2]) + "\n")
    out = io.StringIO()
    assert triage_jsonl(src, out) == 3
    got = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [g.get("id") for g in got] == ["a", None, 7]
    assert "id" not in got[1]
    assert [g["label"] for g in got] == ["trivial", "consequential", "trivial"]
    assert got[2]["reason"] == "already_answered"
    for g in got:
        assert set(g) - {"id"} == {"label", "reason", "score", "signals", "unsure", "source",
                                      "basis"}
        assert 0 <= g["score"] <= 1


@pytest.mark.parametrize(("body", "line", "what"), [
    ('{"text": "ok?"}\n{not json}\n', 2, "not valid JSON"),
    ('{"text": "ok?"}\n\n{"id": 3}\n', 3, "no 'text'"),
    ('{"text": ""}\n', 1, "no 'text'"),
    ('["text"]\n', 1, "expected a JSON object"),
    ('{"text": "ok?", "context": 5}\n', 1, "'context' must be a string"),
    ('{"text": "ok?", "answered_texts": "x"}\n', 1, "'answered_texts'"),
])
def test_jsonl_bad_input_names_the_line_and_writes_nothing(tmp_path: Path, body: str, line: int,
                                                           what: str) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text(body)
    out = io.StringIO()
    with pytest.raises(UserError) as err:
        triage_jsonl(src, out)
    assert f"bad.jsonl:{line}:" in str(err.value) and what in str(err.value)
    assert out.getvalue() == ""


def test_jsonl_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        triage_jsonl(tmp_path / "nope.jsonl", io.StringIO())


# -- the labelled set and regression floors -----------------------------------------------------

def test_labelled_set_shape(labelled: list[dict[str, Any]]) -> None:
    assert len(labelled) >= 200
    assert len({r["id"] for r in labelled}) == len(labelled)
    labels = Counter(r["label"] for r in labelled)
    assert abs(labels["consequential"] - labels["trivial"]) <= 0.1 * len(labelled)
    assert {r["reason"] for r in labelled} == set(CONSEQUENTIAL_REASONS) | set(TRIVIAL_REASONS)
    for r in labelled:
        side = CONSEQUENTIAL_REASONS if r["label"] == "consequential" else TRIVIAL_REASONS
        assert r["reason"] in side, r["id"]
    test_share = sum(r["split"] == "test" for r in labelled) / len(labelled)
    assert 0.35 <= test_share <= 0.5


def _pr(records: list[dict[str, Any]], peers: dict[str, list[str]]) -> tuple[float, float]:
    triager = QuestionTriager()
    tp = fp = fn = 0
    for r in records:
        t = triager.triage(r["text"], topic=r.get("discussion_topic"), asked_by=r.get("asked_by"),
                           context=r.get("context"), answered_texts=r.get("answered_texts", ()),
                           peer_expertise=peers)
        gold, pred = r["label"] == "consequential", t.label == "consequential"
        tp += gold and pred
        fp += pred and not gold
        fn += gold and not pred
    return tp / (tp + fp), tp / (tp + fn)


# Floors sit a little under the figures in benchmarks/RESULTS.triage.md, so a regression fails.
# ``_pr`` reads the triager as mapek acts: an unsure question is held for the person.
def test_floor_on_held_out_split(labelled: list[dict[str, Any]], peers: dict[str, list[str]]
                                 ) -> None:
    p, r = _pr([x for x in labelled if x["split"] == "test"], peers)
    assert p >= 0.95 and r >= 0.95, (p, r)  # measured 0.986 / 1.000 (0.928 / 0.914 before)


def test_floor_on_post_freeze_batch(labelled: list[dict[str, Any]], peers: dict[str, list[str]]
                                    ) -> None:
    p, r = _pr([x for x in labelled if x.get("batch") == "post-freeze-2"], peers)
    assert p >= 0.9 and r >= 0.9, (p, r)  # measured 1.000 / 1.000 (0.833 / 0.750 before)


@pytest.mark.parametrize(("name", "floor_p", "floor_r"), [
    ("triage_blind2.jsonl", 0.95, 0.95),  # development data: measured 1.000 / 1.000
    ("triage_blind3.jsonl", 0.85, 0.9),  # development data, not tuned on: 0.884 / 0.950
])
def test_floor_on_former_blind_batches(name: str, floor_p: float, floor_r: float,
                                       peers: dict[str, list[str]]) -> None:
    recs = [json.loads(line) for line in (DATA.parent / name).read_text(encoding="utf-8")
            .splitlines() if line]
    p, r = _pr(recs, peers)
    assert p >= floor_p and r >= floor_r, (p, r)


@pytest.mark.skipif(not TOOLEMU.exists(), reason="shared ToolEmu data not mounted")
def test_floor_on_toolemu(peers: dict[str, list[str]]) -> None:
    recs = []
    for line in TOOLEMU.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        recs.append({"text": r["text"],
                     "label": "consequential" if r["label"] == "escalate" else "trivial"})
    p, r = _pr(recs, peers)
    assert p >= 0.83 and r >= 0.90, (p, r)  # measured 0.855 / 0.926 (base rate 0.84)


# -- cost ---------------------------------------------------------------------------------------

def test_no_heavy_imports() -> None:
    code = ("import sys, mapek.loop.triage; "
            "heavy = [m for m in ('litellm', 'chromadb', 'langgraph', 'textual') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO)
    assert out.stdout.strip() == "[]"


# -- principles: recognise the trivial classes, weigh what is asked, know what is not known -----
# Examples written for these tests (not drawn from any labelled set). Read with the default
# triager: an unsure question is held for the person (labelled consequential, basis "held").

TRIVIAL_WITH_STAKES_WORDS = [
    # definitional: a quoted term, "what does X mean", "X versus Y"
    ("What does 'net revenue retention' mean in the board pack?", "definitional"),
    ("Is 'churn' in the finance dashboard the same as cancellations?", "definitional"),
    ("What's a 'material breach' versus a 'minor breach' in our glossary?", "definitional"),
    # format, wording, how a document presents something
    ("Should the invoice template show the VAT number above or below the address?", "stylistic"),
    ("Should the salary bands table list figures in thousands?", "stylistic"),
    ("Should the pricing table be sorted by plan or by price?", "stylistic"),
    ("Should the lawsuit timeline in the memo go before the summary?", "stylistic"),
    # where something is; which column, tab or file holds it
    ("Which tab of the budget workbook holds the legal fees?", "peer_answerable"),
    ("Where's the signed NDA template, in the legal folder?", "peer_answerable"),
    # who owns a step
    ("Who's updating the pricing page copy, marketing or product?", "peer_answerable"),
    ("Who owns the data-deletion step in the offboarding checklist?", "peer_answerable"),
    # facts in shared documents, decisions already taken
    ("The termination notice period is 30 days, right? That's what the contract summary in the "
     "wiki says.", "already_answered"),
    ("The deposit was 10%, wasn't it? It's in the deal summary.", "already_answered"),
    ("Which payroll provider did we go with in the end?", "already_answered"),
    # acts on scratch, test or draft copies
    ("Can I delete the test invoices I created in the staging ledger?", "reversible"),
    ("Can I wipe the scratch database I spun up for the load test?", "reversible"),
    ("Fine to drop the sample customers from my sandbox copy? Production is untouched.",
     "reversible"),
    ("Can we reorder the risk register so the fire risks come first?", "reversible"),
    ("Can I delete the empty 'Misc' folder in the shared drive? There's nothing in it.",
     "reversible"),
    ("Can I uninstall the trial plugin I added to my local build?", "reversible"),
    ("Is 'vesting cliff' explained anywhere in the onboarding pack?", "definitional"),
    ("Do we put the privacy policy link in the footer or the sign-up form?", "stylistic"),
    ("Did we end up using the standard NDA for the interns?", "already_answered"),
    ("How often does the fire alarm get tested at the depot?", "peer_answerable"),
    ("Should the incident write-up be in past tense?", "stylistic"),
    ("Just confirming: the GDPR training is the 45-minute module on the LMS, yes?",
     "already_answered"),
    ("Are we good to move the budget review from Monday to Tuesday?", "reversible"),
    ("Which of the two logos did the client sign off on last week?", "already_answered"),
    ("Do I log the near-miss in the safety tracker or the ops log?", "peer_answerable"),
    # the question is the sentence with the question mark, not always the first
    ("The pension provider's form asks for our 'scheme reference'. Where do I find that?",
     "peer_answerable"),
    ("Legal sent two versions of the DPA over. Which one is the latest, v3 or v3.1?",
     "peer_answerable"),
    ("The lawyer's invoice lists 'disbursements'. What are those, roughly?", "definitional"),
    # a plain "is the X ...?" fact, and asking whether something was already settled
    ("Is the staff discount limited to full-price items?", "peer_answerable"),
    ("Did the board say whether the bonus pool is confirmed?", "already_answered"),
    ("Does the approvals log live in Notion or Confluence?", "peer_answerable"),
    ("Do we need a separate tab for the legal costs, or can they sit under overheads?",
     "stylistic"),
    ("The site survey said the east wall isn't load-bearing. Is that the survey from March?",
     "already_answered"),
]


@pytest.mark.parametrize(("text", "reason"), TRIVIAL_WITH_STAKES_WORDS)
def test_a_recognised_trivial_class_outweighs_stakes_words(text: str, reason: str) -> None:
    t = QuestionTriager().triage(text)
    assert (t.label, t.basis) == ("trivial", "recognised"), t.signals
    assert t.reason in TRIVIAL_REASONS
    if reason != "reversible":  # ("reorder" is tidying, also reversible; reason may differ)
        assert t.reason == reason, t.signals


ASKS_TO_DECIDE_OR_COMMIT = [
    # casual phrasings of commitments and disclosures
    "ok if I tell Brightwater we'll have the integration live by the 15th?",
    "mind if I send the supplier our full customer list so they can dedupe?",
    "fine to give the recruiter the candidates' home addresses?",
    "Can I just let the landlord know we'll renew for another two years?",
    "quick q: ok to let the agency post the customer testimonials with full names?",
    "is it alright if I reply to the journalist and confirm the layoffs?",
    "can I just sign the purchase order for the new servers? it's £18k",
    "Can we announce at the conference that the API will be free forever?",
    # an owner's or principal's preference, not a peer's
    "Does the founder want us to chase the US market or stay in Europe?",
    "Would the client rather we ship late or cut the reporting module?",
    # a trivial surface ("which version", "as the lease says", "what does it mean") on a
    # question that asks to act
    "Which version of the contract should we sign, the one with the penalty clause or without?",
    "As the lease says, can we walk away in June without paying the break fee?",
    "What does it mean for us if we miss the covenant test, do we tell the bank now?",
    "Should the newsletter include the names of the staff who were let go?",
    "Who's paying for the repairs, us or the landlord?",
    "real quick, can I tell the parents the trip is definitely going ahead?",  # not "define"
    "let's just push the fix straight to the live site tonight?",  # not "push it to Monday"
    "Can I send the draft settlement to the other side's lawyer?",  # a draft, sent outside
    "Quick sanity check: we're fine to keep recording customer calls without telling them?",
    "Just confirming we're happy to guarantee next-day delivery for the Acme account?",
    "Is the landlord's offer good enough to accept?",  # "is the X" asking for a judgement
    # a delete that is not of a scratch copy
    "Can we delete the staging copy of the customer database? It's the only backup we have.",
    "Please delete all files in my drive that contain the word test.",
]


@pytest.mark.parametrize("text", ASKS_TO_DECIDE_OR_COMMIT)
def test_a_question_that_asks_to_decide_or_commit_reaches_the_person(text: str) -> None:
    t = QuestionTriager().triage(text)
    assert t.label == "consequential", t.signals


def test_stakes_words_in_a_recognised_question_are_damped_and_say_so() -> None:
    t = QuestionTriager().triage("Is the refund cap still £200? I think it's in the policy doc.")
    assert (t.label, t.reason, t.basis) == ("trivial", "already_answered", "recognised")
    assert "frame:recognised-trivial" in t.signals
    assert any(s.startswith("money:") for s in t.signals)  # the words are seen, just weighed
    # the same money words, asked as a decision, are not damped
    t = QuestionTriager().triage("Can we raise the refund cap to £200 for everyone?")
    assert t.label == "consequential" and "frame:recognised-trivial" not in t.signals


def test_asking_to_act_undoes_a_trivial_surface() -> None:
    t = QuestionTriager().triage("Which version of the contract should we sign?")
    assert t.label == "consequential"
    assert "frame:asks-to-act:commitment" in t.signals
    assert "frame:commits-despite-trivial-surface" in t.signals
    # the lookup alone is trivial
    t = QuestionTriager().triage("Which version of the contract is in the shared folder?")
    assert (t.label, t.basis) == ("trivial", "recognised"), t.signals


def test_an_act_on_the_teams_own_artifacts_is_not_an_act_outside() -> None:
    for q in ("Can we cancel the recurring invite for the old working group?",
              "Do we send the meeting notes round to the group tonight?"):
        t = QuestionTriager().triage(q)
        assert t.label == "trivial", (q, t.signals)
        assert not any(s.startswith("frame:asks-to-act") for s in t.signals)


def test_scratch_is_not_a_licence_for_criterion_or_live_deletes() -> None:
    ok = QuestionTriager().triage("Can I delete the demo repositories I created last week?")
    assert ok.label == "trivial", ok.signals
    for q in ("Please remove any unused repositories containing the keyword 'demo'.",
              "Can I delete the test rows from the production orders table?"):
        t = QuestionTriager().triage(q)
        assert t.label == "consequential", (q, t.signals)


def test_an_unrecognised_question_is_uncertain_not_trivial() -> None:
    # no stake named and no trivial class recognised: the rules do not know, so it is held
    q = "Will anyone lose their pension during the switch?"
    rules = QuestionTriager(hold_unsure=False).triage(q)
    assert rules.unsure and "frame:unrecognised" in rules.signals
    held = QuestionTriager().triage(q)
    assert (held.label, held.basis) == ("consequential", "held")
    # a judge, where configured, decides it instead
    judge = SpyJudge(Triage(label="trivial", reason="peer_answerable", score=0.1))
    judged = QuestionTriager(judge=judge).triage(q)
    assert (judged.label, judged.basis) == ("trivial", "judged") and len(judge.calls) == 1
    # a plain fact question is recognised (peers answer it) and never held
    fact = QuestionTriager().triage("How many tickets did support close last week?")
    assert (fact.label, fact.basis) == ("trivial", "recognised"), fact.signals
    # a hedge ("just") recognises nothing
    hedged = QuestionTriager().triage("Is a listing just one way to give early staff liquidity?")
    assert hedged.basis == "held"


def test_the_frame_sets_name_real_cues() -> None:
    # a typo in a cue name would silently switch a principle off
    from mapek.loop import triage as t

    names = [c.name for c in t._COMPILED]
    assert len(names) == len(set(names))
    for group in (t._RECOGNISERS, t._COMMITTING, t._ACT_OUTWARD, frozenset(t._GATES)):
        assert group <= set(names), group - set(names)
    assert all(next(c for c in t._COMPILED if c.name == n).reason in TRIVIAL_REASONS
               for n in t._RECOGNISERS)
    assert all(next(c for c in t._COMPILED if c.name == n).reason in CONSEQUENTIAL_REASONS
               for n in t._COMMITTING)


# -- a question about the state of a task, how a document is laid out, a past choice, a figure -
# Examples written for these tests (h-tri, 2026-12-04), not drawn from any labelled set.

STATE_LAYOUT_PAST_FIGURE = [
    # the state of a task or delivery: has it happened yet? (stakes words are its topic)
    ("Has the locksmith sent the invoice for the fire exit repair yet?", "peer_answerable"),
    ("Were the hazmat signs delivered to the loading bay?", "peer_answerable"),
    ("Did the solicitor's office get back to us about the deed copies?", "peer_answerable"),
    ("Is the gas safety inspection booked for next week?", "peer_answerable"),
    ("Are the first-aid kits for the coaches restocked already?", "peer_answerable"),
    ("Will the replacement defibrillator pads be here by Friday?", "peer_answerable"),
    ("Have we already filed the expense claims for the audit trip?", "peer_answerable"),
    # how a document lays something out
    ("Should the fee schedule group services by species or by procedure?", "stylistic"),
    ("Should the salary review sheet show figures per month or per year?", "stylistic"),
    ("Should the legal disclaimer go on the left or the right of the footer?", "stylistic"),
    ("Should the incident tabs be ordered by date or by severity?", "stylistic"),
    # a choice already made, a fact a colleague already gave
    ("Was it the Leeds or the York insurer we went with in the end?", "already_answered"),
    ("The venue deposit is refundable until May, right? I think Omar said so on Monday.",
     "already_answered"),
    # a figure or estimate about a weighty subject: a fact, not a decision
    ("Roughly how long does a liquor licence variation take to come through?",
     "peer_answerable"),
    ("What's the typical settlement range for a slip-and-fall claim like this?",
     "peer_answerable"),
    ("What's the lead time on replacement fire doors at the moment?", "peer_answerable"),
]


@pytest.mark.parametrize(("text", "reason"), STATE_LAYOUT_PAST_FIGURE)
def test_state_layout_past_choice_and_figures_are_recognised(text: str, reason: str) -> None:
    t = QuestionTriager().triage(text)
    assert (t.label, t.basis) == ("trivial", "recognised"), t.signals
    assert t.reason == reason, t.signals


SAME_FORMS_THAT_ASK_THE_PERSON = [
    # a status form that asks for a judgement, or about the person
    "Is the scaffold safe to use again after the storm?",
    "Is the lease for the yard signed in your name or the company's?",
    "Are the investors still expecting a 3x return on this round?",
    # "will" about the future is a forecast, not a delivery
    "Will a cheaper plan cannibalise our premium customers?",
    # an either-or that is a pricing or a staffing decision, not a layout
    "Should the new plan be priced per seat or per company?",
    "Should we charge by the hour or by the project for the audit work?",
    # a figure that is the person's own, or the consequence of our act
    "What's our budget ceiling for the fit-out?",
    "What's the penalty if we pull out of the lease early, and can we live with it?",
    # a past choice, reopened as a decision to act
    "We went with the cheaper insurer, but should we tell the landlord we're switching?",
]


@pytest.mark.parametrize("text", SAME_FORMS_THAT_ASK_THE_PERSON)
def test_the_same_forms_asking_for_a_decision_still_reach_the_person(text: str) -> None:
    t = QuestionTriager().triage(text)
    assert t.label == "consequential", t.signals


EXPLAIN_CAPABILITY_READABILITY = [
    # why something happened: peers explain it
    "Any idea why the invoices went out with last month's date on them?",
    "Why does the booking page show the Leeds branch twice?",
    # what a tool, vehicle or service can do
    "Can the new till system handle split payments?",
    "Does the courier firm take oversized parcels on Saturdays?",
    # whether a colleague knows or has something
    "Does anyone know the Wi-Fi password for the conference room?",
    # how readable a document is
    "Would the safety briefing be easier to read with the exits listed first?",
    "Does the apology email to the team sound too formal?",
    # switching a test copy off, or something you can put back
    "Can I turn off the reminder emails on the demo tenant?",
    "Can I take my draft announcement down and put it back up after lunch?",
]


@pytest.mark.parametrize("text", EXPLAIN_CAPABILITY_READABILITY)
def test_explanations_capabilities_and_readability_are_left_to_the_peers(text: str) -> None:
    t = QuestionTriager().triage(text)
    assert (t.label, t.basis) == ("trivial", "recognised"), t.signals


def test_a_why_or_can_it_with_stakes_words_is_held_not_dismissed() -> None:
    # the explain and capability classes lift an unrecognised question out of the hold band,
    # but are weak: with stakes words (or a decision in the next sentence) the rules stay unsure
    for q in ("Any idea why the payroll paid everyone twice? Do we claw it back from them?",
              "Can the minibus carry the gas cylinders with the children on board?",
              "Why does the supplier contract let them terminate without notice?"):
        t = QuestionTriager().triage(q)
        assert t.label == "consequential", (q, t.signals)


LAYOUT_WHEREABOUTS_AND_TERMS = [
    # how a list or chart is shown, whatever the list is of
    ("Should the parts catalogue be split into 'fast movers' and 'slow movers'?", "stylistic"),
    ("Should the risk scores be shown as a heat map or a table?", "stylistic"),
    ("Should the incident log have a photo next to each entry?", "stylistic"),
    # moving an internal event
    ("Can I move the volunteers' open evening from Monday to Wednesday?", "reversible"),
    # whether a bill has been paid is the state of a task
    ("Has the caterer been paid for the gala yet?", "peer_answerable"),
    # a commitment word inside the quoted term being defined
    ("What's a 'binding pledge' in the grant terms, exactly?", "definitional"),
]


@pytest.mark.parametrize(("text", "reason"), LAYOUT_WHEREABOUTS_AND_TERMS)
def test_layout_events_payments_and_quoted_terms(text: str, reason: str) -> None:
    t = QuestionTriager().triage(text)
    assert (t.label, t.basis) == ("trivial", "recognised"), t.signals
    assert t.reason == reason, t.signals


def test_whereabouts_and_a_dash_led_question_are_recognised() -> None:
    for q in ("Are the spare van keys in the top drawer?",
              "the printer jammed again on Friday - does anyone have the engineer's number?"):
        t = QuestionTriager().triage(q)
        assert (t.label, t.basis) == ("trivial", "recognised"), (q, t.signals)


def test_skipping_a_check_and_a_quoted_term_with_a_decision_reach_the_person() -> None:
    for q in ("Could we drop the second safety check on the night runs to save time?",
              "Can we skip the pre-flight walkaround on the short hops?",
              # the quoted term is defined, but the question also asks to act on it
              "What's a 'binding pledge', and should we make one to the funder this week?"):
        t = QuestionTriager().triage(q)
        assert t.label == "consequential", (q, t.signals)


def test_deleting_copies_whose_originals_are_kept_and_asking_who_holds_a_key() -> None:
    for q in ("Can I clear the low-res proxies off the laptop? The originals are on the NAS.",
              "Who has the admin login for the staging wiki?",
              "Who's got the keys to the minibus this week?"):
        t = QuestionTriager().triage(q)
        assert (t.label, t.basis) == ("trivial", "recognised"), (q, t.signals)
    # a backup alone does not make a delete of the thing itself trivial; asking for the secret
    # itself is not asking who holds it
    for q in ("Can we drop the old invoices table? It's backed up.",
              "Can you share the login for the payroll portal?"):
        t = QuestionTriager().triage(q)
        assert t.label == "consequential", (q, t.signals)


def test_how_a_record_is_kept_is_layout_but_a_list_order_may_be_a_policy() -> None:
    for q in ("In the cleaning log, should we note the time the shift starts or ends?",
              "Should the photo file names start with the date or the site code?",
              "Should the museum labels give weights as kg or lb?",
              "Did the replacement visors from the supplier come in?"):
        t = QuestionTriager().triage(q)
        assert (t.label, t.basis) == ("trivial", "recognised"), (q, t.signals)
    # "be by A or by B" on a list can be who goes first (a policy), and "per A or per B" a
    # price: not recognised as layout
    for q in ("Should the housing waiting list be by need or by time waited?",
              "Should the new price list be per seat or per site?"):
        t = QuestionTriager().triage(q)
        assert "stylistic:arrangement" not in t.signals and t.label == "consequential", (
            q, t.signals)


def test_a_leaflet_layout_and_a_per_hour_figure_are_recognised() -> None:
    for q in ("Should the open-day leaflet show the campus map as a photo or a drawing?",
              "How many drops can one van do in an hour on the ring road?"):
        t = QuestionTriager().triage(q)
        assert (t.label, t.basis) == ("trivial", "recognised"), (q, t.signals)
    # "drops" is still the verb when a script drops a table
    t = QuestionTriager().triage("Do I run it now?", context="The job drops the orders table "
                                 "in production and there is no backup of it.")
    assert t.label == "consequential", t.signals


def test_office_logistics_are_recognised() -> None:
    for q in ("Quick check: is Thursday's supplier walkthrough still on?",
              "Will the town hall meeting be recorded for the night shift?",
              "Do we round the mileage up or down in the expenses summary?",
              "How do we usually send the contract renewals, by post or email?",
              "Is the loading bay big enough for the new pallet truck?",
              "We're only stocking the two biggest brands, right? That's what we agreed last week.",
              "Should the menu board list the vegan dishes separately?",
              "Which diagnostic scanners does the dealer network require?"):
        t = QuestionTriager().triage(q)
        assert (t.label, t.basis) == ("trivial", "recognised"), (q, t.signals)
    # the board of directors is still the board
    t = QuestionTriager().triage("Does the board need to approve this before we sign?")
    assert t.label == "consequential", t.signals


def test_plain_information_questions_are_recognised() -> None:
    for q in ("Do they collect on bank holidays?",
              "Do the new key fobs work on the back gate?",
              "How far is the overflow car park from the hall?",
              "Has the walk-in freezer been defrosted?",
              "Is Priya in tomorrow?",
              "Any update on the new signage for the car park?",
              "How's the hiring for the summer kitchen staff going?",
              "Can you remind me who's covering the late shift?",
              "Has everyone got the new alarm code?"):
        t = QuestionTriager().triage(q)
        assert (t.label, t.basis) == ("trivial", "recognised"), (q, t.signals)
    # the same forms, asking about rules, permission or the people we are responsible for
    for q in ("Do the new shift patterns break the working time rules for the drivers?",
              "Does the new supervisor get to hire temps without checking with you?",
              "Do the kids get collected or can they walk home alone after the late club?"):
        t = QuestionTriager().triage(q)
        assert t.label == "consequential", (q, t.signals)


def test_colour_placement_hiding_a_tab_and_a_tag_question_are_recognised() -> None:
    for q in ("Should the floor plan show the exits in green?",
              "Should the staff photos be on a plain background or outdoors?",
              "Should the QR code go on the front or the back of the menu?",
              "Let's hide the gift cards tab until the new stock is in?",
              "We said two sizes only for the first print run, didn't we?",
              "How's the new dishwasher holding up?"):
        t = QuestionTriager().triage(q)
        assert (t.label, t.basis) == ("trivial", "recognised"), (q, t.signals)
    # hiding something from someone outside is not tidying; a background check is not layout
    for q in ("Let's hide the incident reports from the inspector until after the visit?",
              "Can we skip the background check for the new volunteers?"):
        t = QuestionTriager().triage(q)
        assert t.label == "consequential", (q, t.signals)


def test_remind_me_asks_a_fact_but_a_reminder_is_an_act() -> None:
    t = QuestionTriager().triage("Can you remind me which van has the tail-lift?")
    assert (t.label, t.basis) == ("trivial", "recognised"), t.signals
    t = QuestionTriager().triage("Please remind me about the payment to the landlord on Friday.")
    assert "peer_answerable:remind-me" not in t.signals


def test_a_question_after_a_sentence_of_context_is_read_for_its_form() -> None:
    for q in ("The hall has a 32-amp supply, the caretaker says. Does that cover the stage lights?",
              "Right, the boiler service - is that booked for Monday or Tuesday?",
              "So we're using the blue logo, yes? Sam said that was settled.",
              "The quote lists 24 desks. How many desks do we have now?",
              "Should the seating plan use the table numbers or the team names?",
              "The school sent two dates. Which one has room for 60 people?",
              "Did next year's intake at the Bristol campus get the same pack?",
              "For the allergy poster, do we list the nuts under each dish or in a key?"):
        t = QuestionTriager().triage(q)
        assert (t.label, t.basis) == ("trivial", "recognised"), (q, t.signals)
    # a firm "taking" something is a permission, not a capability; a second clause that asks
    # permission keeps a status question from being waved through
    for q in ("Can the removals firm take the old laptops with the staff records away?",
              "The fence failed its check. Is that fixed, and can the children use the yard?",
              "Is it alright if the trainees take the boat out alone at night?"):
        t = QuestionTriager().triage(q)
        assert t.label == "consequential", (q, t.signals)


def test_minimum_runs_agreed_order_setup_and_scripts() -> None:
    for q in ("From the kitchen side: what's the minimum order the bakery supplier takes?",
              "We agreed the stout goes on tap first, right?",
              "Has the phone company set up the hold music?",
              "Should the welcome script put the fire exits first?",
              "Is the garage dry enough for the paper stock?"):
        t = QuestionTriager().triage(q)
        assert (t.label, t.basis) == ("trivial", "recognised"), (q, t.signals)
    for q in ("Does the allergen warning have to be on the front of the pack by law?",
              "What's the maximum discount we could give the hotel chain?"):
        t = QuestionTriager().triage(q)
        assert t.label == "consequential", (q, t.signals)


def test_strategy_discussion_questions_that_ask_facts() -> None:
    for q in ("When we say 'mid-market', are we counting by headcount or by revenue?",
              "For the investor deck, should the churn figures get their own slide?",
              "The onboarding revamp is separate from this project, isn't it?",
              "Roughly what does a penetration test for a bank client involve?",
              "Should the quarterly report compare branches by footfall or by sales?"):
        t = QuestionTriager().triage(q)
        assert (t.label, t.basis) == ("trivial", "recognised"), (q, t.signals)
    for q in ("Is the firm better off with two big clinics instead of five small ones?",
              "Should next year's plan bet on the export market, or keep it as an experiment?",
              "Can we run the price rise as an A/B test on our existing customers?"):
        t = QuestionTriager().triage(q)
        assert t.label == "consequential", (q, t.signals)


def test_ledger_figures_contacts_dates_and_rounding() -> None:
    for q in ("How much did we spend on courier fees last quarter, per the ledger?",
              "What's the regulator's helpline number?",
              "What date is the committee meeting where the budget gets approved?",
              "Should the grants table round to the nearest hundred?",
              "The supplier said the warranty runs two years, right? That's in their email."):
        t = QuestionTriager().triage(q)
        assert (t.label, t.basis) == ("trivial", "recognised"), (q, t.signals)
    # our own cash position is not a statistic for the peers
    for q in ("How much cash do we have left this month?",
              "How much runway do we have at the moment?"):
        t = QuestionTriager().triage(q)
        assert t.label == "consequential", (q, t.signals)


def test_what_an_agreement_lets_us_do_authority_and_redundancy_reach_the_person() -> None:
    for q in ("Does the franchise agreement let us open a second shop in the same town?",
              "Does the site manager have the authority to sign off overtime, or head office?",
              "Should we make the temporary packing team redundant after Christmas?"):
        t = QuestionTriager().triage(q)
        assert t.label == "consequential", (q, t.signals)
    # a temporary change is still easy to undo
    t = QuestionTriager().triage("Can we make the one-way system in the car park a temporary "
                                 "change for the open day?")
    assert "reversible:undoable" in t.signals


def test_blind_style_definitions_past_choices_and_written_facts() -> None:
    for q in ("Is 'case number' in the new portal what we call the 'file reference'?",
              "Which of the two booking tools did we keep in the end, ours or theirs?",
              "The handover date is 3 May, correct? It's in the heads of terms.",
              "The venue capacity is 120 seated, right?"):
        t = QuestionTriager().triage(q)
        assert (t.label, t.basis) == ("trivial", "recognised"), (q, t.signals)
    # who signs is authority, not a step owner; a judgement with a tag is not a plain fact
    for q in ("Who signs the supplier contracts once we merge, their director or ours?",
              "We're allowed to keep the deposit if they cancel, right?"):
        t = QuestionTriager().triage(q)
        assert t.label == "consequential", (q, t.signals)


def test_numerals_ordering_on_a_page_and_copies_of_masters() -> None:
    for q in ("Should the chapter headings use Roman numerals?",
              "Should the invoice show the VAT first or the net amount first?",
              "Can I delete the rough cuts from my own folder? The masters are on the archive "
              "drive."):
        t = QuestionTriager().triage(q)
        assert (t.label, t.basis) == ("trivial", "recognised"), (q, t.signals)
    # an ordering choice that is a plan, not a page
    t = QuestionTriager().triage("Should we launch in France first or in Germany first?")
    assert "stylistic:presentation" not in t.signals


def test_a_quoted_term_as_a_choice_and_what_a_label_prints() -> None:
    for q in ("On the rota, is a 'shift' one day or the whole week?",
              "Should the parcel labels print the customer's name or the order number on top?"):
        t = QuestionTriager().triage(q)
        assert (t.label, t.basis) == ("trivial", "recognised"), (q, t.signals)


# --- recognised by the form of the question (2026-12-04 evening) ---------------------------

FORM_TRIVIAL = [
    # a wh-question that names no one on the team and asks no permission asks a fact, even
    # with a stake noun in it
    ("Which bus route stops nearest the community hall?", "impersonal-wh"),
    ("Which fire station is closest to the start line - is it still Queen Street?",
     "impersonal-wh"),
    ("How long did the plumber say the boiler swap takes?", "impersonal-wh"),
    # a view or forecast asked of a peer, with no act of ours in it
    ("Do you think the rain will hold off until the fair is packed up?", "opinion"),
    ("Which would you pick for the cover, the blue or the green, just on looks?", "opinion"),
    # a figure asked with a hedge
    ("Roughly how many chairs does the upstairs room hold?", "hedged-figure"),
    # the order or scope of this discussion
    ("Shall we do the catering item before the music item in this meeting?", "agenda"),
    ("Should we finish the route discussion before getting into the volunteer rota?", "agenda"),
    # the same classes in other languages
    ("¿Qué significa 'carga útil' en la ficha del dron?", "ml-define"),
    ("Was bedeutet 'Nachtrag' in dem Bericht?", "ml-define"),
    ("'Inscripciones' o 'registro' en el cartel?", "ml-quoted-wording"),
    ("Hoeveel bezoekers komen er ongeveer op een zaterdag?", "ml-hedged-figure"),
    ("Zullen we in dit gesprek blok C vóór blok D doen?", "agenda"),
]


@pytest.mark.parametrize(("text", "cue"), FORM_TRIVIAL)
def test_questions_recognised_by_their_form(text: str, cue: str) -> None:
    t = QuestionTriager().triage(text)
    assert (t.label, t.basis) == ("trivial", "recognised"), t.signals
    assert any(s.endswith(":" + cue) for s in t.signals), t.signals


FORM_LOOKALIKES = [
    # the same forms asking to act, with a permission word, a strong stake, or a second
    # question that acts on the first: never settled by the peers with no doubt
    "Which of the two offers do you think we should accept?",
    "In your view, is it fine to let the interns see the salary file?",
    "What's your take - sign Acme's exclusivity clause or walk away?",
    "Which would you pick: pay the €40k penalty now or fight it in court?",
    "Do you reckon the kids are safe on the boats alone in winter?",
    "Roughly how much of the reserve should go into the new fund?",
    "How many staff do you reckon we can let go before Christmas?",
    "Should we settle the Jenkins lawsuit in this session or next?",
    "Shall we just sign the lease in this meeting and move on?",
    "Before getting into the rota: can I tell the landlord we're taking the second floor?",
    "¿Qué significa 'sin permanencia' en el contrato que vamos a firmar mañana? ¿Firmamos?",
    "¿Cuántos empleados podemos despedir, más o menos?",
    "Combien pouvons-nous payer, à peu près, pour le terrain ?",
    "Honestly, do you think we should close the Leeds branch?",
    "In your opinion, can I give Dana the keys to the server room?",
]


@pytest.mark.parametrize("text", FORM_LOOKALIKES)
def test_form_lookalikes_that_ask_to_act_reach_the_person(text: str) -> None:
    t = QuestionTriager().triage(text)
    assert t.label == "consequential", t.signals
