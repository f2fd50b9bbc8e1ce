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
    for them is dropped, not sent beside that worker's requests, and left to
    whoever holds them (the pass counts them as left, due again).
    """

    def __init__(self, recorder: Any, lease: timedelta, clock: Callable[[], datetime]) -> None:
        self.recorder = recorder
        self.lease = lease
        self.clock = clock
        self.loop: task.LoopingCall | None = None
        # Until then, by this process's clock, every lease it holds is live: a
        # renewal every third of a lease keeps it ahead, so only a process that
        # stalled reaches it, and renews (and learns what it lost) first.
        self.until: datetime | None = None
        self.expires: datetime | None = None  # when the leases last renewed run out
        self.retry_at: datetime | None = None  # after a failed renewal: none in line before
        self.lost: set[int] = set()  # watches whose lease ran out in hand
        self.dropped: set[int] = set()  # of those, the ones a request was dropped for

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeaseKeeper:
        ctx = context_of(crawler)
        ext = cls(need(ctx.recorder, "recorder"), need(ctx.lease, "lease"), ctx.clock)
        ctx.leases = ext
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self) -> None:
        # Renewed first: the claim may be older than the crawl (a process that
        # stalled while it started one).
        self.renew()
        if self.expires is None:  # and that failed: no lease is known to be held
            self.until = self.expires = self.clock()
            self.retry_at = self.expires + timedelta(seconds=1)
        self.loop = task.LoopingCall(self.renew)
        self.loop.start(max(self.lease.total_seconds() / 3, 1), now=False)

    def renew(self) -> None:
        asked = self.clock()  # the leases' new end is counted from here
        try:
            held = self.recorder.renew_leases(asked, self.lease)
        except Exception as exc:  # the database out of reach: the loop tries again
            # A failed attempt can take a connection timeout: none in line for a while.
            self.retry_at = self.clock() + max(self.lease / 6, timedelta(seconds=1))
            log.warning("could not renew this pass's leases: %s", exc)
            return
        self.until, self.expires, self.retry_at = asked + self.lease / 2, asked + self.lease, None
        # Watches already handed to the writer have had their leases freed by it.
        lapsed = self.recorder.unwritten() - held - self.lost
        if lapsed:
            self.lost |= lapsed
            log.warning(
                "the leases on %d watches ran out while this pass held them (it stalled for"
                " longer than schedule.lease, or they were purged): another worker may be"
                " fetching their sites, so their requests not yet sent are dropped",
                len(lapsed),
            )

    def taken(self, ids: set[int]) -> None:
        """Watches this crawl was handed (claimed again, if it had lost them:
        dropped again, each counts again)."""
        self.lost -= ids
        self.dropped -= ids

    def holds(self, watch_id: int) -> bool:
        """Whether the crawl may still send a request for `watch_id`."""
        held = watch_id not in self.lost
        if self.until is not None and (now := self.clock()) >= self.until:
            if self.retry_at is None or now >= self.retry_at:
                self.renew()
            held = watch_id not in self.lost
            if self.retry_at is not None and self.expires is not None:
                # Renewals fail: past the end of the leases last renewed, none is held.
                held = held and self.clock() < self.expires
        if not held and watch_id not in self.dropped:
            self.dropped.add(watch_id)
            self.recorder.dropped += 1  # left to its holder: not a failure of the crawl
        return held

    def closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()


class HoldKeeper:
    """Renews the site holds of an outlet read (storage.sharing) every third
    of a lease while it runs: a read of many sitemaps may outlast one, and a
    hold that ran out would let another worker's sweep fetch its sites beside it."""

    def __init__(self, renew: Callable[[datetime], int], lease: timedelta, clock: Any) -> None:
        self.renew_holds, self.lease, self.clock = renew, lease, clock
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HoldKeeper:
        ctx = context_of(crawler)
        ext = cls(need(ctx.renew_holds, "renew_holds"), need(ctx.lease, "lease"), ctx.clock)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self) -> None:
        self.loop = task.LoopingCall(self.renew)
        self.loop.start(max(self.lease.total_seconds() / 3, 1), now=False)

    def renew(self) -> None:
        try:
            self.renew_holds(self.clock())
        except Exception as exc:  # the database out of reach: the loop tries again
            log.warning("could not renew this read's holds on its sites: %s", exc)

    def closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
