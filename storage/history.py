"""Fetches and versions: the log of every fetch, and the versions some made.

Recording is the hot path of every pass, so it uses prebuilt Core statements
with bound parameters; what to write was decided before (raqib.domain).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from raqib import recording
from raqib.domain import (
    FetchEntry,
    FetchRecord,
    Outcome,
    Recorded,
    Shot,
    Snapshot,
    Version,
    WatchState,
)  # fmt: skip
from raqib.storage import blobs
from raqib.storage import models as m
from raqib.storage.db import Database, StoreError, insert_new, to_domain
from raqib.storage.search import add_keys
from raqib.storage.watches import add_alias

_STATE = (
    m.Watch.id, m.Watch.lease_owner, m.Watch.content_hash, m.Watch.version_count, m.Watch.url,
    m.Watch.base_hash, m.Watch.state,
)  # fmt: skip
_OUTCOMES = frozenset(o.value for o in Outcome)
_BY_HAND = frozenset({WatchState.PAUSED.value, WatchState.UNWATCHED.value})


def _snapshot(row: Any) -> Snapshot:
    return Snapshot(
        title=row.title, byline=row.byline, published=row.published, modified=row.modified,
        text=row.text, notices=list(row.notices or []), language=row.language,
        content_hash=row.content_hash, extractor=row.extractor,
    )  # fmt: skip


def read_blob(s: Session, h: str) -> tuple[bytes, str | None] | None:
    row = s.execute(select(m.Blob.data, m.Blob.base).where(m.Blob.hash == h)).first()
    return (row[0], row[1]) if row is not None else None


def _shot_row(shot: Shot, watch_id: int, version_id: int) -> dict[str, Any]:
    return {
        "version_id": version_id, "watch_id": watch_id, "media_type": shot.media_type,
        "width": shot.width, "height": shot.height, "sha256": blobs.digest(shot.data),
        "data": shot.data,
    }  # fmt: skip


class HistoryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._warc_ids: dict[str, int] = {}
        # Building a statement costs more than the row it writes on this path.
        self._insert_fetch = insert(m.Fetch)
        self._insert_fetches = insert(m.Fetch).returning(m.Fetch.id, sort_by_parameter_order=True)
        self._insert_version = insert(m.Version)
        self._insert_shot = insert(m.Screenshot)
        self._touch_version = (
            update(m.Version)
            .where(m.Version.watch_id == bindparam("w"), m.Version.number == bindparam("n"))
            .values(last_seen=bindparam("seen"))
        )
        self._link_version = (
            update(m.Fetch)
            .where(m.Fetch.id == bindparam("fid"))
            .values(version_id=bindparam("vid"))
        )
        self._blob_exists = select(m.Blob.hash).where(m.Blob.hash == bindparam("h"))
        self._latest = select(
            m.Version.title, m.Version.byline, m.Version.published, m.Version.modified,
            m.Version.text, m.Version.notices, m.Version.language, m.Version.content_hash,
            m.Version.extractor,
        ).where(m.Version.watch_id == bindparam("w"), m.Version.number == bindparam("n"))  # fmt: skip
        self._watch_updates: dict[tuple[str, ...], Any] = {}

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
        for rec in recs:
            if rec.outcome not in _OUTCOMES:
                raise ValueError(f"unknown outcome {rec.outcome!r}")
        out: list[Recorded | None] = []
        with self.db.session() as s:
            conn = s.connection()
            ids = sorted({r.watch_id for r in recs})
            rows = conn.execute(select(*_STATE).where(m.Watch.id.in_(ids))).all()
            state = {r.id: r._asdict() for r in rows}
            # Fetches that store no version are written together, a statement
            # per kind of row (most of a pass: unchanged, 304s, errors), when
            # each watch is in the batch once (else order would matter).
            bulk = (
                len(ids) == len(recs)
                and conn.dialect.insert_executemany_returning_sort_by_parameter_order
            )
            plain: list[tuple[int, FetchRecord, dict[str, Any]]] = []
            for rec in recs:
                w = state.get(rec.watch_id)
                if w is None:
                    raise StoreError(f"no watch {rec.watch_id}")
                if owner is not None and w["lease_owner"] != owner:
                    # Our lease expired and another worker took the watch: its
                    # record wins, ours would duplicate it.
                    out.append(Recorded(0, Outcome(rec.outcome), None, lease_lost=True))
                elif bulk and rec.outcome != Outcome.NEW_VERSION:
                    plain.append((len(out), rec, w))
                    out.append(None)
                else:
                    out.append(self._record_one(s, conn, rec, w, owner))
            for at, recorded in self._record_plain(s, conn, plain, owner):
                out[at] = recorded
        return [r for r in out if r is not None]

    def _record_plain(
        self,
        s: Session,
        conn: Any,
        plain: list[tuple[int, FetchRecord, dict[str, Any]]],
        owner: str | None,
    ) -> list[tuple[int, Recorded]]:
        """Write fetches that store no version, in one statement per kind of row."""
        if not plain:
            return []
        settled = [(at, rec, w, *recording.settle(rec, w["content_hash"])) for at, rec, w in plain]
        fetch_ids = (
            conn.execute(
                self._insert_fetches,
                [self._fetch_row(s, rec, o, d) for _a, rec, _w, o, d in settled],
            )
            .scalars()
            .all()
        )
        touches = [
            {"w": rec.watch_id, "n": w["version_count"], "seen": rec.fetched_at}
            for _a, rec, w, outcome, _d in settled
            if recording.extends_version(outcome) and w["version_count"]
        ]
        if touches:
            conn.execute(self._touch_version, touches)
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for _a, rec, w, outcome, _d in settled:
            values = self._watch_values(rec, outcome, w, owner)
            updates.setdefault(tuple(sorted(values)), []).append({"wid": rec.watch_id, **values})
        for keys, params in updates.items():
            conn.execute(self._update_watch(keys), params)
        out = []
        for (at, rec, _w, outcome, _d), fid in zip(settled, fetch_ids, strict=True):
            for alias in rec.aliases:
                add_alias(s, alias, rec.watch_id)
            out.append((at, Recorded(fetch_id=int(fid), outcome=outcome, version_number=None)))
        return out

    def _fetch_row(
        self, s: Session, rec: FetchRecord, outcome: Outcome, detail: str | None
    ) -> dict[str, Any]:
        return {
            "watch_id": rec.watch_id, "fetched_at": rec.fetched_at, "status": rec.status,
            "outcome": str(outcome), "duration_ms": rec.duration_ms, "etag": rec.etag,
            "last_modified": rec.last_modified, "detail": (detail or None) and detail[:500],
            "version_id": None,
            "warc_file_id": self._warc_file_id(s, rec.warc_file) if rec.warc_file else None,
            "warc_offset": rec.warc_offset,
        }  # fmt: skip

    @staticmethod
    def _watch_values(
        rec: FetchRecord, outcome: Outcome, w: dict[str, Any], owner: str | None
    ) -> dict[str, Any]:
        """The watch's new columns after this fetch (a new version adds its own)."""
        values = recording.watch_update(rec, outcome)
        if w["state"] in _BY_HAND:  # paused or unwatched while this fetch ran: that stands
            values.pop("state", None)
        if owner is not None:
            values.update(lease_owner=None, lease_expires_at=None)
        return values

    def _record_one(
        self, s: Session, conn: Any, rec: FetchRecord, w: dict[str, Any], owner: str | None
    ) -> Recorded:
        latest = None
        if rec.outcome == Outcome.NEW_VERSION and w["version_count"]:
            row = conn.execute(self._latest, {"w": rec.watch_id, "n": w["version_count"]}).first()
            latest = _snapshot(row) if row is not None else None
        outcome, detail = recording.settle(rec, w["content_hash"], latest)
        fetch_id = conn.execute(
            self._insert_fetch, self._fetch_row(s, rec, outcome, detail)
        ).inserted_primary_key[0]
        values = self._watch_values(rec, outcome, w, owner)
        number: int | None = None
        snap = rec.snapshot
        if outcome is Outcome.NEW_VERSION and snap is not None:
            raw_hash = (
                self._put_blob(s, conn, rec.raw_body, base=w.get("base_hash"))
                if rec.raw_body is not None
                else None
            )
            number = w["version_count"] + 1
            version_id = conn.execute(
                self._insert_version,
                {
                    "watch_id": rec.watch_id, "number": number, "title": snap.title,
                    "byline": snap.byline, "published": snap.published, "modified": snap.modified,
                    "text": snap.text, "notices": list(snap.notices), "language": snap.language,
                    "content_hash": snap.content_hash, "raw_hash": raw_hash,
                    "url": rec.url or w["url"], "extractor": snap.extractor,
                    "first_seen": rec.fetched_at, "last_seen": rec.fetched_at, "fetch_id": fetch_id,
                },
            ).inserted_primary_key[0]  # fmt: skip
            conn.execute(self._link_version, {"fid": fetch_id, "vid": version_id})
            if rec.search_key is not None:
                add_keys(
                    conn,
                    [{"version_id": version_id, "watch_id": rec.watch_id, "key": rec.search_key}],
                )
            if rec.shot is not None:
                conn.execute(self._insert_shot, _shot_row(rec.shot, rec.watch_id, version_id))
            values.update(recording.new_version_update(snap, number, rec.fetched_at))
            # Later bodies are stored as zstd deltas against the first one.
            if not w["base_hash"] and raw_hash:
                values["base_hash"] = w["base_hash"] = raw_hash
            w["version_count"], w["content_hash"] = number, snap.content_hash
        elif recording.extends_version(outcome) and w["version_count"]:
            conn.execute(
                self._touch_version,
                {"w": rec.watch_id, "n": w["version_count"], "seen": rec.fetched_at},
            )
        conn.execute(self._update_watch(tuple(sorted(values))), {"wid": rec.watch_id, **values})
        for alias in rec.aliases:
            add_alias(s, alias, rec.watch_id)
        return Recorded(fetch_id=int(fetch_id), outcome=outcome, version_number=number)

    def _update_watch(self, keys: tuple[str, ...]) -> Any:
        """UPDATE watches for one set of columns, built once per set."""
        stmt = self._watch_updates.get(keys)
        if stmt is None:
            stmt = (
                update(m.Watch)
                .where(m.Watch.id == bindparam("wid"))
                .values({k: bindparam(k) for k in keys})
            )
            self._watch_updates[keys] = stmt
        return stmt

    def _warc_file_id(self, s: Session, name: str) -> int:
        cached = self._warc_ids.get(name)
        if cached is not None:
            return cached
        fid = s.scalar(select(m.WarcFile.id).where(m.WarcFile.name == name))
        if fid is None:
            # Workers on one home append to the same file: another may name it first.
            try:
                with s.begin_nested():
                    f = m.WarcFile(name=name)
                    s.add(f)
                    s.flush()
                    fid = f.id
            except IntegrityError:
                fid = s.scalar(select(m.WarcFile.id).where(m.WarcFile.name == name))
        assert fid is not None
        self._warc_ids[name] = fid
        return fid

    def _put_blob(self, s: Session, conn: Any, data: bytes, base: str | None = None) -> str:
        h = blobs.digest(data)
        if conn.execute(self._blob_exists, {"h": h}).first() is None:
            base_raw = (
                self.db.blobs.raw(lambda k: read_blob(s, k), base) if base and base != h else None
            )
            row = {
                "hash": h,
                "size": len(data),
                "data": blobs.compress(data, base_raw),
                "base": base if base_raw is not None else None,
            }
            insert_new(conn, m.Blob.__table__, [row])  # two workers may store the same page at once
        return h

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
        histories of one article that disagree are not merged silently."""
        with self.db.session() as s:
            held = s.scalar(
                select(m.Version.content_hash).where(
                    m.Version.watch_id == watch_id, m.Version.number == v.number
                )
            )
            if held is not None:
                if held != v.content_hash:
                    raise StoreError(f"watch {watch_id} already has a different version {v.number}")
                return False
            raw = v.raw_hash if v.raw_hash and s.get(m.Blob, v.raw_hash) is not None else None
            s.add(
                m.Version(
                    watch_id=watch_id, number=v.number, title=v.title, byline=v.byline,
                    published=v.published, modified=v.modified, text=v.text,
                    notices=list(v.notices), language=v.language, content_hash=v.content_hash,
                    raw_hash=raw, url=v.url, extractor=v.extractor, first_seen=v.first_seen,
                    last_seen=v.last_seen, fetch_id=None,
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
            return self.db.blobs.raw(lambda k: read_blob(s, k), raw_hash)

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
