"""The extraction pool: one worker process per core, which dies with its pass.

trafilatura is CPU-bound and holds the GIL, so a pass extracts in worker
processes. CPython's pool workers outlive a parent that was SIGKILLed (each
holds both ends of its task pipe and the forkserver's alive-pipe, so nothing
ever reaches EOF): every worker therefore watches the pass's process and exits
when it goes.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

from raqib.cores import usable_cores


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


def extraction_pool() -> Executor | None:
    """Extraction workers for a large pass crawled in one process (the user
    pinned `[fetch] processes = 1`): one per CPU the pass may use, beside the
    crawl's own thread; none on one CPU, where they would only compete with it."""
    cores = usable_cores()
    if cores < 2:
        return None
    return ProcessPoolExecutor(
        max_workers=cores, mp_context=forkserver(), initializer=die_with, initargs=(os.getpid(),)
    )


def die_with(pid: int) -> None:
    """Worker initializer: exit as soon as process `pid` is gone."""
    threading.Thread(target=_watch, args=(pid,), name="raqib-die-with", daemon=True).start()


def _watch(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)  # Linux ≥ 5.3: readable once the process exits
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        select.select([fd], [], [])
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
