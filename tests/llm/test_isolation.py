"""Start-up stays light and the offline path stays off the network (fresh interpreters)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str, timeout: float = 60) -> str:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_importing_mapek_llm_does_not_import_litellm() -> None:
    out = _run(
        """
        import sys
        import mapek, mapek.llm, mapek.llm.offline, mapek.testing
        from mapek.llm import Gateway
        Gateway("mapek/offline")  # building a gateway does not import it either
        heavy = [m for m in ("litellm", "openai", "tenacity") if m in sys.modules]
        print(heavy)
        """
    )
    assert out.strip() == "[]"


def test_offline_path_never_touches_the_network() -> None:
    out = _run(
        """
        import socket

        def refuse(*args, **kwargs):
            raise AssertionError(f"network access: {args!r}")

        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        import asyncio, os
        from typing import Literal
        from pydantic import BaseModel
        from mapek.llm import Gateway

        class Verdict(BaseModel):
            decision: Literal["go", "no-go"]
            reasons: list[str]

        gw = Gateway("mapek/offline", backoff=0.001)
        gw.complete("Should we ship?")
        gw.structured("Should we ship?", Verdict)
        gw.using("mapek/offline-garbage").structured("Should we ship?", Verdict)
        gw.complete("Your turn.", task="persona_turn", context={"topic": "shipping"})

        async def main():
            await gw.acomplete("Should we ship?")
            await gw.astructured("Should we ship?", Verdict)

        asyncio.run(main())

        # the guard works: a real provider does try to connect, and is refused
        from mapek.errors import ModelError
        try:
            Gateway("openai/x", api_base="http://127.0.0.1:9/v1", api_key="k",
                    max_retries=0).complete("hi")
        except ModelError as exc:
            chain, e = [], exc
            while e is not None and len(chain) < 20:
                chain.append(str(e))
                e = e.__cause__ or e.__context__
            assert any("network access" in c for c in chain), chain
        print(os.environ["LITELLM_LOCAL_MODEL_COST_MAP"], "ok")
        """
    )
    assert out.split() == ["True", "ok"]
