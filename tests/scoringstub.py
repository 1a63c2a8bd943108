"""A real HTTP server on loopback answering the scoring service's predict endpoint (importable as ``scoringstub``).

It stands in for ``steward serve`` until that lands: same path
(``POST /v1/{environment}/{pipeline}/predict``), the API key in ``X-API-Key``
(401 without it), one record or a list of records as JSON, and an answer
naming the version, primary or fallback, and a request id. Tests choose the
version it claims, a delay per request and which requests fail.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote


@dataclass
class Behaviour:
    version: int = 1
    fallback: bool = False
    delay_seconds: float = 0.0
    fail_every: int = 0  # every n-th request answers 500 (0: never)
    api_key: str = "load-test-key"


@dataclass
class Seen:
    requests: int = 0
    unauthorised: int = 0
    paths: set[str] = field(default_factory=set)
    records: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class StubServer(ThreadingHTTPServer):
    daemon_threads = True
    behaviour: Behaviour
    seen: Seen

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client closing its keep-alive connection at the end is normal, not worth a traceback."""

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real client and server use
    server: StubServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"null")
        parts = self.path.split("/")
        behaviour, seen = self.server.behaviour, self.server.seen
        if len(parts) != 5 or parts[1] != "v1" or parts[4] != "predict":
            self._answer(404, {"detail": "not found"})
            return
        if self.headers.get("X-API-Key") != behaviour.api_key:
            with seen.lock:
                seen.unauthorised += 1
            self._answer(401, {"detail": "a valid API key is needed"})
            return
        with seen.lock:
            seen.requests += 1
            number = seen.requests
            seen.paths.add(f"{unquote(parts[2])}/{unquote(parts[3])}")
            if len(seen.records) < 50 and isinstance(payload, dict):
                seen.records.append(payload)
        if behaviour.delay_seconds:
            time.sleep(behaviour.delay_seconds)
        if behaviour.fail_every and number % behaviour.fail_every == 0:
            self._answer(500, {"detail": "injected failure"})
            return
        records = payload if isinstance(payload, list) else [payload]
        self._answer(
            200,
            {
                "predictions": [0.5 for _ in records],
                "version": behaviour.version,
                "fallback": behaviour.fallback,
                "request_id": uuid.uuid4().hex,
            },
        )


@contextmanager
def scoring_stub(behaviour: Behaviour | None = None) -> Iterator[StubServer]:
    """Serve on a free loopback port in a thread for the duration of the block."""
    server = StubServer(("127.0.0.1", 0), Handler)
    server.behaviour = behaviour or Behaviour()
    server.seen = Seen()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
