"""The safety commands of the ``mapek`` CLI: ``screen``, ``triage``, ``catalogue list|show``,
``sandbox run``, ``promote``, ``grant`` and ``evidence check``.

Registered on the app in :mod:`mapek.cli`. Exit codes of ``screen``: 0 allow, 3 needs approval,
4 deny (``--jsonl``: the worst verdict of the file); a plan that is not valid JSON prints one
line and exits 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mapek.bounds import MAX_COUNT, MAX_SECONDS
from mapek.cli._common import (
    EXIT_STOPPED,
    ApiBaseOpt,
    JsonFlag,
    emit_json,
    open_kb,
    settings,
)
from mapek.errors import UserError

__all__ = ["EXIT_CODES", "catalogue_app", "evidence_app", "evidence_check", "grant_command",
           "promote_command", "sandbox_app", "screen_command", "triage_command"]

EXIT_CODES = {"allow": 0, "needs_approval": 3, "deny": 4}


def _context(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    from mapek.inputs import NESTED, read_utf8

    try:
        text = read_utf8(Path(raw[1:])) if raw.startswith("@") else raw
    except ValueError as exc:
        raise UserError(f"--context {raw}: {exc}") from None
    try:
        ctx = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"--context: not valid JSON at line {exc.lineno}, column {exc.colno}: "
                        f"{exc.msg}") from None
    except RecursionError:
        raise UserError(f"--context: not valid JSON: {NESTED}") from None
    if not isinstance(ctx, dict):
        raise UserError("--context must be a JSON object")
    return ctx


JudgeOpt = Annotated[str | None, typer.Option(
    "--judge", help="A model (litellm string, e.g. openai/NAME with --api-base) that rules on "
    "what the rules are unsure of; without it those are held (fail closed).")]
LabelsFlag = Annotated[bool, typer.Option(
    "--labels", help="The records are labelled: report precision, recall, FP rate, the "
    "uncertain and confidently-wrong rates and the judge's agreement instead of verdicts.")]
PrecedentsFlag = Annotated[bool, typer.Option(
    "--precedents", help="Consult the workspace's precedents (a person's earlier approvals, "
    "refusals and answers): shown with what is held back; an unsure question may be settled "
    "by a close one, cited.")]
MinConfidenceOpt = Annotated[float, typer.Option(
    "--min-confidence", min=0.0, max=1.0,
    help="A judge's answer below this confidence decides nothing.")]


def _model_judge(judge: str, api_base: str | None, min_confidence: float) -> Any:
    from mapek.llm import Gateway, ModelSpec
    from mapek.safety.judge import ModelJudge

    s = settings()
    if api_base is not None:
        s = s.model_copy(update={"api_base": api_base})
    spec = ModelSpec.from_settings(s, judge)
    return ModelJudge(Gateway(spec, settings=s, max_retries=1), min_confidence=min_confidence)


def _report(score: Any, what: str, judge: Any, as_json: bool) -> None:
    if as_json:
        emit_json({**score.model_dump(), "judge_calls": judge.stats.calls if judge else 0,
                   "judge_failed": judge.stats.failed if judge else 0})
        return
    for line in score.lines(what):
        typer.echo(line)
    if judge is not None:
        typer.echo(f"judge calls {judge.stats.calls}: {judge.stats.answered} decided, "
                   f"{judge.stats.unsure} below the confidence threshold, "
                   f"{judge.stats.failed} failed")


def _precedent_book() -> Any:
    from mapek.knowledge.precedent import PrecedentBook

    return PrecedentBook(open_kb(create=False))


def _screen_labelled(path: Path, judge: Any, as_json: bool) -> None:
    from mapek.safety.evaluate import Scored, score, screening_label
    from mapek.safety.screening import Screener, read_plans

    jobs = read_plans(path)
    labels = [screening_label(rec, i) for i, (rec, _, _) in enumerate(jobs)]
    screener = Screener(judge=judge, min_confidence=judge.min_confidence if judge else 0.7)
    rows = []
    for positive, (_, plan, ctx) in zip(labels, jobs, strict=True):
        v = screener.screen_plan(plan, ctx)
        rows.append(Scored(positive=positive, flagged=v.verdict != "allow",
                           uncertain=v.uncertain, basis=v.basis))
    _report(score(rows), "plans", judge, as_json)


def screen_command(
    text: Annotated[str | None, typer.Argument(help="A free-text plan.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="A JSON plan: {\"steps\": [...], "
                                              "\"text\": ...} or a list of steps.")] = None,
    jsonl: Annotated[Path | None, typer.Option("--jsonl", help="Records with 'text' (or "
                                               "'plan'/'steps') and optional 'context'; one "
                                               "JSON verdict a line.")] = None,
    context: Annotated[str | None, typer.Option(
        "--context", help="Screening context as JSON (or @file): environment, created_by, "
        "resources, run_id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The whole verdict as JSON.")] = False,
    judge: JudgeOpt = None,
    api_base: ApiBaseOpt = None,
    labels: LabelsFlag = False,
    min_confidence: MinConfidenceOpt = 0.7,
    precedents: PrecedentsFlag = False,
) -> None:
    """Screen a plan for destructive intent. Exit 0 allow, 3 needs approval, 4 deny."""
    from mapek.safety.screening import Screener, parse_plan, screen_jsonl

    if sum(x is not None for x in (text, file, jsonl)) != 1:
        raise UserError("give exactly one of: PLAN TEXT, --file plan.json, --jsonl FILE")
    if labels and jsonl is None:
        raise UserError("--labels scores a labelled --jsonl FILE")
    if jsonl is not None and not jsonl.is_file():
        raise UserError(f"--jsonl {jsonl}: no such file")
    model_judge = _model_judge(judge, api_base, min_confidence) if judge else None
    book = _precedent_book() if precedents else None
    screener = Screener(judge=model_judge, min_confidence=min_confidence,
                        precedents=book.lookup("screening") if book is not None else None)
    if labels and jsonl is not None:
        _screen_labelled(jsonl, model_judge, as_json)
        return
    if jsonl is not None:
        counts = screen_jsonl(jsonl, sys.stdout, screener=screener)
        worst = "deny" if counts["deny"] else "needs_approval" if counts["needs_approval"] \
            else "allow"
        raise typer.Exit(EXIT_CODES[worst])
    if file is not None:
        try:
            raw = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserError(f"{file}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{file}: cannot read: {exc}") from None
        plan = parse_plan(raw, source=str(file))
    else:
        plan = parse_plan({"text": text})
    v = screener.screen_plan(plan, _context(context))
    if as_json:
        sys.stdout.write(json.dumps(v.model_dump(mode="json"), ensure_ascii=False) + "\n")
    else:
        typer.echo(f"{v.verdict}" + (f" (steps {', '.join(map(str, v.steps))})" if v.steps
                                     else ""))
        for r in v.reasons:
            where = "text" if r.in_text else f"steps {r.steps}"
            typer.echo(f"  {r.verdict:<14} {r.catalogue_id:<30} {where}: {r.message} "
                       f"({r.why}){'' if r.certain else ' [unsure]'}")
        if v.judge_rationale:
            typer.echo(f"  judge ({v.basis}, confidence {v.judge_confidence}): "
                       f"{v.judge_rationale}")
        for p in v.precedents:
            typer.echo(f"  {p.cite()}: {p.text[:160]}" + (f" -- {p.note}" if p.note else ""))
    raise typer.Exit(EXIT_CODES[v.verdict])


def triage_command(
    jsonl: Annotated[Path, typer.Option("--jsonl", help="Questions, one JSON object a line "
                                        "(text, discussion_topic, asked_by, context).")],
    judge: JudgeOpt = None,
    api_base: ApiBaseOpt = None,
    labels: LabelsFlag = False,
    min_confidence: MinConfidenceOpt = 0.7,
    precedents: PrecedentsFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Label questions consequential or trivial with the observer's own classifier (and a
    model judge for the unsure ones, with --judge; without it they go to the person)."""
    from mapek.errors import ConfigError
    from mapek.loop.triage import QuestionTriager, model_judge, triage_jsonl, triage_records

    if not jsonl.is_file():
        raise ConfigError(f"--jsonl {jsonl}: no such file")
    mj = _model_judge(judge, api_base, min_confidence) if judge else None
    lookup = _precedent_book().lookup("triage") if precedents else None
    triager = QuestionTriager(
        judge=model_judge(mj, precedents=lookup) if mj is not None else None,
        precedents=lookup)
    if not labels:
        triage_jsonl(jsonl, sys.stdout, triager=triager)
        return
    from mapek.safety.evaluate import Scored, score, triage_label

    rows = []
    for i, (rec, t) in enumerate(triage_records(jsonl, triager=triager, check=triage_label)):
        rows.append(Scored(positive=triage_label(rec, i), flagged=t.label == "consequential",
                           uncertain=t.unsure and t.basis == "held", basis=t.basis))
    _report(score(rows), "questions", mj, as_json)


