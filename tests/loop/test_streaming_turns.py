"""Turns streamed to front ends through the run's ``partial/`` folder: a real worker process
on the offline model (slowed with ``MAPEK_OFFLINE_STREAM_DELAY``) writes what a persona has
said so far while it speaks, and removes it once the turn's message is committed; the log
holds only whole turns."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mapek.api import Session
from mapek.llm.offline import STREAM_DELAY_ENV
from mapek.partial import PartialWriter, clear_partials, partial_path, read_partials

TOPIC = "Should we migrate our customer database to a managed cloud service this quarter?"


def test_the_worker_streams_a_turn_in_progress_and_clears_it_when_committed(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STREAM_DELAY_ENV, "0.03")
    s = Session.create(TOPIC, ["cfo", "engineer"], human="queue", max_turns=4)
    run_dir = home / "runs" / s.run_id
    s.start(rounds=1)
    seen: dict[str, list[str]] = {}  # key -> texts read, in order
    keys_pid = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for p in read_partials(run_dir):
            texts = seen.setdefault(p.key, [])
            if not texts or texts[-1] != p.text:
                texts.append(p.text)
            keys_pid.add((p.key, p.pid))
        messages = s.kb.events(s.run_id, kinds=["message"])
        if len(messages) >= 2:
            break
        time.sleep(0.01)
    messages = {e.key: e for e in s.kb.events(s.run_id, kinds=["message"])}
    assert len(messages) >= 2, "the first round's two turns"
    assert set(seen) <= set(messages) and len(seen) >= 2  # each turn was seen in progress
    for key, texts in seen.items():
        final = messages[key].payload["text"]
        assert len(texts) >= 2, texts  # it grew while we watched
        assert all(final.startswith(t) for t in texts)  # always the start of the real turn
        assert all(len(a) < len(b) for a, b in zip(texts, texts[1:], strict=False))
    assert {pid for _, pid in keys_pid} != {os.getpid()}  # written by the worker process
    for _ in range(100):  # committed: the turns in progress are gone
        if not read_partials(run_dir):
            break
        time.sleep(0.02)
    assert read_partials(run_dir) == []
    assert not any(e.kind.startswith("partial") for e in s.history())  # nothing in the log
    s.stop("the test has seen its round")
    s.close()


def test_a_dead_workers_partial_is_never_shown_and_a_new_worker_clears_it(
        tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    alive = PartialWriter(run_dir, "cfo", "turn:1:cfo")
    alive.update("We should")
    assert [(p.persona, p.text, p.pid) for p in read_partials(run_dir)] == [
        ("cfo", "We should", os.getpid())]
    dead = partial_path(run_dir, "legal")
    dead.write_text('{"persona": "legal", "key": "turn:1:legal", "text": "half a", '
                    '"pid": 999999999, "updated": 0}')
    (run_dir / "partial" / "broken.json").write_text('{"persona": "x", "te')
    assert [p.persona for p in read_partials(run_dir)] == ["cfo"]  # not the dead, not broken
    alive.update("")  # the text starts over (a retry): nothing in progress until it resumes
    assert read_partials(run_dir) == []
    alive.update("Again")
    alive.update("Again, and more")  # within the interval: held back, then flushed
    assert read_partials(run_dir)[0].text == "Again"
    alive.update("Again, and more")  # the same again: the field is complete, written now
    assert read_partials(run_dir)[0].text == "Again, and more"
    assert clear_partials(run_dir) == 3 and read_partials(run_dir) == []


def test_a_throttled_partial_holds_the_whole_text_once_the_field_is_complete(
        tmp_path: Path) -> None:
    from mapek.llm import Delta, FieldStream

    writer = PartialWriter(tmp_path, "cfo", "turn:1:cfo", every=60.0)  # one write a minute
    sink = FieldStream(writer.update)
    doc = '{"text": "We should price the egress first.", "stance": "conditional", "claims": []}'
    for i in range(0, len(doc), 5):
        sink(Delta(doc[i:i + 5]))
        if i == 20:  # "We should price" so far: the first piece of text was written at once,
            assert read_partials(tmp_path)[0].text == "We sh"  # the rest held back
    [p] = read_partials(tmp_path)
    assert p.text == "We should price the egress first." and writer.writes == 2
