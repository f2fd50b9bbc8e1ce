"""Scheduling: the revisit policy (pure, over simulated time), cron overlap,
and the daemon's clean stop."""

from __future__ import annotations

import itertools
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from raqib.config import Config, ScheduleConfig
from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import Route
from raqib.scheduler import Daemon, DaemonOptions, RevisitPolicy, WatchFacts
from tests.conftest import Gate, Raqib

pytestmark = pytest.mark.backends

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)


def state(
    added: datetime,
    last_change: datetime | None,
    errors: int = 0,
    removed: int = 0,
    st: str = "active",
) -> WatchFacts:
    return WatchFacts(
        added_at=added,
        last_change_at=last_change,
        error_count=errors,
        removed_count=removed,
        state=st,
    )


# --- the pure policy ---------------------------------------------------------------


def test_default_curve() -> None:
    p = RevisitPolicy(ScheduleConfig())
    assert p.interval(timedelta(0)) == 15 * M
    assert p.interval(2 * H + 59 * M) == 15 * M
    assert p.interval(3 * H) == H
    assert p.interval(23 * H) == H
    assert p.interval(D) == 3 * H
    assert p.interval(6 * D) == 3 * H
    assert p.interval(7 * D) == 3 * D
    assert p.interval(29 * D) == 3 * D
    assert p.interval(30 * D) == 30 * D


def test_never_changing_article_follows_the_curve_then_retires() -> None:
    p = RevisitPolicy(ScheduleConfig())
    now, last_change = T0, T0
    nxt = p.after_fetch(state(T0, None), "new_version", now)
    checks = [now]
    while nxt.state != "retired":
        gap = nxt.at - now
        age = nxt.at - last_change
        now = nxt.at
        checks.append(now)
        assert gap == min(p.interval(age - gap), p.retire_after - (age - gap)), f"gap {gap}"
        nxt = p.after_fetch(state(T0, last_change), "unchanged", now)
        assert len(checks) < 400
    # Retired by the check at the year's end: one 30 days later fetched it 391 days on.
    assert now - last_change == timedelta(days=365)
    # 12 checks in the first 3 hours, hourly to a day, 3-hourly to a week, …
    first_3h = [c for c in checks if c - T0 < 3 * H]
    assert len(first_3h) == 12
    first_day = [c for c in checks if 3 * H <= c - T0 < D]
    assert len(first_day) == 21


def test_a_change_resets_the_curve() -> None:
    p = RevisitPolicy(ScheduleConfig())
    quiet = p.after_fetch(state(T0, T0), "unchanged", T0 + 10 * D)
    assert quiet.at - (T0 + 10 * D) == 3 * D
    changed = p.after_fetch(state(T0, T0), "new_version", T0 + 10 * D)
    assert changed.at - (T0 + 10 * D) == 15 * M and changed.state == "active"


def test_errors_back_off_exponentially_and_respect_retry_after() -> None:
    p = RevisitPolicy(ScheduleConfig(error_backoff="5m", error_backoff_max="1d"))
    delays = []
    errors = 0
    for _ in range(12):
        nxt = p.after_fetch(state(T0, T0, errors=errors), "error", T0)
        delays.append(nxt.at - T0)
        errors = nxt.error_count
    assert delays[:5] == [5 * M, 10 * M, 20 * M, 40 * M, 80 * M]
    assert delays[-1] == D  # capped
    assert p.after_fetch(state(T0, T0), "error", T0, retry_after=2 * H).at - T0 == 2 * H
    # A good fetch clears the error count.
    assert p.after_fetch(state(T0, T0, errors=5), "unchanged", T0 + H).error_count == 0


