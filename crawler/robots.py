"""robots.txt answers kept between passes, for `[fetch] robots_ttl`.

Every pass is a process of its own (a cron run, each of the daemon's sweeps,
each crawler process of a large pass), so the parsers it held died with it,
and each pass asked each host for robots.txt again before its first request
there: one more request to every host, every pass, and a round trip on the
way to the first page. The body of each answer is now kept in the database
with the time it came; a crawl within the TTL of that time parses the kept
body instead of asking. RFC 9309 §2.4 lets a crawler use a cached copy for up
to 24 hours, the most raqib.toml allows.

The answers still fresh are read once, when the memory is made, before its
crawl starts: a read on the reactor's thread would wait behind any writer
(SQLite's transactions all take the write lock), and every download with it.
What came in is written when each crawl closes.

Not kept: a 5xx or a 429 (the host is struggling, and says nothing of its
rules: the next pass asks again), and a failed download. A 4xx is kept: it
means "no rules" until the TTL runs out. A body past MAX_BODY is read, and
kept, up to the last line before it (crawler.compat.RobotsTxt).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)

MAX_BODY = 512 * 1024  # RFC 9309 §2.5: a crawler parses at least the first 500 KiB
MAX_ORIGIN = 300  # the column's width: longer is no real host
MAX_TTL = timedelta(hours=24)  # RFC 9309 §2.4; older rows are deleted


def origin(scheme: str, netloc: str) -> str:
    """Where a robots.txt applies, without any user:password@ the URL carried."""
    return f"{scheme}://{netloc.rpartition('@')[2]}".lower()


@dataclass
class RobotsMemory:
    """One process's robots.txt parsers for a pass, by host (Scrapy's keys:
    compat.RobotsTxt uses this dict as its own), and the answers kept between
    passes in `repo` (raqib.storage.robots.RobotsRepo)."""

    repo: Any
    clock: Callable[[], datetime]
    ttl: timedelta
    parsers: dict[str, Any] = field(default_factory=dict)
    kept: dict[str, tuple[bytes, datetime]] = field(default_factory=dict)
    learned: dict[str, tuple[bytes, datetime]] = field(default_factory=dict)

    @classmethod
    def load(cls, repo: Any, clock: Callable[[], datetime], ttl: timedelta) -> RobotsMemory:
        """A memory holding the answers still fresh (none with a TTL of 0)."""
        memory = cls(repo, clock, ttl)
        if ttl > timedelta(0):
            now = clock()
            try:
                memory.kept = repo.fresh(since=now - ttl, until=now)
            except Exception as exc:  # a cache: on any failure, ask the hosts
                log.warning("kept robots.txt answers could not be read: %s", exc)
        return memory

    def recall(self, where: str) -> bytes | None:
        """The body `where` answered within the TTL, if one was kept."""
        kept = self.kept.get(where)
        if kept is None or kept[1] < self.clock() - self.ttl:
            return None  # none, or it expired during this pass
        return kept[0]

    def learn(self, where: str, status: int, body: bytes) -> None:
        """An answer that came in this pass, to keep if it says what the rules are."""
        if self.ttl <= timedelta(0) or status >= 500 or status == 429:
            return
        if len(body) > MAX_BODY or len(where) > MAX_ORIGIN:
            return
        self.learned[where] = (body, self.clock())

    def save(self) -> None:
        """Keep what came in since the last save (at the end of each crawl)."""
        learned, self.learned = self.learned, {}
        if not learned:
            return
        try:
            self.repo.put(learned, older_than=self.clock() - MAX_TTL)
        except Exception as exc:  # the next pass asks again: nothing is lost
            log.warning("robots.txt answers could not be kept: %s", exc)
