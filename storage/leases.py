"""Claims on watches: which worker checks which watch, until when.

Work is claimed per watch with a lease that expires, so several workers
(cron passes, the daemon, other machines) can share one database: a pass
renews its leases while it runs and a crashed one loses them on expiry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.sql.elements import ColumnElement

from raqib import urls
from raqib.domain import RESTING_STATES, Task
from raqib.storage import models as m
from raqib.storage import postgres, sharing
from raqib.storage.db import Database, free, lease_rows, rowcount

# A watch in one of these states is never claimed.
RESTING = [s.value for s in RESTING_STATES]

_TASK_COLUMNS = (
    m.Watch.id, m.Watch.url, m.Watch.etag, m.Watch.last_modified, m.Watch.body_key,
    m.Watch.content_hash, m.Watch.state, m.Watch.version_count, m.Watch.words, m.Watch.added_at,
    m.Watch.last_change_at, m.Watch.error_count, m.Watch.removed_count, m.Watch.replacements,
    m.Watch.region, m.Watch.meta, m.Watch.origin, m.Watch.outlet_id, m.Watch.render,
    m.Watch.screenshots, m.Watch.found_via, m.Watch.host,
)  # fmt: skip


def _fill_hosts(s: Any, rows: list[tuple[int, str]]) -> None:
    """Give watches an older Raqib added after 0010 (its host column's default,
    "") their host, as they are claimed: one site's are one site again."""
    for wid, url in rows:
        if host := urls.host(url):
            s.execute(update(m.Watch).where(m.Watch.id == wid).values(host=host))


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
        found_via=r.found_via,
    )


class Claimed(list[Task]):
    """A claim's watches; `cut`: its share of the hosts stopped it short of
    its limit, so more may be due for it (storage.sharing)."""

    cut = False


