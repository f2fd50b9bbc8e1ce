"""Scrapy extensions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task


class LeaseKeeper:
    """Renews this pass's leases while it runs, so a long pass keeps its claims
    and a crashed one loses them when they expire."""

    def __init__(self, lease: timedelta) -> None:
        self.lease = lease
        self.spider: Any = None
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeaseKeeper:
        seconds = crawler.settings.getfloat("RAQIB_LEASE_SECONDS")
        if seconds <= 0:
            raise NotConfigured
        ext = cls(timedelta(seconds=seconds))
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider: Any) -> None:
        if getattr(spider, "recorder", None) is None:
            return
        self.spider = spider
        self.loop = task.LoopingCall(self.renew)
        self.loop.start(max(self.lease.total_seconds() / 3, 1), now=False)

    def renew(self) -> None:
        self.spider.recorder.renew_leases(self.spider.clock(), self.lease)

    def closed(self, spider: Any) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
