"""How workers share the sites: one worker at a time fetches a host.

Each worker keeps `fetch.per_domain` alone, so two on one site at once would
double it. A sweep's claim (storage.leases) therefore takes no watch on a
host another worker holds a lease on and, beside other sweepers, no more than
its share of the hosts. Sweepers are the passes that will claim again: each
registers while it sweeps or waits for a share (the `sweepers` table), so a
pass that named its watches (`check ID`, `check --all`, `watch URL`), claims
one batch (Scrapyd), or took its last, keeps its hosts but leaves the others
every other one: its hosts count in no one's share. A worker reading a site
outside its watches' leases (an outlet's feeds) holds it too (`site_holds`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from raqib.storage import models as m


def fair_hosts(open_: set[str], mine: set[str], theirs: set[str], *, workers: int) -> list[str]:
    """The hosts a claim may take, among `open_` (due watches, no other worker
    on them): its share of the hosts in play (`open_`, its own, the other
    sweepers'), `workers` sweepers counting itself, less the hosts it holds
    with nothing more to take. Its own first, then by name, so that it keeps
    the same ones claim after claim and lets the rest drain to the others."""
    share = -(-len(open_ | mine | theirs) // workers)
    room = share - len(mine - open_)
    return sorted(open_, key=lambda h: (h not in mine, h))[: max(room, 0)]


def held(s: Session, now: datetime) -> dict[str, set[str]]:
    """Each worker's hosts: those of the watches it holds unexpired leases on,
    and those it reads outside them (an outlet's sources: `hold`)."""
    out: dict[str, set[str]] = {}
    rows = s.execute(
        select(m.Watch.lease_owner, m.Watch.host)
        .where(m.Watch.lease_owner.is_not(None), m.Watch.lease_expires_at >= now)
        .distinct()
    )
    reads = s.execute(select(m.SiteHold.owner, m.SiteHold.host).where(m.SiteHold.until >= now))
    for owner, host in (*rows, *reads):
        out.setdefault(str(owner), set()).add(host)
    return out


def hold(s: Session, owner: str, hosts: set[str], now: datetime, *, until: datetime) -> None:
    """Hold `hosts` for `owner` until `until`, outside any watch's lease. Holds
    run out by more than their lifetime are deleted: their reader died."""
    s.execute(delete(m.SiteHold).where(m.SiteHold.until < now - (until - now)))
    s.execute(delete(m.SiteHold).where(m.SiteHold.owner == owner, m.SiteHold.host.in_(hosts)))
    if hosts:
        s.execute(insert(m.SiteHold), [{"owner": owner, "host": h, "until": until} for h in hosts])


def let_go(s: Session, owner: str) -> None:
    s.execute(delete(m.SiteHold).where(m.SiteHold.owner == owner))


def sweepers(s: Session, now: datetime, *, besides: str = "") -> set[str]:
    """The passes sweeping, or waiting to, other than `besides`."""
    fresh = and_(m.Sweeper.until >= now, m.Sweeper.owner != besides)
    return set(s.scalars(select(m.Sweeper.owner).where(fresh)))


def register(s: Session, owner: str, now: datetime, *, until: datetime) -> None:
    """Register `owner` until `until`. Rows run out by more than that lifetime
    are deleted: passes gone without a word (the margin covers the skew
    between two workers' clocks, a third of a lease at most)."""
    s.execute(delete(m.Sweeper).where(m.Sweeper.until < now - (until - now)))
    # Statements, not the ORM's read-then-write: another pass may delete the row in between.
    found = s.execute(update(m.Sweeper).where(m.Sweeper.owner == owner).values(until=until))
    if not getattr(found, "rowcount", 0):
        s.execute(insert(m.Sweeper).values(owner=owner, until=until))


def leave(s: Session, owner: str) -> None:
    s.execute(delete(m.Sweeper).where(m.Sweeper.owner == owner))


def crowded(s: Session, owner: str, now: datetime, due: ColumnElement[bool]) -> bool:
    """Whether `owner`, which found no host to take, may get one by waiting:
    a host came free (`due`: the due, free watches), or another sweeper holds
    more than its share."""
    everyone = held(s, now)
    taken = set().union(*(h for o, h in everyone.items() if o != owner))
    free = and_(due, m.Watch.host.not_in(sorted(taken))) if taken else due
    if s.scalar(select(m.Watch.id).where(free).limit(1)) is not None:
        return True
    others = sweepers(s, now, besides=owner)
    in_play = set().union(*(everyone.get(o, set()) for o in others), everyone.get(owner, set()))
    share = -(-len(in_play) // (1 + len(others)))
    return any(len(everyone.get(o, set())) > share for o in others)


def blocked(s: Session, owner: str, now: datetime, due: ColumnElement[bool]) -> dict[str, int]:
    """The due, free watches on hosts other workers hold, by holder: what
    `owner`'s sweep left because another worker is on that site."""
    out: dict[str, int] = {}
    for other, hosts in held(s, now).items():
        if other != owner:
            cond = and_(due, m.Watch.host.in_(sorted(hosts)))
            n = int(s.scalar(select(func.count()).where(cond)) or 0)
            if n:
                out[other] = n
    return out
