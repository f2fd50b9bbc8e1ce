"""The processes of a pass besides its own: the extraction pool's workers,
and the forkserver that starts crawler processes. Each dies with its pass.

Analysis (the region check, trafilatura) is CPU-bound and holds the GIL, so
a pass crawled in one process analyses in worker processes beside the crawl's
thread. CPython's pool workers outlive a parent that was SIGKILLed (each holds
both ends of its task pipe, so nothing ever reaches EOF): every worker
therefore watches the pass's process and exits when it goes.
"""

from __future__ import annotations

import gc
import os
import select
import signal
import threading
import time
import warnings
from concurrent.futures import Executor, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from raqib.cores import usable_cores

# A pass crawled in its own process analyses its pages in forked workers once
# its expected work (crawler.shards.work: a region check 1, a first fetch 4)
# reaches MIN_POOL_WORK: forking a worker and shutting it down costs about 10
# ms, and each page's hand-over some of the crawl's thread. Measured on
# bench/peers.py's small pages, one worker against none, medians of 4
# alternated runs (2026-12-05, throwaway /tmp/p24/breakeven.py): churn passes
# took 0.714 s against 0.688 at 25 pages, 0.771 against 0.759 at 50, 0.910
# against 0.923 at 100 and 1.190 against 1.240 at 200; first passes gained
# from 10 pages (0.812 s against 0.852; 0.879 against 0.973 at 25, 1.711
# against 2.470 at 200), their worker importing trafilatura while the crawl
# starts. One crawl's thread keeps one or two workers busy: a small first
# fetch's analysis takes about 4.4 ms to its 3 ms, a large one's 6.4 to 3.3
# (bench/run.py). On these two CPUs two workers did as well as one (300 first
# fetches, 2.15 s against 2.17; a churn pass 1.47 against 1.44), so a pass
# forks one per CPU beside the crawl's, and two at most.
MIN_POOL_WORK = 100
MAX_WORKERS = 2


def forkserver() -> Any:
    """The forkserver context, started so that it imports Raqib, not the cwd.

    One preload for every use (a forkserver runs once per process, with the
    preload of whoever started it): raqib.crawler.warm, so each crawler
    process forks with Scrapy, the spiders and trafilatura already imported.
    Its server runs as `python -c …`, which puts the working directory first
    on the import path (and CPython 3.11 does not restore the parent's path
    there): a stray raqib.py in the directory a pass was started from would
    be imported instead. PYTHONSAFEPATH keeps the working directory out.
    """
    os.environ["PYTHONSAFEPATH"] = "1"
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(["raqib.crawler.warm"])
    return ctx


def warm() -> None:
    """Start the forkserver now: its imports (Scrapy, trafilatura: about a
    second) run while this process does other work, such as reading feeds."""
    from multiprocessing import forkserver as fs

    forkserver()
    fs.ensure_running()


def stop() -> None:
    """End this process's forkserver now that the pass is over. Left alone,
    it notices only when its parent exits, then tears down an interpreter
    holding Scrapy and trafilatura: a third of a second added to every pass,
    and to every caller waiting on the output it inherited. Nothing to do when
    this process started none."""
    from multiprocessing import forkserver as fs

    server: Any = getattr(fs, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGKILL)  # its children, the pass's processes, have ended
    except ProcessLookupError:
        pass
    server._stop()


def extraction_workers(work: int, wanted: int = -1) -> int:
    """How many analysis workers a pass crawled in this process gets for
    `work` (crawler.shards.work): `wanted` if set ([fetch] workers, 0: none),
    else one per CPU beside the crawl's own thread, at most MAX_WORKERS, once
    the work repays their fork; none on one CPU, where they would only compete
    with the crawl."""
    if wanted >= 0:
        return wanted if work > 0 else 0
    cores = usable_cores()
    if cores < 2 or work < MIN_POOL_WORK:
        return 0
    return min(cores - 1, MAX_WORKERS)


def extraction_pool(workers: int, *, extracts: bool, slots: Path | None = None) -> Executor:
    """`workers` analysis processes, forked from this one now, by the calling
    thread (`extracts`: the pass has first fetches, so each imports
    trafilatura at once, beside the crawl's start, instead of at its first
    full extraction).

    Forked, not started from the forkserver: they share this process's
    imports (a forkserver child imports its own, about 100 MB each) and start
    in about 5 ms. A fork copies only the forking thread, and any lock another
    thread held stays held in the child. CPython resets its own (the GIL, the
    import lock, threading's, logging's) and multiprocessing flushes stdout
    and stderr before it forks; C libraries do not. So a pass forks from its
    main thread before each crawl, when the crawls' threads have ended or
    wait idle (the reactor's in its poll, with no page to parse and no TLS to
    speak): no thread is then in libxml2 or OpenSSL, whose parser and digests
    the worker uses. The worker never touches what else it inherits (database
    connections, sockets), and exits through os._exit: no finalizer at exit
    closes them."""
    pool = _pool(workers, get_context("fork"), extracts, slots)
    collecting = gc.isenabled()
    gc.disable()  # until each worker has frozen what it inherits (_worker)
    try:
        with warnings.catch_warnings():
            # Python ≥ 3.12 warns at every fork beside other threads; see above.
            warnings.simplefilter("ignore", DeprecationWarning)
            pool.submit(int)  # a fork context starts every worker at the first submit, here
    except BaseException:
        # A fork that failed, or a Ctrl-C between the forks: the workers
        # already forked would wait for this process to end, and its exit
        # would wait for them.
        halt(pool)
        raise
    finally:
        if collecting:
            gc.enable()
    return pool


