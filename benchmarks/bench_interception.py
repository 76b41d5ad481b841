"""Figures per interception point: plan, call, output, human. Prints a markdown section.

Run: ``.venv/bin/python benchmarks/bench_interception.py``. Labelled sets are small and written
by the same person as the patterns (tests/safety/test_content.py): read them as smoke figures.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "safety"))

from test_content import BENIGN, INJECTIONS  # noqa: E402

from mapek.knowledge import KnowledgeBase  # noqa: E402
from mapek.safety.content import screen_for_human, screen_output  # noqa: E402
from mapek.safety.gateway import ToolGateway  # noqa: E402
from mapek.safety.sandbox_tools import sandbox_tools  # noqa: E402
from mapek.safety.screening import screen_plan  # noqa: E402


def _ms(fn, n: int = 200) -> tuple[float, float]:
    xs = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        xs.append((time.perf_counter() - t) * 1000)
    xs.sort()
    return statistics.median(xs), xs[int(len(xs) * 0.95) - 1]


def main() -> None:
    rows = []
    plan = {"steps": [{"tool": "psql", "args": {"sql": f"SELECT {i} FROM t"}} for i in range(19)]
            + [{"tool": "shell", "args": {"command": "rm -rf /var/lib/postgresql"}}]}
    rows.append(("plan (20 steps)", *_ms(lambda: screen_plan(plan))))
    with tempfile.TemporaryDirectory() as tmp, \
            KnowledgeBase.open(Path(tmp) / "ws", index_on_record=False) as kb:
        (Path(tmp) / "files").mkdir()
        gw = ToolGateway(sandbox_tools(Path(tmp) / "files"), kb, "bench", sandbox=True)
        for i in range(50):
            gw.register_resource(f"doc{i}.md")
        rows.append(("call (pre-call check, 50 resources)",
                     *_ms(lambda: gw.check("fs_delete", {"path": "doc3.md"}, "a"))))
    page = "row,value\n" * 1000
    rows.append(("output (10 kB)", *_ms(lambda: screen_output(page))))
    big = "row,value\n" * 300_000
    rows.append(("output (3 MB)", *_ms(lambda: screen_output(big), n=10)))
    q = "Will you approve a budget of up to $250,000 for this migration this quarter?"
    rows.append(("human (one question)", *_ms(lambda: screen_for_human(q))))
    tp = sum(screen_output(t).flagged for t in INJECTIONS)
    fp = sum(screen_output(t).flagged for t in BENIGN)
    print("| check | median ms | p95 ms |\n|---|---|---|")
    for name, med, p95 in rows:
        print(f"| {name} | {med:.3f} | {p95:.3f} |")
    print(f"\noutput check on the labelled injection set: {tp}/{len(INJECTIONS)} caught, "
          f"{fp}/{len(BENIGN)} look-alikes flagged")


if __name__ == "__main__":
    main()
