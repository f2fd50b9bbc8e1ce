"""The schema. Portable SQLAlchemy types only: the same models run on SQLite
(the embedded default) and PostgreSQL. Changes go through Alembic migrations
in storage/migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from raqib import urls
from raqib.domain import Outcome
from raqib.storage.types import UTCDateTime

# Stable constraint names keep migrations identical on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

OUTCOMES = tuple(o.value for o in Outcome)  # a fetch's fixed vocabulary


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Story(Base):
    __tablename__ = "stories"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The discovery run that holds the story, until when (renewed as it runs),
    # and when a run last took it (0019).
    discovery_owner: Mapped[str | None] = mapped_column(String(200))
    discovery_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    discovery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def _url_host(context: Any) -> str:
    return urls.host(context.get_current_parameters()["url"])


class Watch(Base):
    __tablename__ = "watches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    # Its URL's host: one worker at a time fetches a host (storage.sharing).
    host: Mapped[str] = mapped_column(String(255), default=_url_host, server_default="")
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id"))
    origin: Mapped[str] = mapped_column(String(16), default="manual")  # manual, discovered, outlet
    outlet_id: Mapped[int | None] = mapped_column(
        ForeignKey("outlets.id", ondelete="SET NULL"), index=True
    )
    found_via: Mapped[str | None] = mapped_column(String(2048))
    score: Mapped[float | None] = mapped_column(Float)
    matched_terms: Mapped[list[str] | None] = mapped_column(JSON)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # active | paused | removed (404/410, still rechecked a few times) | retired (no more
    # checks) | rejected (an outlet's page that is not an article)
    state: Mapped[str] = mapped_column(String(16), default="active")
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    removed_count: Mapped[int] = mapped_column(Integer, default=0)
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str | None] = mapped_column(Text)
    # Validators of the last response that carried the article.
    etag: Mapped[str | None] = mapped_column(String(256))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    # Hashes of the last article response (extractor, charset, raw body) and latest content.
    body_key: Mapped[str | None] = mapped_column(String(64))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # The latest version's word and U+FFFD counts (collapse, charset checks) without its text.
    words: Mapped[int] = mapped_column(Integer, default=0)
    replacements: Mapped[int] = mapped_column(Integer, default=0)
    # Where the article sat in the page and a digest of it: unchanged, no extraction.
    region: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # What the page said of itself last time (byline, dates, notices): alone, no new version.
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The first version's raw body: later bodies are zstd deltas against it.
    base_hash: Mapped[str | None] = mapped_column(String(64))
    # Fetched through a browser (scripts run) and photographed at each new
    # version; an outlet's [outlets.NAME] render/screenshots add to these.
    render: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    screenshots: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Per-watch work claim: several workers may share one database.
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # AUTOINCREMENT: a purged watch's id is never given out again (0008).
    __table_args__ = (
        Index("ix_watches_due", "state", "next_check_at"),
        Index("ix_watches_lease", "lease_owner"),
        {"sqlite_autoincrement": True},
    )


class Sweeper(Base):
    """A pass sweeping due watches, or waiting to: they share the hosts (storage.sharing)."""

    __tablename__ = "sweepers"
    owner: Mapped[str] = mapped_column(String(200), primary_key=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime)


class SiteHold(Base):
    """A host read outside any watch's lease (an outlet's sources): no sweep takes it meanwhile."""

    __tablename__ = "site_holds"
    owner: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime)


class Alias(Base):
    """Every URL a watch has answered to: as given, after redirects, canonical."""

    __tablename__ = "aliases"
    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"), index=True)


class Fetch(Base):
    """One row per fetch, whatever happened. Kept small: it grows every pass."""

    __tablename__ = "fetches"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(String(256))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500))
    version_id: Mapped[int | None] = mapped_column(Integer)
    # Where this fetch's WARC record sits; refers_*: where a revisit's original sat (gc keeps it).
    warc_file_id: Mapped[int | None] = mapped_column(Integer)
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    refers_file_id: Mapped[int | None] = mapped_column(Integer)
    refers_offset: Mapped[int | None] = mapped_column(BigInteger)

    # By watch alone (ids grow with time and order its log): each fetch adds an entry.
    __table_args__ = (Index("ix_fetches_watch", "watch_id"),)


class Blob(Base):
    """A raw body, zstd-compressed, once per content hash; with `base`, a delta against it."""

    __tablename__ = "blobs"
    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    base: Mapped[str | None] = mapped_column(String(64), index=True)  # (0015)


class Screenshot(Base):
    """A rendered page as a version first looked: one image a version, as taken."""

    __tablename__ = "screenshots"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    watch_id: Mapped[int] = mapped_column(Integer, index=True)
    media_type: Mapped[str] = mapped_column(String(32))  # image/webp | image/png
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Version(Base):
    __tablename__ = "versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    byline: Mapped[str | None] = mapped_column(Text)
    published: Mapped[str | None] = mapped_column(String(64))
    modified: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    notices: Mapped[list[str]] = mapped_column(JSON, default=list)
    seen_notices: Mapped[list[str] | None] = mapped_column(JSON)  # by later fetches of it (0018)
    language: Mapped[str | None] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(64))
    raw_hash: Mapped[str | None] = mapped_column(ForeignKey("blobs.hash"), index=True)  # 0015
    url: Mapped[str] = mapped_column(String(2048))  # the URL that served it (after redirects)
    extractor: Mapped[str] = mapped_column(String(200))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    fetch_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))

    __table_args__ = (  # the pass's look for versions not yet judged reads only this (0017)
        UniqueConstraint("watch_id", "number", name="uq_versions_watch_number"),
        Index("ix_versions_pending", "watch_id", "number", "first_seen", "fetch_id"),
    )


class Change(Base):
    """What changed between two consecutive versions, as diffs/ judged it."""

    __tablename__ = "changes"
    __table_args__ = ({"sqlite_autoincrement": True},)  # ids never reused (0008)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"), index=True)
    from_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"))
    to_version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), unique=True
    )
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # cosmetic | substantive
    silent: Mapped[bool] = mapped_column(Boolean)
    headline_changed: Mapped[bool] = mapped_column(Boolean)
    byline_changed: Mapped[bool] = mapped_column(Boolean)
    chars_changed: Mapped[int] = mapped_column(Integer)
    analysis: Mapped[dict[str, Any]] = mapped_column(JSON)
    analyzer: Mapped[str] = mapped_column(String(64))
    untold: Mapped[bool] = mapped_column(Boolean, index=True, server_default=false())  # 0014
    marks: Mapped[int] = mapped_column(Integer, server_default="0")  # fact_marks (0016)


class Source(Base):
    """Where related coverage of a story is found: a feed, a sitemap, a search template."""

    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    kind: Mapped[str] = mapped_column(String(16))  # rss | atom | sitemap | search | auto
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str | None] = mapped_column(String(500))
    entries_seen: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("story_id", "url", name="uq_sources_story_url"),)


class Candidate(Base):
    """A possible piece of related coverage, judged once and remembered."""

    __tablename__ = "candidates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    found_via: Mapped[str] = mapped_column(String(2048))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)  # kept to learn term weights from
    score: Mapped[float | None] = mapped_column(Float)
    matched_terms: Mapped[list[str] | None] = mapped_column(JSON)
    decision: Mapped[str] = mapped_column(String(16))  # added | rejected | blocked | error | known
    reason: Mapped[str | None] = mapped_column(String(500))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    watch_id: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(2048))  # to watch it as (0019)

    __table_args__ = (UniqueConstraint("story_id", "url", name="uq_candidates_story_url"),)


class WarcFile(Base):
    """WARC files by name; fetch rows refer to them by a small id."""

    __tablename__ = "warc_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)


class Capture(Base):
    """The last full capture of each URL and where it sits: what a revisit refers to."""

    __tablename__ = "captures"
    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    digest: Mapped[str] = mapped_column(String(100))
    uri: Mapped[str] = mapped_column(String(2048))
    date: Mapped[str] = mapped_column(String(40))
    file: Mapped[str | None] = mapped_column(String(255))
    offset: Mapped[int | None] = mapped_column(BigInteger)


class Channel(Base):
    """Where notifications go: an apprise URL or a JSON webhook, with its rules."""

    __tablename__ = "channels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    kind: Mapped[str] = mapped_column(String(16))  # webhook | apprise
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    when: Mapped[list[str]] = mapped_column(JSON)  # triggers: substantive, silent, headline, …
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    origin: Mapped[str] = mapped_column(String(16), default="cli")  # cli | config
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Outbox(Base):
    """A notification waiting to be delivered (or delivered, or given up on)."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(200))  # one message per channel and event
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("channel_id", "key", name="uq_outbox_channel_key"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )


class WatchStory(Base):
    """The stories a watch belongs to (watches.story_id is the first of them)."""

    __tablename__ = "watch_stories"
    watch_id: Mapped[int] = mapped_column(
        ForeignKey("watches.id", ondelete="CASCADE"), primary_key=True
    )
    story_id: Mapped[int] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class WatchTag(Base):
    __tablename__ = "watch_tags"
    watch_id: Mapped[int] = mapped_column(
        ForeignKey("watches.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class VersionSearch(Base):
    """Each version's matching key for `raqib search` (FTS5 / tsvector on it: 0004), and
    its spelling (normalize.arabic.SEARCH_SPELLING): older keys are made again (0013)."""

    __tablename__ = "version_search"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    watch_id: Mapped[int] = mapped_column(Integer, index=True)
    key: Mapped[str] = mapped_column(Text)
    spelling: Mapped[int] = mapped_column(Integer, index=True, server_default="0")


class RobotsAnswer(Base):
    """A host's last robots.txt answer, kept between passes for [fetch] robots_ttl."""

    __tablename__ = "robots_answers"
    origin: Mapped[str] = mapped_column(String(300), primary_key=True)  # scheme://host[:port]
    body: Mapped[bytes] = mapped_column(LargeBinary)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
