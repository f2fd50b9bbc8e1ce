"""A page that kills the worker analysing it (crawler/workers.py): its own
watch's error, never another page's, and never the pass's unless workers die
again and again. Whole passes are in test_hostile.py."""

from __future__ import annotations

import asyncio
import errno
import faulthandler
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import lxml.etree
import lxml.html
import pytest

import raqib.crawler.workers as workers_module
from raqib.crawler.pool import die_with, extraction_pool, forkserver, halt
from raqib.crawler.workers import (
    MAX_DEATHS_IN_A_ROW,
    AnalysisError,
    WorkerDied,
    Workers,
    _death,
)


def deadly(n: int, killers: frozenset[int]) -> float:
    """An analysis of some CPU that kills its worker on the pages in
    `killers`, as a crash in a C library on hostile markup would; returns
    the CPU seconds it took."""
    if n in killers:
        os.kill(os.getpid(), signal.SIGKILL)
    started = time.thread_time()
    while time.thread_time() - started < 0.02:
        pass
    return time.thread_time() - started


def _analyse_all(pool: Workers, n: int, killers: set[int]) -> tuple[list[Any], float]:
    """Every page's outcome, and the workers' CPU as the pass counts it."""

    async def run() -> list[Any]:
        jobs = (pool.analyse(deadly, i, frozenset(killers)) for i in range(n))
        return await asyncio.gather(*jobs, return_exceptions=True)

    try:
        results = asyncio.run(run())
    finally:
        spent = pool.finish()
    return results, spent


def _failed(results: list[Any]) -> dict[int, str]:
    return {i: type(r).__name__ for i, r in enumerate(results) if isinstance(r, BaseException)}


def test_a_page_that_kills_its_worker_is_its_own_error_and_the_rest_are_analysed() -> None:
    """Every page in flight dies with the worker; each is tried again alone,
    so only the page whose worker dies while it is alone is charged."""
    pool = Workers.forked(1, extracts=False)
    results, spent = _analyse_all(pool, 40, {13})
    assert _failed(results) == {13: "WorkerDied"}, results
    assert "(killed by SIGKILL)" in str(results[13])
    # Once with the pages beside it, once alone: two replacements, then no more.
    assert pool.replaced == 2
    assert not [p for p in multiprocessing.active_children() if p.is_alive()]
    # The dead workers' CPU is counted too, as they last reported it.
    assert sum(r for r in results if isinstance(r, float)) <= spent


def test_two_pages_that_kill_their_workers_are_each_their_own_error() -> None:
    """Three or four deaths in one pass (each page's alone, and the first's,
    or both's, among the pages in flight): the pass goes on."""
    pool = Workers.forked(1, extracts=False)
    results, _spent = _analyse_all(pool, 40, {5, 25})
    assert _failed(results) == {5: "WorkerDied", 25: "WorkerDied"}, results
    assert 3 <= pool.replaced <= 4


def parse_of(n: int, crowded: frozenset[int]) -> int:
    """An analysis in C: libxml2's parse of a page, on the pages in
    `crowded` one with a tag of 40,000 attributes (seconds of CPU, in a
    call that Python cannot interrupt; raqib refuses such a page before it
    parses it, this parses it anyway)."""
    attributes = " ".join(f"a{i}" for i in range(40_000)) if n in crowded else "a"
    return len(lxml.html.fromstring(f"<p {attributes}>{n}</p>").attrib)


def test_a_page_past_its_cpu_limit_is_stopped_and_is_its_own_error() -> None:
    """A worker's analysis of one page is held to `cpu_limit` seconds of
    CPU, its C included: past it the kernel ends the worker (SIGPROF), and
    the page is charged as one that killed it; the rest are analysed."""
    pool = Workers.forked(1, extracts=False)
    pool.cpu_limit = 0.3

    async def run() -> list[Any]:
        crowded = frozenset({7})
        return await asyncio.gather(
            *(pool.analyse(parse_of, i, crowded) for i in range(20)), return_exceptions=True
        )

    try:
        results = asyncio.run(run())
    finally:
        pool.finish()
    assert _failed(results) == {7: "WorkerDied"}, results
    assert "(stopped after 0.3 s of CPU on one page)" in str(results[7])
    assert [r for i, r in enumerate(results) if i != 7] == [1] * 19
    # Charged at once (its worker said it held it), not again alone: it cost one limit.
    assert pool.deaths == 1 and "analysing it died" in str(results[7])


