"""Downloader middlewares."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest


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
