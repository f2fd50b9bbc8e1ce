"""A large pass's crawler processes: started, fed, handed over, signalled.

Each process lives across the pass's batches and asks it for more watches as
it runs out (crawler.deal); this is the pass's side of those conversations.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from raqib import console
from raqib.crawler.deal import Dealer
from raqib.crawler.pool import forkserver
from raqib.crawler.shards import Crawl, CrawlResult, Job, divided, shard_main
from raqib.domain import Recorded, Task

# A crawler process given this many watches is told there are no more, and a
# fresh one takes over once it is done, unless fewer than RETIRE_LEFT are left
# (then it finishes the pass rather than a new process start for a handful).
# A bound on what a process parsing page after page can keep: bench/run.py
# --pages 10000 peaked at 311 MB with processes for the whole pass, 300 MB
# with this. Since records stopped holding their fetch (crawler.record), a
# 4,000-page first pass peaks at 286-288 MB with or without it: it is kept for
# passes longer than those measured, at a process start per 1,000 watches.
WATCHES_PER_PROCESS = 1000
RETIRE_LEFT = 200


def crawl_sharded(
    tasks: list[Task],
    crawl: Crawl,
    *,
    more: Callable[[], list[Task]] | None,
    shards: int,
    database_url: str,
    on_recorded: Callable[[Task, Recorded], None] | None = None,
) -> CrawlResult:
    """Crawl `tasks` in `shards` processes. With `more` (the next batch, []
    when none), the processes ask for watches a few at a time until there are
    no more; without, each gets its share at once (watches that want a
    browser: a crawl sets one up for what it holds when it starts).
    Returns their outcomes combined."""
    settings = divided(crawl.overrides, shards)
    if more is not None:
        # Enough to keep a process's downloader full between two asks, and no
        # more: what one process holds, another cannot take when it runs dry.
        ask = max(1, int(settings.get("CONCURRENT_REQUESTS", 16)))
        sizes = [ask] * shards
    else:  # dealt round-robin: each site's watches spread over the processes
        ask, sizes = 0, [len(tasks[i::shards]) for i in range(shards)]
        tasks = [t for i in range(shards) for t in tasks[i::shards]]
    dealer = Dealer(tasks, more or list)
    dealer.track = on_recorded is not None
    job = Job(
        database_url, [], ask, dataclasses.replace(crawl, overrides=settings), console.level(),
        report=on_recorded is not None,
    )  # fmt: skip
    crew = Crew(dealer, job, on_recorded)
    previous = {sig: signal.signal(sig, crew.forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for size in sizes:
            crew.start(size)
        return crew.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        crew.close()


def _tell(pid: int, signum: int) -> None:
    """Pass a signal on to a crawler process. One that ended a moment ago
    may not be known to have (its forkserver reaps it): nothing to tell."""
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


class Crew:
    """A pass's crawler processes: started with their first watches, given
    more as they ask, handed over to fresh ones, and passed the pass's signal."""

    def __init__(
        self,
        dealer: Dealer,
        job: Job,
        on_recorded: Callable[[Task, Recorded], None] | None,
    ) -> None:
        self.ctx = forkserver()
        self.dealer, self.job, self.on_recorded = dealer, job, on_recorded
        self.procs: list[Any] = []
        self.conns: list[Connection] = []
        self.open: dict[Connection, Any] = {}  # each process still reporting, by its pipe
        self.handed: dict[Connection, int] = {}  # watches each process was given
        self.retired: set[Connection] = set()  # told no more: a fresh one takes over when done
        self.signalled: int | None = None
        self.outcome = CrawlResult()

    def start(self, size: int) -> None:
        """A crawler process with the next `size` watches; none once there are no more."""
        first = self.dealer.take(size)
        if not first:
            return
        here, there = self.ctx.Pipe(duplex=True)
        proc = self.ctx.Process(
            target=shard_main,
            args=(os.getpid(), dataclasses.replace(self.job, tasks=first), there),
            name="raqib-shard",
            daemon=False,
        )
        proc.start()
        there.close()
        self.procs.append(proc)
        self.conns.append(here)
        self.open[here] = proc
        self.handed[here] = len(first)
        if self.signalled is not None:  # it came while this one was starting
            _tell(proc.pid, self.signalled)

    def forward(self, signum: int, _frame: Any) -> None:
        """The pass's signal handler: hand out nothing more, and pass it on."""
        self.signalled = signum
        self.dealer.stop()
        for p in self.procs:
            if p.pid is not None and p.exitcode is None:
                _tell(p.pid, signum)

    def run(self) -> CrawlResult:
        """Answer the processes until each has reported its outcome (or died)."""
        while self.open:
            for ready in wait(list(self.open)):
                assert isinstance(ready, Connection)
                try:
                    message = ready.recv()
                except (EOFError, OSError):  # OSError: it died with an answer unread
                    self.ended(ready)
                    continue
                if message[0] == "recorded":
                    task = self.dealer.recorded(message[1])
                    if self.on_recorded is not None:
                        self.on_recorded(task, message[2])
                elif message[0] == "more":
                    self.answer(ready, message[1])
                else:
                    self.done(ready, message[1])
        self.outcome.handed = self.dealer.handed
        # The pass's own signal, or one a crawler process alone was sent.
        self.outcome.signalled = self.outcome.signalled or self.signalled is not None
        return self.outcome

    def answer(self, conn: Connection, n: int) -> None:
        if self.handed[conn] >= WATCHES_PER_PROCESS and self.dealer.left() >= RETIRE_LEFT:
            self.retired.add(conn)  # what is left repays a fresh process
            given: list[Task] = []
        else:
            given = self.dealer.take(n)
            self.handed[conn] += len(given)
        try:
            conn.send(given)
        except OSError:  # it died after asking: the end of its pipe is read next (ended)
            pass

    def done(self, conn: Connection, result: CrawlResult) -> None:
        self.outcome.add(result)
        if self.outcome.fatal is not None:
            self.dealer.stop()  # the others finish what they hold
        elif conn in self.retired:
            self.start(self.job.ask)  # after it: the site's limits stay divided as they were

    def ended(self, conn: Connection) -> None:
        """A process that closed its pipe without reporting: a failure, unless
        a stop signal ended it before its crawl could take it (the pass's own,
        or one sent to it alone while it was starting): then the pass stops
        as signalled, and what it held is free for the next pass."""
        proc = self.open.pop(conn)
        proc.join()
        if proc.exitcode == 0 or self.outcome.fatal is not None:
            return
        if self.signalled is not None and proc.exitcode == -self.signalled:
            return
        self.dealer.stop()
        if proc.exitcode in (-signal.SIGTERM, -signal.SIGINT):
            self.outcome.signalled = True
            return
        self.outcome.fatal = RuntimeError(
            f"a crawler process ended without reporting (exit code {proc.exitcode})"
        )

    def close(self) -> None:
        for c in self.conns:  # after a failure here, a process waiting for more reads EOF: no more
            c.close()
        for p in self.procs:
            p.join()
