"""Glue between the pipeline and the store: judge a fetch, then write it.

The judging is pure (crawler.outcome); extraction runs in worker processes
when a pool is given (crawler.workers); each batch of writes is one
transaction (storage.history).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from concurrent.futures import BrokenExecutor, Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from raqib.crawler.fetch_record import (
    Policy,
    advise,
    build_record,
    failed_record,
    failure,
)
from raqib.crawler.workers import Workers
from raqib.domain import (
    FAILED_OUTCOMES,
    Fetched,
    FetchRecord,
    Outcome,
    Recorded,
    Task,
    WatchState,
)
from raqib.extract.judge import Verdict, after_extraction, before_extraction, outlet_verdict
from raqib.extract.page import Page, Same, analyze_timed, body_key
from raqib.extract.results import NotArticle
from raqib.storage import Storage, StoreFailure

log = logging.getLogger(__name__)

MAX_INFLIGHT = 2  # batches handed to the writer thread and not yet written


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None elsewhere."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


# A crawler process lives across a pass's batches, parsing page after page: glibc
# keeps the heap it freed unless asked to give it back. Asked once per batch
# written, the process tree of a 4,000-page first pass peaked 15 MB lower.
_TRIM = _malloc_trim()


class Recorder:
    """Judges and records each fetch of a pass; counts what happened."""

    def __init__(
        self,
        storage: Storage,
        policy: Policy,
        tasks: list[Task],
        *,
        owner: str,
        pool: Workers | None = None,
        on_recorded: Callable[[Task, Recorded], None] | None = None,
        batch_size: int = 100,
        batch_delay: float = 0.25,
    ) -> None:
        self.storage = storage
        self.policy = policy
        # The watches in hand, by id (the spider reads it too); each is
        # forgotten once written, so a long crawl holds only what is in flight.
        self.tasks = {t.watch_id: t for t in tasks}
        self.writing: set[int] = set()  # of those, the ones handed to the writer
        self.owner = owner
        self.pool = pool
        self.on_recorded = on_recorded
        # What waits to be written holds the record alone, not the fetch: a
        # fetch's body and its decoded text (twice the body, for Arabic) are
        # done with once judged, and up to four batches wait at a time.
        self.pending: list[tuple[Task, FetchRecord]] = []
        self.batch_size = batch_size
        self.batch_delay = batch_delay
        self._timer: asyncio.TimerHandle | None = None
        # Batches are written on one thread, in order: the reactor keeps
        # fetching while SQLite compresses, inserts and commits (zstd and
        # sqlite3 release the GIL). At most MAX_INFLIGHT batches wait for it.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="raqib-store")
        self._inflight: list[asyncio.Future[None]] = []
        self.counts: Counter[str] = Counter()
        self.lease_lost = 0
        self.dropped = 0  # watches whose requests were not sent: their lease ran out (a stall)
        # The first storage failure (disk full, read-only, database gone):
        # the pass stops and the command exits non-zero with it.
        self.fatal: BaseException | None = None
        # Articles that went missing in this pass (for "removed" notifications).
        self.removed_now: list[tuple[int, int | None, datetime]] = []
        # Failed fetches, with the failures in a row they make (for "failing" notifications).
        self.failing_now: list[tuple[int, int, datetime]] = []
        # The versions this pass stored, (watch id, number): its own changes.
        self.new_versions: list[tuple[int, int]] = []
        # CPU seconds by stage (crawler.shards.CrawlResult.cpu): "analysis"
        # wherever it ran, "storage" on the writer thread; `analysed_here`, the
        # part of the analysis that ran on the crawl's own thread.
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.analysed_here = 0.0
        self._crawl_thread: float | None = None  # its CPU clock when the crawl began
        self.stop: Callable[[], Any] | None = None  # set by the pipeline: ends the crawl
        # A second signal stopped the pass at once: what arrives after is the
        # next pass's, not an error (its extraction workers are gone).
        self.abandoned = False
        self.warc: Any = None  # crawler.capture.WarcCapture, when the pass archives

    def started(self) -> None:
        """The crawl begins, on its own thread (the reactor's)."""
        self._crawl_thread = time.thread_time()

    def expect(self, tasks: list[Task]) -> None:
        self.tasks.update((t.watch_id, t) for t in tasks)

    def fail(self, exc: BaseException) -> None:
        if self.fatal is None:
            self.fatal = exc
            if self.stop is not None:
                self.stop()

    async def _extract(self, fetched: Fetched, task: Task) -> Page | NotArticle | Same:
        assert fetched.text is not None
        url = fetched.final_url or fetched.url
        # A page that redirected elsewhere may be laid out differently: no region check.
        region = task.region if (fetched.final_url or fetched.url) == task.url else None
        if self.pool is None:
            result, cpu = analyze_timed(fetched.text, url, region)
            self.analysed_here += cpu
        else:
            result, cpu = await self.pool.analyse(analyze_timed, fetched.text, url, region)
        self.cpu["analysis"] += cpu
        return result

    def abandon(self) -> None:
        """The pass was stopped at once (crawler.session.CrawlStopped)."""
        self.abandoned = True

    async def handle(self, fetched: Fetched) -> None:
        if self.fatal is not None or self.abandoned:
            return  # the pass is stopping: leave the watch to the next one
        task = self.tasks[fetched.watch_id]
        try:
            record = await self._record(task, fetched)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # unrecorded, the watch would stay first in line for good
            if self.abandoned:
                return
            log.warning("recording %s failed: %s", fetched.url, exc, exc_info=True)
            record = failed_record(task, fetched, f"recording failed: {failure(exc)}", self.policy)
        if record is None:
            return
        self.pending.append((task, record))
        if len(self.pending) >= self.batch_size:
            self.flush()
            while len(self._inflight) > MAX_INFLIGHT:  # back-pressure: the database sets the pace
                await self._settle_oldest()
        elif self._timer is None:
            # Group commit: a batch is written when full or a moment after its
            # first record, whichever comes first.
            self._timer = asyncio.get_running_loop().call_later(self.batch_delay, self.flush)

    async def _record(self, task: Task, fetched: Fetched) -> FetchRecord | None:
        """The fetch judged, as its record (None: the pass is stopping)."""
        if isinstance(fetched.warc, Future):
            try:
                fetched.warc = await asyncio.wrap_future(fetched.warc)
            except (OSError, StoreFailure) as exc:
                self.fail(exc)  # no archive, no evidence: the pass stops
                return None
            except Exception as exc:  # the record's own failure: recorded without one
                log.warning("no WARC record of %s: %s", fetched.url, exc, exc_info=True)
                fetched.warc = None
        key = body_key(fetched.body, fetched.encoding) if fetched.text is not None else None
        verdict = before_extraction(task, fetched, key)
        if verdict is None:
            try:
                result = await self._extract(fetched, task)
            except asyncio.CancelledError:
                if self.abandoned:  # its workers were stopped with the pass
                    return None
                raise
            except BrokenExecutor as exc:  # a worker died: no page can be analysed now
                if not self.abandoned:
                    self.fail(exc)
                return None
            except Exception as exc:  # a stranger's page must not stop the pass
                if self.abandoned:  # a pool shut down with the pass: not the page's fault
                    return None
                log.warning("analysing %s failed: %s", fetched.url, exc, exc_info=True)
                verdict = Verdict(Outcome.ERROR, f"analysis failed: {failure(exc)}"[:300])
            else:
                verdict = after_extraction(task, result)
        verdict = advise(task, fetched, outlet_verdict(task, verdict))
        if verdict.outcome == Outcome.NEW_VERSION and (fetched.rendered or fetched.shot):
            if not await self._archive_rendering(fetched):
                return None
        return build_record(task, fetched, verdict, key, self.policy)

    async def _archive_rendering(self, fetched: Fetched) -> bool:
        """A new version's rendered DOM and screenshot go to the WARC beside the
        server's document; False when the archive cannot be written (the pass stops)."""
        if self.warc is None:
            return True
        url = fetched.final_url or fetched.url
        dom = fetched.body if fetched.rendered else None
        try:
            await asyncio.wrap_future(self.warc.rendering(url, dom, fetched.shot))
        except (OSError, StoreFailure) as exc:
            self.fail(exc)
            return False
        return True

    def flush(self) -> None:
        """Hand what is pending to the writer thread, as one transaction."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self.pending = self.pending, []
        if not batch or self.fatal is not None:
            return
        self.writing.update(t.watch_id for t, _rec in batch)
        loop = asyncio.get_running_loop()
        written = loop.run_in_executor(
            self._writer, functools.partial(self._write, [rec for _t, rec in batch])
        )
        done = asyncio.ensure_future(self._written(batch, written))
        self._inflight.append(done)
        done.add_done_callback(self._forget)

    def _write(self, records: list[FetchRecord]) -> tuple[list[Recorded], float]:
        """One batch, on the writer thread; with the CPU seconds it took there."""
        started = time.thread_time()
        if self.warc is not None and self.warc.archive is not None:
            self.warc.archive.sync()  # the records first, then the rows that point at them
        recorded = self.storage.history.record_many(records, owner=self.owner)
        return recorded, time.thread_time() - started

    def _forget(self, done: asyncio.Future[None]) -> None:
        if done in self._inflight:
            self._inflight.remove(done)

    async def _settle_oldest(self) -> None:
        """Wait for the oldest write and drop it from the in-flight list here:
        awaiting a future that is already done does not yield, so waiting for
        its done-callback to remove it would spin forever."""
        oldest = self._inflight[0]
        await asyncio.shield(oldest)
        self._forget(oldest)

    async def _written(
        self,
        batch: list[tuple[Task, FetchRecord]],
        written: Awaitable[tuple[list[Recorded], float]],
    ) -> None:
        try:
            results, cpu = await written
        except Exception as exc:  # a batch that cannot be written stops the pass, said loudly
            self.fail(exc)
            return
        self.cpu["storage"] += cpu
        if _TRIM is not None:
            _TRIM(0)
        for (task, rec), recorded in zip(batch, results, strict=True):
            self.tasks.pop(task.watch_id, None)
            self.writing.discard(task.watch_id)
            if recorded.lease_lost:
                self.lease_lost += 1
            elif recorded.version_number is not None:
                self.counts[recorded.outcome] += 1
                self.new_versions.append((task.watch_id, recorded.version_number))
            else:
                self.counts[recorded.outcome] += 1
                if recorded.outcome == Outcome.REMOVED and task.state != WatchState.REMOVED:
                    self.removed_now.append((task.watch_id, rec.status, rec.fetched_at))
                elif recorded.outcome in FAILED_OUTCOMES:
                    self.failing_now.append((task.watch_id, task.error_count + 1, rec.fetched_at))
            if self.on_recorded is not None:
                self.on_recorded(task, recorded)

    async def close(self) -> None:
        """Write the last, partial batch and wait for every write to finish."""
        self.flush()
        while self._inflight:
            await self._settle_oldest()
        self._writer.shutdown(wait=True)
        if self._crawl_thread is not None:
            # The crawl's thread: WARC records, the analysis run there, and
            # "fetching" (Scrapy, Twisted, judging and queueing each fetch).
            spent = time.thread_time() - self._crawl_thread
            archive = self.warc.cpu if self.warc is not None else 0.0
            self.cpu["archive"] += archive
            self.cpu["fetching"] += max(0.0, spent - self.analysed_here - archive)

    def unwritten(self) -> set[int]:
        """The watches in hand not yet handed to the writer (whose batch
        frees their leases as it records them)."""
        return set(self.tasks) - self.writing

    def renew_leases(self, now: datetime, lease: timedelta) -> set[int]:
        """Renew this pass's leases; the watches it still holds."""
        held: set[int] = self.storage.leases.renew(self.owner, now=now, lease=lease)
        return held
