"""Every fenced Python block in README.md runs.

A block is fenced with ```python (or ``py``, ``python3``, ``pycon``; ``~~~`` fences too). Each
runs on its own, in a fresh interpreter (this one, ``sys.executable``) whose working folder and
``MAPEK_HOME`` are a temporary folder, with no ``MAPEK_MODEL`` (so the offline model) and stdin
closed (an interactive prompt reads end-of-file). A block must therefore be self-contained.
``>>>`` blocks run as the statements they show. A block whose info string says ``skip``
(```` ```python skip ````) is shown, not run; once the README has Python blocks, at least one
must run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK_TIMEOUT = 300
"""Seconds per block; a session's worker imports litellm, which is slow on a loaded machine."""

_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")
_PYTHON = {"python", "py", "python3", "pycon"}


@dataclass(frozen=True)
class Block:
    line: int
    """Line of the opening fence in README.md (1-based)."""
    info: str
    code: str

    @property
    def skip(self) -> bool:
        return "skip" in self.info.split()[1:]


def python_blocks(text: str) -> list[Block]:
    """The fenced Python blocks of a Markdown text, in order."""
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        i += 1
        if not m:
            continue
        start, body = i, []
        while i < len(lines) and not _closes(lines[i], m["fence"]):
            body.append(lines[i])
            i += 1
        i += 1  # past the closing fence
        info = m["info"].strip()
        if re.split(r"[\s{,]", info, maxsplit=1)[0].lower() in _PYTHON:
            out.append(Block(start, info, _statements(textwrap.dedent("\n".join(body)))))
    return out


def _closes(line: str, fence: str) -> bool:
    """Whether ``line`` closes a block opened by ``fence`` (same character, at least as long)."""
    mark = line.strip()
    return mark.startswith(fence) and not mark.strip(fence[0])


def _statements(code: str) -> str:
    """The code itself, or for a ``>>>`` session the statements it shows (output dropped)."""
    if not code.lstrip().startswith(">>>"):
        return code
    return "\n".join(line[4:] for line in code.splitlines()
                     if line.startswith((">>> ", "... ")) or line in (">>>", "..."))


TEXT = README.read_text(encoding="utf-8") if README.is_file() else ""
BLOCKS = python_blocks(TEXT)
RUNNABLE = [b for b in BLOCKS if not b.skip]


def test_readme_python_blocks_are_run() -> None:
    """No vacuous pass: a README with Python blocks has at least one that runs."""
    mentions = re.findall(r"^[ \t]*(?:`{3,}|~{3,})[ \t]*(?:python3?|py|pycon)\b", TEXT,
                          flags=re.M | re.I)
    if not mentions:
        pytest.skip("README.md has no ```python blocks yet")
    assert BLOCKS, "README.md mentions ```python but no block was parsed"
    assert RUNNABLE, "README.md has Python blocks but every one is marked skip"


@pytest.mark.timeout(BLOCK_TIMEOUT + 60)
@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: f"README.md:{b.line}")
def test_readme_block(block: Block, tmp_path: Path) -> None:
    script = tmp_path / f"readme_line_{block.line}.py"
    script.write_text(block.code + "\n", encoding="utf-8")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAPEK_MODEL", "MAPEK_PERSONAS", "PYTHONSTARTUP")}
    env["MAPEK_HOME"] = str(tmp_path / "ws")
    proc = subprocess.run([sys.executable, str(script)], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=BLOCK_TIMEOUT)
    assert proc.returncode == 0, (
        f"README.md block at line {block.line} failed (exit {proc.returncode}):\n"
        f"{block.code}\n--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n"
        f"{proc.stderr[-3000:]}")
