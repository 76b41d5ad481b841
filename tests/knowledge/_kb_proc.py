"""A separate process for the shared-index tests.

    python _kb_proc.py worker WS N     record N messages, searching after each; print "ok N"
    python _kb_proc.py hold WS SECS    keep the embedded index busy for SECS seconds
"""

from __future__ import annotations

import sys
import time

from mapek.knowledge import KnowledgeBase


def worker(ws: str, n: int) -> None:
    with KnowledgeBase.open(ws, create=False, hold=0.2, max_delay=0.02) as kb:
        for i in range(n):
            kb.record("s", "message", "engineer", {"text": f"worker point {i} on capacity"})
            hits = kb.search(f"worker point {i}", n=3, run="s")
            assert any(h.text == f"worker point {i} on capacity" for h in hits), hits
            assert kb.search("topic capacity planning", n=1, kind="topic")
            time.sleep(0.01)
    print("ok", n, flush=True)


def hold(ws: str, secs: float) -> None:
    with KnowledgeBase.open(ws, create=False, hold=60) as kb:
        kb.search("anything")
        print("holding", flush=True)
        end = time.monotonic() + secs
        while time.monotonic() < end:
            kb.search("anything")
            time.sleep(0.05)


if __name__ == "__main__":
    mode, ws, arg = sys.argv[1:]
    worker(ws, int(arg)) if mode == "worker" else hold(ws, float(arg))
