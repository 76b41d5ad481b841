"""The watchdog as a real process against real stand-in workers and real signals."""

from __future__ import annotations

import sqlite3

from _rig import Rig

from mapek.breaker.watchdog import EXIT_TRIPPED


def test_breach_trips_records_and_stops_the_worker(rig: Rig) -> None:
    rig.start_run({"max_tokens": 1000})
    w = rig.worker("breach", 5)
    dog = rig.watchdog(w.pid)
    assert w.wait(timeout=10) != 0
    assert dog.wait(timeout=10) == EXIT_TRIPPED
    trip, = rig.events("breaker.tripped")
    breach = rig.log.get(rig.run, trip.payload["seqs"][-1])
    assert breach is not None and breach.kind == "llm.call"
    assert trip.payload["policy"] == "tokens" and trip.payload["threshold"] == 1000
    assert trip.payload["observed"] == 10**9 and trip.parent == breach.seq
    stopped, = rig.events("breaker.stopped")
    assert stopped.payload["how"] == "term" and stopped.seq == trip.seq + 1
    assert rig.log.verify(rig.run).ok


def test_a_hung_worker_is_caught_by_the_clock(rig: Rig) -> None:
    rig.start_run()
    w = rig.worker("hang", 2)
    assert w.stdout is not None and w.stdout.readline() == "ready\n"
    dog = rig.watchdog(w.pid, "--policy", str(rig.policy("extends: default\ntime_limit: 0.5\n")))
    assert dog.wait(timeout=30) == EXIT_TRIPPED
    # stopped by the watchdog (a signal), not left to end its hang and exit by itself; how
    # fast is a benchmark's question (bench_breaker.py), not a test's
    assert w.wait(timeout=30) != 0
    assert rig.events("breaker.tripped")[0].payload["policy"] == "time"


def test_worker_that_ignores_sigterm_in_a_blocking_call_is_killed_after_grace(rig: Rig) -> None:
    rig.start_run({"max_tokens": 1})
    w = rig.worker("ignore-term", 1)
    assert w.stdout is not None and w.stdout.readline() == "ready\n"
    from mapek.models import EventDraft

    pol = rig.policy("extends: default\ngrace: 0.5\n")
    dog = rig.watchdog(w.pid, "--policy", str(pol))
    rig.wait_for(lambda: rig.log.last_seq(rig.run) >= 3)
    rig.log.append(EventDraft(run_id=rig.run, kind="llm.call", payload={"prompt_tokens": 5}))
    assert w.wait(timeout=30) == -9  # SIGKILLed: it ignored the SIGTERM
    assert dog.wait(timeout=30) == EXIT_TRIPPED
    stopped = rig.events("breaker.stopped")[0].payload
    assert stopped["how"] == "kill" and stopped["grace"] == 0.5


def test_sigterm_is_graceful_and_the_worker_writes_nothing_after(rig: Rig) -> None:
    rig.start_run()
    w = rig.worker("guarded")
    assert w.stdout is not None and w.stdout.readline() == "ready\n"
    dog = rig.watchdog(w.pid, "--policy", str(rig.policy("max_turns: 1\n")))
    rig.wait_for(lambda: (rig.home / "runs" / rig.run / "watchdog.heartbeat").exists())
    from mapek.models import EventDraft

    for text in ("a", "b"):
        rig.log.append(EventDraft(run_id=rig.run, kind="message", actor="cfo",
                                  payload={"text": text}))
    assert dog.wait(timeout=10) == EXIT_TRIPPED
    assert w.wait(timeout=5) == 143
    assert w.stdout.read().strip() == "stopped"
    trip = rig.events("breaker.tripped")[0]
    assert not [e for e in rig.log.events(rig.run, after=trip.seq) if e.actor == "worker"]
    assert rig.events("breaker.stopped")[0].payload["how"] == "term"


def test_a_second_watchdog_for_the_run_refuses(rig: Rig) -> None:
    rig.start_run()
    w = rig.worker("hang")
    first = rig.watchdog(w.pid)
    rig.wait_for(lambda: (rig.home / "runs" / rig.run / "watchdog.heartbeat").exists())
    second = rig.watchdog(w.pid)
    assert second.wait(timeout=10) == 2
    assert second.stderr is not None and "already has a watchdog" in second.stderr.read()
    assert first.poll() is None
    first.terminate()
    assert first.wait(timeout=5) == 0


def test_a_tampered_log_trips_the_breaker(rig: Rig) -> None:
    rig.start_run()
    w = rig.worker("hang", 4)
    assert w.stdout is not None and w.stdout.readline() == "ready\n"
    con = sqlite3.connect(rig.home / "log.sqlite3", isolation_level=None)
    con.execute("DROP TRIGGER events_no_update")  # as an attacker would
    con.execute("UPDATE events SET payload = '{\"text\":\"all fine\"}' "
                "WHERE run_id = 'r1' AND seq = 4")
    con.close()
    dog = rig.watchdog(w.pid)
    assert dog.wait(timeout=10) == EXIT_TRIPPED
    trip = rig.events("breaker.tripped")[0]
    assert trip.payload["policy"] == "integrity" and trip.payload["seqs"] == [4]
    assert w.wait(timeout=5) != 0


def test_bad_policy_file_starts_nothing(rig: Rig) -> None:
    rig.start_run()
    w = rig.worker("hang")
    dog = rig.watchdog(w.pid, "--policy", str(rig.policy("max_turns: -1\n")))
    assert dog.wait(timeout=10) == 2
    assert dog.stderr is not None and "policy.yaml: max_turns" in dog.stderr.read()
    assert not (rig.home / "runs" / rig.run / "watchdog.heartbeat").exists()
