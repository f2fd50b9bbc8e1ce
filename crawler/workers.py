"""A pass's extraction workers, as the recorder uses them: each page's
analysis handed to a worker process, and a worker that dies replaced.

A stranger's page can kill the process that analyses it: a crash in a C
library on hostile markup, or the kernel's OOM killer. Every analysis in
flight beside it fails with it, and nothing says which page it was. Left to
fail the pass, it would fail every later pass too: the page's watch stays
unrecorded, first in line. So each page in flight is a suspect, retried
alone, one at a time, in replacement workers, and so is every page that
arrives while any is; a page whose worker dies while it is alone is its own
watch's error, and the pass goes on. A page past its CPU limit is known
at once: its worker said which page it held before the limit was armed
(crawler.pool.say), and only the others are retried. A replacement starts
on a thread of its own: the crawl goes on fetching meanwhile.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import pickle
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

from raqib.crawler.pool import (
    cpu_by_worker,
    extraction_pool,
    halt,
    held,
    kill,
    replacement_pool,
    say,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# Deaths in a row, with no analysis answered between them, that stop the
# pass: no longer one page's doing (memory too short for any page, a broken
# install). A page that kills its worker costs two: once among the pages in
# flight, once alone; two such pages in flight together, three. (A page past
# its CPU limit costs one: its worker said it held it.)
MAX_DEATHS_IN_A_ROW = 3
# Pages in a row past their CPU limit (below), with none analysed between
# them, that stop the pass: each is its own page's doing, but a pass of
# thousands of them would take a minute each.
MAX_TIMEOUTS_IN_A_ROW = 10
START_TIMEOUT = 60.0  # seconds for a replacement worker to start
# CPU seconds one page's analysis may take in a worker. Its C (libxml2,
# lxml, trafilatura's) cannot be interrupted from Python: past this the
# kernel ends the worker (SIGPROF, whose default action is to terminate),
# and the page is charged as one that killed its worker. A saved real page
# takes 10-50 ms; 8 MB of 40,000 paragraphs, 9 s.
MAX_ANALYSIS_CPU = 60.0


class AnalysisError(Exception):
    """An analysis's exception that would not survive the trip back, as text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # what the fetch log says (crawler.record)


class WorkerDied(AnalysisError):
    """The worker analysing a page alone died, or one that said it held the
    page was ended past its CPU limit."""


def guarded(limit: float, page: int, fn: Callable[..., T], *args: Any) -> tuple[int, float, T]:
    """Runs in the worker: `fn(*args)`, said to be `page`, within `limit` CPU seconds, with the
    worker's process id and its CPU so far (a worker that dies is counted by
    what it last said). Its exception is made sure to reach the pass: one
    that does not survive pickling (lxml's hold their parser's log) would
    reach it as "cannot pickle", or, if it pickles but does not unpickle,
    break the pool as a dead worker would."""
    say(page)  # before the limit is armed: a worker it ends holds this page
    signal.setitimer(signal.ITIMER_PROF, limit)  # the worker's whole CPU, its C included
    try:
        result = fn(*args)
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            raise AnalysisError(f"{type(exc).__name__}: {exc}") from None
        raise
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    return os.getpid(), time.process_time(), result


