"""When to check each watch again (the revisit policy, pure), and the daemon.

Fresh or recently edited articles are checked often and quiet old ones rarely,
on the age curve newsroom trackers use; a change resets the curve; errors back
off exponentially (never sooner than the server's Retry-After); a removed
article is checked a few more times, then retired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from config import ScheduleConfig, parse_duration

# Outcomes that mean "we could not see the article this time".
_FAILED = ("error", "not_article")
MAX_RETRY_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class WatchState:
    """What the policy needs to know about a watch before this fetch."""

    added_at: datetime
    last_change_at: datetime | None
    error_count: int
    removed_count: int
    state: str


@dataclass(frozen=True)
class Next:
    at: datetime
    state: str  # active | removed | retired
    error_count: int
    removed_count: int


class RevisitPolicy:
    def __init__(self, cfg: ScheduleConfig) -> None:
        self.curve = [(parse_duration(age), parse_duration(every)) for age, every in cfg.curve]
        self.curve.sort()
        self.interval_after = parse_duration(cfg.interval_after)
        self.retire_after = parse_duration(cfg.retire_after)
        self.backoff = parse_duration(cfg.error_backoff)
        self.backoff_max = parse_duration(cfg.error_backoff_max)
        self.removed_checks = cfg.removed_checks

    def interval(self, age: timedelta) -> timedelta:
        """The check interval for an article whose last change is `age` old."""
        for limit, every in self.curve:
            if age < limit:
                return every
        return self.interval_after

    def error_delay(self, errors: int, retry_after: timedelta | None = None) -> timedelta:
        delay = min(self.backoff * (2 ** max(errors - 1, 0)), self.backoff_max)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        return delay

    def after_fetch(
        self,
        watch: WatchState,
        outcome: str,
        now: datetime,
        retry_after: timedelta | None = None,
    ) -> Next:
        if outcome == "new_version":
            return Next(now + self.interval(timedelta(0)), "active", 0, 0)
        if outcome in _FAILED:
            errors = watch.error_count + 1
            return Next(
                now + self.error_delay(errors, retry_after),
                watch.state,
                errors,
                watch.removed_count,
            )
        if outcome == "removed":
            removed = watch.removed_count + 1
            if removed > self.removed_checks:
                return Next(now + self.retire_after, "retired", 0, removed)
            return Next(now + self.error_delay(removed, retry_after), "removed", 0, removed)
        # unchanged, not_modified, restored: follow the age curve.
        age = now - (watch.last_change_at or watch.added_at)
        if age >= self.retire_after:
            return Next(now + self.retire_after, "retired", 0, 0)
        return Next(now + self.interval(age), "active", 0, 0)
