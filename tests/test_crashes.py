"""Crashes and concurrency: SIGKILL mid-pass, daemon beside cron, a full or
read-only disk. The database must stay whole and every watch correct."""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.procs import descendants
from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import PageServer, Route
from tests.conftest import Gate, Raqib

KILLS = 5
WATCHES = 24


def page(server: PageServer, i: int, edition: int) -> Route:
    html = render(VERSIONS[0], server.base).decode()
    marker = f"<p>فقرة خاصة بالمقال رقم {i} في طبعته رقم {edition} لاختبار الانهيارات.</p>"
    return Route(
        html.replace(
            '<div class="entry-content">', '<div class="entry-content">' + marker, 1
        ).encode(),
        delay=0.15,
    )


def survivors(pids: list[int], timeout: float) -> list[int]:
    """Those of `pids` still running after `timeout` (waits on pidfds, no polling)."""
    fds = {}
    for pid in pids:
        try:
            fds[os.pidfd_open(pid)] = pid
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    try:
        pending = set(fds)
        while pending and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select(list(pending), [], [], left)
            pending -= set(ready)
        return sorted(fds[fd] for fd in pending)
    finally:
        for fd in fds:
            os.close(fd)


def consistency(raqib: Raqib) -> list[str]:
    """What must hold in the database whatever moment a process died."""
    from sqlalchemy import create_engine, text

    problems = []
    engine = create_engine(raqib.database_url)
    try:
        with engine.connect() as con:
            if engine.dialect.name == "sqlite":
                check = con.execute(text("PRAGMA integrity_check")).scalar()
                if check != "ok":
                    problems.append(f"integrity_check: {check}")
            for wid, count, content_hash in con.execute(
                text("SELECT id, version_count, content_hash FROM watches")
            ):
                numbers = list(
                    con.scalars(
                        text("SELECT number FROM versions WHERE watch_id = :w ORDER BY number"),
                        {"w": wid},
                    )
                )
                if numbers != list(range(1, count + 1)):
                    problems.append(f"watch {wid}: versions {numbers} but version_count {count}")
                if count:
                    latest = con.scalar(
                        text(
                            "SELECT content_hash FROM versions WHERE watch_id = :w AND number = :n"
                        ),
                        {"w": wid, "n": count},
                    )
                    if latest != content_hash:
                        problems.append(
                            f"watch {wid}: content hash does not match its latest version"
                        )
            orphans = con.scalar(
                text(
                    "SELECT COUNT(*) FROM versions v LEFT JOIN fetches f ON f.id = v.fetch_id "
                    "WHERE f.id IS NULL OR f.version_id != v.id OR f.outcome != 'new_version'"
                )
            )
            if orphans:
                problems.append(f"{orphans} versions without the fetch that made them")
            dangling = con.scalar(
                text(
                    "SELECT COUNT(*) FROM fetches f LEFT JOIN versions v ON v.id = f.version_id "
                    "WHERE f.version_id IS NOT NULL AND v.id IS NULL"
                )
            )
            if dangling:
                problems.append(f"{dangling} fetches pointing at no version")
            missing_blobs = con.scalar(
                text(
                    "SELECT COUNT(*) FROM versions v LEFT JOIN blobs b ON b.hash = v.raw_hash "
                    "WHERE v.raw_hash IS NOT NULL AND b.hash IS NULL"
                )
            )
            if missing_blobs:
                problems.append(f"{missing_blobs} versions whose raw page is missing")
    finally:
        engine.dispose()
    return problems


