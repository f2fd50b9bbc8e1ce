"""The Store: the small interface the rest of Raqib uses to reach the database.

Everything above this module speaks in the dataclasses below and in the
models' plain attributes; no SQL leaves this package. Each public write is one
transaction (see the comment at each) so that a process killed at any point
leaves either the whole write or none of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from raqib.storage import blobs
from raqib.storage.models import (
    OUTCOMES,
    Alias,
    Blob,
    Candidate,
    Capture,
    Change,
    Channel,
    Fetch,
    Outbox,
    Source,
    Story,
    Version,
    WarcFile,
    Watch,
)

GOOD_OUTCOMES = ("new_version", "unchanged", "not_modified", "restored")

BASE_CACHE = 16  # first-version bodies kept decompressed, per Store


class StoreError(Exception):
    """A request the store cannot satisfy (unknown watch, bad argument)."""


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
    outcome: str
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
    region: dict[str, Any] | None = None  # where the article sat in the page (see crawler.region)


@dataclass(frozen=True)
class Recorded:
    fetch_id: int
    outcome: str
    version_number: int | None
    lease_lost: bool = False


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._warc_ids: dict[str, int] = {}
        self._bases: dict[str, bytes] = {}
        self._insert_fetch = insert(Fetch)
        self._touch_version = (
            update(Version)
            .where(Version.watch_id == bindparam("w"), Version.number == bindparam("n"))
            .values(last_seen=bindparam("seen"))
        )
        self._watch_updates: dict[tuple[str, ...], Any] = {}
        self._insert_version = insert(Version)
        self._link_version = (
            update(Fetch).where(Fetch.id == bindparam("fid")).values(version_id=bindparam("vid"))
        )
        self._blob_exists = select(Blob.hash).where(Blob.hash == bindparam("h"))
        self._insert_blob = insert(Blob)

    def _update_watch(self, keys: tuple[str, ...]) -> Any:
        """UPDATE watches for one set of columns, built once per set."""
        stmt = self._watch_updates.get(keys)
        if stmt is None:
            stmt = (
                update(Watch)
                .where(Watch.id == bindparam("wid"))
                .values({k: bindparam(k) for k in keys})
            )
            self._watch_updates[keys] = stmt
        return stmt

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with self._sessions.begin() as s:
            yield s

    def close(self) -> None:
        self.engine.dispose()

    def url(self) -> str:
        """The database URL, credentials included (for a pass's other processes)."""
        return self.engine.url.render_as_string(hide_password=False)

    # --- stories and watches -------------------------------------------------

    def story_id(self, s: Session, slug: str | None, now: datetime) -> int | None:
        if not slug:
            return None
        sid = s.scalar(select(Story.id).where(Story.slug == slug))
        if sid is None:
            story = Story(slug=slug, created_at=now)
            s.add(story)
            s.flush()
            sid = story.id
        return sid

    def add_watches(
        self,
        urls: Sequence[str],
        *,
        now: datetime,
        story: str | None = None,
        origin: str = "manual",
        found_via: str | None = None,
        score: float | None = None,
        matched_terms: list[str] | None = None,
    ) -> list[tuple[Watch, bool]]:
        """Watch these (already normalised) URLs; idempotent. Returns (watch, created)."""
        out: list[tuple[Watch, bool]] = []
        # One transaction for the batch: "watch a b c" adds all three or none.
        with self.session() as s:
            sid = self.story_id(s, story, now)
            for url in urls:
                existing = self._find(s, url)
                if existing is not None:
                    if sid is not None and existing.story_id is None:
                        existing.story_id = sid
                    out.append((existing, False))
                    continue
                w = Watch(
                    url=url,
                    story_id=sid,
                    origin=origin,
                    found_via=found_via,
                    score=score,
                    matched_terms=matched_terms,
                    added_at=now,
                    next_check_at=now,
                    state="active",
                    error_count=0,
                    removed_count=0,
                    version_count=0,
                    words=0,
                    replacements=0,
                )
                s.add(w)
                s.flush()
                s.add(Alias(url=url, watch_id=w.id))
                out.append((w, True))
        return out

    def _find(self, s: Session, url: str) -> Watch | None:
        w = s.scalar(select(Watch).where(Watch.url == url))
        if w is None:
            w = s.scalar(
                select(Watch).join(Alias, Alias.watch_id == Watch.id).where(Alias.url == url)
            )
        return w

    def find_watch(self, url: str) -> Watch | None:
        with self.session() as s:
            return self._find(s, url)

    def get_watch(self, watch_id: int) -> Watch:
        with self.session() as s:
            w = s.get(Watch, watch_id)
            if w is None:
                raise StoreError(f"no watch {watch_id}")
            return w

    def watches(self) -> list[tuple[Watch, str | None]]:
        with self.session() as s:
            rows = s.execute(
                select(Watch, Story.slug)
                .outerjoin(Story, Story.id == Watch.story_id)
                .order_by(Watch.id)
            ).all()
            return [(w, slug) for w, slug in rows]

    def aliases(self, watch_id: int) -> list[str]:
        with self.session() as s:
            return list(
                s.scalars(select(Alias.url).where(Alias.watch_id == watch_id).order_by(Alias.url))
            )

    # --- claiming work ---------------------------------------------------------

    def claim(
        self,
        owner: str,
        *,
        now: datetime,
        lease: timedelta,
        limit: int,
        due_only: bool = True,
        watch_ids: Sequence[int] | None = None,
    ) -> list[Task]:
        """Lease up to `limit` due watches to `owner`; never one another holds."""
        free = or_(
            Watch.lease_expires_at.is_(None),
            Watch.lease_expires_at < now,
            Watch.lease_owner == owner,
        )
        cond = and_(Watch.state != "retired", free)
        if due_only:
            cond = and_(cond, Watch.next_check_at <= now)
        if watch_ids is not None:
            cond = and_(cond, Watch.id.in_(list(watch_ids)))
        # One transaction: pick, then take only what is still free. The
        # conditional UPDATE is the claim; on PostgreSQL it re-checks each row
        # under its row lock, so two workers never both win a watch.
        with self.session() as s:
            ids = list(
                s.scalars(
                    select(Watch.id)
                    .where(cond)
                    .order_by(Watch.next_check_at, Watch.id)
                    .limit(limit)
                )
            )
            if not ids:
                return []
            s.execute(
                update(Watch)
                .where(Watch.id.in_(ids), free)
                .values(lease_owner=owner, lease_expires_at=now + lease)
                .execution_options(synchronize_session=False)
            )
            cols = (
                Watch.id, Watch.url, Watch.etag, Watch.last_modified, Watch.body_key, Watch.content_hash,
                Watch.state, Watch.version_count, Watch.words, Watch.added_at, Watch.last_change_at,
                Watch.error_count, Watch.removed_count, Watch.replacements, Watch.region,
            )  # fmt: skip
            rows = s.execute(
                select(*cols)
                .where(Watch.id.in_(ids), Watch.lease_owner == owner)
                .order_by(Watch.next_check_at, Watch.id)
            ).all()
            return [
                Task(
                    watch_id=r.id,
                    url=r.url,
                    etag=r.etag,
                    last_modified=r.last_modified,
                    body_key=r.body_key,
                    content_hash=r.content_hash,
                    state=r.state,
                    version_count=r.version_count,
                    last_words=r.words,
                    added_at=r.added_at,
                    last_change_at=r.last_change_at,
                    error_count=r.error_count,
                    removed_count=r.removed_count,
                    last_replacements=r.replacements,
                    region=r.region,
                )
                for r in rows
            ]

    def renew(self, owner: str, *, now: datetime, lease: timedelta) -> int:
        with self.session() as s:
            result = s.execute(
                update(Watch)
                .where(Watch.lease_owner == owner)
                .values(lease_expires_at=now + lease)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def release(self, owner: str) -> None:
        with self.session() as s:
            s.execute(
                update(Watch)
                .where(Watch.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            )

    def lease_holders(self, *, now: datetime, due_only: bool = True) -> dict[str, int]:
        """Owners holding unexpired leases on (due) watches, with their counts."""
        cond = and_(
            Watch.lease_owner.is_not(None), Watch.lease_expires_at >= now, Watch.state != "retired"
        )
        if due_only:
            cond = and_(cond, Watch.next_check_at <= now)
        with self.session() as s:
            rows = s.execute(
                select(Watch.lease_owner, func.count()).where(cond).group_by(Watch.lease_owner)
            ).all()
            return {str(owner): int(n) for owner, n in rows}

    def due_ids(self, *, now: datetime, limit: int) -> list[int]:
        """Ids of the watches due at `now`, soonest first (what a sweep would claim)."""
        with self.session() as s:
            return list(
                s.scalars(
                    select(Watch.id)
                    .where(Watch.state != "retired", Watch.next_check_at <= now)
                    .order_by(Watch.next_check_at, Watch.id)
                    .limit(limit)
                )
            )

    def count_due(self, *, now: datetime) -> int:
        with self.session() as s:
            return int(
                s.scalar(
                    select(func.count()).where(Watch.state != "retired", Watch.next_check_at <= now)
                )
                or 0
            )

    # --- recording a fetch -------------------------------------------------------

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
        simply fetched again. Core statements, not the ORM: this is the hot
        path of every pass.
        """
        for rec in recs:
            if rec.outcome not in OUTCOMES:
                raise StoreError(f"unknown outcome {rec.outcome!r}")
        out: list[Recorded] = []
        with self.session() as s:
            conn = s.connection()
            ids = sorted({r.watch_id for r in recs})
            rows = conn.execute(
                select(
                    Watch.id, Watch.lease_owner, Watch.content_hash, Watch.version_count, Watch.url,
                    Watch.etag, Watch.last_modified, Watch.base_hash,
                ).where(Watch.id.in_(ids))
            ).all()  # fmt: skip
            state = {r.id: r._asdict() for r in rows}
            for rec in recs:
                w = state.get(rec.watch_id)
                if w is None:
                    raise StoreError(f"no watch {rec.watch_id}")
                if owner is not None and w["lease_owner"] != owner:
                    # Our lease expired and another worker took the watch: its
                    # record wins, ours would duplicate it.
                    out.append(
                        Recorded(
                            fetch_id=0, outcome=rec.outcome, version_number=None, lease_lost=True
                        )
                    )
                    continue
                out.append(self._record_one(s, conn, rec, w, owner))
        return out

    def _record_one(
        self, s: Session, conn: Any, rec: FetchRecord, w: dict[str, Any], owner: str | None
    ) -> Recorded:
        outcome = rec.outcome
        snap = rec.snapshot
        if outcome == "new_version" and snap is not None and snap.content_hash == w["content_hash"]:
            outcome = "unchanged"  # another path already stored this content
        # Prebuilt statements with bound parameters: building a new construct
        # per row costs more than the row itself on this path.
        fetch_id = conn.execute(
            self._insert_fetch,
            {
                "watch_id": rec.watch_id,
                "fetched_at": rec.fetched_at,
                "status": rec.status,
                "outcome": outcome,
                "duration_ms": rec.duration_ms,
                "etag": rec.etag,
                "last_modified": rec.last_modified,
                "detail": (rec.detail or None) and rec.detail[:500],
                "version_id": None,
                "warc_file_id": self._warc_file_id(s, rec.warc_file) if rec.warc_file else None,
                "warc_offset": rec.warc_offset,
            },
        ).inserted_primary_key[0]
        values: dict[str, Any] = {
            "last_checked_at": rec.fetched_at,
            "last_outcome": outcome,
            "next_check_at": rec.next_check_at,
        }
        number: int | None = None
        if outcome == "new_version" and snap is not None:
            raw_hash = (
                self._put_blob(s, conn, rec.raw_body, base=w.get("base_hash"))
                if rec.raw_body is not None
                else None
            )
            number = w["version_count"] + 1
            version_id = conn.execute(
                self._insert_version,
                {
                    "watch_id": rec.watch_id,
                    "number": number,
                    "title": snap.title,
                    "byline": snap.byline,
                    "published": snap.published,
                    "modified": snap.modified,
                    "text": snap.text,
                    "notices": list(snap.notices),
                    "language": snap.language,
                    "content_hash": snap.content_hash,
                    "raw_hash": raw_hash,
                    "url": rec.url or w["url"],
                    "extractor": snap.extractor,
                    "first_seen": rec.fetched_at,
                    "last_seen": rec.fetched_at,
                    "fetch_id": fetch_id,
                },
            ).inserted_primary_key[0]
            conn.execute(self._link_version, {"fid": fetch_id, "vid": version_id})
            words = snap.text.split()
            if not w["base_hash"] and raw_hash:
                values["base_hash"] = w["base_hash"] = raw_hash
            values.update(
                version_count=number,
                content_hash=snap.content_hash,
                title=snap.title,
                last_change_at=rec.fetched_at,
                words=len(words),
                replacements=snap.text.count("\ufffd"),
            )
            w["version_count"], w["content_hash"] = number, snap.content_hash
        elif outcome in ("unchanged", "not_modified", "restored") and w["version_count"]:
            conn.execute(
                self._touch_version,
                {"w": rec.watch_id, "n": w["version_count"], "seen": rec.fetched_at},
            )
        if outcome in GOOD_OUTCOMES:
            if rec.etag is not None or rec.last_modified is not None or outcome != "not_modified":
                values.update(etag=rec.etag, last_modified=rec.last_modified)
            if rec.body_key is not None:
                values["body_key"] = rec.body_key
            if rec.region is not None:
                values["region"] = rec.region
        elif outcome == "removed":
            # A later 304 must not vouch for a page we saw disappear.
            values.update(etag=None, last_modified=None)
        if rec.new_state is not None:
            values["state"] = rec.new_state
        if rec.error_count is not None:
            values["error_count"] = rec.error_count
        if rec.removed_count is not None:
            values["removed_count"] = rec.removed_count
        if owner is not None:
            values.update(lease_owner=None, lease_expires_at=None)
        conn.execute(self._update_watch(tuple(sorted(values))), {"wid": rec.watch_id, **values})
        for alias in rec.aliases:
            self._add_alias(s, alias, rec.watch_id)
        return Recorded(fetch_id=int(fetch_id), outcome=outcome, version_number=number)

    def _warc_file_id(self, s: Session, name: str) -> int:
        cached = self._warc_ids.get(name)
        if cached is not None:
            return cached
        fid = s.scalar(select(WarcFile.id).where(WarcFile.name == name))
        if fid is None:
            f = WarcFile(name=name)
            s.add(f)
            s.flush()
            fid = f.id
        self._warc_ids[name] = fid
        return fid

    def _put_blob(self, s: Session, conn: Any, data: bytes, base: str | None = None) -> str:
        h = blobs.digest(data)
        if conn.execute(self._blob_exists, {"h": h}).first() is None:
            base_raw = self._raw(s, base) if base and base != h else None
            row = {
                "hash": h,
                "size": len(data),
                "data": blobs.compress(data, base_raw),
                "base": base if base_raw is not None else None,
            }
            try:
                with conn.begin_nested():  # two workers may store the same page at once
                    conn.execute(self._insert_blob, row)
            except IntegrityError:
                pass
        return h

    def _raw(self, s: Session, h: str) -> bytes | None:
        """A blob's body; a base (a first version) is read once per process."""
        cached = self._bases.get(h)
        if cached is not None:
            return cached
        row = s.execute(select(Blob.data, Blob.base).where(Blob.hash == h)).first()
        if row is None:
            return None
        data, base = row
        raw = blobs.decompress(data, self._raw(s, base) if base else None)
        if not base:
            # Small: reading a watch's versions in a row needs one base; a
            # pass needs each base once (the cache at 256 cost 20 MB a process).
            if len(self._bases) >= BASE_CACHE:
                self._bases.pop(next(iter(self._bases)))
            self._bases[h] = raw
        return raw

    def _add_alias(self, s: Session, url: str, watch_id: int) -> None:
        if not url or len(url) > 2048:
            return
        existing = s.get(Alias, url)
        if existing is None and s.scalar(select(Watch.id).where(Watch.url == url)) in (
            None,
            watch_id,
        ):
            try:
                with s.begin_nested():
                    s.add(Alias(url=url, watch_id=watch_id))
            except IntegrityError:
                pass

    # --- reading history -----------------------------------------------------------

    def versions(self, watch_id: int) -> list[Version]:
        with self.session() as s:
            return list(
                s.scalars(
                    select(Version).where(Version.watch_id == watch_id).order_by(Version.number)
                )
            )

    def version(self, watch_id: int, number: int) -> Version | None:
        with self.session() as s:
            return s.scalar(
                select(Version).where(Version.watch_id == watch_id, Version.number == number)
            )

    def fetches(self, watch_id: int) -> list[Fetch]:
        with self.session() as s:
            return list(
                s.scalars(
                    select(Fetch)
                    .where(Fetch.watch_id == watch_id)
                    .order_by(Fetch.fetched_at, Fetch.id)
                )
            )

    def raw_body(self, raw_hash: str) -> bytes | None:
        with self.session() as s:
            return self._raw(s, raw_hash)

    # --- changes ---------------------------------------------------------------------

    def unanalyzed(self, limit: int = 1000) -> list[tuple[Version, Version]]:
        """Consecutive version pairs with no change row yet (oldest first)."""
        with self.session() as s:
            old = Version.__table__.alias("old")
            rows = s.execute(
                select(Version, old.c.id)
                .join(
                    old,
                    and_(old.c.watch_id == Version.watch_id, old.c.number == Version.number - 1),
                )
                .outerjoin(Change, Change.to_version_id == Version.id)
                .where(Change.id.is_(None))
                .order_by(Version.first_seen, Version.id)
                .limit(limit)
            ).all()
            pairs = []
            for new, old_id in rows:
                prev = s.get(Version, old_id)
                assert prev is not None
                pairs.append((prev, new))
            return pairs

    def save_change(
        self,
        *,
        old: Version,
        new: Version,
        kind: str,
        silent: bool,
        headline_changed: bool,
        byline_changed: bool,
        chars_changed: int,
        analysis: dict[str, Any],
        analyzer: str,
    ) -> Change | None:
        # One transaction; the unique to_version_id makes a concurrent second
        # analysis of the same pair a no-op instead of a duplicate.
        try:
            with self.session() as s:
                c = Change(
                    watch_id=new.watch_id,
                    from_version_id=old.id,
                    to_version_id=new.id,
                    detected_at=new.first_seen,
                    kind=kind,
                    silent=silent,
                    headline_changed=headline_changed,
                    byline_changed=byline_changed,
                    chars_changed=chars_changed,
                    analysis=analysis,
                    analyzer=analyzer,
                )
                s.add(c)
            return c
        except IntegrityError:
            return None

    def changes(
        self,
        *,
        watch_id: int | None = None,
        since: datetime | None = None,
        story: str | None = None,
    ) -> list[tuple[Change, Watch, int, int]]:
        """Changes with their watch and version numbers, oldest first."""
        with self.session() as s:
            old = Version.__table__.alias("old")
            new = Version.__table__.alias("new")
            q = (
                select(Change, Watch, old.c.number, new.c.number)
                .join(Watch, Watch.id == Change.watch_id)
                .join(old, old.c.id == Change.from_version_id)
                .join(new, new.c.id == Change.to_version_id)
            )
            if watch_id is not None:
                q = q.where(Change.watch_id == watch_id)
            if since is not None:
                q = q.where(Change.detected_at >= since)
            if story is not None:
                q = q.join(Story, Story.id == Watch.story_id).where(Story.slug == story)
            q = q.order_by(Change.detected_at, Change.id)
            return [(c, w, int(a), int(b)) for c, w, a, b in s.execute(q).all()]

    # --- discovery: sources and candidates ---------------------------------------------

    def add_source(self, url: str, *, story: str, kind: str, now: datetime) -> tuple[Source, bool]:
        with self.session() as s:
            sid = self.story_id(s, story, now)
            existing = s.scalar(select(Source).where(Source.story_id == sid, Source.url == url))
            if existing is not None:
                return existing, False
            src = Source(story_id=sid, url=url, kind=kind, added_at=now, entries_seen=0)
            s.add(src)
            s.flush()
            return src, True

    def sources(self, story: str | None = None) -> list[tuple[Source, str]]:
        with self.session() as s:
            q = (
                select(Source, Story.slug)
                .join(Story, Story.id == Source.story_id)
                .order_by(Source.id)
            )
            if story is not None:
                q = q.where(Story.slug == story)
            return [(src, slug) for src, slug in s.execute(q).all()]

    def remove_source(self, url: str, story: str | None = None) -> int:
        with self.session() as s:
            q = select(Source).where(Source.url == url)
            if story is not None:
                q = q.join(Story, Story.id == Source.story_id).where(Story.slug == story)
            found = list(s.scalars(q))
            for src in found:
                s.delete(src)
            return len(found)

    def source_checked(
        self, source_id: int, *, now: datetime, status: str, kind: str | None, entries: int
    ) -> None:
        with self.session() as s:
            src = s.get(Source, source_id)
            if src is None:
                return
            src.last_checked_at = now
            src.last_status = status[:500]
            src.entries_seen = entries
            if kind and src.kind == "auto" and kind in ("rss", "atom", "sitemap", "sitemapindex"):
                src.kind = "sitemap" if kind == "sitemapindex" else kind

    def story_slugs(self) -> list[str]:
        with self.session() as s:
            return list(s.scalars(select(Story.slug).order_by(Story.slug)))

    def story_articles(
        self, story: str, *, origin: str | None = None
    ) -> list[tuple[Watch, Version]]:
        """The latest version of each watched article of a story."""
        with self.session() as s:
            q = (
                select(Watch, Version)
                .join(Story, Story.id == Watch.story_id)
                .join(
                    Version,
                    and_(Version.watch_id == Watch.id, Version.number == Watch.version_count),
                )
                .where(Story.slug == story)
                .order_by(Watch.id)
            )
            if origin is not None:
                q = q.where(Watch.origin == origin)
            return [(w, v) for w, v in s.execute(q).all()]

    def corpus_texts(self, limit: int = 5000) -> list[tuple[str, str]]:
        """(title, text) of recent articles and candidates: what term weights are learned from."""
        with self.session() as s:
            versions = s.execute(
                select(Version.title, Version.text)
                .join(
                    Watch, and_(Watch.id == Version.watch_id, Watch.version_count == Version.number)
                )
                .order_by(Version.id.desc())
                .limit(limit)
            ).all()
            cands = s.execute(
                select(Candidate.title, Candidate.text)
                .where(Candidate.text.is_not(None))
                .order_by(Candidate.id.desc())
                .limit(limit)
            ).all()
            return [(t or "", x or "") for t, x in [*versions, *cands]]

    def known_urls(self) -> set[str]:
        with self.session() as s:
            return set(s.scalars(select(Watch.url))) | set(s.scalars(select(Alias.url)))

    def judged(self, story: str) -> dict[str, str]:
        """URL → decision of the candidates already judged for a story."""
        with self.session() as s:
            rows = s.execute(
                select(Candidate.url, Candidate.decision)
                .join(Story, Story.id == Candidate.story_id)
                .where(Story.slug == story)
            ).all()
            return {u: d for u, d in rows}

    def story_id_of(self, slug: str) -> int | None:
        with self.session() as s:
            return s.scalar(select(Story.id).where(Story.slug == slug))

    def record_candidates(
        self, results: list[dict[str, Any]], *, now: datetime
    ) -> list[tuple[dict[str, Any], Watch | None]]:
        """Store judged candidates; those with decision "added" become discovered watches.

        One transaction for the run: the watches added and the judgements that
        justify them are written together.
        """
        out: list[tuple[dict[str, Any], Watch | None]] = []
        with self.session() as s:
            for r in results:
                watch = None
                if r["decision"] == "added":
                    existing = self._find(s, r["url"])
                    for alias in r.get("aliases", []):
                        existing = existing or self._find(s, alias)
                    if existing is not None:
                        r["decision"], r["reason"] = "known", f"already watched as {existing.url}"
                    else:
                        watch = Watch(
                            url=r["url"],
                            story_id=r["story_id"],
                            origin="discovered",
                            found_via=r["found_via"][:2048],
                            score=r.get("score"),
                            matched_terms=r.get("terms"),
                            added_at=now,
                            next_check_at=now,
                            state="active",
                            error_count=0,
                            removed_count=0,
                            version_count=0,
                            words=0,
                            replacements=0,
                            title=r.get("title"),
                        )
                        s.add(watch)
                        s.flush()
                        s.add(Alias(url=r["url"], watch_id=watch.id))
                        for alias in r.get("aliases", []):
                            self._add_alias(s, alias, watch.id)
                cand = s.scalar(
                    select(Candidate).where(
                        Candidate.story_id == r["story_id"], Candidate.url == r["url"]
                    )
                )
                if cand is None:
                    cand = Candidate(
                        story_id=r["story_id"],
                        url=r["url"],
                        found_via=r["found_via"][:2048],
                        seen_at=now,
                        decision=r["decision"],
                    )
                    s.add(cand)
                cand.title = r.get("title")
                cand.text = (r.get("text") or None) and r["text"][:50_000]
                cand.score = r.get("score")
                cand.matched_terms = r.get("terms")
                cand.decision = r["decision"]
                cand.reason = (r.get("reason") or None) and r["reason"][:500]
                cand.seen_at = now
                cand.watch_id = watch.id if watch is not None else cand.watch_id
                out.append((r, watch))
        return out

    # --- reading for reports ------------------------------------------------------------

    def change_detail(self, change_id: int) -> tuple[Change, Watch, Version, Version] | None:
        with self.session() as s:
            c = s.get(Change, change_id)
            if c is None:
                return None
            w = s.get(Watch, c.watch_id)
            old = s.get(Version, c.from_version_id)
            new = s.get(Version, c.to_version_id)
            assert w is not None and old is not None and new is not None
            return c, w, old, new

    def story_of(self, watch: Watch) -> str | None:
        if watch.story_id is None:
            return None
        with self.session() as s:
            return s.scalar(select(Story.slug).where(Story.id == watch.story_id))

    # --- the WARC archive --------------------------------------------------------------------

    def last_capture(self, url: str) -> tuple[str, str, str] | None:
        """(payload digest, URI, WARC-Date) of the last full capture of a URL."""
        with self.session() as s:
            c = s.get(Capture, url)
            return (c.digest, c.uri, c.date) if c is not None else None

    def last_captures(self, urls: Sequence[str]) -> dict[str, tuple[str, str, str]]:
        out: dict[str, tuple[str, str, str]] = {}
        with self.session() as s:
            for i in range(0, len(urls), 500):
                chunk = list(urls[i : i + 500])
                for c in s.scalars(select(Capture).where(Capture.url.in_(chunk))):
                    out[c.url] = (c.digest, c.uri, c.date)
        return out

    def remember_captures(self, items: dict[str, tuple[str, str, str]]) -> None:
        """Upsert many last captures in one transaction."""
        with self.session() as s:
            existing = {
                c.url: c for c in s.scalars(select(Capture).where(Capture.url.in_(list(items))))
            }
            for url, (digest, uri, date) in items.items():
                c = existing.get(url)
                if c is None:
                    s.add(Capture(url=url, digest=digest, uri=uri, date=date))
                else:
                    c.digest, c.uri, c.date = digest, uri, date

    def remember_capture(self, url: str, digest: str, uri: str, date: str) -> None:
        with self.session() as s:
            c = s.get(Capture, url)
            if c is None:
                s.add(Capture(url=url, digest=digest, uri=uri, date=date))
            else:
                c.digest, c.uri, c.date = digest, uri, date

    def warc_ref(self, fetch_id: int | None) -> tuple[str, int] | None:
        if fetch_id is None:
            return None
        with self.session() as s:
            row = s.execute(
                select(WarcFile.name, Fetch.warc_offset)
                .join(WarcFile, WarcFile.id == Fetch.warc_file_id)
                .where(Fetch.id == fetch_id)
            ).first()
            return (str(row[0]), int(row[1])) if row is not None and row[1] is not None else None

    def warc_refs(self, watch_ids: Sequence[int] | None = None) -> list[tuple[int, str, int]]:
        """(watch id, file, offset) of every archived fetch, oldest first."""
        with self.session() as s:
            q = (
                select(Fetch.watch_id, WarcFile.name, Fetch.warc_offset)
                .join(WarcFile, WarcFile.id == Fetch.warc_file_id)
                .order_by(Fetch.fetched_at, Fetch.id)
            )
            if watch_ids is not None:
                q = q.where(Fetch.watch_id.in_(list(watch_ids)))
            return [(int(w), str(n), int(o)) for w, n, o in s.execute(q).all() if o is not None]

    def evidence(self, watch_id: int) -> dict[int, dict[str, Any]]:
        """Per version: its WARC record, and the fetches that bracket the edit.

        "Last seen as the old text at T1, first seen as the new text at T2":
        T1 is the last fetch before the version's first fetch that showed the
        previous version; the edit happened between T1 and T2.
        """
        with self.session() as s:
            rows = s.execute(
                select(Fetch.id, Fetch.fetched_at, Fetch.outcome, WarcFile.name, Fetch.warc_offset)
                .outerjoin(WarcFile, WarcFile.id == Fetch.warc_file_id)
                .where(Fetch.watch_id == watch_id)
                .order_by(Fetch.fetched_at, Fetch.id)
            ).all()
            versions = list(
                s.scalars(
                    select(Version).where(Version.watch_id == watch_id).order_by(Version.number)
                )
            )
        out: dict[int, dict[str, Any]] = {}
        position = {r[0]: i for i, r in enumerate(rows)}
        for v in versions:
            i = position.get(v.fetch_id) if v.fetch_id is not None else None
            warc = None
            before = None
            if i is not None:
                _fid, _at, _outcome, name, offset = rows[i]
                if name is not None and offset is not None:
                    warc = {"file": name, "offset": int(offset)}
                for j in range(i - 1, -1, -1):
                    if rows[j][2] in GOOD_OUTCOMES:
                        before = rows[j][1]
                        break
            out[v.id] = {
                "warc": warc,
                "window": {
                    "old_last_seen": before.isoformat() if before else None,
                    "new_first_seen": v.first_seen.isoformat(),
                },
            }
        return out

    def unused_blobs(self) -> list[str]:
        """Blobs no version refers to and no other blob is a delta of."""
        with self.session() as s:
            used = select(Version.raw_hash).where(Version.raw_hash.is_not(None))
            bases = select(Blob.base).where(Blob.base.is_not(None))
            return list(
                s.scalars(select(Blob.hash).where(Blob.hash.not_in(used), Blob.hash.not_in(bases)))
            )

    def delete_blobs(self, hashes: Sequence[str]) -> int:
        """Remove blobs no version needs (re-checked inside the transaction)."""
        removed = 0
        with self.session() as s:
            used = select(Version.raw_hash).where(Version.raw_hash.is_not(None))
            bases = select(Blob.base).where(Blob.base.is_not(None))
            for h in hashes:
                blob = s.scalar(
                    select(Blob).where(
                        Blob.hash == h, Blob.hash.not_in(used), Blob.hash.not_in(bases)
                    )
                )
                if blob is not None:
                    removed += len(blob.data)
                    s.delete(blob)
        return removed

    # --- notifications ---------------------------------------------------------------------------

    def add_channel(
        self,
        url: str,
        *,
        kind: str,
        story: str | None,
        when: list[str],
        keywords: list[str],
        digest: bool,
        origin: str,
        now: datetime,
    ) -> tuple[Channel, bool]:
        with self.session() as s:
            sid = self.story_id(s, story, now)
            existing = s.scalar(
                select(Channel).where(
                    Channel.url == url,
                    Channel.story_id.is_(None) if sid is None else Channel.story_id == sid,
                )
            )
            if existing is not None:
                existing.when, existing.keywords, existing.digest = when, keywords, digest
                existing.enabled = True
                return existing, False
            ch = Channel(
                url=url, kind=kind, story_id=sid, when=when, keywords=keywords, digest=digest,
                origin=origin, enabled=True, added_at=now,
            )  # fmt: skip
            s.add(ch)
            s.flush()
            return ch, True

    def channels(self, *, enabled_only: bool = False) -> list[tuple[Channel, str | None]]:
        with self.session() as s:
            q = (
                select(Channel, Story.slug)
                .outerjoin(Story, Story.id == Channel.story_id)
                .order_by(Channel.id)
            )
            if enabled_only:
                q = q.where(Channel.enabled.is_(True))
            return [(c, slug) for c, slug in s.execute(q).all()]

    def remove_channel(self, ref: str) -> int:
        with self.session() as s:
            q = (
                select(Channel).where(Channel.id == int(ref))
                if ref.isdigit()
                else select(Channel).where(Channel.url == ref)
            )
            found = list(s.scalars(q))
            for c in found:
                s.delete(c)
            return len(found)

    def disable_config_channels(self, keep: set[int]) -> None:
        """Channels that came from raqib.toml and are no longer there stop."""
        with self.session() as s:
            s.execute(
                update(Channel)
                .where(Channel.origin == "config", Channel.id.not_in(list(keep) or [-1]))
                .values(enabled=False)
                .execution_options(synchronize_session=False)
            )

    def enqueue(self, items: Sequence[tuple[int, str, dict[str, Any]]], *, now: datetime) -> int:
        """Queue (channel, key, payload) messages; a key already queued is skipped.

        One transaction: what a pass decided to say is queued whole.
        """
        added = 0
        with self.session() as s:
            for channel_id, key, payload in items:
                exists = s.scalar(
                    select(Outbox.id).where(Outbox.channel_id == channel_id, Outbox.key == key)
                )
                if exists is not None:
                    continue
                s.add(
                    Outbox(
                        channel_id=channel_id, key=key, payload=payload, status="pending", attempts=0,
                        created_at=now, next_attempt_at=now,
                    )
                )  # fmt: skip
                added += 1
        return added

    def claim_outbox(
        self,
        owner: str,
        *,
        now: datetime,
        lease: timedelta,
        limit: int = 50,
        exclude: Sequence[int] = (),
    ) -> list[tuple[Outbox, Channel]]:
        free = or_(Outbox.lease_expires_at.is_(None), Outbox.lease_expires_at < now)
        with self.session() as s:
            q = select(Outbox.id).where(
                Outbox.status == "pending", Outbox.next_attempt_at <= now, free
            )
            if exclude:
                q = q.where(Outbox.id.not_in(list(exclude)))
            ids = list(s.scalars(q.order_by(Outbox.next_attempt_at, Outbox.id).limit(limit)))
            if not ids:
                return []
            s.execute(
                update(Outbox)
                .where(Outbox.id.in_(ids), free)
                .values(lease_owner=owner, lease_expires_at=now + lease)
                .execution_options(synchronize_session=False)
            )
            rows = s.execute(
                select(Outbox, Channel)
                .join(Channel, Channel.id == Outbox.channel_id)
                .where(Outbox.id.in_(ids), Outbox.lease_owner == owner)
                .order_by(Outbox.id)
            ).all()
            return [(o, c) for o, c in rows]

    def release_outbox(self, ids: Sequence[int]) -> None:
        with self.session() as s:
            s.execute(
                update(Outbox)
                .where(Outbox.id.in_(list(ids)))
                .values(lease_owner=None, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            )

    def delivered(self, outbox_id: int, *, now: datetime) -> None:
        with self.session() as s:
            o = s.get(Outbox, outbox_id)
            if o is not None:
                o.status, o.sent_at, o.attempts = "sent", now, o.attempts + 1
                o.lease_owner = o.lease_expires_at = None
                o.last_error = None

    def delivery_failed(
        self, outbox_id: int, *, now: datetime, error: str, retry_at: datetime | None
    ) -> None:
        """Record a failed attempt; retry later, or give up when retry_at is None."""
        with self.session() as s:
            o = s.get(Outbox, outbox_id)
            if o is not None:
                o.attempts += 1
                o.last_error = error[:500]
                o.lease_owner = o.lease_expires_at = None
                if retry_at is None:
                    o.status = "failed"
                else:
                    o.next_attempt_at = retry_at

    def outbox(self, *, limit: int = 200) -> list[tuple[Outbox, Channel]]:
        with self.session() as s:
            rows = s.execute(
                select(Outbox, Channel)
                .join(Channel, Channel.id == Outbox.channel_id)
                .order_by(Outbox.id.desc())
                .limit(limit)
            ).all()
            return [(o, c) for o, c in rows]

    def outbox_counts(self) -> dict[tuple[int, str], int]:
        with self.session() as s:
            rows = s.execute(
                select(Outbox.channel_id, Outbox.status, func.count()).group_by(
                    Outbox.channel_id, Outbox.status
                )
            ).all()
            return {(int(c), str(st)): int(n) for c, st, n in rows}
