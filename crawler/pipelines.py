"""Item pipelines: thin glue between what the spiders yield and Raqib."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from scrapy.crawler import Crawler

from raqib.crawler.context import context_of, need
from raqib.domain import Fetched

if TYPE_CHECKING:  # the recorder brings trafilatura: a feed read's crawl does not need it
    from raqib.crawler.record import Recorder


class RecordPipeline:
    """Refetching: extract → normalise → store, one fetch at a time (see crawler.record)."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        ctx = context_of(crawler)
        recorder: Recorder = need(ctx.recorder, "recorder")
        recorder.warc = ctx.warc  # built before the pipelines (extensions come first)
        # A storage failure ends the crawl: the pass stops and says why.
        recorder.stop = lambda: asyncio.ensure_future(
            crawler.engine.close_spider_async(reason="storage failure")  # type: ignore[union-attr]
        )
        return cls(recorder)

    def open_spider(self) -> None:
        self.recorder.started()  # on the crawl's thread, as close_spider

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Fetched):
            await self.recorder.handle(item)
        return item

    async def close_spider(self) -> None:
        await self.recorder.close()  # the last, partial batch, and every write in flight


class CollectPipeline:
    """Discovery: hand every result to the collector, judged after the crawl."""

    def __init__(self, collector: list[Any]) -> None:
        self.collector = collector

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CollectPipeline:
        return cls(need(context_of(crawler).collector, "collector"))

    def process_item(self, item: Any) -> Any:
        self.collector.append(item)
        return item
