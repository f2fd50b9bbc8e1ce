"""A misbehaving web server on 127.0.0.1 for the fault matrix, and a DNS
resolver that never leaves the machine.

Each path has a mode; the handler speaks raw HTTP so that it can do what real
servers do on bad days: never answer, stall after the headers, reset the
connection, send less than Content-Length, loop redirects, send bombs.
"""

from __future__ import annotations

import gzip
import socket
import socketserver
import struct
import threading
from typing import Any

import brotli
from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from raqib.demo.pages import VERSIONS, render


class LocalOnlyResolver(CachingThreadedResolver):
    """Resolves IP literals and localhost; every other name fails at once,
    so the DNS-failure case sends no query anywhere."""

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:
        if name in ("localhost", "127.0.0.1") or name.replace(".", "").isdigit():
            return super().getHostByName(name, timeout)
        return defer.fail(DNSLookupError(f"no such host: {name} (test resolver)"))


def article(base: str, path: str, extra: str = "") -> str:
    """A good article page, distinct per path."""
    html = render(VERSIONS[0], base).decode("utf-8")
    marker = f"<p>هذه نسخة خاصة بالمسار {path} لاختبار الأعطال في رقيب.{(' ' + extra) if extra else ''}</p>"
    return html.replace('<div class="entry-content">', '<div class="entry-content">' + marker, 1)


