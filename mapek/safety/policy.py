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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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
