"""Real runs for the typed payloads, the fold and the renderer: sessions run in this process
on the offline model and on a priced model double, in a temporary workspace (real SQLite log).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mapek.api import Session
from mapek.knowledge import KnowledgeBase
from mapek.loop.worker import run_session
from mapek.models import Event
from mapek.testing.discussion import discussion_model

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"
PEOPLE = ["cfo", "engineer", "skeptic", "legal"]
PRICE = 2e-6
"""USD per token of the priced double."""


@dataclass
class Runs:
    home: Path
    offline: str
    """Four personas on the offline model, queue mode, 10 turns: a consequential question and
    a call wait for the human at the end."""
    offline_status: str
    priced: str
    """Three personas on a priced double: paused after two rounds, then resumed to its end
    (two workers)."""
    priced_statuses: tuple[str, str]

    def kb(self) -> KnowledgeBase:
        return KnowledgeBase.open(self.home, index_on_record=False)

    def events(self, run_id: str) -> list[Event]:
        with self.kb() as kb:
            return kb.events(run_id)


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    home = tmp_path_factory.mktemp("events") / "ws"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MAPEK_HOME", str(home))
        mp.delenv("MAPEK_PERSONAS", raising=False)
        mp.delenv("MAPEK_MODEL", raising=False)
        s = Session.create(TOPIC, PEOPLE, human="queue", max_turns=10)
        offline_status = run_session(s.run_id)
        offline = s.run_id
        s.close()
        s = Session.create(TOPIC, PEOPLE[:3], human="queue", max_turns=6)
        model = discussion_model(name="test/priced", cost_per_token=PRICE)
        first = run_session(s.run_id, model=model, rounds=2)
        second = run_session(s.run_id, model=model)
        priced = s.run_id
        s.close()
        yield Runs(home, offline, offline_status, priced, (first, second))
