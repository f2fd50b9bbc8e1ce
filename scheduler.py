"""When to check each watch again (the revisit policy, pure), and the daemon.

Fresh or recently edited articles are checked often and quiet old ones rarely,
on the age curve newsroom trackers use; a change resets the curve; errors back
off exponentially (never sooner than the server's Retry-After); a removed
article is checked a few more times, then retired.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from raqib.config import ScheduleConfig, parse_duration
from raqib.domain import FAILED_OUTCOMES, Outcome, WatchState

MAX_RETRY_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class WatchFacts:
    """What the policy needs to know about a watch before this fetch
    (a claimed raqib.domain.Task has these attributes too)."""

    added_at: datetime
    last_change_at: datetime | None
    error_count: int
    removed_count: int
    state: str


@dataclass(frozen=True)
class Next:
    at: datetime
    state: str  # active | removed | retired
    error_count: int
    removed_count: int


class RevisitPolicy:
    """When to fetch a watch next, from its last change's age and what this
    fetch found. An outlet with its own curve has its own policy (`by_outlet`)."""

    by_outlet: dict[int, RevisitPolicy]

    def __init__(self, cfg: ScheduleConfig) -> None:
        self.by_outlet = {}
        self.curve = [(parse_duration(age), parse_duration(every)) for age, every in cfg.curve]
        self.curve.sort()
        self.interval_after = parse_duration(cfg.interval_after)
        self.retire_after = parse_duration(cfg.retire_after)
        self.backoff = parse_duration(cfg.error_backoff)
        self.backoff_max = parse_duration(cfg.error_backoff_max)
        self.removed_checks = cfg.removed_checks

    def interval(self, age: timedelta) -> timedelta:
        """The check interval for an article whose last change is `age` old."""
        for limit, every in self.curve:
            if age < limit:
                return every
        return self.interval_after

    def error_delay(self, errors: int, retry_after: timedelta | None = None) -> timedelta:
        # In seconds, the exponent capped: a month of failures (40 in a row)
        # overflowed timedelta before min() capped the product.
        seconds = self.backoff.total_seconds() * 2.0 ** min(max(errors - 1, 0), 60)
        delay = min(
            timedelta(seconds=min(seconds, self.backoff_max.total_seconds())), self.backoff_max
        )
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        return delay

    def after_fetch(
        self,
        watch: WatchFacts,
        outcome: str,
        now: datetime,
        retry_after: timedelta | None = None,
    ) -> Next:
        own = self.by_outlet.get(getattr(watch, "outlet_id", None) or 0)
        if own is not None:
            return own.after_fetch(watch, outcome, now, retry_after)
        if outcome == Outcome.NEW_VERSION:
            return Next(now + self.interval(timedelta(0)), WatchState.ACTIVE, 0, 0)
        if outcome in FAILED_OUTCOMES:
            errors = watch.error_count + 1
            return Next(
                now + self.error_delay(errors, retry_after),
                watch.state,
                errors,
                watch.removed_count,
            )
        if outcome == Outcome.REMOVED:
            removed = watch.removed_count + 1
            if removed > self.removed_checks:
                return Next(now + self.retire_after, WatchState.RETIRED, 0, removed)
            return Next(
                now + self.error_delay(removed, retry_after), WatchState.REMOVED, 0, removed
            )
        # unchanged, not_modified, restored: follow the age curve.
        age = now - (watch.last_change_at or watch.added_at)
        if age >= self.retire_after:
            return Next(now + self.retire_after, WatchState.RETIRED, 0, 0)
        # The last check falls when the article retires, not up to an interval after.
        last = now + self.retire_after - age
        return Next(min(now + self.interval(age), last), WatchState.ACTIVE, 0, 0)


# --- the daemon -------------------------------------------------------------------
#
# Each sweep runs `raqib check` in a child process. Twisted's reactor cannot be
# restarted inside one process, and a child per sweep also means a crashing
# crawl never takes the daemon down and the daemon's memory stays flat however
# many sweeps it runs (everything a crawl allocates dies with its process).
# The cost is one interpreter start per sweep (about a second), small next to
# a sweep interval of a minute.


log = logging.getLogger("raqib.daemon")

EXIT_BUSY = 75
EXIT_STOPPED = 130  # a sweep a signal stopped: its summary says what it left due


RELAYED_WITHIN = 0.5  # seconds a sweep's end waits for its last stderr lines to be logged
LOGGED_WITHIN = 5.0  # seconds the daemon's exit waits for its runs to log their children's end


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """The child and what it started (its extraction workers): its session's
    group, which it leads. A worker left holding the child's output pipe kept
    the daemon's stop waiting for it."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        child.kill()


# A child's own log lines are dated by it (raqib.console); anything else it writes
# to stderr (an error's one line, a traceback) is dated and named by the daemon.
_DATED = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} ")
MAX_LINE = 16384  # bytes of a child's stderr line kept; the rest is cut


