"""Reading `<home>/raqib.toml`: its settings over the defaults, then the
checks a configuration must pass. Every error names the file, the line where
it can, and the setting; the types and defaults are in `raqib.config`."""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

from raqib.config import (
    FILE_NAME,
    Config,
    ConfigError,
    OutletsConfig,
    OutletSettings,
    parse_duration,
    web_base,
    zone,
)


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
        if not isinstance(values, dict) and name in sections:
            raise ConfigError(f"{path}: [{name}] must be a table")
        if not isinstance(values, dict):  # `timezone = …` above every [section]
            owners = [
                s for s, t in sections.items() if name in {f.name for f in dataclasses.fields(t)}
            ]
            hint = f": put it under [{owners[0]}]" if owners else ""
            raise ConfigError(
                f"{path}:{_top_line(text, name) or '?'}: {name} is a setting outside any "
                f"[section]{hint} (sections: {', '.join(sections)})"
            )
        if name not in sections:
            line = _line_of(text, name, None)
            raise ConfigError(
                f"{path}:{line or '?'}: unknown section [{name}] (known: {', '.join(sections)})"
            )
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
            if not _check_type(default, value, duration=f"{name}.{key}" in DURATIONS):
                raise ConfigError(
                    f"{path}:{where}: {name}.{key} must be {type(default).__name__}, got {value!r}"
                )
            if not _bounded(value):
                raise ConfigError(
                    f"{path}:{where}: {name}.{key} must be a finite number under"
                    f" {MAX_NUMBER:.0e}, got {value!r}"
                )
            setattr(target, key, float(value) if isinstance(default, float) else value)
    try:
        validate(cfg)
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return cfg


def _top_line(text: str, key: str) -> int | None:
    """The line of a setting above the first [section]."""
    for no, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("["):
            return None
        if line.partition("=")[0].strip().strip("\"'") == key:
            return no
    return None


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


# No setting needs more (a billion seconds is 31 years). TOML admits inf, nan
# and integers past 64 bits, which would otherwise fail far from the file.
MAX_NUMBER = 1e9


def _bounded(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True
    return math.isfinite(value) and abs(value) <= MAX_NUMBER


# The settings that are durations: a string ("15m") or a number of seconds.
DURATIONS = frozenset({
    "render.timeout", "render.settle", "fetch.robots_ttl", "schedule.interval_after",
    "schedule.retire_after", "schedule.error_backoff", "schedule.error_backoff_max",
    "schedule.lease", "schedule.sweep_every", "schedule.discover_every", "notify.flush_timeout",
    "notify.timeout", "notify.retry_base", "notify.retry_max", "outlets.feed_every",
})  # fmt: skip
OUTLET_DURATIONS = frozenset({"delay", "retain", "feed_every"})


def _check_type(default: Any, value: Any, *, duration: bool = False) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str) or (
            duration and isinstance(value, int | float) and not isinstance(value, bool)
        )
    if isinstance(default, list):
        return isinstance(value, list)
    return True


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
                else _check_type(default, v, duration=k in OUTLET_DURATIONS)
            )
            if not ok:
                raise ConfigError(f"{path}:{where}: outlets.{key}.{k} has the wrong type: {v!r}")
            if not _bounded(v):
                raise ConfigError(
                    f"{path}:{where}: outlets.{key}.{k} is not a finite number: {v!r}"
                )
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
    ages = []
    for row in rows:
        if not (isinstance(row, list) and len(row) == 2):
            raise ValueError(f"{where} rows are [age, interval] pairs, got {row!r}")
        age, interval = (parse_duration(part) for part in row)
        if interval <= timedelta(0):
            raise ValueError(f"{where}: an interval must be longer than 0s, got {row!r}")
        ages.append(age)
    if ages != sorted(set(ages)):
        raise ValueError(f"{where}: rows go from the youngest age to the oldest, each once")


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
    if base and not web_base(base):
        raise ValueError(f"report.base_url must be an http(s) address, got {base!r}")
    s = cfg.schedule
    _durations("schedule", s, ("interval_after", "retire_after", "error_backoff",
                               "error_backoff_max", "lease", "sweep_every", "discover_every"))  # fmt: skip
    _curve("schedule.curve", s.curve)
    if not s.curve:
        raise ValueError("schedule.curve needs at least one [age, interval] row")
    for name in ("lease", "sweep_every", "error_backoff", "discover_every"):
        if parse_duration(getattr(s, name)) <= timedelta(0):
            raise ValueError(f"schedule.{name} must be longer than 0s")
    if parse_duration(s.error_backoff) > parse_duration(s.error_backoff_max):
        raise ValueError("schedule.error_backoff must not exceed schedule.error_backoff_max")
    if s.claim_batch < 1 or s.removed_checks < 0:
        raise ValueError(  # 0 watches a batch: every pass would check nothing, and say so
            "schedule.claim_batch must be at least 1, and schedule.removed_checks 0 or more"
        )
    f = cfg.fetch
    if f.timeout <= 0 or f.dns_timeout <= 0 or f.max_redirects < 0:
        raise ValueError("fetch.timeout and fetch.dns_timeout must be positive, "
                         "fetch.max_redirects 0 or more")  # fmt: skip
    if f.max_size_mb * 1024 < 1:  # 0 bytes is Scrapy's "no limit"
        raise ValueError("fetch.max_size_mb must be at least 0.001 (1 kB)")
    if f.concurrency > 1000 or f.per_domain > 1000 or f.processes > 256 or r.pages > 64:
        raise ValueError("fetch.concurrency and fetch.per_domain are at most 1000, "
                         "fetch.processes at most 256, render.pages at most 64")  # fmt: skip
    d = cfg.discovery
    if not 0 <= d.threshold <= 1 or d.max_candidates < 0:
        raise ValueError("discovery.threshold is 0 to 1, discovery.max_candidates 0 or more")
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
    if cfg.archive.max_file_mb * 1024 * 1024 < 100:  # under a byte, a file per record forever
        raise ValueError("archive.max_file_mb must be at least 0.0001 (about 100 bytes)")
    if cfg.notify.failing_after < 1 or cfg.notify.max_attempts < 1:
        raise ValueError("notify.failing_after and notify.max_attempts must be at least 1")
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
