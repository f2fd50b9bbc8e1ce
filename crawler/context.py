"""The pass context: what a crawl's Scrapy components need from Raqib.

One typed object, attached to the crawler in one place (`attach`, called by
crawler.run before the crawl starts) and read by each component in its
`from_crawler` (`context_of`). Settings carry configuration only: Scrapy
deep-copies them, and a recorder or a database handle must not be copied.
A component whose collaborator is absent raises NotConfigured and is left
out of the crawl.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from raqib.crawler.robots import RobotsMemory
from raqib.domain import Task

_ATTRIBUTE = "raqib_context"


@dataclass
class PassContext:
    clock: Callable[[], datetime]
    # Refetching: the claimed watches and what judges and records each fetch.
    tasks: list[Task] = field(default_factory=list)
    recorder: Any = None  # raqib.crawler.record.Recorder
    lease: timedelta | None = None  # renewed while the pass runs
    leases: Any = None  # raqib.crawler.extensions.LeaseKeeper, set by it: what may still be sent
    # A crawler process of a large pass: asks the pass for more watches as it
    # runs out ([] once there are no more; crawler.deal).
    more: Callable[[], Awaitable[list[Task]]] | None = None
    # Discovery: what to read, and where the findings go.
    discovery: Any = None  # raqib.crawler.spiders.discover.DiscoveryJob
    collector: list[Any] | None = None
    # Outlets: the sources to read (raqib.crawler.spiders.outlets.OutletJob),
    # and what renews the read's holds on their sites every third of `lease`.
    outlets: Any = None
    renew_holds: Callable[[datetime], int] | None = None
    # Both: the address guard and the archive's memory of last captures.
    guard: Any = None  # raqib.guard.Guard
    capture_index: Any = None  # raqib.crawler.capture.CaptureIndex
    warc: Any = None  # raqib.crawler.capture.WarcCapture, set by it when the crawl archives
    # robots.txt parsers by host, shared by the crawls of one pass in this
    # process (its feed read, its batches), and the answers kept between
    # passes (raqib.crawler.robots.RobotsMemory). None: the crawl keeps its own.
    robots: RobotsMemory | None = None

    def take(self, tasks: list[Task]) -> None:
        """Watches handed to this crawl while it runs: the recorder judges
        them, the archive looks up their last captures."""
        self.recorder.expect(tasks)
        if self.leases is not None:
            self.leases.taken({t.watch_id for t in tasks})
        if self.warc is not None:
            self.warc.expect([t.url for t in tasks])


def attach(crawler: Crawler, context: PassContext) -> None:
    setattr(crawler, _ATTRIBUTE, context)


def context_of(crawler: Crawler) -> PassContext:
    context = getattr(crawler, _ATTRIBUTE, None)
    if context is None:
        raise NotConfigured("no Raqib pass context: run crawls through raqib.crawler.run")
    return context  # type: ignore[no-any-return]


def need(value: Any, what: str) -> Any:
    """A collaborator from the context, or NotConfigured: this crawl has none."""
    if value is None:
        raise NotConfigured  # no message: Scrapy would log each one as a warning
    return value
