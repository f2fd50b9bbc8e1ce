"""The types every layer shares, and the decisions that belong to none of them.

Fetching, extraction, storage, diffing and presentation all speak in these
dataclasses and enums; storage imports this module, never the reverse. The
few rules here (what a recorded fetch changes on its watch, when a new
version is really new) are pure functions: the store persists what they
decide, and no SQL decides anything.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


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
    REMOVED = "removed"  # 404/410, still rechecked a few times
    RETIRED = "retired"  # no more checks


class Origin(StrEnum):
    MANUAL = "manual"
    DISCOVERED = "discovered"


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
    # (file, offset) of the archived record; a Future while the WARC writer
    # thread is still on it (the recorder awaits it).
    warc: tuple[str, int] | Future[tuple[str, int]] | None = None


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
    region: dict[str, Any] | None = None  # where the article sat in the page
    meta: dict[str, Any] | None = None  # the page's metadata, when it was read


@dataclass(frozen=True)
class Recorded:
    fetch_id: int
    outcome: Outcome
    version_number: int | None
    lease_lost: bool = False


META_FIELDS = ("byline", "published", "modified", "language", "notices")


def page_meta(snap: Snapshot) -> dict[str, Any]:
    """What a page says about itself besides its headline and text."""
    return {
        "byline": snap.byline,
        "published": snap.published,
        "modified": snap.modified,
        "language": snap.language,
        "notices": list(snap.notices),
    }


def meta_change(before: dict[str, Any] | None, after: dict[str, Any]) -> str | None:
    """What changed in a page's metadata, in a line for the fetch log (None: nothing)."""
    if before is None:
        return None
    parts = []
    for name in META_FIELDS:
        old, new = before.get(name), after.get(name)
        if (old or None) == (new or None):
            continue
        if not new:
            parts.append(f"{name} gone")
        elif not old:
            parts.append(f"{name} added")
        else:
            parts.append(f"{name} {str(old)[:60]!r} → {str(new)[:60]!r}")
    return ("metadata changed, text and headline not: " + "; ".join(parts))[:500] if parts else None


def settle(
    rec: FetchRecord, stored_content_hash: str | None, latest: Snapshot | None = None
) -> tuple[Outcome, str | None]:
    """The outcome to record (and its detail), given what is stored for the
    watch right now: its content hash and, for a new version, the latest one.

    A "new version" whose content another worker already stored (a lease that
    expired mid-fetch, a rerun) is not new. Nor is one whose headline and
    text are the latest version's: a version needs changed text or headline,
    not a changed byline or date (that is said in the fetch log instead).
    """
    outcome = Outcome(rec.outcome)
    snap = rec.snapshot
    if outcome is not Outcome.NEW_VERSION:
        return outcome, rec.detail
    if snap is None or snap.content_hash == stored_content_hash:
        return Outcome.UNCHANGED, None
    if latest is not None and (latest.title, latest.text) == (snap.title, snap.text):
        return Outcome.UNCHANGED, meta_change(page_meta(latest), page_meta(snap))
    return outcome, rec.detail


def extends_version(outcome: Outcome) -> bool:
    """Whether this fetch saw the latest version again (its last_seen moves)."""
    return outcome in (Outcome.UNCHANGED, Outcome.NOT_MODIFIED, Outcome.RESTORED)


def watch_update(rec: FetchRecord, outcome: Outcome) -> dict[str, Any]:
    """What a recorded fetch changes on its watch, by attribute name."""
    values: dict[str, Any] = {
        "last_checked_at": rec.fetched_at,
        "last_outcome": str(outcome),
        "next_check_at": rec.next_check_at,
    }
    if outcome in GOOD_OUTCOMES:
        # A 304 without validators keeps the ones that earned it.
        if rec.etag is not None or rec.last_modified is not None or outcome != Outcome.NOT_MODIFIED:
            values.update(etag=rec.etag, last_modified=rec.last_modified)
        if rec.body_key is not None:
            values["body_key"] = rec.body_key
        if rec.region is not None:
            values["region"] = rec.region
        if rec.meta is not None:
            values["meta"] = rec.meta
    elif outcome == Outcome.REMOVED:
        # A later 304 must not vouch for a page we saw disappear.
        values.update(etag=None, last_modified=None)
    if rec.new_state is not None:
        values["state"] = str(rec.new_state)
    if rec.error_count is not None:
        values["error_count"] = rec.error_count
    if rec.removed_count is not None:
        values["removed_count"] = rec.removed_count
    return values


def new_version_update(snap: Snapshot, number: int, at: datetime) -> dict[str, Any]:
    """What a new version changes on its watch: the latest content's summary."""
    return {
        "version_count": number,
        "content_hash": snap.content_hash,
        "title": snap.title,
        "last_change_at": at,
        "words": len(snap.text.split()),
        "replacements": snap.text.count("\ufffd"),
    }


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


@dataclass(frozen=True)
class ChangeRow:
    """A change with the watch and version numbers a listing shows."""

    change: Change
    watch: Watch
    from_number: int
    to_number: int


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
