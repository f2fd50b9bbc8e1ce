"""What the spiders hand to the pipelines."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Fetched:
    """One fetch of a watched URL, as the spider saw it (before any judging)."""

    watch_id: int
    url: str  # as requested
    fetched_at: datetime
    final_url: str | None = None  # after redirects
    status: int | None = None
    duration_ms: int | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    retry_after: str | None = None
    body: bytes = field(default=b"", repr=False)
    text: str | None = field(
        default=None, repr=False
    )  # decoded by Scrapy: BOM, HTTP charset, <meta>, sniffing
    encoding: str | None = None
    error: str | None = None  # network-level failure, when there is no response
    redirects: list[str] = field(default_factory=list)
    # (file, offset) of the archived record; a Future while the WARC writer
    # thread is still on it (the recorder awaits it).
    warc: tuple[str, int] | Future[tuple[str, int]] | None = None


@dataclass
class SourceFetched:
    """One discovery source (or a child sitemap) as read."""

    source_id: int
    url: str
    kind: str | None = None
    entries: int = 0
    error: str | None = None


@dataclass
class CandidatePage:
    """A possible piece of related coverage, fetched and extracted (or not)."""

    story_id: int
    url: str  # normalised, as found
    found_via: str
    source_id: int | None = None
    feed_title: str | None = None
    feed_summary: str | None = None
    final_url: str | None = None
    canonical_url: str | None = None
    amp_url: str | None = None
    title: str | None = None
    text: str | None = field(default=None, repr=False)
    skipped: str | None = None  # not fetched: why (already watched, blocked, …)
    error: str | None = None  # fetched but unusable: why