def test_removed_article_is_checked_a_few_times_then_retired() -> None:
    p = RevisitPolicy(ScheduleConfig(removed_checks=3))
    removed, st = 0, "active"
    states = []
    for _ in range(5):
        nxt = p.after_fetch(state(T0, T0, removed=removed, st=st), "removed", T0)
        removed, st = nxt.removed_count, nxt.state
        states.append(st)
    assert states[:3] == ["removed", "removed", "removed"] and states[3] == "retired"
    # Back before retirement: active again.
    assert (
        p.after_fetch(state(T0, T0, removed=2, st="removed"), "restored", T0 + H).state == "active"
    )


# --- the policy through the CLI, over simulated time (RAQIB_NOW) -------------------

FAST_CURVE = """
[schedule]
curve = [["1h", "15m"], ["6h", "2h"]]
interval_after = "1d"
retire_after = "3d"
error_backoff = "5m"
"""


def _at(raqib: Raqib, when: datetime, *args: str, proc: bool = False, expect: int | None = 0):
    raqib.env["RAQIB_NOW"] = when.isoformat()
    return raqib.proc(*args, expect=expect) if proc else raqib(*args, expect=expect)


@pytest.mark.scenario
def test_simulated_weeks_through_the_cli(server, raqib: Raqib) -> None:
    raqib.home.mkdir(parents=True)
    (raqib.home / "raqib.toml").write_text(FAST_CURVE, encoding="utf-8")
    server.routes["/a"] = Route(render(VERSIONS[0], server.base))
    url = server.base + "/a"
    _at(raqib, T0, "watch", "--no-fetch", url)
    _at(raqib, T0, "check", proc=True)
    checks = [T0]
    now = T0
    while True:
        sched = _at(raqib, now, "schedule", "--json").json()
        if not sched:
            break  # retired
        nxt = datetime.fromisoformat(sched[0]["next_check_at"])
        # Nothing is checked before it is due.
        r = _at(raqib, nxt - M, "check", "--json", proc=True)
        assert '"claimed": 0' in r.out
        now = nxt
        _at(raqib, now, "check", proc=True)
        checks.append(now)
        assert len(checks) < 30
    gaps = [(b - a) for a, b in itertools.pairwise(checks)]
    assert gaps[:4] == [15 * M] * 4
    assert set(gaps[4:7]) == {2 * H}
    assert set(gaps[7:-1]) == {D} and gaps[-1] <= D
    assert checks[-1] - T0 == 3 * D  # the last check when it retires, not a day after
    rows = _at(raqib, now, "watches", "--json").json()
    assert rows[0]["state"] == "retired" and rows[0]["versions"] == 1
    log = _at(raqib, now, "log", url, "--json").json()
    assert len(log) == len(checks)


@pytest.mark.scenario
def test_changes_recheck_quickly_and_errors_back_off_through_the_cli(server, raqib: Raqib) -> None:
    raqib.home.mkdir(parents=True)
    (raqib.home / "raqib.toml").write_text(FAST_CURVE, encoding="utf-8")
    server.routes["/a"] = Route(render(VERSIONS[0], server.base))
    url = server.base + "/a"
    _at(raqib, T0, "watch", "--no-fetch", url)
    _at(raqib, T0, "check", proc=True)
    later = T0 + 10 * H  # quiet: interval is now a day
    _at(raqib, later, "check", "--all", proc=True)
    assert _at(raqib, later, "schedule", "--json").json()[0]["in_seconds"] == 86400
    server.routes["/a"] = Route(render(VERSIONS[3], server.base))
    _at(raqib, later, "check", "--all", proc=True)
    assert _at(raqib, later, "schedule", "--json").json()[0]["in_seconds"] == 15 * 60
    server.routes["/a"] = Route(b"<html><body>oops</body></html>", 500)
    delays = []
    now = later
    for _ in range(3):
        _at(raqib, now, "check", "--all", proc=True)
        row = _at(raqib, now, "schedule", "--json").json()[0]
        delays.append(row["in_seconds"])
        now = now + timedelta(seconds=row["in_seconds"])
    assert delays == [300, 600, 1200]
    server.routes["/a"] = Route(b"busy", 503, {"Content-Type": "text/plain", "Retry-After": "7200"})
    _at(raqib, now, "check", "--all", proc=True)
    assert _at(raqib, now, "schedule", "--json").json()[0]["in_seconds"] == 7200
    server.routes["/a"] = Route(b"gone", 404, {"Content-Type": "text/plain"})
    for n in (1, 2):  # the schedule says why a removed article is looked at again
        _at(raqib, now, "check", "--all", proc=True)
        row = _at(raqib, now, "schedule", "--json").json()[0]
        assert (row["state"], row["removed_count"], row["error_count"]) == ("removed", n, 0)
        shown = _at(raqib, now, "schedule").out
        assert f"gone (404 or 410) at the last {n} check" in shown and "last changed" not in shown
        now = now + timedelta(seconds=row["in_seconds"])


