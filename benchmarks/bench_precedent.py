"""Precedent retrieval on paraphrased queries: the hashing default against all-MiniLM-L6-v2.

Data: ``tests/data/precedent_paraphrases.jsonl`` (40 precedent/paraphrase pairs, 25 triage and
15 screening, and 20 decoys; written and frozen before this was first run, see
``tests/data/BLIND.md``). For each embedding, every precedent and decoy is embedded; each
paraphrase is searched among the texts of its own domain (as :class:`PrecedentBook` filters
by domain), by cosine similarity (what the Chroma index ranks by). Reported: hit@1 (the
paraphrase's own precedent is the nearest), hit@3, mean reciprocal rank, the similarity of the
true pair, and at each threshold the share a triager would settle by the right precedent and
the share it would settle by a wrong one (nearest is not the pair and is above the threshold).

``python benchmarks/bench_precedent.py [--write]`` (``--write`` rewrites the figures block of
``benchmarks/RESULTS.precedent.md``). MiniLM needs ``pip install 'mapek[semantic]'``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "precedent_paraphrases.jsonl"
RESULTS = ROOT / "benchmarks" / "RESULTS.precedent.md"
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def load() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if "query" in r], [r for r in rows if "decoy" in r]


def measure(setting: str) -> dict[str, Any]:
    from mapek.knowledge.embeddings import make_embedding

    pairs, decoys = load()
    t0 = time.perf_counter()
    fn = make_embedding(setting)
    corpus = [(p["id"], p["domain"], p["precedent"]) for p in pairs] + \
        [(d["id"], d["domain"], d["decoy"]) for d in decoys]
    docs = np.asarray(fn([c[2] for c in corpus]), dtype=np.float64)
    queries = np.asarray(fn([p["query"] for p in pairs]), dtype=np.float64)
    load_s = time.perf_counter() - t0
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    ranks, true_sims, top = [], [], []
    for qi, p in enumerate(pairs):
        idx = [i for i, c in enumerate(corpus) if c[1] == p["domain"]]
        sims = docs[idx] @ queries[qi]
        order = [idx[i] for i in np.argsort(-sims)]
        rank = next(r for r, i in enumerate(order) if corpus[i][0] == p["id"]) + 1
        ranks.append(rank)
        true_sims.append(float(docs[[i for i, c in enumerate(corpus) if c[0] == p["id"]][0]]
                               @ queries[qi]))
        best = order[0]
        top.append((corpus[best][0] == p["id"], float(docs[best] @ queries[qi])))
    n = len(pairs)
    by_thr = {t: {"right": sum(ok and s >= t for ok, s in top) / n,
                  "wrong": sum((not ok) and s >= t for ok, s in top) / n} for t in THRESHOLDS}
    return {"setting": setting, "n": n, "hit1": sum(r == 1 for r in ranks) / n,
            "hit3": sum(r <= 3 for r in ranks) / n, "mrr": sum(1 / r for r in ranks) / n,
            "true_sim_median": statistics.median(true_sims),
            "true_sim_min": min(true_sims), "thresholds": by_thr, "seconds": load_s,
            "misses": [p["id"] for p, r in zip(pairs, ranks, strict=True) if r != 1]}


def render(results: list[dict[str, Any]]) -> str:
    lines = ["<!-- figures:start -->", "## Figures", "",
             f"{results[0]['n']} paraphrased queries (25 triage, 15 screening) against 40 "
             "precedents and 20 decoys, searched within the query's domain.", "",
             "| embedding | hit@1 | hit@3 | MRR | similarity of the true pair: median / min |"
             " embed all (s) |", "|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['setting']} | {r['hit1']:.3f} | {r['hit3']:.3f} | {r['mrr']:.3f} | "
                     f"{r['true_sim_median']:.2f} / {r['true_sim_min']:.2f} | "
                     f"{r['seconds']:.1f} |")
    lines += ["", "Settled at a similarity threshold: by the right precedent / by a wrong one "
              "(share of the 40 queries).", "",
              "| embedding | " + " | ".join(f">= {t}" for t in THRESHOLDS) + " |",
              "|---|" + "---|" * len(THRESHOLDS)]
    for r in results:
        lines.append(f"| {r['setting']} | " + " | ".join(
            f"{r['thresholds'][t]['right']:.2f} / {r['thresholds'][t]['wrong']:.2f}"
            for t in THRESHOLDS) + " |")
    lines += [""] + [f"- {r['setting']} misses at 1: {', '.join(r['misses']) or 'none'}"
                     for r in results]
    lines += ["", f"- machine: {platform.platform()}, python {platform.python_version()}",
              "<!-- figures:end -->"]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--embeddings", default="hashing,minilm")
    args = ap.parse_args()
    results = [measure(s) for s in args.embeddings.split(",")]
    block = render(results)
    print(block)
    if args.write:
        text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
        if "<!-- figures:start -->" in text:
            head, rest = text.split("<!-- figures:start -->", 1)
            text = head + block + rest.split("<!-- figures:end -->", 1)[1]
        else:
            text = text + "\n" + block + "\n"
        RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
