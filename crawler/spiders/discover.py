"""Read discovery sources and fetch the candidates they list.

Sources (feeds, sitemaps and sitemap indexes, search feeds) are parsed here;
each listed article passes a prefilter (`want`, from the task layer: already
watched? judged before? clearly unrelated by its feed title and summary?) and
the private-address guard, then is fetched and extracted. Judging happens
after the crawl, on everything collected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from raqib import urls
from raqib.crawler.context import context_of
from raqib.crawler.responses import header, text
from raqib.crawler.spiders.refetch import HANDLED_STATUSES, describe_failure, fetched_from
from raqib.discovery import feeds
from raqib.discovery.findings import CandidatePage, SourceFetched, Spool
from raqib.discovery.judge import JUDGED_BEFORE, JUDGED_ON_FEED, KNOWN_BEFORE, NO_COVERAGE
from raqib.discovery.outlets import lists_stories, refusal
from raqib.extract.page import make_page
from raqib.extract.results import NotArticle
from raqib.guard import Guard, network_of


@dataclass(frozen=True)
class SourceTask:
    source_id: int
    story_id: int
    url: str  # ready to fetch (a search template already filled)
    listed_url: str  # as the user added it


@dataclass(frozen=True)
class LinkTask:
    """A link found inside one of the story's watched articles."""

    story_id: int
    url: str
    found_in: str
    anchor: str


# want(story_id, url, title, summary) → None to fetch, or the reason to skip.
Want = Callable[[int, str, str | None, str | None], str | None]


@dataclass
class DiscoveryJob:
    """What one discovery crawl reads (it travels in the pass context)."""

    sources: list[SourceTask] = field(default_factory=list)
    links: list[LinkTask] = field(default_factory=list)
    want: Want = lambda *_: None
    max_candidates: int = 200  # new candidates fetched per source per run
    # When it failed, for a candidate tried again (None: not one of those).
    retrying: Callable[[int, str], datetime | None] = lambda *_: None
    spool: Spool | None = None  # where each article's fetch waits to be judged


_NOT_COVERAGE = frozenset({"section", "profile"})  # pagemeta.PageMeta.kind
# Said so (JSON-LD, og:type): no list, whatever its shape.
_COVERAGE = frozenset({"article", "live"})


