"""Train the learned injection layer (``mapek.safety.learned``) and measure it across sets.

    .venv/bin/python benchmarks/train_injection_model.py --cross     # the cross-set table
    .venv/bin/python benchmarks/train_injection_model.py --write     # rebuild the shipped model

Protocol (leave one set out). The labelled sets are ``tests/data/injection_blind1.jsonl``,
``injection_dev2``, ``injection_dev3``, ``injection_structure_examples``, ``injection_blind2``,
``injection_blind3``, ``injection_blind4``, ``injection_blind5``, ``injection_blind6``,
``injection_blind7``, ``injection_blind8``, ``injection_blind9``, ``injection_blind10``,
``injection_blind11`` to ``injection_blind16`` (development data since their blind scores of
2026-12-04 to -06; blind-7 in the protocol since round 6, blind-8 and -9 since round 7,
blind-10 since round 9, blind-11 and -12 since round 10, blind-13 and -14 since round 11,
blind-15 and -16 since round 12), ``injection_dev4`` (development texts
written after reading blind-3's misses) and ``injection_dev5`` (written after reading blind-4's
misses). For each set S in turn the model is trained on the other sets and scored on S; the
table ends with the mean and the worst row. Its threshold is chosen on the training sets alone,
from out-of-fold margins of the texts as the screen reads them (since round 10: the highest
chunk of each part of :func:`mapek.safety.content.parts`, the rules' verdict part by part;
until round 9 the whole text, which the screen no longer scores; each training set scored by a
model trained on the others): the lowest margin at which the model adds at most ``--fp`` false
positives per benign training text to what the rules already flag, over all the training sets
pooled (0.02 until round 4, 0.01 since round 5, 2026-12-05, the budget with the better
leave-one-set-out trade: ``RESULTS.injection.md``); ``--set-fp`` holds every training set to
the budget on its own (the highest of the sets' thresholds), measured and not shipped. Either
way the rules spend their own share of a false-positive budget on fresh text (0.00 to 0.06 on
the first scores so far), which the training sets, that the rules were developed on, do not
show. Only the figure on S says anything about unseen wording, and only for the model: the
rules were developed on every set (injection-blind-2 and -3 after their blind scores), so the
rules' own figure (and the combination's) is inflated.

Since round 6 (2026-12-05) the model also carries a veto (``--veto LOSS``, shipped 0.0005):
the margin under which a rules' flag of the kinds :data:`mapek.safety.learned.VETOABLE` only
(an address, a fake system frame) is withdrawn, chosen on the training sets alone from the
same out-of-fold margins: at most ``LOSS`` of the training injections would be withdrawn
(never above a margin of 0). ``--cross`` applies it in the "rules + model" column; the
"rules alone" column is the rules without it.

The shipped model (``--write``) is trained on all the sets with its threshold chosen the same way
(out-of-fold over them). Training is full-batch Adam on the logistic loss with an L2
penalty, from zero weights, over features in a fixed order: the file it writes is the same
byte for byte on every run (a few minutes on two cores; ``--cross`` fits each model once,
the one without sets S and T serving the rows of both). It needs numpy (a
dependency of chromadb, so present wherever mapek is); inference does not.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mapek.safety import content, injection, learned  # noqa: E402

DATA = REPO / "tests" / "data"
SETS = ["injection_blind1", "injection_dev2", "injection_dev3", "injection_structure_examples",
        "injection_blind2", "injection_blind3", "injection_dev4", "injection_blind4",
        "injection_dev5", "injection_blind5", "injection_blind6", "injection_blind7",
        "injection_blind8", "injection_blind9", "injection_blind10", "injection_blind11",
        "injection_blind12", "injection_blind13", "injection_blind14", "injection_blind15",
        "injection_blind16"]
L2 = 1e-4
ITERS = 300
LR = 0.05


class Rows:
    """A sparse matrix (one row per text) of hashed features."""

    def __init__(self, feats: list[dict[int, float]]):
        self.n = len(feats)
        self.idx = np.array([h for f in feats for h in f], dtype=np.int64)
        self.val = np.array([x for f in feats for x in f.values()], dtype=np.float64)
        self.row = np.repeat(np.arange(self.n), [len(f) for f in feats])
        self.feats = feats

    def take(self, mask: np.ndarray) -> Rows:
        return Rows([self.feats[i] for i in np.nonzero(mask)[0]])

    def dot(self, w: np.ndarray) -> np.ndarray:
        return np.bincount(self.row, weights=self.val * w[self.idx], minlength=self.n)

    def tdot(self, g: np.ndarray) -> np.ndarray:
        return np.bincount(self.idx, weights=self.val * g[self.row], minlength=learned.DIM)


def fit(x: Rows, y: np.ndarray, sw: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Logistic regression, full-batch Adam, L2 penalty; deterministic. ``sw``: a weight per
    row (``benchmarks/loso_triage_learned.py`` weighs its sets), else each row counts once."""
    w = np.zeros(learned.DIM)
    b = 0.0
    m, v = np.zeros(learned.DIM), np.zeros(learned.DIM)
    mb = vb = 0.0
    b1, b2, eps = 0.9, 0.999, 1e-8
    for t in range(1, ITERS + 1):
        p = 1 / (1 + np.exp(-(x.dot(w) + b)))
        g = (p - y) / len(y) if sw is None else (p - y) * sw / sw.sum()
        gw = x.tdot(g) + L2 * w
        gb = float(g.sum())
        m = b1 * m + (1 - b1) * gw
        v = b2 * v + (1 - b2) * gw * gw
        mb = b1 * mb + (1 - b1) * gb
        vb = b2 * vb + (1 - b2) * gb * gb
        w -= LR * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        b -= LR * (mb / (1 - b1 ** t)) / (np.sqrt(vb / (1 - b2 ** t)) + eps)
    return w, b


