"""Several real processes on one log (a SQLite file, or a PostgreSQL database): concurrent
writers keep one valid chain, readers following the log see every event once, in order."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from mapek.models import EventDraft
from tests.knowledge.backends import both, open_url

HELPER = str(Path(__file__).with_name("_log_proc.py"))
N = 300  # appends per writer; every 50th is a batch of three events
PER_WRITER = N + 2 * (N // 50)


def spawn(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, HELPER, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@both
def test_two_writers_and_two_followers(tmp_path: Path, log_url: str) -> None:
    path, go = log_url, tmp_path / "go"
    with open_url(path) as log:  # create the log, and one event in another run
        assert log.append(EventDraft(run_id="other", kind="run.started")).seq == 1
    total = 2 * PER_WRITER
    run_follower = spawn("follow", path, "shared", total)
    all_follower = spawn("follow", path, "-", total + 1)
    writers = [spawn("write", path, "shared", N, tag, go) for tag in ("w1", "w2")]
    deadline = time.time() + 60  # every writer has opened the log: start them together
    while not all((tmp_path / f"go.{t}.ready").exists() for t in ("w1", "w2")):
        assert time.time() < deadline, "writers did not start"
        time.sleep(0.01)
    time.sleep(0.2)  # and the followers are polling
    go.touch()
    for p in writers:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    outs = []
    for p in (run_follower, all_follower):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append([json.loads(line) for line in out.splitlines()])

    with open_url(path, create=False) as log:
        assert log.verify(raise_on_error=True).ok
        events = log.events("shared")
    assert [e.seq for e in events] == list(range(1, total + 1))  # no gap, no duplicate
    for tag in ("w1", "w2"):
        mine = [e.payload["i"] for e in events if e.actor == tag and e.kind == "message"]
        assert mine == list(range(N))  # each writer's events in its own order
    interleaved = sum(1 for a, b in zip(events, events[1:], strict=False) if a.actor != b.actor)
    assert interleaved >= 2, interleaved  # the writers really ran at the same time

    expected = [(e.id, e.hash) for e in events]
    assert [(o["id"], o["hash"]) for o in outs[0]] == expected
    assert [(o["id"], o["hash"]) for o in outs[1]] == [("other#1", outs[1][0]["hash"]), *expected]