def _relay(stream: IO[bytes], what: str) -> None:
    """Pass a child's stderr on to the daemon's, each line dated, as it comes.
    Read to its end whatever happens to the daemon's own stderr: a child whose
    pipe filled, or closed, would block or fail on its next line."""
    with stream:
        while raw := stream.readline(MAX_LINE):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            rest = raw
            while rest and not rest.endswith(b"\n"):  # the rest of a longer line, dropped
                rest = stream.readline(MAX_LINE)
            try:
                if _DATED.match(raw):
                    sys.stderr.write(line + "\n")
                    sys.stderr.flush()
                elif line.strip():
                    log.warning("%s: %s", what, line)
            except (OSError, ValueError):
                pass  # the daemon's stderr is gone: the line is lost, not the child


def _signal_name(child: subprocess.Popen[bytes]) -> str:
    """How a child ended: "exit 1", or "killed by SIGKILL"."""
    code = child.returncode
    try:
        return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit {code}"
    except ValueError:
        return f"exit {code}"


@dataclass
class DaemonOptions:
    home: Path
    every: float  # seconds between sweeps
    discover_every: float | None  # seconds between discovery runs; None: off
    jitter: float = 0.0  # seconds of random delay added to each run
    notify_every: float | None = 60.0  # seconds between deliveries of queued notifications
    child_timeout: float = 3600.0  # a sweep that runs longer is stopped
    stop_grace: float = 20.0  # after SIGTERM, how long a running sweep may take to finish
    verbose: int = 0  # -v: each sweep also logs where its CPU went (check --cpu)


