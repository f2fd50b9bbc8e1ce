"""What the forkserver imports before it forks crawler processes.

Every crawler process of a pass (the outlet read, each shard, each
extraction worker) is forked from one forkserver, so whatever it imported is
paid once per pass, not once per process: Scrapy, the spiders, trafilatura,
and the components Scrapy would otherwise load by name in each crawler.
"""

from __future__ import annotations

import importlib

from raqib import loading

MODULES = (
    "raqib.crawler.shards",
    "raqib.crawler.spiders.outlets",
    "raqib.crawler.spiders.refetch",
    "raqib.extract.page",  # lxml, the region check
    "raqib.extract.article",  # trafilatura: imported once here, not in each crawler process
)
_COMPONENTS = ("DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS", "ITEM_PIPELINES")
_OBJECTS = ("DOWNLOADER", "SCHEDULER", "STATS_CLASS", "DUPEFILTER_CLASS", "LOG_FORMATTER")


def _warm() -> None:
    """Import the modules, then what the crawl loads by name (best effort:
    anything that fails here fails again, loudly, in the crawl that needs it)."""
    for name in MODULES:
        importlib.import_module(name)
    from scrapy.utils.misc import load_object

    from raqib.crawler.run import build_settings

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


# No collections while importing, and what was imported frozen: it stays
# shared with every crawler process forked from here, where a collection no
# longer writes to these objects' headers (which copied their pages into each
# child: 10 MB a process, and climbing, in a crawler process that lives for
# the whole pass). Python's docs advise it before forking without exec. The
# collections that imports of this size set off were a sixth of the
# forkserver's start-up (importing this module: 0.76-0.91 s without them,
# 0.93-1.18 s with), which a split pass waits for before its first fetch.
loading.own_process()
with loading.importing():
    _warm()
