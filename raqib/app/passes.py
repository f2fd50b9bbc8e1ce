"""One pass: claim the due watches, crawl them, analyse what changed, tell
the channels. The steps run in that order and nowhere else."""

from __future__ import annotations

import dataclasses
import logging
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from raqib import analysis
from raqib.app import search, warmup
from raqib.app.claims import Claims, check_clock
from raqib.app.errors import PassFailed, describe
from raqib.app.home import App, new_owner, warc_dir
from raqib.app.notifications import notify_pass
from raqib.config import parse_duration
from raqib.crawler.robots import RobotsMemory
from raqib.crawler.shards import CrawlResult
from raqib.domain import ChangeKind, Outcome, Recorded, Task
from raqib.guard import Guard
from raqib.loading import importing
from raqib.scheduler import RevisitPolicy

log = logging.getLogger("raqib")


@dataclass
class PassSummary:
    claimed: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    first_captures: int = 0  # of the new versions, those that were a watch's first
    substantive: int = 0
    cosmetic: int = 0
    seconds: float = 0.0
    lease_lost: int = 0
    processes: int = 1  # crawler processes the pass ran in
    workers: int = 0  # extraction workers beside a crawl in the pass's own process
    worker_deaths: int = 0  # extraction workers that died analysing (crawler.workers)
    notified: int = 0  # messages delivered before the pass ended
    notify_pending: int = 0  # queued, still to deliver (retried later)
    outlets: Any = None  # raqib.app.outlets.ReadReport: the sources read first
    stopped: bool = False  # a signal stopped it
    left: int = 0  # claimed, neither recorded nor taken by another pass: due again
    # CPU seconds: this process's and its crawler processes' totals, and the
    # crawls' stages (see CrawlResult.cpu and cpu_stages).
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.counts[Outcome.ERROR] + self.counts[Outcome.NOT_ARTICLE]


def crawl_settings(app: App) -> dict[str, Any]:
    """Scrapy settings for this home: [fetch] plus where the WARC files go."""
    from raqib.crawler.settings import from_config

    settings = {**from_config(app.config.fetch), **outlet_settings(app)}
    settings["RAQIB_RENDER_CONFIG"] = dataclasses.asdict(app.config.render)
    if app.config.archive.warc:
        settings["RAQIB_WARC_DIR"] = str(warc_dir(app))
        settings["RAQIB_WARC_MAX_BYTES"] = int(app.config.archive.max_file_mb * 1024 * 1024)
    return settings


def robots_memory(app: App) -> RobotsMemory:
    """This home's kept robots.txt answers, for the crawls of one pass."""
    ttl = parse_duration(app.config.fetch.robots_ttl)
    return RobotsMemory.load(app.storage.robots, app.clock, ttl)


def revisit_policy(app: App) -> RevisitPolicy:
    """The schedule's curve, and each outlet's own where raqib.toml gives one."""
    policy = RevisitPolicy(app.config.schedule)
    per = app.config.outlets.per
    if any(s.curve for s in per.values()):
        for o in app.storage.outlets.all():
            s = per.get(o.name)
            if s is not None and s.curve:
                policy.by_outlet[o.id] = RevisitPolicy(
                    dataclasses.replace(app.config.schedule, curve=s.curve)
                )
    return policy


def outlet_settings(app: App) -> dict[str, Any]:
    """[outlets.NAME] politeness, headers and cookies, for the hosts of each
    outlet's sources (Scrapy's download slots are per host)."""
    per = app.config.outlets.per
    if not per:
        return {}
    slots: dict[str, dict[str, Any]] = {}
    headers: dict[str, dict[str, str]] = {}
    for o in app.storage.outlets.all():
        s = per.get(o.name)
        if s is None:
            continue
        for host in {h for src in o.sources for h in same_hosts(src.url)}:
            slot: dict[str, Any] = {}
            if s.concurrency:
                slot["concurrency"] = s.concurrency
            if s.delay:
                slot["delay"] = parse_duration(s.delay).total_seconds()
            if slot:
                slots[host] = slot
            extra = dict(s.headers)
            if s.cookies:
                extra["Cookie"] = "; ".join(f"{k}={v}" for k, v in s.cookies.items())
            if extra:
                headers[host] = extra
    return {"DOWNLOAD_SLOTS": slots, "RAQIB_HOST_HEADERS": headers}


def same_hosts(url: str) -> set[str]:
    """A source's host, with and without "www." (articles often live on the other)."""
    host = (urlsplit(url).hostname or "").lower()
    bare = host.removeprefix("www.")
    return {host, bare, "www." + bare} if host else set()


