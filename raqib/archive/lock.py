"""The archive's lock: crawls write WARC files, `raqib gc` removes them.

Every crawl that writes records holds the lock shared, from before it loads
the last captures it will write revisits against until after its last
record; an export holds it shared while it copies records. `raqib gc
--older-than` holds it exclusively from judging which files are old until
it has forgotten the ones it removed. Without it, a pass could append to a
file gc had judged old, or write a revisit of a record in a file gc was
removing, and the record or its replay would be lost.

Two flock()ed files in the WARC directory, the archive's own and gc's
turn. A directory several machines share locks across them where flock()
reaches the server: NFS without `local_lock`, where it is a POSIX lock, the
process's own, which an exclusive holder needs write access to the file
for. In the last minute of its wait gc takes its turn: crawls that start
then wait behind it, so a steady stream of overlapping passes cannot keep
it out. Every lock is closed in a forked child (an extraction worker, a
forkserver): a child that outlived the crawl would otherwise hold it on.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ARCHIVE = ".raqib-archive.lock"
TURN = ".raqib-gc-turn.lock"
POLL = 0.25  # seconds between tries while another holds the lock
# The last seconds of gc's wait, in which crawls and exports that start wait
# behind it: long enough for the holders of a moment to end, short enough
# that a gc which gives up (a pass of hours holds the archive) stalls none for long.
TURN_HELD = 60.0

# This process's open locks, whose descriptors a forked child closes. Opened
# and registered under _forking, which a fork waits for: a child forked
# between the two would hold the lock on. Reentrant: a signal handler that
# forked in the middle would otherwise wait for its own thread.
_open: set[_Flock] = set()
_forking = threading.RLock()


def _close_inherited() -> None:
    global _forking
    _forking = threading.RLock()  # held by the parent's forking thread when copied
    for held in _open:
        if held.fd is not None:
            os.close(held.fd)  # a close, never an unlock: that would free the parent's lock
            held.fd = None
    _open.clear()


os.register_at_fork(
    before=lambda: _forking.acquire(),
    after_in_parent=lambda: _forking.release(),
    after_in_child=_close_inherited,
)


class Busy(Exception):
    """The lock was not had within the time allowed."""


class _Flock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def attempt(self, how: int) -> bool:
        if self.fd is None:
            with _forking:
                self.fd = _opened(self.path)
                _open.add(self)
        try:
            fcntl.flock(self.fd, how | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        if self.fd is not None:
            with _forking:
                _open.discard(self)
                os.close(self.fd)
                self.fd = None


def _opened(path: Path) -> int:
    """flock() needs no write access: a reader's export, a read-only mount
    (whose first WARC write then stops the pass, as it did before the lock)."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)


class ArchiveLock:
    """One holder's hold on the archive of `directory` (which must exist)."""

    def __init__(self, directory: Path) -> None:
        self.archive = _Flock(directory / ARCHIVE)
        self.turn = _Flock(directory / TURN)

    def try_share(self) -> bool:
        """Shared, if no gc holds the archive or waits for its turn."""
        if not self.turn.attempt(fcntl.LOCK_SH):
            return False
        try:
            return self.archive.attempt(fcntl.LOCK_SH)
        finally:
            self.turn.release()  # held only to pass through: gc's turn is not blocked by it

    def try_take(self, *, turn: bool = True) -> bool:
        """Exclusive. With `turn`, gc's turn is taken first and kept until the
        archive is free too or `release`: crawls that start meanwhile wait
        behind it."""
        if turn and not self.turn.attempt(fcntl.LOCK_EX):
            return False
        return self.archive.attempt(fcntl.LOCK_EX)

    def release(self) -> None:
        self.archive.release()
        self.turn.release()


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
    crawls and exports that hold it; in the last TURN_HELD of them, those that
    start wait behind it."""
    lock = ArchiveLock(directory)
    turn_from = time.monotonic() + wait - min(wait, TURN_HELD)
    try:
        _wait(lambda: lock.try_take(turn=time.monotonic() >= turn_from), wait, waiting)
        yield
    finally:
        lock.release()
