"""The types every layer shares.

Fetching, extraction, storage, diffing and presentation all speak in these
dataclasses and enums; storage imports this module, never the reverse. The
rules a recorded fetch follows (when a new version is really new, what it
changes on its watch) are pure functions beside it, in raqib.recording.
Whole outlets' types are in raqib.domain.outlets, and importable from here.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from raqib.domain.outlets import KeptRobots as KeptRobots
from raqib.domain.outlets import Listed as Listed
from raqib.domain.outlets import Outlet as Outlet
from raqib.domain.outlets import OutletSource as OutletSource
from raqib.domain.outlets import SourceKind as SourceKind


class Outcome(StrEnum):
    """The fixed vocabulary of a fetch: every fetch records exactly one."""

    NEW_VERSION = "new_version"
    UNCHANGED = "unchanged"
    NOT_MODIFIED = "not_modified"  # 304
    NOT_ARTICLE = "not_article"  # 200, but not the article (bot check, error page, …)
    ERROR = "error"
    REMOVED = "removed"  # 404 / 410
    RESTORED = "restored"  # back after a removal, unchanged


# Outcomes that saw the article (its validators and region may be kept).
GOOD_OUTCOMES = frozenset(
    {Outcome.NEW_VERSION, Outcome.UNCHANGED, Outcome.NOT_MODIFIED, Outcome.RESTORED}
)
# Outcomes that mean "we could not see the article this time".
FAILED_OUTCOMES = frozenset({Outcome.ERROR, Outcome.NOT_ARTICLE})


class WatchState(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # by hand: not checked until resumed
    REMOVED = "removed"  # 404/410, still rechecked a few times
    RETIRED = "retired"  # no more checks (its history stays)
    REJECTED = "rejected"  # an outlet's page that turned out not to be an article
    UNWATCHED = "unwatched"  # by hand: never checked again, hidden from lists; history kept


# States in which a watch is never claimed.
RESTING_STATES = frozenset(
    {WatchState.PAUSED, WatchState.RETIRED, WatchState.REJECTED, WatchState.UNWATCHED}
)
# States shown only when asked for, and kept so by an import.
HIDDEN_STATES = (WatchState.UNWATCHED, WatchState.REJECTED)


class Origin(StrEnum):
    MANUAL = "manual"
    DISCOVERED = "discovered"  # related coverage of a story
    OUTLET = "outlet"  # a new article of an outlet, watched from first sight


class ChangeKind(StrEnum):
    COSMETIC = "cosmetic"  # only orthography or typography changed
    SUBSTANTIVE = "substantive"


class Label(StrEnum):
    """How one sentence of a change is aligned (NewsEdits-style labels)."""

    UNCHANGED = "unchanged"
    COSMETIC = "cosmetic"
    EDIT = "edit"
    MOVE = "move"
    ADD = "add"
    DELETE = "delete"


class Decision(StrEnum):
    """What discovery decided about a candidate article."""

    ADDED = "added"
    REJECTED = "rejected"
    KNOWN = "known"
    BLOCKED = "blocked"
    ERROR = "error"


class Delivery(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


# --- a pass: what is claimed, fetched, judged and written ---------------------------


@dataclass(frozen=True)
class Task:
    """A claimed watch, with what the fetcher and the judge need to know."""

    watch_id: int
    url: str
    etag: str | None
    last_modified: str | None
    body_key: str | None
    content_hash: str | None
    state: str
    version_count: int
    last_words: int
    added_at: datetime
    last_change_at: datetime | None
    error_count: int
    removed_count: int
    last_replacements: int = 0  # U+FFFD in the latest version's text
    region: dict[str, Any] | None = None  # where the article sat in the page last time
    meta: dict[str, Any] | None = None  # what the page said about itself last time
    origin: str = "manual"
    outlet_id: int | None = None  # its outlet's settings (curve, headers) apply
    render: bool = False  # fetched through a browser: the page's scripts build the article
    screenshot: bool = False  # photographed at each new version (always so when rendered)
    found_via: str | None = None  # the page or feed it was found on, if not watched by hand


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
    # Decoded by Scrapy: BOM, HTTP charset, <meta>, sniffing.
    text: str | None = field(default=None, repr=False)
    encoding: str | None = None
    error: str | None = None  # network-level failure, when there is no response
    redirects: list[str] = field(default_factory=list)
    # (file, offset) of the archived record and, for a revisit, its original's;
    # a Future while the archive is still on it (the recorder awaits it).
    warc: tuple[str, int, tuple[str, int] | None] | Future[Any] | None = None
    # A rendered fetch: `body` and `text` are the DOM after the page's
    # scripts ran (the server's document is what `warc` points to).
    rendered: bool = False
    shot: Shot | None = field(default=None, repr=False)
    refused: list[str] = field(default_factory=list)  # the page's requests the guard refused


@dataclass(frozen=True)
class Shot:
    """A screenshot of a page as rendered."""

    data: bytes = field(repr=False)
    media_type: str  # image/webp | image/png
    width: int
    height: int


@dataclass
class Snapshot:
    """The canonical content of one article as fetched (what a version holds)."""

    title: str
    byline: str | None
    published: str | None
    modified: str | None
    text: str
    notices: list[str]
    language: str | None
    content_hash: str
    extractor: str


@dataclass
class FetchRecord:
    """Everything one fetch writes, decided before the store is touched."""

    watch_id: int
    fetched_at: datetime
    outcome: Outcome
    next_check_at: datetime
    status: int | None = None
    duration_ms: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    detail: str | None = None
    url: str | None = None  # the URL that answered (after redirects)
    snapshot: Snapshot | None = None
    raw_body: bytes | None = None
    body_key: str | None = None
    aliases: list[str] = field(default_factory=list)
    new_state: str | None = None  # active | removed | retired; None keeps the state
    error_count: int | None = None
    removed_count: int | None = None
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_refers: tuple[str, int] | None = None  # a revisit's original: (file, offset)
    region: dict[str, Any] | None = None  # where the article sat; {}: nowhere; None: as was
    meta: dict[str, Any] | None = None  # the page's metadata, when it was read
    notices_moved: bool = False  # its notices are not the last read's (versions.seen_notices)
    shot: Shot | None = None  # kept with the new version it shows
    search_key: str | None = None  # the new version's matching key, for the search index


@dataclass(frozen=True)
class Recorded:
    fetch_id: int
    outcome: Outcome
    version_number: int | None
    lease_lost: bool = False


# --- history as the layers above storage read it --------------------------------------


@dataclass(frozen=True)
class Watch:
    id: int
    url: str
    story: str | None  # the story's slug
    origin: str
    found_via: str | None
    score: float | None
    matched_terms: list[str] | None
    added_at: datetime
    state: str
    next_check_at: datetime
    last_checked_at: datetime | None
    last_change_at: datetime | None
    last_outcome: str | None
    error_count: int
    removed_count: int
    version_count: int
    title: str | None
    outlet: str | None = None
    stories: tuple[str, ...] = ()  # every story it belongs to (`story` is the first)
    tags: tuple[str, ...] = ()
    render: bool = False  # fetched through a browser (`watch --render`)
    screenshots: bool = False  # photographed at each new version


@dataclass(frozen=True)
class Version:
    id: int
    watch_id: int
    number: int
    title: str
    byline: str | None
    published: str | None
    modified: str | None
    text: str
    notices: list[str]
    language: str | None
    content_hash: str
    raw_hash: str | None
    url: str
    extractor: str
    first_seen: datetime
    last_seen: datetime
    fetch_id: int | None
    # Notices that later fetches of this text saw and it does not hold: a
    # stamp among them announces no edit after it (diffs.signals.is_stamp).
    seen_notices: list[str] | None = None


@dataclass(frozen=True)
class Change:
    """A stored change: the analysis of two consecutive versions, kept as made."""

    id: int
    watch_id: int
    from_version_id: int
    to_version_id: int
    detected_at: datetime
    kind: str
    silent: bool
    headline_changed: bool
    byline_changed: bool
    chars_changed: int
    analysis: dict[str, Any]
    analyzer: str


@dataclass(frozen=True)
class Judgement:
    """What the analyzer decided about a change, as stored with it."""

    kind: str
    silent: bool
    headline_changed: bool
    byline_changed: bool
    chars_changed: int
    analysis: dict[str, Any]  # the whole stored analysis (alignment included)
    analyzer: str


FACT_MARKS = {"numbers": 1, "quotes": 2, "negations": 4}  # changes.marks: bits of facts touched


def fact_marks(analysis: dict[str, Any]) -> int:
    """The facts (figures, quotes, negations) an analysis says a change touched,
    as the bits storage keeps beside it, so listings need not read analyses."""
    facts = analysis.get("facts") or {}
    return sum(bit for key, bit in FACT_MARKS.items() if facts.get(key))


@dataclass(frozen=True)
class WatchMarks:
    """What a watch's changes add up to, as the front page's badges show it."""

    changes: int
    silent: bool
    headline: bool
    figures: bool
    quotes: bool


@dataclass(frozen=True)
class ChangeRow:
    """A change with the watch and version numbers a listing shows."""

    change: Change
    watch: Watch
    from_number: int
    to_number: int
    headlines: tuple[str, str] = ("", "")  # the two versions' (the watch's is the latest)


@dataclass(frozen=True)
class FetchEntry:
    """One row of a watch's fetch log."""

    id: int
    watch_id: int
    fetched_at: datetime
    status: int | None
    outcome: str
    duration_ms: int | None
    etag: str | None
    last_modified: str | None
    detail: str | None
    version_id: int | None
    warc_file: str | None = None  # where its response or revisit record sits
    warc_offset: int | None = None


@dataclass(frozen=True)
class Source:
    id: int
    story: str
    url: str
    kind: str
    added_at: datetime
    last_checked_at: datetime | None
    last_status: str | None
    entries_seen: int


@dataclass(frozen=True)
class Channel:
    id: int
    url: str
    kind: str  # webhook | apprise
    story: str | None
    when: list[str]
    keywords: list[str]
    digest: bool
    origin: str  # cli | config
    enabled: bool
    added_at: datetime


@dataclass(frozen=True)
class Message:
    """One notification in the outbox."""

    id: int
    channel_id: int
    key: str
    payload: dict[str, Any]
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
