"""Downloader middlewares (overrides of Scrapy's own live in crawler.compat)."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from raqib.crawler.context import context_of, need


class PrivateAddressGuard:
    """Refuses discovered URLs (and their redirects) that resolve to private,
    loopback or link-local addresses. Requests opt in with meta
    `raqib_guard=True`; `raqib_guard_source` names the URL they were found on.
    Resolution runs off the reactor thread."""

    def __init__(self, guard: Any) -> None:
        self.guard = guard

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressGuard:
        return cls(need(context_of(crawler).guard, "address guard"))

    async def process_request(self, request: Request) -> None:
        if not request.meta.get("raqib_guard"):
            return None
        loop = asyncio.get_running_loop()
        reason = await loop.run_in_executor(
            None,
            lambda: self.guard.refuse(request.url, source=request.meta.get("raqib_guard_source")),
        )
        if reason:
            raise IgnoreRequest(f"private address guard: {reason}")
        return None
