"""Configuration: every setting, its type and its default, by section of
`<home>/raqib.toml` (read and checked by `raqib.config_file`).

Every setting has a default printed by `raqib config`; the file only needs the
ones a newsroom changes. Durations are written "90s", "15m", "3h", "7d" (or a
number of seconds).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FILE_NAME = "raqib.toml"


class ConfigError(Exception):
    """A configuration file Raqib cannot use; the message names line and problem."""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


def parse_duration(value: str | int | float) -> timedelta:
    if isinstance(value, bool):
        raise ValueError("a duration, not true/false")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"{value!r} is not a duration like 90s, 15m, 3h or 7d")
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if not 0 <= seconds <= 1e9:  # 31 years; also no inf, nan or negative
        raise ValueError(f"{value!r} is not a duration from 0 to 31 years")
    return timedelta(seconds=seconds)


def format_duration(td: timedelta) -> str:
    s = int(td.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if s and s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


@dataclass
class FetchConfig:
    user_agent: str = "Raqib/0.1 (+https://github.com/raqib-news/raqib; news edit monitor)"
    timeout: float = 30.0  # seconds for one download, headers to last byte
    dns_timeout: float = 10.0
    max_size_mb: float = 8.0  # bigger pages are refused (decompressed size)
    concurrency: int = 32
    per_domain: int = 4
    autothrottle: bool = True
    obey_robots: bool = True
    robots_ttl: str = "1h"  # how long a host's robots.txt answer is used again; 0: ask every pass
    max_redirects: int = 5
    allow_private: bool = False  # follow discovered links to private/loopback addresses
    dns_resolver: str = (
        ""  # import path of a Twisted resolver class; empty: Scrapy's caching resolver
    )
    processes: int = 0  # crawler processes for a large pass; 0: one per usable CPU
    workers: int = -1  # extraction workers beside a crawl in the pass's process; -1: by its work


@dataclass
class ScheduleConfig:
    # (age of the last change, interval between checks) — the first row whose
    # age is not yet reached applies; older than every row: `interval_after`.
    curve: list[list[str]] = field(
        default_factory=lambda: [["3h", "15m"], ["1d", "1h"], ["7d", "3h"], ["30d", "3d"]]
    )
    interval_after: str = "30d"
    retire_after: str = "365d"  # no checks once the last change is this old
    error_backoff: str = "5m"  # first retry after an error, doubled each time
    error_backoff_max: str = "1d"
    removed_checks: int = 5  # checks after a 404/410 before the watch is retired
    lease: str = "15m"  # how long a worker's claim on a watch lasts without renewal
    sweep_every: str = "60s"  # daemon: how often to look for due watches
    discover_every: str = "30m"  # daemon: how often to read discovery sources
    claim_batch: int = 1000  # watches a worker claims at a time; it claims again until none is due


@dataclass
class DiscoveryConfig:
    threshold: float = 0.18
    max_candidates: int = 200  # per source per run
    fetch_candidates: bool = True  # fetch and extract a candidate before judging it


@dataclass
class ArchiveConfig:
    warc: bool = True  # write every fetch to WARC files
    directory: str = ""  # default: <home>/warc
    max_file_mb: float = 1024.0  # roll over to a new WARC file past this size


@dataclass
class NotifyConfig:
    report_url: str = ""  # before [report] base_url: still read when that is empty
    flush_timeout: str = "20s"  # how long `raqib check` may spend delivering before it exits
    timeout: str = "10s"  # one delivery to one channel; a slower receiver is retried later
    retry_base: str = "30s"  # first retry of a failed delivery, doubled each time
    retry_max: str = "1h"
    max_attempts: int = 12  # then the message is marked failed
    failing_after: int = 3  # `--when failing`: warn when a watch fails this many times in a row
    # [[notify.channels]] tables: url, story (optional), when (list), keywords (list), digest (bool)
    channels: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class OutletSettings:
    """`[outlets.NAME]`: what differs for one outlet (empty: the defaults)."""

    concurrency: int = 0  # requests at once to each of its hosts; 0: fetch.per_domain
    delay: str = ""  # between requests to one of its hosts, e.g. "2s"
    headers: dict[str, str] = field(default_factory=dict)  # extra request headers
    cookies: dict[str, str] = field(default_factory=dict)  # e.g. a consent cookie
    curve: list[list[str]] = field(default_factory=list)  # its own refetch curve
    retain: str = ""  # retention window, e.g. "30d"; empty: `outlet add --retain-days`
    feed_every: str = ""  # how often its sources are read; empty: outlets.feed_every
    render: bool = False  # fetch its articles through a browser ([render])
    screenshots: bool = False  # photograph each new version of its articles


@dataclass
class OutletsConfig:
    feed_every: str = "10m"  # how often each feed, sitemap and front page is read
    # One table per outlet: [outlets.NAME] with the keys of OutletSettings.
    per: dict[str, OutletSettings] = field(default_factory=dict)

    def of(self, name: str) -> OutletSettings:
        return self.per.get(name) or OutletSettings()


@dataclass
class StorageConfig:
    # An SQLAlchemy URL; empty: <home>/raqib.db (SQLite). For several workers on
    # several machines: postgresql+psycopg://user:password@host/raqib
    # (pip install 'raqib[postgres]'). RAQIB_DATABASE_URL overrides it.
    url: str = ""


@dataclass
class ReportConfig:
    # Where the report (or `raqib serve`) is reachable by the people who get
    # the messages and the feed, e.g. "https://raqib.newsroom.example/". Links
    # to change pages start with it. Empty: messages carry the article's own
    # address only, and the feed's links are relative to the feed.
    base_url: str = ""


@dataclass
class DisplayConfig:
    # Times on the terminal, in the report and in messages: an IANA zone such as
    # "Asia/Baghdad"; empty: the system's. JSON always carries ISO 8601 UTC.
    timezone: str = ""


@dataclass
class RenderConfig:
    """Watches with `render` (`watch --render`, [outlets.NAME] render) are
    fetched through Chromium; nothing else ever starts a browser."""

    chromium: str = "/usr/bin/chromium"  # Debian's; no browser is downloaded
    pages: int = 2  # pages rendered at once per crawler process
    timeout: str = "20s"  # one page: load, scripts, screenshot
    settle: str = "2s"  # after the load event, wait this long at most for the network to idle
    max_requests: int = 200  # a page's own requests beyond this are refused
    screenshot_format: str = "webp"  # webp | png
    screenshot_quality: int = 75  # webp only
    screenshot_max_height: int = 8000  # CSS pixels; a longer page is cut
    screenshot_max_mb: float = 4.0  # a bigger image is not kept (the fetch log says so)
    width: int = 1280  # viewport, CSS pixels


@dataclass
class Config:
    storage: StorageConfig = field(default_factory=StorageConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)
    archive: ArchiveConfig = field(default_factory=ArchiveConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    outlets: OutletsConfig = field(default_factory=OutletsConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    render: RenderConfig = field(default_factory=RenderConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def report_base(self) -> str:
        """[report] base_url, or the older [notify] report_url ("" if neither)."""
        return self.report.base_url or self.notify.report_url


def web_base(url: str) -> bool:
    """Whether `url` can start the report's links: an http(s) address (no
    javascript: or a bare path in a feed's or a message's links)."""
    return bool(re.match(r"https?://[^/\s]+", url))


def zone(name: str) -> tzinfo | None:
    """The IANA time zone `name`; None for "" (the system's). ValueError if unknown."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"display.timezone: no time zone named {name!r} (an IANA name such as 'Asia/Baghdad')"
        ) from exc


def toml_value(value: Any) -> str:
    """A setting as TOML (JSON's scalars and arrays are TOML; tables are inline)."""
    if isinstance(value, dict):
        inner = ", ".join(
            f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}" for k, v in value.items()
        )
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)