def replacement_pool(workers: int, *, extracts: bool, slots: Path | None = None) -> Executor:
    """Workers to replace ones that died mid-crawl (crawler.workers), from the
    forkserver: a fork now, beside the crawl's running threads, could leave
    the child a lock that one of them held."""
    return _pool(workers, forkserver(), extracts, slots)


def _pool(workers: int, context: Any, extracts: bool, slots: Path | None) -> Executor:
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_worker,
        initargs=(os.getpid(), extracts, slots),
    )


# Where a worker says which page it holds: a file of its own in the pass's
# `slots` directory, named by its process id, holding the page's number. A
# worker the kernel ends past a page's CPU limit leaves it behind, and that
# page alone is charged (the others it died beside are not suspects).
_slot: int | None = None


def say(page: int) -> None:
    """In a worker: the page it is about to analyse (one pwrite). A slot that
    cannot be written (a full disk) is given up: the page is then found as
    before, retried alone, never failed for it."""
    global _slot
    if _slot is not None:
        try:
            os.pwrite(_slot, page.to_bytes(8, "little"), 0)
        except OSError:
            os.close(_slot)
            _slot = None


def held(slots: Path, pid: int) -> int | None:
    """The page worker `pid` last said it held; None if it said none."""
    try:
        data = (slots / str(pid)).read_bytes()
    except OSError:
        return None
    return int.from_bytes(data, "little") if len(data) == 8 else None


REAP_TIMEOUT = 10.0  # seconds for a pool's own thread to reap its killed workers


def halt(pool: Executor) -> dict[int, int]:
    """Stop `pool` now: its workers killed, whatever they hold (a pass
    stopped by a second signal must not wait for an analysis to end). The
    workers' exit codes by process id (0 left out), read once the pool's own
    thread has reaped them: two threads reading a forkserver child's status
    race, and the loser records 255."""
    processes = worker_processes(pool)
    kill(pool)
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    if manager is not None and manager.is_alive():  # not when its start was interrupted
        manager.join(timeout=REAP_TIMEOUT)
    for process in processes:
        process.join()
    return {p.pid: p.exitcode for p in processes if p.exitcode}


def kill(pool: Executor) -> None:
    """SIGKILL every worker `pool` has, and nothing else: the thread that
    starts a pool shuts it down itself (crawler.workers), so one that is
    being started can be stopped from another thread."""
    for process in worker_processes(pool):
        process.kill()  # a no-op once its exit is known


def cpu_by_worker(pool: Executor) -> dict[int, float]:
    """The CPU seconds each of `pool`'s live workers has used, by process id:
    whole (start-up, imports, hand-overs and analysis), read from /proc, so a
    pass counts them before it shuts the pool down. A worker already gone
    counts nothing (crawler.workers keeps what each last reported)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for process in worker_processes(pool):
        try:
            with open(f"/proc/{process.pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        found[process.pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return found


def worker_processes(pool: Executor) -> list[Any]:
    """The worker processes of a ProcessPoolExecutor (none once shut down)."""
    return list((getattr(pool, "_processes", None) or {}).values())


def _worker(parent: int, extracts: bool, slots: Path | None = None) -> None:
    """Worker initializer. What the worker inherited is frozen before any
    collection: a collection would write to every inherited object, copying
    the pages it shares with the pass, and could run the finalizers of the
    pass's garbage (a database connection's, say) here. Signals are the
    pass's to handle: on the first, its crawl still records what is in
    flight, so a worker must finish what it holds; it exits with the pass."""
    gc.freeze()
    gc.enable()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGPROF, signal.SIG_DFL)  # a page past its CPU ends the worker
    if slots is not None:
        global _slot
        try:
            _slot = os.open(
                slots / str(os.getpid()), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
        except OSError:
            _slot = None  # none said: see say()
    die_with(parent)
    import raqib.extract.page  # analyze_timed's module, before the first page comes

    if extracts:
        import raqib.extract.article  # noqa: F401  (trafilatura)


def die_with(pid: int) -> None:
    """Worker initializer: exit as soon as process `pid` is gone."""
    threading.Thread(target=_watch, args=(pid,), name="raqib-die-with", daemon=True).start()


def _watch(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)  # Linux ≥ 5.3: readable once the process exits
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        # poll, not select: a forked worker inherits the pass's descriptors,
        # and this one's number may be past select's 1,024.
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.poll()
    else:
        while _alive(pid):
            time.sleep(1.0)  # no pidfd on this system: poll
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
