"""What the judgement benchmarks share: the machine line of a report, and rewriting the figures
block (between ``<!-- figures:start -->`` and ``<!-- figures:end -->``) of a RESULTS file."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from pathlib import Path

START, END = "<!-- figures:start -->", "<!-- figures:end -->"


def machine() -> str:
    """The machine, as Markdown list lines: kernel and architecture, CPUs, Python."""
    uname = " ".join(platform.uname())
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        uname = subprocess.run(["uname", "-a"], capture_output=True, text=True,
                               check=True).stdout.strip()
    return (f"- machine: `{uname}`\n- CPUs: {os.cpu_count()}\n"
            f"- python: {platform.python_implementation()} {platform.python_version()}")


def write_figures(results: Path, report: str, title: str) -> None:
    """Put ``report`` in the figures block of ``results`` (a new file gets ``# title``); the
    text around the block is kept as it is."""
    text = results.read_text(encoding="utf-8") if results.exists() else ""
    block = f"{START}\n{report}{END}"
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = f"# {title}\n\n{block}\n"
    results.write_text(text, encoding="utf-8")