class Daemon:
    """APScheduler 3.x driving sweeps (and discovery) as child processes."""

    def __init__(
        self,
        opts: DaemonOptions,
        command: list[str] | None = None,
        due: Callable[[], int] | None = None,
    ) -> None:
        self.opts = opts
        # -P: the working directory is not put on the import path, so nothing
        # there (a stray raqib.py, config.py, …) changes what the sweep runs.
        self.command = command or [sys.executable, "-P", "-m", "raqib"]
        # How many watches are due, asked in-process: an idle sweep costs one
        # query instead of an interpreter start.
        self.due = due
        self.stopping = threading.Event()
        self.children: set[subprocess.Popen[bytes]] = set()
        self.lock = threading.Lock()
        self.ended = threading.Condition(self.lock)  # told as each run of a child ends
        self.running = 0
        self.sweeps = 0
        self.failures = 0

    def _run_child(self, args: list[str], what: str, summary: int = -1) -> int:
        """Run a raqib command; log its summary, its `summary`th line of output."""
        with self.lock:
            self.running += 1
        try:
            return self._run(args, what, summary)
        finally:
            with self.ended:
                self.running -= 1
                self.ended.notify_all()

    def _run(self, args: list[str], what: str, summary: int) -> int:
        cmd = [*self.command, "--home", str(self.opts.home), *args]
        env = {k: v for k, v in os.environ.items() if k != "RAQIB_HOME"}
        # Checked, started and registered under the lock: a stop in between
        # would tell no one, and the daemon's exit would wait for a whole pass.
        with self.lock:
            if self.stopping.is_set():
                return 0
            err_out, err_in = os.pipe()  # the child's stderr, read by _relay as it comes
            try:
                # A session of its own: a signal to the daemon's process group
                # (Ctrl-C, `timeout`, `kill -- -PGID`) reaches the daemon alone,
                # which passes one SIGTERM on; two made the pass stop at once,
                # abandoning what it was fetching.
                child = subprocess.Popen(
                    cmd,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=err_in,
                    start_new_session=True,
                )
            except OSError as exc:
                os.close(err_out)
                log.error("%s could not start: %s", what, exc)
                self.failures += 1
                return -1
            finally:
                os.close(err_in)
            self.children.add(child)
        relay = threading.Thread(target=_relay, args=(os.fdopen(err_out, "rb"), what), daemon=True)
        relay.start()
        try:
            out, _ = child.communicate(timeout=self.opts.child_timeout)
        except subprocess.TimeoutExpired:
            log.error("%s ran longer than %.0fs; stopping it", what, self.opts.child_timeout)
            child.terminate()
            out, _ = child.communicate()
        finally:
            with self.lock:
                self.children.discard(child)
        # Its last lines before the verdict on it. Not until the pipe's end: a
        # process the child left running (a browser) may hold it for long.
        relay.join(timeout=RELAYED_WITHIN)
        lines = (out or b"").decode("utf-8", "replace").strip().splitlines()
        if child.returncode == 0 or (self.stopping.is_set() and child.returncode == EXIT_STOPPED):
            # The summary line (a stopped sweep's says what it left due); with
            # -v, every line (a sweep's CPU by stage, too).
            for line in lines if self.opts.verbose else lines[summary:][:1]:
                log.info("%s: %s", what, line)
        elif child.returncode < 0 and self.stopping.is_set():
            log.warning("%s ended as the daemon stopped: %s", what, _signal_name(child))
        elif child.returncode == EXIT_BUSY:  # its own line above says which
            log.info(
                "%s skipped: busy (another raqib pass held its work, or a lock held the "
                "database); tried again at the next interval",
                what,
            )
        elif not self.stopping.is_set():
            # A crashed crawl is logged and retried at the next sweep; the daemon lives on.
            self.failures += 1
            log.error(
                "%s failed (%s); next attempt at the next interval", what, _signal_name(child)
            )
        return child.returncode

    def sweep(self) -> None:
        self.sweeps += 1
        if self.due is not None:
            try:
                waiting = self.due()
            except Exception as exc:
                log.warning("sweep %d: could not count due watches: %s", self.sweeps, exc)
                waiting = 1
            if not waiting:
                log.info("sweep %d: nothing due", self.sweeps)
                return
        # Not -v passed on: that would also log every Scrapy component of every sweep.
        cpu = ["--cpu"] if self.opts.verbose else []
        self._run_child(["check", *cpu], f"sweep {self.sweeps}")

    def discover(self) -> None:
        # Not a story another worker's daemon read in the last half interval: they
        # share them. (Jitter only delays a run: this daemon's own last is a
        # whole interval back.)
        within = ["--skip-read-within", f"{(self.opts.discover_every or 0) / 2:g}"]
        self._run_child(["discover", *within], "discovery", summary=0)  # its candidates follow it

    def deliver(self) -> None:
        self._run_child(["notify", "flush", "--quiet"], "notifications")

    def stop(self, signum: int | None = None) -> None:
        """Stop scheduling; ask running children to finish (Scrapy's graceful stop)."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        log.info("stopping (%s)", signal.Signals(signum).name if signum else "requested")
        with self.lock:
            for child in self.children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)

    def run(self, ready: Callable[[], None] | None = None) -> int:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        sched = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(2)},
            job_defaults={
                "coalesce": True,  # a backlog of missed sweeps runs once
                "max_instances": 1,  # never two sweeps at once
                "misfire_grace_time": max(int(self.opts.every), 30),
            },
        )
        now = datetime.now(UTC)
        sched.add_job(
            self.sweep,
            IntervalTrigger(seconds=self.opts.every, jitter=self.opts.jitter or None),
            id="sweep",
            next_run_time=now,
        )
        if self.opts.notify_every:
            sched.add_job(
                self.deliver,
                IntervalTrigger(seconds=self.opts.notify_every, jitter=self.opts.jitter or None),
                id="notify",
            )
        if self.opts.discover_every:
            sched.add_job(
                self.discover,
                IntervalTrigger(seconds=self.opts.discover_every, jitter=self.opts.jitter or None),
                id="discover",
                next_run_time=now,
            )
        # The handler only notes the signal. It runs in the main thread between
        # two bytecodes, possibly while that thread holds a lock (an Event's, in
        # Event.wait; the logging module's): setting the event or logging from
        # there deadlocked a daemon told to stop. The loop sees the note within
        # its wait's timeout.
        signalled: list[int] = []
        hangups: list[int] = []  # SIGHUP ended the daemon silently, its sweep orphaned
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
        for sig in previous:
            signal.signal(sig, lambda signum, _frame: signalled.append(signum))
        if hasattr(signal, "SIGHUP"):
            previous[signal.SIGHUP] = signal.getsignal(signal.SIGHUP)
            signal.signal(signal.SIGHUP, lambda signum, _frame: hangups.append(signum))
        try:
            sched.start()
            log.info(
                "daemon started: sweep every %gs, discovery every %s",
                self.opts.every,
                f"{self.opts.discover_every:g}s" if self.opts.discover_every else "never",
            )
            if ready is not None:
                ready()
            while not signalled and not self.stopping.wait(0.2):
                if hangups:
                    hangups.clear()
                    log.info(
                        "SIGHUP: nothing to reload, each sweep reads raqib.toml afresh "
                        "(the daemon's own intervals take a restart); SIGTERM stops it"
                    )
            self.stop(signalled[0] if signalled else None)
            # Let running children finish their in-flight work; every fetch is one
            # transaction, so one killed after the grace period leaves nothing half-written.
            sched.pause()  # no new run; the running ones end with their children
            deadline = time.monotonic() + self.opts.stop_grace
            with self.lock:  # no child starts once stopping is set (_run_child)
                running = list(self.children)
            for child in running:
                try:
                    child.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    _kill_group(child)
            sched.shutdown(wait=False)
            with self.ended:  # each run logs how its child ended; bounded, come what may
                self.ended.wait_for(lambda: not self.running, timeout=LOGGED_WITHIN)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("daemon stopped after %d sweeps", self.sweeps)
        return 0
