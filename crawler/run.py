"""Run a crawl in this process: one after another on one reactor (see
crawler.session); child processes only where the cores are wanted."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.settings import Settings

from raqib.crawler import compat
from raqib.crawler import settings as project_settings
from raqib.crawler.context import PassContext

# Every crawl goes through this module (a pass's own, its crawler processes',
# the forkserver's warm-up), and every crawl needs the HTTP handler.
compat.import_http_handler()
compat.bound_response_headers()


def build_settings(overrides: dict[str, Any]) -> Settings:
    s = Settings()
    s.setmodule(project_settings, priority="project")
    s.update(overrides, priority="cmdline")
    return s


def run_spider(
    spidercls: type, overrides: dict[str, Any], context: PassContext, *, alone: bool = False
) -> dict[str, Any]:
    """Run one spider to completion in this process; returns Scrapy's stats.

    `alone`: this process crawls once and ends (a crawler process of a large
    pass), so Scrapy's own process runs it, signal handling included; else
    the crawl runs on this process's session, after any crawl before it.
    The pass context is attached before the crawl creates its components,
    and nowhere else.
    """
    s = build_settings(
        {
            **overrides,
            "LOG_INSTALL_ROOT_HANDLER": False,  # the CLI owns logging
            "SPIDER_MODULES": [],  # the class is given: importing every spider is wasted start-up
        }
    )
    if alone:
        from raqib.crawler.context import attach

        process = crawler_process(s)
        crawler = process.create_crawler(spidercls)
        attach(crawler, context)
        process.crawl(crawler)
        process.start()
    else:
        from raqib.crawler.session import session

        crawler = session(s).crawl(spidercls, s, context)
    try:
        return dict(crawler.stats.get_stats())
    except RuntimeError:  # a crawl stopped by a signal before it started has no stats
        return {}


def crawler_process(settings: Settings) -> Any:
    """Scrapy's own process, for a crawler process's one crawl, logging at the
    level the console chose (console.setup)."""
    from raqib.crawler.compat import StoppingProcess

    process = StoppingProcess(settings)
    # Its logging setup opened the "scrapy" loggers at DEBUG: a record made for
    # every request, response and item, for the handler to drop. Back to the
    # root's level, as in the pass's own process.
    logging.getLogger("scrapy").setLevel(logging.NOTSET)
    return process


def collect(spidercls: type, overrides: dict[str, Any], context: PassContext) -> list[Any]:
    """Run a collecting spider and return what it yielded."""
    context.collector = []
    run_spider(spidercls, overrides, context)
    return context.collector
