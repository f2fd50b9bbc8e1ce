"""What a writer killed outright left beside its output, and its sweeping.

Exports, feeds and reports write a temporary file (a WACZ a temporary
directory) beside their target, and put it in place at the end; SIGTERM
removes it, but kill -9, the OOM killer or a power cut leave it, as large
as the export. The next writer into that directory removes those a day old.
"""

from __future__ import annotations

import os
import shutil
import time
from contextlib import suppress
from pathlib import Path

STALE = 86400.0  # a live writer touches its own as it writes


AGAIN = 3600.0  # a long-lived process sweeps a directory again after this long
_swept: dict[tuple[str, str], float] = {}


def sweep_stale(directory: Path, prefix: str) -> None:
    """Remove the files and directories in `directory` named with `prefix`
    and untouched for a day; once a process (an hour) for each directory: a
    report writes 33,000 pages into one, and listing it before each page made
    a report of months take minutes more each run."""
    key, now = (os.path.abspath(directory), prefix), time.monotonic()
    if now - _swept.get(key, -AGAIN) < AGAIN:
        return
    _swept[key] = now
    with suppress(OSError):
        for entry in os.scandir(directory):
            if not entry.name.startswith(prefix):
                continue
            with suppress(OSError):
                if time.time() - entry.stat(follow_symlinks=False).st_mtime < STALE:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
