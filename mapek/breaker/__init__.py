"""Circuit breakers: a watchdog in its own process, policies, the trip protocol, post-mortems.

::

    policies.py    PolicySpec (knowledge/policies/*.yaml), BreakerFold (O(1) per event), policies
    watchdog.py    the watchdog process: follow the log, evaluate, trip (stop, record, alert)
    notifiers.py   webhook, command and SMTP notifiers, each in a thread with a timeout
    guard.py       the worker's side: graceful SIGTERM, the dead man's switch
    integrity.py   the watchdog's re-verification of its run against the chain and the anchors
    orphans.py     keeping a watchdog alive; a run paused with none, and taking it over
    review.py      overrides after a review (raise a limit, disable, force open)
    postmortem.py  the report built from the log alone (Markdown and HTML)

Importing this package is cheap: its modules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mapek._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "Breach": "mapek.breaker.policies",
    "PolicySpec": "mapek.breaker.policies",
    "BreakerFold": "mapek.breaker.policies",
    "Policy": "mapek.breaker.policies",
    "load_policy": "mapek.breaker.policies",
    "build_policies": "mapek.breaker.policies",
    "Watchdog": "mapek.breaker.watchdog",
    "WatchdogBusy": "mapek.breaker.watchdog",
    "EXIT_TRIPPED": "mapek.breaker.watchdog",
    "Notifier": "mapek.breaker.notifiers",
    "WebhookNotifier": "mapek.breaker.notifiers",
    "CommandNotifier": "mapek.breaker.notifiers",
    "EmailNotifier": "mapek.breaker.notifiers",
    "WorkerGuard": "mapek.breaker.guard",
    "WorkerStopped": "mapek.breaker.guard",
    "record_override": "mapek.breaker.review",
    "Report": "mapek.breaker.postmortem",
    "build_report": "mapek.breaker.postmortem",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from mapek.breaker.guard import WorkerGuard, WorkerStopped
    from mapek.breaker.notifiers import CommandNotifier, EmailNotifier, Notifier, WebhookNotifier
    from mapek.breaker.policies import (
        Breach,
        BreakerFold,
        Policy,
        PolicySpec,
        build_policies,
        load_policy,
    )
    from mapek.breaker.postmortem import Report, build_report
    from mapek.breaker.review import record_override
    from mapek.breaker.watchdog import EXIT_TRIPPED, Watchdog, WatchdogBusy

__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
