"""The watchdog: a separate OS process per worker that reads the log and can stop the worker.

``python -m mapek.breaker.watchdog RUN --pid WORKER_PID --home H [--policy NAME|FILE]``

It never asks the agent anything. It follows the run's events (checking each one's link in the
hash chain), folds them into a :class:`~mapek.breaker.policies.BreakerFold`, and evaluates the
policies on every new event and on a clock tick, so a hung worker that writes nothing is still
caught. On the clock it also re-verifies the run's log against the chain and the workspace's
anchors (:class:`~mapek.breaker.integrity.IntegrityWatch`: a cheap look every second, a complete
one every ten), so an edit of a past event trips the ``integrity`` policy within seconds.
It touches ``runs/<run>/watchdog.heartbeat`` on every pass (the worker's dead man's switch)
and holds ``runs/<run>/watchdog.lock``, so a second watchdog for the run refuses.

The trip protocol, in order: record ``breaker.tripped`` (policy, threshold, observed value, the
seqs that caused it); SIGTERM the worker, SIGKILL it (and its process group) if it is still
there after the grace period; record ``breaker.stopped``; then run the notifiers, each in its own
thread with its own timeout, and record one ``breaker.notified`` each. The worker's state stays
in its last checkpoint: ``mapek resume RUN`` continues it.

Which policy applies: the preset or file named by ``--policy`` (else the one the session was
created with, else ``default``), overlaid with the session's own limits (``max_tokens``,
``max_usd``, ``time_limit``, ``max_turns``) with a small slack, since the worker's in-process
checks stop first and more gently; then ``breaker.override`` events raise or disable limits.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from mapek.breaker.notifiers import Notifier, load_notifiers, notifiers_from, notify_all
from mapek.breaker.policies import (
    Breach,
    BreakerFold,
    PolicySpec,
    build_policies,
    first_breach,
    load_policy,
)
from mapek.errors import MapekError, UserError
from mapek.events import BreakerChoice, RunConfig, RunStarted, read_payload
from mapek.safety.policy import ScreeningPolicy

__all__ = ["Watchdog", "WatchdogBusy", "session_limits", "resolve_spec", "screening_policy",
           "process_alive", "stop_process", "heartbeat_path", "lock_path", "main", "EXIT_TRIPPED"]

EXIT_TRIPPED = 7
"""The watchdog's exit code after a trip (and ``mapek discuss``'s when the breaker trips)."""

TURN_SLACK = 2
"""Extra ``message`` events over a session's ``max_turns`` (a round may finish past it)."""
TIME_SLACK = 0.1
"""Extra share of a session's ``time_limit`` (plus 5 s) before the watchdog steps in."""


def heartbeat_path(run_dir: Path) -> Path:
    return run_dir / "watchdog.heartbeat"


def lock_path(run_dir: Path) -> Path:
    return run_dir / "watchdog.lock"


class WatchdogBusy(UserError):
    """Another watchdog already guards this run."""

    def __init__(self, run_id: str, holder: str) -> None:
        super().__init__(f"run {run_id} already has a watchdog (pid {holder or '?'}); "
                         "refusing to start a second one")
        self.run_id = run_id


def session_limits(started_payload: dict[str, Any]) -> dict[str, Any]:
    """The session's own limits (with slack), from a ``run.started`` payload."""
    started = read_payload("run.started", started_payload)
    cfg = started.config if isinstance(started, RunStarted) else RunConfig()
    out: dict[str, Any] = {}
    if cfg.max_tokens:
        out["max_tokens"] = cfg.max_tokens
    if cfg.max_usd:
        out["max_usd"] = cfg.max_usd
    if cfg.time_limit:
        out["time_limit"] = cfg.time_limit * (1 + TIME_SLACK) + 5
    if cfg.max_turns:
        out["max_turns"] = cfg.max_turns + max(TURN_SLACK, cfg.speakers_per_round or 2)
    return out


def resolve_spec(kb: Any, run_id: str, policy: str | None = None) -> tuple[PolicySpec, str]:
    """The spec that guards a run, and where it came from: the policy (``--policy``, else the
    session's, else ``default``), each limit the tighter of the policy's and the session's,
    then the explicit ``breaker.overrides`` of ``run.started``."""
    started = kb.events(run_id, kinds=["run.started"], limit=1)
    payload = started[0].payload if started else {}
    typed_started = read_payload("run.started", payload)
    breaker = typed_started.breaker if isinstance(typed_started, RunStarted) else \
        BreakerChoice()
    name = policy or breaker.policy or "default"
    spec = load_policy(name)
    tighter = {k: v if getattr(spec, k) is None else min(v, getattr(spec, k))
               for k, v in session_limits(payload).items()}
    return spec.merged({**tighter, **breaker.overrides}, source=name), name


