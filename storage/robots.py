"""robots.txt answers kept between passes (raqib.crawler.robots decides what
is kept, and for how long)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from raqib.storage import models as m
from raqib.storage.db import Database, insert_new


class RobotsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def fresh(self, origin: str, *, since: datetime) -> bytes | None:
        """The body of `origin`'s robots.txt if it was fetched at `since` or later."""
        with self.db.session() as s:
            return s.scalar(
                select(m.RobotsAnswer.body).where(
                    m.RobotsAnswer.origin == origin, m.RobotsAnswer.fetched_at >= since
                )
            )

    def put(self, answers: dict[str, tuple[int, bytes, datetime]]) -> None:
        """Keep each origin's answer (status, body, when fetched) in place of its last."""
        if not answers:
            return
        with self.db.session() as s:
            s.execute(delete(m.RobotsAnswer).where(m.RobotsAnswer.origin.in_(list(answers))))
            rows = [
                {"origin": o, "status": status, "body": body, "fetched_at": at}
                for o, (status, body, at) in answers.items()
            ]
            # Another worker may have kept the same host's answer meanwhile: either will do.
            insert_new(s.connection(), m.RobotsAnswer.__table__, rows)
