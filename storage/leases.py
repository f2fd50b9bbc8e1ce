"""Claims on watches: which worker checks which watch, until when.

Work is claimed per watch with a lease that expires, so several workers
(cron passes, the daemon, other machines) can share one database: a pass
renews its leases while it runs and a crashed one loses them on expiry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from raqib.domain import RESTING_STATES, Task
from raqib.storage import models as m
from raqib.storage import postgres
from raqib.storage.db import Database

# A watch in one of these states is never claimed.
RESTING = [s.value for s in RESTING_STATES]

_TASK_COLUMNS = (
    m.Watch.id, m.Watch.url, m.Watch.etag, m.Watch.last_modified, m.Watch.body_key,
    m.Watch.content_hash, m.Watch.state, m.Watch.version_count, m.Watch.words, m.Watch.added_at,
    m.Watch.last_change_at, m.Watch.error_count, m.Watch.removed_count, m.Watch.replacements,
    m.Watch.region, m.Watch.meta, m.Watch.origin, m.Watch.outlet_id, m.Watch.render,
    m.Watch.screenshots,
)  # fmt: skip


def _task(r: Any) -> Task:
    return Task(
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
        meta=r.meta,
        origin=r.origin,
        outlet_id=r.outlet_id,
        render=bool(r.render),
        screenshot=bool(r.screenshots),
    )


def fair_hosts(open_: set[str], mine: set[str], taken: set[str], *, workers: int) -> list[str]:
    """The hosts a claim may take, among `open_` (due watches, no other worker
    on them): its share of every host in play, `workers` counting itself,
    less the hosts it holds with nothing more to take. Its own first, then by
    name, so that it keeps the same ones claim after claim and lets the rest
    drain to the others."""
    share = -(-len(open_ | mine | taken) // workers)
    room = share - len(mine - open_)
    return sorted(open_, key=lambda h: (h not in mine, h))[: max(room, 0)]


def _held(s: Session, now: datetime) -> dict[str, set[str]]:
    """Each worker's hosts: those of the watches it holds unexpired leases on."""
    held: dict[str, set[str]] = {}
    rows = s.execute(
        select(m.Watch.lease_owner, m.Watch.host)
        .where(m.Watch.lease_owner.is_not(None), m.Watch.lease_expires_at >= now)
        .distinct()
    )
    for owner, host in rows:
        held.setdefault(str(owner), set()).add(host)
    return held


def _waiting(s: Session, owner: str, now: datetime) -> set[str]:
    """The other workers waiting for hosts (`crowded`)."""
    return set(
        s.scalars(select(m.Waiter.owner).where(m.Waiter.until >= now, m.Waiter.owner != owner))
    )


class LeaseRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def claim(
        self,
        owner: str,
        *,
        now: datetime,
        lease: timedelta,
        limit: int,
        due_only: bool = True,
        after_id: int | None = None,
        only: Sequence[int] | None = None,
    ) -> list[Task]:
        """Lease up to `limit` due watches to `owner`; never one another holds,
        nor one `owner` holds already: a pass claims its next batch while it
        still fetches the last, whose watches are due until recorded.

        A sweep (due watches, neither `after_id` nor `only`) takes none on a
        host another worker holds a lease on: each worker keeps
        `fetch.per_domain` alone, so two on one site at once would double it.
        With other workers about, it takes no more than its share of the
        hosts (`fair_hosts`), so that they have some to take.

        With `after_id`, only watches with a larger id, in id order: how a pass
        over every watch (`check --all`) takes each once, batch after batch.
        It and `only` (watches named by the user) take what they name on any
        host: skipped, a watch would go unchecked, as no other worker has it.
        """
        free = or_(m.Watch.lease_expires_at.is_(None), m.Watch.lease_expires_at < now)
        cond = and_(m.Watch.state.not_in(RESTING), free)
        sweep = due_only and after_id is None and only is None
        if due_only:
            cond = and_(cond, m.Watch.next_check_at <= now)
        if only is not None:
            cond = and_(cond, m.Watch.id.in_(list(only)))
        order: tuple[Any, ...] = (m.Watch.next_check_at, m.Watch.id)
        if after_id is not None:
            cond = and_(cond, m.Watch.id > after_id)
            order = (m.Watch.id,)
        # One transaction, one claim at a time (PostgreSQL: an advisory lock;
        # SQLite's transactions are single-writer): read which hosts others
        # hold, pick the rows, locked, and lease them. Two workers never both
        # win a watch, nor both fetch a host.
        with self.db.session() as s:
            if self.db.backend == "postgresql":
                postgres.lock_for_claims(s.connection())
            held = _held(s, now) if sweep else {}
            others = {o: h for o, h in held.items() if o != owner}
            taken = set().union(*others.values()) if others else set()
            if taken:
                cond = and_(cond, m.Watch.host.not_in(sorted(taken)))
            waiting = _waiting(s, owner, now) if sweep else set()
            if others or waiting:
                open_ = set(s.scalars(select(m.Watch.host).where(cond).distinct()))
                hosts = fair_hosts(
                    open_, held.get(owner, set()), taken, workers=1 + len(set(others) | waiting)
                )
                if not hosts:
                    return []
                cond = and_(cond, m.Watch.host.in_(hosts))
            pick = select(m.Watch.id).where(cond).order_by(*order).limit(limit)
            ids = list(s.scalars(pick.with_for_update(skip_locked=True)))
            if not ids:
                return []
            s.execute(
                update(m.Watch)
                .where(m.Watch.id.in_(ids), free)
                .values(lease_owner=owner, lease_expires_at=now + lease)
                .execution_options(synchronize_session=False)
            )
            s.execute(delete(m.Waiter).where(m.Waiter.owner == owner))
            rows = s.execute(
                select(*_TASK_COLUMNS)
                .where(m.Watch.id.in_(ids), m.Watch.lease_owner == owner)
                .order_by(*order)
            ).all()
            return [_task(r) for r in rows]

    def crowded(self, owner: str, *, now: datetime, until: datetime) -> bool:
        """Whether another worker holds more hosts than its share, counting
        `owner`, which found none to take: it waits, registered until `until`
        (renewed at each ask), and the others leave it hosts at their next claim."""
        with self.db.session() as s:
            waiter = s.get(m.Waiter, owner)
            if waiter is None:
                s.add(m.Waiter(owner=owner, until=until))
            else:
                waiter.until = until
            everyone = _held(s, now)
            held = {o: h for o, h in everyone.items() if o != owner}
            if not held:
                return False
            taken = set().union(*held.values())
            due = and_(
                m.Watch.state.not_in(RESTING),
                m.Watch.next_check_at <= now,
                or_(m.Watch.lease_expires_at.is_(None), m.Watch.lease_expires_at < now),
                m.Watch.host.not_in(sorted(taken)),
            )
            if s.scalar(select(m.Watch.id).where(due).limit(1)) is not None:
                return True  # a host came free since the claim: worth another
            in_play = taken | everyone.get(owner, set())
            share = -(-len(in_play) // (1 + len(set(held) | _waiting(s, owner, now))))
            return any(len(h) > share for h in held.values())

    def waiters(self, *, now: datetime) -> list[str]:
        """Passes waiting for a share of the hosts (`crowded`)."""
        with self.db.session() as s:
            return sorted(_waiting(s, "", now))

    def stop_waiting(self, owner: str) -> None:
        with self.db.session() as s:
            s.execute(delete(m.Waiter).where(m.Waiter.owner == owner))

    def renew(self, owner: str, *, now: datetime, lease: timedelta) -> int:
        with self.db.session() as s:
            result = s.execute(
                update(m.Watch)
                .where(m.Watch.lease_owner == owner)
                .values(lease_expires_at=now + lease)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def release(self, owner: str) -> None:
        with self.db.session() as s:
            s.execute(delete(m.Waiter).where(m.Waiter.owner == owner))
            s.execute(
                update(m.Watch)
                .where(m.Watch.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            )

    def clock_ahead(self, clock: Callable[[], datetime]) -> timedelta | None:
        """How far `clock` runs ahead of the database server's (behind: below
        zero); None on SQLite, whose clock is this machine's."""
        if self.db.backend != "postgresql":
            return None
        with self.db.engine.connect() as conn:
            before = clock()
            server = postgres.server_time(conn)
            after = clock()
        ahead: timedelta = before + (after - before) / 2 - server
        return ahead

    def holders(self, *, now: datetime, due_only: bool = True) -> dict[str, int]:
        """Owners holding unexpired leases on (due) watches, with their counts."""
        cond = and_(
            m.Watch.lease_owner.is_not(None),
            m.Watch.lease_expires_at >= now,
            m.Watch.state.not_in(RESTING),
        )
        if due_only:
            cond = and_(cond, m.Watch.next_check_at <= now)
        with self.db.session() as s:
            rows = s.execute(
                select(m.Watch.lease_owner, func.count()).where(cond).group_by(m.Watch.lease_owner)
            ).all()
            return {str(owner): int(n) for owner, n in rows}

    def due_ids(self, *, now: datetime, limit: int) -> list[int]:
        """Ids of the watches due at `now`, soonest first (what a sweep would claim)."""
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(m.Watch.id)
                    .where(m.Watch.state.not_in(RESTING), m.Watch.next_check_at <= now)
                    .order_by(m.Watch.next_check_at, m.Watch.id)
                    .limit(limit)
                )
            )

    def count_due(self, *, now: datetime, due_only: bool = True) -> int:
        """Watches a pass would claim now (`due_only=False`: as `check --all` does)."""
        conds: list[ColumnElement[bool]] = [m.Watch.state.not_in(RESTING)]
        if due_only:
            conds.append(m.Watch.next_check_at <= now)
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).where(*conds)) or 0)
