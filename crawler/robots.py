"""robots.txt answers kept between passes, for `[fetch] robots_ttl`.

Every pass is a process of its own (a cron run, each of the daemon's sweeps,
each crawler process of a large pass), so the parsers it held died with it,
and each pass asked each host for robots.txt again before its first request
there: one more request to every host, every pass, and a round trip on the
way to the first page. The body of each answer is now kept in the database
with the time it came; a crawl within the TTL of that time parses the kept
body instead of asking. RFC 9309 §2.4 lets a crawler use a cached copy for up
to 24 hours, the most raqib.toml allows.

Not kept: a 5xx or a 429 (the host is struggling, and says nothing of its
rules: the next pass asks again), a failed download, and a body over
MAX_BODY. A 4xx is kept: it means "no rules" until the TTL runs out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)

MAX_BODY = 512 * 1024  # RFC 9309 §2.5: a crawler parses at least the first 500 KiB


@dataclass
class RobotsMemory:
    """One process's robots.txt parsers for a pass, by host (Scrapy's keys:
    compat.RobotsTxt uses this dict as its own), and the answers kept between
    passes in `repo` (raqib.storage.robots.RobotsRepo)."""

    repo: Any
    clock: Callable[[], datetime]
    parsers: dict[str, Any] = field(default_factory=dict)
    learned: dict[str, tuple[int, bytes, datetime]] = field(default_factory=dict)

    def recall(self, origin: str, ttl: timedelta) -> bytes | None:
        """The body `origin` answered within `ttl`, if one was kept."""
        if ttl <= timedelta(0):
            return None
        try:
            return self.repo.fresh(origin, since=self.clock() - ttl)  # type: ignore[no-any-return]
        except Exception as exc:  # a cache: on any failure, ask the host
            log.warning("kept robots.txt answers could not be read: %s", exc)
            return None

    def learn(self, origin: str, status: int, body: bytes) -> None:
        """An answer that came in this pass, to keep if it says what the rules are."""
        if status >= 500 or status == 429 or len(body) > MAX_BODY:
            return
        self.learned[origin] = (status, body, self.clock())

    def save(self) -> None:
        """Keep what came in since the last save (at the end of each crawl)."""
        learned, self.learned = self.learned, {}
        try:
            self.repo.put(learned)
        except Exception as exc:  # the next pass asks again: nothing is lost
            log.warning("robots.txt answers could not be kept: %s", exc)
