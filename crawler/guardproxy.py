"""The browser's only way out: a local proxy that applies the address guard.

Chromium resolves names itself and follows redirects and opens WebSockets
where no route handler sees them, so a rendered page is given this proxy and
nothing else (Playwright sends loopback through it too). Every connection the
page makes, for HTTP or as a CONNECT tunnel, is checked here: the host is
resolved once, each address is judged by raqib.guard, and the connection goes
to the address that was checked. What is refused gets a 403 and is counted.

Each network the crawl's rendered watches are on gets a port of its own, and
each page's browser context is given the port of its watch's network: the
proxy judges a connection by the network of the port it came in on. It
judged by the networks of the crawl's watches together: a public page
rendered beside an intranet watch reached the intranet through a redirect,
which the per-page route guard in crawler.render never sees. The browser's
own port (outside any page's context) refuses everything.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import threading
from collections.abc import Iterable
from urllib.parse import urlsplit

from raqib.guard import Guard, network_of

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
        # One origin per network stands for it: the guard allows by network.
        self.origins: dict[str, str] = {}
        for origin in sorted(set(origins)):
            self.origins.setdefault(network_of(origin), origin)
        self.timeout = timeout
        self.refused: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.servers: list[asyncio.Server] = []
        self.ports: dict[str | None, int] = {}  # by network; None: the refusing one
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="raqib-proxy", daemon=True
        )

    def start(self) -> int:
        """Listen; the port that refuses everything (the browser's own)."""
        ready = asyncio.run_coroutine_threadsafe(self._serve(), self.loop)
        self.thread.start()
        ready.result(timeout=10)
        return self.ports[None]

    def servers_by_network(self) -> dict[str, str]:
        """The proxy for a page watched on each network."""
        return {n: f"http://127.0.0.1:{p}" for n, p in self.ports.items() if n is not None}

    async def _serve(self) -> None:
        for network in [None, *self.origins]:
            client = functools.partial(self._client, network)
            server = await asyncio.start_server(client, "127.0.0.1", 0, limit=MAX_HEAD)
            self.servers.append(server)
            self.ports[network] = int(server.sockets[0].getsockname()[1])

    def stop(self) -> None:
        async def close() -> None:
            for server in self.servers:
                server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        if self.thread.is_alive():
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
        self.loop.close()

    def refuse(self, url: str, addresses: list[str], network: str) -> str | None:
        """None if a page watched on `network` may reach these addresses."""
        return self.guard.refuse(url, addresses, origin=self.origins[network])

    async def _client(
        self, network: str | None, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            await asyncio.wait_for(self._relay(network, reader, writer), self.timeout)
        except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError):  # fmt: skip
            pass
        finally:
            writer.close()

    async def _relay(
        self, network: str | None, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
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
        if network is None or host.lower() in _BACKGROUND:
            log.debug("browser: refused %s (not a rendered page's connection)", url[:300])
            await _forbid(writer)
            return
        addresses = await resolve(host, port)
        reason = self.refuse(url, addresses, network)
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
