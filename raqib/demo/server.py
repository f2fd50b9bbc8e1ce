"""A small HTTP server on 127.0.0.1 serving a mutable table of pages.

Used by `raqib demo` and by the tests. Each route answers with a fixed
status, headers and body; when a route has an ETag or Last-Modified, the
server honours conditional requests with 304 like a real site would.
"""

from __future__ import annotations

import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(
        default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"}
    )
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0  # seconds before answering: a slow server


class _Handler(BaseHTTPRequestHandler):
    server: PageServer  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"
    # The headers and the body leave in two writes: with Nagle's algorithm the
    # body waits for the client's delayed ACK (40 ms) on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        self.server.log.append((self.command, self.path, self.headers.get("User-Agent", "")))

    def do_GET(self) -> None:
        with self.server.around or nullcontext():
            self._get()

    def _get(self) -> None:
        self.server.requests.append((self.path, dict(self.headers.items())))
        if self.path != "/robots.txt":
            self.server.hit.set()  # tests wait on this instead of sleeping
        path = self.path.split("#")[0]
        route = self.server.routes.get(path) or self.server.routes.get(path.split("?")[0])
        if route is None:
            if self.path == "/robots.txt":
                route = Route(b"User-agent: *\nAllow: /\n", 200, {"Content-Type": "text/plain"})
            else:
                route = Route(b"<html><body>not found</body></html>", 404)
        if route.delay:
            time.sleep(route.delay)  # simulating a slow server, not synchronising a test
        if self._not_modified(route):
            self.send_response(304)
            if route.etag:
                self.send_header("ETag", route.etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(route.status)
        for k, v in route.headers.items():
            self.send_header(k, v)
        if route.etag:
            self.send_header("ETag", route.etag)
        if route.last_modified:
            self.send_header("Last-Modified", route.last_modified)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        self.wfile.write(route.body)

    def _not_modified(self, route: Route) -> bool:
        if route.status != 200:
            return False
        inm = self.headers.get("If-None-Match")
        if route.etag and inm:
            return inm.strip() == route.etag
        ims = self.headers.get("If-Modified-Since")
        return bool(route.last_modified and ims and ims.strip() == route.last_modified)


class PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        super().__init__((host, port), _Handler)
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.log: list[tuple[str, str, str]] = []
        self.hit = threading.Event()
        self.around: Any = None  # a context manager around each request (tests count them)
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> PageServer:
        self._thread = threading.Thread(target=self.serve_forever, name="page-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
