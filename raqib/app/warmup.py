"""Crawler processes made ready before a pass knows it needs them, and
stopped once it knows it does not.

A pass that splits across crawler processes forks them from a forkserver,
which first imports Scrapy, trafilatura and the spiders: about a second of one
core. Started when `raqib check` begins, that second overlaps the pass's own
imports, its storage and its claim, instead of following them. The pass
cannot know its size before it has imported SQLAlchemy and asked the
database, so this goes by the home's last whole pass (`last-pass.json`): if
that one split, this one starts the forkserver at once. A wrong guess costs
the forkserver's CPU on another core, not time: the pass stops it as soon as
its last batch runs in one process. A pass whose due count already makes a
split certain starts it before reading the outlets' feeds. The module imports
nothing heavy.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from raqib.app.home import App

log = logging.getLogger("raqib")

HINT = "last-pass.json"


def before_pass(home: Path, *, limit: int | None) -> bool:
    """Start the forkserver now if the last whole pass in `home` split across
    processes (a pass capped by --limit does not guess); whether it started."""
    if limit is not None:
        return False
    try:
        last = json.loads((home / HINT).read_text(encoding="utf-8"))
        processes = int(last["processes"])
    except (OSError, ValueError, KeyError, TypeError):
        return False  # no whole pass yet, or a hint from elsewhere: no guess
    if processes < 2:
        return False
    log.info(
        "the last pass here ran in %d crawler processes: starting their forkserver now", processes
    )
    from raqib.crawler import pool

    pool.warm()
    return True


def after_pass(home: Path, *, processes: int, claimed: int) -> None:
    """Remember how many processes this whole pass ran in, for the next one."""
    path = home / HINT
    tmp = path.with_name(f".{HINT}.{os.getpid()}")
    try:
        tmp.write_text(json.dumps({"processes": processes, "claimed": claimed}), encoding="utf-8")
        os.replace(tmp, path)  # a reader sees the old hint or the new one, never half
    except OSError as exc:
        log.debug("could not write %s: %s", path, exc)  # only a guess is lost


def before_feeds(app: App, *, all_watches: bool, limit: int | None) -> None:
    """A pass that will surely split across crawler processes starts their
    forkserver before the outlets' feeds are read, so that its imports overlap
    the read instead of following it."""
    from raqib.crawler import shards

    due = app.storage.leases.count_due(now=app.clock(), due_only=not all_watches)
    due = due if limit is None else min(due, limit)
    if shards.certain(due, app.config.schedule.claim_batch, app.config.fetch.processes):
        from raqib.crawler import pool

        pool.warm()


def stop() -> None:
    """End the forkserver, if this process started one (on a guess or for a crawl)."""
    pool = sys.modules.get("raqib.crawler.pool")  # imported only if something started it
    if pool is not None:
        pool.stop()