@pytest.mark.backends
def test_sigkill_at_random_points(server, raqib: Raqib) -> None:
    seed = int(os.environ.get("RAQIB_KILL_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    urls = [f"{server.base}/crash/{i}" for i in range(WATCHES)]
    edition = {i: 0 for i in range(WATCHES)}
    for i in range(WATCHES):
        server.routes[f"/crash/{i}"] = page(server, i, 0)
    raqib("watch", "--no-fetch", *urls)
    for kill in range(KILLS):
        for i in rng.sample(range(WATCHES), WATCHES // 3):  # some articles change before each pass
            edition[i] += 1
            server.routes[f"/crash/{i}"] = page(server, i, edition[i])
        server.hit.clear()
        # Every other pass is split across two crawler processes; the others
        # analyse in the pass's process, or in an extraction worker forked from it.
        (raqib.home / "raqib.toml").write_text(
            f"[fetch]\nprocesses = {1 + kill % 2}\nworkers = {1 if kill % 4 == 0 else -1}\n",
            encoding="utf-8",
        )
        proc = raqib.popen("check", "--all")
        assert server.hit.wait(30), f"seed {seed}: the pass never started"
        time.sleep(rng.uniform(0.05, 1.5))  # the random point of death, not synchronisation
        below = descendants(proc.pid)
        proc.kill()
        proc.wait(timeout=10)
        # The extraction workers, crawler processes and forkserver go with the pass.
        assert not survivors(below, timeout=30), f"seed {seed}: processes outlived the pass"
        problems = consistency(raqib)
        assert not problems, f"seed {seed}, kill {kill}: " + "; ".join(problems)

    # The next pass reclaims the dead passes' leases at once and records every watch.
    before = {u: len(raqib("log", u, "--json").json()) for u in urls}
    r = raqib.proc("check", "--all")
    assert f"checked {WATCHES} watches" in r.out, r.out + r.err
    assert not consistency(raqib)
    for i, url in enumerate(urls):
        log = raqib("log", url, "--json").json()
        assert len(log) == before[url] + 1
        assert log[-1]["outcome"] in ("new_version", "unchanged"), (seed, url, log[-1])
        latest = raqib("versions", url, "--json").json()[-1]
        assert f"في طبعته رقم {edition[i]} " in latest["text"], (
            seed,
            url,
        )  # the current page is the latest version


@pytest.mark.slow
@pytest.mark.backends
def test_daemon_and_cron_together(server, raqib: Raqib) -> None:
    urls = [f"{server.base}/both/{i}" for i in range(10)]
    for i in range(10):
        server.routes[f"/both/{i}"] = page(server, i, 0)
    raqib("watch", "--no-fetch", *urls)
    daemon = raqib.popen("daemon", "--every", "1", "--discover-every", "0", "--jitter", "0")
    try:
        assert server.hit.wait(60)
        results = []
        for _ in range(4):
            crons = [raqib.popen("check", "--all") for _ in range(2)]
            for c in crons:
                _out, err = c.communicate(timeout=120)
                results.append((c.returncode, err))
        for code, err in results:
            assert code in (0, 75), err
            assert "locked" not in err and "Traceback" not in err, err
        assert any(code == 0 for code, _ in results)
    finally:
        daemon.terminate()
        _out, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0 and "Traceback" not in err and "locked" not in err
    for url in urls:
        assert len(raqib("versions", url, "--json").json()) == 1  # no duplicate versions
    assert not consistency(raqib)


# --- a full disk, a read-only home (a small tmpfs, when this machine lets us mount) ---------


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    p = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_full_disk_is_a_clear_error_and_corrupts_nothing(server, tmpfs: Path) -> None:
    raqib = Raqib(tmpfs / "home")
    server.routes["/full"] = page(server, 0, 0)
    raqib("watch", "--no-fetch", server.base + "/full")
    raqib.proc("check", "--all")
    # Fill the disk, then serve a big new edition.
    filler = tmpfs / "filler"
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    big = (
        render(VERSIONS[3], server.base)
        .decode()
        .replace("</article>", "<p>" + "نص طويل جدا " * 20000 + "</p></article>")
    )
    server.routes["/full"] = Route(big.encode())
    r = raqib.proc("check", "--all", expect=None)
    assert r.code != 0
    assert "disk is full" in r.err and "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) <= 3
    filler.unlink()
    assert not consistency(raqib)
    raqib.proc("check", "--all")  # space again: the pass works
    assert len(raqib("versions", server.base + "/full", "--json").json()) == 2


def test_read_only_home_is_a_clear_error(server, tmpfs: Path) -> None:
    raqib = Raqib(tmpfs / "home")
    server.routes["/ro"] = page(server, 0, 0)
    raqib("watch", "--no-fetch", server.base + "/ro")
    raqib.proc("check", "--all")
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    try:
        r = raqib.proc("check", "--all", expect=None)
        assert r.code != 0 and "read-only" in r.err and "Traceback" not in r.err, r.err
        r = raqib.proc("watch", "--no-fetch", server.base + "/other", expect=None)
        assert r.code != 0 and "Traceback" not in r.err, r.err
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(tmpfs)], check=True)
    assert not consistency(raqib)
    assert [w["url"] for w in raqib("watches", "--json").json()] == [server.base + "/ro"]


def test_unwritable_or_strange_home(raqib: Raqib, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    bad = Raqib(blocker / "home")
    r = bad("watch", "--no-fetch", "https://a.example/x", expect=1)
    assert "cannot create the home directory" in r.err and len(r.err.strip().splitlines()) == 1
    fresh = Raqib(tmp_path / "new" / "nested" / "home")
    fresh("watch", "--no-fetch", "https://a.example/x")
    assert (tmp_path / "new" / "nested" / "home" / "raqib.db").exists()


def test_a_pass_stopped_by_a_signal_says_so_and_leaves_the_rest_due(
    server: PageServer, raqib: Raqib
) -> None:
    """Ctrl-C mid-pass: the pass records what was in flight, says how many of
    the watches it claimed it checked, exits 130 so that a wrapper can tell,
    and the next pass checks the rest; no page is fetched twice."""
    n = 12
    urls = [f"{server.base}/stop/{i}" for i in range(n)]
    for i in range(n):
        server.routes[f"/stop/{i}"] = page(server, i, 0)
    raqib("watch", "--no-fetch", *urls)
    gate = server.around = Gate(free=4)  # robots.txt and three pages, then the rest wait
    proc = raqib.popen("check", "--all")
    try:
        assert gate.held.wait(60), "no request was held"
        proc.send_signal(signal.SIGINT)
    finally:
        gate.open.set()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    fetched = [w for w in raqib("watches", "--json").json() if w["versions"]]
    left = n - len(fetched)
    assert 3 <= len(fetched) < n
    assert f"stopped by a signal: checked {len(fetched)} of {n} watches ({left} due again)" in out
    server.around = None
    again = raqib.proc("check")  # only what is due: the watches the stop left
    assert f"checked {left} watches" in again.out
    assert all(w["versions"] == 1 for w in raqib("watches", "--json").json())
    pages = [p for p, _ in server.requests if p.startswith("/stop/")]
    assert sorted(pages) == sorted(f"/stop/{i}" for i in range(n))


_FOREIGN_OWNER = """
import os, sys
open("/proc/sys/kernel/ns_last_pid", "w").write(sys.argv[1])  # a PID no process has out there
pid = os.fork()
if pid == 0:
    from raqib.app.home import new_owner
    print(new_owner(), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""


@pytest.mark.backends
def test_a_lease_from_another_pid_namespace_on_this_host_is_kept(server, raqib: Raqib) -> None:
    """Two containers on host networking share the host's name, each with PIDs
    of its own. A pass in one took the other's live leases as a dead process's,
    and fetched its watches a second time. A dead process of its own is still
    released at once."""
    from datetime import timedelta

    from raqib.app.home import new_owner

    if os.geteuid() != 0:
        pytest.skip("needs root to make a PID namespace (CI runs as root)")
    # The child's PID: one no process has here, near the top of the range, which
    # PIDs reach last (kernels before 6.14 share one pid_max among namespaces).
    top = int(Path("/proc/sys/kernel/pid_max").read_text())
    pid = next(n for n in range(top - 2, 300, -1) if not Path(f"/proc/{n + 1}").exists())
    made = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-P", "-c",
         _FOREIGN_OWNER, str(pid)],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[1],
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    foreign = made.stdout.strip()
    host, pid_text, _nonce = foreign.split(":")
    assert pid_text == str(pid + 1) and host != new_owner().split(":")[0]
    gone = subprocess.Popen([sys.executable, "-c", ""])
    gone.wait()  # reaped: its pid names no process here
    dead = f"{new_owner().split(':')[0]}:{gone.pid}:deadbeef"

    server.routes["/held"] = page(server, 0, 0)
    raqib("watch", "--no-fetch", server.base + "/held")
    for owner, claimed in ((foreign, False), (dead, True)):
        storage = raqib.open_storage()
        try:
            now = datetime.now(UTC)
            storage.leases.release(foreign)
            [_held] = storage.leases.claim(
                owner, now=now, lease=timedelta(minutes=15), limit=5, due_only=False
            )
        finally:
            storage.close()
        server.requests.clear()
        r = raqib.proc("-v", "check", "--json", expect=None)
        if claimed:
            assert r.code == 0 and r.json()["claimed"] == 1, r.err
            assert f"releasing watches leased by dead process {dead}" in r.err
        else:  # the other pass's, running: nothing to do here
            assert r.code == 75 and f"1 watch held by {foreign}" in r.err, r.err
        fetched = [p for p, _h in server.requests if p == "/held"]
        assert len(fetched) == claimed


def test_a_dead_pass_waiting_for_a_share_of_the_sites_stops_counting(raqib: Raqib) -> None:
    """A pass waiting for other workers to leave it sites counts as a worker:
    one that died on this host kept the others to a share of the sites, with
    nobody to take the rest, until its row ran out. The next pass forgets it."""
    from datetime import timedelta

    from raqib.app.claims import reap_dead_leases
    from raqib.app.home import new_owner

    gone = subprocess.Popen([sys.executable, "-c", ""])
    gone.wait()  # reaped: its pid names no process here
    dead = f"{new_owner().split(':')[0]}:{gone.pid}:deadbeef"
    lease = timedelta(minutes=15)
    raqib("watch", "--no-fetch", "https://a.example/1", "https://b.example/1")
    storage = raqib.open_storage()
    try:
        now = datetime.now(UTC)
        storage.leases.crowded(dead, now=now, until=now + lease / 3)
        alive = new_owner()
        assert len(storage.leases.claim(alive, now=now, lease=lease, limit=1)) == 1
        # Two workers, two sites: it holds its share and leaves the other site.
        assert storage.leases.claim(alive, now=now, lease=lease, limit=10) == []
        reap_dead_leases(storage, now)
        assert storage.leases.sweepers(now=now) == [alive]  # the dead one is gone
        assert len(storage.leases.claim(alive, now=now, lease=lease, limit=10)) == 1
    finally:
        storage.close()


def test_a_sweep_that_leaves_a_site_to_another_worker_says_so(raqib: Raqib) -> None:
    """The watches due on a site another worker holds are left to it, even
    when what it holds there is not due (a `check --all`, a watch just
    added): the pass says another is running (75), not that nothing is due."""
    from datetime import timedelta

    from sqlalchemy import text

    raqib("watch", "--no-fetch", "https://one.example/a", "https://one.example/b")
    foreign = "elsewhere/4026531836:4242:cafe"  # another machine's pass: trusted until expiry
    storage = raqib.open_storage()
    try:
        with storage.db.engine.begin() as conn:
            conn.execute(text("UPDATE watches SET next_check_at = '2100-01-01' WHERE id = 1"))
        now = datetime.now(UTC)
        held = storage.leases.claim(
            foreign, now=now, lease=timedelta(minutes=15), limit=1, due_only=False, after_id=0
        )
        assert [t.watch_id for t in held] == [1]
    finally:
        storage.close()
    r = raqib.proc("check", "--json", expect=None)
    assert r.code == 75 and f"1 watch due on a site held by {foreign}" in r.err, r.err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_outside_the_crawl_lets_the_leases_go_and_exits_130(
    server: PageServer, raqib: Raqib, sig: signal.Signals
) -> None:
    """Between the claim and the crawl (a crawler process starting), or after
    it (judging, telling): SIGTERM killed the pass with its leases held (the
    next pass on another machine waited 15 minutes for them), and Ctrl-C
    printed "Aborted!" with exit 1. Both now let the leases go and exit 130."""
    urls = [f"{server.base}/s/{i}" for i in range(3)]
    for i in range(3):
        server.routes[f"/s/{i}"] = page(server, i, 0)
    raqib("watch", "--no-fetch", *urls)
    signalled = (
        "import os, sys\n"
        "from raqib.app import passes\n"
        "def _crawl(*args, **kwargs):\n"
        f"    os.kill(os.getpid(), {int(sig)})  # as the crawl is about to start\n"
        "    raise AssertionError('the signal was not taken')\n"
        "passes._crawl = _crawl\n"
        "from raqib.cli import run\n"
        f"sys.argv = ['raqib', '--home', {str(raqib.home)!r}, 'check']\n"
        "run()\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", signalled], capture_output=True, text=True, timeout=120,
        env={**os.environ, **raqib.env},
    )  # fmt: skip
    assert p.returncode == 130, p.stderr
    assert "stopped by a signal: what the pass recorded is kept" in p.stderr
    assert "Aborted" not in p.stderr and "Traceback" not in p.stderr
    store = raqib.open_storage()
    try:
        assert store.leases.readers(now=datetime.now(UTC)) == []
        assert store.leases.holders(now=datetime.now(UTC), due_only=False) == {}  # not to expire
    finally:
        store.close()
