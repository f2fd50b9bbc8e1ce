"""Which addresses a fetch may reach.

Pages, feeds and redirects come from strangers. A fetch may reach the public
internet, and the network its origin names — for a refetch, the watch's own
URL, or the page or feed it was found on (origin_of); the source for what
discovery finds — but nothing else: a public
watch is never sent to a private, loopback, link-local or reserved address,
by a redirect or by a name that resolves there, and no fetch reaches a
link-local one, whatever its origin. `fetch.allow_private` lifts the rule but
for link-local (and the metadata services outside it): those stay refused.

The origin's network is read from its URL as written, never resolved (a
name's owner could make it resolve anywhere): an IP address is in its own
network; `localhost` is loopback; a single-label name, or one under .local,
.lan, .internal, .intranet, .corp or .home.arpa, is private; any other name
is public. The target is resolved once, checked, and the connection goes to
the address that was checked (crawler.middlewares pins it).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from raqib.domain import Origin, Task

PUBLIC = "public"
INTRANET_SUFFIXES = (".local", ".lan", ".internal", ".intranet", ".corp", ".home.arpa")


# The IPv4 spellings a resolver reads as an address (inet_aton): 127.1,
# 0x7f.0.0.1, 0177.0.0.1, 2130706433.
_NUMERIC = re.compile(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}", re.IGNORECASE)


def origin_of(task: Task) -> str:
    """The URL whose network a watch's fetches may reach besides the public
    one: its own, unless discovery or an outlet found it on a page or feed
    whose network its own is not (an older release let a public page add an
    intranet one): then that page's, which refuses it. Never wider than its
    own: a public article found on a localhost feed stays public."""
    if task.origin == Origin.MANUAL.value or not task.found_via:
        return task.url
    via = task.found_via.split()[-1]  # "link in URL": a link found inside a watched article
    if not urlsplit(via).hostname or network_of(task.url) in {PUBLIC, network_of(via)}:
        return task.url
    return via


def literal(host: str) -> str | None:
    """The address itself when `host` is an IP literal, else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    if _NUMERIC.fullmatch(host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


# Private networks proper: the other addresses that are not global (documentation,
# benchmarking, carrier NAT, future use) are reserved, a network of their own.
_PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10")
)
# The last 32 bits are the IPv4 address reached: NAT64, and IPv4-translated.
_NAT64 = (
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
    ipaddress.ip_network("::ffff:0:0:0/96"),
)
# Cloud metadata services outside link-local (AWS over IPv6, Alibaba; GCP's and
# Oracle's IPv6 addresses as a review recalled them, unconfirmed here: blocking
# two more addresses costs nothing): like 169.254.169.254, never reached,
# whatever network a fetch started in, fetch.allow_private or not.
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("fd00:ec2::254", "100.100.100.200", "fd20:ce::254", "fd00:c1::a9fe:a9fe")
)


def _carried(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches: mapped, NAT64, 6to4 or compatible."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in n for n in _NAT64) or 1 < int(ip) < 2**32:  # ::a.b.c.d, deprecated
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def category(address: str) -> str:
    """public, loopback, link-local, private or reserved."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and (v4 := _carried(ip)) is not None:
        ip = v4
    if ip in _METADATA:
        return "link-local"  # as good as: what no fetch reaches
    if ip.is_loopback or ip.is_unspecified:  # 0.0.0.0 and :: reach this host
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if any(ip in n for n in _PRIVATE):  # before is_global: fec0::/10 counts as global
        return "private"
    if ip.is_global and not ip.is_multicast:
        return PUBLIC
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
        """The networks a fetch that started from `origin` may reach. Never
        link-local, even from there: no newsroom reads 169.254.169.254, a
        cloud's metadata service, and a list from elsewhere (an OPML file, a
        CSV) could name it."""
        home = network_of(origin) if origin is not None else PUBLIC
        return {PUBLIC} if home == "link-local" else {PUBLIC, home}

    def refuse(self, url: str, addresses: Iterable[str], *, origin: str | None) -> str | None:
        """None when `url`, resolved to `addresses`, may be fetched; else why not."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"not a web address ({parts.scheme or 'no scheme'})"
        found = list(addresses)
        if not found:
            return f"{parts.hostname} does not resolve"
        # allow_private opens private, loopback and reserved networks, never a
        # cloud's metadata service: a feed's item or a redirect could name it.
        if self.allow_private:
            refused = {a: k for a in found if (k := category(a)) == "link-local"}
        else:
            allowed = self.allowed(origin)
            refused = {a: k for a in found if (k := category(a)) not in allowed}
        if not refused:
            return None
        host = parts.hostname or ""
        shown = ", ".join(
            k if a == literal(host) else f"{a} ({k})" for a, k in sorted(refused.items())
        )
        whence = network_of(origin) if origin else PUBLIC
        whence = PUBLIC if whence == "link-local" else whence  # never its own network
        lifts = (
            "no fetch reaches link-local, fetch.allow_private or not"
            if "link-local" in refused.values()
            else "fetch.allow_private lifts this"
        )
        return f"{host} is {shown}, outside the {whence} network this fetch started from ({lifts})"
