"""Which addresses a fetch may reach.

Pages, feeds and redirects come from strangers. A fetch may reach the public
internet, and the network its origin names — the watch's own URL for a
refetch, the source for what discovery finds — but nothing else: a public
watch is never sent to a private, loopback, link-local or reserved address,
by a redirect or by a name that resolves there. `fetch.allow_private` lifts
the rule.

The origin's network is read from its URL as written, never resolved (a
name's owner could make it resolve anywhere): an IP address is in its own
network; `localhost` is loopback; a single-label name, or one under .local,
.lan, .internal, .intranet, .corp or .home.arpa, is private; any other name
is public. The target is resolved once, checked, and the connection goes to
the address that was checked (crawler.middlewares pins it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

PUBLIC = "public"
INTRANET_SUFFIXES = (".local", ".lan", ".internal", ".intranet", ".corp", ".home.arpa")


def literal(host: str) -> str | None:
    """The address itself when `host` is an IP literal, else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


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
        return PUBLIC
    if ip.is_private:
        return "private"
    return "reserved"


def network_of(url: str) -> str:
    """The network a URL names, as written (see the module's docstring)."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    address = literal(host)
    if address is not None:
        return category(address)
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback"
    if "." not in host or host.endswith(INTRANET_SUFFIXES):
        return "private"
    return PUBLIC


class Guard:
    """Decides whether a request may reach the addresses its host resolved to."""

    def __init__(self, *, allow_private: bool = False) -> None:
        self.allow_private = allow_private

    def allowed(self, origin: str | None) -> set[str]:
        """The networks a fetch that started from `origin` may reach."""
        return {PUBLIC} if origin is None else {PUBLIC, network_of(origin)}

    def refuse(self, url: str, addresses: Iterable[str], *, origin: str | None) -> str | None:
        """None when `url`, resolved to `addresses`, may be fetched; else why not."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"not a web address ({parts.scheme or 'no scheme'})"
        found = list(addresses)
        if not found:
            return f"{parts.hostname} does not resolve"
        if self.allow_private:
            return None
        allowed = self.allowed(origin)
        refused = {a: k for a in found if (k := category(a)) not in allowed}
        if not refused:
            return None
        host = parts.hostname or ""
        shown = ", ".join(
            k if a == literal(host) else f"{a} ({k})" for a, k in sorted(refused.items())
        )
        whence = network_of(origin) if origin else PUBLIC
        return (
            f"{host} is {shown}, outside the {whence} network this fetch started "
            "from (fetch.allow_private lifts this)"
        )
