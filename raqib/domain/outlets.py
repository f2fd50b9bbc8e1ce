"""The domain types of whole outlets: their sources, what a source lists,
and the robots.txt answers kept for their hosts (re-exported by raqib.domain)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class SourceKind(StrEnum):
    """Where an outlet lists its new articles."""

    FEED = "feed"  # RSS or Atom
    SITEMAP = "sitemap"  # a (news) sitemap or sitemap index
    FRONT = "front"  # an HTML front or section page: its article links


@dataclass(frozen=True)
class OutletSource:
    id: int
    outlet: str
    url: str
    kind: str
    next_check_at: datetime
    last_checked_at: datetime | None
    last_status: str | None
    entries_seen: int
    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None  # of the last read taken in (see storage.models)


@dataclass(frozen=True)
class Outlet:
    id: int
    name: str
    retain_days: int
    added_at: datetime
    sources: tuple[OutletSource, ...] = ()
    watched: int = 0  # watches it brought (rejected pages not counted)
    rejected: int = 0  # pages it listed that are not articles
    removed_at: datetime | None = None  # no longer followed; its history stays


@dataclass(frozen=True)
class Listed:
    """An article link an outlet's source listed (what the source read yields)."""

    url: str
    source_id: int
    found_via: str  # the source URL
    title: str | None = None
    published: str | None = None
    front: bool = False  # a front page's link (feeds and sitemaps list articles)


@dataclass(frozen=True)
class KeptRobots:
    """A host's robots.txt answer kept between passes ([fetch] robots_ttl)."""

    origin: str  # scheme://host[:port]
    fetched_at: datetime
    size: int  # bytes of the body kept (a 4xx keeps its error page: "no rules")
