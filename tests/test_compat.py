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
    code = [(compat.upstream_code(ref), expected) for ref, expected in compat.UPSTREAM[override]]
    changed = [
        f"{func.__qualname__} ({compat.fingerprint(func)})"
        for func, expected in code
        if compat.fingerprint(func) != expected
    ]
    assert not changed, f"{override} relies on Scrapy code that changed: {changed}"


def test_the_crawl_uses_the_overrides() -> None:
    from raqib.crawler.run import build_settings

    s = build_settings({})
    assert s["DOWNLOADER"] == "raqib.crawler.compat.PoliteDownloader"
    mws = s.getwithbase("DOWNLOADER_MIDDLEWARES")
    assert mws["raqib.crawler.compat.RobotsTxt"] == 100
    assert "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware" not in mws
    # Neither cookies nor retries nor the HTTP cache, which would serve a stale copy.
    assert not {k for k in mws if k.rsplit(".", 2)[-2] in ("cookies", "retry", "httpcache")}


@pytest.mark.parametrize(("status", "lowered"), [(200, True), (304, True), (503, False)])
def test_a_304_paces_a_site_like_a_200(status: int, lowered: bool) -> None:
    """A site answering 304 Not Modified is paced by its latency, as one
    answering 200 is (Scrapy's AutoThrottle kept it at the start delay)."""
    from types import SimpleNamespace

    from scrapy.core.downloader import Slot
    from scrapy.http import Response
    from scrapy.signalmanager import SignalManager

    from raqib.crawler.run import build_settings

    crawler = SimpleNamespace(settings=build_settings({}), signals=SignalManager())
    throttle = compat.Throttle.from_crawler(crawler)  # type: ignore[arg-type]
    throttle.mindelay, throttle.maxdelay = throttle._min_delay(), throttle._max_delay()
    slot = Slot(concurrency=4, delay=0.25, jitter=0)
    for _ in range(5):
        throttle._adjust_delay(slot, 0.01, Response("http://example.test/a", status=status))
    assert (slot.delay < 0.05) is lowered
    assert slot.delay >= throttle.mindelay


def test_the_crawl_paces_sites_with_the_throttle_override() -> None:
    from raqib.crawler.run import build_settings

    ext = build_settings({}).getwithbase("EXTENSIONS")
    assert "raqib.crawler.compat.Throttle" in ext
    # Neither upstream's throttle nor an open telnet port, and nothing that
    # imports aiohttp into every crawler process.
    assert not {k for k in ext if "throttle.AutoThrottle" in k or "telnet" in k or "remote" in k}


def test_the_http_handler_is_imported_without_walking_the_stack() -> None:
    """Scrapy's TLS modules name their deprecated aliases by inspect.stack(),
    a tenth of a second on the way to every pass's first request. A crawl's
    imports make no such call, restore inspect.stack, and name the aliases
    as Scrapy does."""
    import subprocess
    import sys

    probe = (
        "import inspect, sys\n"
        "calls = []\n"
        "real = inspect.stack\n"
        "def counted(context=1):\n"
        "    calls.append(1)\n"
        "    return real(context)[1:]  # as if called directly\n"
        "inspect.stack = counted\n"
        "import raqib.crawler.run\n"
        "from scrapy.core.downloader import contextfactory, tls\n"
        "assert inspect.stack is counted\n"
        "print(len(calls), tls.ScrapyClientTLSOptions.__module__,\n"
        "      contextfactory.ScrapyClientContextFactory.__module__,\n"
        "      contextfactory.AcceptableProtocolsContextFactory.__module__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-P", "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == [
        "0",
        "scrapy.core.downloader.tls",
        "scrapy.core.downloader.contextfactory",
        "scrapy.core.downloader.contextfactory",
    ]
