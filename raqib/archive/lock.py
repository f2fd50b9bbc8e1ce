"""The archive's lock: crawls write WARC files, `raqib gc` removes them.

Every crawl that writes records holds the lock shared, from before it loads
the last captures it will write revisits against until after its last
record; an export holds it shared while it copies records. `raqib gc
--older-than` holds it exclusively from judging which files are old until
it has forgotten the ones it removed. Without it, a pass could append to a
file gc had judged old, or write a revisit of a record in a file gc was
removing, and the record or its replay would be lost.

Two flock()ed files in the WARC directory (a directory several machines
share over NFS locks across them): the archive's own, and gc's turn. A gc
that waits takes its turn first; crawls that start while it waits wait
behind it, so a steady stream of overlapping passes cannot starve it. Every
lock is closed in a forked child (an extraction worker, a forkserver): a
child that outlived the crawl would otherwise hold it on.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ARCHIVE = ".raqib-archive.lock"
TURN = ".raqib-gc-turn.lock"
POLL = 0.25  # seconds between tries while another holds the lock

_open: set[int] = set()  # this process's lock descriptors, closed in a forked child


def _close_inherited() -> None:
    for fd in _open:
        os.close(fd)  # a close, never an unlock: that would free the parent's lock
    _open.clear()


os.register_at_fork(after_in_child=_close_inherited)


class Busy(Exception):
    """The lock was not had within the time allowed."""


class _Flock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def attempt(self, how: int) -> bool:
        if self.fd is None:
            try:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except PermissionError:  # a reader's export: flock() needs no write access
                self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            _open.add(self.fd)
        try:
            fcntl.flock(self.fd, how | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        if self.fd is not None:
            _open.discard(self.fd)
            os.close(self.fd)
            self.fd = None


class ArchiveLock:
    """One holder's hold on the archive of `directory` (which must exist)."""

    def __init__(self, directory: Path) -> None:
        self.archive = _Flock(directory / ARCHIVE)
        self.turn = _Flock(directory / TURN)
        self.exclusive = False

    def try_share(self) -> bool:
        """Shared, if no gc holds the archive or waits for its turn."""
        if not self.turn.attempt(fcntl.LOCK_SH):
            return False
        try:
            return self.archive.attempt(fcntl.LOCK_SH)
        finally:
            self.turn.release()  # held only to pass through: gc's turn is not blocked by it

    def try_take(self) -> bool:
        """Exclusive. Once gc's turn is had it is kept, until the archive is
        free too or `release`: crawls that start meanwhile wait behind it."""
        if not self.turn.attempt(fcntl.LOCK_EX):
            return False
        self.exclusive = self.archive.attempt(fcntl.LOCK_EX)
        return self.exclusive

    def release(self) -> None:
        self.archive.release()
        self.turn.release()
        self.exclusive = False


def _wait(attempt: Callable[[], bool], wait: float, waiting: Callable[[], None]) -> None:
    deadline = time.monotonic() + wait
    told = False
    while not attempt():
        if time.monotonic() >= deadline:
            raise Busy
        if not told:
            waiting()
            told = True
        time.sleep(POLL)  # another process's lock: nothing to wait on but the file


@contextmanager
def shared(directory: Path, *, wait: float, waiting: Callable[[], None]) -> Iterator[None]:
    """Held shared (an export's copy), waiting up to `wait` seconds for a gc.
    Not held where the directory is missing or the lock cannot be opened (a
    reader's export of a directory it cannot write): nothing to copy, or
    nothing it can do about a gc."""
    lock = ArchiveLock(directory)
    try:
        try:
            _wait(lock.try_share, wait, waiting)
        except OSError:
            pass
        yield
    finally:
        lock.release()


@contextmanager
def exclusive(directory: Path, *, wait: float, waiting: Callable[[], None]) -> Iterator[None]:
    """Held exclusively (gc's removal), waiting up to `wait` seconds for the
    crawls and exports that hold it."""
    lock = ArchiveLock(directory)
    try:
        _wait(lock.try_take, wait, waiting)
        yield
    finally:
        lock.release()
