"""The app's human channel: it answers nothing itself.

``Session.run``/``resume`` put escalations and approvals to their channel; in the app the human
answers them in dialogs that write straight into the log, where the worker reads them. This
channel returns no replies, so the session writes nothing on the human's behalf (a
non-interactive channel would defer every question; a terminal channel would prompt on the
screen the app draws)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mapek.loop.human import Approvals, HumanChannel, Reply

__all__ = ["LogChannel"]


class LogChannel(HumanChannel):
    mode = "interactive"

    def ask(self, questions: Sequence[dict[str, Any]]) -> Reply:
        return {}

    def approve(self, requests: Sequence[dict[str, Any]]) -> Approvals:
        return {}
