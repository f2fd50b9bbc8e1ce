"""References into the WARC archive, the evidence of each version, and the
stored page bodies (blobs) with their clean-up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, aliased

from raqib.domain import GOOD_OUTCOMES, RESTING_STATES
from raqib.storage import models as m
from raqib.storage import postgres, sqlite
from raqib.storage.db import Database, rowcount, upsert
from raqib.storage.watches import MAX_URL

# A URL's last full capture: (payload digest, URI, WARC-Date, its record's file and offset).
Placed = tuple[str, str, str, str | None, int | None]
RESTING = [s.value for s in RESTING_STATES]
DELETE_ATTEMPTS = 3  # a chunk of gc's deletions judged again after a pass took a body back
First = tuple[int, str, int, tuple[str, int] | None]  # watch id, file, offset, original


def _ref(row: Any) -> dict[str, Any] | None:
    """The WARC record of a fetch row (…, file name, offset), if it was archived."""
    name, offset = row[3], row[4]
    return (
        {"file": name, "offset": int(offset)} if name is not None and offset is not None else None
    )


class ArchiveRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- the last capture of each URL (what a revisit record refers to) ---------------

    def last_capture(self, url: str) -> Placed | None:
        with self.db.session() as s:
            c = s.get(m.Capture, url)
            return (c.digest, c.uri, c.date, c.file, c.offset) if c is not None else None

    def last_captures(self, urls: Sequence[str]) -> dict[str, Placed]:
        out: dict[str, Placed] = {}
        with self.db.session() as s:
            for i in range(0, len(urls), 500):
                chunk = list(urls[i : i + 500])
                for c in s.scalars(select(m.Capture).where(m.Capture.url.in_(chunk))):
                    out[c.url] = (c.digest, c.uri, c.date, c.file, c.offset)
        return out

    def remember_captures(self, items: Mapping[str, Placed]) -> None:
        """Upsert many last captures in one statement (INSERT … ON CONFLICT:
        two workers may capture one new URL at once). A URL longer than the
        column is not remembered (its next capture is a full record again):
        PostgreSQL would refuse it, and with it the batch's every other one."""
        rows = [
            {"url": url, "digest": digest, "uri": uri, "date": date, "file": file, "offset": offset}
            for url, (digest, uri, date, file, offset) in sorted(items.items())
            if len(url) <= MAX_URL and len(uri) <= MAX_URL
        ]  # in one order: two workers' batches cannot wait on each other's rows
        with self.db.session() as s:
            upsert(s.connection(), m.Capture.__table__, rows, key="url")

    # --- where each fetch sits in the WARC files -----------------------------------------

    def warc_refs(self, watch_ids: Sequence[int] | None = None) -> list[tuple[int, str, int]]:
        """(watch id, file, offset) of every archived fetch, oldest first."""
        q = (
            select(m.Fetch.watch_id, m.WarcFile.name, m.Fetch.warc_offset, m.Fetch.fetched_at)
            .join(m.WarcFile, m.WarcFile.id == m.Fetch.warc_file_id)
            .order_by(m.Fetch.fetched_at, m.Fetch.id)
        )
        with self.db.session() as s:
            if watch_ids is None:
                rows = list(s.execute(q).all())
            else:  # in chunks: a bound parameter per id, and backends cap their number
                ids, rows = list(watch_ids), []
                for i in range(0, len(ids), 500):
                    rows += s.execute(q.where(m.Fetch.watch_id.in_(ids[i : i + 500]))).all()
                rows.sort(key=lambda r: r[3])  # oldest first across the chunks
            return [(int(w), str(n), int(o)) for w, n, o, _at in rows if o is not None]

    def orphans(self, watch_ids: Sequence[int]) -> int:
        """Archived revisits of these watches whose original sat in a file gc has
        removed since: written, by a worker with a WARC directory of its own,
        while another machine's gc removed it (the archive's lock is per directory)."""
        f = m.Fetch
        gone = ~select(m.WarcFile.id).where(m.WarcFile.id == f.refers_file_id).exists()
        q = select(func.count()).where(
            f.warc_file_id.is_not(None), f.refers_file_id.is_not(None), gone
        )
        ids, n = list(watch_ids), 0
        with self.db.session() as s:
            for i in range(0, len(ids), 500):  # a bound parameter per id: in chunks
                n += int(s.scalar(q.where(f.watch_id.in_(ids[i : i + 500]))) or 0)
        return n

    def evidence(self, watch_id: int) -> dict[int, dict[str, Any]]:
        """Per version id: its WARC record, and the fetches that bracket the edit.

        "Last seen as the old text at T1, first seen as the new text at T2":
        T1 is the last good fetch before the version's first fetch; the edit
        happened between T1 and T2.
        """
        with self.db.session() as s:
            rows = s.execute(
                select(
                    m.Fetch.id, m.Fetch.fetched_at, m.Fetch.outcome, m.WarcFile.name,
                    m.Fetch.warc_offset,
                )
                .outerjoin(m.WarcFile, m.WarcFile.id == m.Fetch.warc_file_id)
                .where(m.Fetch.watch_id == watch_id)
                .order_by(m.Fetch.fetched_at, m.Fetch.id)
            ).all()  # fmt: skip
            versions = s.execute(
                select(m.Version.id, m.Version.fetch_id, m.Version.first_seen, m.Version.last_seen)
                .where(m.Version.watch_id == watch_id)
                .order_by(m.Version.number)
            ).all()
        out: dict[int, dict[str, Any]] = {}
        position = {r[0]: i for i, r in enumerate(rows)}
        seen_last = None  # the version before's last_seen
        for vid, fetch_id, first_seen, last_seen in versions:
            i = position.get(fetch_id) if fetch_id is not None else None
            warc = before_warc = None
            # Imported, a version has no fetch here: the one before was last
            # seen when its own record says (what the fetches said where it came from).
            before = seen_last if fetch_id is None else None
            if i is not None:
                warc = _ref(rows[i])
                for j in range(i - 1, -1, -1):
                    if rows[j][2] in GOOD_OUTCOMES:
                        before, before_warc = rows[j][1], _ref(rows[j])
                        break
            seen_last = last_seen
            out[vid] = {
                "warc": warc,
                "window": {
                    "old_last_seen": before.isoformat() if before else None,
                    "old_last_warc": before_warc,
                    "new_first_seen": first_seen.isoformat(),
                    "new_first_warc": warc,
                },
            }
        return out

    # --- page bodies -------------------------------------------------------------------

    def unused_blobs(self) -> list[str]:
        """Blobs no version refers to, no other blob is a delta of, and no
        watch compresses its next bodies against."""
        with self.db.session() as s:
            return list(s.scalars(select(m.Blob.hash).where(*_unused())))

    def drop_raw_before(self, cutoff: datetime, *, dry_run: bool = False) -> int:
        """Forget the raw bodies of versions first seen before `cutoff` (their
        text, analysis and WARC evidence stay); a watch's latest version keeps
        its body. Returns how many versions lost theirs (would, with dry_run)."""
        latest = select(m.Watch.version_count).where(m.Watch.id == m.Version.watch_id)
        old = (
            m.Version.first_seen < cutoff,
            m.Version.raw_hash.is_not(None),
            m.Version.number < latest.scalar_subquery(),
        )
        with self.db.session() as s:
            if dry_run:
                return int(s.scalar(select(func.count()).select_from(m.Version).where(*old)) or 0)
            return rowcount(
                s.execute(
                    update(m.Version)
                    .where(*old)
                    .values(raw_hash=None)
                    .execution_options(synchronize_session=False)
                )
            )

    def recorded_warc_files(self) -> dict[str, datetime]:
        """Each WARC file some fetch row points into, and its newest such
        fetch's time. A file none points into (discovery's captures, a purged
        watch's) is judged by its own age."""
        with self.db.session() as s:
            newest = (
                select(m.Fetch.warc_file_id, func.max(m.Fetch.fetched_at).label("at"))
                .where(m.Fetch.warc_file_id.is_not(None))
                .group_by(m.Fetch.warc_file_id)
                .subquery()
            )
            rows = s.execute(
                select(m.WarcFile.name, newest.c.at).join(
                    newest, newest.c.warc_file_id == m.WarcFile.id
                )
            )
            return {name: at for name, at in rows}

    def first_fetches_outside(self, names: Sequence[str]) -> list[First]:
        """Per watch, its earliest archived 200 or 304 in a file not among
        `names` (what a revisit's original can change on): (watch id, file,
        offset, and for a revisit where its original sat, when recorded)."""
        with self.db.session() as s:
            ids = self._file_ids(s, names)
            order = func.row_number().over(
                partition_by=m.Fetch.watch_id, order_by=(m.Fetch.fetched_at, m.Fetch.id)
            )
            f = m.Fetch
            ranked = (
                select(f.watch_id, f.warc_file_id, f.warc_offset, f.refers_file_id,
                       f.refers_offset, order.label("n"))
                .where(f.warc_file_id.is_not(None), f.warc_file_id.not_in(ids),
                       f.status.in_([200, 304]))
                .subquery()
            )  # fmt: skip
            refers = aliased(m.WarcFile)
            rows = s.execute(
                select(ranked.c.watch_id, m.WarcFile.name, ranked.c.warc_offset, refers.name,
                       ranked.c.refers_offset)
                .join(m.WarcFile, m.WarcFile.id == ranked.c.warc_file_id)
                .outerjoin(refers, refers.id == ranked.c.refers_file_id)
                .where(ranked.c.n == 1)
            ).all()  # fmt: skip
            return [
                (int(w), str(n), int(o), None if rn is None or ro is None else (str(rn), int(ro)))
                for w, n, o, rn, ro in rows
                if o is not None
            ]

    def originals_in(self, names: Sequence[str]) -> set[str]:
        """The files among `names` that a revisit archived in another file
        refers to, where its fetch row says its original sat (0011)."""
        with self.db.session() as s:
            ids = self._file_ids(s, names)
            if not ids:
                return set()
            f = m.Fetch
            return set(
                s.scalars(
                    select(m.WarcFile.name)
                    .distinct()
                    .join(f, f.refers_file_id == m.WarcFile.id)
                    .where(
                        f.refers_file_id.in_(ids),
                        f.warc_file_id.is_not(None),
                        f.warc_file_id.not_in(ids),
                    )
                )
            )

    def fetches_in(
        self, watch_id: int | None, names: Sequence[str], *, near: datetime | None = None,
        window: timedelta = timedelta(0), limit: int | None = None,
    ) -> list[tuple[str, int]]:  # fmt: skip
        """The watch's (None: every watch's) archived fetches in the files
        `names` (within `window` of `near`, when given), newest first, at most
        `limit` of them: (file, offset)."""
        with self.db.session() as s:
            q = (
                select(m.WarcFile.name, m.Fetch.warc_offset)
                .join(m.WarcFile, m.WarcFile.id == m.Fetch.warc_file_id)
                .where(
                    m.Fetch.warc_file_id.in_(self._file_ids(s, names)),
                    m.Fetch.warc_offset.is_not(None),
                )
                .order_by(m.Fetch.fetched_at.desc(), m.Fetch.id.desc())
                .limit(limit)
            )
            if watch_id is not None:
                q = q.where(m.Fetch.watch_id == watch_id)
            if near is not None:
                q = q.where(m.Fetch.fetched_at.between(near - window, near + window))
            return [(str(n), int(o)) for n, o in s.execute(q).all() if o is not None]

    @staticmethod
    def _file_ids(s: Any, names: Sequence[str]) -> list[int]:
        found: list[int] = []
        for i in range(0, len(names), 500):  # a bound parameter per name: in chunks
            chunk = list(names[i : i + 500])
            found += s.scalars(select(m.WarcFile.id).where(m.WarcFile.name.in_(chunk)))
        return found

    def forget_warc_files(
        self,
        names: Sequence[str],
        *,
        captured_before: str,
        keep: Set[tuple[str, str]] = frozenset(),
    ) -> None:
        """The files are gone: fetches no longer point into them, and captures
        older than the cutoff are forgotten, so the next fetch of those URLs
        writes a full record instead of a revisit to a removed one; but for
        those `keep` names by (URI, WARC-Date), kept with their files."""
        with self.db.session() as s:
            ids = list(s.scalars(select(m.WarcFile.id).where(m.WarcFile.name.in_(list(names)))))
            if ids:
                for file_id, offset in ((m.Fetch.warc_file_id, m.Fetch.warc_offset),
                                        (m.Fetch.refers_file_id, m.Fetch.refers_offset)):  # fmt: skip
                    s.execute(
                        update(m.Fetch)
                        .where(file_id.in_(ids))
                        .values({file_id: None, offset: None})
                        .execution_options(synchronize_session=False)
                    )
                s.execute(delete(m.WarcFile).where(m.WarcFile.id.in_(ids)))
            for i in range(0, len(names), 500):  # a capture in a removed file is one no more
                s.execute(delete(m.Capture).where(m.Capture.file.in_(list(names[i : i + 500]))))
            old = s.execute(
                select(m.Capture.url, m.Capture.uri, m.Capture.date).where(
                    m.Capture.date < captured_before
                )
            ).all()
            gone = [url for url, uri, date in old if (uri, date) not in keep]
            for i in range(0, len(gone), 500):
                s.execute(delete(m.Capture).where(m.Capture.url.in_(gone[i : i + 500])))

    def delete_blobs(self, hashes: Sequence[str]) -> int:
        """Remove blobs no version needs (re-checked inside the transaction).
        On PostgreSQL a pass holds the bodies it found stored until its
        versions refer to them (bodies.store_bodies): each chunk is
        its own transaction there, judged again when it waited for a pass and
        then fails on their foreign key, or deadlocked with one. SQLite has
        one writer: one transaction, as fast as it goes."""
        chunks = [list(hashes[i : i + 500]) for i in range(0, len(hashes), 500)]
        if self.db.backend == "sqlite":
            with self.db.session() as s:
                return sum(_delete_unused(s, chunk) for chunk in chunks)
        removed = 0
        for chunk in chunks:
            for attempt in range(1, DELETE_ATTEMPTS + 1):
                try:
                    with self.db.session() as s:
                        removed += _delete_unused(s, chunk)
                    break
                except (IntegrityError, OperationalError) as exc:
                    retry = isinstance(exc, IntegrityError) or postgres.retryable(exc)
                    if attempt == DELETE_ATTEMPTS or not retry:
                        raise
        return removed

    def compact(self) -> None:
        """Give freed space back to the file system where the backend needs asking."""
        if self.db.backend == "sqlite":
            sqlite.vacuum(self.db.engine)


def _delete_unused(s: Session, chunk: list[str]) -> int:
    """Delete those of `chunk` still unused; their compressed bytes. One statement each."""
    rows = s.execute(
        select(m.Blob.hash, func.length(m.Blob.data)).where(m.Blob.hash.in_(chunk), *_unused())
    ).all()
    if rows:
        s.execute(
            delete(m.Blob)
            .where(m.Blob.hash.in_([h for h, _n in rows]))
            .execution_options(synchronize_session=False)
        )
    return sum(int(n or 0) for _h, n in rows)


def _unused() -> tuple[Any, ...]:
    """Conditions on m.Blob: no version, delta or watch needs it."""
    used = select(m.Version.raw_hash).where(m.Version.raw_hash.is_not(None))
    bases = select(m.Blob.base).where(m.Blob.base.is_not(None))
    # A watch still fetched compresses its next bodies against its base.
    watch_bases = select(m.Watch.base_hash).where(
        m.Watch.base_hash.is_not(None), m.Watch.state.not_in(RESTING)
    )
    return (
        m.Blob.hash.not_in(used),
        m.Blob.hash.not_in(bases),
        m.Blob.hash.not_in(watch_bases),
    )
