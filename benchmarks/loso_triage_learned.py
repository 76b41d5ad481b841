"""Would a small learned layer settle held triage questions? Leave-one-set-out, measured only.

    .venv/bin/python benchmarks/loso_triage_learned.py

The layer measured (not shipped; see RESULTS.triage.md, 2026-12-04 evening): a logistic
regression over hashed character 3- to 5-grams of every word, word unigrams and bigrams (the
features of ``mapek.safety.learned``, which help with other languages), plus the rules' facts
(every signal of :class:`mapek.loop.triage.QuestionTriager`, its reason family, its label,
whether it was unsure, and its score). It may only settle a question the rules *held* as
trivial, where its margin is below a threshold; it never touches a verdict the rules were sure
of.

Protocol. The sets are our set (``triage_questions``), blind batches 2-5 (development data since
their blind scores), the h-tri batches and the h-tri3 batch. For each set S in turn the model
is trained on the others and scored on S. The threshold is chosen on the training sets alone,
from out-of-fold margins (each training set scored by a model trained on the remaining ones),
by one of two rules:

* ``recall``: the highest threshold at which recall as mapek acts stays >= ``--recall``
  (default 0.97) on the training sets;
* ``recall+precision``: the same, and at most ``--leak`` (default 0.1) of the questions the
  layer settles out-of-fold are consequential.

Reported for each left-out set: precision and recall as mapek acts (held counted as flagged),
held share and confidently wrong, with the rules alone and with each calibration, how many held
questions the layer settled (and how many of them were consequential), and the area under the
ROC curve of the margin among the set's held questions (0.5 is chance). Rules are those of the
working tree: they were developed on every set but the left-out one's blind score, so only the
layer's figure says anything about new wording, and only when the left-out set is a register
the others do not share (blind batch 5). Deterministic: full-batch Adam from zero weights.
Needs numpy (present wherever chromadb is).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_triage import load_ours, peer_expertise, run  # noqa: E402
from train_injection_model import Rows, fit  # noqa: E402  (the same sparse rows and fit)

from mapek.loop.triage import QuestionTriager  # noqa: E402
from mapek.safety.learned import DIM  # noqa: E402  (2**16: the space Rows is sized by)

DATA = REPO / "tests" / "data"
SETS = {"ours": "triage_questions", "blind2": "triage_blind2", "blind3": "triage_blind3",
        "blind4": "triage_blind4", "blind5": "triage_blind5", "htri": "triage_htri_dev",
        "htri3": "triage_htri3_dev"}
SIGNAL_WEIGHT = 0.3
_WS = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")
_TOKEN = re.compile(r"\w+|[^\w\s]")


def _bucket(key: str) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) & (DIM - 1)


def features(text: str, signals: list[str], label: str, unsure: bool, score: float
             ) -> dict[int, float]:
    t = _DIGIT.sub("0", _WS.sub(" ", text.lower()))
    padded = [f" {w} " for w in t.split(" ")]
    grams = Counter(["c" + w[i:i + n] for w in padded for n in (3, 4, 5)
                     for i in range(len(w) - n + 1)])
    toks = _TOKEN.findall(t)
    grams.update(["w" + x for x in toks])
    grams.update(["b" + a + " " + b for a, b in zip(toks, toks[1:], strict=False)])
    counts: dict[int, int] = {}
    for key, c in grams.items():
        h = _bucket(key)
        counts[h] = counts.get(h, 0) + c
    vals = {h: 1.0 + math.log(c) for h, c in counts.items()}
    norm = math.sqrt(sum(x * x for x in vals.values())) or 1.0
    out = {h: x / norm for h, x in vals.items()}
    names = {f"U{int(unsure)}", f"L{label}"}
    for s in signals:
        if s.startswith("held"):
            continue
        names.add("S" + s.split("=")[0])
        names.add("R" + s.rsplit(":", 1)[0])
    for name in sorted(names):
        h = _bucket(name)
        out[h] = out.get(h, 0.0) + SIGNAL_WEIGHT
    h = _bucket("score")
    out[h] = out.get(h, 0.0) + (score - 0.5)
    return out


class Data:
    def __init__(self) -> None:
        peers = peer_expertise()
        triager = QuestionTriager(hold_unsure=False)
        feats: list[dict[int, float]] = []
        y, sets, unsure, label = [], [], [], []
        for name, stem in SETS.items():
            for rec in load_ours(DATA / f"{stem}.jsonl"):
                t = run(triager, rec, peers)
                feats.append(features(rec["text"], t.signals, t.label, t.unsure, t.score))
                y.append(rec["label"] == "consequential")
                sets.append(name)
                unsure.append(t.unsure)
                label.append(t.label == "consequential")
        self.feats = feats
        self.y = np.array(y, dtype=float)
        self.pos = self.y == 1
        self.sets = np.array(sets)
        self.unsure = np.array(unsure)
        self.label = np.array(label)

    def margins(self, train: np.ndarray, score: np.ndarray) -> np.ndarray:
        """Train on ``train`` (each set weighted by 1/sqrt(its size)); margins on ``score``."""
        idx = np.nonzero(train)[0]
        size = Counter(self.sets[idx].tolist())
        sw = np.array([1 / math.sqrt(size[self.sets[i]]) for i in idx])
        w, b = fit(Rows([self.feats[i] for i in idx]), self.y[idx], sw)
        out = np.zeros(len(self.y))
        k = np.nonzero(score)[0]
        out[k] = Rows([self.feats[i] for i in k]).dot(w) + b
        return out

    def acts(self, margin: np.ndarray, mask: np.ndarray, t: float) -> dict[str, Any]:
        settled = mask & self.unsure & (margin < t)
        flagged = mask & ((self.unsure & ~settled) | (~self.unsure & self.label))
        pos = mask & self.pos
        tp, fp = int((flagged & pos).sum()), int((flagged & ~pos).sum())
        wrong = int((mask & ~self.unsure & (self.label != self.pos)).sum()) + \
            int((settled & pos).sum())
        n = int(mask.sum())
        return {"precision": tp / (tp + fp) if tp + fp else 0.0, "recall": tp / int(pos.sum()),
                "held": int((mask & self.unsure & ~settled).sum()) / n, "wrong": wrong / n,
                "settled": int(settled.sum()), "settled_pos": int((settled & pos).sum())}


def pick(d: Data, oof: np.ndarray, mask: np.ndarray, recall: float, leak: float | None
         ) -> float:
    """The highest threshold meeting the calibration rule on ``mask`` (out-of-fold margins)."""
    best = -math.inf
    for t in np.sort(oof[mask & d.unsure]):
        a = d.acts(oof, mask, float(t) + 1e-9)
        if a["recall"] < recall:
            break
        if leak is None or a["settled_pos"] <= leak * max(1, a["settled"]):
            best = float(t) + 1e-9
    return best


def auc(margin: np.ndarray, y: np.ndarray) -> float:
    p, n = margin[y == 1], margin[y == 0]
    if not len(p) or not len(n):
        return float("nan")
    return float(np.mean([(a > b) + 0.5 * (a == b) for a in p for b in n]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recall", type=float, default=0.97)
    ap.add_argument("--leak", type=float, default=0.1)
    args = ap.parse_args(argv)
    d = Data()
    fmt = "{precision:.3f} / {recall:.3f} / {held:.1%} / {wrong:.1%}"
    print("| left-out set | n | rules alone | + layer, recall rule | settled (cons) | "
          "+ layer, recall+precision rule | settled (cons) | AUC on held |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for held in SETS:
        test, train = d.sets == held, d.sets != held
        oof = np.zeros(len(d.y))
        for inner in sorted(set(d.sets[train])):
            part = d.margins(train & (d.sets != inner), d.sets == inner)
            oof[d.sets == inner] = part[d.sets == inner]
        t1 = pick(d, oof, train, args.recall, None)
        t2 = pick(d, oof, train, args.recall, args.leak)
        m = d.margins(train, test)
        a0, a1, a2 = (d.acts(m, test, t) for t in (-math.inf, t1, t2))
        k = test & d.unsure
        rows.append((a0, a1, a2))
        print(f"| {held} | {int(test.sum())} | {fmt.format(**a0)} | {fmt.format(**a1)} | "
              f"{a1['settled']} ({a1['settled_pos']}) | {fmt.format(**a2)} | "
              f"{a2['settled']} ({a2['settled_pos']}) | {auc(m[k], d.y[k]):.2f} |", flush=True)
    for i, name in ((1, "recall rule"), (2, "recall+precision rule")):
        prec = [r[i]["precision"] for r in rows]
        rec = [r[i]["recall"] for r in rows]
        print(f"\n{name}: precision mean {np.mean(prec):.3f} worst {min(prec):.3f}; "
              f"recall mean {np.mean(rec):.3f} worst {min(rec):.3f}")
    print("\n(each cell: precision / recall as mapek acts / held / confidently wrong)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
