"""Scrapy extensions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from twisted.internet import task

from raqib.crawler.context import context_of, need

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews this pass's leases while it runs, so a long pass keeps its claims
    and a crashed one loses them when they expire.

    It also says which watches the crawl may still fetch (`holds`, asked by
    the downloader before each request leaves a site's queue). A process that
    stalled past its lease (stopped, swapped out, its VM frozen) may find its
    watches, and so their site, taken by another worker: what it had queued
    for them is dropped, not sent beside that worker's requests.
    """

    def __init__(self, recorder: Any, lease: timedelta, clock: Callable[[], datetime]) -> None:
        self.recorder = recorder
        self.lease = lease
        self.clock = clock
        self.loop: task.LoopingCall | None = None
        # Until then, by this process's clock, every lease it took is live:
        # a renewal every third of a lease keeps it ahead, so only a process
        # that stalled reaches it, and renews (and learns what it lost) first.
        self.until: datetime | None = None
        self.lost: set[int] = set()  # watches whose lease ran out in hand

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeaseKeeper:
        ctx = context_of(crawler)
        ext = cls(need(ctx.recorder, "recorder"), need(ctx.lease, "lease"), ctx.clock)
        ctx.leases = ext
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self) -> None:
        # The watches in hand were leased just before the crawl began.
        self.until = self.clock() + self.lease / 2
        self.loop = task.LoopingCall(self.renew)
        self.loop.start(max(self.lease.total_seconds() / 3, 1), now=False)

    def renew(self) -> None:
        now = self.clock()
        try:
            held = self.recorder.renew_leases(now, self.lease)
        except Exception:  # the database out of reach: tried again in a second, and by the loop
            log.warning("could not renew this pass's leases", exc_info=True)
            self.until = now + timedelta(seconds=1)
            return
        self.until = now + self.lease / 2
        lapsed = set(self.recorder.tasks) - held - self.lost
        if lapsed:
            self.lost |= lapsed
            log.warning(
                "the leases on %d watches ran out while this pass held them (it stalled for"
                " longer than schedule.lease): another worker may be fetching their sites,"
                " so their requests not yet sent are dropped",
                len(lapsed),
            )

    def holds(self, watch_id: int) -> bool:
        """Whether the crawl may still send a request for `watch_id`; one it
        may not counts as a lease lost (the watch is left to its new holder)."""
        if self.until is not None and self.clock() >= self.until:
            self.renew()
        if watch_id in self.lost:
            self.recorder.lease_lost += 1
            return False
        return True

    def closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