def screening_policy(kb: Any, run_id: str) -> ScreeningPolicy:
    """The screening settings of a run (read by its worker): the ``screening`` table of the
    policy file that guards it (:func:`resolve_spec`)."""
    spec, name = resolve_spec(kb, run_id)
    return ScreeningPolicy.from_dict(spec.screening, f"policy {name}: screening")


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def stop_process(pid: int, grace: float, *, poll: float = 0.005) -> str:
    """SIGTERM, then SIGKILL (its process group too, when it leads one) after ``grace`` s.
    Returns how it ended: ``gone`` (already), ``term`` or ``kill``."""
    if not process_alive(pid):
        return "gone"
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return "gone"
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return "term"
        time.sleep(poll)
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return "term"
    end = time.monotonic() + 5
    while process_alive(pid) and time.monotonic() < end:
        time.sleep(poll)
    return "kill"


class Watchdog:
    """Guards one worker of one run. :meth:`run` returns 0 when the worker ended by itself,
    :data:`EXIT_TRIPPED` after a trip."""

    def __init__(self, kb: Any, run_id: str, pid: int, run_dir: Path, spec: PolicySpec, *,
                 policy_name: str = "default", poll: float = 0.02, batch: int = 1000,
                 notifiers: list[Notifier] | None = None) -> None:
        self.kb, self.run_id, self.pid, self.run_dir = kb, run_id, pid, run_dir
        self.notifiers = list(notifiers or [])
        """The run's own notifiers (its runtime spec), besides the policy file's."""
        self.spec, self.policy_name, self.poll, self.batch = spec, policy_name, poll, batch
        self.fold = BreakerFold(spec)
        self.policies = build_policies(spec)
        self.heartbeat = heartbeat_path(run_dir)
        self._lock: Any = None
        from mapek.breaker.integrity import IntegrityWatch

        self.integrity = IntegrityWatch(kb.log, run_id)
        """Re-verifies the run's log on the clock (the ``integrity`` policy)."""

    def acquire(self) -> None:
        """Take the run's watchdog lock, or raise :class:`WatchdogBusy`."""
        from mapek.knowledge._filelock import FileLock

        lock = FileLock(lock_path(self.run_dir))
        if not lock.acquire(timeout=0):
            try:
                holder = lock_path(self.run_dir).read_text().strip()
            except OSError:
                holder = ""
            raise WatchdogBusy(self.run_id, holder)
        self._lock = lock

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def beat(self) -> None:
        try:
            os.utime(self.heartbeat)
        except FileNotFoundError:
            from mapek.private import write_private

            write_private(self.heartbeat, str(os.getpid()))

    def run(self) -> int:
        if self._lock is None:
            self.acquire()
        try:
            return self._loop()
        finally:
            self.release()

    def _loop(self) -> int:
        log, cursor = self.kb.log, 0
        head = log.last_seq(self.run_id)  # history up to here is folded, not judged event by event
        last_tick = 0.0
        while True:
            rows, scanned = log.scan(cursor, run_id=self.run_id, limit=self.batch)
            for _, ev in rows:
                self.fold.apply(ev)
                if ev.seq > head:
                    breach = first_breach(self.policies, self.fold, ev, time.time())
                    if breach is not None:
                        return self.trip(breach)
            cursor = max(cursor, scanned)
            if len(rows) >= self.batch:
                continue
            self.beat()
            now = time.time()
            if now - last_tick >= self.spec.tick:
                last_tick = now
                breach = first_breach(self.policies, self.fold, None, now)
                if breach is None and self._integrity_on():
                    breach = self.integrity.check()
                if breach is not None:
                    return self.trip(breach)
                if not process_alive(self.pid):
                    return self._last_look()
            time.sleep(self.poll)

    def _last_look(self) -> int:
        """The worker is gone: one complete verification of the run before the watchdog goes
        too. An edit in the run's last second (a worker ends a short run within one quick
        look's interval) is otherwise seen only by a later ``mapek kb verify``; here it trips
        the ``integrity`` policy, with its post-mortem and alerts, as an edit mid-run does."""
        breach = self.integrity.final() if self._integrity_on() else None
        return 0 if breach is None else self.trip(breach)

    def trip(self, breach: Breach) -> int:
        """The trip protocol; returns :data:`EXIT_TRIPPED`. A log that refuses the record does
        not keep the worker running: the stop happens whatever the writes do."""
        t0 = time.monotonic()
        if breach.policy == "integrity":  # name the first rewritten event, not the next one
            breach = self.integrity.explain(breach)
        parent = max((s for s in breach.seqs if 0 < s <= self.fold.last_seq), default=None)
        payload = {**breach.model_dump(), "policy_source": self.policy_name, "circuit": "open",
                   "pid": self.pid, "text": f"breaker tripped: {breach.reason}"}
        ev = self._record("breaker.tripped", payload, parent)
        how = stop_process(self.pid, self.spec.grace)
        seq = ev.seq if ev is not None else None
        self._record("breaker.stopped", {"pid": self.pid, "how": how, "grace": self.spec.grace,
                                         "elapsed_ms": round((time.monotonic() - t0) * 1000, 1),
                                         "resume": f"mapek resume {self.run_id}"}, seq)
        notifiers = notifiers_from(self.spec.notify) + self.notifiers
        if notifiers:
            trip = {**payload, "run_id": self.run_id, "seq": seq, "stopped": how}
            for out in notify_all(notifiers, trip):
                self._record("breaker.notified", {"notifier": out.notifier, "ok": out.ok,
                                                  "detail": out.detail,
                                                  "elapsed_ms": out.elapsed_ms}, seq)
        return EXIT_TRIPPED

    def _integrity_on(self) -> bool:
        return self.spec.integrity and "integrity" not in self.fold.disabled

    def _record(self, kind: str, payload: dict[str, Any], parent: int | None) -> Any:
        try:
            return self.kb.record(self.run_id, kind, "watchdog", payload, parent=parent)
        except Exception as exc:  # noqa: BLE001 - the stop must not depend on the log
            print(f"mapek watchdog: cannot record {kind}: {exc}; {payload.get('text', '')}",
                  file=sys.stderr)
            return None


