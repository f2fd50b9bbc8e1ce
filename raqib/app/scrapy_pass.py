"""`scrapy crawl pass`: one Raqib pass run by Scrapy itself, for shops that
already run Scrapy fleets (Scrapyd).

    scrapyd-deploy -p raqib                       # from the checkout (scrapy.cfg)
    curl http://scrapyd:6800/schedule.json -d project=raqib -d spider=pass -d home=/var/lib/raqib

The spider claims one batch of due watches (`schedule.claim_batch`) from the
home's database (RAQIB_DATABASE_URL or [storage] url: the shared PostgreSQL),
with the same leases as `raqib check`, fetches and records them, and when it
closes releases what it did not record, analyses the new versions and tells
the channels. Run by `raqib check`, it is the refetch spider and nothing more.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Self

from platformdirs import user_data_dir
from scrapy import signals
from scrapy.crawler import Crawler

from raqib import analysis
from raqib.app.claims import check_clock, claim, with_outlet_modes
from raqib.app.errors import ClockSkew, PassBusy
from raqib.app.home import new_owner, open_app
from raqib.app.notifications import notify_pass
from raqib.app.passes import crawl_settings, revisit_policy, robots_memory
from raqib.config import parse_duration
from raqib.crawler.capture import CaptureIndex
from raqib.crawler.context import PassContext, attach
from raqib.crawler.record import Recorder
from raqib.crawler.shards import with_browser
from raqib.crawler.spiders.refetch import RefetchSpider
from raqib.guard import Guard

log = logging.getLogger("raqib")


class PassSpider(RefetchSpider):
    name = "pass"

    @classmethod
    def from_crawler(
        cls, crawler: Crawler, *args: Any, home: str | None = None, **kwargs: Any
    ) -> Self:
        if getattr(crawler, "raqib_context", None) is None:
            _standalone(
                crawler,
                Path(
                    home or os.environ.get("RAQIB_HOME") or user_data_dir("raqib", appauthor=False)
                ),
            )
        return super().from_crawler(crawler, *args, **kwargs)


def _standalone(crawler: Crawler, home: Path) -> None:
    """Claim, and attach the pass context, before the crawl builds its components."""
    app = open_app(home.expanduser())
    owner = new_owner()
    try:
        check_clock(app, parse_duration(app.config.schedule.lease))
        # One batch, claimed at once: a job waits for no share of the sites
        # (it would hold a Scrapyd slot meanwhile); the next job takes them.
        tasks = claim(
            app, owner, all_watches=False, wait=False, wait_timeout=None,
            limit=app.config.schedule.claim_batch, patient=False, again=False,
        )  # fmt: skip
    except PassBusy as exc:
        log.info("%s: nothing to claim", exc)
        tasks = []
    except ClockSkew as exc:
        log.error("%s: nothing claimed", exc)
        tasks = []
    tasks = with_outlet_modes(app, tasks)
    guard = Guard(allow_private=app.config.fetch.allow_private)
    # This home's [fetch], [archive] and (for rendered watches) [render], under
    # whatever Scrapyd was told with -s.
    proxy, settings = with_browser(tasks, crawl_settings(app), guard)
    crawler.settings.setdict(settings, priority="spider")
    recorder = Recorder(app.storage, revisit_policy(app), tasks, owner=owner)
    lease = parse_duration(app.config.schedule.lease)
    robots = robots_memory(app)
    attach(
        crawler,
        PassContext(
            clock=app.clock,
            tasks=tasks,
            recorder=recorder,
            lease=lease,
            capture_index=CaptureIndex(app.storage.archive),
            guard=guard,
            robots=robots,
        ),
    )

    def closed() -> None:
        try:
            robots.save()  # before the home closes (the middleware's own save comes after)
            app.storage.leases.release(owner)  # whatever a stop left unrecorded
            changes = analysis.analyze_pending(
                app.storage,
                watches={w for w, number in recorder.new_versions if number > 1},
                before=app.clock() - lease,
            )
            analysis.upgrade_stale(app.storage)
            notify_pass(
                app, changes=[c for c, new in changes if new.fetch_id is not None],
                removed=recorder.removed_now,
                failing=recorder.failing_now,
            )  # fmt: skip
            log.info(
                "pass: checked %d watches, %s", len(tasks), dict(recorder.counts) or "nothing due"
            )
            if recorder.fatal is not None:
                log.error("pass stopped: %s (what it left unrecorded is due again)", recorder.fatal)
        finally:
            if proxy is not None:
                proxy.stop()
            app.close()

    crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)
