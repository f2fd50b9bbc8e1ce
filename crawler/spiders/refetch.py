"""Refetch the watched articles a pass has claimed.

Each request carries the validators of the last response that held the
article (If-None-Match / If-Modified-Since), bypasses the duplicate filter
(a refetch is the point) and accepts every status so that the pipeline can
record 304, 404 and 5xx answers too.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any, Self

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from raqib.crawler.context import context_of
from raqib.crawler.session import PassStopping
from raqib.crawler.spiders import conditional
from raqib.domain import Fetched, Task

# Every status but redirects reaches the callback (redirects are followed).
HANDLED_STATUSES = [304, *range(400, 600)]


def _header(response: Response, name: str, limit: int = 256) -> str | None:
    value = response.headers.get(name)
    if value is None:
        return None
    return value.decode("latin-1", errors="replace").strip()[:limit] or None


def describe_failure(failure: Failure) -> str:
    """One line for the fetch log: the error's kind and message, bounded."""
    exc = failure.value
    name = type(exc).__name__
    message = failure.getErrorMessage().strip().replace("\n", " ")
    if name == "IgnoreRequest" and message.startswith("private address guard"):
        return message[:400]
    if name == "IgnoreRequest" and "robots" in message.lower():
        return "robots.txt forbids this URL"
    if "robots" in name.lower():
        return "robots.txt forbids this URL"
    return f"{name}: {message}"[:400]


class RefetchSpider(scrapy.Spider):
    name = "refetch"
    tasks: list[Task]
    clock: Callable[[], datetime]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        ctx = context_of(crawler)
        spider.tasks, spider.clock = ctx.tasks, ctx.clock
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for task in self.tasks:
            yield self.request_for(task)

    def request_for(self, task: Task) -> scrapy.Request:
        return scrapy.Request(
            task.url,
            headers=conditional(task.etag, task.last_modified),
            callback=self.parse,
            errback=self.failed,
            dont_filter=True,
            meta={
                "watch_id": task.watch_id,
                "handle_httpstatus_list": HANDLED_STATUSES,
                "started": time.monotonic(),
                "raqib_capture": True,
                "raqib_origin": task.url,  # the network the watch was added on (raqib.guard)
            },
        )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Fetched]:
        meta = response.meta
        text: str | None = None
        encoding: str | None = None
        if isinstance(response, TextResponse):
            # Scrapy decodes: BOM, HTTP charset, <meta> charset, then sniffing.
            text = response.text
            encoding = response.encoding
        latency = meta.get("download_latency")
        yield Fetched(
            watch_id=meta["watch_id"],
            url=(meta.get("redirect_urls") or [response.url])[0],
            final_url=response.url,
            fetched_at=self.clock(),
            status=response.status,
            duration_ms=int(latency * 1000) if latency is not None else None,
            content_type=_header(response, "Content-Type"),
            etag=_header(response, "ETag"),
            last_modified=_header(response, "Last-Modified", 64),
            retry_after=_header(response, "Retry-After", 64),
            body=response.body,
            text=text,
            encoding=encoding,
            redirects=list(meta.get("redirect_urls") or []),
            warc=meta.get("raqib_warc"),
        )

    def failed(self, failure: Failure) -> Iterator[Fetched]:
        request = failure.request  # type: ignore[attr-defined]
        if failure.check(PassStopping):
            return  # never sent: the watch is left, untouched, to the next pass
        started = request.meta.get("started")
        yield Fetched(
            watch_id=request.meta["watch_id"],
            url=(request.meta.get("redirect_urls") or [request.url])[0],
            final_url=request.url,
            fetched_at=self.clock(),
            duration_ms=int((time.monotonic() - started) * 1000) if started else None,
            error=describe_failure(failure),
            redirects=list(request.meta.get("redirect_urls") or []),
        )
