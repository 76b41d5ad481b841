"""A stand-in OpenAI-compatible server on 127.0.0.1, for testing the real model path.

::

    with OpenAIStandIn() as server:
        gw = Gateway("openai/stand-in", api_base=server.url, api_key="dummy")
        server.mode = "stall"          # switch behaviour at run time
        ...
        assert server.request_count == 3

It serves ``POST /v1/chat/completions`` (and ``/chat/completions``) from a ``http.server`` in a
daemon thread, on a free port. Modes:

============  ===================================================================================
``ok``        a deterministic answer with usage: an instance of the requested JSON schema
              (``response_format``, else a schema asked for in the prompt, as the gateway
              does) or, with neither, ``echo: <last user message>``
``garbage``   HTTP 200 with a body that is not JSON at all
``invalid``   a well-formed completion whose content is not valid for the schema
``stall``     sleep ``stall_seconds`` before answering (longer than a client's timeout)
``fail``      answer HTTP ``fail_status`` (500 by default) ``fail_times`` times, then as ``ok``
``drop``      send the start of a response, then close the connection
``cut``       a streamed request (``"stream": true``) gets the first ``cut_after`` chunks of
              its answer, then the connection closes (a plain request is answered as ``drop``)
============  ===================================================================================

A request with ``"stream": true`` is answered as the OpenAI protocol streams: server-sent
events (``data: {chunk}`` lines, ``data: [DONE]`` at the end), the content in pieces of
``stream_piece`` characters with ``stream_delay`` seconds before each, then a chunk with the
finish reason and, when ``stream_options.include_usage`` asks for it, one with the usage.

``responder`` scripts the replies: a callable ``(request body) -> str | None`` whose string is
the ``ok`` answer's content (``None``: the default answer), for tests that need a particular
answer (a judge that says ``deny``, say) through the real HTTP path. ``fail(status, times)``
sets the ``fail`` mode in one call. Every request is counted and kept
(``requests``: the parsed JSON bodies; ``headers``: their headers, names lower-cased), so tests
can assert how many retries were made and what each request carried.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from mapek.llm._schema_sample import sample_instance
from mapek.llm._tokens import estimate_prompt_tokens, estimate_text_tokens

__all__ = ["OpenAIStandIn", "Mode"]

Mode = Literal["ok", "garbage", "invalid", "stall", "fail", "drop", "cut"]
_PATHS = ("/v1/chat/completions", "/chat/completions")


class OpenAIStandIn:
    """The server; a context manager (``start`` on enter, ``stop`` on exit)."""

    def __init__(self, mode: Mode = "ok", *, stall_seconds: float = 5.0) -> None:
        self.mode: Mode = mode
        """Behaviour for the next requests; may be changed at any time."""
        self.stall_seconds = stall_seconds
        self.fail_status = 500
        self.fail_times = 1
        """Requests still to fail in ``fail`` mode (then it answers as ``ok``)."""
        self.requests: list[dict[str, Any]] = []
        """Bodies of the requests received, in order (``{}`` when the body was not JSON)."""
        self.headers: list[dict[str, str]] = []
        """Headers of the requests received (names lower-cased), in order."""
        self.stream_piece = 8
        """Characters of content per streamed chunk."""
        self.stream_delay = 0.0
        """Seconds before each streamed chunk of content."""
        self.cut_after = 3
        """Chunks of content a ``cut`` stream sends before the connection closes."""
        self.responder: Callable[[dict[str, Any]], str | None] | None = None
        """Scripts the ``ok`` answers: its string is the reply's content; None (or a ``None``
        from it) gives the default answer."""
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> OpenAIStandIn:
        handler = type("_Handler", (_Handler,), {"stand_in": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name="openai-stand-in", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases stalled handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> OpenAIStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- state -------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The ``api_base`` to give a client: ``http://127.0.0.1:<port>/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def wait_for_requests(self, n: int, timeout: float = 10.0) -> int:
        """Wait until ``n`` requests have been counted (or ``timeout`` passes); the count.

        A client that timed out has sent its request, but on a busy machine the server's
        handler thread may not have read it yet: wait for the server, do not race it."""
        deadline = time.monotonic() + timeout
        while self.request_count < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.request_count

    def fail(self, status: int = 500, times: int = 1) -> None:
        """Answer HTTP ``status`` to the next ``times`` requests, then succeed."""
        with self._lock:
            self.mode = "fail"
            self.fail_status = status
            self.fail_times = times

    def reset(self, mode: Mode = "ok") -> None:
        """Forget the requests seen and switch to ``mode``."""
        with self._lock:
            self.requests.clear()
            self.headers.clear()
            self.mode = mode

    def _take(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[Mode, int]:
        """Count a request; the mode it gets and, in fail mode, the status to send."""
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            mode = self.mode
            if mode == "fail":
                if self.fail_times > 0:
                    self.fail_times -= 1
                    return "fail", self.fail_status
                return "ok", 200
            return mode, 200


class _Handler(BaseHTTPRequestHandler):
    stand_in: OpenAIStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.split("?")[0] not in _PATHS:
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        headers = {k.lower(): v for k, v in self.headers.items()}
        mode, status = self.stand_in._take(body, headers)
        if mode == "fail":
            kind = {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(status, "server_error")
            self._json(status, {"error": {"message": f"stand-in: HTTP {status}", "type": kind,
                                          "code": kind}})
        elif body.get("stream") and mode in ("ok", "invalid", "cut", "stall"):
            if mode == "stall":
                self.stand_in._stopping.wait(self.stand_in.stall_seconds)
            content = '{"unexpected": true}' if mode == "invalid" else None
            if mode in ("ok", "cut") and self.stand_in.responder is not None:
                content = self.stand_in.responder(body)
            self._sse(body, _completion(body, content), cut=mode == "cut")
        elif mode == "stall":
            self.stand_in._stopping.wait(self.stand_in.stall_seconds)
            self._json(200, _completion(body))
        elif mode == "garbage":
            self._raw(200, b"<html>this is not JSON</html>", "application/json")
        elif mode == "invalid":
            self._json(200, _completion(body, content='{"unexpected": true}'))
        elif mode in ("drop", "cut"):
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 500\r\n\r\n{\"id\": \"chatcmpl-")
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        else:
            responder = self.stand_in.responder
            content = responder(body) if responder is not None else None
            self._json(200, _completion(body, content))

    def _sse(self, body: dict[str, Any], whole: dict[str, Any], *, cut: bool) -> None:
        """``whole`` (a completion) streamed as chunks of server-sent events; ``cut``: the
        connection closes after ``cut_after`` chunks of content."""
        stand_in = self.stand_in
        content = whole["choices"][0]["message"]["content"]
        size = max(1, stand_in.stream_piece)
        pieces = [content[i:i + size] for i in range(0, len(content), size)]
        base = {"id": whole["id"], "object": "chat.completion.chunk", "created": whole["created"],
                "model": whole["model"]}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")  # the body ends when the connection does
            self.end_headers()
            self.close_connection = True
            self._event(chunk({"role": "assistant", "content": ""}))
            for n, piece in enumerate(pieces):
                if cut and n >= stand_in.cut_after:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if stand_in.stream_delay and stand_in._stopping.wait(stand_in.stream_delay):
                    return
                self._event(chunk({"content": piece}))
            self._event(chunk({}, "stop"))
            options = body.get("stream_options") or {}
            if isinstance(options, dict) and options.get("include_usage"):
                self._event({**base, "choices": [], "usage": whole["usage"]})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up
            self.close_connection = True

    def _event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
        self.wfile.flush()

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "stand-in", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._raw(status, json.dumps(payload).encode(), "application/json")

    def _raw(self, status: int, data: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            self.close_connection = True


def _completion(body: dict[str, Any], content: str | None = None) -> dict[str, Any]:
    messages = body.get("messages") or []
    if content is None:
        content = _answer(body, messages)
    prompt_tokens = estimate_prompt_tokens(messages)
    completion_tokens = estimate_text_tokens(content)
    return {
        "id": "chatcmpl-stand-in",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(body.get("model") or "stand-in"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _answer(body: dict[str, Any], messages: list[dict[str, Any]]) -> str:
    fmt = body.get("response_format") or {}
    schema: Any = None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or {"type": "object"}
    else:
        schema = _prompt_schema(messages)
    if schema is not None:
        seed = json.dumps(messages, sort_keys=True)
        return json.dumps(sample_instance(schema, seed=seed))
    last = next(
        (str(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
    )
    return f"echo: {last}"


_PROMPT_MARK = "validates against this JSON schema"
"""Words of the gateway's schema instructions (``mapek.llm.gateway.schema_instructions``)."""


def _prompt_schema(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The JSON schema a message asks for in words (the JSON after the instruction's line), as
    a model following the prompt would read it; None when no message asks for one."""
    for message in messages:
        content = message.get("content")
        if not isinstance(content, str) or _PROMPT_MARK not in content:
            continue
        start = content.find("\n", content.find(_PROMPT_MARK))
        if start < 0:
            continue
        try:
            schema, _ = json.JSONDecoder().raw_decode(content[start + 1:].lstrip())
        except ValueError:
            continue
        if isinstance(schema, dict):
            return schema
    return None