def run_check(
    app: App,
    *,
    all_watches: bool = False,
    wait: bool = False,
    wait_timeout: float | None = None,
    limit: int | None = None,
    only: list[int] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_recorded: Callable[[Task, Recorded], None] | None = None,
) -> PassSummary:
    """One pass: claim due watches batch after batch (at most `limit`; with
    `only`, just those watches), fetch each once, record, analyse the new
    versions, tell the channels."""
    started = time.monotonic()
    owner = new_owner()
    summary = PassSummary()
    robots = robots_memory(app)  # each host's robots.txt: once a pass, or kept from before
    try:
        check_clock(app, parse_duration(app.config.schedule.lease))  # before outlets, claims
        if only is None:  # a whole pass reads the outlets' due sources first
            from raqib.app import outlets

            warmup.before_feeds(app, all_watches=all_watches, limit=limit)
            summary.outlets = outlets.read_sources(app, owner, robots=robots)
        claims = Claims(
            app, owner, all_watches=all_watches, limit=limit, only=only,
            on_start=on_start,
        )  # fmt: skip
        tasks = claims.first(wait=wait, wait_timeout=wait_timeout)
        outcome = CrawlResult()
        while tasks:
            done = _crawl(app, owner, tasks, summary, on_recorded, claims, robots)
            outcome.add(done)
            # Watches a stall lost are left to their new holders; the pass goes on.
            recorded = sum(done.counts.values()) + done.lease_lost + done.dropped
            if done.fatal is not None or done.signalled or recorded < done.handed:
                summary.stopped = done.signalled and done.fatal is None  # else raised below
                app.storage.leases.stop_waiting(owner)  # it claims no more
                break
            tasks = claims.next()
        summary.claimed = claims.claimed
        if outcome.fatal is not None:
            raise PassFailed(f"the pass stopped: {describe(outcome.fatal)}") from outcome.fatal
        summary.counts = outcome.counts
        unrecorded = max(claims.claimed - sum(outcome.counts.values()) - outcome.lease_lost, 0)
        # Due again is what it still holds: a pass stopped past its lease (SIGSTOP, a
        # stall) may find some of the rest taken, and checked, by another worker since.
        summary.left = min(unrecorded, _held(app, owner)) if unrecorded else 0
        summary.lease_lost = outcome.lease_lost + unrecorded - summary.left
        summary.first_captures = sum(1 for _watch, number in outcome.new_versions if number == 1)
        own = set(outcome.new_versions)
        # Its own versions, and what a pass that stopped a lease ago left.
        analysed = analysis.analyze_pending(
            app.storage,
            watches={w for w, number in own if number > 1},
            before=app.clock() - parse_duration(app.config.schedule.lease),
        )
        analysis.upgrade_stale(app.storage)
        search.index(app)  # the new versions become searchable
        for change, new in analysed:
            if (new.watch_id, new.number) not in own:
                continue  # another pass's version, left unanalysed: analysed, not counted
            if change.kind == ChangeKind.SUBSTANTIVE:
                summary.substantive += 1
            else:
                summary.cosmetic += 1
        summary.notified, summary.notify_pending = notify_pass(
            app,
            # What passes fetched (its own, or one that stopped before judging
            # its versions); never an import's history, judged here by chance.
            changes=[c for c, new in analysed if new.fetch_id is not None],
            removed=outcome.removed_now,
            failing=outcome.failing_now,
        )
        summary.seconds = time.monotonic() - started
        summary.cpu = cpu_stages(outcome.cpu)
        if only is None and limit is None:
            warmup.after_pass(app.home, processes=summary.processes, claimed=summary.claimed)
        return summary
    finally:
        # Whatever a stop or a failure left unrecorded is free again. If the
        # database cannot be written, the leases simply expire.
        try:
            app.storage.leases.release(owner)
        except Exception as exc:
            log.warning("could not release leases: %s", describe(exc))
        warmup.stop()  # started early, or for the crawl


def _held(app: App, owner: str) -> int:
    """What the pass still holds (a summary's count: none read, all of them)."""
    try:
        return int(app.storage.leases.held(owner))
    except Exception as exc:  # the database out of reach as the pass ends
        log.warning("could not count the watches left: %s", describe(exc))
        return sys.maxsize


STAGES = ("analysis", "storage", "archive", "fetching")
MAX_INTERVAL = 366 * 86400.0  # the daemon's intervals: a year at most