def level(oof: np.ndarray, y: np.ndarray, rules: np.ndarray, fp: float) -> float:
    """The threshold, from out-of-fold margins of the training sets: the lowest margin at
    which the model adds at most ``fp`` false positives (per benign text) to the rules'."""
    neg = y == 0
    threshold = float("inf")
    for t in np.sort(np.unique(oof))[::-1]:
        if ((oof >= t) & ~rules)[neg].mean() > fp:
            break
        threshold = float(t)
    return threshold


def level_per_set(oof: np.ndarray, y: np.ndarray, rules: np.ndarray, sets: np.ndarray,
                  fp: float) -> float:
    """The threshold, from out-of-fold margins, set by set: on every training set the model adds
    at most ``fp`` false positives (per benign text of that set) to the rules'; the highest of
    the sets' thresholds, so that no set, each scored by a model that never saw it, is over
    the budget."""
    return max(level(oof[sets == s], y[sets == s], rules[sets == s], fp)
               for s in sorted(set(sets)))


def veto_level(oof: np.ndarray, y: np.ndarray, soft: np.ndarray, loss: float) -> float:
    """The veto, from out-of-fold margins of the training sets: the margin under which at most
    ``loss`` of the training injections (a share of all of them) are flagged by the rules with
    vetoable kinds only (:data:`mapek.safety.learned.VETOABLE`), i.e. would be withdrawn."""
    lows = np.sort(oof[(y == 1) & soft])
    k = int(loss * (y == 1).sum())
    return min(float(lows[k]) if k < len(lows) else 0.0, 0.0)  # never over an even margin


