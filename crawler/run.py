"""Run one crawl in this process (Twisted's reactor runs once per process:
callers that need several crawls start several processes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from scrapy.crawler import AsyncCrawlerProcess
from scrapy.settings import Settings

from raqib.crawler import settings as project_settings
from raqib.crawler.record import Recorder
from raqib.crawler.spiders.refetch import RefetchSpider


def build_settings(overrides: dict[str, Any]) -> Settings:
    s = Settings()
    s.setmodule(project_settings, priority="project")
    s.update(overrides, priority="cmdline")
    return s


def run_spider(spidercls: type, overrides: dict[str, Any], **spider_kwargs: Any) -> dict[str, Any]:
    """Run one spider to completion in this process; returns Scrapy's stats."""
    s = build_settings(
        {
            **overrides,
            "LOG_INSTALL_ROOT_HANDLER": False,  # the CLI owns logging
            "SPIDER_MODULES": [],  # the class is given: importing every spider is wasted start-up
        }
    )
    process = AsyncCrawlerProcess(s)
    crawler = process.create_crawler(spidercls)
    process.crawl(crawler, **spider_kwargs)
    process.start()
    return dict(crawler.stats.get_stats()) if crawler.stats else {}


def crawl(
    tasks: list[Any],
    recorder: Recorder,
    *,
    clock: Callable[[], datetime],
    overrides: dict[str, Any],
    lease_seconds: float,
    capture_index: Any = None,
) -> dict[str, Any]:
    """Fetch every task once; the pipeline records each. Returns Scrapy's stats."""
    return run_spider(
        RefetchSpider,
        {**overrides, "RAQIB_LEASE_SECONDS": lease_seconds},
        tasks=tasks,
        clock=clock,
        recorder=recorder,
        capture_index=capture_index,
    )
