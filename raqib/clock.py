"""The clock every command uses. RAQIB_NOW=<ISO8601> freezes it (tests,
simulations of weeks of checks); otherwise it is the real UTC time."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; a naive one is taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is in year 10000 in UTC
        raise ValueError(f"{text.strip()[:40]!r} is out of range") from None


def system_clock() -> datetime:
    return datetime.now(UTC)


def from_env(environ: dict[str, str] | None = None) -> Clock:
    env = os.environ if environ is None else environ
    frozen = env.get("RAQIB_NOW")
    if not frozen:
        return system_clock
    try:
        instant = parse_instant(frozen)
    except ValueError as exc:
        raise ValueError(f"RAQIB_NOW is not an ISO 8601 time: {frozen!r}") from exc
    return Frozen(instant)


class Frozen:
    """A clock stopped at one instant (a class, not a lambda: crawler processes
    receive the pass's clock pickled)."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def __call__(self) -> datetime:
        return self.instant
