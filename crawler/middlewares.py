"""Downloader middlewares."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class PrivateAddressGuard:
    """Refuses discovered URLs (and their redirects) that resolve to private,
    loopback or link-local addresses. Requests opt in with meta
    `raqib_guard=True`; `raqib_guard_source` names the URL they were found on.
    Resolution runs off the reactor thread."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressGuard:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if not request.meta.get("raqib_guard"):
            return None
        guard: Any = getattr(self.crawler.spider, "guard", None)
        if guard is None:
            return None
        loop = asyncio.get_running_loop()
        reason = await loop.run_in_executor(
            None, lambda: guard.refuse(request.url, source=request.meta.get("raqib_guard_source"))
        )
        if reason:
            raise IgnoreRequest(f"private address guard: {reason}")
        return None


class RobotsTxt(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with concurrent waiters fixed.

    In Scrapy 2.19 every request that arrives while robots.txt is being
    fetched awaits the same Deferred through asFuture(), which hands the
    parser to the first waiter and None to the others — and None means
    "allowed". With several requests per site in flight (the norm here),
    disallowed pages were fetched. The parser is stored before the Deferred
    fires, so a waiter that got None reads it from there.
    """

    async def robot_parser(self, request: Request) -> Any:
        parser = await super().robot_parser(request)
        if parser is None:
            stored = self._parsers.get(urlparse_cached(request).netloc)
            if stored is not None and not isinstance(stored, Deferred):
                return stored
        return parser
