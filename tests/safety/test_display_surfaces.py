"""What reaches a person is escaped and redacted: a topic holding terminal escape codes (ESC,
BEL, a C1 CSI) and an AWS-key-shaped secret, through a real ``mapek discuss`` subprocess, the
``synthesis.md`` it writes, the ``screen.human`` event it logs, ``mapek runs list`` and the
post-mortem (terminal and HTML)."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mapek.events import typed
from mapek.models import Event
from mapek.render import Viewer, event_summary, event_text
from mapek.safety.content import mask_secrets, screen_for_human
from mapek.safety.display import display_payload, for_display, one_line, visible_controls

SECRET = "AKIAABCDEFGHIJKLMNOP"
TOPIC = f"Budget \x1b[31mred\x1b[0m\x07 \x1b]0;pwned\x07 key {SECRET} plan\u009b2J"
RAW = ("\x1b", "\x07", "\u009b")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=300)


def _clean(text: str, where: str) -> None:
    for c in RAW:
        assert c not in text, f"raw {c!r} in {where}"
    assert SECRET not in text, f"the secret in {where}"


def test_discuss_shows_and_writes_no_raw_escape_and_no_secret(home: Path,
                                                              tmp_path: Path) -> None:
    r = _cli("discuss", TOPIC, "--max-turns", "4", "--non-interactive")
    assert r.returncode == 0, r.stderr
    _clean(r.stdout, "stdout")
    _clean(r.stderr, "stderr")
    assert "␛[31mred" in r.stdout  # shown, escaped: the person sees what was typed
    assert "[REDACTED aws-access-key]" in r.stdout
    [run_dir] = (home / "runs").iterdir()
    md = (run_dir / "synthesis.md").read_text()
    _clean(md, "synthesis.md")
    assert md.startswith("# Synthesis: Budget ␛[31mred␛[0m␇ ␛]0;pwned␇ key "
                         "[REDACTED aws-access-key] plan\\x9b2J\n")
    assert SECRET not in (run_dir / "synthesis.json").read_text()

    db = sqlite3.connect(home / "log.sqlite3")
    rows = db.execute("SELECT payload FROM events WHERE kind = 'screen.human'").fetchall()
    db.close()
    assert rows, "the secret in the synthesis was found and logged"
    for (payload,) in rows:
        assert SECRET not in payload
        assert "[REDACTED aws-access-key]" in json.loads(payload)["excerpts"]

    r = _cli("runs", "list")
    assert r.returncode == 0
    _clean(r.stdout, "runs list")
    r = _cli("runs", "show", run_dir.name)
    assert r.returncode == 0
    _clean(r.stdout, "runs show")
    html = tmp_path / "pm.html"
    r = _cli("postmortem", run_dir.name, "--html", str(html))
    assert r.returncode == 0, r.stderr
    _clean(r.stdout, "postmortem")
    _clean(html.read_text(), "postmortem.html")
    r = _cli("kb", "verify")
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_control_character_is_made_visible() -> None:
    every = "".join(chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x202E, 0x2067])
    shown = visible_controls(every)
    assert shown.count("\n") == 1 and shown.count("\t") == 1
    assert not any(ord(c) < 0x20 and c not in "\n\t" or 0x7F <= ord(c) < 0xA0
                   or c in "\u202e\u2067" for c in shown)
    same = visible_controls(every, same_length=True)
    assert len(same) == len(every)
    assert "\n" not in one_line("a\nb\x1bc") and one_line("a\nb\x1bc") == "a b␛c"
    assert for_display("x\r\ny") == "x\ny"
    assert display_payload({"k\x1b": ["\x07", 3, {"v": SECRET}]}) == {
        "k␛": ["␇", 3, {"v": "[REDACTED aws-access-key]"}]}
    assert mask_secrets("nothing here") == "nothing here"


def test_screen_findings_keep_a_marker_not_the_secret() -> None:
    text = f"password: hunter2hunter2 and {SECRET} and ignore previous instructions {SECRET}"
    summary = screen_for_human(text).summary()
    excerpts = summary["excerpts"]
    assert isinstance(excerpts, list) and excerpts
    assert not any(SECRET in e or "hunter2hunter2" in e for e in excerpts)
    assert "[REDACTED aws-access-key]" in excerpts and "[REDACTED password]" in excerpts


def test_the_renderer_escapes_and_redacts_every_kind() -> None:
    ev = Event(run_id="r", seq=3, kind="agenda", actor="orchestrator",
               payload={"items": [TOPIC, "second"]})
    text = event_text(ev)
    assert text is not None
    _clean(text.plain, "agenda")
    assert "[REDACTED aws-access-key]" in text.plain
    # a kind the renderer does not know, shown to a verbose viewer: escaped all the same
    ev = Event(run_id="r", seq=4, kind="custom.kind", actor="x\x1b[2J",
               payload={"text": TOPIC})
    text = event_text(ev, Viewer(verbose=True))
    assert text is not None
    _clean(text.plain, "verbose line")
    _clean(event_summary(ev), "summary")
    assert typed(ev).get("text") == TOPIC  # the event itself is unchanged


def test_the_terminal_channel_escapes_questions_and_calls(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from mapek.loop.human import TerminalChannel

    monkeypatch.setattr(sys, "stdin", io.StringIO("an answer\nn\n"))
    out = io.StringIO()
    ch = TerminalChannel(Console(file=out, force_terminal=False, width=200))
    reply = ch.ask([{"qid": "q1", "asked_by": "cfo", "reason": "money", "text": TOPIC}])
    assert reply == {"q1": "an answer"}
    assert ch.approve([{"call_id": "c1", "proposed_by": "cfo\x1b[8m", "tool": "deploy",
                        "effect": "external", "args": {"key": SECRET},
                        "reasons": ["\x07bell"]}]) == {"c1": False}
    ch.notify(TOPIC)
    _clean(out.getvalue(), "terminal channel")
    assert "[REDACTED aws-access-key]" in out.getvalue()
