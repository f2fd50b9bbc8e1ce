"""What a discovery crawl finds: sources as read and candidate articles."""

from __future__ import annotations

from dataclasses import dataclass, field


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
