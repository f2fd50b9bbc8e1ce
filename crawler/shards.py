"""A pass split across crawler processes, one per core.

One Scrapy process spends a pass in its reactor thread (HTTP parsing,
scheduling, hashing, handing work out and back), so on a small machine one
core does the crawling and the others wait. A large pass is therefore split
into shards, each crawled by its own process with its own reactor, extracting
in-line; each lives for the whole pass and asks it for more watches as it
runs out (crawler.deal). The shards share what several machines would share:
the lease owner, the database (a transaction per batch) and the WARC files
(appends under flock). The concurrency limits are divided among the shards, so a site sees
no more parallel requests than a single process would send it.

Each shard process dies with the pass (a SIGKILLed pass leaves nothing
running); a SIGTERM or SIGINT to the pass is passed on, and each shard
finishes what it is transferring and drops what waits in a site's queue, as
a single process would.
"""

from __future__ import annotations

import logging
import os
import resource
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from raqib import console
from raqib.cores import usable_cores
from raqib.crawler.deal import Feed
from raqib.crawler.pool import die_with
from raqib.crawler.robots import RobotsMemory
from raqib.domain import Recorded, Task
from raqib.guard import Guard, origin_of
from raqib.loading import importing
from raqib.storage import Storage

if TYPE_CHECKING:
    from raqib.crawler.workers import Workers

log = logging.getLogger("raqib.pass")

# A pass's work in units of one region check (a refetch whose article region
# digests as before); a page without a region is extracted in full, about
# four times the work. Another crawler process pays for its start-up only past
# MIN_WORK_PER_SHARD units each (a process per 1,500 units begun): measured with
# bench/run.py --peers, 300 first fetches of small pages (1,200 units) took
# 3.3-3.5 s in one process and 2.9-3.0 s in two, with 3.6 s of CPU against 4.0
# and 106-110 MB against 263-267 (2026-12-04); bench/run.py --pages 2000
# refetched 2,000 large pages (2,000 units) at 76 pages/s in one process and
# 103 in two.
REGION_WORK = 1
FULL_WORK = 4
MIN_WORK_PER_SHARD = 1500


@dataclass
class CrawlResult:
    """What a crawl recorded (the Recorder's tallies, for one or several processes)."""

    counts: Counter[str] = field(default_factory=Counter)
    lease_lost: int = 0
    dropped: int = 0  # not sent: their lease ran out while the crawl held them
    handed: int = 0  # watches the crawl was given (recorded, lost, or left by a stop)
    removed_now: list[tuple[int, int | None, datetime]] = field(default_factory=list)
    failing_now: list[tuple[int, int, datetime]] = field(default_factory=list)
    new_versions: list[tuple[int, int]] = field(default_factory=list)
    fatal: BaseException | None = None
    signalled: bool = False  # a SIGINT or SIGTERM told the crawl to stop
    # CPU seconds by stage (analysis, storage, archive, fetching: see
    # crawler.record.Recorder), and each crawler process's own total.
    cpu: dict[str, float] = field(default_factory=dict)

    def add(self, other: CrawlResult) -> None:
        self.counts.update(other.counts)
        for stage, seconds in other.cpu.items():
            self.cpu[stage] = self.cpu.get(stage, 0.0) + seconds
        self.lease_lost += other.lease_lost
        self.dropped += other.dropped
        self.handed += other.handed
        self.removed_now.extend(other.removed_now)
        self.failing_now.extend(other.failing_now)
        self.new_versions.extend(other.new_versions)
        self.signalled = self.signalled or other.signalled
        if self.fatal is None:
            self.fatal = other.fatal


@dataclass(frozen=True)
class Crawl:
    """How a pass crawls, the same in each of its crawler processes."""

    owner: str  # the lease owner
    policy: Any  # when each watch is due next, after its fetch
    clock: Callable[[], datetime]
    overrides: dict[str, Any]  # Scrapy settings
    lease_seconds: float
    guard: Guard


@dataclass
class Job:
    """Everything a shard process needs; it crosses the process boundary pickled."""

    database_url: str
    tasks: list[Task]  # to begin with; more as it asks (crawler.deal)
    ask: int  # watches to ask for each time (0: none, it crawls its tasks)
    crawl: Crawl
    log_level: int
    report: bool  # send each record to the parent (it shows progress)


def work(tasks: list[Task]) -> int:
    """The pass's expected extraction work, in region checks."""
    return sum(REGION_WORK if t.region else FULL_WORK for t in tasks)


