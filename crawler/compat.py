"""Every override of Scrapy internals, in one place.

Each one replaces upstream code that Raqib found wrong, and relies on private
names. `UPSTREAM` records, per override, the Scrapy code it was written
against (a fingerprint of its source): tests/test_compat.py fails when Scrapy
moves past the version written for or that code changes, so the override is
reviewed (and, once upstream is fixed, dropped) rather than silently kept.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
from collections.abc import Callable
from time import monotonic
from types import SimpleNamespace
from typing import Any

from scrapy import Request, signals
from scrapy.core.downloader import Downloader
from scrapy.crawler import AsyncCrawlerProcess
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.extensions.throttle import AutoThrottle
from scrapy.robotstxt import RobotParser
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro
from scrapy.utils.deprecate import create_deprecated_class
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred
from twisted.python.reflect import safe_str

from raqib.crawler.context import PassContext, context_of
from raqib.crawler.robots import MAX_BODY, origin
from raqib.crawler.session import LeaseLapsed

WRITTEN_FOR = "2.19"


class PoliteDownloader(Downloader):
    """Scrapy's downloader, with its per-site concurrency limit kept.

    Scrapy 2.19 on the asyncio reactor starts each download as an asyncio
    task and marks the request as transferring only once that task runs, so
    `_process_queue` sees every transfer slot still free and starts a whole
    queue at once: CONCURRENT_REQUESTS_PER_DOMAIN = 4 let 10 and more
    requests reach one site together (tests/test_shards.py counts them at the
    server). This marks the request before the task is created, which is all
    the fix needs (`_download` adds it again and removes it when done).

    It also sends no request for a watch whose lease the pass has lost
    (`_may_send`).
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._context: PassContext | None
        try:
            self._context = context_of(crawler)
        except NotConfigured:
            self._context = None  # a crawl without a pass context: no leases to keep

    def _may_send(self, request: Request) -> bool:
        """Whether the pass still holds the lease of the request's watch
        (crawler.extensions.LeaseKeeper): asked as the request leaves its
        site's queue, the last moment before it is sent."""
        keeper = self._context.leases if self._context is not None else None
        watch_id = request.meta.get("watch_id")
        return keeper is None or watch_id is None or keeper.holds(watch_id)

    def _process_queue(self, slot: Any) -> None:
        if slot.latercall:
            return  # a download delay is pending: its call resumes the queue
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            request, queue_dfd = slot.queue.popleft()
            if not self._may_send(request):
                queue_dfd.errback(LeaseLapsed(f"the lease on this watch ran out: {request.url}"))
                continue
            slot.lastseen = now
            slot.transferring.add(request)  # the line Scrapy is missing
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:  # one request per delay, as Scrapy does
                self._process_queue(slot)
                break


class RobotsTxt(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with concurrent waiters fixed, its
    parsers shared by the crawls of a pass, and its answers kept between
    passes (PassContext.robots, crawler.robots): a pass that reads a feed and
    then crawls its articles, or crawls batch after batch, asked each host for
    robots.txt once per crawl, and every pass asked again.

    In Scrapy 2.19 every request that arrives while robots.txt is being
    fetched awaits the same Deferred through asFuture(), which hands the
    parser to the first waiter and None to the others — and None means
    "allowed". With several requests per site in flight (the norm here),
    disallowed pages were fetched. The parser is stored before the Deferred
    fires, so a waiter that got None reads it from there.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        try:
            self._memory = context_of(crawler).robots
        except NotConfigured:
            self._memory = None  # a crawl without a pass context: its own parsers
        if self._memory is not None:
            shared = self._memory.parsers
            # What an earlier crawl of the pass left mid-fetch is fetched again.
            for netloc in [n for n, p in shared.items() if isinstance(p, Deferred)]:
                del shared[netloc]
            self._parsers = shared
            crawler.signals.connect(self._memory.save, signal=signals.spider_closed)

    async def robot_parser(self, request: Request) -> Any:
        url = urlparse_cached(request)
        if url.netloc not in self._parsers and self._memory is not None:
            body = self._memory.recall(origin(url.scheme, url.netloc))
            if body is not None:  # answered within the TTL, in an earlier pass
                self._parsers[url.netloc] = build_from_crawler(self._parserimpl, self.crawler, body)
                self._stats.inc_value("robotstxt/kept_answer_count")
        parser = await super().robot_parser(request)
        if parser is None:
            stored = self._parsers.get(url.netloc)
            if stored is not None and not isinstance(stored, Deferred):
                return stored
        return parser

    async def _parse_robots(self, response: Any, netloc: str, request: Request) -> None:
        if response.status >= 500 or response.status == 429:
            self._unreadable(netloc, f"HTTP {response.status}")
            return
        if len(response.body) > MAX_BODY:
            # RFC 9309 §2.5 asks for the first 500 KiB: a stranger's 8 MB of
            # wildcard rules took seconds to parse, and more for each request.
            cut = response.body[:MAX_BODY]
            response = response.replace(body=cut[: cut.rfind(b"\n") + 1] or cut)
        if self._memory is not None:
            url = urlparse_cached(request)
            self._memory.learn(origin(url.scheme, url.netloc), response.status, response.body)
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, IgnoreRequest):  # refused (the address guard): so is the page
            super()._robots_error(exc, netloc)
            return
        self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        self._unreadable(netloc, describe_error(exc, limit=200))

    def _unreadable(self, netloc: str, why: str) -> None:
        """RFC 9309 §2.3.1.4: a robots.txt unreachable for the server's or the
        network's fault means complete disallow (upstream allowed everything,
        from a host that answered 503, timed out or sent 9 MB of "Disallow:
        /"). Not kept between passes: the next asks again."""
        waiting = self._parsers[netloc]
        self._parsers[netloc] = parser = Unreadable(why)
        if isinstance(waiting, Deferred):
            waiting.callback(parser)

    def process_request_2(self, rp: Any, request: Request) -> None:
        if isinstance(rp, Unreadable):
            self._stats.inc_value("robotstxt/unreadable")
            raise IgnoreRequest(
                f"{UNREADABLE} ({rp.why}): nothing is fetched from the host until it is read"
            )
        super().process_request_2(rp, request)


