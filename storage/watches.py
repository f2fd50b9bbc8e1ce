"""Watches, their stories and every URL they answered to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from raqib.domain import Origin, Watch, WatchState
from raqib.storage import models as m
from raqib.storage.db import Database, StoreError, to_domain

MAX_URL = 2048


def ensure_story(s: Session, slug: str | None, now: datetime) -> int | None:
    """The id of the story `slug`, created if new (None for no story)."""
    if not slug:
        return None
    sid = s.scalar(select(m.Story.id).where(m.Story.slug == slug))
    if sid is None:
        story = m.Story(slug=slug, created_at=now)
        s.add(story)
        s.flush()
        sid = story.id
    return sid


def find(s: Session, url: str) -> m.Watch | None:
    """The watch whose URL, or one of whose aliases, is `url`."""
    w = s.scalar(select(m.Watch).where(m.Watch.url == url))
    if w is None:
        w = s.scalar(
            select(m.Watch).join(m.Alias, m.Alias.watch_id == m.Watch.id).where(m.Alias.url == url)
        )
    return w


def new_watch(url: str, *, story_id: int | None, now: datetime, **fields: object) -> m.Watch:
    return m.Watch(
        url=url, story_id=story_id, added_at=now, next_check_at=now, state=WatchState.ACTIVE.value,
        error_count=0, removed_count=0, version_count=0, words=0, replacements=0, **fields,
    )  # fmt: skip


def add_alias(s: Session, url: str, watch_id: int) -> None:
    """Remember another URL of a watch, unless it is another watch's own."""
    if not url or len(url) > MAX_URL:
        return
    existing = s.get(m.Alias, url)
    if existing is None and s.scalar(select(m.Watch.id).where(m.Watch.url == url)) in (
        None,
        watch_id,
    ):
        try:
            with s.begin_nested():  # another worker may add the same alias at once
                s.add(m.Alias(url=url, watch_id=watch_id))
        except IntegrityError:
            pass


def as_watch(w: m.Watch, slug: str | None) -> Watch:
    return to_domain(Watch, w, story=slug)


class WatchRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        urls: Sequence[str],
        *,
        now: datetime,
        story: str | None = None,
        origin: Origin = Origin.MANUAL,
    ) -> list[tuple[Watch, bool]]:
        """Watch these (already normalised) URLs; idempotent. Returns (watch, created)."""
        out: list[tuple[m.Watch, bool]] = []
        # One transaction for the batch: "watch a b c" adds all three or none.
        with self.db.session() as s:
            sid = ensure_story(s, story, now)
            for url in urls:
                existing = find(s, url)
                if existing is not None:
                    if sid is not None and existing.story_id is None:
                        existing.story_id = sid
                    out.append((existing, False))
                    continue
                w = new_watch(url, story_id=sid, now=now, origin=origin.value)
                s.add(w)
                s.flush()
                s.add(m.Alias(url=url, watch_id=w.id))
                out.append((w, True))
            slugs = self._slugs(s, {w.story_id for w, _ in out})
            return [(as_watch(w, slugs.get(w.story_id)), created) for w, created in out]

    def find(self, url: str) -> Watch | None:
        with self.db.session() as s:
            w = find(s, url)
            return as_watch(w, self._slugs(s, {w.story_id}).get(w.story_id)) if w else None

    def get(self, watch_id: int) -> Watch:
        with self.db.session() as s:
            w = s.get(m.Watch, watch_id)
            if w is None:
                raise StoreError(f"no watch {watch_id}")
            return as_watch(w, self._slugs(s, {w.story_id}).get(w.story_id))

    def all(self) -> list[Watch]:
        with self.db.session() as s:
            rows = s.execute(
                select(m.Watch, m.Story.slug)
                .outerjoin(m.Story, m.Story.id == m.Watch.story_id)
                .order_by(m.Watch.id)
            ).all()
            return [as_watch(w, slug) for w, slug in rows]

    def aliases(self, watch_id: int) -> list[str]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(m.Alias.url).where(m.Alias.watch_id == watch_id).order_by(m.Alias.url)
                )
            )

    def known_urls(self) -> set[str]:
        with self.db.session() as s:
            return set(s.scalars(select(m.Watch.url))) | set(s.scalars(select(m.Alias.url)))

    def story_slugs(self) -> list[str]:
        with self.db.session() as s:
            return list(s.scalars(select(m.Story.slug).order_by(m.Story.slug)))

    def story_id(self, slug: str) -> int | None:
        with self.db.session() as s:
            return s.scalar(select(m.Story.id).where(m.Story.slug == slug))

    @staticmethod
    def _slugs(s: Session, ids: set[int | None]) -> dict[int | None, str]:
        wanted = [i for i in ids if i is not None]
        if not wanted:
            return {}
        rows = s.execute(select(m.Story.id, m.Story.slug).where(m.Story.id.in_(wanted))).all()
        return {i: slug for i, slug in rows}

    def add_many(
        self, urls: Sequence[str], *, now: datetime, story: str | None = None
    ) -> tuple[int, int]:
        """Watch a batch of (normalised, distinct) URLs in one short transaction:
        a bulk import writes batch after batch, so a pass waits a moment at most.
        Returns (created, already watched)."""
        try:
            return self._add_many(urls, now=now, story=story)
        except IntegrityError:  # another import added one of these meanwhile: once more
            return self._add_many(urls, now=now, story=story)

    def _add_many(
        self, urls: Sequence[str], *, now: datetime, story: str | None
    ) -> tuple[int, int]:
        with self.db.session() as s:
            sid = ensure_story(s, story, now)
            known = dict(
                s.execute(
                    select(m.Alias.url, m.Alias.watch_id).where(m.Alias.url.in_(list(urls)))
                ).all()
            )
            if sid is not None and known:
                s.execute(
                    update(m.Watch)
                    .where(m.Watch.id.in_(list(known.values())), m.Watch.story_id.is_(None))
                    .values(story_id=sid)
                    .execution_options(synchronize_session=False)
                )
            fresh = [u for u in urls if u not in known]
            if fresh:
                rows = s.execute(
                    insert(m.Watch).returning(
                        m.Watch.id, m.Watch.url, sort_by_parameter_order=True
                    ),
                    [_new_row(u, sid, now) for u in fresh],
                ).all()
                s.execute(insert(m.Alias), [{"url": url, "watch_id": wid} for wid, url in rows])
            return len(fresh), len(known)


def _new_row(url: str, story_id: int | None, now: datetime) -> dict[str, object]:
    return {
        "url": url, "story_id": story_id, "origin": Origin.MANUAL.value, "added_at": now,
        "next_check_at": now, "state": WatchState.ACTIVE.value, "error_count": 0,
        "removed_count": 0, "version_count": 0, "words": 0, "replacements": 0,
    }  # fmt: skip