def _due(now: datetime) -> ColumnElement[bool]:
    """Watches a sweep at `now` would take, whoever's site they are on."""
    return and_(m.Watch.state.not_in(RESTING), m.Watch.next_check_at <= now, free(m.Watch, now))


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
        again: bool = True,
    ) -> Claimed:
        """Lease up to `limit` due watches to `owner`; never one another holds,
        nor one `owner` holds already: a pass claims its next batch while it
        still fetches the last, whose watches are due until recorded.

        A sweep (due watches, neither `after_id` nor `only`) takes none on a
        host another worker holds a lease on, and beside other sweepers no
        more than its share of the hosts (storage.sharing).

        `again`: the pass may claim after this batch (False: a Scrapyd job's
        one batch). A sweep that may, and whose batch is full or cut short by
        its share, registers as a sweeper; one whose batch is neither (nor
        empty) leaves the registry: it took its last. An empty batch leaves
        the registration to the caller.

        With `after_id`, only watches with a larger id, in id order: how a pass
        over every watch (`check --all`) takes each once, batch after batch.
        It and `only` (watches named by the user) take what they name on any
        host: skipped, a watch would go unchecked, as no other worker has it.
        """
        cond = and_(m.Watch.state.not_in(RESTING), free(m.Watch, now))
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
        # win a watch, nor both claim a host.
        out = Claimed()
        with self.db.session() as s:
            if self.db.backend == "postgresql":
                postgres.lock_for_claims(s.connection())
            held = sharing.held(s, now) if sweep else {}
            taken = set().union(*(h for o, h in held.items() if o != owner))
            if taken:
                cond = and_(cond, m.Watch.host.not_in(sorted(taken)))
            others = sharing.sweepers(s, now, besides=owner) if sweep else set()
            if others:
                # Shared among the sweepers: the sites they hold or may take. A
                # pass that will not claim again keeps its sites out of the count.
                open_ = set(s.scalars(select(m.Watch.host).where(cond).distinct()))
                theirs = set().union(*(held.get(o, set()) for o in others))
                hosts = sharing.fair_hosts(
                    open_, held.get(owner, set()), theirs, workers=1 + len(others)
                )
                out.cut = len(hosts) < len(open_)
                cond = and_(cond, m.Watch.host.in_(hosts))
            pick = select(m.Watch.id).where(cond).order_by(*order).limit(limit)
            ids = list(s.scalars(pick.with_for_update(skip_locked=True)))
            if ids:
                lease_rows(s, m.Watch, ids, owner, now=now, until=lease)
                rows = s.execute(
                    select(*_TASK_COLUMNS)
                    .where(m.Watch.id.in_(ids), m.Watch.lease_owner == owner)
                    .order_by(*order)
                ).all()
                out.extend(_task(r) for r in rows)
                _fill_hosts(s, [(r.id, r.url) for r in rows if not r.host])
            if sweep and again and (out.cut or len(out) == limit):
                sharing.register(s, owner, now, until=now + lease / 2)  # it will claim again
            elif sweep and out:
                sharing.leave(s, owner)  # its last batch: it leaves the others the rest
            return out

    def crowded(self, owner: str, *, now: datetime, until: datetime) -> bool:
        """Whether `owner`, whose sweep found no host to take, may get one by
        waiting: it registers as a sweeper until `until` (renewed at each ask),
        so that the others leave it hosts at their next claim."""
        with self.db.session() as s:
            sharing.register(s, owner, now, until=until)
            return sharing.crowded(s, owner, now, _due(now))

    def blocked(self, owner: str, *, now: datetime) -> dict[str, int]:
        """Due watches a sweep by `owner` leaves, by the worker on their site."""
        with self.db.session() as s:
            return sharing.blocked(s, owner, now, _due(now))

    def sweepers(self, *, now: datetime) -> list[str]:
        """Passes sweeping, or waiting for a share of the hosts."""
        with self.db.session() as s:
            return sorted(sharing.sweepers(s, now))

    def stop_waiting(self, owner: str) -> None:
        with self.db.session() as s:
            sharing.leave(s, owner)

    def renew(self, owner: str, *, now: datetime, lease: timedelta) -> set[int]:
        """Extend `owner`'s leases that have not run out; the ids of the watches
        it still holds. One that has run out is left as it is: another worker
        may have taken its watch, or that site, since."""
        with self.db.session() as s:
            held = s.scalars(
                update(m.Watch)
                .where(m.Watch.lease_owner == owner, m.Watch.lease_expires_at >= now)
                .values(lease_expires_at=now + lease)
                .returning(m.Watch.id)
                .execution_options(synchronize_session=False)
            ).all()
            s.execute(
                update(m.Sweeper).where(m.Sweeper.owner == owner).values(until=now + lease / 2)
            )
            return set(held)

    def held(self, owner: str) -> int:
        """Watches `owner` still holds, its lease run out or not (what release frees)."""
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).where(m.Watch.lease_owner == owner)) or 0)

    def release(self, owner: str) -> None:
        with self.db.session() as s:
            sharing.leave(s, owner)
            sharing.let_go(s, owner)
            s.execute(
                update(m.Watch)
                .where(m.Watch.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            )

    def renew_holds(self, owner: str, *, now: datetime, lease: timedelta) -> int:
        """Renew `owner`'s live site holds (storage.sharing); how many it had.
        One that ran out is left: another worker may have taken its site."""
        with self.db.session() as s:
            return rowcount(
                s.execute(
                    update(m.SiteHold)
                    .where(m.SiteHold.owner == owner, m.SiteHold.until >= now)
                    .values(until=now + lease)
                    .execution_options(synchronize_session=False)
                )
            )

    def let_go(self, owner: str) -> None:
        """End `owner`'s holds on the sites it read outside any lease."""
        with self.db.session() as s:
            sharing.let_go(s, owner)

    def readers(self, *, now: datetime) -> list[str]:
        """Owners holding sites they read outside any lease (storage.sharing)."""
        with self.db.session() as s:
            q = select(m.SiteHold.owner).where(m.SiteHold.until >= now).distinct()
            return sorted(s.scalars(q))

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

    def holders(
        self, *, now: datetime, due_only: bool = True, only: Sequence[int] | None = None
    ) -> dict[str, int]:
        """Owners holding unexpired leases on (due) watches (of `only`), with their counts."""
        cond = and_(
            m.Watch.lease_owner.is_not(None),
            m.Watch.lease_expires_at >= now,
            m.Watch.state.not_in(RESTING),
        )
        if due_only:
            cond = and_(cond, m.Watch.next_check_at <= now)
        if only is not None:
            cond = and_(cond, m.Watch.id.in_(list(only)))
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
