"""Changes: the analysis of each pair of consecutive versions, stored once.

What `diff`, the report, the feed and notifications show is read from here;
an analysis is replaced only when a newer analyzer re-judges it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, false, func, or_, select, update

from raqib.domain import FACT_MARKS, Change, ChangeRow, Judgement, Version, WatchMarks, fact_marks
from raqib.storage import models as m
from raqib.storage.db import MAX_BATCH_CHARS, Database, insert_new, to_domain
from raqib.storage.watches import belonging, load


class ChangeRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def unanalyzed(
        self, limit: int = 1000, *, max_chars: int = MAX_BATCH_CHARS, imported: bool = False,
        watch_ids: Sequence[int] | None = None, before: datetime | None = None,
    ) -> list[tuple[Version, Version]]:  # fmt: skip
        """Consecutive version pairs with no change row yet (oldest first): up
        to `limit`, and no more pairs than hold `max_chars` of text between
        them (at least one), so that an archive's long texts are judged a few
        at a time. Rows are read as they are taken, never all at once.
        `imported`: only pairs whose newer version came from an import (no
        fetch), which an import judges without taking a pass's. `watch_ids`
        and `before`: only pairs of these watches, or whose newer version was
        first seen before then, or imported (a pass's own, and what a stopped
        pass or import left)."""
        with self.db.session() as s:
            old = m.Version.__table__.alias("old")
            query = (
                select(m.Version, old.c.id)
                .join(
                    old,
                    and_(
                        old.c.watch_id == m.Version.watch_id, old.c.number == m.Version.number - 1
                    ),
                )
                .outerjoin(m.Change, m.Change.to_version_id == m.Version.id)
                .where(m.Change.id.is_(None))
            )
            if imported:
                query = query.where(m.Version.fetch_id.is_(None))
            if watch_ids is not None or before is not None:
                mine = m.Version.watch_id.in_(list(watch_ids or ()))
                left = m.Version.first_seen < before if before is not None else false()
                # An import that stopped before judging its versions: history,
                # first seen whenever it was, and no pass's to judge.
                query = query.where(or_(mine, left, m.Version.fetch_id.is_(None)))
            rows = s.execute(
                query.order_by(m.Version.first_seen, m.Version.id)
                .limit(limit)
                .execution_options(yield_per=50)
            )
            pairs: list[tuple[Version, Version]] = []
            chars = 0
            for new, old_id in rows:
                prev = s.get(m.Version, old_id)
                assert prev is not None
                chars += len(prev.text) + len(new.text)
                if pairs and chars > max_chars:
                    break
                pairs.append((to_domain(Version, prev), to_domain(Version, new)))
            rows.close()
            return pairs

    def save_many(self, judged: Sequence[tuple[Version, Version, Judgement]]) -> list[Change]:
        """Store the judgements of version pairs in one transaction; returns
        the changes stored, in order. The unique to_version_id makes a pair
        another worker stored first a no-op instead of a duplicate."""
        if not judged:
            return []
        rows = [
            dict(
                watch_id=new.watch_id,
                from_version_id=old.id,
                to_version_id=new.id,
                detected_at=new.first_seen,
                untold=new.fetch_id is not None,  # an import's history is never told
                marks=fact_marks(judgement.analysis),
                **asdict(judgement),
            )
            for old, new, judgement in judged
        ]
        table = m.Change.__table__
        with self.db.session() as s:
            stored = insert_new(s.connection(), table, rows, returning=list(table.c))
        return sorted((to_domain(Change, row) for row in stored), key=lambda c: c.id)

    def untold(self, *, limit: int, before: datetime) -> list[Change]:
        """Changes detected before `before` that no pass has told the channels
        of, oldest first: those of a pass that stopped between storing them
        and queueing their messages."""
        with self.db.session() as s:
            q = (
                select(m.Change)
                .where(m.Change.untold.is_(True), m.Change.detected_at < before)
                .order_by(m.Change.id)
                .limit(limit)
            )
            return [to_domain(Change, c) for c in s.scalars(q)]

    def replace(self, change_id: int, *, expected_analyzer: str, judgement: Judgement) -> bool:
        """Store a newer analyzer's judgement; False if another worker already did."""
        with self.db.session() as s:
            result = s.execute(
                update(m.Change)
                .where(m.Change.id == change_id, m.Change.analyzer == expected_analyzer)
                .values({**asdict(judgement), "marks": fact_marks(judgement.analysis)})
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(result, "rowcount", 0))

    def analyzed_by_other(
        self, analyzer: str, *, limit: int, after: int = 0
    ) -> list[tuple[Change, Version, Version]]:
        """Changes whose stored analysis another analyzer made, oldest first
        (with ids above `after`)."""
        with self.db.session() as s:
            rows = s.scalars(
                select(m.Change)
                .where(m.Change.analyzer != analyzer, m.Change.id > after)
                .order_by(m.Change.id)
                .limit(limit)
            ).all()
            return [self._with_versions(s, c) for c in rows]

    def count_by_other(self, analyzer: str) -> dict[str, int]:
        """How many changes each other analyzer judged, by its name."""
        with self.db.session() as s:
            q = (
                select(m.Change.analyzer, func.count(m.Change.id))
                .where(m.Change.analyzer != analyzer)
                .group_by(m.Change.analyzer)
            )
            return {str(a): int(n) for a, n in s.execute(q)}

    def all(
        self,
        *,
        watch_id: int | None = None,
        since: datetime | None = None,
        story: str | None = None,
        outlet: str | None = None,
        tag: str | None = None,
        silent: bool | None = None,
        kind: str | None = None,
        facts: int = 0,
        judged_by_other: str | None = None,
        newest: int | None = None,
        after: tuple[datetime, int] | None = None,
        limit: int | None = None,
    ) -> list[ChangeRow]:
        """Changes with their watch and version numbers, oldest first, filtered
        (`facts`: touching any of these fact_marks; `judged_by_other`: by an
        analyzer other than this one); `limit` of them after the change
        `after` (its detected_at and id), for reading a long history a page at
        a time; with `newest`, only that many, newest first."""
        with self.db.session() as s:
            old = m.Version.__table__.alias("old")
            new = m.Version.__table__.alias("new")
            q = (
                select(m.Change, m.Watch, old.c.number, new.c.number, old.c.title, new.c.title)
                .join(m.Watch, m.Watch.id == m.Change.watch_id)
                .join(old, old.c.id == m.Change.from_version_id)
                .join(new, new.c.id == m.Change.to_version_id)
            )
            q = _filtered(q, watch_id, since, story, outlet, tag, silent, kind, facts)
            if judged_by_other is not None:
                q = q.where(m.Change.analyzer != judged_by_other)
            latest = (m.Change.detected_at.desc(), m.Change.id.desc())
            if newest is None:
                if after is not None:
                    at, change_id = after
                    q = q.where(
                        or_(
                            m.Change.detected_at > at,
                            and_(m.Change.detected_at == at, m.Change.id > change_id),
                        )
                    )
                q = q.order_by(m.Change.detected_at, m.Change.id).limit(limit)
            else:
                q = q.order_by(*latest).limit(newest)
            rows = s.execute(q).all()
            watches = {w.id: w for w in load(s, list({r[1].id: r[1] for r in rows}.values()))}
            return [
                ChangeRow(to_domain(Change, c), watches[w.id], int(a), int(b), (ta, tb))
                for c, w, a, b, ta, tb in rows
            ]

    def count(
        self, *, watch_id: int | None = None, since: datetime | None = None,
        story: str | None = None, outlet: str | None = None, tag: str | None = None,
        silent: bool | None = None, kind: str | None = None, facts: int = 0,
    ) -> int:  # fmt: skip
        """How many changes `all` would list with these filters."""
        with self.db.session() as s:
            q = select(func.count(m.Change.id)).join(m.Watch, m.Watch.id == m.Change.watch_id)
            q = _filtered(q, watch_id, since, story, outlet, tag, silent, kind, facts)
            return int(s.scalar(q) or 0)

    def marks_by_watch(self, analyzer: str) -> dict[int, WatchMarks]:
        """For each watch, what its changes that `analyzer` judged add up to,
        counted and or-ed in SQL: no analysis is read."""
        c = m.Change

        def any_of(cond: Any) -> Any:
            return func.max(case((cond, 1), else_=0))

        q = (
            select(
                c.watch_id, func.count(c.id), any_of(c.silent), any_of(c.headline_changed),
                func.max(c.marks.op("&")(FACT_MARKS["numbers"])),
                func.max(c.marks.op("&")(FACT_MARKS["quotes"])),
            )
            .where(c.analyzer == analyzer)
            .group_by(c.watch_id)
        )  # fmt: skip
        with self.db.session() as s:
            return {
                w: WatchMarks(int(n), bool(si), bool(h), bool(fi), bool(qu))
                for w, n, si, h, fi, qu in s.execute(q)
            }

    def detail(self, change_id: int) -> tuple[Change, Version, Version] | None:
        with self.db.session() as s:
            c = s.get(m.Change, change_id)
            return self._with_versions(s, c) if c is not None else None

    def between(self, old: Version, new: Version) -> Change | None:
        """The stored change from `old` to `new`, if they are consecutive."""
        with self.db.session() as s:
            c = s.scalar(
                select(m.Change).where(
                    m.Change.from_version_id == old.id, m.Change.to_version_id == new.id
                )
            )
            return to_domain(Change, c) if c is not None else None

    @staticmethod
    def _with_versions(s: Any, c: m.Change) -> tuple[Change, Version, Version]:
        old = s.get(m.Version, c.from_version_id)
        new = s.get(m.Version, c.to_version_id)
        assert old is not None and new is not None
        return to_domain(Change, c), to_domain(Version, old), to_domain(Version, new)


def _filtered(
    q: Any, watch_id: int | None, since: datetime | None, story: str | None,
    outlet: str | None, tag: str | None, silent: bool | None, kind: str | None, facts: int,
) -> Any:  # fmt: skip
    if watch_id is not None:
        q = q.where(m.Change.watch_id == watch_id)
    if since is not None:
        q = q.where(m.Change.detected_at >= since)
    q = belonging(q, outlet=outlet, tag=tag, story=story)
    if silent is not None:
        q = q.where(m.Change.silent.is_(silent))
    if kind is not None:
        q = q.where(m.Change.kind == kind)
    if facts:
        q = q.where(m.Change.marks.op("&")(facts) != 0)
    return q
