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
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

MIN_TASKS = 16  # below this, extracting in-process beats starting workers


def forkserver(preload: list[str]) -> Any:
    """The forkserver context, started so that it imports Raqib, not the cwd.

    Its server runs as `python -c …`, which puts the working directory first
    on the import path (and CPython 3.11 does not restore the parent's path
    there): a stray raqib.py in the directory a pass was started from would
    be imported instead. PYTHONSAFEPATH keeps the working directory out.
    """
    os.environ["PYTHONSAFEPATH"] = "1"
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(preload)
    return ctx


def extraction_pool(n_tasks: int) -> Executor | None:
    cores = os.cpu_count() or 1
    if n_tasks < MIN_TASKS or cores < 2:
        return None
    ctx = forkserver(["raqib.extract.page"])
    return ProcessPoolExecutor(
        max_workers=cores, mp_context=ctx, initializer=die_with, initargs=(os.getpid(),)
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
