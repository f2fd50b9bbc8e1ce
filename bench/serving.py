"""The benchmark's page server on 127.0.0.1: every page rendered before a
pass, so serving costs the timed tools almost nothing."""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.pages import render


class Site:
    """What the server answers for each page in the current pass."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.pages: dict[int, bytes] = {}
        self.etags: dict[int, str] = {}
        self.honour_validators = False
        self.base = ""

    def prepare(self, editions: dict[int, int], churn: int) -> None:
        """Render every page before the timed pass, so serving costs almost nothing."""
        self.pages = {i: render(i, editions.get(i, 0), churn, self.base) for i in range(self.n)}
        self.etags = {
            i: '"' + hashlib.md5(body).hexdigest()[:16] + '"' for i, body in self.pages.items()
        }


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"
    # The headers and the body leave in two writes: with Nagle's algorithm the
    # body waits for the client's delayed ACK (40 ms) on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        site = self.server.site
        if self.path == "/robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
            self._send(200, body, ctype, None)
            return
        try:
            page = int(self.path.rsplit("/", 1)[1])
            body = site.pages[page]
        except (ValueError, KeyError, IndexError):
            self._send(404, b"not found", "text/plain", None)
            return
        etag = site.etags[page]
        if site.honour_validators and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(200, body, "text/html; charset=utf-8", etag)

    def _send(self, status: int, body: bytes, ctype: str, etag: str | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, site: Any, handler: type[BaseHTTPRequestHandler] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), handler or Handler)
        self.site = site
        site.base = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()