catalogue_app = typer.Typer(help="The failure catalogue: everything that can go wrong.",
                            no_args_is_help=True)


@catalogue_app.command("list")
def catalogue_list(
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Every failure scenario: id, component, default verdict, title."""
    from mapek.safety.catalogue import default_catalogue

    cat = default_catalogue()
    if as_json:
        sys.stdout.write(json.dumps([e.model_dump() for e in cat], ensure_ascii=False,
                                    indent=2) + "\n")
        return
    for e in cat:
        typer.echo(f"{e.id:<32} {e.component:<22} {e.default_verdict or '-':<15} {e.title}")


@catalogue_app.command("show")
def catalogue_show(
    entry_id: Annotated[str, typer.Argument(metavar="ID")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """One scenario in full: detection, blast radius, response, examples."""
    from mapek.safety.catalogue import default_catalogue

    e = default_catalogue().get(entry_id)
    if as_json:
        sys.stdout.write(json.dumps(e.model_dump(), ensure_ascii=False, indent=2) + "\n")
        return
    typer.echo(f"{e.id}: {e.title}  [{e.category} · {e.component}]")
    for name in ("detection", "blast_radius", "response", "default_verdict"):
        value = getattr(e, name)
        if value:
            typer.echo(f"{name.replace('_', ' ')}: {str(value).strip()}")
    typer.echo("examples:\n" + "\n".join(f"  - {x}" for x in e.examples))
    if e.look_alikes:
        typer.echo("look-alikes (not flagged):\n" + "\n".join(f"  - {x}" for x in e.look_alikes))


sandbox_app = typer.Typer(help="Run workflows in a sandbox, with or without chaos.",
                          no_args_is_help=True)


def _sandbox_kb() -> Any:
    from mapek.config import Settings
    from mapek.knowledge import KnowledgeBase

    return KnowledgeBase.open(Settings().workspace(create=True), index_on_record=False)


@sandbox_app.command("run")
def sandbox_run(
    workflow: Annotated[Path, typer.Argument(help="A workflow YAML/JSON file.")],
    chaos: Annotated[bool, typer.Option("--chaos", help="Inject seeded faults.")] = False,
    seed: Annotated[int, typer.Option("--seed", min=0, max=2**63 - 1, help="Chaos seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Run a workflow once in a fresh sandbox; exit 0 when the run was clean, 1 otherwise."""
    from dataclasses import asdict

    from mapek.safety.sandbox import run_sandbox

    with _sandbox_kb() as kb:
        report = run_sandbox(workflow, kb, chaos=chaos, seed=seed)
    if as_json:
        sys.stdout.write(json.dumps(asdict(report), ensure_ascii=False) + "\n")
    else:
        for i, s in enumerate(report.steps):
            flag = " [flagged]" if s["flagged"] else ""
            typer.echo(f"  {i:>3} {s['tool']:<12} {s['outcome']}{flag}"
                       + (f": {s['reason']}" if s["reason"] else ""))
        if report.chaos:
            typer.echo(f"chaos (seed {seed}): " + ", ".join(
                f"{x['tool']}:{x['fault']}" for x in report.chaos["injected"]) or "no faults")
        typer.echo(f"{report.workflow} · run {report.run_id} · "
                   + ("clean" if report.clean else "NOT clean: "
                      + (", ".join(sorted(set(report.triggers))) or "a step failed")))
    raise typer.Exit(0 if report.clean else 1)


def promote_command(
    workflow: Annotated[Path, typer.Argument(help="A workflow YAML/JSON file.")],
    after: Annotated[int, typer.Option("--after", min=1, max=MAX_COUNT,
                                       envvar="MAPEK_PROMOTE_AFTER",
                                       help="Clean sandbox runs needed (env "
                                       "MAPEK_PROMOTE_AFTER).")] = 3,
) -> None:
    """Promote a workflow to production after N clean sandbox runs; refuses with the reason."""
    from mapek.safety.sandbox import promote

    with _sandbox_kb() as kb:
        rec = promote(workflow, kb, after=after)
    typer.echo(f"promoted {rec['workflow']} ({rec['digest']}) after runs "
               f"{', '.join(rec['runs'])}")


def grant_command(
    run_id: str,
    tool: Annotated[str | None, typer.Argument(help="A write tool of the run.")] = None,
    why: Annotated[str, typer.Option("--why", help="The justification (recorded).")] = "",
    to: Annotated[str, typer.Option("--to", help="A persona of the run, or 'session'.")
                  ] = "session",
    ttl: Annotated[float | None, typer.Option("--ttl", min=0.001, max=MAX_SECONDS,
                                              help="Seconds until it expires "
                                              "(default: never).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Grant write access to one tool of a run (with no TOOL: list the run's grants).

    Agents are read-only by default. Destructive and external tools are never granted: a person
    approves each such call (mapek approve)."""
    import time

    from mapek.api import Session

    with Session.attach(run_id) as session:
        if tool is not None:
            g = session.grant(tool, justification=why, to=to, ttl=ttl)
            if not as_json:
                until = "never expires" if g.expires_at is None else "expires " + \
                    time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(g.expires_at))
                typer.echo(f"granted {g.tool} to {g.to} (event #{g.seq}; {until})")
                return
        grants = session.grants()
    now = time.time()
    if as_json:
        rows = [g.model_dump() | {"expired": g.expired(now)} for g in grants]
        typer.echo(json.dumps(rows[-1] if tool is not None else rows))
        return
    if not grants:
        typer.echo(f"run {run_id} holds no write grants: its agents are read-only")
    for g in grants:
        state = "expired" if g.expired(now) else "live"
        typer.echo(f"#{g.seq} {g.tool} -> {g.to} [{state}] {g.justification}")



evidence_app = typer.Typer(help="Evidence envelopes: proof of work behind a verdict.",
                           no_args_is_help=True)


@evidence_app.command("check")
def evidence_check(
    file: Annotated[Path, typer.Argument(help="The envelope, as JSON.")],
    run: Annotated[str, typer.Option("--run", help="The run whose key and log to check against.")],
    requirements: Annotated[Path | None, typer.Option(
        "--requirements", help="A folder of <task_type>.yaml (default: the packaged ones).")
    ] = None,
    record: Annotated[bool, typer.Option(
        "--record", help="Record evidence.accepted/rejected in the run's log.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Check an envelope against its run's key, its task's requirement and the log (no quorum
    here). Exit 0 when the next step may go ahead, 5 when it must stop."""
    from mapek.errors import UnknownRunError
    from mapek.evidence import EvidenceChecker, Requirements, load_envelope

    env = load_envelope(file)
    reqs = Requirements.load(requirements) if requirements is not None else None
    with open_kb() as kb:
        if run not in {r.run_id for r in kb.runs()}:
            raise UnknownRunError(run)
        checker = EvidenceChecker.for_run(kb, settings().workspace(create=False), run,
                                          requirements=reqs, actor="human")
        res = checker.check(env) if record else checker.evaluate(env)
    if as_json:
        emit_json({**res.payload(), "accepted": res.accepted, "proceed": res.proceed,
                   "seq": res.seq})
    else:
        typer.echo(res.explain())
    raise typer.Exit(0 if res.proceed else EXIT_STOPPED)
