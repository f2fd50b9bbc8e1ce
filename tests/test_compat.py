"""Overrides of Scrapy internals (crawler/compat.py) are pinned to the Scrapy
they were written for: when Scrapy moves, these fail and the override is
reviewed — kept, rewritten, or dropped once upstream is fixed."""

from __future__ import annotations

import pytest
import scrapy

from raqib.crawler import compat


def test_scrapy_is_the_version_the_overrides_were_written_for() -> None:
    assert scrapy.__version__.startswith(compat.WRITTEN_FOR + "."), (
        f"Scrapy {scrapy.__version__}: review crawler/compat.py (written for {compat.WRITTEN_FOR})"
    )


@pytest.mark.parametrize("override", sorted(compat.UPSTREAM))
def test_the_upstream_code_each_override_relies_on_is_unchanged(override: str) -> None:
    assert hasattr(compat, override)
    changed = [
        f"{func.__qualname__} ({compat.fingerprint(func)})"
        for func, expected in compat.UPSTREAM[override]
        if compat.fingerprint(func) != expected
    ]
    assert not changed, f"{override} relies on Scrapy code that changed: {changed}"


def test_the_crawl_uses_the_overrides() -> None:
    from raqib.crawler.run import build_settings

    s = build_settings({})
    assert s["DOWNLOADER"] == "raqib.crawler.compat.PoliteDownloader"
    mws = s.getdict("DOWNLOADER_MIDDLEWARES")
    assert mws["raqib.crawler.compat.RobotsTxt"] == 100
    assert mws["scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"] is None
