"""Fetches and versions: the log of every fetch, and the versions some made.

Writing them is storage.writes' (the hot path of every pass); this reads them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from raqib import recording
from raqib.domain import FetchEntry, FetchRecord, Recorded, Shot, Version
from raqib.storage import blobs
from raqib.storage import models as m
from raqib.storage.db import Database, StoreError, to_domain
from raqib.storage.writes import FetchWriter


class HistoryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.writer = FetchWriter(db)

    # --- recording ---------------------------------------------------------------

    def record(self, rec: FetchRecord, *, owner: str | None = None) -> Recorded:
        return self.record_many([rec], owner=owner)[0]

    def record_many(
        self, recs: Sequence[FetchRecord], *, owner: str | None = None
    ) -> list[Recorded]:
        """Write a batch of fetches.

        One transaction per batch: each fetch's log row, blob, version and
        watch state are written together with the others or not at all, so a
        crash never leaves a version without its fetch or a half-updated
        watch; it can only lose the last unwritten batch, whose watches are
        simply fetched again.
        """
        return self.writer.write(recs, owner=owner)

    # --- reading ---------------------------------------------------------------------

    def versions(self, watch_id: int) -> list[Version]:
        with self.db.session() as s:
            rows = s.scalars(
                select(m.Version).where(m.Version.watch_id == watch_id).order_by(m.Version.number)
            )
            return [to_domain(Version, v) for v in rows]

    def version(self, watch_id: int, number: int) -> Version | None:
        with self.db.session() as s:
            v = s.scalar(
                select(m.Version).where(m.Version.watch_id == watch_id, m.Version.number == number)
            )
            return to_domain(Version, v) if v is not None else None

    def gaps(self, watch_ids: Sequence[int]) -> list[tuple[int, int]]:
        """(watch id, number) of each of these watches' versions held without
        the one before it though an earlier one is held (an import of part of
        a history): the change into it cannot be judged until that one is."""
        # Each version beside the number of the one before it that is held (a
        # window's lag(): one ordered pass over the index, where a probe for
        # the version before each cost 2.2 s at 10,000 watches on PostgreSQL).
        v = m.Version
        out: list[tuple[int, int]] = []
        with self.db.session() as s:
            for i in range(0, len(watch_ids), 500):
                held = (
                    select(
                        v.watch_id,
                        v.number,
                        func.lag(v.number)
                        .over(partition_by=v.watch_id, order_by=v.number)
                        .label("prev"),
                    )
                    .where(v.watch_id.in_(list(watch_ids[i : i + 500])))
                    .subquery()
                )
                rows = s.execute(
                    select(held.c.watch_id, held.c.number)
                    .where(held.c.prev.is_not(None), held.c.prev != held.c.number - 1)
                    .order_by(held.c.watch_id, held.c.number)
                )
                out.extend((w, n) for w, n in rows)
        return out

    def fetches(self, watch_id: int) -> list[FetchEntry]:
        """A watch's fetch log, oldest first, each with its WARC record's place."""
        with self.db.session() as s:
            rows = s.execute(
                select(m.Fetch, m.WarcFile.name)
                .outerjoin(m.WarcFile, m.WarcFile.id == m.Fetch.warc_file_id)
                .where(m.Fetch.watch_id == watch_id)
                .order_by(m.Fetch.fetched_at, m.Fetch.id)
            ).all()
            return [to_domain(FetchEntry, f, warc_file=name) for f, name in rows]

    def with_outcome(self, outcome: str, *, limit: int) -> list[tuple[FetchEntry, str, str | None]]:
        """The latest fetches (of any watch) that ended in `outcome`, newest
        first, each with its watch's address and title."""
        with self.db.session() as s:
            rows = s.execute(
                select(m.Fetch, m.WarcFile.name, m.Watch.url, m.Watch.title)
                .join(m.Watch, m.Watch.id == m.Fetch.watch_id)
                .outerjoin(m.WarcFile, m.WarcFile.id == m.Fetch.warc_file_id)
                .where(m.Fetch.outcome == outcome)
                .order_by(m.Fetch.id.desc())
                .limit(limit)
            ).all()
            return [(to_domain(FetchEntry, f, warc_file=n), u, t) for f, n, u, t in rows]

    def last_fetches(self, watch_ids: Sequence[int]) -> dict[int, FetchEntry]:
        """Each watch's latest fetch-log row (for `schedule`'s reasons)."""
        out: dict[int, FetchEntry] = {}
        with self.db.session() as s:
            for start in range(0, len(watch_ids), 500):
                latest = (
                    select(m.Fetch.watch_id, func.max(m.Fetch.id).label("id"))
                    .where(m.Fetch.watch_id.in_(watch_ids[start : start + 500]))
                    .group_by(m.Fetch.watch_id)
                    .subquery()
                )
                for f in s.scalars(select(m.Fetch).join(latest, m.Fetch.id == latest.c.id)):
                    out[f.watch_id] = to_domain(FetchEntry, f, warc_file=None)
        return out

    def import_version(self, watch_id: int, v: Version) -> bool:
        """Store a version read from an export, unless the watch has it already
        (True if stored). The same number with other text is a conflict: two
        histories of one article that disagree are not merged silently. The
        same version gains the notices the export's fetches of it saw: the
        change into the next one is judged from them (a moved stamp)."""
        with self.db.session() as s:
            held = s.scalars(
                select(m.Version).where(
                    m.Version.watch_id == watch_id, m.Version.number == v.number
                )
            ).first()
            if held is not None:
                if held.content_hash != v.content_hash:
                    raise StoreError(f"watch {watch_id} already has a different version {v.number}")
                seen = recording.seen_notices(held.notices, held.seen_notices, v.seen_notices or [])
                if seen is not None:
                    held.seen_notices = seen
                held.last_seen = max(held.last_seen, v.last_seen)  # both saw its text
                return False
            raw = v.raw_hash if v.raw_hash and s.get(m.Blob, v.raw_hash) is not None else None
            s.add(
                m.Version(
                    watch_id=watch_id, number=v.number, title=v.title, byline=v.byline,
                    published=v.published, modified=v.modified, text=v.text,
                    notices=list(v.notices), language=v.language, content_hash=v.content_hash,
                    raw_hash=raw, url=v.url, extractor=v.extractor, first_seen=v.first_seen,
                    last_seen=v.last_seen, fetch_id=None, seen_notices=v.seen_notices,
                )
            )  # fmt: skip
            w = s.get(m.Watch, watch_id)
            if w is not None and v.number >= (w.version_count or 0):
                w.version_count, w.content_hash, w.title = v.number, v.content_hash, v.title
                if v.number > 1:
                    w.last_change_at = v.first_seen
            return True

    def raw_body(self, raw_hash: str) -> bytes | None:
        with self.db.session() as s:
            return self.db.blobs.raw(lambda k: blobs.read(s, k), raw_hash)

    def shots(self, watch_id: int) -> dict[int, tuple[str, str]]:
        """Version id → (sha256, media type) of each screenshot of a watch."""
        with self.db.session() as s:
            rows = s.execute(
                select(m.Screenshot.version_id, m.Screenshot.sha256, m.Screenshot.media_type).where(
                    m.Screenshot.watch_id == watch_id
                )
            ).all()
        return {r[0]: (r[1], r[2]) for r in rows}

    def shot(self, version_id: int) -> Shot | None:
        with self.db.session() as s:
            r = s.execute(
                select(
                    m.Screenshot.data, m.Screenshot.media_type, m.Screenshot.width,
                    m.Screenshot.height,
                ).where(m.Screenshot.version_id == version_id)
            ).first()  # fmt: skip
        return Shot(bytes(r[0]), r[1], r[2], r[3]) if r is not None else None