class Units:
    """Every text as the screen reads it (:func:`mapek.safety.content.parts`, each part in
    :func:`mapek.safety.learned.pieces`): the model is trained on whole texts, but its margin
    for a text, from which the threshold and the veto are chosen, is the one the shipped screen
    computes, the highest chunk of a part where the model may add a flag; and the rules' verdict
    is the screen's, part by part, with a part's flag withdrawn by the veto on its own."""

    def __init__(self, texts: list[str]):
        feats: list[dict[int, float]] = []
        part_text: list[int] = []
        part_start: list[int] = []
        adds: list[bool] = []
        soft: list[bool] = []
        flagged: list[bool] = []
        for i, text in enumerate(texts):
            for part, add in content.parts(text):
                kinds = {h[0] for h in injection.find(part)}
                part_text.append(i)
                part_start.append(len(feats))
                adds.append(add)
                flagged.append(bool(kinds))
                soft.append(bool(kinds) and kinds <= learned.VETOABLE
                            and len(part) <= learned.MAX_CHARS)
                feats += [learned.features(piece) for _, piece in learned.pieces(part)]
        self.x = Rows(feats)
        self.part_text = np.array(part_text)
        self.part_start = np.array(part_start)
        self.adds = np.array(adds)
        self.soft = np.array(soft)
        self.flagged = np.array(flagged)
        self.n = len(texts)
        self.text_start = np.searchsorted(self.part_text, np.arange(self.n))
        self.unit_text = np.repeat(self.part_text, np.diff(np.append(self.part_start,
                                                                     self.x.n)))

    def rules(self) -> np.ndarray:
        """Per text: the rules flag some part of it."""
        return np.maximum.reduceat(self.flagged, self.text_start).astype(bool)

    def margins(self, unit_margin: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per text, from the margin of each unit (chunk): the highest margin of a part where
        the model may add a flag (-inf where there is none); the highest margin of a part the
        rules flag (-inf where none); and whether every part the rules flag is vetoable (so
        that a margin under the veto there withdraws the whole flag)."""
        part = np.maximum.reduceat(unit_margin, self.part_start)
        low = -np.inf
        add = np.maximum.reduceat(np.where(self.adds, part, low), self.text_start)
        flag = np.maximum.reduceat(np.where(self.flagged, part, low), self.text_start)
        hard = np.maximum.reduceat(self.flagged & ~self.soft, self.text_start).astype(bool)
        return add, flag, self.rules() & ~hard


def load() -> tuple[list[dict[str, Any]], Rows, np.ndarray, np.ndarray, np.ndarray]:
    recs: list[dict[str, Any]] = []
    for s in SETS:
        for line in (DATA / f"{s}.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                recs.append({"set": s, "id": r["id"], "text": r["text"],
                             "y": r["label"] == "injection"})
    t = time.perf_counter()
    x = Rows([learned.features(r["text"]) for r in recs])
    global UNITS
    UNITS = Units([r["text"] for r in recs])
    print(f"features of {len(recs)} texts and their {UNITS.x.n} chunks: "
          f"{time.perf_counter() - t:.1f} s", file=sys.stderr)
    y = np.array([r["y"] for r in recs], dtype=float)
    sets = np.array([r["set"] for r in recs])
    return recs, x, y, sets, UNITS.rules()


UNITS: Units
"""The texts of :func:`load` as the screen reads them."""
VETO_LOSS: float | None = None
"""``--veto LOSS``: the veto is chosen so that at most this share of the training injections
would be withdrawn (out-of-fold), and never above a margin of 0; None: no veto (before
round 6)."""


_FITS: dict[frozenset[str], tuple[np.ndarray, float]] = {}
CACHE: Path | None = None
"""``--cache DIR``: fitted models are kept there (one ``.npy`` per set of left-out sets), so
that ``--fits K/N`` workers can share the fits of the cross table between processes; a fit is
deterministic, so a cached one is the one the script would compute."""


def fit_without(x: Rows, y: np.ndarray, sets: np.ndarray, left_out: frozenset[str]
                ) -> tuple[np.ndarray, float]:
    """The model trained on every set but ``left_out``; the same training rows in the same
    order give the same model, so one fit serves both (S, T) and (T, S) of the cross table."""
    if left_out not in _FITS:
        path = None
        if CACHE is not None:
            path = CACHE / ("without-" + "+".join(sorted(left_out) or ["nothing"]) + ".npy")
        if path is not None and path.exists():
            wb = np.load(path)
            _FITS[left_out] = (wb[:-1], float(wb[-1]))
        else:
            keep = ~np.isin(sets, sorted(left_out))
            _FITS[left_out] = fit(x.take(keep), y[keep])
            if path is not None:
                np.save(path, np.append(_FITS[left_out][0], _FITS[left_out][1]))
    return _FITS[left_out]


def fits_share(k: int, n: int) -> int:
    """Compute the ``k``-th of ``n`` shares of the fits the cross table needs (into --cache)."""
    _, x, y, sets, _ = load()
    need = sorted({frozenset({a, b}) for a in SETS for b in SETS} | {frozenset()},
                  key=lambda f: sorted(f))
    for i, left_out in enumerate(need):
        if i % n == k:
            t = time.perf_counter()
            fit_without(x, y, sets, left_out)
            print(f"fit without {sorted(left_out)}: {time.perf_counter() - t:.0f} s",
                  file=sys.stderr, flush=True)
    return 0


Margins = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Per text, as :meth:`Units.margins` gives them: the margin where the model may add a flag,
the margin of the parts the rules flag, and whether the veto may withdraw the rules' flag."""


def unit_margins(w: np.ndarray, b: float, texts: np.ndarray) -> np.ndarray:
    """The margin of every chunk of the texts ``texts`` (a mask) under the model ``w``, ``b``;
    -inf for the chunks of other texts."""
    out = np.full(UNITS.x.n, -np.inf)
    mask = texts[UNITS.unit_text]
    out[mask] = UNITS.x.take(mask).dot(w) + b
    return out


def out_of_fold(x: Rows, y: np.ndarray, sets: np.ndarray, train: np.ndarray) -> Margins:
    """The margins of the training texts (``train``), each set's by the model trained on the
    other training sets; read as the screen reads the texts (:class:`Units`)."""
    held = frozenset(sets[~train])
    um = np.full(UNITS.x.n, -np.inf)
    for s in sorted(set(sets[train])):
        w, b = fit_without(x, y, sets, held | {s})
        part = unit_margins(w, b, sets == s)
        um = np.where(np.isfinite(part), part, um)
    return UNITS.margins(um)


def rates(flag: np.ndarray, y: np.ndarray) -> str:
    pos, neg = y == 1, y == 0
    return (f"{flag[pos].mean():.3f} / {flag[neg].mean():.3f} "
            f"({int(flag[pos].sum())}/{int(pos.sum())}, {int(flag[neg].sum())}/{int(neg.sum())})")


def cross(budgets: list[tuple[str, float]], dump: Path | None = None) -> int:
    recs, x, y, sets, rules = load()
    dumped: dict[str, object] = {}
    print("| left-out set | texts (inj / benign) | FP budget on training | rules alone | model "
          "alone | rules + model | threshold |")
    print("|---|---|---|---|---|---|---|")
    summary: dict[tuple[str, float], list[tuple[float, float, float, float]]] = {
        k: [] for k in budgets}
    for held in SETS:
        train, test = sets != held, sets == held
        oof, oof_flag, soft = out_of_fold(x, y, sets, train)
        w, b = fit_without(x, y, sets, frozenset({held}))
        add, flagm, tsoft = UNITS.margins(unit_margins(w, b, test))
        s, yy, rr = add[test], y[test], rules[test]
        veto = (veto_level(oof_flag[train], y[train], soft[train], VETO_LOSS)
                if VETO_LOSS is not None else -float("inf"))
        kept = rr & ~(tsoft[test] & (flagm[test] < veto))  # the rules' flags the veto leaves
        dumped[held] = {"ids": [str(r.get("id", i)) for i, r in enumerate(recs)
                                if r["set"] == held],
                        "margin": [float(v) for v in s], "threshold": {}}
        for mode, fp in budgets:
            th = (level(oof[train], y[train], rules[train], fp) if mode == "pooled" else
                  level_per_set(oof[train], y[train], rules[train], sets[train], fp))
            flag = kept | (s >= th)
            dumped[held]["threshold"][f"{mode} {fp}"] = th  # type: ignore[index]
            summary[(mode, fp)].append((float(rr[yy == 1].mean()), float(rr[yy == 0].mean()),
                                        float(flag[yy == 1].mean()), float(flag[yy == 0].mean())))
            print(f"| {held} | {int(test.sum())} ({int(yy.sum())} / {int((1 - yy).sum())}) | "
                  f"{fp:.2f} {mode} | {rates(rr, yy)} | {rates(s >= th, yy)} | "
                  f"{rates(flag, yy)} | {th:.2f} / veto {veto:.2f} |", flush=True)
    if dump is not None:
        dump.write_text(json.dumps(dumped), encoding="utf-8")
    for (mode, fp), rows in summary.items():
        a = np.array(rows)
        print(f"\nFP budget {fp:.2f} {mode}, over the {len(rows)} left-out sets: rules alone mean "
              f"{a[:, 0].mean():.3f} / {a[:, 1].mean():.3f}, worst recall {a[:, 0].min():.3f}, "
              f"worst FP {a[:, 1].max():.3f}; rules + model mean {a[:, 2].mean():.3f} / "
              f"{a[:, 3].mean():.3f}, worst recall {a[:, 2].min():.3f}, worst FP "
              f"{a[:, 3].max():.3f}")
    return 0


def write(mode: str, fp: float) -> int:
    _, x, y, sets, rules = load()
    every = np.ones(len(y), dtype=bool)
    oof, oof_flag, soft = out_of_fold(x, y, sets, every)
    th = level(oof, y, rules, fp) if mode == "pooled" else level_per_set(oof, y, rules, sets, fp)
    w, b = fit_without(x, y, sets, frozenset())
    veto = None if VETO_LOSS is None else veto_level(oof_flag, y, soft, VETO_LOSS)
    meta: dict[str, object] = {
        "trained_on": SETS, "texts": int(len(y)), "injections": int(y.sum()),
        "l2": L2, "iters": ITERS, "lr": LR, "fp_budget_on_training": fp,
        "fp_budget_applies_to": "each training set" if mode == "per-set" else "all pooled",
        "margins_for_threshold": "as screened: envelope parts, highest chunk (round 10)",
        "script": "benchmarks/train_injection_model.py --write"
                  + ("" if VETO_LOSS is None else f" --veto {VETO_LOSS}"),
    }
    if veto is not None:
        meta["veto_loss_on_training"] = VETO_LOSS
    learned.save(learned.MODEL_PATH, [float(v) for v in w], float(b), th, meta, veto)
    if veto is not None:
        rules = rules & ~(soft & (oof_flag < veto))
    print(f"wrote {learned.MODEL_PATH.relative_to(REPO)}: threshold {th:.3f}, veto {veto}; "
          f"out-of-fold on "
          f"the training sets: rules {rates(rules, y)}, model {rates(oof >= th, y)}, "
          f"rules + model {rates(rules | (oof >= th), y)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cross", action="store_true", help="the leave-one-set-out table")
    ap.add_argument("--write", action="store_true", help="train on every set, write the model")
    ap.add_argument("--fp", type=float, nargs="*", default=[],
                    help="false-positive budget on the training sets pooled (several for "
                    "--cross; default 0.01, the shipped rule, when --set-fp is not given)")
    ap.add_argument("--set-fp", type=float, nargs="*", default=[],
                    help="false-positive budget on each training set, every set within it "
                    "(several for --cross)")
    ap.add_argument("--exclude", nargs="*", default=[], choices=SETS,
                    help="leave these sets out of the protocol altogether (--cross only), e.g. "
                         "injection_dev4, written after reading injection-blind-3's misses, to "
                         "keep the blind-3 row honest")
    ap.add_argument("--veto", type=float, help="a veto of the rules' vetoable flags, chosen so "
                    "that at most this share of the training injections is withdrawn "
                    "(out-of-fold); round 6 ships 0.001")
    ap.add_argument("--cache", type=Path, help="keep fitted models in this directory")
    ap.add_argument("--fits", help="K/N: compute the K-th of N shares of the cross table's "
                    "fits into --cache (run N of these side by side, then --cross)")
    ap.add_argument("--dump", type=Path, help="--cross: also write each left-out set's margins "
                    "and thresholds to this JSON file")
    args = ap.parse_args(argv)
    global CACHE, VETO_LOSS
    CACHE = args.cache
    VETO_LOSS = args.veto
    if CACHE is not None:
        CACHE.mkdir(parents=True, exist_ok=True)
    if args.exclude:
        if args.write:
            ap.error("--exclude is for --cross: the shipped model is trained on every set")
        SETS[:] = [s for s in SETS if s not in args.exclude]
    set_fp = args.set_fp or []
    pooled = args.fp or ([] if set_fp else [0.01])
    budgets = [("pooled", fp) for fp in pooled] + [("per-set", fp) for fp in set_fp]
    if args.fits:
        if CACHE is None:
            ap.error("--fits needs --cache")
        k, n = (int(v) for v in args.fits.split("/"))
        return fits_share(k, n)
    if args.cross:
        return cross(budgets, args.dump)
    if args.write:
        return write(*budgets[0])
    ap.print_help()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
