"""The notices a version keeps of those its page showed beside its text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from raqib import recording
from raqib.storage import models as m


def keep_notices(conn: Any, seen: dict[int, Sequence[str]]) -> None:
    """The latest version of each watch keeps the notices a fetch that saw its
    text again showed (`seen`, by watch id; recording.notices_seen): a stamp
    moved while the old text stood does not announce the edit that follows.
    Most pages show none, and cost no query."""
    if not (seen := {w: n for w, n in seen.items() if n}):
        return
    rows = conn.execute(
        select(m.Version.id, m.Version.watch_id, m.Version.notices)
        .join(m.Watch, m.Watch.id == m.Version.watch_id)
        .where(m.Version.watch_id.in_(list(seen)), m.Version.number == m.Watch.version_count)
    ).all()
    for vid, wid, held in rows:
        if (kept := recording.notices_seen(list(held or []), seen[wid])) is not None:
            conn.execute(update(m.Version).where(m.Version.id == vid).values(notices=kept))