def main(argv: list[str] | None = None) -> int:
    """``python -m mapek.breaker.watchdog RUN --pid P [--home H] [--policy P] [--poll S]``:
    guard one worker; 0 when it ended (or this watchdog was terminated), 7 when it tripped."""
    import typer

    from mapek._entry import run_program

    def watchdog(
        run_id: str = typer.Argument(..., metavar="RUN", help="The run."),
        pid: int = typer.Option(..., "--pid", help="The worker's process id."),
        home: str | None = typer.Option(None, "--home",
                                        help="The workspace (default MAPEK_HOME)."),
        policy: str | None = typer.Option(None, "--policy", help="Preset name or YAML file."),
        poll: float = typer.Option(0.02, "--poll", help="Seconds between log reads."),
    ) -> int:
        """A separate OS process per worker that reads the log and can stop the worker."""
        return _guard(run_id, pid, home, policy, poll)

    return run_program(watchdog, argv, prog="mapek-watchdog")


def _guard(run_id: str, pid: int, home: str | None, policy: str | None, poll: float) -> int:
    from mapek.config import Settings
    from mapek.knowledge.base import open_log
    from mapek.knowledge.log import EventLog

    # Terminating the watchdog is a human's (or a front end's) choice: leave quietly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        settings = Settings(home=Path(home)) if home else Settings()
        ws = settings.workspace(create=False)
        log: EventLog = open_log(settings.log_url, ws, create=False)
        kb = _LogOnly(log)
        try:
            spec, name = resolve_spec(kb, run_id, policy)
            dog = Watchdog(kb, run_id, pid, ws.run_dir(run_id), spec,
                           policy_name=name, poll=poll,
                           notifiers=load_notifiers(_run_notifiers(kb, run_id)))
            dog.acquire()
            code = dog.run()
        finally:
            log.close()
        if code == EXIT_TRIPPED:  # the worker is stopped: the run's trace, if so configured
            from mapek.otel import export_if_configured

            export_if_configured(settings, run_id, who="watchdog")
        return code
    except MapekError as exc:
        print(f"mapek watchdog: error: {exc}", file=sys.stderr)
        return exc.exit_code


def _run_notifiers(kb: Any, run_id: str) -> list[str]:
    """The notifiers' import strings of the run's runtime spec."""
    started = kb.events(run_id, kinds=["run.started"], limit=1)
    runtime = (started[0].payload.get("runtime") or {}) if started else {}
    return list(runtime.get("notifiers") or [])


class _LogOnly:
    """What the watchdog needs of a knowledge base, on the log alone (no vector index)."""

    def __init__(self, log: Any) -> None:
        self.log = log

    def events(self, run_id: str, after: int = 0, kinds: Any = None, limit: int | None = None
               ) -> list[Any]:
        return list(self.log.events(run_id, after, kinds, limit))

    def record(self, run_id: str, kind: str, actor: str, payload: dict[str, Any],
               parent: int | None = None) -> Any:
        from mapek.models import EventDraft

        return self.log.append(EventDraft(run_id=run_id, kind=kind, actor=actor,
                                          payload=payload, parent=parent))


if __name__ == "__main__":
    sys.exit(main())
