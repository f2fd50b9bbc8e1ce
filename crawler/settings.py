"""Scrapy settings for Raqib. Static choices here; the user's raqib.toml
arrives through `from_config`, which the composition root applies."""

from __future__ import annotations

from typing import Any

from raqib.config import parse_duration

BOT_NAME = "raqib"
# `pass` (raqib.app.scrapy_pass) is a whole Raqib pass run by Scrapy or Scrapyd.
SPIDER_MODULES = ["raqib.crawler.spiders", "raqib.app.scrapy_pass"]
NEWSPIDER_MODULE = "raqib.crawler.spiders"

# Each component takes its collaborators from the pass context (crawler.context)
# and leaves the crawl when it has none: a refetch records, discovery collects.
ITEM_PIPELINES = {
    "raqib.crawler.pipelines.RecordPipeline": 300,
    "raqib.crawler.pipelines.CollectPipeline": 310,
}
# The base lists themselves: Scrapy imports every key of a component setting
# and of its base to normalise them, disabled or not, in every crawl. Left out
# of Scrapy's bases: offsite (no allowed_domains here), robots.txt (replaced by
# compat.RobotsTxt), HTTP auth (credentials are refused anyway), cookies
# (session cookies churn and leak between outlets), proxies, retries (a failed
# fetch is recorded; the revisit policy retries with backoff), meta refresh (the
# page speaking, not the server), downloader stats, the HTTP cache, and the
# depth and URL-length spider middlewares.
DOWNLOADER_MIDDLEWARES_BASE = {
    "scrapy.downloadermiddlewares.downloadtimeout.DownloadTimeoutMiddleware": 350,
    "scrapy.downloadermiddlewares.defaultheaders.DefaultHeadersMiddleware": 400,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": 500,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": 590,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": 600,
}
DOWNLOADER_MIDDLEWARES = {
    "raqib.crawler.middlewares.AddressGuard": 50,  # before anything connects
    "raqib.crawler.middlewares.OutletHeaders": 60,  # [outlets.NAME] headers and cookies
    "raqib.crawler.compat.RobotsTxt": 100,  # Scrapy's, with concurrent waiters fixed
}
SPIDER_MIDDLEWARES_BASE = {
    "scrapy.spidermiddlewares.start.StartSpiderMiddleware": 25,
    "scrapy.spidermiddlewares.httperror.HttpErrorMiddleware": 50,
    "scrapy.spidermiddlewares.referer.RefererMiddleware": 700,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": 1000,
}
# The base list itself, not EXTENSIONS: Scrapy imports every key of both to
# normalise them, disabled or not (RemoteControl alone imports aiohttp, in
# every crawler process). Only the stats and log counts are kept from it.
EXTENSIONS_BASE = {
    "scrapy.extensions.corestats.CoreStats": 0,
    "scrapy.extensions.logcount.LogCount": 0,
}
EXTENSIONS = {
    "raqib.crawler.compat.Throttle": 0,  # AutoThrottle, also paced by 304s (see there)
    "raqib.crawler.extensions.LeaseKeeper": 500,
    "raqib.crawler.extensions.HoldKeeper": 505,
    "raqib.crawler.capture.WarcCapture": 510,
}

# A refetch must reach the server every time: Scrapy's HTTP cache would serve
# a "fresh" copy without asking (hiding an edit), and a JOBDIR's dupefilter
# would drop the second request for a URL. Neither is used.
HTTPCACHE_ENABLED = False
JOBDIR = None
COOKIES_ENABLED = False  # session cookies churn and leak between outlets
RETRY_ENABLED = False  # a failed fetch is recorded; the revisit policy retries with backoff
ROBOTSTXT_OBEY = True
REDIRECT_ENABLED = True
METAREFRESH_ENABLED = False  # a meta refresh is the page speaking, not the server
# Only the web: a redirect to file://, ftp://, s3:// or data: must never be followed.
DOWNLOAD_HANDLERS = {"file": None, "ftp": None, "s3": None, "data": None}

DOWNLOAD_TIMEOUT = 30
DNS_TIMEOUT = 10
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024  # applies to the decompressed body too
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Each response yields one item; Scrapy starts CONCURRENT_ITEMS worker tasks
# per response whatever it yields (64 by default: 128,000 tasks for 2,000 pages).
CONCURRENT_ITEMS = 1
DOWNLOADER = "raqib.crawler.compat.PoliteDownloader"  # keeps the per-site limit (see there)
# Scrapy re-parses a generator callback's source on every response to warn
# about `return value` (its cache is keyed on bound methods, which die at once).
WARN_ON_GENERATOR_RETURN_VALUE = False

AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

REFERRER_POLICY = "no-referrer"  # never tell a site where Raqib came from

DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    "Accept-Language": "ar,en;q=0.5",
}

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "WARNING"
LOG_FORMATTER = "scrapy.logformatter.LogFormatter"


def from_config(fetch: Any) -> dict[str, Any]:
    """Scrapy settings from the [fetch] section of raqib.toml."""
    extra = {"TWISTED_DNS_RESOLVER": fetch.dns_resolver} if fetch.dns_resolver else {}
    return {
        **extra,
        "USER_AGENT": fetch.user_agent,
        "DOWNLOAD_TIMEOUT": fetch.timeout,
        "DNS_TIMEOUT": fetch.dns_timeout,
        "DOWNLOAD_MAXSIZE": int(fetch.max_size_mb * 1024 * 1024),
        "DOWNLOAD_WARNSIZE": int(fetch.max_size_mb * 1024 * 1024 / 2),
        "CONCURRENT_REQUESTS": fetch.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": fetch.per_domain,
        "AUTOTHROTTLE_ENABLED": fetch.autothrottle,
        "ROBOTSTXT_OBEY": fetch.obey_robots,
        "RAQIB_ROBOTS_TTL": parse_duration(fetch.robots_ttl).total_seconds(),
        "REDIRECT_MAX_TIMES": fetch.max_redirects,
    }
