"""A watch discovery adds starts from the page discovery fetched: that fetch
is recorded as its first check, through the recorder every pass uses.

Candidates' fetches wait for judging in a spool: a private directory in the
home (on disk, where /tmp may be memory), compressed, one file a fetch."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from raqib.app.home import App, new_owner
from raqib.app.passes import revisit_policy
from raqib.config import parse_duration
from raqib.discovery.findings import Spool
from raqib.domain import Recorded, Task

log = logging.getLogger("raqib")

SPOOL_PREFIX = ".raqib-discovery-"
STALE_SPOOL = 24 * 3600  # seconds: a spool this old is a run's that died (runs take minutes)


@contextmanager
def spooling(home: Path) -> Iterator[Spool]:
    """A run's spool, removed when it ends; one a run that died left behind is
    removed here, once it is a day old."""
    for old in home.glob(SPOOL_PREFIX + "*"):
        try:
            if time.time() - old.stat().st_mtime > STALE_SPOOL:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    with tempfile.TemporaryDirectory(prefix=SPOOL_PREFIX, dir=home) as spooled:
        yield Spool(Path(spooled))


def first_versions(app: App, spool: Spool, kept: dict[int, str]) -> set[int]:
    """Record each new watch's page as discovery fetched it, as its first check:
    its version 1 (and its WARC record, its fetch log's first row). Checked
    later, a page edited meanwhile is the edit it is, not the first text.
    Returns the watches recorded. One a pass claimed or checked meanwhile, one
    fetched through a browser (its first check renders it), or one whose
    recording fails is left to its first check, as before: never an error of
    the discovery run, whose watches are stored already."""
    owner = new_owner()
    stored: set[int] = set()
    try:
        _record(app, spool, kept, owner, stored)
    except Exception as exc:
        log.error("discover: the first versions of new watches were not stored: %s", exc)
    finally:
        try:
            app.storage.leases.release(owner)
        except Exception as exc:  # the leases lapse on their own
            log.warning("discover: could not release the new watches' leases: %s", exc)
    return stored


def _record(app: App, spool: Spool, kept: dict[int, str], owner: str, stored: set[int]) -> None:
    from raqib.crawler.record import Recorder

    lease = parse_duration(app.config.schedule.lease)
    claimed = app.storage.leases.claim(
        owner, now=app.clock(), lease=lease, limit=len(kept), due_only=False, only=list(kept)
    )
    # Claimed now, and still without a version: a pass may have checked it since it was added.
    tasks = [t for t in claimed if t.version_count == 0 and not (t.render or t.screenshot)]
    recorder = Recorder(app.storage, revisit_policy(app), tasks, owner=owner)

    def recorded(task: Task, done: Recorded) -> None:
        if done.version_number is not None:
            stored.add(task.watch_id)

    recorder.on_recorded = recorded

    async def record() -> None:
        for task in tasks:
            fetched = spool.take(kept[task.watch_id])
            await recorder.handle(dataclasses.replace(fetched, watch_id=task.watch_id))
        await recorder.close()

    asyncio.run(record())
    if recorder.fatal is not None:
        log.error("discover: the first versions of new watches were not stored: %s", recorder.fatal)
