"""Crawls in this process, one after another, on one reactor.

Twisted's reactor runs once per process. Raqib runs it in a thread of its
own, started by the first crawl and left running, so that a pass reads its
outlets' feeds, records what they list, and claims and crawls batch after
batch in one process: no child process and no second import of Scrapy and
trafilatura for a pass that does not need the cores.

The calling thread waits for each crawl and handles SIGINT and SIGTERM as
Scrapy's CrawlerProcess does: the first stops the crawl gracefully (what is
in flight is still recorded), the second stops waiting for it at once.
"""

from __future__ import annotations

import asyncio
import atexit
import queue
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from scrapy import signals
from scrapy.crawler import AsyncCrawlerRunner, Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy.utils.reactor import install_reactor

_session: Session | None = None
_lock = threading.Lock()


class CrawlStopped(KeyboardInterrupt):
    """A second signal: the crawl was abandoned, not finished. An interrupt,
    not an error: a crawl that reads outlets' feeds (no recorder to abandon)
    stops its pass as Ctrl-C does, exit 130, past every handler of errors."""


class PassStopping(IgnoreRequest):
    """A request still queued when the first signal came: never sent."""


class LeaseLapsed(PassStopping):
    """A request whose watch's lease ran out while it was queued: never sent
    (another worker may hold the watch, and its site, now)."""


class Session:
    def __init__(self, settings: Settings) -> None:
        install_reactor(settings["TWISTED_REACTOR"], settings["ASYNCIO_EVENT_LOOP"])
        from twisted.internet import reactor

        self.reactor: Any = reactor
        # What Scrapy's CrawlerProcess sets up before it runs the reactor.
        resolver_class = load_object(settings["TWISTED_DNS_RESOLVER"])
        holder = SimpleNamespace(settings=settings)
        build_from_crawler(resolver_class, holder, reactor=reactor).install_on_reactor()  # type: ignore[call-overload]
        reactor.getThreadPool().adjustPoolsize(
            maxthreads=settings.getint("REACTOR_THREADPOOL_MAXSIZE")
        )
        self.runner = AsyncCrawlerRunner(settings)
        ready = threading.Event()
        reactor.callWhenRunning(ready.set)
        self.thread = threading.Thread(
            target=self._run,
            name="raqib-reactor",
            daemon=True,  # a forced stop must not wait for it
        )
        self.thread.start()
        ready.wait()

    def _run(self) -> None:
        self.reactor.run(installSignalHandlers=False)  # signals are the calling thread's

    def crawl(self, spidercls: type, settings: Settings, context: Any) -> Crawler:
        """Run one crawl to its end on the reactor thread; returns the crawler."""
        from raqib.crawler.context import attach

        done: queue.SimpleQueue[BaseException | None] = queue.SimpleQueue()
        crawlers: list[Crawler] = []

        def start() -> None:
            try:
                crawler = Crawler(spidercls, settings)
                attach(crawler, context)
                crawlers.append(crawler)
                if _seen:  # told to stop before the crawl began: it never starts
                    done.put(None)
                    return
                # Told while it was starting (too early for a graceful stop to take)?
                crawler.signals.connect(
                    _stop_if_told(crawler), signal=signals.engine_started, weak=False
                )
                task = self.runner.crawl(crawler)
            except BaseException as exc:  # reported to the waiting thread
                done.put(exc)
                return
            task.add_done_callback(lambda t: done.put(None if t.cancelled() else t.exception()))

        with _signals(crawlers) as stopped:
            self.reactor.callFromThread(start)
            while True:
                try:
                    error = done.get(timeout=0.2)  # a timeout keeps signals handled promptly
                    break
                except queue.Empty:
                    if stopped.is_set():
                        raise CrawlStopped("stopped at once by a second signal") from None
        if error is not None:
            raise error
        return crawlers[0]

    def stop_gracefully(self, crawlers: list[Crawler]) -> None:
        def stop() -> None:
            for c in crawlers:
                deferred_from_coro(c.stop_async())
            drop_queued(crawlers)

        self.reactor.callFromThread(stop)

    def close(self) -> None:
        """Stop the reactor (at exit: a daemon thread left running in an
        interpreter being torn down can take its output streams with it)."""
        if self.thread.is_alive():
            self.reactor.callFromThread(self.reactor.stop)
            self.thread.join(timeout=5)


# SIGINT/SIGTERM received during crawls. Never reset: a pass told to stop
# finishes the crawl in hand and starts no other (its next batch, say).
_seen = 0
_running: list[Crawler] = []  # the crawl in progress, if any
_forced = threading.Event()


def drop_queued(crawlers: list[Crawler]) -> None:
    """A stopping crawl's requests that wait in a site's queue are dropped
    (each watch is left, untouched, to the next pass); what is being
    transferred finishes and is recorded. Scrapy's own graceful stop would
    download the whole queue first: twelve seconds for twelve pages of a slow
    site that allows one request at a time. Called on the reactor thread,
    once the crawls are stopping."""
    for c in crawlers:
        for slot in c.engine.downloader.slots.values() if c.engine else ():
            while slot.queue:
                request, queued = slot.queue.popleft()
                queued.errback(PassStopping(f"the pass is stopping: {request.url}"))


def signalled() -> bool:
    """Whether this process was told to stop (SIGINT or SIGTERM) during a crawl."""
    return _seen > 0


def note_signal() -> None:
    """A crawler process's own crawl (Scrapy's process, crawler.compat) was
    told to stop: `signalled` says so in its report to the pass."""
    global _seen
    _seen = max(_seen, 1)


def _handler(signum: int, _frame: Any) -> None:
    global _seen
    _seen += 1
    if _seen == 1:
        if _session is not None and _running:
            _session.stop_gracefully(list(_running))
    else:
        _forced.set()


def _stop_if_told(crawler: Crawler) -> Any:
    def check() -> None:  # returns nothing: Scrapy would wait for a Deferred it returned
        if _seen:  # on the reactor's own loop, once the engine has finished starting
            asyncio.get_running_loop().call_soon(lambda: deferred_from_coro(crawler.stop_async()))

    return check


@contextmanager
def _signals(crawlers: list[Crawler]) -> Iterator[threading.Event]:
    """The crawl's signal handling, for the duration of one crawl; outside the
    main thread, signals stay the caller's."""
    global _running
    _running = crawlers  # filled by the reactor thread as the crawl starts
    main = threading.current_thread() is threading.main_thread()
    previous = {}
    if main:
        previous = {sig: signal.signal(sig, _handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield _forced
    finally:
        _running = []
        for sig, old in previous.items():
            signal.signal(sig, old)


def session(settings: Settings) -> Session:
    """This process's session, started with the first crawl's settings."""
    global _session
    with _lock:
        if _session is None:
            _session = Session(settings)
            atexit.register(_session.close)
        return _session