def no_more_file_bytes(n: int) -> int:
    """In the worker: no file may grow from now on (a full disk, as the
    worker's writes see it)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write then fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    return n


def test_a_worker_that_cannot_say_its_page_still_analyses_it() -> None:
    """The slot is a help, not a need: a page is never failed for it."""
    pool = Workers.forked(1, extracts=False)

    async def run() -> list[Any]:
        first = await pool.analyse(no_more_file_bytes, 0)
        return [first, *await asyncio.gather(*(pool.analyse(int, i) for i in range(1, 4)))]

    try:
        assert asyncio.run(run()) == [0, 1, 2, 3]
    finally:
        pool.finish()
    assert pool.deaths == 0


def test_pages_past_their_cpu_limit_in_a_row_do_not_stop_the_pass() -> None:
    """Each such page is its own doing (pages of one site sharing a costly
    template): they are not the deaths in a row that stop a pass, which
    three of them in flight together made."""
    pool = Workers.forked(2, extracts=False)
    pool.cpu_limit = 0.3
    crowded = frozenset({3, 4, 5, 6})

    async def run() -> list[Any]:
        return await asyncio.gather(
            *(pool.analyse(parse_of, i, crowded) for i in range(20)), return_exceptions=True
        )

    try:
        results = asyncio.run(run())
    finally:
        pool.finish()
    assert _failed(results) == dict.fromkeys(crowded, "WorkerDied"), results
    assert [r for i, r in enumerate(results) if i not in crowded] == [1] * 16


def test_pages_past_their_cpu_limit_with_none_analysed_between_stop_the_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """They are not a broken install's deaths, but a pass of thousands of
    them, each two minutes, would never end: past MAX_TIMEOUTS_IN_A_ROW with
    no page analysed between them, the pass stops, saying why."""
    monkeypatch.setattr(workers_module, "MAX_TIMEOUTS_IN_A_ROW", 2)
    pool = Workers.forked(1, extracts=False)
    pool.cpu_limit = 0.2

    async def run() -> list[Any]:
        every = frozenset(range(8))
        return await asyncio.gather(
            *(pool.analyse(parse_of, i, every) for i in range(8)), return_exceptions=True
        )

    try:
        results = asyncio.run(run())
    finally:
        pool.finish()
    assert set(_failed(results).values()) == {"WorkerDied", "BrokenProcessPool"}, results
    assert "3 analyses in a row passed their CPU limit" in str(results[-1])


def test_workers_dying_again_and_again_stop_the_pass() -> None:
    """Not one page's doing (memory too short for any): after the first
    death and MAX_DEATHS_IN_A_ROW - 1 pages charged, no page is analysed."""
    pool = Workers.forked(1, extracts=False)
    results, _spent = _analyse_all(pool, 12, set(range(12)))
    charged = MAX_DEATHS_IN_A_ROW - 1
    assert _failed(results) == {
        i: "WorkerDied" if i < charged else "BrokenProcessPool" for i in range(12)
    }, results
    assert pool.replaced == MAX_DEATHS_IN_A_ROW
    assert f"died {MAX_DEATHS_IN_A_ROW + 1} times in a row" in str(results[-1])


def test_when_no_worker_can_start_the_pass_stops_and_no_page_is_charged() -> None:
    """A fork refused (memory, a process limit) after a death: the pages are
    the next pass's, not errors of their watches."""

    def refused(workers: int, extracts: bool) -> Executor:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    pool = Workers(extraction_pool(1, extracts=False), 1, extracts=False, start=refused)
    results, _spent = _analyse_all(pool, 10, {3})
    failed = _failed(results)
    assert set(failed) >= set(range(3, 10)) and set(failed.values()) == {"BrokenProcessPool"}
    assert "no extraction worker could be started" in str(results[3])

    async def later() -> None:
        await pool.analyse(deadly, 1, frozenset())

    with pytest.raises(BrokenProcessPool, match="no extraction worker could be started"):
        asyncio.run(later())