def shard_count(tasks: list[Task], wanted: int, *, more: bool = False) -> int:
    """How many crawler processes a batch of `tasks` gets: `wanted` if set
    (never more than one per task), else one per core once the work repays
    each process's start-up; `more`: other batches follow (a full batch), so
    the pass's work is at least twice this one's."""
    if wanted > 0:
        return max(1, min(wanted, len(tasks)))
    cores = usable_cores()
    expected = work(tasks) * (2 if more else 1)
    return max(1, min(cores, len(tasks), -(-expected // MIN_WORK_PER_SHARD)))


def certain(due: int, batch: int, wanted: int) -> bool:
    """Whether a pass with `due` watches will split across processes whatever
    its watches: its first batch, counted at the least work (a region check
    each), already repays a second process (see shard_count)."""
    if usable_cores() < 2 and wanted <= 0:
        return False
    if wanted > 0:
        return wanted > 1 and due > 1
    first = min(due, batch)
    return first * REGION_WORK * (2 if due > batch else 1) >= MIN_WORK_PER_SHARD


def divided(overrides: dict[str, Any], shards: int) -> dict[str, Any]:
    """The concurrency limits divided among the shards, so that together
    they stay within them."""
    s = dict(overrides)
    for key in ("CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN"):
        if key in s:
            s[key] = max(1, int(s[key]) // shards)
    return s


def crawl_here(
    storage: Storage,
    tasks: list[Task],
    crawl: Crawl,
    *,
    pool: Workers | None = None,
    on_recorded: Callable[[Task, Recorded], None] | None = None,
    alone: bool = False,
    feed: Feed | None = None,
    robots: RobotsMemory | None = None,
) -> CrawlResult:
    """Crawl `tasks` in this process (`pool`: the extraction workers that
    analyse its pages; `alone`: a crawler process, which ends after; `feed`:
    it asks the pass for more as it runs out; `robots`: the pass's robots.txt
    parsers and kept answers, see crawler.robots)."""
    with importing():  # Scrapy's crawl; trafilatura only if a page is sure to need it
        from raqib.crawler.capture import CaptureIndex
        from raqib.crawler.context import PassContext
        from raqib.crawler.record import Recorder
        from raqib.crawler.run import run_spider
        from raqib.crawler.session import CrawlStopped, signalled
        from raqib.crawler.spiders.refetch import RefetchSpider

        if pool is None and any(t.region is None for t in tasks):  # a first fetch: extraction
            import raqib.extract.article  # noqa: F401

    recorder = Recorder(
        storage, crawl.policy, tasks, owner=crawl.owner, pool=pool, on_recorded=on_recorded
    )
    proxy, overrides = with_browser(tasks, crawl.overrides, crawl.guard)
    if robots is None:  # a crawler process: parsers of its own, and the kept answers
        robots = RobotsMemory.load(storage.robots, crawl.clock, _robots_ttl(crawl))
    context = PassContext(
        clock=crawl.clock,
        tasks=tasks,
        recorder=recorder,
        lease=timedelta(seconds=crawl.lease_seconds) if crawl.lease_seconds > 0 else None,
        capture_index=CaptureIndex(storage.archive),
        guard=crawl.guard,
        more=feed.more if feed is not None else None,
        robots=robots,
    )
    try:
        run_spider(RefetchSpider, overrides, context, alone=alone)
    except CrawlStopped:  # a second signal: what was recorded stays; the rest is the next pass's
        recorder.abandon()
        if pool is not None:
            pool.halt()  # at once, whatever its workers hold
    finally:
        if proxy is not None:
            proxy.stop()
    return CrawlResult(
        counts=recorder.counts,
        lease_lost=recorder.lease_lost,
        dropped=recorder.dropped,
        handed=len(tasks),
        removed_now=recorder.removed_now,
        failing_now=recorder.failing_now,
        new_versions=recorder.new_versions,
        fatal=recorder.fatal,
        signalled=signalled(),
        cpu=dict(recorder.cpu),
    )


def _robots_ttl(crawl: Crawl) -> timedelta:
    return timedelta(seconds=float(crawl.overrides.get("RAQIB_ROBOTS_TTL", 0)))


def with_browser(
    tasks: list[Task], overrides: dict[str, Any], guard: Guard
) -> tuple[Any, dict[str, Any]]:
    """A crawl with watches that want a browser gets one, behind the guard's
    proxy; any other crawl never imports Playwright."""
    wanting = [t for t in tasks if t.render or t.screenshot]
    if not wanting:
        return None, overrides
    from raqib.config import RenderConfig
    from raqib.crawler import render
    from raqib.crawler.guardproxy import GuardProxy

    cfg = RenderConfig(**overrides.get("RAQIB_RENDER_CONFIG", {}))
    missing = render.available(cfg)
    if missing is not None:
        log.warning("%s", missing)
        return None, {**overrides, "RAQIB_RENDER_MISSING": missing}
    timeout = render.parse_duration(cfg.timeout).total_seconds()
    proxy = GuardProxy(guard, [origin_of(t) for t in wanting], timeout=timeout * 2)
    schemes = {t.url.split(":", 1)[0] for t in wanting}
    port = proxy.start()
    by_network = proxy.servers_by_network()
    return proxy, {**overrides, **render.crawl_settings(cfg, schemes, port, by_network)}


def shard_main(parent: int, job: Job, conn: Connection) -> None:
    """A shard process: crawl its tasks, report each record and the outcome."""
    storage = None
    try:
        die_with(parent)
        # Its own process group: a Ctrl-C at the terminal reaches the pass alone,
        # which passes it on once (a second SIGINT would make Scrapy stop hard).
        os.setpgrp()
        console.setup(job.log_level)
        from raqib.storage import open_storage

        storage = open_storage(job.database_url)
        outcome = crawl_here(
            storage,
            job.tasks,
            job.crawl,
            alone=True,
            feed=Feed(conn, job.ask) if job.ask else None,
            on_recorded=(lambda task, rec: conn.send(("recorded", task.watch_id, rec)))
            if job.report
            else None,
        )
    except KeyboardInterrupt:
        # The pass's SIGINT, passed on before Scrapy took the signal over, or
        # the terminal's, before this process left the group: it was read as
        # a crawler that failed ("ended without reporting (exit code 1)").
        outcome = CrawlResult()  # stopped: what it did not record is the next pass's
    except BaseException as exc:
        outcome = CrawlResult(fatal=_portable(exc))
    finally:
        if storage is not None:
            storage.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)  # start-up and imports included
    outcome.cpu["crawler_processes"] = usage.ru_utime + usage.ru_stime
    conn.send(("done", outcome))
    conn.close()


def _portable(exc: BaseException) -> BaseException:
    """The exception itself if it survives pickling, else its text."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
