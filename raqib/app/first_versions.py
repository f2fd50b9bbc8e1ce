"""A watch discovery adds starts from the page discovery fetched: that fetch
is recorded as its first check, through the recorder every pass uses."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from raqib.app.home import App, new_owner
from raqib.app.passes import revisit_policy
from raqib.config import parse_duration
from raqib.discovery.findings import Spool
from raqib.domain import Recorded, Task

log = logging.getLogger("raqib")


def first_versions(app: App, spool: Spool, kept: dict[int, str]) -> set[int]:
    """Record each new watch's page as discovery fetched it, as its first check:
    its version 1 (and its WARC record, its fetch log's first row). Checked
    later, a page edited meanwhile is the edit it is, not the first text.
    Returns the watches recorded; one claimed by a pass meanwhile, or whose
    recording fails, is left to its first check, as before."""
    from raqib.crawler.record import Recorder

    owner = new_owner()
    lease = parse_duration(app.config.schedule.lease)
    tasks = app.storage.leases.claim(
        owner, now=app.clock(), lease=lease, limit=len(kept), due_only=False, only=list(kept)
    )
    recorder = Recorder(app.storage, revisit_policy(app), tasks, owner=owner)
    stored: set[int] = set()

    def recorded(task: Task, done: Recorded) -> None:
        if done.version_number is not None:
            stored.add(task.watch_id)

    recorder.on_recorded = recorded

    async def record() -> None:
        for task in tasks:
            fetched = spool.take(kept[task.watch_id])
            await recorder.handle(dataclasses.replace(fetched, watch_id=task.watch_id))
        await recorder.close()

    try:
        asyncio.run(record())
    except Exception as exc:  # the watches are added: their first check fetches them
        log.error("discover: the first versions of new watches were not stored: %s", exc)
    finally:
        app.storage.leases.release(owner)
    if recorder.fatal is not None:
        log.error("discover: the first versions of new watches were not stored: %s", recorder.fatal)
    return stored
