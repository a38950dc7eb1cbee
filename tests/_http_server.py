"""A scripted HTTP server on loopback, for the web sources' tests.

Each path answers from a script: a list of :class:`Reply` values served in
order (the last one repeats). Replies can be slow (``delay_s``, to make the
client time out), carry any status and headers (``Retry-After``), and any
bytes (real RSS, NewsAPI and FRED payloads, malformed ones, oversized ones).
GET and POST are both answered from the same scripts. Every request is
recorded with its path, query, headers, method, body and arrival time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    body: bytes | str = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Request:
    """One request the server saw."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    method: str = "GET"
    body: bytes = b""
    at: float = field(default_factory=time.monotonic)


class ScriptedServer:
    """The running server: ``url(path)``, ``script(path, *replies)``, ``requests``."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self.requests: list[Request] = []

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        """The full URL of ``path`` (which starts with ``/``)."""
        return self.base + path

    def script(self, path: str, *replies: Reply) -> None:
        """Serve ``replies`` in order at ``path``; the last one repeats."""
        with self._lock:
            self._scripts[path] = list(replies)

    def hits(self, path: str) -> int:
        """How many requests ``path`` received."""
        return sum(r.path == path for r in self.requests)

    def _next(self, path: str) -> Reply:
        with self._lock:
            replies = self._scripts.get(path)
            if not replies:
                return Reply(b"not found", status=404)
            return replies.pop(0) if len(replies) > 1 else replies[0]


def _handler(state: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            state.requests.append(
                Request(
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    method,
                    self.rfile.read(length) if length else b"",
                )
            )
            reply = state._next(parts.path)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            body = reply.body.encode() if isinstance(reply.body, str) else reply.body
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def scripted_server() -> Iterator[ScriptedServer]:
    """Start a :class:`ScriptedServer` on 127.0.0.1 (a free port); stop it on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = ScriptedServer(server)
    server.RequestHandlerClass = _handler(state)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