class Workers:
    def __init__(
        self,
        executor: Executor,
        workers: int,
        *,
        extracts: bool,
        start: Callable[[int, bool], Executor] | None = None,
        slots: Path | None = None,
    ) -> None:
        self.executor = executor
        self.workers = workers
        self.extracts = extracts
        self.replaced = 0
        self.deaths = 0  # workers that died while analysing (the pass reports it)
        self.cpu_limit = MAX_ANALYSIS_CPU  # a page's, in seconds
        self.slots = slots  # where workers say which page they hold (crawler.pool.say)
        self._start = start or (
            lambda n, extracts: replacement_pool(n, extracts=extracts, slots=slots)
        )
        self._pages = itertools.count(1)
        self._charged: dict[int, str] = {}  # pages a worker died past the CPU limit of: how
        self._ended: str | None = None  # why no page can be analysed any more
        self._deaths_in_a_row = 0
        self._timeouts_in_a_row = 0
        self._isolating = 0  # pages on the path alone (waiting or running)
        self._alone: asyncio.Lock | None = None
        self._starting: asyncio.Future[None] | None = None  # a replacement's start
        self._pending: Executor | None = None  # the pool that start is starting
        self._cpu: dict[int, float] = {}  # each worker's CPU, as it last said
        # halt() and finish() come from the pass's thread, a replacement from its own.
        self._guard = threading.Lock()

    @classmethod
    def forked(cls, workers: int, *, extracts: bool) -> Workers:
        """`workers` forked from this process now (crawler.pool.extraction_pool)."""
        try:
            slots: Path | None = Path(tempfile.mkdtemp(prefix="raqib-workers-"))
        except OSError:  # a full temporary directory: pages past their limit found as before
            slots = None
        try:
            pool = extraction_pool(workers, extracts=extracts, slots=slots)
        except BaseException:
            if slots is not None:
                shutil.rmtree(slots, ignore_errors=True)
            raise
        return cls(pool, workers, extracts=extracts, slots=slots)

    async def analyse(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker. Raises WorkerDied if its worker died while
        it was alone there, and BrokenProcessPool once no page can be
        analysed (workers dying in a row, none able to start, or halted)."""
        suspect, page = None, next(self._pages)
        if not self._isolating and self._starting is None:
            executor = self.executor
            try:
                return await self._run(executor, page, fn, args)
            except BrokenProcessPool:
                suspect = executor
        # Counted before it waits (for the replacement, for its turn): a page
        # arriving meanwhile goes alone too, never beside one that is.
        self._isolating += 1
        try:
            if suspect is not None:
                await self._replace(suspect)
                if page in self._charged:  # its worker said it held it: no suspect
                    raise WorkerDied(f"the worker analysing it died ({self._charged.pop(page)})")
            if self._alone is None:
                self._alone = asyncio.Lock()
            async with self._alone:
                await self.ready()
                executor = self.executor
                try:
                    return await self._run(executor, page, fn, args)
                except BrokenProcessPool:
                    how = await self._replace(executor)
                    self._charged.pop(page, None)  # alone: charged anyway
                    raise WorkerDied(f"the worker analysing it alone died ({how})") from None
        finally:
            self._isolating -= 1

    async def _run(
        self, executor: Executor, page: int, fn: Callable[..., T], args: tuple[Any, ...]
    ) -> T:
        self._raise_if_ended()
        loop = asyncio.get_running_loop()
        try:
            pid, cpu, result = await loop.run_in_executor(
                executor, guarded, self.cpu_limit, page, fn, *args
            )
        except BrokenProcessPool:
            raise
        except Exception:
            self._deaths_in_a_row = self._timeouts_in_a_row = 0  # a worker answered
            raise
        self._deaths_in_a_row = self._timeouts_in_a_row = 0
        self._cpu[pid] = cpu
        return result

    async def _replace(self, broken: Executor) -> str:
        """Replace `broken`, unless another page's failure did already (or is
        doing so); how it died. Raises BrokenProcessPool when the workers are
        not replaced."""
        how = ""  # said by the page that halts it, the only one asked (alone)
        with self._guard:
            self._raise_if_ended()
            if broken is self.executor and self._starting is None:
                # Killed, not shut down: the pool would SIGTERM a surviving
                # worker, which ignores it (pool._worker).
                exits = halt(broken)
                codes = list(exits.values())
                how = _death(codes, self.cpu_limit)
                self.deaths += 1
                for pid, code in exits.items():
                    if code == -signal.SIGPROF and self.slots is not None:
                        if (page := held(self.slots, pid)) is not None:
                            self._charged[page] = _death([code], self.cpu_limit)
                # A page past its CPU limit is that page's doing (one site's
                # pages sharing a costly template), not a broken install's.
                own = _own(codes)
                if own and all(c == -signal.SIGPROF for c in own):
                    self._timeouts_in_a_row += 1
                else:
                    self._deaths_in_a_row += 1
                if self._deaths_in_a_row > MAX_DEATHS_IN_A_ROW:
                    self._ended = (
                        f"extraction workers died {self._deaths_in_a_row} times in a row ({how})"
                    )
                    raise BrokenProcessPool(self._ended)
                if self._timeouts_in_a_row > MAX_TIMEOUTS_IN_A_ROW:
                    self._ended = (
                        f"{self._timeouts_in_a_row} analyses in a row passed their CPU "
                        f"limit ({how})"
                    )
                    raise BrokenProcessPool(self._ended)
                log.warning(
                    "an extraction worker died (%s): the pages it held are analysed again, one at a time",
                    how,
                )
                self._starting = asyncio.ensure_future(self._replacement())
                # Its failure is read even when no page waits for it any more.
                self._starting.add_done_callback(_retrieve)
        await self.ready()
        return how

    async def ready(self) -> None:
        """Wait for a replacement being started; BrokenProcessPool if none could be."""
        if self._starting is not None:
            # Shielded: a page cancelled while it waits must not cancel the start.
            await asyncio.shield(self._starting)

    async def _replacement(self) -> None:
        """Start a replacement on another thread: from the forkserver, which a
        pass's first death starts (about 0.6 s of imports), while the crawl's
        thread goes on fetching; pages wait for it only to be analysed, for
        START_TIMEOUT at most. The thread is a daemon: a forkserver that
        never answers holds it, and the process's exit must not wait for it."""
        done: Future[None] = Future()

        def start() -> None:
            done.set_running_or_notify_cancel()  # a timeout no longer cancels it
            try:
                self._started()
            except BaseException as exc:
                done.set_exception(exc)
            else:
                done.set_result(None)

        threading.Thread(target=start, name="raqib-worker-start", daemon=True).start()
        try:
            await asyncio.wait_for(asyncio.wrap_future(done), START_TIMEOUT)
        except TimeoutError:
            with self._guard:
                if self._ended is None:
                    self._ended = (
                        "no extraction worker could be started: "
                        f"none answered within {START_TIMEOUT:g} s"
                    )
                if self._pending is not None:  # its thread stops it once it can
                    kill(self._pending)
            raise BrokenProcessPool(self._ended) from None
        finally:
            self._starting = None

    def _started(self) -> None:
        """A replacement started now and put in place, or the reason none can
        be. Runs on a thread of its own, which alone shuts the new pool down:
        halt() and finish() only kill what its start has spawned, and it
        looks again once the spawn is over (submit spawns), and before the
        pool is put in place, so a pass that ended meanwhile keeps none."""
        new = None
        try:
            new = self._start(self.workers, self.extracts)
            with self._guard:
                self._pending = new
                self._raise_if_ended()
            answered = new.submit(int)
            with self._guard:
                self._raise_if_ended()
            answered.result(timeout=START_TIMEOUT)
            with self._guard:
                self._raise_if_ended()
                self.executor = new
                self.replaced += 1
        except Exception as exc:  # no process to be had: memory, a process limit
            if new is not None:
                halt(new)
            with self._guard:
                if self._ended is None:
                    self._ended = (
                        f"no extraction worker could be started: {type(exc).__name__}: {exc}"
                    )
                raise BrokenProcessPool(self._ended) from exc
        finally:
            with self._guard:
                self._pending = None

    def _raise_if_ended(self) -> None:
        if self._ended is not None:
            raise BrokenProcessPool(self._ended)

    def halt(self) -> None:
        """Stop the workers now (crawler.pool.halt): the pass was stopped at once."""
        with self._guard:
            self._ended = "the extraction workers were stopped with the pass"
            halt(self.executor)
            if self._pending is not None:  # its start then fails, and says so
                kill(self._pending)

    def finish(self) -> float:
        """Shut the workers down; the CPU seconds of every worker the pass had
        (the live ones' read from /proc, the dead ones' as they last said)."""
        with self._guard:
            if self._ended is None:  # so a start no page waits for any more keeps no pool
                self._ended = "the extraction workers were shut down with the pass"
            if self._pending is not None:
                kill(self._pending)
            try:
                live = cpu_by_worker(self.executor)
                self.executor.shutdown(wait=True, cancel_futures=True)
            finally:
                if self.slots is not None:
                    shutil.rmtree(self.slots, ignore_errors=True)
        return sum({**self._cpu, **live}.values())


def _retrieve(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()


def _death(codes: list[int], limit: float = MAX_ANALYSIS_CPU) -> str:
    """How a pool's workers died, from the exit codes crawler.pool.halt read.
    halt() SIGKILLs the survivors, so any other end is the death's own."""
    own = _own(codes) or codes
    if not own:
        return "it ended abruptly"
    if own[0] > 0:
        return f"exit code {own[0]}"
    if own[0] == -signal.SIGPROF:
        return f"stopped after {limit:g} s of CPU on one page"
    try:
        return f"killed by {signal.Signals(-own[0]).name}"
    except ValueError:
        return f"killed by signal {-own[0]}"


def _own(codes: list[int]) -> list[int]:
    """The exit codes of the workers that died of themselves: halt() SIGKILLs
    the survivors."""
    return [c for c in codes if c != -signal.SIGKILL]
