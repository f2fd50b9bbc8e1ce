"""Item pipelines: thin glue that hands each fetch to the Recorder."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy.crawler import Crawler

from raqib.crawler.items import Fetched
from raqib.crawler.record import Recorder


class RecordPipeline:
    """extract → normalise → store, one fetch at a time (see crawler.record)."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        # The pass's collaborators travel with the spider (settings are
        # deep-copied by Scrapy and hold configuration only).
        spider: Any = crawler.spider  # a RefetchSpider, which carries the pass's Recorder
        recorder: Recorder = spider.recorder
        recorder.stop = lambda: asyncio.ensure_future(
            crawler.engine.close_spider_async(reason="storage failure")
        )
        return cls(recorder)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Fetched):
            await self.recorder.handle(item)
        return item

    async def close_spider(self) -> None:
        await self.recorder.close()  # the last, partial batch, and every write in flight


class CollectPipeline:
    """Discovery: hand every result to the spider's collector, judged after the crawl."""

    def __init__(self, collector: list[Any]) -> None:
        self.collector = collector

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CollectPipeline:
        spider: Any = crawler.spider  # a DiscoverSpider, which carries the collector
        return cls(spider.collector)

    def process_item(self, item: Any) -> Any:
        self.collector.append(item)
        return item
