"""Notification channels and the durable outbox of messages to them.

A pass queues what it decided to say; delivery claims messages with a lease
(like watches), so one message is sent by one worker at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from raqib.domain import Channel, Delivery, Message
from raqib.storage import models as m
from raqib.storage.db import Database, free, lease_rows, rowcount, to_domain
from raqib.storage.watches import ensure_story

PENDING, SENT, FAILED = Delivery.PENDING.value, Delivery.SENT.value, Delivery.FAILED.value


class OutboxRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- channels ---------------------------------------------------------------------

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
        """Add a channel, or update the rules of the same URL for the same story."""
        with self.db.session() as s:
            sid = ensure_story(s, story, now)
            ch = s.scalar(
                select(m.Channel).where(
                    m.Channel.url == url,
                    m.Channel.story_id.is_(None) if sid is None else m.Channel.story_id == sid,
                )
            )
            created = ch is None
            if ch is None:
                ch = m.Channel(
                    url=url, kind=kind, story_id=sid, when=when, keywords=keywords, digest=digest,
                    origin=origin, enabled=True, added_at=now,
                )  # fmt: skip
                s.add(ch)
                s.flush()
            else:
                ch.when, ch.keywords, ch.digest, ch.enabled = when, keywords, digest, True
            return to_domain(Channel, ch, story=story), created

    def channels(self, *, enabled_only: bool = False) -> list[Channel]:
        with self.db.session() as s:
            q = (
                select(m.Channel, m.Story.slug)
                .outerjoin(m.Story, m.Story.id == m.Channel.story_id)
                .order_by(m.Channel.id)
            )
            if enabled_only:
                q = q.where(m.Channel.enabled.is_(True))
            return [to_domain(Channel, c, story=slug) for c, slug in s.execute(q).all()]

    def remove_channel(self, ref: str) -> int:
        """Remove channels by id or by URL; returns how many went."""
        with self.db.session() as s:
            q = (
                select(m.Channel).where(m.Channel.id == int(ref))
                if ref.isdigit()
                else select(m.Channel).where(m.Channel.url == ref)
            )
            found = list(s.scalars(q))
            for c in found:
                s.delete(c)
            return len(found)

    def disable_config_channels(self, ids: set[int]) -> None:
        """These channels from a raqib.toml, no longer there, stop."""
        if not ids:
            return
        with self.db.session() as s:
            s.execute(
                update(m.Channel)
                .where(m.Channel.origin == "config", m.Channel.id.in_(sorted(ids)))
                .values(enabled=False)
                .execution_options(synchronize_session=False)
            )

    # --- messages ----------------------------------------------------------------------

    def enqueue(
        self,
        items: Sequence[tuple[int, str, dict[str, Any]]]
        | Callable[[set[int]], Sequence[tuple[int, str, dict[str, Any]]]],
        *,
        now: datetime,
        told: Sequence[int] = (),
    ) -> int:
        """Queue (channel, key, payload) messages; a key already queued is skipped.

        One transaction: what a pass decided to say is queued whole, and the
        changes `told` (those the messages are made of) are marked told with
        it. `items` may be made from the ones this call marked (another
        worker's pass may have marked some first, and queues those itself).
        """
        added = 0
        with self.db.session() as s:
            flipped: set[int] = set()
            if told:
                flipped = set(
                    s.scalars(
                        update(m.Change)
                        .where(m.Change.id.in_(list(told)), m.Change.untold.is_(True))
                        .values(untold=False)
                        .returning(m.Change.id)
                        .execution_options(synchronize_session=False)
                    )
                )
            for channel_id, key, payload in items(flipped) if callable(items) else items:
                exists = s.scalar(
                    select(m.Outbox.id).where(
                        m.Outbox.channel_id == channel_id, m.Outbox.key == key
                    )
                )
                if exists is not None:
                    continue
                s.add(
                    m.Outbox(
                        channel_id=channel_id, key=key, payload=payload, status=PENDING, attempts=0,
                        created_at=now, next_attempt_at=now,
                    )
                )  # fmt: skip
                added += 1
        return added

    def claim(
        self,
        owner: str,
        *,
        now: datetime,
        lease: timedelta,
        limit: int = 50,
        exclude: Sequence[int] = (),
    ) -> list[tuple[Message, Channel]]:
        with self.db.session() as s:
            q = select(m.Outbox.id).where(
                m.Outbox.status == PENDING, m.Outbox.next_attempt_at <= now, free(m.Outbox, now)
            )
            if exclude:
                q = q.where(m.Outbox.id.not_in(list(exclude)))
            # Locked and skipped like watch claims: one message, one sender.
            ids = list(
                s.scalars(
                    q.order_by(m.Outbox.next_attempt_at, m.Outbox.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            if not ids:
                return []
            lease_rows(s, m.Outbox, ids, owner, now=now, until=lease)
            rows = s.execute(
                select(m.Outbox, m.Channel)
                .join(m.Channel, m.Channel.id == m.Outbox.channel_id)
                .where(m.Outbox.id.in_(ids), m.Outbox.lease_owner == owner)
                .order_by(m.Outbox.id)
            ).all()
            return [(to_domain(Message, o), to_domain(Channel, c, story=None)) for o, c in rows]

    def renew(self, ids: Sequence[int], owner: str, *, now: datetime, lease: timedelta) -> None:
        """Extend `owner`'s claims on these messages (a flush still sending them)."""
        with self.db.session() as s:
            s.execute(
                update(m.Outbox)
                .where(m.Outbox.id.in_(list(ids)), m.Outbox.lease_owner == owner)
                .values(lease_expires_at=now + lease)
                .execution_options(synchronize_session=False)
            )

    def release(self, ids: Sequence[int]) -> None:
        with self.db.session() as s:
            s.execute(
                update(m.Outbox)
                .where(m.Outbox.id.in_(list(ids)))
                .values(lease_owner=None, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            )

    def defer(self, ids: Sequence[int], *, until: datetime) -> None:
        """Hold these messages until `until` (their channel is backing off)."""
        if not ids:
            return
        with self.db.session() as s:
            s.execute(
                update(m.Outbox)
                .where(m.Outbox.id.in_(list(ids)))
                .values(next_attempt_at=until, lease_owner=None, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            )

    def due_now(self, now: datetime) -> int:
        """Make every pending message due at `now`, past its backoff (`flush --now`)."""
        with self.db.session() as s:
            r = s.execute(
                update(m.Outbox)
                .where(m.Outbox.status == PENDING, m.Outbox.next_attempt_at > now)
                .values(next_attempt_at=now)
                .execution_options(synchronize_session=False)
            )
            return rowcount(r)

    def drop_sent(self, before: datetime, *, dry_run: bool = False) -> int:
        """Remove the messages delivered before then (how many): each kept its
        payload for good, the outbox outgrowing every other table. Their
        changes are marked told, so none is queued again."""
        with self.db.session() as s:
            old = (m.Outbox.status == SENT, m.Outbox.sent_at < before)
            if dry_run:
                return int(s.scalar(select(func.count(m.Outbox.id)).where(*old)) or 0)
            r = s.execute(delete(m.Outbox).where(*old).execution_options(synchronize_session=False))
            return rowcount(r)

    def retry_failed(self, now: datetime) -> int:
        """Queue again, due at `now` with their attempts counted afresh, the
        messages given up on (`flush --retry-failed`: after a channel's outage)."""
        with self.db.session() as s:
            r = s.execute(
                update(m.Outbox)
                .where(
                    m.Outbox.status == FAILED,
                    m.Outbox.channel_id.in_(select(m.Channel.id).where(m.Channel.enabled)),
                )  # a channel switched off since keeps them failed
                .values(status=PENDING, attempts=0, next_attempt_at=now)
                .execution_options(synchronize_session=False)
            )
            return rowcount(r)

    def delivered(self, message_id: int, *, now: datetime) -> None:
        with self.db.session() as s:
            o = s.get(m.Outbox, message_id)
            if o is not None:
                o.status, o.sent_at, o.attempts = SENT, now, o.attempts + 1
                o.lease_owner = o.lease_expires_at = None
                o.last_error = None

    def failed(
        self, message_id: int, *, now: datetime, error: str, retry_at: datetime | None
    ) -> None:
        """Record a failed attempt; retry later, or give up when retry_at is None."""
        with self.db.session() as s:
            o = s.get(m.Outbox, message_id)
            if o is not None:
                o.attempts += 1
                o.last_error = error[:500]
                o.lease_owner = o.lease_expires_at = None
                if retry_at is None:
                    o.status = FAILED
                else:
                    o.next_attempt_at = retry_at

    def recent(self, *, limit: int = 200) -> list[tuple[Message, Channel]]:
        with self.db.session() as s:
            rows = s.execute(
                select(m.Outbox, m.Channel)
                .join(m.Channel, m.Channel.id == m.Outbox.channel_id)
                .order_by(m.Outbox.id.desc())
                .limit(limit)
            ).all()
            return [(to_domain(Message, o), to_domain(Channel, c, story=None)) for o, c in rows]

    def counts(self) -> dict[tuple[int, str], int]:
        with self.db.session() as s:
            rows = s.execute(
                select(m.Outbox.channel_id, m.Outbox.status, func.count()).group_by(
                    m.Outbox.channel_id, m.Outbox.status
                )
            ).all()
            return {(int(c), str(st)): int(n) for c, st, n in rows}
