"""A large pass's watches, handed to its crawler processes as they ask.

The crawler processes of a large pass (crawler.shards) live across its
batches (up to 1,000 watches each, then a fresh one takes over) and take its
watches a few at a time. Dealt out whole per claimed batch,
each batch ended with one process idle while the slowest finished its share
(up to a second of a core per batch in bench/run.py --pages 2000), and each
new batch paid for new processes, a new crawl and robots.txt again (0.2–0.7 s
between batches). Now a process asks for more each time its scheduler runs
dry, and the next batch is claimed only when the last is all handed out.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection

from raqib.domain import Task


class Dealer:
    """The pass's side: claimed watches, handed out in the order claimed
    (the most overdue first); `claim` gives the next batch, [] when none."""

    def __init__(self, first: list[Task], claim: Callable[[], list[Task]]) -> None:
        self.queue: deque[Task] = deque(first)
        self.claim = claim
        self.done = False  # nothing more to claim, or the pass is stopping
        self.handed = 0
        self.track = False  # keep what was handed out until recorded (for on_recorded)
        self.by_id: dict[int, Task] = {}

    def left(self) -> int:
        """Watches claimed and not yet handed out (the next batch is claimed
        when none are); 0 once there are no more, or the pass is stopping."""
        if not self.queue and not self.done:
            batch = self.claim()
            self.queue.extend(batch)
            if not batch:
                self.done = True
        if self.done:  # stopping: what was claimed and not handed out stays leased
            self.queue.clear()  # until the pass ends and frees it
        return len(self.queue)

    def take(self, n: int) -> list[Task]:
        """Up to `n` watches; [] once there are no more, or the pass is stopping."""
        out = [self.queue.popleft() for _ in range(min(n, self.left()))]
        self.handed += len(out)
        if self.track:
            self.by_id.update((t.watch_id, t) for t in out)
        return out

    def recorded(self, watch_id: int) -> Task:
        return self.by_id.pop(watch_id)

    def stop(self) -> None:
        """Hand out nothing more (safe in a signal handler: it only sets a flag)."""
        self.done = True


class Feed:
    """A crawler process's side: asks the pass for `n` more watches over the
    pipe it reports on, and waits for the answer without blocking the crawl."""

    def __init__(self, conn: Connection, n: int) -> None:
        self.conn = conn
        self.n = n

    async def more(self) -> list[Task]:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        fd = self.conn.fileno()
        try:
            self.conn.send(("more", self.n))
        except OSError:  # the pass is gone (this process follows it: pool.die_with)
            return []

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(fd, wake)
        try:
            await ready
        finally:
            loop.remove_reader(fd)
        try:
            tasks: list[Task] = self.conn.recv()
        except (EOFError, OSError):
            return []
        return tasks
