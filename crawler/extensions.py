"""Scrapy extensions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from twisted.internet import task

from raqib.crawler.context import context_of, need


class LeaseKeeper:
    """Renews this pass's leases while it runs, so a long pass keeps its claims
    and a crashed one loses them when they expire."""

    def __init__(self, recorder: Any, lease: timedelta, clock: Callable[[], datetime]) -> None:
        self.recorder = recorder
        self.lease = lease
        self.clock = clock
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeaseKeeper:
        ctx = context_of(crawler)
        ext = cls(need(ctx.recorder, "recorder"), need(ctx.lease, "lease"), ctx.clock)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self) -> None:
        self.loop = task.LoopingCall(self.renew)
        self.loop.start(max(self.lease.total_seconds() / 3, 1), now=False)

    def renew(self) -> None:
        self.recorder.renew_leases(self.clock(), self.lease)

    def closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
