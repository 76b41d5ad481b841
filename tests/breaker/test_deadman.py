"""The dead man's switch: a worker with no live watchdog pauses before its next model call."""

from __future__ import annotations

import signal
import threading
import time

from _rig import Rig


def test_worker_pauses_while_no_watchdog_beats(rig: Rig) -> None:
    rig.start_run()
    w = rig.worker("watched")
    calls: list[float] = []
    assert w.stdout is not None

    def read() -> None:
        for line in w.stdout:  # type: ignore[union-attr]
            if line.startswith("call"):
                calls.append(time.time())

    threading.Thread(target=read, daemon=True).start()
    time.sleep(1.5)
    assert calls == []  # never ran unwatched
    rig.wait_for(lambda: rig.events("worker.unwatched"))
    dog = rig.watchdog(w.pid)
    rig.wait_for(lambda: len(calls) >= 3)
    assert rig.events("worker.watched")
    dog.send_signal(signal.SIGKILL)
    killed = time.time()
    dog.wait()
    time.sleep(2.0)
    assert [t for t in calls if t > killed + 1.2] == []  # noticed within a second (+ a poll)
    dog2 = rig.watchdog(w.pid)  # a new watchdog takes over the run's lock
    n = len(calls)
    rig.wait_for(lambda: len(calls) >= n + 3)
    dog2.terminate()
    assert dog2.wait(timeout=5) == 0
