"""A pass's claims: the due watches it leases, batch after batch.

Leases live in the database (storage.leases), so any number of passes on any
number of machines share the watches without handing one out twice.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from raqib.app.errors import ClockSkew, PassBusy
from raqib.app.home import App, owner_alive
from raqib.clock import Frozen
from raqib.config import format_duration, parse_duration
from raqib.domain import Task
from raqib.storage import Storage

log = logging.getLogger("raqib")


# Within this of the database's clock, any two workers are within a third of a
# lease of each other: a lease renewed every third of its length never looks
# expired to another worker while its pass runs.
SKEW_LIMIT = 1 / 6
SKEW_WARNING = timedelta(seconds=30)
SHARE_WAIT = 1 / 3


def check_clock(app: App, lease: timedelta) -> None:
    """Leases and due times are read on each worker's own clock. One far from
    the database's would take other workers' live leases as expired (ahead),
    or have its own taken while it works (behind): it refuses to claim."""
    problem, how = clock_problem(app, lease * SKEW_LIMIT)
    if problem is not None:
        raise ClockSkew(problem)
    if how is not None:
        log.warning("this machine's clock is %s: keep it in time (NTP)", how)


def clock_problem(app: App, limit: timedelta) -> tuple[str | None, str | None]:
    """(Why this machine's clock is too far from the database server's, when
    over `limit`; how far it is, when past SKEW_WARNING), each or None."""
    if isinstance(app.clock, Frozen):
        return _frozen_problem(app, limit), None  # RAQIB_NOW: a time chosen on purpose
    ahead = app.storage.leases.clock_ahead(app.clock)
    if ahead is None or abs(ahead) <= min(SKEW_WARNING, limit):
        return None, None
    side = "ahead of" if ahead > timedelta(0) else "behind"
    how = f"{abs(ahead).total_seconds():.0f} s {side} the database server's"
    if abs(ahead) <= limit:
        return None, how
    return (
        f"this machine's clock is {how}: workers need theirs within {format_duration(limit)} "
        "of it, or they take each other's work. Set the time right on whichever is wrong (NTP "
        "on both, e.g. `timedatectl set-ntp true`) and run again"
    ), how


def _frozen_problem(app: App, limit: timedelta) -> str | None:
    """RAQIB_NOW far from the database server's clock, while other workers
    hold leases there or sweep: their live leases would look expired to this
    pass, which would take their watches and fetch their sites beside them."""
    ahead = app.storage.leases.clock_ahead(app.clock)
    if ahead is None or abs(ahead) <= limit:
        return None
    server_now = app.clock() - ahead
    leases = app.storage.leases
    if not (leases.holders(now=server_now, due_only=False) or leases.sweepers(now=server_now)):
        return None  # alone on the database: the time it asks for is its own business
    side = "ahead of" if ahead > timedelta(0) else "behind"
    return (
        f"RAQIB_NOW is {abs(ahead).total_seconds():.0f} s {side} the database server's clock, "
        "and other workers are at work on this database: their leases would look expired "
        "to this pass. Unset RAQIB_NOW here, or use it on a database of its own"
    )


def reap_dead_leases(storage: Storage, now: datetime) -> None:
    for owner in storage.leases.holders(now=now, due_only=False):
        if not owner_alive(owner):
            log.info("releasing watches leased by dead process %s", owner)
            storage.leases.release(owner)
    for owner in storage.leases.sweepers(now=now):
        if not owner_alive(owner):  # counted as a sweeper, it would keep the others to a share
            storage.leases.stop_waiting(owner)
    for owner in storage.leases.readers(now=now):
        if not owner_alive(owner):  # it would keep its sites from the others' sweeps
            storage.leases.let_go(owner)


def claim(
    app: App,
    owner: str,
    *,
    all_watches: bool,
    wait: bool,
    wait_timeout: float | None,
    limit: int,
    only: list[int] | None = None,
    patient: bool = True,
    again: bool = True,
) -> list[Task]:
    """A pass's first claim: due watches, or PassBusy / a wait while another
    pass holds them (`patient`: a sweep may wait for a share of the sites;
    `again`: the pass may claim more after, storage.leases)."""
    lease = parse_duration(app.config.schedule.lease)
    deadline = None if wait_timeout is None else time.monotonic() + wait_timeout
    leases = app.storage.leases
    # A sweep that finds every due site held by others may wait this long for
    # them to leave it some (storage.sharing); a third of a lease, so that a
    # waiter that died stops counting before anyone's lease runs out.
    share_deadline = time.monotonic() + (lease * SHARE_WAIT).total_seconds()
    sweep = not all_watches and only is None
    told = False
    while True:
        now = app.clock()
        reap_dead_leases(app.storage, now)
        held = leases.holders(now=now, due_only=not all_watches, only=only)  # named: theirs alone
        holders = {o: n for o, n in held.items() if o != owner}
        sites = False
        if not (wait and holders):
            tasks = leases.claim(
                owner,
                now=now,
                lease=lease,
                limit=limit,
                due_only=not all_watches,
                after_id=0 if all_watches else None,
                only=only,
                again=again,
            )
            if tasks:
                return tasks
            sites = sweep and not holders
            if sites:  # due watches left on sites others hold
                holders = leases.blocked(owner, now=now)
            if not holders:
                leases.stop_waiting(owner)
                return []
        if wait:
            # Waiting means waiting for the other pass to end, not taking the
            # watches it has finished with one by one while it still runs.
            if deadline is not None and time.monotonic() > deadline:
                raise PassBusy(holders, sites=sites)
            time.sleep(1.0)  # polling the database is the lock wait: leases live there
            continue
        if (
            sweep
            and patient
            and time.monotonic() < share_deadline
            and leases.crowded(owner, now=now, until=now + lease * SHARE_WAIT)
        ):
            if not told:
                log.info("waiting for other workers to leave this pass some of their sites")
                told = True
            time.sleep(1.0)  # as above: the claims live in the database
            continue
        leases.stop_waiting(owner)
        raise PassBusy(holders, sites=sites)


def with_outlet_modes(app: App, tasks: list[Task]) -> list[Task]:
    """[outlets.NAME] render and screenshots, on the watches of that outlet."""
    per = app.config.outlets.per
    modes = {
        o.id: (s.render, s.screenshots)
        for o in app.storage.outlets.all()
        if (s := per.get(o.name)) is not None and (s.render or s.screenshots)
    } if any(s.render or s.screenshots for s in per.values()) else {}  # fmt: skip
    if not modes:
        return tasks
    out = []
    for t in tasks:
        render, shots = modes.get(t.outlet_id, (False, False)) if t.outlet_id else (False, False)
        out.append(
            dataclasses.replace(t, render=t.render or render, screenshot=t.screenshot or shots)
        )
    return out


class Claims:
    """A pass's batches of due watches, each claimed when the last is in hand."""

    def __init__(
        self,
        app: App,
        owner: str,
        *,
        all_watches: bool,
        limit: int | None,
        only: list[int] | None,
        on_start: Callable[[int], None] | None,
    ) -> None:
        self.app, self.owner = app, owner
        self.claimed = 0
        self.all_watches, self.limit, self.only, self.on_start = all_watches, limit, only, on_start
        batch = app.config.schedule.claim_batch
        self.size = batch if limit is None else min(batch, limit)
        self.last: list[Task] = []  # the last batch claimed
        self.held: list[Task] = []  # claimed, set aside for a crawl with a browser

    def first(self, *, wait: bool, wait_timeout: float | None) -> list[Task]:
        return self._took(
            claim(
                self.app, self.owner, all_watches=self.all_watches, wait=wait,
                wait_timeout=wait_timeout, limit=self.size, only=self.only,
            )
        )  # fmt: skip

    @property
    def full(self) -> bool:
        """The last batch was full, or cut short by its share of the sites
        (storage.sharing): more may be due."""
        return len(self.last) == self.size or bool(getattr(self.last, "cut", False))

    def next(self) -> list[Task]:
        """What was held back for a browser, else the next batch; [] when the
        last batch held everything due, or the limit is reached."""
        if self.held:
            held, self.held = self.held, []
            return held
        left = self.size if self.limit is None else min(self.size, self.limit - self.claimed)
        leases = self.app.storage.leases
        if not self.full or left <= 0:
            # It claims no more (a pass that reached its --limit registered
            # with its last batch: until here): its sites count in no share.
            leases.stop_waiting(self.owner)
            return []
        batch = leases.claim(
            self.owner,
            now=self.app.clock(),
            lease=parse_duration(self.app.config.schedule.lease),
            limit=left,
            due_only=not self.all_watches,
            after_id=self.last[-1].watch_id if self.all_watches else None,
            only=self.only,
        )
        if not batch and not batch.cut:
            leases.stop_waiting(self.owner)
        return self._took(batch)

    def plain(self) -> list[Task]:
        """The next batch, for crawler processes that started without a
        browser: [] once it holds watches that want one, which are held back
        for a crawl of their own (the processes end; the pass goes on after)."""
        if self.held:
            return []
        batch = self.next()
        self.held = [t for t in batch if t.render or t.screenshot]
        return [t for t in batch if not (t.render or t.screenshot)] if self.held else batch

    def _took(self, tasks: list[Task]) -> list[Task]:
        self.last = tasks
        self.claimed += len(tasks)
        if tasks and self.on_start is not None:
            self.on_start(self.claimed)
        return interleaved(with_outlet_modes(self.app, tasks))


def interleaved(tasks: list[Task]) -> list[Task]:
    """A batch in turns, one watch of each outlet (watches added by hand
    together one more) at a time, each in its order: an outlet that listed
    hundreds of pages on slow hosts held another's new articles behind them
    for minutes (their first captures, the versions a silent edit is
    caught against)."""
    groups: dict[int | None, list[Task]] = {}
    for t in tasks:
        groups.setdefault(t.outlet_id, []).append(t)
    if len(groups) < 2:
        return tasks
    turns = itertools.zip_longest(*groups.values())
    return [t for turn in turns for t in turn if t is not None]
