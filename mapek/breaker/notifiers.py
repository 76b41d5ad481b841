"""Notifiers: how a human hears about a trip, after the worker has been stopped.

The terminal needs no notifier: every front end reads ``breaker.tripped`` from the log. The
others are a plug-in point with one method. :func:`notify_all` runs each in its own daemon
thread with its own timeout, so a notifier that fails or hangs delays nothing; it returns one
:class:`Outcome` per notifier, which the watchdog records as ``breaker.notified``.
"""

from __future__ import annotations

import json
import os
import smtplib
import subprocess
import threading
import time
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from mapek.breaker.policies import CommandSpec, EmailSpec, NotifySpec, WebhookSpec

__all__ = ["Notifier", "WebhookNotifier", "CommandNotifier", "EmailNotifier", "Outcome",
           "notifiers_from", "notify_all", "load_notifiers"]


@dataclass(frozen=True)
class Outcome:
    notifier: str
    ok: bool
    detail: str
    elapsed_ms: float


class Notifier(ABC):
    """Sends one trip somewhere. ``send`` may raise; it returns a one-line detail."""

    name: str = "notifier"
    timeout: float = 10.0

    @abstractmethod
    def send(self, trip: dict[str, Any]) -> str:
        """Deliver the trip (the ``breaker.tripped`` payload plus ``run_id`` and ``seq``)."""


class WebhookNotifier(Notifier):
    """HTTP POST of the trip as JSON."""

    name = "webhook"

    def __init__(self, spec: WebhookSpec) -> None:
        self.spec, self.timeout = spec, spec.timeout

    def send(self, trip: dict[str, Any]) -> str:
        req = urllib.request.Request(
            self.spec.url, data=json.dumps(trip, default=str).encode(), method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "mapek-watchdog",
                     **self.spec.headers})
        with urllib.request.urlopen(req, timeout=self.spec.timeout) as resp:  # noqa: S310
            return f"HTTP {resp.status}"


class CommandNotifier(Notifier):
    """Runs a command with the trip as JSON on stdin (and ``MAPEK_TRIP_*`` in its environment)."""

    name = "command"

    def __init__(self, spec: CommandSpec) -> None:
        self.spec, self.timeout = spec, spec.timeout

    def send(self, trip: dict[str, Any]) -> str:
        env = {**os.environ, "MAPEK_TRIP_RUN": str(trip.get("run_id", "")),
               "MAPEK_TRIP_POLICY": str(trip.get("policy", "")),
               "MAPEK_TRIP_REASON": str(trip.get("reason", ""))}
        done = subprocess.run(self.spec.argv, input=json.dumps(trip, default=str), text=True,
                              capture_output=True, timeout=self.spec.timeout, env=env,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip()[:200]}")
        return "exit 0"


class EmailNotifier(Notifier):
    """A plain-text email through an SMTP server (stdlib ``smtplib``)."""

    name = "email"

    def __init__(self, spec: EmailSpec) -> None:
        self.spec, self.timeout = spec, spec.timeout

    def send(self, trip: dict[str, Any]) -> str:
        s = self.spec
        msg = EmailMessage()
        msg["From"], msg["To"] = s.sender, ", ".join(s.to)
        msg["Subject"] = f"[mapek] breaker tripped: run {trip.get('run_id')} ({trip.get('policy')})"
        msg.set_content(f"{trip.get('reason')}\n\n"
                        f"resume after review: mapek resume {trip.get('run_id')} "
                        f"--raise NAME=VALUE --reason '...'\n"
                        f"post-mortem: mapek postmortem {trip.get('run_id')}\n\n"
                        + json.dumps(trip, indent=2, default=str))
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
            if s.starttls:
                smtp.starttls()
            if s.username:
                smtp.login(s.username, os.environ.get(s.password_env or "", ""))
            refused = smtp.send_message(msg)
        return f"sent to {len(s.to) - len(refused)} of {len(s.to)}"


def notifiers_from(spec: NotifySpec) -> list[Notifier]:
    out: list[Notifier] = []
    if spec.webhook is not None:
        out.append(WebhookNotifier(spec.webhook))
    if spec.command is not None:
        out.append(CommandNotifier(spec.command))
    if spec.email is not None:
        out.append(EmailNotifier(spec.email))
    return out


def load_notifiers(refs: list[str]) -> list[Notifier]:
    """Notifiers by import string (a run's runtime spec): a :class:`Notifier` object, or a
    function of no arguments returning one."""
    from mapek._imports import import_object
    from mapek.errors import ConfigError

    out: list[Notifier] = []
    for ref in refs:
        obj = import_object(ref, what="notifier")
        if not isinstance(obj, Notifier) and callable(obj):
            obj = obj()
        if not isinstance(obj, Notifier):
            raise ConfigError(f"notifier {ref!r} is not a mapek Notifier (subclass "
                              "mapek.breaker.notifiers.Notifier and implement send)")
        out.append(obj)
    return out


def notify_all(notifiers: list[Notifier], trip: dict[str, Any], *, margin: float = 0.5
               ) -> list[Outcome]:
    """Run every notifier at once, each in a daemon thread; wait for each at most its timeout
    plus ``margin``. A hung notifier is reported as timed out and left behind."""
    results: dict[int, Outcome] = {}
    threads: list[tuple[int, Notifier, threading.Thread, float]] = []

    def run(i: int, n: Notifier, t0: float) -> None:
        try:
            detail, ok = n.send(trip), True
        except Exception as exc:  # noqa: BLE001 - any failure is an outcome to record
            detail, ok = f"{type(exc).__name__}: {exc}"[:300], False
        results[i] = Outcome(n.name, ok, detail, round((time.monotonic() - t0) * 1000, 1))

    for i, n in enumerate(notifiers):
        t0 = time.monotonic()
        th = threading.Thread(target=run, args=(i, n, t0), daemon=True, name=f"notify-{n.name}")
        th.start()
        threads.append((i, n, th, t0))
    for _, n, th, t0 in threads:
        th.join(max(0.0, t0 + n.timeout + margin - time.monotonic()))
    out = []
    for i, n, _, t0 in threads:
        out.append(results.get(i) or Outcome(n.name, False, f"timed out after {n.timeout:g}s",
                                             round((time.monotonic() - t0) * 1000, 1)))
    return out
