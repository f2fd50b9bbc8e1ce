"""Outlets: their sources, what those sources listed and the watches they
brought (their figures: storage.outlet_figures)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from raqib import urls
from raqib.domain import (
    Listed,
    Origin,
    Outlet,
    OutletSource,
    WatchState,
)
from raqib.storage import models as m
from raqib.storage import outlet_models as om
from raqib.storage import postgres, sharing
from raqib.storage.db import Database, StoreError, rowcount, to_domain
from raqib.storage.outlet_figures import OutletFigures
from raqib.storage.watches import MAX_URL

_LIVE = (WatchState.ACTIVE.value, WatchState.REMOVED.value)
_FOLLOWED = om.Outlet.removed_at.is_(None)


def _source(src: om.OutletSource, outlet: str) -> OutletSource:
    return to_domain(OutletSource, src, outlet=outlet)


class OutletRepo(OutletFigures):
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- outlets and their sources ------------------------------------------------

    def add(
        self,
        name: str,
        sources: Sequence[tuple[str, str]],
        *,
        retain_days: int | None,
        now: datetime,
    ) -> tuple[Outlet, bool]:
        """Create the outlet (or follow a removed one again) or add sources to
        it; (outlet, created)."""
        with self.db.session() as s:
            o = s.scalar(select(om.Outlet).where(om.Outlet.name == name))
            created = o is None or o.removed_at is not None
            if o is None:
                o = om.Outlet(name=name, retain_days=retain_days or 30, added_at=now)
                s.add(o)
                s.flush()
            elif o.removed_at is not None:
                o.removed_at, o.added_at, o.retain_days = None, now, retain_days or 30
                # Its articles the removal retired, still inside their window,
                # are watched again: its feeds list them as seen, and would not.
                s.execute(
                    update(m.Watch)
                    .where(
                        m.Watch.outlet_id == o.id, m.Watch.origin == Origin.OUTLET.value,
                        m.Watch.state == WatchState.RETIRED.value,
                        m.Watch.added_at >= now - timedelta(days=o.retain_days),
                    )
                    .values(state=WatchState.ACTIVE.value, next_check_at=now)
                    .execution_options(synchronize_session=False)
                )  # fmt: skip
            elif retain_days is not None:
                o.retain_days = retain_days
            have = set(
                s.scalars(select(om.OutletSource.url).where(om.OutletSource.outlet_id == o.id))
            )
            for kind, url in sources:
                if url not in have:
                    s.add(
                        om.OutletSource(
                            outlet_id=o.id, url=url, kind=kind, added_at=now, next_check_at=now,
                            entries_seen=0,
                        )
                    )  # fmt: skip
                    have.add(url)
            s.flush()
            return self._outlet(s, o), created

    def remove(self, name: str, *, now: datetime) -> int:
        """Stop following an outlet: its sources and what they listed are
        forgotten, its watches retired. They keep their outlet, so its name
        still finds their history."""
        with self.db.session() as s:
            o = s.scalar(select(om.Outlet).where(om.Outlet.name == name, _FOLLOWED))
            if o is None:
                raise StoreError(f"no outlet {name!r}")
            n = rowcount(
                s.execute(
                    update(m.Watch)
                    .where(m.Watch.outlet_id == o.id, m.Watch.state.in_(_LIVE))
                    .values(state=WatchState.RETIRED.value)
                    .execution_options(synchronize_session=False)
                )
            )
            s.execute(delete(om.OutletSource).where(om.OutletSource.outlet_id == o.id))
            s.execute(delete(om.OutletSeen).where(om.OutletSeen.outlet_id == o.id))
            o.removed_at = now
            return n

    def rename(self, name: str, new: str) -> Outlet:
        """Give an outlet (followed or removed) a new name: its sources, what
        they listed and its watches, history included, are its own by id."""
        with self.db.session() as s:
            o = s.scalar(select(om.Outlet).where(om.Outlet.name == name))
            if o is None:
                raise StoreError(f"no outlet {name!r}")
            if s.scalar(select(om.Outlet.id).where(om.Outlet.name == new)) is not None:
                raise StoreError(f"there is already an outlet {new!r}")
            o.name = new
            try:
                s.flush()
            except IntegrityError:  # the same name given by another process just now
                raise StoreError(f"there is already an outlet {new!r}") from None
            return self._outlet(s, o)

    def all(self) -> list[Outlet]:
        """The outlets followed now."""
        with self.db.session() as s:
            q = select(om.Outlet).where(_FOLLOWED).order_by(om.Outlet.name)
            return [self._outlet(s, o) for o in s.scalars(q)]

    def get(self, name: str, *, removed: bool = False) -> Outlet | None:
        """A followed outlet by name (or a removed one too: its history stays)."""
        with self.db.session() as s:
            q = select(om.Outlet).where(om.Outlet.name == name)
            o = s.scalar(q if removed else q.where(_FOLLOWED))
            return self._outlet(s, o) if o is not None else None

    def _outlet(self, s: Session, o: om.Outlet) -> Outlet:
        sources = s.scalars(
            select(om.OutletSource)
            .where(om.OutletSource.outlet_id == o.id)
            .order_by(om.OutletSource.id)
        )
        by_state: dict[str, int] = dict(
            s.execute(
                select(m.Watch.state, func.count())
                .where(m.Watch.outlet_id == o.id)
                .group_by(m.Watch.state)
            ).all()
        )
        rejected = int(by_state.pop(WatchState.REJECTED.value, 0))
        seen = s.scalar(select(func.count()).where(om.OutletSeen.outlet_id == o.id)) or 0
        return to_domain(
            Outlet, o, sources=tuple(_source(x, o.name) for x in sources),
            watched=sum(int(n) for n in by_state.values()), rejected=rejected + int(seen),
        )  # fmt: skip

    # --- reading sources ----------------------------------------------------------------

    def count_due(self, *, now: datetime) -> int:
        """Sources due a read (the daemon starts a pass for them even when no watch is due)."""
        with self.db.session() as s:
            q = select(func.count()).where(om.OutletSource.next_check_at <= now)
            return int(s.scalar(q) or 0)

    def claim_sources(
        self, *, now: datetime, every: dict[str, timedelta], outlet: str | None = None,
        force: bool = False, owner: str = "", hold: timedelta = timedelta(minutes=15),
    ) -> list[OutletSource]:  # fmt: skip
        """Take the sources due now (all of `outlet`'s with force), moving each
        one's next read an interval ahead first: two workers never read one
        source at once, and a crashed read is simply retried at the next interval.

        One worker at a time fetches a site (storage.sharing): a source on a
        host another worker holds waits for it, up to one interval (a long
        sweep must not keep an outlet's new articles unwatched), unless forced.
        `owner` holds the hosts it takes for `hold`, or until it lets them go."""
        with self.db.session() as s:
            q = select(om.OutletSource, om.Outlet.name).join(
                om.Outlet, om.Outlet.id == om.OutletSource.outlet_id
            )
            if outlet is not None:
                q = q.where(om.Outlet.name == outlet)
            if not force:
                q = q.where(om.OutletSource.next_check_at <= now)
            due = s.execute(q.order_by(om.OutletSource.next_check_at)).all()
            if not due:
                return []  # most passes: no claim lock, no look at the hosts
            if self.db.backend == "postgresql":
                postgres.lock_for_claims(s.connection())
            held = sharing.held(s, now)
            taken = set().union(*(h for o, h in held.items() if o != owner))
            out, hosts = [], set()
            for src, name in due:
                interval = every.get(name) or every.get("") or timedelta(minutes=10)
                host = urls.host(src.url)
                if host in taken and not force and src.next_check_at > now - interval:
                    continue  # due again at the next pass, or read beside it once overdue
                won = rowcount(
                    s.execute(
                        update(om.OutletSource)
                        .where(
                            om.OutletSource.id == src.id,
                            om.OutletSource.next_check_at == src.next_check_at,
                        )
                        .values(next_check_at=now + interval)
                        .execution_options(synchronize_session=False)
                    )
                )
                if won:
                    out.append(_source(src, name))
                    hosts.add(host)
            if owner and hosts:
                sharing.hold(s, owner, hosts, now, until=now + hold)
            return out

    def source_read(
        self, source_id: int, *, now: datetime, status: str, entries: int,
        etag: str | None = None, last_modified: str | None = None, not_modified: bool = False,
        body_sha256: str | None = None,
    ) -> None:  # fmt: skip
        values: dict[str, object] = {"last_checked_at": now, "last_status": status[:500]}
        if not not_modified:
            values.update(
                etag=etag and etag[:256], last_modified=last_modified and last_modified[:64],
                body_sha256=body_sha256,
            )  # fmt: skip
            values["entries_seen"] = om.OutletSource.entries_seen + entries
        with self.db.session() as s:
            s.execute(
                update(om.OutletSource)
                .where(om.OutletSource.id == source_id)
                .values(values)
                .execution_options(synchronize_session=False)
            )

    # --- what the sources listed ----------------------------------------------------------

    def unseen(self, outlet_id: int, urls: Sequence[str]) -> list[str]:
        """The URLs neither watched (under any of their URLs) nor rejected before."""
        wanted = list(dict.fromkeys(u for u in urls if len(u) <= MAX_URL))
        known: set[str] = set()
        with self.db.session() as s:
            for i in range(0, len(wanted), 900):
                chunk = wanted[i : i + 900]
                known.update(s.scalars(select(m.Alias.url).where(m.Alias.url.in_(chunk))))
                known.update(
                    s.scalars(
                        select(om.OutletSeen.url).where(
                            om.OutletSeen.outlet_id == outlet_id, om.OutletSeen.url.in_(chunk)
                        )
                    )
                )
        return [u for u in wanted if u not in known]

    def reject(self, outlet_id: int, rows: Sequence[tuple[str, str]], *, now: datetime) -> None:
        """Remember listed pages that are not articles, with why (judged once)."""
        with self.db.session() as s:
            for url, reason in rows:
                if s.get(om.OutletSeen, (outlet_id, url)) is None:
                    s.add(
                        om.OutletSeen(
                            outlet_id=outlet_id, url=url, reason=reason[:500], seen_at=now
                        )
                    )

    def watch(self, outlet_id: int, listed: Sequence[Listed], *, now: datetime) -> int:
        """Watch each listed article from now (due at once); returns how many
        are new. A URL already watched by hand joins the outlet."""
        created = 0
        with self.db.session() as s:
            for i in range(0, len(listed), 900):  # under every backend's bound on parameters
                chunk = listed[i : i + 900]
                urls = [item.url for item in chunk]
                known: dict[str, int] = {
                    url: wid
                    for url, wid in s.execute(
                        select(m.Alias.url, m.Alias.watch_id).where(m.Alias.url.in_(urls))
                    )
                }
                if known:
                    s.execute(
                        update(m.Watch)
                        .where(m.Watch.id.in_(set(known.values())), m.Watch.outlet_id.is_(None))
                        .values(outlet_id=outlet_id)
                        .execution_options(synchronize_session=False)
                    )
                new = [item for item in chunk if item.url not in known]
                if not new:
                    continue
                try:
                    with s.begin_nested():  # one statement per table for the whole chunk
                        self._add(s, outlet_id, new, now)
                    created += len(new)
                except IntegrityError:  # another worker just added one: one at a time
                    created += sum(self._watch_one(s, outlet_id, item, now) for item in new)
        return created

    def _watch_one(self, s: Session, outlet_id: int, item: Listed, now: datetime) -> bool:
        w = s.scalar(
            select(m.Watch)
            .join(m.Alias, m.Alias.watch_id == m.Watch.id)
            .where(m.Alias.url == item.url)
        )
        if w is not None:
            if w.outlet_id is None:
                w.outlet_id = outlet_id
            return False
        try:
            with s.begin_nested():
                self._add(s, outlet_id, [item], now)
            return True
        except IntegrityError:
            return False

    @staticmethod
    def _add(s: Session, outlet_id: int, items: Sequence[Listed], now: datetime) -> None:
        # fmt: off
        watches = [
            m.Watch(
                url=item.url, story_id=None, added_at=now, next_check_at=now,
                state=WatchState.ACTIVE.value, origin=Origin.OUTLET.value, outlet_id=outlet_id,
                found_via=item.found_via[:MAX_URL], title=item.title[:500] if item.title else None,
                error_count=0, removed_count=0, version_count=0, words=0, replacements=0,
            )
            for item in items
        ]
        # fmt: on
        s.add_all(watches)
        s.flush()  # their ids, for the aliases
        s.add_all(m.Alias(url=w.url, watch_id=w.id) for w in watches)
        s.flush()

    def source_owners(self, urls: Sequence[str]) -> dict[str, str]:
        """The followed outlet that reads each of these URLs, by URL."""
        rows = self._followed_sources(om.OutletSource.url.in_(set(urls)))
        return {url: name for _sid, url, _oid, name in rows}

    def source_outlets(self, source_ids: Sequence[int]) -> dict[int, int]:
        """The followed outlet of each source still there, by source id."""
        rows = self._followed_sources(om.OutletSource.id.in_(set(source_ids)))
        return {sid: oid for sid, _url, oid, _name in rows}

    def _followed_sources(self, where: Any) -> list[tuple[int, str, int, str]]:
        """(source id, URL, outlet id, outlet name) of followed outlets' sources."""
        with self.db.session() as s:
            q = (
                select(om.OutletSource.id, om.OutletSource.url, om.Outlet.id, om.Outlet.name)
                .join(om.Outlet, om.Outlet.id == om.OutletSource.outlet_id)
                .where(where, _FOLLOWED)
            )
            return [(sid, url, oid, name) for sid, url, oid, name in s.execute(q)]

    def keep(self, watch_ids: Sequence[int]) -> None:
        """These outlet articles are the user's to keep: no window retires them
        (they stay the outlet's, in its figures and exports)."""
        if watch_ids:
            with self.db.session() as s:
                s.execute(
                    update(m.Watch)
                    .where(m.Watch.id.in_(list(watch_ids)), m.Watch.origin == Origin.OUTLET.value)
                    .values(origin=Origin.MANUAL.value)
                    .execution_options(synchronize_session=False)
                )

    def windows(self, retain: dict[str, timedelta]) -> dict[int, timedelta]:
        """Each followed outlet's retention window, by id (`retain` by name;
        absent: its retain_days)."""
        with self.db.session() as s:
            rows = s.execute(
                select(om.Outlet.id, om.Outlet.name, om.Outlet.retain_days).where(_FOLLOWED)
            ).all()
        return {oid: retain.get(name) or timedelta(days=days) for oid, name, days in rows}

    def retire_expired(self, *, now: datetime, retain: dict[str, timedelta]) -> int:
        """Retire each outlet's watches first seen longer ago than its retention
        window (`retain` by outlet name; absent: the outlet's retain_days), but
        those the user put in a story: a story's article is kept."""
        total = 0
        with self.db.session() as s:
            for oid, name, days in s.execute(
                select(om.Outlet.id, om.Outlet.name, om.Outlet.retain_days).where(_FOLLOWED)
            ):
                window = retain.get(name) or timedelta(days=days)
                total += rowcount(
                    s.execute(
                        update(m.Watch)
                        .where(
                            m.Watch.outlet_id == oid,
                            m.Watch.origin == Origin.OUTLET.value,
                            m.Watch.state.in_(_LIVE),
                            m.Watch.added_at < now - window,
                            ~select(m.WatchStory.watch_id)
                            .where(m.WatchStory.watch_id == m.Watch.id)
                            .exists(),
                        )
                        .values(state=WatchState.RETIRED.value)
                        .execution_options(synchronize_session=False)
                    )
                )
        return total