UNREADABLE = "robots.txt could not be read"


class Unreadable(RobotParser):
    """A host's robots.txt parser when robots.txt could not be read: it allows nothing."""

    def __init__(self, why: str) -> None:
        self.why = why

    @classmethod
    def from_crawler(cls, crawler: Any, robotstxt_body: bytes) -> Unreadable:
        return cls("no body")  # never built from a body: RobotParser asks for the method

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


def describe_error(exc: BaseException, limit: int = 400) -> str:
    """One line for a log: the error's kind and message, bounded (a fetch's
    failure, crawler.spiders.refetch, and a robots.txt download's)."""
    name = type(exc).__name__
    message = safe_str(exc).strip().replace("\n", " ")
    if not message and name in ("DownloadCancelledError", "CancelledError"):
        # Scrapy cancels a body that passes the size limit as it arrives (no
        # Content-Length announced it) without a word; one announced says so.
        message = "the body passed the size limit (fetch.max_size_mb) as it arrived"
    return (f"{name}: {message}" if message else name)[:limit]


class Throttle(AutoThrottle):
    """Scrapy's AutoThrottle, pacing a site by its latency on every answer.

    Scrapy 2.19 lowers a site's delay only after a 200: a site that answers
    304 Not Modified (the cheapest answer there is) stays at the start delay
    for the whole pass, so a conditional pass crawled slower than a full one
    (60 pages on one host: 2.3 s of 200s, 10.9 s of 304s). A 304 or any 2xx
    is the server's real latency; errors and redirects still only raise the
    delay, as upstream intends. The bounds (min, max, target concurrency)
    are upstream's.
    """

    def _adjust_delay(self, slot: Any, latency: float, response: Any) -> None:
        target = latency / self.target_concurrency
        new = min(max(self.mindelay, max(target, (slot.delay + target) / 2.0)), self.maxdelay)
        answered = 200 <= response.status < 300 or response.status == 304
        if not answered and new <= slot.delay:
            return
        slot.delay = new


class StoppingProcess(AsyncCrawlerProcess):
    """A crawler process (crawler.shards) stopped by SIGINT or SIGTERM as the
    pass's own process is (crawler.session): what is being transferred is
    recorded, what waits in a site's queue is dropped. Scrapy's graceful stop
    downloads the whole queue first."""

    def _signal_shutdown(self, signum: int, frame: Any) -> None:
        super()._signal_shutdown(signum, frame)
        from twisted.internet import reactor

        from raqib.crawler.session import drop_queued, note_signal

        note_signal()
        reactor.callFromThread(drop_queued, list(self.crawlers))  # after the stop it began


