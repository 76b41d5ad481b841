"""Messages the session follower (a background thread) posts to the app."""

from __future__ import annotations

from textual.message import Message

from mapek.models import Event
from mapek.partial import Partial

__all__ = ["EventsArrived", "RunStatusChanged", "PartialsChanged"]


class EventsArrived(Message):
    """New events committed to the run's log, in order (one batch per poll)."""

    def __init__(self, events: list[Event], read_at: float) -> None:
        super().__init__()
        self.events = events
        self.read_at = read_at
        """``time.time()`` when the follower read them (for the latency figure)."""


class RunStatusChanged(Message):
    """The run's status as :meth:`Session.result` tells it (running, died, tripped, ...)."""

    def __init__(self, status: str, reason: str, live: bool) -> None:
        super().__init__()
        self.status, self.reason, self.live = status, reason, live


class PartialsChanged(Message):
    """The turns being spoken changed (:func:`mapek.partial.read_partials`: what each persona
    has said so far, by a live worker)."""

    def __init__(self, partials: list[Partial]) -> None:
        super().__init__()
        self.partials = partials
