"""Downloader middlewares (overrides of Scrapy's own live in crawler.compat)."""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import defer
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from raqib.crawler.context import context_of, need
from raqib.guard import Guard, literal


@implementer(IResolverSimple)
class PinnedResolver:
    """The reactor's resolver during a crawl: it answers only with addresses
    the guard checked, so a connection goes where the check said it may (a
    name that resolves elsewhere the second time — DNS rebinding — changes
    nothing), and a name nobody checked reaches no address at all."""

    def __init__(self, pins: dict[str, str], inner: Any) -> None:
        self.pins = pins
        self.inner = inner  # the resolver it replaced: the next crawl's guard resolves through it

    def getHostByName(self, name: str, timeout: Any = ()) -> defer.Deferred[str]:
        address = literal(name) or self.pins.get(name.lower())
        if address is None:
            return defer.fail(DNSLookupError(f"{name}: not checked by the address guard"))
        return defer.succeed(address)


class AddressGuard:
    """Every request of every spider, redirects included, is allowed or refused
    by raqib.guard before anything connects, by the network of its origin
    (meta `raqib_origin`: raqib.guard.origin_of a watch, or where discovery found it).

    The host is resolved once, through the resolver the crawl was configured
    with, and the checked address is pinned. Requests Scrapy makes itself
    (robots.txt) carry no origin: they may go only to a host a request of this
    crawl was already allowed to reach, and redirected, only within the
    network of the host they were asked of.
    """

    def __init__(self, guard: Guard, reactor: Any) -> None:
        self.guard = guard
        self.reactor = reactor
        self.pins: dict[str, str] = {}
        self.passed: set[str] = set()
        self.resolver: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuard:
        from twisted.internet import reactor

        return cls(need(context_of(crawler).guard, "address guard"), reactor)

    def _install(self) -> None:
        # The first request runs after Scrapy installed its resolver: wrap it
        # (not a previous crawl's pins: crawls follow each other on one reactor).
        current = self.reactor.resolver
        self.resolver = current.inner if isinstance(current, PinnedResolver) else current
        self.reactor.installResolver(PinnedResolver(self.pins, self.resolver))

    async def process_request(self, request: Request) -> None:
        if self.resolver is None:
            self._install()
        parts = urlparse_cached(request)
        host = (parts.hostname or "").lower()
        origin = request.meta.get("raqib_origin")
        if origin is None:
            chain = request.meta.get("redirect_urls")
            if chain:
                # A redirected robots.txt stays in the network of the host it
                # was asked of: "passed" would let a public site's robots.txt
                # send it to an intranet host another watch of the pass reached.
                origin = chain[0]
            elif host in self.passed and parts.path == "/robots.txt":
                return None  # robots.txt of a host this crawl already checked
        address = literal(host)
        if address is None:
            # Resolution failures surface as Scrapy's own DNSLookupError.
            address = str(await maybe_deferred_to_future(self.resolver.getHostByName(host)))
        reason = self.guard.refuse(request.url, [address], origin=origin)
        if reason:
            raise IgnoreRequest(f"private address guard: {reason}")
        self.pins[host] = address
        self.passed.add(host)
        return None


class OutletHeaders:
    """An outlet's own request headers and cookies (raqib.toml [outlets.NAME]),
    on every request to one of its hosts, and on none other: Scrapy copies a
    request's headers onto its redirect, so those it added are taken off a
    redirect to another host (an API key sent on to wherever the outlet's
    server pointed). Guarded requests only: this runs after AddressGuard."""

    ADDED = "raqib_outlet_headers"  # meta: (host, the header names added for it)

    def __init__(self, by_host: dict[str, dict[str, str]]) -> None:
        self.by_host = by_host

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OutletHeaders:
        from scrapy.exceptions import NotConfigured

        by_host = crawler.settings.getdict("RAQIB_HOST_HEADERS")
        if not by_host:
            raise NotConfigured
        return cls(by_host)

    def process_request(self, request: Request, spider: Any = None) -> None:
        host = (urlparse_cached(request).hostname or "").lower()
        added = request.meta.get(self.ADDED)
        if added is not None and added[0] != host:
            for name in added[1]:
                request.headers.pop(name, None)
            del request.meta[self.ADDED]
        names = [n for n in self.by_host.get(host, {}) if n not in request.headers]
        for name in names:
            request.headers[name] = self.by_host[host][name]
        if names:
            request.meta[self.ADDED] = (host, names)
