"""Refetch the watched articles a pass has claimed.

Each request carries the validators of the last response that held the
article (If-None-Match / If-Modified-Since), bypasses the duplicate filter
(a refetch is the point) and accepts every status so that the pipeline can
record 304, 404 and 5xx answers too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any, Self

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from raqib.crawler.compat import UNREADABLE, describe_error
from raqib.crawler.context import PassContext, context_of
from raqib.crawler.responses import header, text
from raqib.crawler.session import PassStopping
from raqib.crawler.spiders import conditional
from raqib.domain import Fetched, Task
from raqib.guard import origin_of

# Every status but redirects reaches the callback (redirects are followed).
HANDLED_STATUSES = [304, *range(400, 600)]


def describe_failure(failure: Failure) -> str:
    """One line for the fetch log: the error's kind and message, bounded."""
    exc = failure.value
    name = type(exc).__name__
    message = failure.getErrorMessage().strip().replace("\n", " ")
    if name == "IgnoreRequest" and message.startswith(("private address guard", UNREADABLE)):
        return message[:400]
    if name == "IgnoreRequest" and "robots" in message.lower():
        return "robots.txt forbids this URL"
    if "robots" in name.lower():
        return "robots.txt forbids this URL"
    return describe_error(exc) if exc is not None else f"{name}: {message}"[:400]


def fetched_from(response: Response, watch_id: int, at: datetime) -> Fetched:
    """A response as a fetch of watch `watch_id` (discovery's candidates: 0)."""
    meta = response.meta
    body_text: str | None = None
    encoding: str | None = None
    if isinstance(response, TextResponse):
        body_text, encoding = text(response)
    latency = meta.get("download_latency")
    return Fetched(
        watch_id=watch_id,
        url=(meta.get("redirect_urls") or [response.url])[0],
        final_url=response.url,
        fetched_at=at,
        status=response.status,
        duration_ms=int(latency * 1000) if latency is not None else None,
        content_type=header(response, "Content-Type"),
        etag=header(response, "ETag"),
        last_modified=header(response, "Last-Modified", 64),
        retry_after=header(response, "Retry-After", 64),
        body=response.body,
        text=body_text,
        encoding=encoding,
        redirects=list(meta.get("redirect_urls") or []),
        warc=meta.get("raqib_warc"),
    )


class RefetchSpider(scrapy.Spider):
    name = "refetch"
    context: PassContext
    clock: Callable[[], datetime]
    by_id: dict[int, Task]  # the recorder's: the watches in hand
    hungry: asyncio.Event  # the scheduler ran dry while the downloader has room
    guard: Any  # raqib.guard.Guard
    render: dict[str, Any]  # [render] as crawler.render passes it; empty: no browser
    render_missing: str | None  # why rendering cannot run here, when watches ask for it
    max_size: int  # a rendered DOM is bounded as a download is

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        ctx = context_of(crawler)
        spider.context, spider.clock = ctx, ctx.clock
        spider.by_id = ctx.recorder.tasks
        spider.hungry = asyncio.Event()
        if ctx.more is not None:
            crawler.signals.connect(spider.hungry.set, signal=signals.scheduler_empty)
        spider.guard = ctx.guard
        spider.render = crawler.settings.getdict("RAQIB_RENDER")
        spider.render_missing = crawler.settings.get("RAQIB_RENDER_MISSING")
        spider.max_size = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """The claimed watches; in a crawler process of a large pass, then
        more, a few at a time, each time the scheduler has run dry: enough to
        keep the downloader busy, never so many that this process holds work
        another could be doing. Scrapy reads start() ahead while its
        downloader is full, so the pace is set here."""
        for task in self.context.tasks:
            yield self.request_for(task)
        more = self.context.more
        while more is not None:
            self.hungry.clear()  # set again once what was yielded has left the scheduler
            await self.hungry.wait()
            tasks = await more()
            if not tasks:
                return
            self.context.take(tasks)
            for task in tasks:
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
                "raqib_origin": origin_of(task),  # the network it was added on (raqib.guard)
                "raqib_browser": task.render or task.screenshot,
            },
        )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        fetched = self.fetched(response)
        task = self.by_id[fetched.watch_id]
        if response.meta.get("raqib_browser") and self.wants_browser(task, fetched):
            from raqib.crawler import render

            yield render.request_for(
                response, fetched, task, self.guard, self.render,
                self.parse_rendered, self.render_failed,
            )  # fmt: skip
            return
        yield fetched

    def wants_browser(self, task: Task, fetched: Fetched) -> bool:
        """A 200 HTML answer goes on to the browser; for a watch photographed but
        not rendered, only a body that differs from the last one."""
        if fetched.status != 200 or fetched.text is None:
            return False
        if not self.render:
            if task.render and self.render_missing:
                fetched.error = self.render_missing  # said in its fetch log, not guessed around
            return False
        if task.render:
            return True
        from raqib.extract.page import body_key

        return body_key(fetched.body, fetched.encoding) != task.body_key

    async def parse_rendered(self, response: Response) -> AsyncIterator[Fetched]:
        from raqib.crawler import render

        meta = response.meta
        await render.close_page(meta)
        fetched: Fetched = meta["raqib_plain"]
        fetched.rendered = self.by_id[fetched.watch_id].render
        if fetched.rendered and self.max_size and len(response.body) > self.max_size:
            fetched.error = f"rendered page too large: {len(response.body):,} bytes"
        elif fetched.rendered and isinstance(response, TextResponse):
            fetched.body = response.body
            fetched.text, fetched.encoding = text(response)
        fetched.shot = (meta.get("playwright_page_methods") or [None])[0].result
        fetched.refused = list(meta.get("raqib_refused") or [])
        yield fetched

    async def render_failed(self, failure: Failure) -> AsyncIterator[Fetched]:
        """A render that failed: an error for a rendered watch; a photographed
        one keeps its plain fetch, without a picture."""
        from raqib.crawler import render

        meta = failure.request.meta  # type: ignore[attr-defined]
        await render.close_page(meta)
        if failure.check(PassStopping):
            return  # never rendered: the watch is left, untouched, to the next pass
        fetched: Fetched = meta["raqib_plain"]
        if self.by_id[fetched.watch_id].render:
            fetched.error = f"rendering failed: {describe_failure(failure)}"[:400]
        else:
            self.logger.warning("no screenshot of %s: %s", fetched.url, describe_failure(failure))
        yield fetched

    def fetched(self, response: Response) -> Fetched:
        return fetched_from(response, response.meta["watch_id"], self.clock())

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
