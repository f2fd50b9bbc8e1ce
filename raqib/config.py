"""Configuration: defaults, `<home>/raqib.toml`, and clear errors for bad files.

Every setting has a default printed by `raqib config`; the file only needs the
ones a newsroom changes. Durations are written "90s", "15m", "3h", "7d" (or a
number of seconds).
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from pathlib import Path
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
        return timedelta(seconds=float(value))
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a duration like 90s, 15m, 3h or 7d")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


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


def _line_of(text: str, section: str, key: str | None) -> int | None:
    current = None
    for no, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            current = stripped.strip("[] ")
            if key is None and current == section:
                return no
        elif (
            key is not None and current == section and re.match(rf"{re.escape(key)}\s*=", stripped)
        ):
            return no
    return None


def _check_type(default: Any, value: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str) or (
            isinstance(value, int | float) and not isinstance(value, bool)
        )
    if isinstance(default, list):
        return isinstance(value, list)
    return True


def load(home: Path) -> Config:
    path = home / FILE_NAME
    cfg = Config()
    if not path.exists():
        return cfg
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    sections = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}
    for name, values in data.items():
        if name not in sections:
            line = _line_of(text, name, None)
            raise ConfigError(
                f"{path}:{line or '?'}: unknown section [{name}] (known: {', '.join(sections)})"
            )
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: [{name}] must be a table")
        target = sections[name]
        if name == "outlets":
            values = _outlet_tables(path, text, target, values)
        known = {f.name for f in dataclasses.fields(target)} - {"per"}
        for key, value in values.items():
            where: int | str = _line_of(text, name, key) or "?"
            if key not in known:
                raise ConfigError(
                    f"{path}:{where}: unknown setting {name}.{key} (known: {', '.join(sorted(known))})"
                )
            default = getattr(target, key)
            if not _check_type(default, value):
                raise ConfigError(
                    f"{path}:{where}: {name}.{key} must be {type(default).__name__}, got {value!r}"
                )
            setattr(target, key, float(value) if isinstance(default, float) else value)
    try:
        validate(cfg)
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return cfg


def _outlet_tables(
    path: Path, text: str, target: OutletsConfig, values: dict[str, Any]
) -> dict[str, Any]:
    """Read the [outlets.NAME] tables into target.per; return the plain settings."""
    plain = {}
    known = {f.name: f for f in dataclasses.fields(OutletSettings)}
    for key, value in values.items():
        if not isinstance(value, dict):
            plain[key] = value
            continue
        settings = OutletSettings()
        for k, v in value.items():
            where = _line_of(text, f"outlets.{key}", k) or "?"
            if k not in known:
                raise ConfigError(
                    f"{path}:{where}: unknown setting outlets.{key}.{k} "
                    f"(known: {', '.join(sorted(known))})"
                )
            default = getattr(settings, k)
            ok = (
                isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
                if isinstance(default, dict)
                else _check_type(default, v)
            )
            if not ok:
                raise ConfigError(f"{path}:{where}: outlets.{key}.{k} has the wrong type: {v!r}")
            setattr(settings, k, v)
        target.per[key] = settings
    return plain


def _durations(section: str, obj: Any, names: tuple[str, ...], optional: bool = False) -> None:
    for name in names:
        if getattr(obj, name) or not optional:
            try:
                parse_duration(getattr(obj, name))
            except ValueError as exc:
                raise ValueError(f"{section}.{name}: {exc}") from exc


def _curve(where: str, rows: list[Any]) -> None:
    for row in rows:
        if not (isinstance(row, list) and len(row) == 2):
            raise ValueError(f"{where} rows are [age, interval] pairs, got {row!r}")
        for part in row:
            parse_duration(part)


def validate(cfg: Config) -> None:
    zone(cfg.display.timezone)  # ValueError names the zone
    r = cfg.render
    _durations("render", r, ("timeout", "settle"))
    if r.screenshot_format not in ("webp", "png"):
        raise ValueError(
            f"render.screenshot_format must be webp or png, got {r.screenshot_format!r}"
        )
    if r.pages < 1 or r.max_requests < 1 or r.width < 320 or r.screenshot_max_height < 100:
        raise ValueError("render: pages and max_requests must be ≥ 1, width ≥ 320, "
                         "screenshot_max_height ≥ 100")  # fmt: skip
    if not 1 <= r.screenshot_quality <= 100 or r.screenshot_max_mb <= 0:
        raise ValueError("render: screenshot_quality is 1 to 100, screenshot_max_mb positive")
    base = cfg.report_base()
    if base and not re.match(r"https?://[^/\s]+", base):
        raise ValueError(f"report.base_url must be an http(s) address, got {base!r}")
    s = cfg.schedule
    _durations("schedule", s, ("interval_after", "retire_after", "error_backoff",
                               "error_backoff_max", "lease", "sweep_every", "discover_every"))  # fmt: skip
    _curve("schedule.curve", s.curve)
    if cfg.fetch.timeout <= 0 or cfg.fetch.max_size_mb <= 0:
        raise ValueError("fetch.timeout and fetch.max_size_mb must be positive")
    _durations("fetch", cfg.fetch, ("robots_ttl",))
    if parse_duration(cfg.fetch.robots_ttl) > timedelta(hours=24):  # RFC 9309 §2.4
        raise ValueError("fetch.robots_ttl: at most 24h (RFC 9309 asks no more)")
    _durations("notify", cfg.notify, ("flush_timeout", "timeout", "retry_base", "retry_max"))
    triggers = {
        "substantive",
        "silent",
        "headline",
        "figures",
        "quotes",
        "removed",
        "coverage",
        "failing",
        "all",
    }
    for i, ch in enumerate(cfg.notify.channels, 1):
        where = f"notify.channels entry {i}"
        if not isinstance(ch, dict) or not isinstance(ch.get("url"), str) or not ch["url"].strip():
            raise ValueError(f"{where}: needs a url")
        unknown = set(ch) - {"url", "story", "when", "keywords", "digest"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        when = ch.get("when", ["substantive"])
        if not isinstance(when, list) or not set(when) <= triggers:
            raise ValueError(f"{where}: when must be a list of {', '.join(sorted(triggers))}")
        if not isinstance(ch.get("keywords", []), list) or not isinstance(
            ch.get("digest", False), bool
        ):
            raise ValueError(f"{where}: keywords is a list, digest is true or false")
    if cfg.archive.max_file_mb <= 0:
        raise ValueError("archive.max_file_mb must be positive")
    if cfg.notify.failing_after < 1:
        raise ValueError("notify.failing_after must be at least 1")
    if cfg.fetch.concurrency < 1 or cfg.fetch.per_domain < 1:
        raise ValueError("fetch.concurrency and fetch.per_domain must be at least 1")
    if cfg.fetch.processes < 0 or cfg.fetch.workers < -1:
        raise ValueError("fetch.processes must be 0 or more, and fetch.workers -1 or more")
    _validate_outlets(cfg.outlets)


def _validate_outlets(o: OutletsConfig) -> None:
    _durations("outlets", o, ("feed_every",))
    for name, s in o.per.items():
        _durations(f"outlets.{name}", s, ("delay", "retain", "feed_every"), optional=True)
        _curve(f"outlets.{name}.curve", s.curve)
        if s.concurrency < 0:
            raise ValueError(f"outlets.{name}.concurrency must be 0 or more")
