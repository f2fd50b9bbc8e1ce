"""What a publisher did to announce an update: a later modified date, or a
notice line the old version did not show.

A modified date is the publisher's word, so it counts only when it could
date this edit: later than the old version's date, and not before the last
fetch that still saw the old text (the edit came after that fetch). A CDN
serving an older copy, a date rewritten in another zone, or a date moved by
an earlier change to the page's furniture would otherwise mark a silent edit
as announced, which is the one mistake the monitor exists to avoid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from raqib.normalize.arabic import compact_key
from raqib.normalize.stamps import ago, is_stamp

if TYPE_CHECKING:
    from raqib.diffs.classify import VersionLike

# A publisher's clock and ours differ by minutes; a date with no zone may be
# in any zone, and a date with no time may be any time of its day.
CLOCK_SLACK = timedelta(minutes=10)
ZONE_SLACK = timedelta(hours=14)
DAY = timedelta(days=1)


def instant(value: str) -> tuple[datetime, bool] | None:
    """The moment a modified date names, and whether it names a day only
    (None: not a date this reads; ISO 8601 and RFC 2822 are read)."""
    s = value.strip()
    try:
        return datetime.fromisoformat(s), len(s) <= 10
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(s), False
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _latest(at: datetime, day_only: bool) -> datetime:
    """The latest true UTC moment a publisher's date can stand for (year 9999's
    last day stands for any time after it: nothing to add)."""
    try:
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC) + ZONE_SLACK
        return at + (DAY if day_only else timedelta(0)) + CLOCK_SLACK
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def modified_signal(old: VersionLike, new: VersionLike) -> str | None:
    """The new modified date as an announcement, or None when it is absent,
    the same, not later than the old one, or older than the last fetch that
    saw the old text (`old.last_seen`, when `old` is a stored version)."""
    if not new.modified or new.modified == old.modified:
        return None
    said = f"modified date {old.modified or 'absent'} → {new.modified}"
    read = instant(new.modified)
    if read is None:
        return said  # a date this cannot read: that it changed is all there is
    at, day_only = read
    before = instant(old.modified) if old.modified else None
    if before is not None and (before[0].tzinfo is None) == (at.tzinfo is None):
        if at <= before[0]:
            return None  # the same moment written again, or a date going back
    seen = getattr(old, "last_seen", None)
    if isinstance(seen, datetime):
        seen = seen if seen.tzinfo else seen.replace(tzinfo=UTC)
        if _latest(at, day_only) < seen:
            return None  # the old text was still there after that date
    return said


def update_signals(old: VersionLike, new: VersionLike) -> list[str]:
    """What the publisher did to announce an update, if anything."""
    said = modified_signal(old, new)
    return ([said] if said is not None else []) + new_notices(old, new, compact_key)


def new_notices(old: VersionLike, new: VersionLike, key: Callable[[str], str]) -> list[str]:
    """The new version's notices the old one did not show, compared by `key`:
    neither in its text nor among the stamps later fetches of its text saw."""
    seen = getattr(old, "seen_notices", None) or ()  # a stored version's (storage: 0018)
    old_notices = {key(n) for n in (*(old.notices or []), *filter(is_stamp, seen))}
    old_text, held = None, [key(n) for n in (*(old.notices or []), *seen)]
    out = []
    for notice in new.notices or []:
        k = key(notice)
        if k in old_notices:
            continue
        if is_stamp(notice) and any(re.search(re.escape(k) + r"(?!\d)", h) for h in held):
            continue  # a stamp the old version showed in a longer line (extractor 18's)
        # A line the old version already showed announces nothing new: it may
        # only now be read as a notice, by a later extractor's rules.
        old_text = key(old.text) if old_text is None else old_text
        if k not in old_text and not _outlived(old, new, notice):
            out.append(f"notice: {notice}")
    return out


def _outlived(old: VersionLike, new: VersionLike, notice: str) -> bool:
    """Whether a relative stamp ("آخر تحديث: منذ 15 دقيقة") names an update
    that a fetch of the old text came after: its words move with every fetch,
    its moment does not. The moment is at latest the new version's first
    fetch less the span (read as rounded down: a stamp rounded up can leave
    an edit silent, the lesser error)."""
    seen, first = getattr(old, "last_seen", None), getattr(new, "first_seen", None)
    if not (isinstance(seen, datetime) and isinstance(first, datetime)):
        return False
    span = ago(notice) if is_stamp(notice) else None
    if span is None:
        return False
    seen, first = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (seen, first))
    try:  # at latest that long before the page was served ("15 minutes" is 15 to 16)
        return first - span < seen
    except OverflowError:  # a first fetch near year 1: no moment to read
        return False
