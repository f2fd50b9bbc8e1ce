"""What a recorded fetch changes: the rules storage follows when it writes.

Pure functions over raqib.domain's types: which outcome a fetch really has
given what is stored (a "new version" another worker already stored, or one
whose text and headline are the latest version's), what it changes on its
watch (which validators survive a 304 or a 404), and what changed in a
page's metadata. The store persists what these decide; no SQL decides.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from raqib.domain import GOOD_OUTCOMES, FetchRecord, Outcome, Snapshot

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


MAX_SEEN_NOTICES = 20  # a version's seen_notices, at most


def seen_notices(
    held: list[str] | None, seen: list[str] | None, fetched: list[str]
) -> list[str] | None:
    """A version's seen_notices after a fetch of its text showed `fetched`: the
    notices it does not hold (None: nothing new). Past the bound, the oldest
    seen before go first: this fetch's stay (a page's stamp leads it, and cut
    it would be new against the old text again)."""
    now = [n for n in dict.fromkeys(fetched) if n not in (held or ())][:MAX_SEEN_NOTICES]
    if all(n in (seen or ()) for n in now):
        return None
    room = MAX_SEEN_NOTICES - len(now)
    older = [n for n in (seen or ()) if n not in now]
    return [*(older[len(older) - room :] if room else []), *now]


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
        if rec.region is not None:  # {}: extracted in full and found none
            values["region"] = rec.region or None
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


# A fetch the database refused (a value no column holds): its watch waits a
# day, the default longest back-off (the revisit policy is not at hand there).
REFUSED_DELAY = timedelta(days=1)


def refused(rec: FetchRecord, detail: str, errors: int) -> FetchRecord:
    """What is kept of a fetch the database refused: its watch's error number
    `errors`, saying what was refused, with the fetch's WARC record."""
    return FetchRecord(
        watch_id=rec.watch_id, fetched_at=rec.fetched_at, outcome=Outcome.ERROR,
        next_check_at=rec.fetched_at + REFUSED_DELAY, error_count=errors, status=rec.status,
        duration_ms=rec.duration_ms, detail=detail, warc_file=rec.warc_file,
        warc_offset=rec.warc_offset, warc_refers=rec.warc_refers,
    )  # fmt: skip
