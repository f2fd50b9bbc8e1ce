"""Read outlets' sources: feeds, (news) sitemaps and front pages.

Each source is fetched with the validators of its last read (a 304 costs
nothing), and a body byte for byte that of the last read taken in is not
parsed again (many feeds carry no validators, and most reads find nothing
new); what it lists is handed back as `SourceRead` items. The articles
themselves are not fetched here: they become watches, and the refetch pass
that follows fetches them like any other.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, Self

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from raqib.crawler.context import context_of
from raqib.crawler.responses import header, text
from raqib.crawler.spiders import conditional
from raqib.crawler.spiders.refetch import HANDLED_STATUSES, describe_failure
from raqib.discovery import feeds
from raqib.discovery.outlets import front_links
from raqib.domain import Listed, OutletSource, SourceKind


@dataclass
class SourceRead:
    """One read of one source (a sitemap index and its children count as one)."""

    source: OutletSource
    status: str
    listed: list[Listed] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    failed: bool = False
    top: bool = True  # the source itself, not a child sitemap of it
    body_sha256: str | None = None  # a body whose listing is whole without further reads


@dataclass
class OutletJob:
    sources: list[OutletSource] = field(default_factory=list)


class OutletSpider(scrapy.Spider):
    name = "outlets"
    job: OutletJob
    sitemaps: feeds.SitemapBudget

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.job = context_of(crawler).outlets or OutletJob()
        spider.sitemaps = feeds.SitemapBudget()
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for src in self.job.sources:
            yield scrapy.Request(
                src.url,
                headers=conditional(src.etag, src.last_modified),
                callback=self.parse_source,
                errback=self.failed,
                dont_filter=True,
                meta={
                    "source": src, "depth": 0, "raqib_origin": src.url,
                    "handle_httpstatus_list": HANDLED_STATUSES,
                },
            )  # fmt: skip

    def parse_source(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """One read; one that raises on a stranger's body is the source's failed
        read (before, nothing was yielded: the read was lost, its status unsaid)."""
        src: OutletSource = response.meta["source"]
        depth: int = response.meta["depth"]
        try:
            yield from self._parse_source(response, src, depth)
        except Exception as exc:
            self.logger.warning("reading %s failed: %s", src.url, exc, exc_info=True)
            reason = f"unreadable: {type(exc).__name__}: {exc}"[:200]
            yield SourceRead(src, reason, failed=True, top=depth == 0)

    def _parse_source(self, response: Response, src: OutletSource, depth: int) -> Iterator[Any]:
        if response.status == 304:
            yield SourceRead(src, "not modified (304)", not_modified=True)
            return
        if response.status >= 400:
            yield SourceRead(src, f"HTTP {response.status}", failed=True, top=depth == 0)
            return
        etag, modified = header(response, b"ETag"), header(response, b"Last-Modified")
        digest = _digest(response) if depth == 0 else None
        if digest is not None and digest == src.body_sha256:
            yield SourceRead(src, "unchanged since the last read", not_modified=True)
            return
        if src.kind == SourceKind.FRONT:
            if not isinstance(response, TextResponse):
                yield SourceRead(src, "not an HTML page", failed=True)
                return
            links = front_links(text(response)[0], response.url)
            listed = [Listed(u, src.id, src.url, title=a or None, front=True) for u, a in links]
            yield SourceRead(
                src,
                f"ok: front page, {len(listed)} links",
                listed,
                etag=etag,
                last_modified=modified,
                body_sha256=digest,
            )
            return
        parsed = feeds.parse(
            response.body, response.url, header(response, b"Content-Type"),
            max_size=self.settings.getint("DOWNLOAD_MAXSIZE"),
        )  # fmt: skip
        if parsed.error:
            yield SourceRead(src, parsed.error, failed=True, top=depth == 0)
            return
        followed = self.sitemaps.follow(src.id, parsed.children, depth)
        for child in followed:
            yield scrapy.Request(
                child,
                callback=self.parse_source,
                errback=self.failed,
                meta={
                    "source": src,
                    "depth": depth + 1,
                    "raqib_origin": src.url,
                    "handle_httpstatus_list": HANDLED_STATUSES,
                },
            )
        listed = [
            Listed(e.url, src.id, src.url, title=e.title, published=e.published)
            for e in parsed.entries
        ]
        # A sitemap index's own validators stand for the read; its children
        # report their entries only.
        skipped = len(parsed.children) - len(followed)
        yield SourceRead(
            src,
            f"ok: {parsed.kind}, {len(listed)} entries"
            + (f", {skipped} sitemaps past the limit not read" if skipped else ""),
            listed,
            top=depth == 0,
            # A sitemap index's children change under an unchanged index: it
            # is read whole each time, never answered by a 304 or its digest.
            etag=etag if depth == 0 and not parsed.children else None,
            last_modified=modified if depth == 0 and not parsed.children else None,
            body_sha256=None if parsed.children else digest,
        )

    def failed(self, failure: Failure) -> Iterator[SourceRead]:
        meta = failure.request.meta  # type: ignore[attr-defined]
        yield SourceRead(
            meta["source"], describe_failure(failure), failed=True, top=meta["depth"] == 0
        )


def _digest(response: Response) -> str:
    """The body with its declared type: a front page is decoded by its charset."""
    h = hashlib.sha256(response.headers.get(b"Content-Type") or b"")
    h.update(b"\0")
    h.update(response.body)
    return h.hexdigest()
