"""A real OTLP/HTTP trace receiver on 127.0.0.1 for the tests: it decodes each
``ExportTraceServiceRequest`` (protobuf, as the OpenTelemetry collector does) and keeps its
spans, flattened with their resource's and scope's attributes."""

from __future__ import annotations

import gzip
import threading
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


def value(v: AnyValue) -> Any:
    which = v.WhichOneof("value")
    if which == "array_value":
        return [value(x) for x in v.array_value.values]
    return getattr(v, which) if which else None


@dataclass
class Span:
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    start: int
    end: int
    kind: int
    status: int
    status_message: str
    attributes: dict[str, Any]
    events: list[tuple[str, int, dict[str, Any]]]
    resource: dict[str, Any]
    scope: str


@dataclass
class Receiver:
    url: str
    requests: list[ExportTraceServiceRequest] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def spans(self) -> list[Span]:
        out = []
        for req in self.requests:
            for rs in req.resource_spans:
                res = {a.key: value(a.value) for a in rs.resource.attributes}
                for ss in rs.scope_spans:
                    for s in ss.spans:
                        out.append(Span(
                            s.name, s.trace_id.hex(), s.span_id.hex(), s.parent_span_id.hex(),
                            s.start_time_unix_nano, s.end_time_unix_nano, s.kind,
                            s.status.code, s.status.message,
                            {a.key: value(a.value) for a in s.attributes},
                            [(e.name, e.time_unix_nano, {a.key: value(a.value)
                                                         for a in e.attributes})
                             for e in s.events], res, ss.scope.name))
        return out


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        enc = self.headers.get("Content-Encoding", "")
        body = gzip.decompress(body) if enc == "gzip" else \
            zlib.decompress(body) if enc == "deflate" else body
        if self.path != "/v1/traces" or \
                self.headers.get("Content-Type") != "application/x-protobuf":
            self.send_response(404)
            self.end_headers()
            return
        req = ExportTraceServiceRequest()
        req.ParseFromString(body)
        self.receiver.requests.append(req)
        self.receiver.paths.append(self.path)
        out = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: Any) -> None:
        pass


class running:  # noqa: N801 - a context manager, used as ``with running() as rx``
    """Start the receiver on a free port of 127.0.0.1; stop it on exit."""

    def __enter__(self) -> Receiver:
        handler = type("Handler", (_Handler,), {})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        rx = Receiver(f"http://127.0.0.1:{self.server.server_address[1]}")
        handler.receiver = rx
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return rx

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
