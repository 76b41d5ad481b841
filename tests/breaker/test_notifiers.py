"""Notifiers against stand-in servers on 127.0.0.1: a webhook (answering or hanging), an SMTP
server (accepting or refusing), a command. They run after the stop and never delay it."""

from __future__ import annotations

import json
import socketserver
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from _rig import Rig

from mapek.breaker.watchdog import EXIT_TRIPPED


class Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.server.hang_for:  # type: ignore[attr-defined]
            time.sleep(self.server.hang_for)  # type: ignore[attr-defined]
        self.server.received.append(json.loads(body))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[Any]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    srv.daemon_threads = True
    srv.received, srv.hang_for = [], 0.0  # type: ignore[attr-defined]
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield srv
    srv.shutdown()
    srv.server_close()


class Smtp(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        srv: Any = self.server
        if srv.refuse:
            self.wfile.write(b"554 5.3.2 no service for you\r\n")
            return
        self.wfile.write(b"220 stand-in ESMTP\r\n")
        while line := self.rfile.readline():
            cmd = line.decode().strip().upper()
            if cmd.startswith(("EHLO", "HELO")):
                self.wfile.write(b"250 stand-in\r\n")
            elif cmd == "DATA":
                self.wfile.write(b"354 go on\r\n")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    data += self.rfile.readline()
                srv.messages.append(data.decode())
                self.wfile.write(b"250 queued\r\n")
            elif cmd == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture(params=[False, True], ids=["accepting", "refusing"])
def smtp(request: pytest.FixtureRequest) -> Iterator[Any]:
    srv: Any = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Smtp)
    srv.daemon_threads, srv.refuse, srv.messages = True, request.param, []
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def trip_with(rig: Rig, notify: str) -> dict[str, Any]:
    rig.start_run({"max_tokens": 1000})
    pol = rig.policy(f"extends: default\nnotify:\n{notify}")
    w = rig.worker("breach", 2)
    t0 = time.monotonic()
    dog = rig.watchdog(w.pid, "--policy", str(pol))
    w.wait(timeout=10)
    gone = time.monotonic() - t0
    assert dog.wait(timeout=20) == EXIT_TRIPPED
    trip, = rig.events("breaker.tripped")
    stopped, = rig.events("breaker.stopped")
    return {"gone": gone, "trip": trip, "stopped": stopped,
            "notified": {e.payload["notifier"]: e for e in rig.events("breaker.notified")}}


def test_webhook_gets_the_trip_as_json(rig: Rig, webhook: Any) -> None:
    url = f"http://127.0.0.1:{webhook.server_address[1]}/hook"
    out = trip_with(rig, f"  webhook: {{url: '{url}', timeout: 5}}\n")
    n = out["notified"]["webhook"]
    assert n.payload["ok"] and n.payload["detail"] == "HTTP 204" and n.parent == out["trip"].seq
    body, = webhook.received
    assert body["policy"] == "tokens" and body["run_id"] == rig.run and body["stopped"] == "term"


def test_a_hanging_webhook_never_delays_the_stop(rig: Rig, webhook: Any) -> None:
    webhook.hang_for = 30.0
    url = f"http://127.0.0.1:{webhook.server_address[1]}/hook"
    out = trip_with(rig, f"  webhook: {{url: '{url}', timeout: 1}}\n")
    assert out["stopped"].seq < out["notified"]["webhook"].seq
    assert out["stopped"].ts - out["trip"].ts < 0.5
    n = out["notified"]["webhook"].payload
    assert not n["ok"] and ("timed out" in n["detail"] or "timeout" in n["detail"].lower())
    assert n["elapsed_ms"] < 3000


def test_email_through_smtp(rig: Rig, smtp: Any) -> None:
    port = smtp.server_address[1]
    out = trip_with(rig, f"  email: {{host: 127.0.0.1, port: {port}, sender: dog@example.org, "
                         "to: [ops@example.org], timeout: 5}\n")
    n = out["notified"]["email"].payload
    if smtp.refuse:
        assert not n["ok"] and "554" in n["detail"]
        assert out["stopped"].payload["how"] == "term"
    else:
        assert n["ok"], n
        msg, = smtp.messages
        assert "breaker tripped: run r1 (tokens)" in msg and "mapek resume r1" in msg


def test_command_gets_the_trip_on_stdin(rig: Rig, tmp_path: Path) -> None:
    dump = tmp_path / "trip.json"
    script = (f"import sys, os; open({str(dump)!r}, 'w')"
              ".write(os.environ['MAPEK_TRIP_POLICY'] + sys.stdin.read())")
    out = trip_with(rig, f"  command:\n    argv: [{json.dumps(sys.executable)}, '-c', "
                         f"{json.dumps(script)}]\n    timeout: 10\n")
    assert out["notified"]["command"].payload["ok"]
    text = dump.read_text()
    assert text.startswith("tokens") and json.loads(text[len("tokens"):])["run_id"] == rig.run
