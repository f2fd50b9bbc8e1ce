"""Extraction workers forked from a pass (crawler/pool.py): how many, and
that none is left behind when the pass stops at once or the fork fails.
A worker's death is in test_worker_deaths.py.
Whole passes with workers are in test_shards.py and test_crashes.py."""

from __future__ import annotations

import asyncio
import concurrent.futures.process
import multiprocessing
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from raqib.config import ScheduleConfig
from raqib.cores import usable_cores
from raqib.crawler.pool import (
    MIN_POOL_WORK,
    cpu_by_worker,
    extraction_pool,
    extraction_workers,
    halt,
)
from raqib.crawler.record import Recorder
from raqib.crawler.workers import Workers
from raqib.domain import Fetched, Recorded
from raqib.present.text import pass_cpu
from raqib.scheduler import RevisitPolicy
from tests.test_crashes import survivors
from tests.test_shards import task

ARTICLE = "<html><body><article><h1>عنوان</h1><p>" + "كلمة " * 200 + "</p></article></body></html>"


def test_how_many_workers() -> None:
    cores = usable_cores()
    auto = min(cores - 1, 2)
    assert extraction_workers(MIN_POOL_WORK - 1) == 0  # too little work to repay a fork
    assert extraction_workers(MIN_POOL_WORK) == auto
    assert extraction_workers(10 * MIN_POOL_WORK) == auto  # the crawl's thread feeds two at most
    assert extraction_workers(1, wanted=3) == 3  # [fetch] workers, whatever the work
    assert extraction_workers(10 * MIN_POOL_WORK, wanted=0) == 0
    assert extraction_workers(0, wanted=3) == 0  # nothing to analyse


def test_the_cpu_line_counts_the_workers_apart() -> None:
    stages = {"this_process": 1.5, "crawler_processes": 0.0, "analysis": 0.3, "storage": 0.1,
              "archive": 0.1, "fetching": 0.5}  # fmt: skip
    assert "extraction workers" not in pass_cpu(stages)
    line = pass_cpu({**stages, "extraction_workers": 0.42})
    assert line.startswith("CPU: 1.50s in this process, 0.42s in extraction workers;"), line


def test_the_workers_cpu_counts_what_they_used() -> None:
    pool = extraction_pool(1, extracts=False)
    try:
        pool.submit(sum, range(3 * 10**7)).result(timeout=60)  # about a second of CPU
        spent = sum(cpu_by_worker(pool).values())
    finally:
        pool.shutdown()
    assert 0.1 < spent < 60, spent
    assert cpu_by_worker(pool) == {}  # gone: nothing more to count


def test_halt_ends_busy_workers_at_once() -> None:
    """A second signal stops the pass at once: its workers are killed, not
    waited for, whatever they hold."""
    pool = extraction_pool(1, extracts=False)
    pids = [p.pid for p in pool._processes.values()]  # type: ignore[attr-defined]
    busy = pool.submit(pow, 7, 10**8)  # seconds of work
    halt(pool)
    assert survivors(pids, timeout=0) == []
    with pytest.raises((concurrent.futures.CancelledError, concurrent.futures.BrokenExecutor)):
        busy.result(timeout=30)


def test_a_fork_interrupted_midway_leaves_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ctrl-C (or a failed fork) after the first workers were forked: they
    are killed, or this process's exit would wait for them forever."""
    before = set(multiprocessing.active_children())

    def interrupted(self: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(concurrent.futures.process._ExecutorManagerThread, "start", interrupted)
    with pytest.raises(KeyboardInterrupt):
        extraction_pool(2, extracts=False)
    assert set(multiprocessing.active_children()) == before


class _History:
    def __init__(self) -> None:
        self.written: list[Any] = []

    def record_many(self, records: list[Any], owner: str | None = None) -> list[Recorded]:
        self.written.extend(records)
        return [Recorded(1, r.outcome, None) for r in records]


def test_a_page_that_arrives_after_a_hard_stop_is_left_to_the_next_pass() -> None:
    """Its pool is gone with the pass: the page is not the site's error."""
    history = _History()
    storage: Any = SimpleNamespace(history=history)
    watch = task(1)
    pool = Workers.forked(1, extracts=False)
    recorder = Recorder(storage, RevisitPolicy(ScheduleConfig()), [watch], owner="me", pool=pool)
    fetched = Fetched(
        watch_id=1, url=watch.url, fetched_at=datetime.now(UTC), status=200,
        body=ARTICLE.encode(), text=ARTICLE, encoding="utf-8",
    )  # fmt: skip

    async def after_the_stop() -> None:
        await recorder.handle(fetched)  # the page was in flight when the pass stopped at once
        await recorder.close()

    recorder.abandon()
    pool.halt()
    asyncio.run(after_the_stop())
    assert history.written == [] and recorder.fatal is None
    # Unstopped, a recorder takes the workers' end for a failure: the pass stops,
    # and the page is left to the next one, not charged.
    history2 = _History()
    live = Recorder(
        SimpleNamespace(history=history2),  # type: ignore[arg-type]
        RevisitPolicy(ScheduleConfig()), [watch], owner="me", pool=pool,
    )  # fmt: skip

    async def unstopped() -> None:
        await live.handle(fetched)
        await live.close()

    asyncio.run(unstopped())
    assert isinstance(live.fatal, concurrent.futures.BrokenExecutor), live.fatal
    pool.finish()  # as the pass does, whatever ended it
    assert pool.slots is not None and not pool.slots.exists()
    assert history2.written == []
