"""Several workers on one PostgreSQL database: concurrent `raqib check`
passes fetch every due page exactly once, and each says what it checked."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import Route
from tests.conftest import ROOT, ConcurrencyProbe, Raqib, raqib_command

PAGES = 300


@pytest.mark.parametrize("workers", [2, 4])
def test_workers_on_one_site_keep_its_limit_and_fetch_each_page_once(
    server, tmp_path, pg_cluster, workers: int
) -> None:
    """Each worker keeps `fetch.per_domain` alone, so one at a time fetches a
    site: however many run at once, the site never has more than its limit in
    flight. The others find it taken and say so (exit 75), or nothing left."""

    url = pg_cluster.new_database()
    env = {"RAQIB_DATABASE_URL": url}
    paths = [f"/w/{i}" for i in range(PAGES)]
    for path in paths:
        server.routes[path] = Route(render(VERSIONS[0], server.base), delay=0.02)
    probe = ConcurrencyProbe()
    server.around = probe
    homes = [tmp_path / f"worker{i}" for i in range(workers)]
    for h in homes:
        h.mkdir()
        # Small claims, so that a worker's leases come and go batch after batch.
        (h / "raqib.toml").write_text(
            "[schedule]\nclaim_batch = 40\n[fetch]\nper_domain = 2\nautothrottle = false\n",
            encoding="utf-8",
        )
    Raqib(homes[0], env)("watch", "--no-fetch", *(server.base + p for p in paths))
    server.requests.clear()
    procs = [
        subprocess.Popen(
            [*raqib_command(), "--home", str(h), "check", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, **env},
        )
        for h in homes
    ]
    results = [(p.wait(timeout=600), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    fetched = Counter(path for path, _h in server.requests if path != "/robots.txt")
    assert set(fetched) == set(paths) and set(fetched.values()) == {1}, fetched.most_common(3)
    assert 1 <= probe.most <= 2, probe.most  # one site's limit, across every worker
    checked = []
    for code, out, err in results:
        if code == 75:  # found the site taken by another worker: said so, checked nothing
            assert "another raqib pass is running" in err
            continue
        assert code == 0, err
        summary = json.loads(out)
        assert sum(summary["outcomes"].values()) == summary["claimed"]
        checked.append(summary["claimed"])
    assert sum(checked) == PAGES


def test_a_worker_whose_clock_is_off_the_databases_claims_nothing(
    server, tmp_path, pg_cluster, monkeypatch, caplog
) -> None:
    """Leases are read on each worker's clock: one 20 minutes ahead took other
    workers' live leases as expired, one 5 minutes behind had its own taken
    while it worked. Either reads no outlet, claims no watch and sends no
    message, saying why; a minute off is a warning. The limit follows the
    lease: with leases of a minute, 25 s is too far."""
    from datetime import UTC, datetime, timedelta

    from raqib.app import notifications, outlets
    from raqib.app.errors import ClockSkew
    from raqib.app.home import open_app
    from raqib.app.passes import run_check
    from tests.test_notify import Receiver, _event

    env = {"RAQIB_DATABASE_URL": pg_cluster.new_database()}
    server.routes["/clock"] = Route(render(VERSIONS[0], server.base))
    server.routes["/feed.xml"] = Route(b"<rss><channel></channel></rss>")
    receiver = Receiver()
    raqib = Raqib(tmp_path, env)
    raqib("watch", "--no-fetch", server.base + "/clock")
    raqib("outlet", "add", "clocked", "--feed", server.base + "/feed.xml")
    raqib("notify", "add", f"http://{receiver.base}/hook")
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    def skewed(off: timedelta) -> Any:
        return open_app(tmp_path, clock=lambda: datetime.now(UTC) + off)

    try:
        app = skewed(timedelta(0))
        try:
            notifications.queue_events(app, [_event()], batch="one")
        finally:
            app.close()
        for off, how in ((timedelta(minutes=20), "ahead of"), (timedelta(minutes=-5), "behind")):
            app = skewed(off)
            try:
                with pytest.raises(ClockSkew, match=f"clock is {abs(off).seconds} s {how}"):
                    run_check(app)
                with pytest.raises(ClockSkew):  # `raqib discover --outlet clocked`
                    outlets.read_now(app, "clocked")
                with pytest.raises(ClockSkew):  # `raqib notify flush`: exit 1
                    notifications.flush_notifications(app, timeout=5, strict=True)
                waiting = notifications.flush_notifications(app, timeout=5)  # a pass's
                assert (waiting.sent, waiting.retrying) == (0, 1)
            finally:
                app.close()
        (tmp_path / "raqib.toml").write_text('[schedule]\nlease = "1m"\n', encoding="utf-8")
        app = skewed(timedelta(seconds=25))
        try:
            with pytest.raises(ClockSkew, match="clock is 25 s ahead of"):
                run_check(app)
        finally:
            app.close()
        assert not server.requests and receiver.attempts == 0  # no feed, page or message
        (tmp_path / "raqib.toml").unlink()
        app = skewed(timedelta(minutes=1))
        logging.root.addHandler(caplog.handler)  # the CLI's console set the root's handlers
        try:
            summary = run_check(app)
            sent = notifications.flush_notifications(app, timeout=5, strict=True)
        finally:
            logging.root.removeHandler(caplog.handler)
            app.close()
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert summary.claimed == 1 and "/clock" in [p for p, _h in server.requests]
    assert "clock is 60 s ahead of the database server's: keep it in time" in caplog.text
    assert sent.sent == 1 and len(receiver.got["/hook"]) == 1
    # RAQIB_NOW is a time chosen on purpose, but not beside other workers: 20
    # minutes ahead, it took their live leases as expired (a hunt: 280 pages of
    # 412 fetched twice). Alone on the database, it is used as asked.
    from raqib.clock import Frozen

    frozen = open_app(tmp_path, clock=Frozen(datetime.now(UTC) + timedelta(minutes=20)))
    try:
        outlets.read_now(frozen, "clocked")  # alone: as asked
        frozen.storage.leases.claim(
            "elsewhere:1:1", now=datetime.now(UTC), lease=timedelta(minutes=5), limit=1,
            due_only=False, after_id=0,
        )  # fmt: skip
        with pytest.raises(
            ClockSkew, match=r"RAQIB_NOW is 1[12]\d\d s ahead of the database server"
        ):
            run_check(frozen)
    finally:
        frozen.storage.leases.release("elsewhere:1:1")
        frozen.close()


class Gate:
    """Holds the first request to reach the server until released; lets the
    others through (the server answers each request on a thread of its own)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.first = True
        self.arrived = threading.Event()
        self.release = threading.Event()

    def __enter__(self) -> None:
        with self.lock:
            first, self.first = self.first, False
        if first:
            self.arrived.set()
            self.release.wait(timeout=120)

    def __exit__(self, *exc: object) -> None:
        pass