def import_http_handler() -> None:
    """Import Scrapy's HTTP download handler without its three calls to
    inspect.stack().

    Its TLS modules keep deprecated aliases made by `create_deprecated_class`,
    which calls inspect.stack() only to name the module the alias lives in:
    the source of every frame on the stack is looked up, and sys.modules
    scanned, for each. That was 0.10-0.13 s of the 0.14-0.16 s the import
    takes, on the way to a pass's first request, in the pass's process and in
    the forkserver. While importing, inspect.stack() gives the caller's module
    name only, which is all that function reads (the aliases' __module__ is
    unchanged). A no-op once the handler is imported; called before any
    crawl of the process, so no other thread asks for a stack meanwhile.
    """
    name = "scrapy.core.downloader.handlers.http11"
    if name in sys.modules:
        return
    real = inspect.stack

    def caller_only(context: int = 1) -> list[Any]:
        caller = sys._getframe(2)  # create_deprecated_class's caller: the module body
        return [None, (SimpleNamespace(__module__=caller.f_globals.get("__name__")),)]

    inspect.stack = caller_only  # type: ignore[assignment]
    try:
        __import__(name)
    finally:
        inspect.stack = real


# A response's status line and headers: Twisted bounds each line (16 kB) but
# not how many come. A server sending header lines for the whole download
# timeout grew a crawl to 1.5 GB. Nginx's and Apache's own limits are smaller.
MAX_HEADER_LINES = 500
MAX_HEADER_BYTES = 256 * 1024
LENIENT_PARSER = "scrapy.core.downloader.handlers.http11:_LenientHTTPClientParser.lineReceived"


def bound_response_headers() -> None:
    """Fail a response whose header section passes either bound: a parse
    error, which Twisted's client turns into a failed download (the fetch's
    error), the connection closed. Wraps the parser Scrapy's handler uses (its
    lenient copy of Twisted's); after import_http_handler, for every crawl."""
    from scrapy.core.downloader.handlers.http11 import _LenientHTTPClientParser as Parser
    from twisted.web._newclient import HEADER, STATUS, ParseError

    upstream = Parser.lineReceived
    if getattr(upstream, "raqib_bounded", False):
        return

    def lineReceived(self: Any, line: bytes) -> None:
        if self.state in (STATUS, HEADER):
            lines, size = self.__dict__.get("raqib_header", (0, 0))
            self.raqib_header = lines, size = lines + 1, size + len(line) + 2
            if lines > MAX_HEADER_LINES or size > MAX_HEADER_BYTES:
                raise ParseError(
                    f"response headers past {MAX_HEADER_LINES} lines or {MAX_HEADER_BYTES} bytes",
                    line[:80],
                )
        upstream(self, line)

    def lineLengthExceeded(self: Any, line: bytes) -> None:
        # Twisted closes the connection on a line past MAX_LENGTH, and the
        # fetch read "Connection was closed cleanly": say what happened.
        raise ParseError(f"a response header line past {self.MAX_LENGTH} bytes", line[:80])

    lineReceived.raqib_bounded = True  # type: ignore[attr-defined]
    lineReceived.raqib_upstream = upstream  # type: ignore[attr-defined]
    Parser.lineReceived = lineReceived  # type: ignore[method-assign]
    Parser.lineLengthExceeded = lineLengthExceeded  # type: ignore[method-assign]


def upstream_code(ref: Callable[..., Any] | str) -> Callable[..., Any]:
    """The upstream function an UPSTREAM entry names ("module:qualname" for one
    imported only when a crawl needs it), as it was before any override."""
    if callable(ref):
        return ref
    module, _, qualname = ref.partition(":")
    found: Any = __import__(module, fromlist=["_"])
    for part in qualname.split("."):
        found = getattr(found, part)
    return getattr(found, "raqib_upstream", found)  # type: ignore[no-any-return]


def fingerprint(func: Callable[..., Any]) -> str:
    return hashlib.sha256(inspect.getsource(func).encode()).hexdigest()[:16]


# override → the upstream code it replaces or relies on, with its fingerprint.
UPSTREAM: dict[str, list[tuple[Callable[..., Any] | str, str]]] = {
    "PoliteDownloader": [
        (Downloader._process_queue, "872b81a4bbb4cb1a"),
        (Downloader._wait_for_download, "35ca6793c8795004"),
        (Downloader._download, "a05f219045c8eb55"),
    ],
    "Throttle": [
        (AutoThrottle._adjust_delay, "887ba75e2b411ccf"),
        (AutoThrottle._response_downloaded, "e29e63ba3bea4c5b"),
    ],
    "StoppingProcess": [(AsyncCrawlerProcess._signal_shutdown, "c442fec78acbdc54")],
    "import_http_handler": [(create_deprecated_class, "e7a139fd7e7ca206")],
    "bound_response_headers": [(LENIENT_PARSER, "9e24a690368c02d8")],
    "RobotsTxt": [
        (RobotsTxtMiddleware.__init__, "afc160455d273f0c"),
        (RobotsTxtMiddleware.robot_parser, "4e961c394befa0fc"),
        (RobotsTxtMiddleware._parse_robots, "7d8641e3b334d6ef"),
    ],
}
