"""Discovered URLs come from strangers: refuse those that resolve to private,
loopback, link-local or otherwise non-public addresses, unless the source
itself lives on such an address or the user allowed it."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

Resolver = Callable[[str], list[str]]


def system_resolver(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def addresses(host: str, resolver: Resolver = system_resolver) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    try:
        return resolver(host)
    except (OSError, UnicodeError):
        return []


def category(address: str) -> str:
    """public, loopback, link-local, private or reserved."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_global and not ip.is_multicast:
        return "public"
    if ip.is_private:
        return "private"
    return "reserved"


def is_public(address: str) -> bool:
    return category(address) == "public"


class Guard:
    """Decides whether a discovered URL may be fetched."""

    def __init__(
        self, *, allow_private: bool = False, resolver: Resolver = system_resolver
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self._cache: dict[str, list[str]] = {}

    def _resolve(self, host: str) -> list[str]:
        if host not in self._cache:
            self._cache[host] = addresses(host, self.resolver)
        return self._cache[host]

    def categories(self, url: str) -> set[str]:
        return {category(a) for a in self._resolve(urlsplit(url).hostname or "")}

    def refuse(self, url: str, *, source: str | None = None) -> str | None:
        """None when the URL may be fetched, else the reason it may not.

        A non-public address is allowed only when the user allowed it, or when
        the source the URL was found on lives in that same kind of network (a
        feed on the newsroom's intranet may list intranet pages; a public feed
        may not send Raqib to 10.0.0.1, and nothing may send it to link-local
        cloud metadata unless that is where the source itself lives).
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"not a web address ({parts.scheme or 'no scheme'})"
        host = parts.hostname or ""
        found = self._resolve(host)
        if not found:
            return f"{host} does not resolve"
        kinds = {a: category(a) for a in found}
        private = {a: k for a, k in kinds.items() if k != "public"}
        if not private or self.allow_private:
            return None
        allowed = self.categories(source) if source else set()
        refused = {a: k for a, k in private.items() if k not in allowed}
        if not refused:
            return None
        shown = ", ".join(f"{a} ({k})" for a, k in sorted(refused.items()))
        return f"{host} resolves to a non-public address: {shown}"