# --- cron overlap and the daemon --------------------------------------------------------


def test_two_checks_at_once_one_works_the_other_exits(server, raqib: Raqib) -> None:
    urls = []
    for i in range(3):
        server.routes[f"/slow/{i}"] = Route(render(VERSIONS[i], server.base))
        urls.append(server.base + f"/slow/{i}")
    raqib("watch", "--no-fetch", *urls)
    # The first pass's requests are held at the server until the others have
    # tried (a 3 s delay let the first pass end first on a loaded machine).
    gate = server.around = Gate(free=0)
    first = raqib.popen("check", "--all")
    try:
        assert gate.held.wait(60), "the first pass never reached the server"
        second = raqib.proc("check", "--all", expect=75)
        assert "another raqib pass is running" in second.err
        assert "Traceback" not in second.err and "locked" not in second.err
        waiting = raqib.popen("check", "--all", "--wait")
        gate.open.set()
        _out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
        _w_out, w_err = waiting.communicate(timeout=120)
        assert waiting.returncode == 0, w_err
    finally:
        gate.open.set()
        server.around = None
        for p in (first,):
            if p.poll() is None:
                p.kill()
    for url in urls:
        log = raqib("log", url, "--json").json()
        assert [e["outcome"] for e in log] == [
            "new_version",
            "unchanged",
        ]  # the pass, then the waiter's pass
        assert len(raqib("versions", url, "--json").json()) == 1


def test_daemon_fetches_then_stops_cleanly_on_sigterm(server, raqib: Raqib) -> None:
    server.routes["/d"] = Route(render(VERSIONS[0], server.base))
    url = server.base + "/d"
    raqib("watch", "--no-fetch", url)
    daemon = raqib.popen("daemon", "--every", "1", "--discover-every", "0")
    try:
        assert server.hit.wait(60), "the daemon never fetched"
        deadline = time.monotonic() + 60
        while not raqib("versions", url, "--json").json():
            assert time.monotonic() < deadline, "no version recorded"
            assert daemon.poll() is None
            time.sleep(0.2)  # polling the database for the recorded version
        started = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        _out, err = daemon.communicate(timeout=30)
        assert daemon.returncode == 0, err
        assert time.monotonic() - started < 25
        assert "Traceback" not in err
        # Each line of its log says when (a log appended to by cron or a service).
        stopping = next(line for line in err.splitlines() if "stopping (SIGTERM)" in line)
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} INFO ", stopping), stopping
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert raqib("log", url, "--json").json()[0]["outcome"] == "new_version"


