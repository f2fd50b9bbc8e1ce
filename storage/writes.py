"""Writing a pass's fetches: a batch of them in a few statements.

Recording is the hot path of every pass. Each kind of row (fetch-log rows,
raw bodies, versions, search keys, watch updates) is written for the whole
batch in one statement with many parameter sets, with statements built once:
building and executing a statement cost more than the row it writes, and a
first pass writes a version for every page. What to write was decided before
(raqib.recording).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from raqib import recording
from raqib.domain import FetchRecord, Outcome, Recorded, Snapshot, WatchState
from raqib.storage import models as m
from raqib.storage import postgres
from raqib.storage.bodies import shot_row, store_bodies
from raqib.storage.db import (
    Database,
    refusal,
    refused_value,
    storable,
    to_domain,
)
from raqib.storage.search import add_keys
from raqib.storage.watches import MAX_URL, add_alias

log = logging.getLogger(__name__)

_STATE = (
    m.Watch.id, m.Watch.lease_owner, m.Watch.content_hash, m.Watch.version_count, m.Watch.url,
    m.Watch.base_hash, m.Watch.state,
)  # fmt: skip
_LATEST = (
    m.Version.watch_id, m.Version.title, m.Version.byline, m.Version.published,
    m.Version.modified, m.Version.text, m.Version.notices, m.Version.language,
    m.Version.content_hash, m.Version.extractor,
)  # fmt: skip
_OUTCOMES = frozenset(o.value for o in Outcome)
ATTEMPTS = 3  # a batch PostgreSQL rolled back for a deadlock is written again
# A server out of reach (restarted, its link down) is waited for this long, the
# batch tried again, before the pass stops: what it fetched is kept.
REACH_SECONDS = 60.0
# Set beside a pass (by hand, or by an outlet's removal): a fetch in flight keeps it.
_BY_HAND = frozenset(s.value for s in (WatchState.PAUSED, WatchState.UNWATCHED, WatchState.RETIRED))


@dataclass
class _Fetch:
    """One fetch of a batch, as it is being written."""

    at: int  # its place in the batch
    rec: FetchRecord
    watch: dict[str, Any]  # the watch's stored state (_STATE), kept current
    outcome: Outcome = Outcome.ERROR
    detail: str | None = None
    fetch_id: int = 0
    number: int | None = None  # the version it stores


class FetchWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._warc_ids: dict[str, int] = {}
        self._insert_fetch = insert(m.Fetch)
        self._insert_fetches = insert(m.Fetch).returning(m.Fetch.id, sort_by_parameter_order=True)
        self._insert_version = insert(m.Version)
        self._insert_versions = insert(m.Version).returning(
            m.Version.id, sort_by_parameter_order=True
        )
        self._insert_shot = insert(m.Screenshot)
        self._touch_version = (
            update(m.Version)
            .where(m.Version.watch_id == bindparam("w"), m.Version.number == bindparam("n"))
            .values(last_seen=bindparam("seen"))
        )
        self._see_version = (
            update(m.Version)
            .where(m.Version.id == bindparam("vid"))
            .values(seen_notices=bindparam("seen"))
        )
        self._link_version = (
            update(m.Fetch)
            .where(m.Fetch.id == bindparam("fid"))
            .values(version_id=bindparam("vid"))
        )
        self._watch_updates: dict[tuple[str, ...], Any] = {}

    def write(self, recs: Sequence[FetchRecord], *, owner: str | None = None) -> list[Recorded]:
        """Write a batch of fetches (see HistoryRepo.record_many). A batch refused
        for a value no column holds (a NUL on PostgreSQL, a lone surrogate) is
        written one fetch at a time, the refused one kept as its watch's error."""
        for rec in recs:
            if rec.outcome not in _OUTCOMES:
                raise ValueError(f"unknown outcome {rec.outcome!r}")
        try:
            return self._write_batch(recs, owner)
        except Exception as exc:
            if not refused_value(exc):
                raise
            log.warning(
                "a batch of %d fetches was refused (%s): one at a time", len(recs), refusal(exc)
            )
        out: list[Recorded] = []
        ours: set[int] = set()  # as in one batch: a watch's later fetch follows its first
        for rec in recs:
            try:
                out += self._write_batch([rec], owner, ours)
            except Exception as exc:
                if not refused_value(exc):
                    raise
                log.error("watch %d: its fetch could not be stored: %s", rec.watch_id, refusal(exc))
                with self.db.session() as s:
                    errors = s.scalar(select(m.Watch.error_count).where(m.Watch.id == rec.watch_id))
                kept = recording.refused(
                    rec, f"could not be stored: {refusal(exc)}", (errors or 0) + 1
                )
                out += self._write_batch([kept], owner, ours)
        return out

    def _write_batch(
        self, recs: Sequence[FetchRecord], owner: str | None, ours: set[int] | None = None
    ) -> list[Recorded]:
        attempt, reach = 1, postgres.Reach(REACH_SECONDS)
        while True:
            named = set(self._warc_ids)
            mine = set(ours or ())
            try:
                with self.db.session() as s:
                    written = self._write(s, recs, owner, mine)
                if ours is not None:
                    ours |= mine
                return [written[at] for at in range(len(recs))]
            except BaseException as exc:
                # Rolled back: a WARC file named in this batch has no row, and
                # its id may go to the next file named.
                for name in set(self._warc_ids) - named:
                    del self._warc_ids[name]
                # Under a lease only: a batch whose commit was lost with the link freed its
                # leases, so written again its watches read as another's (lease_lost).
                if owner is not None and reach.again(exc, f"a batch of {len(recs)} fetches"):
                    continue
                # Two workers storing the same bodies in other orders (a watch's second fetch
                # is written in a later round) can deadlock; PostgreSQL then rolls one back.
                if attempt == ATTEMPTS or not postgres.retryable(exc):
                    raise
                attempt += 1
                log.warning(
                    "writing a batch of %d fetches again: %s", len(recs), getattr(exc, "orig", exc)
                )

    def _write(
        self, s: Session, recs: Sequence[FetchRecord], owner: str | None, ours: set[int]
    ) -> dict[int, Recorded]:
        """`ours`: the watches written (under `owner`'s lease, if given)."""
        conn = s.connection()
        written: dict[int, Recorded] = {}
        pending = list(enumerate(recs))
        while pending:
            # A watch fetched twice in one batch: its later fetch goes in the
            # next round, written over the state the earlier one left.
            now: list[tuple[int, FetchRecord]] = []
            later: list[tuple[int, FetchRecord]] = []
            seen: set[int] = set()
            for at, rec in pending:
                (later if rec.watch_id in seen else now).append((at, rec))
                seen.add(rec.watch_id)
            written.update(self._round(s, conn, now, owner, ours))
            pending = later
        # In the batch's order: a URL two watches answer to goes to the first.
        for rec in recs:
            for alias in rec.aliases if rec.watch_id in ours else ():
                add_alias(s, alias, rec.watch_id)
        return written

    def _round(
        self,
        s: Session,
        conn: Any,
        batch: list[tuple[int, FetchRecord]],
        owner: str | None,
        ours: set[int],
    ) -> dict[int, Recorded]:
        """Write fetches of distinct watches; their results by place in the
        batch. `ours` gains the watches written: writing releases `owner`'s
        lease, and a later round must not take that for a lost one."""
        ids = sorted({rec.watch_id for _at, rec in batch})
        rows = conn.execute(select(*_STATE).where(m.Watch.id.in_(ids))).all()
        state = {r.id: r._asdict() for r in rows}
        done: dict[int, Recorded] = {}
        fetches: list[_Fetch] = []
        for at, rec in batch:
            w = state.get(rec.watch_id)
            if w is None:  # purged while this fetch ran: nothing left to record it in
                log.info("watch %d was purged while this pass fetched it", rec.watch_id)
                done[at] = Recorded(0, Outcome(rec.outcome), None, lease_lost=True)
            elif owner is not None and w["lease_owner"] != owner and rec.watch_id not in ours:
                # Our lease expired and another worker took the watch: its
                # record wins, ours would duplicate it.
                done[at] = Recorded(0, Outcome(rec.outcome), None, lease_lost=True)
            else:
                ours.add(rec.watch_id)
                fetches.append(_Fetch(at, rec, w))
        if not fetches:
            return done
        latest = self._latest(conn, [f for f in fetches if f.rec.outcome == Outcome.NEW_VERSION])
        for f in fetches:
            f.outcome, f.detail = recording.settle(
                f.rec, f.watch["content_hash"], latest.get(f.rec.watch_id)
            )
        fetch_ids = self._returning(
            conn,
            self._insert_fetch,
            self._insert_fetches,
            [self._fetch_row(s, f.rec, f.outcome, f.detail) for f in fetches],
        )
        for f, fid in zip(fetches, fetch_ids, strict=True):
            f.fetch_id = int(fid)
        updates = {f.at: self._watch_values(f.rec, f.outcome, f.watch, owner) for f in fetches}
        self._versions(s, conn, [f for f in fetches if self._stores(f)], updates)
        touches = [
            {"w": f.rec.watch_id, "n": f.watch["version_count"], "seen": f.rec.fetched_at}
            for f in fetches
            if recording.extends_version(f.outcome) and f.watch["version_count"]
        ]
        if touches:
            conn.execute(self._touch_version, touches)
            self._see_notices(conn, [f for f in fetches if f.rec.notices_moved])
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for f in fetches:
            values = updates[f.at]
            by_columns.setdefault(tuple(sorted(values)), []).append(
                {"wid": f.rec.watch_id, **values}
            )
        for keys, params in by_columns.items():
            conn.execute(self._update_watch(keys), params)
        for f in fetches:
            done[f.at] = Recorded(fetch_id=f.fetch_id, outcome=f.outcome, version_number=f.number)
        return done

    def _see_notices(self, conn: Any, fetches: list[_Fetch]) -> None:
        """Note on each latest version the notices a fetch of its text saw that
        it does not hold (a stamp that moved with no edit: normalize.stamps); only
        when they moved since the last read, so a page's standing notices cost
        no query. The version is the one the fetch was judged against."""
        fetches = [
            f
            for f in fetches
            if recording.extends_version(f.outcome) and f.watch["version_count"] and f.rec.meta
        ]
        if not fetches:
            return
        pairs = [(f.rec.watch_id, f.watch["version_count"]) for f in fetches]
        latest = conn.execute(
            select(
                m.Version.id, m.Version.watch_id, m.Version.notices, m.Version.seen_notices
            ).where(tuple_(m.Version.watch_id, m.Version.number).in_(pairs))
        )
        held = {r.watch_id: r for r in latest}
        changed = []
        for f in fetches:
            if (v := held.get(f.rec.watch_id)) is not None:
                fetched = (f.rec.meta or {})["notices"]
                seen = recording.seen_notices(v.notices, v.seen_notices, fetched)
                if seen is not None:
                    changed.append({"vid": v.id, "seen": seen})
        if changed:
            conn.execute(self._see_version, changed)

    @staticmethod
    def _stores(f: _Fetch) -> bool:
        return f.outcome is Outcome.NEW_VERSION and f.rec.snapshot is not None

    def _latest(self, conn: Any, fetches: list[_Fetch]) -> dict[int, Snapshot]:
        """The latest stored version of each watch that `fetches` found changed
        (a "new version" with the same text and headline is not one)."""
        wanted = [f.rec.watch_id for f in fetches if f.watch["version_count"]]
        if not wanted:
            return {}
        rows = conn.execute(
            select(*_LATEST)
            .join(m.Watch, m.Watch.id == m.Version.watch_id)
            .where(m.Version.watch_id.in_(wanted), m.Version.number == m.Watch.version_count)
        ).all()
        return {r.watch_id: to_domain(Snapshot, r, notices=list(r.notices or [])) for r in rows}

    def _versions(
        self, s: Session, conn: Any, fetches: list[_Fetch], updates: dict[int, dict[str, Any]]
    ) -> None:
        """Store the new versions of `fetches`, with their raw bodies, search
        keys and screenshots; `updates` (each watch's new columns) gains their
        summaries."""
        if not fetches:
            return
        raw = store_bodies(
            s, conn, self.db.blobs, [(f.rec.raw_body, f.watch.get("base_hash")) for f in fetches]
        )
        rows = []
        for f, raw_hash in zip(fetches, raw, strict=True):
            snap, w = f.rec.snapshot, f.watch
            assert snap is not None
            f.number = w["version_count"] + 1
            rows.append(
                {
                    "watch_id": f.rec.watch_id, "number": f.number, "title": snap.title,
                    "byline": snap.byline, "published": snap.published,
                    "modified": snap.modified, "text": snap.text, "notices": list(snap.notices),
                    "language": snap.language, "content_hash": snap.content_hash,
                    # A redirect to an address past the column: the watch's own
                    # (the WARC record keeps the one served).
                    "raw_hash": raw_hash,
                    "url": f.rec.url if f.rec.url and len(f.rec.url) <= MAX_URL else w["url"],
                    "extractor": snap.extractor, "first_seen": f.rec.fetched_at,
                    "last_seen": f.rec.fetched_at, "fetch_id": f.fetch_id,
                }
            )  # fmt: skip
            values = updates[f.at]
            values.update(recording.new_version_update(snap, f.number, f.rec.fetched_at))
            # Later bodies are stored as zstd deltas against the first one.
            if not w["base_hash"] and raw_hash:
                values["base_hash"] = w["base_hash"] = raw_hash
            w["version_count"], w["content_hash"] = f.number, snap.content_hash
        version_ids = self._returning(conn, self._insert_version, self._insert_versions, rows)
        conn.execute(
            self._link_version,
            [{"fid": f.fetch_id, "vid": vid} for f, vid in zip(fetches, version_ids, strict=True)],
        )
        add_keys(
            conn,
            [
                {"version_id": vid, "watch_id": f.rec.watch_id, "key": f.rec.search_key}
                for f, vid in zip(fetches, version_ids, strict=True)
                if f.rec.search_key is not None
            ],
        )
        shots = [
            shot_row(f.rec.shot, f.rec.watch_id, vid)
            for f, vid in zip(fetches, version_ids, strict=True)
            if f.rec.shot is not None
        ]
        if shots:
            conn.execute(self._insert_shot, shots)

    def _returning(
        self, conn: Any, single: Any, many: Any, rows: list[dict[str, Any]]
    ) -> list[Any]:
        """Insert `rows`; their new ids, in their order (one statement when the
        dialect returns ids of many rows in order, as SQLite and psycopg do)."""
        if len(rows) > 1 and conn.dialect.insert_executemany_returning_sort_by_parameter_order:
            return list(conn.execute(many, rows).scalars().all())
        return [conn.execute(single, row).inserted_primary_key[0] for row in rows]

    def _fetch_row(
        self, s: Session, rec: FetchRecord, outcome: Outcome, detail: str | None
    ) -> dict[str, Any]:
        return {
            "watch_id": rec.watch_id, "fetched_at": rec.fetched_at, "status": rec.status,
            "outcome": str(outcome), "duration_ms": rec.duration_ms, "etag": rec.etag,
            # Headers are cleaned where they are read (crawler.responses.header);
            # a detail may quote an exception's words about a stranger's bytes.
            "last_modified": rec.last_modified, "detail": storable(detail, 500),
            "version_id": None,
            "warc_file_id": self.warc_file_id(s, rec.warc_file) if rec.warc_file else None,
            "warc_offset": rec.warc_offset,
            "refers_file_id": self.warc_file_id(s, rec.warc_refers[0]) if rec.warc_refers else None,
            "refers_offset": rec.warc_refers[1] if rec.warc_refers else None,
        }  # fmt: skip

    @staticmethod
    def _watch_values(
        rec: FetchRecord, outcome: Outcome, w: dict[str, Any], owner: str | None
    ) -> dict[str, Any]:
        """The watch's new columns after this fetch (a new version adds its own)."""
        values = recording.watch_update(rec, outcome)
        if w["state"] in _BY_HAND:  # paused, unwatched or retired while this fetch ran: it stands
            values.pop("state", None)
        if owner is not None:
            values.update(lease_owner=None, lease_expires_at=None)
        return values

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

    def warc_file_id(self, s: Session, name: str) -> int:
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
