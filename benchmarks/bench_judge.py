"""The blind batches with the rules alone and with a judge stand-in, through the real judge path.

For every blind batch of plans (screening) and questions (triage), four figures: recall,
false-positive rate, confidently-wrong rate and uncertain rate, first with the rules alone (an
unsure verdict is held for a person) and then with :class:`mapek.safety.judge.ModelJudge`
asking an OpenAI-compatible server over HTTP (litellm, ``response_format``, schema validation,
the confidence threshold), where the server is ``mapek.testing.openai_server``, **a scripted
stand-in and not a model**:

- ``sampled``: the stand-in's default reply, a valid instance of the judge's schema drawn at
  random (seeded by the prompt): a judge that knows nothing, answering with random confidence;
- ``cautious``: a script that always answers "hold it back" (``needs_approval`` /
  ``consequential``) with confidence 0.9.

So these figures measure the plumbing (which verdicts reach the judge, what its answer may
change, what the confidence threshold keeps held), not judgement: what a real model does is
measured by ``mapek screen|triage --jsonl FILE --judge MODEL --labels`` on the user's data.

``python benchmarks/bench_judge.py [--write]`` (``--write`` regenerates the ``judge`` blocks of
RESULTS.screening.md and RESULTS.triage.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mapek.llm import Gateway, ModelSpec  # noqa: E402
from mapek.loop.triage import QuestionTriager, model_judge  # noqa: E402
from mapek.safety.evaluate import LabelledScore, Scored, score  # noqa: E402
from mapek.safety.judge import ModelJudge  # noqa: E402
from mapek.safety.screening import Screener  # noqa: E402
from mapek.testing.openai_server import OpenAIStandIn  # noqa: E402

DATA = REPO / "tests" / "data"
SCREENING = [
    ("post-freeze batch 3 (blind when first scored; rules widened since)",
     "screening_postfreeze3.jsonl"),
    ("post-freeze batch 4 (blind baseline 2026-12-03; development data since)",
     "screening_blind4.jsonl"),
    ("blind batch 5 (blind when first scored; development data since the fail-closed work)",
     "screening_blind5.jsonl"),
    ("blind batch 6 (blind when first scored; development data since the second round)",
     "screening_blind6.jsonl"),
    ("blind batch 7 (blind when first scored; development data since the 2026-12-04 round)",
     "screening_blind7.jsonl"),
    ("blind batch 8 (blind when first scored; development data since round 2 of 2026-12-04)",
     "screening_blind8.jsonl"),
    ("blind batch 9 (blind when first scored; development data since round 3 of 2026-12-04)",
     "screening_blind9.jsonl"),
    ("blind batch 10 (blind when first scored; development data since round 4 of 2026-12-04)",
     "screening_blind10.jsonl"),
    ("blind batch 11 (written 2026-12-04 late evening; scored before and after round 4)",
     "screening_blind11.jsonl"),
    ("blind batch 12 (blind when first scored, at e490c1f; development data since round 5)",
     "screening_blind12.jsonl"),
    ("blind batch 13 (written 2026-12-05; scored before and after round 5)",
     "screening_blind13.jsonl"),
]
TRIAGE = [
    ("blind batch 2 (blind baseline 2026-12-03; development data since)",
     "triage_blind2.jsonl"),
    ("blind batch 3 (blind when first scored; development data since)", "triage_blind3.jsonl"),
    ("blind batch 4 (blind when first scored; development data since the 2026-12-04 round)",
     "triage_blind4.jsonl"),
    ("blind batch 5 (blind when first scored; development data since the fifth round)",
     "triage_blind5.jsonl"),
    ("blind batch 6 (written 2026-12-04 evening; scored once before and after the fifth round)",
     "triage_blind6.jsonl"),
]


def load(name: str) -> list[dict[str, Any]]:
    path = DATA / name
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _cautious(body: dict[str, Any]) -> str:
    text = "\n".join(str(m.get("content")) for m in body.get("messages", []))
    if "QUESTION:" in text:
        return json.dumps({"label": "consequential", "reason": "authority", "confidence": 0.9,
                           "rationale": "scripted: always the person's"})
    return json.dumps({"verdict": "needs_approval", "confidence": 0.9,
                       "rationale": "scripted: always held back"})


def screen(recs: list[dict[str, Any]], judge: ModelJudge | None) -> LabelledScore:
    s = Screener(judge=judge)
    rows = []
    for r in recs:
        v = s.screen_plan(r["plan"], r.get("context")) if "plan" in r else \
            s.screen_text(r["text"], r.get("context"))
        rows.append(Scored(positive=r["label"] == "destructive", flagged=v.verdict != "allow",
                           uncertain=v.uncertain, basis=v.basis))
    return score(rows)


def triage(recs: list[dict[str, Any]], judge: ModelJudge | None) -> LabelledScore:
    t = QuestionTriager(judge=model_judge(judge) if judge is not None else None)
    rows = []
    for r in recs:
        v = t.triage(r["text"], topic=r.get("discussion_topic"), asked_by=r.get("asked_by"),
                     context=r.get("context"), answered_texts=r.get("answered_texts", []))
        rows.append(Scored(positive=r["label"] == "consequential",
                           flagged=v.label == "consequential", uncertain=v.basis == "held",
                           basis=v.basis))
    return score(rows)


def _row(name: str, how: str, s: LabelledScore, calls: int | None) -> str:
    def f(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    agree = "n/a" if s.judge_agreement is None else f"{s.judge_agreement:.2f} ({s.judged})"
    return (f"| {name} | {how} | {s.n} | {f(s.recall)} | {f(s.fp_rate)} | "
            f"{s.confidently_wrong_rate:.1%} | {s.positives_confidently_missed_rate:.1%} | "
            f"{s.uncertain_rate:.1%} | {agree} | {'-' if calls is None else calls} |")


def block(kind: str, sets: list[tuple[str, str]],
          run: Callable[[list[dict[str, Any]], ModelJudge | None], LabelledScore],
          server: OpenAIStandIn) -> str:
    missed = "destructive allowed, sure" if kind == "screening" else \
        "consequential to peers, sure"
    lines = ["<!-- judge:start -->", "## Rules alone and with the judge stand-in", "",
             "Generated by `benchmarks/bench_judge.py`. **The stand-in is a scripted HTTP "
             "server, not a model**: `sampled` answers a random valid instance of the judge's "
             "schema, `cautious` always holds back at confidence 0.9. Their rows measure the "
             "plumbing (what reaches the judge, what its answer may change, what the 0.7 "
             "confidence threshold keeps held), not judgement.", "",
             f"| batch | judge | n | recall | FP rate | confidently wrong | {missed} | "
             "uncertain (held) | judge agrees (decided) | judge calls |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    spec = ModelSpec("openai/stand-in", api_base=server.url)
    for name, file in sets:
        recs = load(file)
        if not recs:
            continue
        lines.append(_row(name, "rules alone (unsure: held)", run(recs, None), None))
        for how, responder in (("stand-in: sampled", None), ("stand-in: cautious", _cautious)):
            server.reset()
            server.responder = responder
            judge = ModelJudge(Gateway(spec, max_retries=0, repair_attempts=1))
            lines.append(_row(name, how, run(recs, judge), judge.stats.calls))
    lines.append("<!-- judge:end -->")
    return "\n".join(lines)


def write(path: Path, text: str) -> None:
    old = path.read_text(encoding="utf-8")
    if "<!-- judge:start -->" in old:
        head, rest = old.split("<!-- judge:start -->", 1)
        new = head + text + rest.split("<!-- judge:end -->", 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "stand-in")
    with OpenAIStandIn() as server:
        sb = block("screening", SCREENING, screen, server)
        tb = block("triage", TRIAGE, triage, server)
    print(sb, tb, sep="\n\n")
    if args.write:
        write(REPO / "benchmarks" / "RESULTS.screening.md", sb)
        write(REPO / "benchmarks" / "RESULTS.triage.md", tb)


if __name__ == "__main__":
    main()
