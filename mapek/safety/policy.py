"""What a failed check does: a setting of the check, separate from the detection.

Screening happens at four named points (:data:`CHECK_POINTS`): ``plan`` (the whole plan, before
its first step), ``call`` (each tool call, before it runs), ``output`` (each tool output, before
an agent reads it) and ``human`` (anything shown to the person). Each check reports a
:data:`~mapek.safety.screening.Decision`; its :class:`CheckSetting` says what that means:

==========  =======================================================================
action      meaning
==========  =======================================================================
``block``   refuse: the step does not run / the text is not delivered
``reask``   refuse, and tell the agent why so it can propose something safer
            (at most ``reask_limit`` times per agent and run, then ``block``)
``escalate``  ask a human (an approval request, per call, with the exact arguments)
``log``     let it through, recorded (with the check's ``transform`` applied)
==========  =======================================================================

Defaults: plan and call: deny -> block, needs approval -> escalate; output: a finding ->
quarantine and log; human: a finding -> redact and log.

A session sets them in its policy file (the breaker's, ``knowledge/policies/*.yaml``), under
``screening``; what is not given keeps its default (the breaker resolves a run's policy file:
:func:`mapek.breaker.watchdog.screening_policy`)::

    screening:
      plan: {on_deny: reask, reask_limit: 1}
      human: {on_deny: block}
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, get_args

from mapek.errors import ConfigError

__all__ = ["Action", "CheckPoint", "CHECK_POINTS", "Transform", "CheckSetting",
           "ScreeningPolicy"]

Action = Literal["block", "reask", "escalate", "log"]
"""What a failed check does; see the module docstring."""

CheckPoint = Literal["plan", "call", "output", "human"]
CHECK_POINTS: tuple[CheckPoint, ...] = ("plan", "call", "output", "human")

Transform = Literal["none", "quarantine", "redact"]
"""What happens to flagged text that is let through: ``quarantine`` wraps it as data (not
instructions) with the reasons; ``redact`` masks the offending spans."""


@dataclass(frozen=True)
class CheckSetting:
    """One check's response to a failed check."""

    on_deny: Action = "block"
    """What a ``deny`` verdict does."""
    on_needs_approval: Action = "escalate"
    """What a ``needs_approval`` verdict does."""
    transform: Transform = "none"
    """Applied to flagged text that is let through (``log``)."""
    reask_limit: int = 2
    """Re-asks per agent and run before ``reask`` turns into ``block``."""

    def action(self, decision: str) -> Action | None:
        """The action for a verdict; ``None`` for ``allow``."""
        if decision == "deny":
            return self.on_deny
        if decision == "needs_approval":
            return self.on_needs_approval
        return None


@dataclass(frozen=True)
class ScreeningPolicy:
    """The settings of the four checks."""

    plan: CheckSetting = field(default_factory=CheckSetting)
    """Before a plan runs: the whole plan."""
    call: CheckSetting = field(default_factory=CheckSetting)
    """Before each tool call."""
    output: CheckSetting = field(default_factory=lambda: CheckSetting(
        on_deny="log", on_needs_approval="log", transform="quarantine"))
    """After each tool output: instructions hidden in data."""
    human: CheckSetting = field(default_factory=lambda: CheckSetting(
        on_deny="log", on_needs_approval="log", transform="redact"))
    """Before anything reaches the human: secrets, injected instructions."""

    def __getitem__(self, point: CheckPoint) -> CheckSetting:
        if point not in CHECK_POINTS:
            raise KeyError(point)
        setting: CheckSetting = getattr(self, point)
        return setting

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, source: str = "screening") -> ScreeningPolicy:
        """Settings laid over the defaults, from a policy file's ``screening`` table. An unknown
        check or field, or a value out of range, raises :class:`ConfigError` naming it."""
        policy = cls()
        if not data:
            return policy
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: must be a table of checks ({', '.join(CHECK_POINTS)})")
        changed: dict[str, CheckSetting] = {}
        names = {f.name for f in fields(CheckSetting)}
        allowed = {"on_deny": get_args(Action), "on_needs_approval": get_args(Action),
                   "transform": get_args(Transform)}
        for point, over in data.items():
            if point not in CHECK_POINTS:
                raise ConfigError(f"{source}.{point}: unknown check (checks: "
                                  f"{', '.join(CHECK_POINTS)})")
            if not isinstance(over, dict):
                raise ConfigError(f"{source}.{point}: must be a table of settings")
            for k, v in over.items():
                where = f"{source}.{point}.{k}"
                if k not in names:
                    raise ConfigError(f"{where}: unknown key (keys: {', '.join(sorted(names))})")
                if k in allowed and v not in allowed[k]:
                    raise ConfigError(f"{where}: {v!r} is not one of {', '.join(allowed[k])}")
                if k == "reask_limit" and (type(v) is not int or v < 0):
                    raise ConfigError(f"{where}: must be a whole number, 0 or more")
            changed[point] = replace(policy[point], **over)
        return replace(policy, **changed)

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {p: {f.name: getattr(self[p], f.name) for f in fields(CheckSetting)}
                for p in CHECK_POINTS}

