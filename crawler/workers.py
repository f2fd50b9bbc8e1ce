"""A pass's extraction workers, as the recorder uses them: each page's
analysis handed to a worker process, and a worker that dies replaced.

A stranger's page can kill the process that analyses it: a crash in a C
library on hostile markup, or the kernel's OOM killer. Every analysis in
flight beside it fails with it, and nothing says which page it was. Left to
fail the pass, it would fail every later pass too: the page's watch stays
unrecorded, first in line. So each page in flight is a suspect, retried
alone, one at a time, in replacement workers; a page that kills its worker
while alone is its own watch's error, and the pass goes on.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import signal
from collections.abc import Callable
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from raqib.crawler.pool import finish, halt, replacement_pool, worker_processes, workers_cpu

log = logging.getLogger(__name__)

T = TypeVar("T")

# Workers that die more often than this in one pass are not one page's doing
# (memory too short for any page, a broken install): the pass stops, as before.
MAX_REPLACEMENTS = 3


class WorkerDied(Exception):
    """A page's analysis killed the worker that ran it alone."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # what the fetch log says (crawler.record)


class AnalysisError(Exception):
    """An analysis's exception that would not survive the trip back, as text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def guarded(fn: Callable[..., T], *args: Any) -> T:
    """Runs in the worker: `fn(*args)`, with its exception made sure to reach
    the pass. One that does not survive pickling (lxml's hold their error
    log) would reach it as "cannot pickle", or, if it pickles but does not
    unpickle, break the pool as a dead worker would."""
    try:
        return fn(*args)
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            raise AnalysisError(f"{type(exc).__name__}: {exc}") from None
        raise


class Workers:
    def __init__(self, executor: Executor, workers: int, *, extracts: bool) -> None:
        self.executor = executor
        self.workers = workers
        self.extracts = extracts
        self.replaced = 0
        self.halted = False
        self.spent = 0.0  # CPU seconds of the workers that died (pool.workers_cpu)
        self._suspects = 0
        self._alone: asyncio.Lock | None = None

    async def analyse(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker. Raises WorkerDied if it killed its worker,
        and BrokenProcessPool once workers have died too often (or the pool
        was halted: the pass is stopping)."""
        loop = asyncio.get_running_loop()
        if not self._suspects:
            executor = self.executor
            try:
                return await loop.run_in_executor(executor, guarded, fn, *args)
            except BrokenProcessPool:
                self._replace(executor)
            self._suspects += 1
            suspect = True
        else:
            suspect = False  # arriving while suspects are retried: alone too
        if self._alone is None:
            self._alone = asyncio.Lock()
        try:
            async with self._alone:
                executor = self.executor
                try:
                    return await loop.run_in_executor(executor, guarded, fn, *args)
                except BrokenProcessPool:
                    how = self._replace(executor)
                    raise WorkerDied(f"the worker analysing it alone died ({how})") from None
        finally:
            if suspect:
                self._suspects -= 1

    def _replace(self, broken: Executor) -> str:
        """Replace `broken` (unless another page's failure did already); how it died."""
        how = _death(broken)
        if broken is not self.executor:
            return how
        if self.halted:
            raise BrokenProcessPool("the extraction workers were stopped with the pass")
        # Killed, not shut down: the pool would SIGTERM a surviving worker, which
        # ignores it (pool._worker), and wait for it.
        self.spent += workers_cpu(broken)
        halt(broken)
        if self.replaced >= MAX_REPLACEMENTS:
            raise BrokenProcessPool(
                f"extraction workers died {self.replaced + 1} times in this pass ({how})"
            )
        log.warning(
            "an extraction worker died (%s): the pages it held are analysed again, one at a time",
            how,
        )
        self.executor = replacement_pool(self.workers, extracts=self.extracts)
        self.replaced += 1
        return how

    def halt(self) -> None:
        """Stop the workers now (crawler.pool.halt): the pass was stopped at once."""
        self.halted = True
        halt(self.executor)

    def finish(self) -> float:
        """Shut the workers down; the CPU seconds of every worker this pass had."""
        return self.spent + finish(self.executor)


def _death(executor: Executor) -> str:
    codes = [p.exitcode for p in worker_processes(executor) if p.exitcode]
    for code in codes:
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
    return f"exit code {codes[0]}" if codes else "it ended abruptly"
