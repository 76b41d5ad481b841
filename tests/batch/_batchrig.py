"""Helpers for the batch tests: the real ``mapek`` command, the log, and a real headless
browser (Debian's chromium) for the HTML report."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mapek.knowledge import KnowledgeBase
from mapek.testing.processes import interruptible


def mapek(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapek.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"})


def start_mapek(*args: str, out: Path) -> subprocess.Popen[bytes]:
    """``mapek ...`` in the background, its output into ``out`` (a file: a pipe nobody reads
    would fill up and stall it)."""
    f = open(out, "wb")  # noqa: SIM115 - handed to the child, closed below
    try:
        with interruptible():  # a test sends it Ctrl-C: SIGINT at its default, as a terminal
            return subprocess.Popen([sys.executable, "-m", "mapek.cli", *args], stdout=f,
                                    stderr=subprocess.STDOUT,
                                    env={**os.environ, "COLUMNS": "200"})
    finally:
        f.close()


def wait_for(cond: Callable[[], Any], timeout: float = 600, what: str = "") -> Any:
    end = time.time() + timeout
    while True:
        got = cond()
        if got:
            return got
        assert time.time() < end, f"timed out waiting for {what}"
        time.sleep(0.2)


def batch_events(home: Path, batch_id: str) -> list[Any]:
    with KnowledgeBase.open(home, index_on_record=False) as kb:
        return kb.events(batch_id)


def run_events(home: Path, run_id: str) -> list[Any]:
    with KnowledgeBase.open(home, index_on_record=False) as kb:
        return kb.events(run_id)


def batch_ids(home: Path) -> list[str]:
    if not (home / "log.sqlite3").exists():
        return []
    with KnowledgeBase.open(home, index_on_record=False, create=False) as kb:
        return [r.run_id for r in kb.runs() if r.run_id.startswith("batch-")
                and "." not in r.run_id]


def assert_nothing_twice(home: Path, run_id: str) -> list[Any]:
    """No idempotency key twice, and no persona turn twice in a round."""
    evs = run_events(home, run_id)
    keys = [e.key for e in evs if e.key]
    assert len(keys) == len(set(keys)), [k for k, n in Counter(keys).items() if n > 1]
    turns = Counter((e.payload.get("round"), e.actor) for e in evs if e.kind == "message")
    assert not turns or max(turns.values()) == 1, turns
    return evs


# -- the browser ----------------------------------------------------------------------------------


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def render(html: Path, tmp: Path) -> tuple[Path, str, str]:
    """Open a file in headless chromium: a screenshot, the DOM as rendered, and the browser's
    log (console messages appear there as ``CONSOLE``)."""
    exe = chromium()
    assert exe is not None
    base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--enable-logging=stderr", "--v=0"]
    png = tmp / "report.png"
    shot = subprocess.run([*base, f"--user-data-dir={tmp / 'profile1'}", f"--screenshot={png}",
                           "--window-size=1200,2000", html.resolve().as_uri()],
                          capture_output=True, text=True, timeout=180)
    dom = subprocess.run([*base, f"--user-data-dir={tmp / 'profile2'}", "--dump-dom",
                          html.resolve().as_uri()], capture_output=True, text=True, timeout=180)
    assert png.is_file(), shot.stderr[-2000:]
    return png, dom.stdout, shot.stderr + dom.stderr


def console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines()
            if ":CONSOLE" in line or "Uncaught" in line or "ERR_" in line]


def png_colours(path: Path, rows: int = 500) -> tuple[int, float]:
    """The number of distinct colours in the first ``rows`` rows of a PNG, and the share of
    pixels that are not the most common (background) colour. Decodes 8-bit RGB(A)
    non-interlaced PNGs with the standard library only."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    bpp = 4
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, _h, depth, ctype, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and ctype in (2, 6)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompressobj().decompress(idat, (width * bpp + 1) * rows)
    stride = width * bpp
    prev = bytearray(stride)
    pixels: Counter[bytes] = Counter()
    for r in range(min(rows, len(raw) // (stride + 1))):
        f = raw[r * (stride + 1)]
        line = bytearray(raw[r * (stride + 1) + 1:(r + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) \
                    & 0xFF
        prev = line
        for i in range(0, stride, bpp * 4):  # every fourth pixel is plenty
            pixels[bytes(line[i:i + 3])] += 1
    total = sum(pixels.values())
    background = pixels.most_common(1)[0][1] if pixels else 0
    return len(pixels), (total - background) / total if total else 0.0
