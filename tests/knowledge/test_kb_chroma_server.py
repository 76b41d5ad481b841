"""The vector index on a real Chroma server (``MAPEK_CHROMA_URL``), started on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mapek.config import Settings
from mapek.errors import ConfigError, VectorIndexError
from mapek.knowledge import KnowledgeBase

CHROMA = shutil.which("chroma") or str(Path(__import__("sys").executable).with_name("chroma"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMA).exists():
        pytest.skip("the chroma command is not installed")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([CHROMA, "run", "--path", str(data), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("the chroma server did not start")
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_record_and_search_through_a_server(chroma_url: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "ws", chroma_url=chroma_url)
    with KnowledgeBase.open(settings) as kb:
        kb.record("r", "finding", "security", {"text": "the admin panel has no rate limit"})
        kb.record("r", "answer", "engineer", {"text": "we will add a rate limit this week"})
        hits = kb.search("rate limit", n=5, persona="security")
        assert [h.event_id for h in hits] == ["r#1"]
        assert kb.reindex() == 2
    assert not (tmp_path / "ws" / "chroma").exists()  # nothing embedded was created
    with KnowledgeBase.open(settings) as kb:  # a second client sees the same index
        with kb.projector.using_index() as index:
            assert index.position() == 2
        assert len(kb.search("rate limit", n=5)) == 2


def test_bad_or_unreachable_server(tmp_path: Path) -> None:
    for bad in ("localhost:8000", "ftp://host:1", "http://host:port"):
        with pytest.raises(ConfigError, match="MAPEK_CHROMA_URL"):
            KnowledgeBase.open(Settings(home=tmp_path, chroma_url=bad))
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    kb = KnowledgeBase.open(Settings(home=tmp_path, chroma_url=url))
    kb.record("r", "message", "cfo", {"text": "the log still takes this"})
    with pytest.raises(VectorIndexError, match="cannot open the vector index"):
        kb.search("x")
    assert kb.log.last_seq("r") == 1
    with pytest.raises(VectorIndexError):  # close still reports what it could not index
        kb.close()
    with KnowledgeBase.open(tmp_path, create=False) as kb:  # ... and the log kept it
        assert kb.events("r")[0].text == "the log still takes this"
