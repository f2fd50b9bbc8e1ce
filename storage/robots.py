"""robots.txt answers kept between passes (raqib.crawler.robots decides what
is kept, and for how long)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select

from raqib.domain import KeptRobots
from raqib.storage import models as m
from raqib.storage.db import Database, rowcount, upsert


class RobotsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def fresh(self, *, since: datetime, until: datetime) -> dict[str, tuple[bytes, datetime]]:
        """Each origin's body and when it was fetched, for answers fetched between
        `since` and `until` (a time ahead of this clock is another's skew, not fresh)."""
        a = m.RobotsAnswer
        with self.db.session() as s:
            rows = s.execute(
                select(a.origin, a.body, a.fetched_at).where(a.fetched_at.between(since, until))
            )
            return {o: (body, at) for o, body, at in rows}

    def put(self, answers: dict[str, tuple[bytes, datetime]], *, older_than: datetime) -> None:
        """Keep each origin's answer (body, when fetched) unless a newer one is
        kept already; forget every answer fetched before `older_than`."""
        rows = [
            {"origin": o, "body": body, "fetched_at": at}
            for o, (body, at) in sorted(answers.items())
        ]  # in one order: two workers writing the same hosts wait, never deadlock
        with self.db.session() as s:
            upsert(s.connection(), m.RobotsAnswer.__table__, rows, "origin", newer="fetched_at")
            s.execute(delete(m.RobotsAnswer).where(m.RobotsAnswer.fetched_at < older_than))

    def kept(self) -> list[KeptRobots]:
        """Every answer kept, fresh or not, by origin."""
        a = m.RobotsAnswer
        with self.db.session() as s:
            rows = s.execute(select(a.origin, a.fetched_at, func.length(a.body)).order_by(a.origin))
            return [KeptRobots(o, at, size or 0) for o, at, size in rows]

    def body(self, origin: str) -> bytes | None:
        with self.db.session() as s:
            body: bytes | None = s.scalar(
                select(m.RobotsAnswer.body).where(m.RobotsAnswer.origin == origin)
            )
            return body

    def forget(self, origins: Sequence[str] | None) -> int:
        """Forget the answers of `origins` (None: all); returns how many were kept."""
        stmt = delete(m.RobotsAnswer)
        if origins is not None:
            stmt = stmt.where(m.RobotsAnswer.origin.in_(list(origins)))
        with self.db.session() as s:
            return rowcount(s.execute(stmt))