class DiscoverSpider(scrapy.Spider):
    name = "discover"
    job: DiscoveryJob
    sitemaps: feeds.SitemapBudget
    seen: set[tuple[int, str]]
    budget: dict[int, int]  # new candidates each source may still have fetched this run
    retries: dict[int, int]  # and failed ones tried again
    guard: Guard | None
    clock: Callable[[], datetime]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        ctx = context_of(crawler)
        spider.job = ctx.discovery or DiscoveryJob()
        spider.guard = ctx.guard
        spider.clock = ctx.clock
        spider.seen = set()
        spider.budget = {src.source_id: spider.job.max_candidates for src in spider.job.sources}
        spider.retries = {k: max(1, v // 4) if v > 0 else 0 for k, v in spider.budget.items()}
        spider.sitemaps = feeds.SitemapBudget()
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for src in self.job.sources:
            yield scrapy.Request(
                src.url,
                callback=self.parse_source,
                errback=self.source_failed,
                dont_filter=True,
                meta={
                    "source": src,
                    "depth": 0,
                    "raqib_capture": True,
                    "raqib_origin": src.url,
                    "handle_httpstatus_list": HANDLED_STATUSES,  # "HTTP 404", not HttpError
                },
            )
        for link in self.job.links:
            for out in self._candidate(
                link.story_id,
                link.url,
                f"link in {link.found_in}",
                None,
                link.anchor,
                None,
                link.found_in,
            ):
                yield out

    # --- sources --------------------------------------------------------------

    def parse_source(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        src: SourceTask = response.meta["source"]
        depth: int = response.meta["depth"]
        if response.status >= 400:
            yield SourceFetched(src.source_id, response.url, error=f"HTTP {response.status}")
            return
        parsed = feeds.parse(
            response.body, response.url, header(response, b"Content-Type"),
            max_size=self.settings.getint("DOWNLOAD_MAXSIZE"),
        )  # fmt: skip
        yield SourceFetched(
            src.source_id,
            response.url,
            kind=parsed.kind,
            entries=len(parsed.entries),
            error=parsed.error,
        )
        for child in self.sitemaps.follow(src.source_id, parsed.children, depth):
            yield scrapy.Request(
                child,
                callback=self.parse_source,
                errback=self.source_failed,
                meta={
                    "source": src,
                    "depth": depth + 1,
                    "raqib_origin": src.url,
                    "raqib_capture": True,
                    "handle_httpstatus_list": HANDLED_STATUSES,
                },
            )

        # max_candidates new ones a source, over its sitemap's children too: those
        # known or judged before cost no fetch, and counted, they kept a long feed's
        # later entries from ever being reached. Those that failed before are tried
        # again on a budget of their own (a quarter), the longest waiting first: a
        # source's dead links take no new one's place, nor starve each other.
        def take(entry: Any) -> Generator[Any, None, int]:
            return self._candidate(
                src.story_id, entry.url, src.listed_url, src.source_id, entry.title,
                entry.summary, src.url,
            )  # fmt: skip

        later = []
        for entry in parsed.entries:
            if failed_at := self.job.retrying(src.story_id, self._normal(entry.url)):
                later.append((failed_at, entry))
            elif self.budget[src.source_id] > 0:
                self.budget[src.source_id] -= yield from take(entry)
        for _failed_at, entry in sorted(later, key=lambda pair: pair[0]):
            if self.retries[src.source_id] <= 0:
                break
            self.retries[src.source_id] -= yield from take(entry)

    @staticmethod
    def _normal(url: str) -> str:
        try:
            return urls.normalize(url, allow_credentials=True)
        except urls.BadURL:
            return url

    def source_failed(self, failure: Failure) -> Iterator[Any]:
        src: SourceTask = failure.request.meta["source"]  # type: ignore[attr-defined]
        yield SourceFetched(src.source_id, failure.request.url, error=describe_failure(failure))  # type: ignore[attr-defined]

    # --- candidates -------------------------------------------------------------

    def _candidate(
        self,
        story_id: int,
        raw_url: str,
        found_via: str,
        source_id: int | None,
        title: str | None,
        summary: str | None,
        found_on: str,
    ) -> Generator[Any, None, int]:
        """The candidate's fetch, or its decision; returns 1 if it is new (not
        watched, nor judged before), else 0."""
        try:
            url = urls.normalize(raw_url, allow_credentials=True)
        except urls.BadURL:
            return 0
        if (story_id, url) in self.seen:
            return 0
        self.seen.add((story_id, url))
        base = CandidatePage(
            story_id, url, found_via, source_id, feed_title=title, feed_summary=summary
        )
        skip = self.job.want(story_id, url, title, summary)
        new = int(skip is None or not skip.startswith((KNOWN_BEFORE, JUDGED_BEFORE)))
        if skip is None or skip == JUDGED_ON_FEED:
            # Checked here too, not only when fetched: a candidate judged on
            # its feed entry alone is watched unfetched, and a watch's own URL
            # is the network its refetches may reach. (Not for one known or
            # judged before: that would be said again on every run.)
            # Nor is a page whose address says it is no article (a home, a
            # section, a tag or author page: what outlets refuse too).
            skip = self._outside(url, found_on) or refusal(url) or skip
        if skip is not None:
            base.skipped = skip
            yield base
            return new
        yield scrapy.Request(
            url,
            callback=self.parse_candidate,
            errback=self.candidate_failed,
            dont_filter=True,
            meta={
                "candidate": base,
                "raqib_origin": found_on,
                "raqib_capture": True,
                "handle_httpstatus_list": HANDLED_STATUSES,
                # Watched, its first check must write the page whole: exports
                # hold a watch's own fetches (raqib.archive.warc).
                "raqib_basis": False,
            },
        )
        return 1

    def _outside(self, url: str, found_on: str) -> str | None:
        """Why `url` may not be taken from a page on `found_on`'s network, if so
        (a public feed listing an intranet address, say)."""
        if self.guard is None or self.guard.allow_private:
            return None
        if network_of(url) in self.guard.allowed(found_on):
            return None
        return f"blocked: a {network_of(url)} address listed by a {network_of(found_on)} page"

    def parse_candidate(self, response: Response, **kwargs: Any) -> Iterator[CandidatePage]:
        c: CandidatePage = response.meta["candidate"]
        c.final_url = response.url
        if response.status >= 400:
            c.error = f"HTTP {response.status}"
        elif not isinstance(response, TextResponse):
            c.error = "not an HTML page"
        else:
            try:
                page: Any = make_page(text(response)[0], response.url)
            except Exception as exc:  # a stranger's page: this candidate's error, judged once
                page = NotArticle(f"analysis failed: {type(exc).__name__}: {exc}"[:300])
            if isinstance(page, NotArticle):
                c.error = f"not an article: {page.reason}"
            elif page.kind in _NOT_COVERAGE:  # a list of teasers churns every hour
                c.error = f"{NO_COVERAGE}a {page.kind} page, as it says (JSON-LD)"
            elif page.kind not in _COVERAGE and lists_stories(
                text(response)[0], response.url, page.snapshot.text
            ):
                c.error = f"{NO_COVERAGE}a list of other stories' headlines"
            else:
                c.title = page.snapshot.title
                c.text = page.snapshot.text
                c.canonical_url = page.canonical_url
                c.amp_url = page.amp_url
                self._keep(c, response)
        yield c

    def _keep(self, c: CandidatePage, response: Response) -> None:
        """Spool the candidate's fetch: watched, it is its version 1. Not when its
        archive failed (a Future's error: no evidence, no version), nor when the
        spool cannot be written (a full disk): its first check fetches it then."""
        if self.job.spool is None or isinstance(response.meta.get("raqib_warc"), Future):
            return
        try:
            c.kept = self.job.spool.put(fetched_from(response, 0, self.clock()))
        except OSError as exc:
            self.logger.warning("the fetch of %s was not kept: %s", c.url, exc)

    def candidate_failed(self, failure: Failure) -> Iterator[CandidatePage]:
        c: CandidatePage = failure.request.meta["candidate"]  # type: ignore[attr-defined]
        reason = describe_failure(failure)
        if reason.startswith("private address guard: "):
            c.skipped = "blocked: " + reason.removeprefix("private address guard: ")
        else:
            c.error = reason
        yield c