def cpu_stages(crawled: dict[str, float]) -> dict[str, float]:
    """Where a pass's CPU went, in seconds. `this_process`,
    `crawler_processes` and `extraction_workers` are totals (start-up,
    imports, feed reads, hand-overs and the work after the crawl included).
    The stages are summed over the pass's crawls and are parts of those
    totals: analysis (wherever it ran: in an extraction worker, of that
    worker's total), storage (the writer threads), archive (WARC records) and
    fetching (the rest of each crawl's thread: Scrapy, Twisted, judging each
    fetch)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    totals = {
        "this_process": usage.ru_utime + usage.ru_stime,
        "crawler_processes": crawled.get("crawler_processes", 0.0),
        "extraction_workers": crawled.get("extraction_workers", 0.0),
    }
    stages = {s: crawled.get(s, 0.0) for s in STAGES}
    return {k: round(v, 3) for k, v in (totals | stages).items()}


def _crawl(
    app: App,
    owner: str,
    tasks: list[Task],
    summary: PassSummary,
    on_recorded: Callable[[Task, Recorded], None] | None,
    claims: Claims,
    robots: RobotsMemory,
) -> CrawlResult:
    """Crawl a claimed batch; in crawler processes, the batches after it too
    (claimed as the processes ask for more), bar those that want a browser."""
    with importing():  # Scrapy is imported only by passes
        from raqib.crawler import pool as procs
        from raqib.crawler.crew import crawl_sharded
        from raqib.crawler.shards import Crawl, crawl_here, shard_count, work
        from raqib.crawler.workers import Workers

    crawl = Crawl(
        owner=owner,
        policy=revisit_policy(app),
        clock=app.clock,
        overrides=crawl_settings(app),
        lease_seconds=parse_duration(app.config.schedule.lease).total_seconds(),
        guard=Guard(allow_private=app.config.fetch.allow_private),
    )
    # A full batch means more may follow: the forkserver started for it serves them too.
    shards = shard_count(tasks, app.config.fetch.processes, more=claims.full)
    summary.processes = max(summary.processes, shards)
    if shards > 1:
        browser = any(t.render or t.screenshot for t in tasks)
        return crawl_sharded(
            tasks,
            crawl,
            more=None if browser else claims.plain,
            shards=shards,
            database_url=app.storage.url(),
            on_recorded=on_recorded,
        )
    if not claims.full:
        warmup.stop()  # started on a guess, and this last batch stays here
    workers = procs.extraction_workers(work(tasks), app.config.fetch.workers)
    summary.workers = max(summary.workers, workers)
    if not workers:
        return crawl_here(app.storage, tasks, crawl, on_recorded=on_recorded, robots=robots)
    pool = Workers.forked(workers, extracts=any(t.region is None for t in tasks))
    try:
        result = crawl_here(
            app.storage, tasks, crawl, pool=pool, on_recorded=on_recorded, robots=robots
        )
    finally:
        spent = pool.finish()
        summary.worker_deaths += pool.deaths
    result.cpu["extraction_workers"] = spent
    return result


def run_daemon(
    app: App,
    *,
    every: float | None,
    discover_every: float | None,
    jitter: float | None,
    verbose: int = 0,
) -> int:
    """Run sweeps (and discovery, and deliveries) until SIGTERM; returns the exit code."""
    from raqib.app.errors import BadInput
    from raqib.scheduler import Daemon, DaemonOptions

    s = app.config.schedule
    sweep = every if every is not None else parse_duration(s.sweep_every).total_seconds()
    disc = (
        discover_every
        if discover_every is not None
        else parse_duration(s.discover_every).total_seconds()
    )
    # Bounded, or APScheduler computes run times without end (a negative
    # interval: memory without bound, a daemon SIGTERM could not stop).
    for option, value, least in (("--every", sweep, 1.0), ("--discover-every", disc, 0.0),
                                 ("--jitter", jitter or 0.0, 0.0)):  # fmt: skip
        if not least <= value <= MAX_INTERVAL:  # NaN too
            raise BadInput(
                f"{option} {value:g}: seconds from {least:g} to {MAX_INTERVAL:,.0f} (a year)"
                + ("; 0 turns discovery off" if option == "--discover-every" else "")
            )
    opts = DaemonOptions(
        home=app.home,
        every=sweep,
        discover_every=disc or None,
        jitter=jitter if jitter is not None else min(sweep / 10, 30.0),
        verbose=verbose,
    )

    def due() -> int:  # due watches, and outlet sources due a read
        now = app.clock()
        return app.storage.leases.count_due(now=now) + app.storage.outlets.count_due(now=now)

    return Daemon(opts, due=due).run()
