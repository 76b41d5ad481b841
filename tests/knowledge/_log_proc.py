"""A separate process for the cross-process log tests: ``write`` appends, ``follow`` tails.

    python _log_proc.py write LOG RUN N TAG GO   append N events tagged TAG once file GO exists
    python _log_proc.py follow LOG RUN|- N       print one JSON line per event until N are seen

LOG is a SQLite file, or a log URL (``sqlite:///PATH``, ``postgresql://...``).
"""

from __future__ import annotations

import json
import os
import sys
import time

from mapek.knowledge import EventLog, SQLiteEventLog
from mapek.models import EventDraft


def open_log(where: str) -> EventLog:
    if where.startswith(("postgresql://", "postgres://")):
        from mapek.knowledge.pg_log import PostgresEventLog

        return PostgresEventLog(where)
    return SQLiteEventLog(where.removeprefix("sqlite:///"))


def write(path: str, run: str, n: int, tag: str, go: str) -> None:
    with open_log(path) as log:
        open(f"{go}.{tag}.ready", "w").close()  # tell the test this writer is ready
        while not os.path.exists(go):
            time.sleep(0.001)
        for i in range(n):
            drafts = [EventDraft(run_id=run, kind="message", actor=tag, payload={"i": i})]
            if i % 50 == 49:  # now and then a batch of three, in one transaction
                drafts += [EventDraft(run_id=run, kind="tick", actor=tag, payload={"i": i})] * 2
            log.append_many(drafts)
            time.sleep(0.0003)  # a busy agent, not a tight loop: gives the other writer a turn


def follow(path: str, run: str, n: int) -> None:
    with open_log(path) as log:
        seen = 0
        for ev in log.follow(None if run == "-" else run, poll=0.01, timeout=60):
            print(json.dumps({"id": ev.id, "hash": ev.hash, "actor": ev.actor, **ev.payload}),
                  flush=True)
            seen += 1
            if seen >= n:
                return


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "write":
        write(args[0], args[1], int(args[2]), args[3], args[4])
    else:
        follow(args[0], args[1], int(args[2]))
