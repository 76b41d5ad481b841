"""The texts the speed work on tool-output screening must read exactly as before, and their
digests: :func:`digest` of one text is its ``features()`` (every bucket and the exact bits of
every value), its rule findings (``injection.find``) and its verdict (findings, layer and the
exact margin of ``screen_output``).

``python -m tests.safety._screen_reference`` rewrites ``screen_reference.jsonl`` next to this
file; it was written by the code before the speed work (commit message says which), and
``test_screen_identical.py`` checks the current code against it."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

DATA = Path(__file__).parents[1] / "data"
REFERENCE = Path(__file__).with_name("screen_reference.jsonl")


FILES = ("injection_blind1", "injection_blind2", "injection_blind3", "injection_blind4",
         "injection_blind5", "injection_blind6", "injection_blind7", "injection_blind8",
         "injection_blind9", "injection_dev2", "injection_dev3", "injection_dev4", "injection_dev5",
         "injection_structure_examples")
"""The labelled sets of ``tests/data`` when the reference was written (a set added later is not
in it, and the seeded variations stay the same)."""


def labelled() -> list[tuple[str, str]]:
    """(id, text) of every labelled text of :data:`FILES` (``tests/data/injection_*.jsonl``
    and the structure examples), in file order."""
    out: list[tuple[str, str]] = []
    for path in (DATA / f"{name}.jsonl" for name in FILES):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if line.strip():
                row = json.loads(line)
                out.append((f"{path.stem}:{n}", row["text"]))
    return out


def synthetic(texts: list[str], count: int = 400, seed: int = 20261205) -> list[tuple[str, str]]:
    """Seeded variations of the labelled texts the scanners may treat differently: splices of
    two texts, cuts at arbitrary characters, upper case, long non-space runs, texts longer than
    the learned layer's window, lone marks and empty ones."""
    rnd = random.Random(seed)
    out: list[tuple[str, str]] = [("syn:empty", ""), ("syn:space", " \n\t "),
                                  ("syn:colon", "AI:"), ("syn:dots", "...!!!??")]
    for i in range(count):
        a, b = rnd.choice(texts), rnd.choice(texts)
        kind = i % 8
        if kind == 0:
            t = a[: rnd.randrange(len(a) + 1)] + b[rnd.randrange(len(b) + 1):]
        elif kind == 1:
            t = a.upper()
        elif kind == 2:
            cut = rnd.randrange(len(a) + 1)
            t = a[:cut] + "x" * rnd.randrange(40, 120) + a[cut:]
        elif kind == 3:
            t = "\n".join(rnd.choice(texts) for _ in range(rnd.randrange(2, 12)))
        elif kind == 4:
            t = (a + "\n") * (9000 // (len(a) + 1) + 1)
        elif kind == 5:
            words = (a + " " + b).split(" ")
            rnd.shuffle(words)
            t = " ".join(words)
        elif kind == 6:
            t = a.replace(" ", "  \t", rnd.randrange(1, 5)).replace(".", ".\n")
        else:
            chars = list(a)
            for _ in range(min(8, len(chars))):
                j = rnd.randrange(len(chars))
                chars[j] = rnd.choice("\u00a0\u200b\uff21\u0430:,.;!?\"'\n-\u2014")
            t = "".join(chars)
        out.append((f"syn:{i}", t))
    return out


def corpus() -> list[tuple[str, str]]:
    lab = labelled()
    return lab + synthetic([t for _, t in lab])


def digest(text: str) -> dict[str, object]:
    from mapek.safety import injection, learned
    from mapek.safety.content import screen_output

    feats = learned.features(text)
    fb = json.dumps(sorted((h, x.hex()) for h, x in feats.items())).encode()
    rules = injection.find(text)
    v = screen_output(text)
    found = [[f.kind, f.start, f.end, f.excerpt] for f in v.findings]
    return {"text": _hash(text.encode("utf-8", "surrogatepass"), 8),
            "features": _hash(fb, 16), "n": len(feats),
            "rules": _hash(json.dumps([list(h) for h in rules]).encode(), 12),
            "findings": _hash(json.dumps(found).encode(), 12), "kinds": v.kinds,
            "layer": v.layer, "margin": None if v.margin is None else v.margin.hex()}


def _hash(data: bytes, n: int) -> str:
    return hashlib.sha256(data).hexdigest()[:n]


def main() -> None:
    with REFERENCE.open("w", encoding="utf-8") as fh:
        for key, text in corpus():
            row = {"id": key, **digest(text)}
            fh.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