BOT_CHECK = """<!doctype html><html lang="ar"><head><meta charset="utf-8"><title>لحظة من فضلك...</title></head>
<body><h1>جارٍ التحقق من أنك لست روبوتا</h1><p>يستغرق هذا بضع ثوان.</p>
<noscript>يرجى تفعيل جافاسكربت وملفات تعريف الارتباط للمتابعة.</noscript></body></html>"""
SOFT_404 = """<!doctype html><html lang="ar"><head><meta charset="utf-8"><title>الصفحة غير موجودة</title></head>
<body><h1>عذرا، الصفحة غير موجودة</h1><p>ربما تم حذف الصفحة التي تبحث عنها أو تغيير عنوانها.</p>
<p><a href="/">العودة إلى الصفحة الرئيسية</a></p></body></html>"""
PNG = (
    b"\x89PNG\r\n\x1a\n"
    + b"\x00\x00\x00\rIHDR"
    + struct.pack(">II", 1, 1)
    + b"\x08\x02\x00\x00\x00"
    + b"\x00" * 64
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

_GZIP_BOMB: bytes | None = None
_BROTLI_BOMB: bytes | None = None


def gzip_bomb() -> bytes:
    global _GZIP_BOMB
    if _GZIP_BOMB is None:
        _GZIP_BOMB = gzip.compress(b"\0" * (200 * 1024 * 1024), compresslevel=9)
    return _GZIP_BOMB


def brotli_bomb() -> bytes:
    global _BROTLI_BOMB
    if _BROTLI_BOMB is None:
        _BROTLI_BOMB = brotli.compress(b"\0" * (200 * 1024 * 1024), quality=1)
    return _BROTLI_BOMB


class _Handler(socketserver.BaseRequestHandler):
    server: FaultServer

    def _read_request(self) -> str | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.request.recv(65536)
            if not chunk:
                return None
            data += chunk
            if len(data) > 1 << 20:
                return None
        line = data.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        return parts[1] if len(parts) > 1 else "/"

    def _send(
        self, status: str, headers: dict[str, str], body: bytes = b"", length: int | None = None
    ) -> None:
        head = [f"HTTP/1.1 {status}"]
        headers = {"Connection": "close", **headers}
        if "Content-Length" not in headers:
            headers["Content-Length"] = str(len(body) if length is None else length)
        head += [f"{k}: {v}" for k, v in headers.items()]
        self.request.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    def handle(self) -> None:
        try:
            path = self._read_request()
            if path is None:
                return
            self.server.seen.append(path)
            if path == "/robots.txt":
                self._send(
                    "200 OK",
                    {"Content-Type": "text/plain"},
                    b"User-agent: *\nDisallow: /private/\n",
                )
                return
            mode = self.server.modes.get(path.split("?")[0], "good")
            getattr(self, f"mode_{mode}")(path)
        except (
            BrokenPipeError,
            ConnectionResetError,
            ConnectionAbortedError,
            TimeoutError,
            OSError,
        ):
            pass

    # --- modes ------------------------------------------------------------------

    def _html(self, text: str, charset: str = "utf-8", body: bytes | None = None) -> None:
        data = body if body is not None else text.encode(charset)
        self._send("200 OK", {"Content-Type": f"text/html; charset={charset}"}, data)

    def mode_good(self, path: str) -> None:
        self._html(article(self.server.base, path))

    def mode_never(self, path: str) -> None:
        self.server.stop.wait(120)

    def mode_stall(self, path: str) -> None:
        self.request.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html><body>"
        )
        self.server.stop.wait(120)

    def mode_reset(self, path: str) -> None:
        body = article(self.server.base, path).encode()
        self.request.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body)
            + body[: len(body) // 2]
        )
        self.request.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )  # RST on close

    def mode_short(self, path: str) -> None:
        body = article(self.server.base, path).encode()
        self._send(
            "200 OK",
            {"Content-Type": "text/html; charset=utf-8"},
            body[: len(body) // 2],
            length=len(body),
        )

    def mode_500(self, path: str) -> None:
        self._send(
            "500 Internal Server Error",
            {"Content-Type": "text/html"},
            b"<html><body>Internal Server Error</body></html>",
        )

    def mode_502(self, path: str) -> None:
        self._send(
            "502 Bad Gateway",
            {"Content-Type": "text/html"},
            b"<html><body>Bad Gateway</body></html>",
        )

    def mode_503(self, path: str) -> None:
        self._send(
            "503 Service Unavailable",
            {"Content-Type": "text/html"},
            b"<html><body>Service Unavailable</body></html>",
        )

    def mode_429(self, path: str) -> None:
        self._send(
            "429 Too Many Requests",
            {"Content-Type": "text/plain", "Retry-After": "3600"},
            b"slow down",
        )

    def mode_redirect_loop(self, path: str) -> None:
        other = path + "-b" if not path.endswith("-b") else path[:-2]
        self.server.modes[other] = "redirect_loop"
        self._send("302 Found", {"Location": other}, b"")

    def mode_redirect_file(self, path: str) -> None:
        self._send("302 Found", {"Location": "file:///etc/passwd"}, b"")

    def mode_redirect_ftp(self, path: str) -> None:
        self._send("301 Moved Permanently", {"Location": "ftp://127.0.0.1/article.html"}, b"")

    def mode_huge(self, path: str) -> None:
        self.request.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n"
            % (50 * 1024 * 1024)
        )
        chunk = b"<p>" + b"x" * 65530 + b"</p>"
        for _ in range(900):
            self.request.sendall(chunk)

    def mode_huge_unannounced(self, path: str) -> None:
        self.request.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"
        )
        chunk = b"<p>" + b"x" * 65530 + b"</p>"
        for _ in range(900):
            self.request.sendall(chunk)

    def mode_gzip_bomb(self, path: str) -> None:
        self._send("200 OK", {"Content-Type": "text/html", "Content-Encoding": "gzip"}, gzip_bomb())

    def mode_brotli_bomb(self, path: str) -> None:
        self._send("200 OK", {"Content-Type": "text/html", "Content-Encoding": "br"}, brotli_bomb())

    def mode_header_flood(self, path: str) -> None:
        """A good article behind more header lines than any server sends."""
        flood = {f"X-Flood-{i}": "a" * 40 for i in range(2000)}
        self._send(
            "200 OK",
            {"Content-Type": "text/html", **flood},
            article(self.server.base, path).encode(),
        )

    def mode_header_line(self, path: str) -> None:
        """A good article behind one header line longer than Twisted reads (16 kB)."""
        self._send(
            "200 OK",
            {"Content-Type": "text/html", "X-Long": "a" * 64 * 1024},
            article(self.server.base, path).encode(),
        )

    def mode_pdf(self, path: str) -> None:
        self._send("200 OK", {"Content-Type": "application/pdf"}, PDF)

    def mode_image(self, path: str) -> None:
        self._send("200 OK", {"Content-Type": "image/png"}, PNG)

    def mode_invalid_utf8(self, path: str) -> None:
        page = article(self.server.base, path).encode("utf-8")
        # Stray bytes that are not UTF-8, inside the article text.
        self._html(
            "", body=page.replace("المحادثات".encode(), b"\xff\xfe\xc3(" + "المحادثات".encode())
        )

    def mode_cp1256_as_utf8(self, path: str) -> None:
        page = article(self.server.base, path).replace('<meta charset="utf-8">', "")
        self._html("", body=page.encode("cp1256", errors="replace"))

    def mode_utf8_as_cp1256(self, path: str) -> None:
        page = article(self.server.base, path).replace('<meta charset="utf-8">', "")
        self._send(
            "200 OK", {"Content-Type": "text/html; charset=windows-1256"}, page.encode("utf-8")
        )

    def mode_mojibake(self, path: str) -> None:
        page = article(self.server.base, path)
        self._html(page.encode("utf-8").decode("latin-1"))

    def mode_empty(self, path: str) -> None:
        self._html("")

    def mode_botcheck(self, path: str) -> None:
        self._html(BOT_CHECK)

    def mode_soft404(self, path: str) -> None:
        self._html(SOFT_404)

    def mode_bloated(self, path: str) -> None:
        page = article(
            self.server.base, path, extra="وأضاف المصدر أن الاجتماع المقبل سيعقد في واشنطن."
        )
        script = "<script>var blob = '" + "a" * (5 * 1024 * 1024) + "';</script>"
        # Unclosed tags all over, and 5 MB of inline script.
        page = (
            page.replace("</p>", "")
            .replace("</div>", "", 3)
            .replace("<head>", "<head>" + script, 1)
        )
        self._html(page)


class FaultServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.modes: dict[str, str] = {}
        self.seen: list[str] = []
        self.stop = threading.Event()
        self.base = f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> FaultServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def close(self) -> None:
        self.stop.set()
        self.shutdown()
        self.server_close()
