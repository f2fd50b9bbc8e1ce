"""Read discovery sources and fetch the candidates they list.

Sources (feeds, sitemaps and sitemap indexes, search feeds) are parsed here;
each listed article passes a prefilter (`want`, from the task layer: already
watched? judged before? clearly unrelated by its feed title and summary?) and
the private-address guard, then is fetched and extracted. Judging happens
after the crawl, on everything collected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from raqib import urls
from raqib.extract.article import NotArticle
from raqib.crawler.items import CandidatePage, SourceFetched
from raqib.extract.page import make_page
from raqib.crawler.spiders.refetch import describe_failure
from raqib.discovery import feeds

MAX_SITEMAP_DEPTH = 2
MAX_CHILD_SITEMAPS = 20


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


class DiscoverSpider(scrapy.Spider):
    name = "discover"
    custom_settings = {"ITEM_PIPELINES": {"raqib.crawler.pipelines.CollectPipeline": 300}}  # noqa: RUF012 - Scrapy's attribute

    def __init__(
        self,
        sources: list[SourceTask] | None = None,
        links: list[LinkTask] | None = None,
        want: Want | None = None,
        guard: Any = None,
        max_candidates: int = 200,
        collector: list[Any] | None = None,
        capture_index: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.capture_index = capture_index  # read by WarcCapture
        self.sources = sources or []
        self.links = links or []
        self.want: Want = want or (lambda *_: None)
        self.guard = guard  # read by PrivateAddressGuard
        self.max_candidates = max_candidates
        self.collector = collector if collector is not None else []
        self.seen: set[tuple[int, str]] = set()

    async def start(self) -> AsyncIterator[Any]:
        for src in self.sources:
            yield scrapy.Request(
                src.url,
                callback=self.parse_source,
                errback=self.source_failed,
                dont_filter=True,
                meta={"source": src, "depth": 0, "raqib_capture": True},
            )
        for link in self.links:
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
        parsed = feeds.parse(response.body, response.url)
        yield SourceFetched(
            src.source_id,
            response.url,
            kind=parsed.kind,
            entries=len(parsed.entries),
            error=parsed.error,
        )
        if depth < MAX_SITEMAP_DEPTH:
            for child in parsed.children[:MAX_CHILD_SITEMAPS]:
                yield scrapy.Request(
                    child,
                    callback=self.parse_source,
                    errback=self.source_failed,
                    meta={
                        "source": src,
                        "depth": depth + 1,
                        "raqib_guard": True,
                        "raqib_guard_source": src.url,
                        "raqib_capture": True,
                    },
                )
        for entry in parsed.entries[: self.max_candidates]:
            yield from self._candidate(
                src.story_id,
                entry.url,
                src.listed_url,
                src.source_id,
                entry.title,
                entry.summary,
                src.url,
            )

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
    ) -> Iterator[Any]:
        try:
            url = urls.normalize(raw_url, allow_credentials=True)
        except urls.BadURL:
            return
        if (story_id, url) in self.seen:
            return
        self.seen.add((story_id, url))
        base = CandidatePage(
            story_id, url, found_via, source_id, feed_title=title, feed_summary=summary
        )
        skip = self.want(story_id, url, title, summary)
        if skip is not None:
            base.skipped = skip
            yield base
            return
        yield scrapy.Request(
            url,
            callback=self.parse_candidate,
            errback=self.candidate_failed,
            dont_filter=True,
            meta={
                "candidate": base,
                "raqib_guard": True,
                "raqib_guard_source": found_on,
                "raqib_capture": True,
            },
        )

    def parse_candidate(self, response: Response, **kwargs: Any) -> Iterator[CandidatePage]:
        c: CandidatePage = response.meta["candidate"]
        c.final_url = response.url
        if response.status >= 400:
            c.error = f"HTTP {response.status}"
        elif not isinstance(response, TextResponse):
            c.error = "not an HTML page"
        else:
            page = make_page(response.text, response.url)
            if isinstance(page, NotArticle):
                c.error = f"not an article: {page.reason}"
            else:
                c.title = page.snapshot.title
                c.text = page.snapshot.text
                c.canonical_url = page.canonical_url
                c.amp_url = page.amp_url
        yield c

    def candidate_failed(self, failure: Failure) -> Iterator[CandidatePage]:
        c: CandidatePage = failure.request.meta["candidate"]  # type: ignore[attr-defined]
        reason = describe_failure(failure)
        if reason.startswith("private address guard: "):
            c.skipped = "blocked: " + reason.removeprefix("private address guard: ")
        else:
            c.error = reason
        yield c
