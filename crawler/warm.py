"""What the forkserver imports before it forks crawler processes.

Every crawler process of a pass (the outlet read, each shard, each
extraction worker) is forked from one forkserver, so whatever it imported is
paid once per pass, not once per process: Scrapy, the spiders, trafilatura,
and the components Scrapy would otherwise load by name in each crawler.
"""

from __future__ import annotations

import gc

from scrapy.utils.misc import load_object

import raqib.crawler.shards
import raqib.crawler.spiders.outlets
import raqib.crawler.spiders.refetch
import raqib.extract.page  # noqa: F401  (trafilatura, lxml)
from raqib.crawler.run import build_settings

_COMPONENTS = ("DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS", "ITEM_PIPELINES")
_OBJECTS = ("DOWNLOADER", "SCHEDULER", "STATS_CLASS", "DUPEFILTER_CLASS", "LOG_FORMATTER")


def _warm() -> None:
    """Import what the crawl loads by name. Best effort: anything that fails
    here fails again, loudly, in the crawl that needs it."""
    s = build_settings({})
    paths = [p for name in _COMPONENTS for p in s.getwithbase(name)]
    paths += [p for p in s.getwithbase("DOWNLOAD_HANDLERS").values() if p]
    paths += [s.get(name) for name in _OBJECTS]
    for path in paths:
        if isinstance(path, str):
            try:
                load_object(path)
            except Exception:
                continue


_warm()
# What was imported stays shared with every crawler process forked from here:
# a garbage collection in a child no longer writes to these objects' headers
# (which copied their pages into each child: 10 MB a process, and climbing,
# in a crawler process that lives for the whole pass). Python's docs advise it
# before forking without exec.
gc.freeze()