class ManualPool(Executor):
    """A pool whose tasks run when the test says, and which dies as a process
    pool does: every task in it fails at once."""

    def __init__(self) -> None:
        self.tasks: list[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = []
        self.shut = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        done: Future[Any] = Future()
        if fn is int:  # Workers checks that a replacement starts
            done.set_result(0)
        else:
            self.tasks.append((done, fn, args))
        return done

    def run_next(self) -> None:
        done, fn, args = self.tasks.pop(0)
        done.set_result(fn(*args))

    def die(self) -> None:
        for done, _fn, _args in self.tasks:
            done.set_exception(BrokenProcessPool("a process died"))
        self.tasks.clear()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.shut = True


async def _settle(workers: Workers) -> None:
    """Let every callback and task that is ready run, and a replacement being
    started on its thread finish starting (no time passes otherwise)."""
    for _ in range(50):
        await asyncio.sleep(0)
    await workers.ready()
    for _ in range(50):
        await asyncio.sleep(0)


def test_a_page_arriving_while_pages_are_retried_alone_waits_its_turn() -> None:
    """Were it sent beside a page that is retried alone, a crash of either
    would be charged to the page that is alone."""
    pools = [ManualPool()]

    def start(workers: int, extracts: bool) -> Executor:
        pools.append(ManualPool())
        return pools[-1]

    workers = Workers(pools[0], 1, extracts=False, start=start)

    async def scenario() -> None:
        s = asyncio.ensure_future(workers.analyse(str, "S"))
        b = asyncio.ensure_future(workers.analyse(str, "B"))
        await _settle(workers)
        assert len(pools[0].tasks) == 2
        pools[0].die()
        await _settle(workers)
        assert len(pools) == 2 and len(pools[1].tasks) == 1  # S alone, B waiting
        n = asyncio.ensure_future(workers.analyse(str, "N"))  # arrives meanwhile
        await _settle(workers)
        assert len(pools[1].tasks) == 1
        pools[1].run_next()  # S answers: B goes alone
        await _settle(workers)
        assert len(pools[1].tasks) == 1
        pools[1].run_next()  # B answers: N goes alone
        await _settle(workers)
        assert await s == "S" and await b == "B"
        assert len(pools[1].tasks) == 1
        k = asyncio.ensure_future(workers.analyse(str, "K"))
        await _settle(workers)
        assert len(pools[1].tasks) == 1, "a page went beside the page that is alone"
        pools[1].die()  # N's worker dies while N is alone: N's error, not K's
        await _settle(workers)
        with pytest.raises(WorkerDied):
            await n
        assert len(pools) == 3 and len(pools[2].tasks) == 1
        pools[2].run_next()
        assert await k == "K"

    asyncio.run(scenario())


class Held:
    """Workers on a ManualPool whose replacement's start waits until the test
    lets it go (`go`: a forkserver importing Scrapy and trafilatura); `saw`
    notes, for each start, whether it was let go or gave up waiting."""

    def __init__(self) -> None:
        self.pools, self.go, self.saw = [ManualPool()], threading.Event(), []
        self.workers = Workers(self.pools[0], 1, extracts=False, start=self._start)

    def _start(self, workers: int, extracts: bool) -> Executor:
        self.saw.append(self.go.wait(timeout=10))
        self.pools.append(ManualPool())
        return self.pools[-1]

    async def death(self, page: str = "P") -> asyncio.Future[Any]:
        """`page` sent to the first pool, which then dies: the page waits for
        the replacement, whose start waits for `go`."""
        sent = asyncio.ensure_future(self.workers.analyse(str, page))
        for _ in range(50):
            await asyncio.sleep(0)
        self.pools[0].die()
        for _ in range(50):
            await asyncio.sleep(0)
        return sent


def test_the_crawl_goes_on_while_a_replacement_starts() -> None:
    """The start ran on the crawl's thread: every fetch stalled while the
    forkserver started (0.6 s at a pass's first death). Here, the start
    waits for a task on the crawl's loop: had it blocked the loop, that
    task would not run, and the start would give up waiting."""
    held = Held()

    async def fetching_meanwhile() -> None:
        held.go.set()

    async def scenario() -> None:
        page = await held.death()
        assert not held.saw and not page.done()  # the start waits; so does the page
        await fetching_meanwhile()
        await _settle(held.workers)
        held.pools[1].run_next()
        assert await page == "P"

    asyncio.run(scenario())
    assert held.saw == [True] and held.workers.replaced == 1 and held.pools[0].shut


def test_a_pass_stopped_while_a_replacement_starts_stops_it_too() -> None:
    """halt() while the start runs on its own thread, before it has made the
    pool (a halt as it spawns is the next test's): the pool it makes is
    stopped, and the page is the next pass's."""
    held = Held()

    async def scenario() -> None:
        page = await held.death()
        held.workers.halt()
        held.go.set()
        with pytest.raises(BrokenProcessPool, match="stopped with the pass"):
            await page

    asyncio.run(scenario())
    assert held.saw == [True] and len(held.pools) == 2 and held.pools[1].shut
    assert held.workers.replaced == 0 and held.workers.executor is held.pools[0]


def test_a_page_arriving_as_a_replacement_is_put_in_place_goes_alone_too() -> None:
    """The pages whose worker died wait for the replacement; one arriving in
    the loop turns between its start's end and their waking went beside the
    one that then ran alone, and a crash of the newcomer's was charged to it.
    The newcomer here is a fetch ending on every loop turn after the start."""
    held = Held()
    pools, workers = held.pools, held.workers

    async def newcomer() -> str:
        while workers._starting is None:
            await asyncio.sleep(0)
        while workers._starting is not None:
            await asyncio.sleep(0)
        return await workers.analyse(str, "K")

    async def scenario() -> None:
        s = asyncio.ensure_future(workers.analyse(str, "S"))
        await _settle(workers)
        k = asyncio.ensure_future(newcomer())
        pools[0].die()
        for _ in range(50):
            await asyncio.sleep(0)
        held.go.set()
        await _settle(workers)
        # One page alone (the newcomer took its turn first), not two together.
        assert [args[2:] for _done, _fn, args in pools[1].tasks] == [
            (str, "K")
        ]  # past the limit and the page
        pools[1].die()  # K's page kills its worker while alone: K's error, not S's
        await _settle(workers)
        with pytest.raises(WorkerDied):
            await k
        assert [args[2:] for _done, _fn, args in pools[2].tasks] == [(str, "S")]
        pools[2].run_next()
        assert await s == "S"

    asyncio.run(scenario())


def test_a_pass_that_ends_while_a_replacement_starts_keeps_no_pool() -> None:
    """The crawl torn down (its page cancelled), the pass's finish() comes
    before the start's thread has made the pool: that pool is shut down,
    not put in place with nothing left to shut it down."""
    held = Held()

    async def scenario() -> None:
        page = await held.death()
        page.cancel()
        held.workers.finish()
        held.go.set()
        with pytest.raises(BrokenProcessPool, match="shut down with the pass"):
            await held.workers.ready()

    asyncio.run(scenario())
    assert held.saw == [True] and len(held.pools) == 2 and held.pools[1].shut
    assert held.workers.replaced == 0 and held.workers.executor is held.pools[0]


def test_a_halt_while_a_replacement_spawns_its_worker_leaves_none() -> None:
    """halt() from the pass's thread while the start's thread is inside
    submit(), spawning the worker from the forkserver: halt() sees no worker
    yet, so the start's thread looks again once the spawn is over, and kills
    it. halt() returns at once: it used to wait for the spawn on the pool's lock."""
    spawning, spawned_seen = threading.Event(), threading.Event()
    spawned: list[Any] = []

    class Held(ProcessPoolExecutor):
        def _spawn_process(self) -> None:
            spawning.set()
            assert spawned_seen.wait(timeout=30)  # until halt() has looked
            super()._spawn_process()  # type: ignore[misc]
            spawned.extend(self._processes.values())  # type: ignore[attr-defined]

    def start(workers: int, extracts: bool) -> Executor:
        return Held(1, mp_context=forkserver(), initializer=die_with, initargs=(os.getpid(),))

    pools = [ManualPool()]
    workers = Workers(pools[0], 1, extracts=False, start=start)
    halted: list[float] = []

    def halter() -> None:
        assert spawning.wait(timeout=30)
        began = time.monotonic()
        workers.halt()
        halted.append(time.monotonic() - began)
        spawned_seen.set()

    async def scenario() -> None:
        page = asyncio.ensure_future(workers.analyse(str, "P"))
        for _ in range(50):
            await asyncio.sleep(0)
        thread = threading.Thread(target=halter)
        thread.start()
        pools[0].die()
        with pytest.raises(BrokenProcessPool, match="stopped with the pass"):
            await page
        thread.join()

    asyncio.run(scenario())
    assert len(spawned) == 1 and halted and halted[0] < 5
    spawned[0].join(timeout=30)
    assert spawned[0].exitcode == -signal.SIGKILL
    assert workers.replaced == 0 and workers.executor is pools[0]


def test_a_replacement_that_never_starts_stops_the_pass_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A forkserver that never answers (its spawn inside submit() has no
    bound of its own): the pages waiting to be analysed are the next pass's
    after START_TIMEOUT, and the start's thread, a daemon, keeps no exit
    waiting; once it gets its answer, it shuts its pool down."""
    monkeypatch.setattr(workers_module, "START_TIMEOUT", 0.2)
    answer = threading.Event()

    class Silent(ManualPool):
        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
            if fn is int:
                answer.wait(timeout=30)  # let go at the end
            return super().submit(fn, *args, **kwargs)

    pools: list[ManualPool] = [ManualPool()]

    def start(workers: int, extracts: bool) -> Executor:
        pools.append(Silent())
        return pools[-1]

    workers = Workers(pools[0], 1, extracts=False, start=start)

    async def scenario() -> None:
        page = asyncio.ensure_future(workers.analyse(str, "P"))
        for _ in range(50):
            await asyncio.sleep(0)
        pools[0].die()
        with pytest.raises(BrokenProcessPool, match=r"none answered within 0\.2 s"):
            await page

    asyncio.run(scenario())
    (thread,) = [t for t in threading.enumerate() if t.name == "raqib-worker-start"]
    assert thread.daemon
    answer.set()
    thread.join(timeout=30)
    assert not thread.is_alive() and pools[1].shut
    assert workers.replaced == 0 and workers.executor is pools[0]


def segfault() -> None:
    faulthandler.disable()  # pytest's, inherited: no traceback of a crash meant
    os.kill(os.getpid(), signal.SIGSEGV)


def busy() -> None:
    """Busy until killed (a minute at most): a survivor that finished first,
    before its neighbour's crash broke the pool, answered instead (a run on
    a loaded machine)."""
    started = time.monotonic()
    while time.monotonic() - started < 60:
        pass


def test_a_death_is_told_by_its_own_signal_not_by_the_survivors() -> None:
    """halt() SIGKILLs the worker that survived; the pass names the signal
    that ended the other. Each exit is read once the pool's own thread has
    reaped it (two readers of a forkserver child's status race, and the
    loser reads 255)."""
    for _ in range(5):
        pool = extraction_pool(2, extracts=False)
        survivor = pool.submit(busy)
        with pytest.raises(BrokenProcessPool):
            pool.submit(segfault).result(timeout=30)
        codes = list(halt(pool).values())
        assert -signal.SIGSEGV in codes, codes
        assert _death(codes) == "killed by SIGSEGV"
        with pytest.raises(BrokenProcessPool):
            survivor.result(timeout=30)


class TwoPart(Exception):
    """Pickles, but does not unpickle: its __init__ wants two arguments."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a} {b}")


def choking(kind: str) -> None:
    if kind == "lxml":
        lxml.etree.fromstring(b"<a><b></a")  # its error holds the parser's log
    if kind == "two":
        raise TwoPart("half", "and half")
    raise ValueError("plain")


def test_an_analysis_error_reaches_the_pass_whatever_it_holds() -> None:
    """As "cannot pickle" it hid the real error; one that did not unpickle
    broke the pool, as a dead worker would, and was charged as one."""
    pool = Workers.forked(1, extracts=False)

    async def run() -> list[Any]:
        kinds = ("lxml", "two", "plain")
        return await asyncio.gather(
            *(pool.analyse(choking, k) for k in kinds), return_exceptions=True
        )

    try:
        lxml_error, two, plain = asyncio.run(run())
    finally:
        pool.finish()
    assert isinstance(lxml_error, AnalysisError), lxml_error
    assert lxml_error.reason.startswith("XMLSyntaxError: "), lxml_error.reason
    assert isinstance(two, AnalysisError) and two.reason == "TwoPart: half and half"
    assert isinstance(plain, ValueError) and str(plain) == "plain"  # as it was raised
    assert pool.replaced == 0
