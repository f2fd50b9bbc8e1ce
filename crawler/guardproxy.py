"""The browser's only way out: a local proxy that applies the address guard.

Chromium resolves names itself and follows redirects and opens WebSockets
where no route handler sees them, so a rendered page is given this proxy and
nothing else (Playwright sends loopback through it too). Every connection the
page makes, for HTTP or as a CONNECT tunnel, is checked here: the host is
resolved once, each address is judged by raqib.guard, and the connection goes
to the address that was checked. What is refused gets a 403 and is counted.

The proxy judges by the networks of the crawl's rendered watches together
(it cannot tell which page asked); the per-page route guard in
crawler.render is the precise one and this is the backstop behind it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Iterable
from urllib.parse import urlsplit

from raqib.guard import Guard

log = logging.getLogger("raqib.render")

MAX_HEAD = 64 * 1024  # request line and headers
MAX_TUNNEL_BYTES = 64 * 1024 * 1024  # one connection, both directions
# Chromium's own calls (sign-in, GCM, updates): refused without a word.
_BACKGROUND = frozenset({
    "accounts.google.com", "android.clients.google.com", "mtalk.google.com",
    "clients2.google.com", "update.googleapis.com", "optimizationguide-pa.googleapis.com",
})  # fmt: skip
_HOP = {"proxy-connection", "proxy-authorization", "connection", "keep-alive"}


class GuardProxy:
    def __init__(self, guard: Guard, origins: Iterable[str], *, timeout: float) -> None:
        self.guard = guard
        self.origins: list[str | None] = [*sorted(set(origins))] or [None]
        self.timeout = timeout
        self.refused: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        self.port = 0
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="raqib-proxy", daemon=True
        )

    def start(self) -> int:
        ready = asyncio.run_coroutine_threadsafe(self._serve(), self.loop)
        self.thread.start()
        self.port = ready.result(timeout=10)
        return self.port

    async def _serve(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0, limit=MAX_HEAD)
        return int(self.server.sockets[0].getsockname()[1])

    def stop(self) -> None:
        async def close() -> None:
            if self.server is not None:
                self.server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        if self.thread.is_alive():
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
        self.loop.close()

    def refuse(self, url: str, addresses: list[str]) -> str | None:
        """None if any of the crawl's origins may reach these addresses."""
        reasons = [self.guard.refuse(url, addresses, origin=o) for o in self.origins]
        return None if any(r is None for r in reasons) else reasons[0]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(self._relay(reader, writer), self.timeout)
        except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError):  # fmt: skip
            pass
        finally:
            writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        if method.upper() == "CONNECT":
            host, _, port_text = target.rpartition(":")
            host, port, url = host.strip("[]"), int(port_text), f"https://{target}/"
        else:
            parts = urlsplit(target)
            if parts.scheme != "http" or not parts.hostname:
                raise ValueError("not an absolute http URL")
            host, port, url = parts.hostname, parts.port or 80, target
        if host.lower() in _BACKGROUND:
            await _forbid(writer)
            return
        addresses = await resolve(host, port)
        reason = self.refuse(url, addresses)
        if reason is not None:
            self.refused.append(url[:300])
            log.warning("rendered page: refused %s (%s)", url[:300], reason)
            await _forbid(writer)
            return
        up_reader, up_writer = await asyncio.open_connection(addresses[0], port)
        try:
            if method.upper() == "CONNECT":
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                # One request per connection: a second one on it could name another host.
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                kept = [ln for ln in lines[1:] if ln and ln.split(":", 1)[0].lower() not in _HOP]
                up_writer.write(
                    "\r\n".join(
                        [f"{method} {path} HTTP/1.1", *kept, "Connection: close", "", ""]
                    ).encode("latin-1")
                )
            budget = [MAX_TUNNEL_BYTES]
            await asyncio.gather(_pipe(reader, up_writer, budget), _pipe(up_reader, writer, budget))
        finally:
            up_writer.close()


async def resolve(host: str, port: int) -> list[str]:
    """The host's addresses, each once, without blocking the loop ([] if it does not resolve)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return list(dict.fromkeys(str(i[4][0]) for i in infos))


async def _forbid(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, budget: list[int]) -> None:
    try:
        while budget[0] > 0:
            data = await src.read(65536)
            if not data:
                break
            budget[0] -= len(data)
            dst.write(data)
            await dst.drain()
    finally:
        if dst.can_write_eof():
            try:
                dst.write_eof()
            except OSError:
                pass