@pytest.mark.parametrize("when", ["in flight", "before its crawl"])
def test_a_worker_that_stalls_past_its_lease_sends_nothing_it_had_queued(
    server, tmp_path, pg_cluster, when: str
) -> None:
    """A pass stopped (SIGSTOP: swapped out, its VM frozen) for longer than
    its lease may find its watches, and their site, taken by another worker.
    When it resumes it sends none of the requests it had queued for them:
    sent beside the other worker's, they would double the site's limit and
    fetch each page twice. Stopped with a request in flight, that page is
    fetched and not written (a lease lost); stopped between its claim and its
    crawl, it sends nothing. Nothing is written twice."""
    env = {"RAQIB_DATABASE_URL": pg_cluster.new_database()}
    paths = [f"/s/{i}" for i in range(20)]
    for path in paths:
        server.routes[path] = Route(render(VERSIONS[0], server.base))
    homes = [tmp_path / "stalls", tmp_path / "other"]
    for h in homes:
        h.mkdir()
        # A lease long enough that the stalled pass has not renewed it before it
        # is stopped (a renewal is due a third of a lease after the crawl starts).
        (h / "raqib.toml").write_text(
            '[schedule]\nlease = "9s"\n[fetch]\nper_domain = 1\nautothrottle = false\n'
            "obey_robots = false\n",
            encoding="utf-8",
        )
    Raqib(homes[0], env)("watch", "--no-fetch", *(server.base + p for p in paths))
    server.requests.clear()
    gate = Gate()  # holds the stalled pass's first request, if it sends one
    server.around = gate
    storage = Raqib(homes[1], env).open_storage()
    stalls = subprocess.Popen(
        [*raqib_command(), "--home", str(homes[0]), "check", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        start_new_session=True,  # its own process group: stopped whole
    )
    try:
        deadline = time.monotonic() + 120
        if when == "in flight":
            assert gate.arrived.wait(timeout=120), stalls.communicate(timeout=60)
        else:  # as soon as its claim is committed: its crawl is still starting
            while not storage.leases.holders(now=datetime.now(UTC), due_only=False):
                assert time.monotonic() < deadline and stalls.poll() is None
                time.sleep(0.005)
        os.killpg(stalls.pid, signal.SIGSTOP)
        with gate.lock:
            gate.first = False  # the other worker's requests pass
        in_flight = 1 if gate.arrived.is_set() else 0
        # Stopped "before its crawl", its first request may still (under load)
        # have left first: the in-flight case again, and what follows holds for both.
        assert in_flight == 1 or when == "before its crawl"
        # Its leases run out on their own (time is the condition here).
        while storage.leases.holders(now=datetime.now(UTC), due_only=False):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        other = Raqib(homes[1], env).proc("check", "--json")
        assert json.loads(other.out)["claimed"] == len(paths)
    finally:
        gate.release.set()
        os.killpg(stalls.pid, signal.SIGCONT)
    out, err = stalls.communicate(timeout=120)
    assert stalls.returncode == 0, err
    assert "ran out while this pass held them" in err
    summary = json.loads(out)
    assert summary["claimed"] == len(paths) and sum(summary["outcomes"].values()) == 0
    # What was in flight was fetched and not written; the rest was never sent, and
    # is not due again: the other worker took it all (and checked it).
    assert (summary["leases_lost"], summary["left"]) == (len(paths), 0)
    fetched = Counter(path for path, _h in server.requests)
    assert set(fetched) == set(paths)
    assert sorted(fetched.values()) == [1] * (len(paths) - in_flight) + [2] * in_flight, fetched
    try:
        assert {w.version_count for w in storage.watches.all()} == {1}
    finally:
        storage.close()


class _Recorder:
    """What LeaseKeeper reads of a recorder; renewals answer from `answers`."""

    def __init__(self, tasks: set[int]) -> None:
        self.tasks = dict.fromkeys(tasks)
        self.writing: set[int] = set()
        self.answers: list[set[int] | Exception] = []
        self.calls = 0
        self.dropped = 0

    def unwritten(self) -> set[int]:
        return set(self.tasks) - self.writing

    def renew_leases(self, now: datetime, lease: timedelta) -> set[int]:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_a_lease_keeper_whose_renewals_fail_tries_again_in_a_while_then_sends_nothing() -> None:
    """With the database out of reach, a renewal can take a connection
    timeout: tried before each request, it blocked the crawl that long for
    every request sent. It is tried again a sixth of a lease later; once the
    leases last renewed have run out, nothing is sent."""
    from raqib.crawler.extensions import LeaseKeeper

    t0 = datetime(2026, 12, 6, tzinfo=UTC)
    lease = timedelta(minutes=15)
    now = [t0]
    rec = _Recorder({1, 2})
    keeper = LeaseKeeper(rec, lease, lambda: now[0])
    rec.answers = [{1, 2}]
    keeper.renew()  # as the crawl opens
    now[0] = t0 + lease / 2  # the renewals fell behind (the loop's failed)
    rec.answers = [OSError("unreachable")] * 3
    assert keeper.holds(1) and keeper.holds(2) and rec.calls == 2  # one attempt: still leased
    now[0] = t0 + lease / 2 + lease / 6 - timedelta(seconds=1)
    assert keeper.holds(1) and rec.calls == 2  # not tried again yet
    now[0] = t0 + lease + timedelta(seconds=1)
    assert not keeper.holds(1) and not keeper.holds(2) and rec.calls == 3  # run out: none sent
    now[0] += lease / 6
    rec.answers = [{2}]  # back: watch 1 was taken by another worker meanwhile
    assert not keeper.holds(1) and keeper.holds(2) and rec.calls == 4


def test_a_lease_keeper_counts_no_lease_as_lost_that_the_writer_freed() -> None:
    """A batch write frees the leases of the watches it records; a renewal
    that runs before the crawl has heard back must not take them for leases
    lost to a stall. A watch lost and later taken again is sent again."""
    from raqib.crawler.extensions import LeaseKeeper

    t0 = datetime(2026, 12, 6, tzinfo=UTC)
    rec = _Recorder({1, 2, 3})
    keeper = LeaseKeeper(rec, timedelta(minutes=15), lambda: t0)
    rec.writing = {1}
    rec.answers = [{2}, {2, 3}]
    keeper.renew()
    assert keeper.lost == {3}  # 1 was written, 3 ran out
    assert not keeper.holds(3) and not keeper.holds(3) and rec.dropped == 1  # one watch
    keeper.renew()  # held again by this pass (as another of its processes claimed it)...
    assert not keeper.holds(3)  # ...but not this crawl's to send: the other's
    keeper.taken({3})  # handed to this crawl
    assert keeper.holds(3)


def test_a_lease_keeper_that_cannot_renew_as_its_crawl_opens_sends_nothing(monkeypatch) -> None:
    """The claim may be older than the crawl (a stall as it started), and no
    renewal says the leases still stand: nothing is sent until one does."""
    from twisted.internet.task import Clock, LoopingCall

    from raqib.crawler import extensions
    from raqib.crawler.extensions import LeaseKeeper

    class Looping(LoopingCall):  # on a clock of its own: no reactor is installed here
        clock = Clock()

    monkeypatch.setattr(extensions.task, "LoopingCall", Looping)

    t0 = datetime(2026, 12, 6, tzinfo=UTC)
    now = [t0]
    rec = _Recorder({1})
    keeper = LeaseKeeper(rec, timedelta(minutes=15), lambda: now[0])
    rec.answers = [OSError("unreachable"), {1}]
    keeper.opened()
    try:
        assert not keeper.holds(1) and rec.calls == 1
        now[0] += timedelta(seconds=1)
        assert keeper.holds(1) and rec.calls == 2
    finally:
        keeper.closed()


def test_a_pass_summary_says_what_it_lost_to_other_workers() -> None:
    """A pass that lost every lease to another worker said "checked 20 watches"."""
    from raqib.present.text import pass_summary

    d = {
        "claimed": 20, "outcomes": {}, "left": 19, "leases_lost": 1, "first_captures": 0,
        "substantive": 0, "cosmetic": 0, "seconds": 1.0, "processes": 1, "workers": 0,
        "notified": 0, "notify_pending": 0,
    }  # fmt: skip
    line = pass_summary(d)
    assert line.startswith(
        "checked 0 of 20 watches (19 not recorded, due again; 1 taken over by another worker or purged)"
    ), line
    assert "(1 taken over by another worker or purged)" in pass_summary({**d, "left": 0})


class _Held(Gate):
    """Holds every request until released, counting those that arrive."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __enter__(self) -> None:
        with self.lock:
            self.count += 1
        self.arrived.set()
        self.release.wait(timeout=120)


def test_an_outlet_read_and_another_workers_sweep_take_its_site_in_turn(
    server, tmp_path, pg_cluster
) -> None:
    """An outlet's feed is read outside any watch's lease: read while another
    worker swept the outlet's articles, the site had a request beyond its
    limit. A pass now leaves a feed on a site another worker is fetching (it
    stays due), and a sweep takes no article on a site whose feed is being
    read. Each says the site is taken (exit 75), sending nothing."""
    env = {"RAQIB_DATABASE_URL": pg_cluster.new_database()}
    paths = [f"/o/{i}" for i in range(3)]
    for path in (*paths, "/o/new", "/o/later"):
        server.routes[path] = Route(render(VERSIONS[0], server.base))
    feed = f"<rss><channel><item><link>{server.base}/o/new</link></item></channel></rss>"
    server.routes["/feed.xml"] = Route(
        feed.encode(), headers={"Content-Type": "application/rss+xml"}
    )
    a, b = (Raqib(tmp_path / n, env) for n in ("a", "b"))
    for r in (a, b):
        r.home.mkdir()
        (r.home / "raqib.toml").write_text(
            "[fetch]\nper_domain = 1\nautothrottle = false\nobey_robots = false\n",
            encoding="utf-8",
        )
    a("watch", "--no-fetch", *(server.base + p for p in paths))

    def held_pass(r: Raqib, gate: _Held) -> subprocess.Popen[str]:
        server.around = gate
        p = subprocess.Popen(
            [*raqib_command(), "--home", str(r.home), "check", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            env={**os.environ, **env},
        )  # fmt: skip
        assert gate.arrived.wait(timeout=120), p.communicate(timeout=60)
        return p

    # a sweeps the articles, held at its first request; the outlet comes after.
    gate = _Held()
    sweep = held_pass(a, gate)
    try:
        b("outlet", "add", "own", "--feed", server.base + "/feed.xml")
        busy = b.proc("check", "--json", expect=75)
        assert "another raqib pass is running" in busy.err
        assert gate.count == 1  # the sweep's one request: no feed read beside it
    finally:
        gate.release.set()
    out, err = sweep.communicate(timeout=120)
    assert sweep.returncode == 0, err
    assert json.loads(out)["claimed"] == len(paths)
    storage = b.open_storage()
    try:
        assert storage.outlets.count_due(now=datetime.now(UTC)) == 1  # left due
    finally:
        storage.close()
    # b reads the feed, held; a's sweep beside it takes none of the site's articles.
    a("watch", "--no-fetch", server.base + "/o/later")
    gate = _Held()
    read = held_pass(b, gate)
    try:
        busy = a.proc("check", "--json", expect=75)
        assert "another raqib pass is running" in busy.err
        assert gate.count == 1  # the feed: no article fetched beside it
    finally:
        gate.release.set()
    out, err = read.communicate(timeout=120)
    assert read.returncode == 0, err
    summary = json.loads(out)
    assert summary["claimed"] == 2  # the new article the feed listed, and /o/later
    fetched = Counter(path for path, _h in server.requests)
    assert fetched == Counter([*paths, "/feed.xml", "/o/new", "/o/later"]), fetched


def test_an_outlet_read_longer_than_a_lease_keeps_its_sites(server, raqib: Raqib) -> None:
    """An outlet read holds its sources' sites for one lease: a read of many
    sitemaps that outlasted it let another worker's sweep fetch them beside
    it. The read renews its holds every third of a lease while it runs."""
    from sqlalchemy import select

    from raqib.storage import models as m

    feed = f"<rss><channel><item><link>{server.base}/o/new</link></item></channel></rss>"
    server.routes["/feed.xml"] = Route(
        feed.encode(), headers={"Content-Type": "application/rss+xml"}
    )
    server.routes["/o/new"] = Route(render(VERSIONS[0], server.base))
    raqib.home.mkdir()
    (raqib.home / "raqib.toml").write_text(
        '[schedule]\nlease = "3s"\n[fetch]\nobey_robots = false\n', encoding="utf-8"
    )
    raqib("outlet", "add", "own", "--feed", server.base + "/feed.xml")
    storage = raqib.open_storage()

    def hold() -> datetime | None:
        with storage.db.session() as s:
            return s.scalar(select(m.SiteHold.until))

    gate = _Held()
    server.around = gate
    p = subprocess.Popen(
        [*raqib_command(), "--home", str(raqib.home), "check", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, **raqib.env},
    )  # fmt: skip
    try:
        assert gate.arrived.wait(timeout=120), p.communicate(timeout=60)
        first = hold()
        assert first is not None
        deadline = time.monotonic() + 60
        while (now := hold()) == first and time.monotonic() < deadline:
            time.sleep(0.1)  # polled: the renewal is the event waited for
        assert now is not None and now > first  # renewed while the feed is still read
    finally:
        gate.release.set()
        storage.close()
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert json.loads(out)["claimed"] == 1  # /o/new, listed by the feed
    storage = raqib.open_storage()
    try:
        assert hold() is None  # let go once read
    finally:
        storage.close()


class FirstHeld:
    """Around each request: the first waits until opened, the rest pass."""

    def __init__(self) -> None:
        self.lock, self.first = threading.Lock(), True
        self.held, self.open = threading.Event(), threading.Event()

    def __enter__(self) -> None:
        with self.lock:
            first, self.first = self.first, False
        if first:
            self.held.set()
            self.open.wait(60)

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_pass_stopped_past_its_lease_says_what_others_took(server, raqib: Raqib) -> None:
    """Found by an operator: a worker stopped (SIGSTOP) past its lease, whose
    watches another worker then checked, said on SIGTERM that they were all
    "due again"."""
    raqib.home.mkdir(parents=True)
    (raqib.home / "raqib.toml").write_text(
        "[fetch]\nper_domain = 1\nautothrottle = false\nworkers = 0\n", encoding="utf-8"
    )
    urls = [f"{server.base}/stopped/{i}" for i in range(4)]
    for i in range(4):
        server.routes[f"/stopped/{i}"] = Route(render(VERSIONS[0], server.base))
    raqib("watch", "--no-fetch", *urls)
    gate = server.around = FirstHeld()
    first = raqib.popen("check", "--all")
    try:
        assert gate.held.wait(60), "the pass sent no request"
        first.send_signal(signal.SIGSTOP)
        later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()  # past every lease
        other = raqib.proc("check", "--all", "--json", env={"RAQIB_NOW": later}).json()
        assert other["outcomes"] == {"new_version": 4}
        first.send_signal(signal.SIGTERM)
        first.send_signal(signal.SIGCONT)
    finally:
        first.send_signal(signal.SIGCONT)
        gate.open.set()
    out, err = first.communicate(timeout=120)
    assert first.returncode == 130, err
    assert "stopped by a signal: checked 0 of 4 watches (0 due again; 4 taken over" in out, out
    assert all(len(raqib("log", u, "--json").json()) == 1 for u in urls)  # each fetched once
