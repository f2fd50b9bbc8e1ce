"""What an outlet listed that was not an article, and the figures
newsroom-edit studies publish about it (`raqib outlet rejected`, `outlet
stats`): read-only queries, for followed and removed outlets alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, and_, cast, func, select

from raqib.domain import GOOD_OUTCOMES, WatchState
from raqib.storage import models as m
from raqib.storage import outlet_models as om
from raqib.storage.db import Database, StoreError


@dataclass(frozen=True)
class EditFacts:
    """One article of an outlet, for its figures."""

    watch_id: int
    added_at: datetime
    substantive: int  # substantive changes
    silent: int  # of which silent
    first_edit_after: datetime | None  # last seen unedited (evidence bracket, lower end)
    first_edit_before: datetime | None  # first seen edited (upper end)


class OutletFigures:
    """Part of OutletRepo (storage.outlets)."""

    db: Database

    def rejected(self, name: str, *, limit: int = 1000) -> list[tuple[str, str, datetime]]:
        """(URL, reason, when) of what the outlet listed that is not an article,
        newest first: pages refused by their URL, and pages that declared
        themselves something else when first fetched."""
        with self.db.session() as s:
            oid = s.scalar(select(om.Outlet.id).where(om.Outlet.name == name))
            if oid is None:
                raise StoreError(f"no outlet {name!r}")
            seen = [
                (u, r, at)
                for u, r, at in s.execute(
                    select(om.OutletSeen.url, om.OutletSeen.reason, om.OutletSeen.seen_at)
                    .where(om.OutletSeen.outlet_id == oid)
                    .order_by(om.OutletSeen.seen_at.desc())
                    .limit(limit)
                )
            ]
            last_detail = (
                select(m.Fetch.detail)
                .where(m.Fetch.watch_id == m.Watch.id)
                .order_by(m.Fetch.fetched_at.desc(), m.Fetch.id.desc())
                .limit(1)
                .scalar_subquery()
            )
            fetched = [
                (u, d or "not an article", at)
                for u, d, at in s.execute(
                    select(m.Watch.url, last_detail, m.Watch.last_checked_at)
                    .where(m.Watch.outlet_id == oid, m.Watch.state == WatchState.REJECTED.value)
                    .order_by(m.Watch.id.desc())
                    .limit(limit)
                )
            ]
        return sorted(seen + fetched, key=lambda r: r[2] or datetime.min, reverse=True)[:limit]

    def edit_facts(self, name: str) -> list[EditFacts]:
        """Per article of the outlet (watches with a version, not rejected): its
        substantive and silent changes and the bracket of its first substantive edit."""
        with self.db.session() as s:
            oid = s.scalar(select(om.Outlet.id).where(om.Outlet.name == name))
            if oid is None:
                raise StoreError(f"no outlet {name!r}")
            articles = dict(
                s.execute(
                    select(m.Watch.id, m.Watch.added_at).where(
                        m.Watch.outlet_id == oid,
                        m.Watch.version_count > 0,
                        m.Watch.state != WatchState.REJECTED.value,
                    )
                ).all()
            )
            subst = and_(m.Change.watch_id == m.Watch.id, m.Change.kind == "substantive")
            counts = {
                wid: (int(n), int(quiet or 0))
                for wid, n, quiet in s.execute(
                    select(
                        m.Change.watch_id, func.count(),
                        func.sum(cast(m.Change.silent, Integer)),
                    )
                    .join(m.Watch, subst)
                    .where(m.Watch.outlet_id == oid)
                    .group_by(m.Change.watch_id)
                ).all()
            }  # fmt: skip
            first_new = (
                select(m.Change.watch_id, func.min(m.Version.first_seen).label("seen"))
                .join(m.Version, m.Version.id == m.Change.to_version_id)
                .join(m.Watch, subst)
                .where(m.Watch.outlet_id == oid)
                .group_by(m.Change.watch_id)
                .subquery()
            )
            last_old = (
                select(func.max(m.Fetch.fetched_at))
                .where(
                    m.Fetch.watch_id == first_new.c.watch_id,
                    m.Fetch.fetched_at < first_new.c.seen,
                    m.Fetch.outcome.in_([str(o) for o in GOOD_OUTCOMES]),
                )
                .scalar_subquery()
            )
            brackets = {
                wid: (before, seen)
                for wid, seen, before in s.execute(
                    select(first_new.c.watch_id, first_new.c.seen, last_old)
                )
            }
        return [
            EditFacts(wid, added, *counts.get(wid, (0, 0)), *(brackets.get(wid) or (None, None)))
            for wid, added in articles.items()
        ]