def test_a_signal_that_comes_while_the_daemon_holds_a_lock_stops_it(tmp_path: Path) -> None:
    """The daemon's SIGTERM handler runs in its main thread between two
    bytecodes, possibly inside Event.wait with the event's lock held. Found in
    CI: a handler that set that event deadlocked the daemon, which never
    exited. The handler is called here in exactly that state."""
    script = """
import logging, signal, sys
from pathlib import Path
from raqib.scheduler import Daemon, DaemonOptions

logging.basicConfig(level=logging.INFO)
opts = DaemonOptions(home=Path(sys.argv[1]), every=3600, discover_every=None, notify_every=None)
daemon = Daemon(opts, due=lambda: 0)

def ready():
    handler = signal.getsignal(signal.SIGTERM)
    with daemon.stopping._cond:  # the lock Event.wait holds around its wait
        handler(signal.SIGTERM, None)

sys.exit(daemon.run(ready=ready))
"""
    p = subprocess.run(
        [sys.executable, "-P", "-c", script, str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "stopping (SIGTERM)" in p.stderr and "daemon stopped" in p.stderr


def test_a_sweeps_stderr_reaches_the_daemons_log_dated(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an operator: a sweep's error line and traceback reached the daemon's
    log with no date. Its own log lines are dated already and pass as they are."""
    fake = tmp_path / "fake_check.py"
    fake.write_text(
        "import sys\n"
        "sys.stderr.write('2026-12-07T10:00:00+0000 WARNING raqib.crawl: slow host\\n')\n"
        "sys.stderr.write('error: the database is locked\\n\\n')\n"
        "sys.stderr.write('x' * 40000 + '\\n')\n"
        "print('checked 0 watches')\n"
        "sys.exit(1)\n",
        encoding="utf-8",
    )
    opts = DaemonOptions(home=tmp_path, every=60, discover_every=None, notify_every=None)
    daemon = Daemon(opts, command=[sys.executable, str(fake)], due=lambda: 1)
    with caplog.at_level(logging.INFO, logger="raqib.daemon"):
        daemon.sweep()
    logged = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert logged[0] == ("WARNING", "sweep 1: error: the database is locked")
    assert logged[1][0] == "WARNING" and logged[1][1] == "sweep 1: " + "x" * 16384  # cut
    assert (
        len(logged) == 3 and logged[2][0] == "ERROR" and "sweep 1 failed (exit 1)" in logged[2][1]
    )
    assert capsys.readouterr().err == "2026-12-07T10:00:00+0000 WARNING raqib.crawl: slow host\n"


def test_a_verbose_daemon_logs_where_each_sweeps_cpu_went(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A stand-in for `raqib check`: its summary line, and with --cpu the CPU line after it.
    fake = tmp_path / "fake_check.py"
    fake.write_text(
        "import sys\n"
        "print('checked 1 watch:', *sys.argv[1:])\n"
        "if '--cpu' in sys.argv:\n"
        "    print('CPU: 1.00s in this process')\n",
        encoding="utf-8",
    )
    logged = {}
    for verbose in (0, 1):
        opts = DaemonOptions(
            home=tmp_path, every=60, discover_every=None, notify_every=None, verbose=verbose
        )
        daemon = Daemon(opts, command=[sys.executable, str(fake)], due=lambda: 1)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="raqib.daemon"):
            daemon.sweep()
        logged[verbose] = [r.getMessage() for r in caplog.records]
    assert logged[0] == [f"sweep 1: checked 1 watch: --home {tmp_path} check"]
    assert logged[1] == [
        f"sweep 1: checked 1 watch: --home {tmp_path} check --cpu",
        "sweep 1: CPU: 1.00s in this process",
    ]


def test_the_daemons_discovery_leaves_the_stories_another_worker_just_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Each worker's daemon read every story: its run skips those any run took
    in the last half of its interval (raqib.app.discover, tests/test_discovery.py)."""
    fake = tmp_path / "fake_discover.py"
    fake.write_text("import sys\nprint('read 0 source documents:', *sys.argv[3:])\n")
    opts = DaemonOptions(home=tmp_path, every=60, discover_every=1800, notify_every=None)
    daemon = Daemon(opts, command=[sys.executable, str(fake)], due=lambda: 1)
    with caplog.at_level(logging.INFO, logger="raqib.daemon"):
        daemon.discover()
    said = [r.getMessage() for r in caplog.records]
    assert said == ["discovery: read 0 source documents: discover --skip-read-within 900"], said


def test_config_prints_the_defaults(raqib: Raqib) -> None:
    out = raqib("config", "--defaults").out
    assert '[schedule]\ncurve = [["3h", "15m"], ["1d", "1h"], ["7d", "3h"], ["30d", "3d"]]' in out
    assert "retire_after" in out and "per_domain" in out and "autothrottle = true" in out
    assert Config().schedule.sweep_every == "60s"


def test_broken_config_names_the_line(raqib: Raqib) -> None:
    raqib.home.mkdir(parents=True)
    (raqib.home / "raqib.toml").write_text(
        '[fetch]\ntimeout = 30\nper_domain = "four"\n', encoding="utf-8"
    )
    r = raqib("check", expect=1)
    assert "raqib.toml:3" in r.err and "fetch.per_domain must be int" in r.err
    (raqib.home / "raqib.toml").write_text("[fetch\ntimeout = 30\n", encoding="utf-8")
    r = raqib("check", expect=1)
    assert "line 1" in r.err
    (raqib.home / "raqib.toml").write_text("[fetch]\ntimeuot = 30\n", encoding="utf-8")
    r = raqib("config", expect=1)
    assert "raqib.toml:2" in r.err and "unknown setting fetch.timeuot" in r.err
    # A setting above every section read as an "unknown section [timezone]" on line "?".
    (raqib.home / "raqib.toml").write_text('# mine\ntimezone = "Asia/Baghdad"\n', encoding="utf-8")
    r = raqib("config", expect=1)
    assert (
        "raqib.toml:2: timezone is a setting outside any [section]: put it under [display]" in r.err
    )
    for bad, said in (
        ("max_size_mb = 1e400", "fetch.max_size_mb must be a finite number under 1e+09, got inf"),
        ("concurrency = 99999999999999999999", "fetch.concurrency must be a finite number"),
        ("timeout = nan", "fetch.timeout must be a finite number"),
        ('robots_ttl = "99999999999999999999d"', "fetch.robots_ttl: '99999999999999999999d' is"),
    ):
        (raqib.home / "raqib.toml").write_text(f"[fetch]\n{bad}\n", encoding="utf-8")
        for command in ("config", "check"):
            r = raqib(command, expect=1)
            assert said in r.err and "unexpected" not in r.err, r.err
    for bad in ("processes = -1", "workers = -2"):
        (raqib.home / "raqib.toml").write_text(f"[fetch]\n{bad}\n", encoding="utf-8")
        r = raqib("check", expect=1)
        assert "fetch.processes must be 0 or more, and fetch.workers -1 or more" in r.err


def test_values_that_would_stop_or_swamp_the_monitor_are_refused(raqib: Raqib) -> None:
    """Each passed `raqib config` and then broke passes: 0 watches a batch
    checked nothing and said "checked 0 watches" forever; an archive file of
    under a byte rolled over without end (7.7 million empty files a minute);
    a download limit of 0 bytes is Scrapy's "no limit"; a text setting given
    a number failed later as an "unexpected error"."""
    raqib.home.mkdir(parents=True)
    for section, bad, said in (
        ("schedule", "claim_batch = 0", "schedule.claim_batch must be at least 1"),
        ("schedule", 'lease = "0s"', "schedule.lease must be longer than 0s"),
        ("schedule", "sweep_every = 0", "schedule.sweep_every must be longer than 0s"),
        ("schedule", 'error_backoff = "2d"', "must not exceed schedule.error_backoff_max"),
        ("schedule", "curve = []", "schedule.curve needs at least one"),
        ("schedule", 'curve = [["7d", "3h"], ["1d", "1h"]]', "from the youngest age"),
        ("schedule", 'curve = [["1d", "0s"]]', "an interval must be longer than 0s"),
        ("archive", "max_file_mb = 0.0000001", "archive.max_file_mb must be at least"),
        ("fetch", "max_size_mb = 0.0000001", "fetch.max_size_mb must be at least 0.001"),
        ("fetch", "max_redirects = -1", "fetch.max_redirects 0 or more"),
        ("fetch", "concurrency = 100000000", "fetch.concurrency and fetch.per_domain are at most"),
        ("notify", "max_attempts = 0", "notify.max_attempts must be at least 1"),
        ("discovery", "threshold = -3", "discovery.threshold is 0 to 1"),
        ("display", "timezone = 3", "display.timezone must be str, got 3"),
        ("archive", "directory = 5", "archive.directory must be str, got 5"),
    ):
        (raqib.home / "raqib.toml").write_text(f"[{section}]\n{bad}\n", encoding="utf-8")
        r = raqib("config", expect=1)
        assert said in r.err and "unexpected" not in r.err, (bad, r.err)
    (raqib.home / "raqib.toml").write_text("[schedule]\nlease = 900\n", encoding="utf-8")
    assert "lease" in raqib("config").out  # a duration may still be a number of seconds


def test_a_signal_to_the_daemons_process_group_lets_the_sweep_finish_its_fetch(
    server, raqib: Raqib
) -> None:
    """Ctrl-C, `timeout` and `kill -- -PGID` signal the whole group: the sweep
    got that signal and the daemon's, a second, and stopped at once, its
    in-flight fetch abandoned. SIGHUP ended the daemon without a word."""
    server.routes["/slow"] = Route(render(VERSIONS[0], server.base), delay=3.0)
    url = server.base + "/slow"
    raqib("watch", "--no-fetch", url)
    daemon = raqib.popen(
        "daemon", "--every", "3600", "--discover-every", "0", start_new_session=True
    )
    try:
        assert server.hit.wait(60), "the daemon never fetched"
        daemon.send_signal(signal.SIGHUP)
        os.killpg(daemon.pid, signal.SIGTERM)
        _out, err = daemon.communicate(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, err
    assert "failed" not in err and "Traceback" not in err, err
    assert raqib("log", url, "--json").json()[0]["outcome"] == "new_version"  # finished, recorded
    assert "stopped by a signal: checked 1 of 1 watch" in err  # the sweep's summary, kept
    assert "stopping (SIGTERM)" in err  # the SIGHUP before it did not end the daemon


def test_the_daemon_refuses_a_home_with_no_database(tmp_path: Path) -> None:
    """A mistyped home made an empty database and logged "nothing due" forever."""
    typo = Raqib(tmp_path / "typo")
    said = typo.proc("daemon", "--every", "1", expect=1, timeout=60).err
    assert "no Raqib database" in said and not (typo.home / "raqib.db").exists()


def test_a_sweep_past_the_grace_is_killed_with_what_it_started(tmp_path: Path) -> None:
    """A sweep deaf to SIGTERM, whose worker held its output pipe: the daemon's
    stop waited for the worker (25 s here; a worker stuck in a regular
    expression, for ever). Its whole group is killed, and the stop is bounded."""
    stub = tmp_path / "stub.py"
    stub.write_text(
        "import signal, subprocess, sys\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "subprocess.Popen(['sleep', '120'])  # holds the pipe the daemon reads\n"
        f"open({str(tmp_path / 'started')!r}, 'w').close()\n"
        "import time; time.sleep(600)\n"
    )
    opts = DaemonOptions(
        home=tmp_path, every=3600, discover_every=None, notify_every=None, stop_grace=1.0
    )
    daemon = Daemon(opts, command=[sys.executable, str(stub)])

    def stop_once_under_way() -> None:
        deadline = time.monotonic() + 30
        while not (tmp_path / "started").exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # polling for the file the sweep writes once under way
        daemon.stop()

    threading.Thread(target=stop_once_under_way, daemon=True).start()
    started = time.monotonic()
    assert daemon.run() == 0  # signal handlers are the main thread's: run here
    assert time.monotonic() - started < 20 and daemon.sweeps == 1
