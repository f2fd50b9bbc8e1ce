"""Watches, their stories and every URL they answered to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from raqib.domain import HIDDEN_STATES, Origin, Watch, WatchState
from raqib.storage import models as m
from raqib.storage import outlet_models as om
from raqib.storage import sqlite
from raqib.storage.db import Database, StoreError, to_domain

HIDDEN = tuple(s.value for s in HIDDEN_STATES)
FAILING = ("error", "not_article", "removed")  # last outcomes of a failing watch

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
    owner = s.scalar(select(m.Watch.id).where(m.Watch.url == url))
    if s.get(m.Alias, url) is None and owner in (None, watch_id):
        try:
            with s.begin_nested():  # another worker may add the same alias at once
                s.add(m.Alias(url=url, watch_id=watch_id))
        except IntegrityError:
            pass


def load(s: Session, watches: Sequence[m.Watch]) -> list[Watch]:
    """Domain watches, with their stories, tags and outlet (three queries in all)."""
    ids = [w.id for w in watches]
    stories: dict[int, list[str]] = {}
    tags: dict[int, list[str]] = {}
    outlets: dict[int, str] = {}
    slugs: dict[int, str] = {}
    if ids:
        for i in range(0, len(ids), 900):  # bounded IN lists
            chunk = ids[i : i + 900]
            for wid, sid, slug in s.execute(
                select(m.WatchStory.watch_id, m.Story.id, m.Story.slug)
                .join(m.Story, m.Story.id == m.WatchStory.story_id)
                .where(m.WatchStory.watch_id.in_(chunk))
                .order_by(m.Story.slug)
            ):
                stories.setdefault(wid, []).append(slug)
                slugs[sid] = slug
            for wid, tag in s.execute(
                select(m.WatchTag.watch_id, m.WatchTag.tag)
                .where(m.WatchTag.watch_id.in_(chunk))
                .order_by(m.WatchTag.tag)
            ):
                tags.setdefault(wid, []).append(tag)
        outlet_ids = {w.outlet_id for w in watches if w.outlet_id is not None}
        if outlet_ids:
            outlets = {
                oid: name
                for oid, name in s.execute(
                    select(om.Outlet.id, om.Outlet.name).where(om.Outlet.id.in_(outlet_ids))
                )
            }
    return [
        to_domain(
            Watch,
            w,
            story=slugs.get(w.story_id) if w.story_id is not None else None,
            outlet=outlets.get(w.outlet_id) if w.outlet_id is not None else None,
            stories=tuple(stories.get(w.id, ())),
            tags=tuple(tags.get(w.id, ())),
        )
        for w in watches
    ]


def as_watch(s: Session, w: m.Watch) -> Watch:
    return load(s, [w])[0]


def join_story(s: Session, w: m.Watch, story_id: int | None) -> None:
    """Put a watch in a story too (its first story also becomes watches.story_id)."""
    if story_id is None:
        return
    if w.story_id is None:
        w.story_id = story_id
    if s.get(m.WatchStory, (w.id, story_id)) is None:
        s.add(m.WatchStory(watch_id=w.id, story_id=story_id))


def add_tags(s: Session, watch_id: int, tags: Sequence[str]) -> None:
    for tag in dict.fromkeys(tags):
        if s.get(m.WatchTag, (watch_id, tag)) is None:
            s.add(m.WatchTag(watch_id=watch_id, tag=tag))


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
        tags: Sequence[str] = (),
        state: WatchState = WatchState.ACTIVE,
        revive: bool = True,
    ) -> list[tuple[Watch, bool]]:
        """Watch these (already normalised) URLs; idempotent. Returns (watch, created).
        A URL already watched joins the story and gains the tags (a watch can
        sit in several stories); an unwatched or retired one comes back unless
        `revive` is False. New watches start in `state`."""
        out: list[tuple[m.Watch, bool]] = []
        with self.db.session() as s:  # one transaction: "watch a b c" adds all three or none
            sid = ensure_story(s, story, now)
            for url in urls:
                w = find(s, url)
                created = w is None
                if w is None:
                    w = new_watch(url, story_id=None, now=now, origin=origin.value)
                    w.state = state.value
                    s.add(w)
                    s.flush()
                    s.add(m.Alias(url=url, watch_id=w.id))
                elif revive and w.state in (WatchState.UNWATCHED.value, WatchState.RETIRED.value):
                    w.state, w.next_check_at, w.error_count = WatchState.ACTIVE.value, now, 0
                    if w.origin == Origin.OUTLET.value:  # watched again: back it comes, by hand
                        w.origin = Origin.MANUAL.value  # (no outlet window retires it again)
                join_story(s, w, sid)
                add_tags(s, w.id, tags)
                out.append((w, created))
            s.flush()
            loaded = load(s, [w for w, _ in out])
            return [(d, created) for d, (_w, created) in zip(loaded, out, strict=True)]

    def find(self, url: str) -> Watch | None:
        with self.db.session() as s:
            w = find(s, url)
            return as_watch(s, w) if w else None

    def by_id(self, watch_id: int) -> Watch | None:
        with self.db.session() as s:
            w = s.get(m.Watch, watch_id)
            return as_watch(s, w) if w else None

    def get(self, watch_id: int) -> Watch:
        with self.db.session() as s:
            w = s.get(m.Watch, watch_id)
            if w is None:
                raise StoreError(f"no watch {watch_id}")
            return as_watch(s, w)

    def all(
        self,
        *,
        outlet: str | None = None,
        tag: str | None = None,
        story: str | None = None,
        states: Sequence[str] | None = None,
        failing: bool = False,
    ) -> list[Watch]:
        """Watches, oldest first, filtered (unwatched and rejected ones only when asked by state)."""
        with self.db.session() as s:
            q = select(m.Watch).order_by(m.Watch.id)
            if states:
                q = q.where(m.Watch.state.in_(list(states)))
            else:  # unwatched and rejected ones are shown only when asked for
                q = q.where(m.Watch.state.not_in(HIDDEN))
            q = belonging(q, outlet=outlet, tag=tag, story=story)
            if failing:
                removed = m.Watch.state == WatchState.REMOVED.value
                q = q.where(or_(m.Watch.last_outcome.in_(FAILING), removed))
            return load(s, list(s.scalars(q)))

    def set_state(self, ids: Sequence[int], state: WatchState, *, now: datetime) -> int:
        """Pause, resume (due at once) or unwatch these watches; returns how many."""
        values: dict[str, object] = {"state": state.value}
        if state == WatchState.ACTIVE:
            values["next_check_at"] = now
            values["error_count"] = 0
        with self.db.session() as s:
            result = s.execute(
                update(m.Watch)
                .where(m.Watch.id.in_(list(ids)))
                .values(values)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def set_fetch_mode(self, ids: Sequence[int], mode: dict[str, bool]) -> None:
        """Fetch these watches through a browser or not, photograph them or not
        (raqib.app.history.fetch_mode; a flag left out stays as it is)."""
        if mode and ids:
            with self.db.session() as s:
                s.execute(update(m.Watch).where(m.Watch.id.in_(list(ids))).values(mode))

    def tag(self, ids: Sequence[int], tags: Sequence[str]) -> None:
        with self.db.session() as s:
            for wid in ids:
                add_tags(s, wid, tags)

    def untag(self, ids: Sequence[int], tags: Sequence[str]) -> None:
        with self.db.session() as s:
            s.execute(
                delete(m.WatchTag).where(
                    m.WatchTag.watch_id.in_(list(ids)), m.WatchTag.tag.in_(list(tags))
                )
            )

    def purge(self, ids: Sequence[int]) -> int:
        """Delete watches and their whole history (versions, changes, fetch log)."""
        with self.db.session() as s:
            found = list(s.scalars(select(m.Watch).where(m.Watch.id.in_(list(ids)))))
            if self.db.engine.dialect.name == "sqlite":
                indexed = s.execute(
                    select(m.VersionSearch.version_id, m.VersionSearch.key).where(
                        m.VersionSearch.watch_id.in_([w.id for w in found])
                    )
                ).all()
                sqlite.unindex_search(s.connection(), [(int(v), str(k)) for v, k in indexed])
            for w in found:
                s.delete(w)
            return len(found)

    def aliases(self, watch_id: int) -> list[str]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(m.Alias.url).where(m.Alias.watch_id == watch_id).order_by(m.Alias.url)
                )
            )

    def adopt(
        self, watch_id: int, aliases: Sequence[str], outlet: str | None, *, made: bool,
        added_at: datetime | None = None,
    ) -> bool:  # fmt: skip
        """An imported watch's other addresses; for one the import `made`, when it was
        first watched, and its outlet where this home follows one by that name (not one
        watched here by hand: an outlet's watches retire with it). False: no such outlet."""
        with self.db.session() as s:
            for url in aliases:
                add_alias(s, url, watch_id)
            followed = (om.Outlet.name == outlet, om.Outlet.removed_at.is_(None))
            oid = s.scalar(select(om.Outlet.id).where(*followed)) if outlet else None
            w = s.get(m.Watch, watch_id)
            if made and w is not None and added_at is not None and added_at < w.added_at:
                w.added_at = added_at
            if made and oid is not None and w is not None and w.outlet_id is None:
                w.outlet_id, w.origin = oid, Origin.OUTLET.value
            return outlet is None or oid is not None

    def aliases_of(self, ids: Sequence[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        with self.db.session() as s:
            for i in range(0, len(ids), 900):
                for url, wid in s.execute(
                    select(m.Alias.url, m.Alias.watch_id)
                    .where(m.Alias.watch_id.in_(list(ids[i : i + 900])))
                    .order_by(m.Alias.url)
                ):
                    out.setdefault(wid, []).append(url)
        return out

    def story_slugs(self) -> list[str]:
        with self.db.session() as s:
            return list(s.scalars(select(m.Story.slug).order_by(m.Story.slug)))

    def story_id(self, slug: str) -> int | None:
        with self.db.session() as s:
            return s.scalar(select(m.Story.id).where(m.Story.slug == slug))

    def tag_used(self, tag: str) -> bool:
        with self.db.session() as s:
            return (
                s.scalar(select(m.WatchTag.tag).where(m.WatchTag.tag == tag).limit(1)) is not None
            )

    def add_many(
        self,
        urls: Sequence[str],
        *,
        now: datetime,
        story: str | None = None,
        tags: Sequence[str] = (),
        mode: dict[str, bool] | None = None,
    ) -> tuple[int, int]:
        """Watch a batch of (normalised, distinct) URLs in one short transaction:
        a bulk import writes batch after batch, so a pass waits a moment at most.
        `mode`: render and screenshot flags (raqib.app.history.fetch_mode) for all.
        Returns (created, already watched)."""
        try:
            return self._add_many(urls, now=now, story=story, tags=tags, mode=mode)
        except IntegrityError:  # another import added one of these meanwhile: once more
            return self._add_many(urls, now=now, story=story, tags=tags, mode=mode)

    def _add_many(
        self, urls: Sequence[str], *, now: datetime, story: str | None, tags: Sequence[str],
        mode: dict[str, bool] | None,
    ) -> tuple[int, int]:  # fmt: skip
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
            if known:
                s.execute(
                    update(m.Watch)
                    .where(
                        m.Watch.id.in_(list(known.values())),
                        m.Watch.state == WatchState.UNWATCHED.value,
                    )
                    .values(state=WatchState.ACTIVE.value, next_check_at=now, error_count=0)
                    .execution_options(synchronize_session=False)
                )
            fresh = [u for u in urls if u not in known]
            ids = list(known.values())
            if fresh:
                rows = s.execute(
                    insert(m.Watch).returning(
                        m.Watch.id, m.Watch.url, sort_by_parameter_order=True
                    ),
                    [_new_row(u, sid, now) for u in fresh],
                ).all()
                s.execute(insert(m.Alias), [{"url": url, "watch_id": wid} for wid, url in rows])
                ids.extend(wid for wid, _url in rows)
            if sid is not None and ids:
                _link(s, m.WatchStory, ids, story_id=sid)
            for tag in dict.fromkeys(tags) if ids else ():
                _link(s, m.WatchTag, ids, tag=tag)
            if mode and ids:
                s.execute(update(m.Watch).where(m.Watch.id.in_(ids)).values(mode))
            return len(fresh), len(known)


def belonging(q: Any, *, outlet: str | None, tag: str | None, story: str | None) -> Any:
    """`q` (over m.Watch) narrowed to the watches of an outlet, a tag and a story."""
    if outlet is not None:
        q = q.join(om.Outlet, om.Outlet.id == m.Watch.outlet_id).where(om.Outlet.name == outlet)
    if tag is not None:
        q = q.join(m.WatchTag, m.WatchTag.watch_id == m.Watch.id).where(m.WatchTag.tag == tag)
    if story is not None:
        q = (
            q.join(m.WatchStory, m.WatchStory.watch_id == m.Watch.id)
            .join(m.Story, m.Story.id == m.WatchStory.story_id)
            .where(m.Story.slug == story)
        )
    return q


def _link(s: Session, model: Any, ids: list[int], **value: Any) -> None:
    """Rows of `model` (watch_id plus `value`) for the `ids` that lack one."""
    ((column, v),) = value.items()
    have = set(
        s.scalars(
            select(model.watch_id).where(getattr(model, column) == v, model.watch_id.in_(ids))
        )
    )
    rows = [{"watch_id": w, column: v} for w in ids if w not in have]
    if rows:
        s.execute(insert(model), rows)


def _new_row(url: str, story_id: int | None, now: datetime) -> dict[str, object]:
    return {
        "url": url, "story_id": story_id, "origin": Origin.MANUAL.value, "added_at": now,
        "next_check_at": now, "state": WatchState.ACTIVE.value, "error_count": 0,
        "removed_count": 0, "version_count": 0, "words": 0, "replacements": 0,
    }  # fmt: skip
