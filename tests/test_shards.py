"""A pass split across crawler processes ([fetch] processes): every watch
recorded once, the site's concurrency limit kept, SIGTERM passed on."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime

import pytest

from bench.procs import descendants
from raqib.cores import usable_cores
from raqib.crawler.deal import Dealer
from raqib.crawler.pool import extraction_workers
from raqib.crawler.shards import FULL_WORK, MIN_WORK_PER_SHARD, certain, divided, shard_count
from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import PageServer, Route
from raqib.domain import Task
from tests.conftest import ConcurrencyProbe, Raqib, children
from tests.test_archive import index

WATCHES = 30


def page(server: PageServer, i: int, edition: int, delay: float = 0.0) -> Route:
    html = render(VERSIONS[0], server.base).decode()
    marker = f"<p>فقرة خاصة بالمقال رقم {i} في طبعته رقم {edition} لاختبار العمليات المتوازية.</p>"
    body = html.replace('<div class="entry-content">', '<div class="entry-content">' + marker, 1)
    return Route(body.encode(), delay=delay)


def watched(
    server: PageServer, raqib: Raqib, name: str, n: int = WATCHES, delay: float = 0.0
) -> list[str]:
    """`n` article pages served at /NAME/i (each `delay` seconds late), watched, not yet fetched."""
    urls = [f"{server.base}/{name}/{i}" for i in range(n)]
    for i in range(n):
        server.routes[f"/{name}/{i}"] = page(server, i, 0, delay=delay)
    raqib("watch", "--no-fetch", *urls)
    return urls


def configure(
    raqib: Raqib,
    processes: int,
    per_domain: int = 4,
    batch: int = 1000,
    robots_ttl: str = "1h",
    workers: int = -1,
) -> None:
    raqib.home.mkdir(parents=True, exist_ok=True)
    (raqib.home / "raqib.toml").write_text(
        f"[fetch]\nprocesses = {processes}\nper_domain = {per_domain}\nautothrottle = false\n"
        f'robots_ttl = "{robots_ttl}"\nworkers = {workers}\n'
        f"[schedule]\nclaim_batch = {batch}\n",
        encoding="utf-8",
    )


def sigterm_once_served(
    server: PageServer, raqib: Raqib, *args: str, below: bool = False
) -> tuple[int, str, str]:
    """Run `raqib ARGS`, send it SIGTERM once the server has been asked for a
    page (`below`: its child processes too, as a service manager stopping its
    group would), and return its exit code and output."""
    proc = raqib.popen(*args)
    try:
        assert server.hit.wait(30), "the pass never reached the server"
        children = descendants(proc.pid) if below else []
        proc.send_signal(signal.SIGTERM)
        for pid in children:
            os.kill(pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out, err


@pytest.mark.parametrize(("processes", "workers"), [(1, -1), (1, 0), (3, -1)])
def test_sharded_pass_records_every_watch_once(
    server, raqib: Raqib, processes: int, workers: int
) -> None:
    """One crawler process (with extraction workers if its work repays them,
    or none) or three: the same watches recorded once each, the same versions."""
    configure(raqib, processes=processes, per_domain=3, workers=workers)
    probe = ConcurrencyProbe()
    server.around = probe
    urls = watched(server, raqib, "shard", delay=0.05)

    first = raqib.proc("check", "--all", "--json").json()
    assert first["processes"] == processes
    assert first["claimed"] == WATCHES
    assert first["outcomes"] == {"new_version": WATCHES}
    # 30 first fetches (120 units of work) repay forked workers on two CPUs or more.
    alone = processes == 1 and workers < 0
    assert first["workers"] == (extraction_workers(FULL_WORK * WATCHES) if alone else 0)
    # One site: however many processes, together they keep its limit of 3 in flight.
    assert 1 <= probe.most <= 3, probe.most
    # Where the CPU went: each stage measured, and each a part of the CPU of
    # the processes that crawled (this one, bar the analysis of its extraction
    # workers; or the crawler processes, which report their own totals).
    cpu = first["cpu_seconds"]
    stages = [cpu["analysis"], cpu["storage"], cpu["archive"], cpu["fetching"]]
    assert min(stages) > 0, cpu
    crawled = cpu["this_process"] if processes == 1 else cpu["crawler_processes"]
    assert sum(stages[1 if first["workers"] else 0 :]) <= crawled, cpu
    assert (cpu["crawler_processes"] > 0) == (processes > 1), cpu
    # The workers' own total, of which their analysis is a part.
    assert (cpu["extraction_workers"] > 0) == (first["workers"] > 0), cpu
    if first["workers"]:
        assert cpu["analysis"] <= cpu["extraction_workers"], cpu

    # Every version is searchable, whichever process recorded it.
    hits = raqib("search", "العمليات", "المتوازية", "--limit", "100", "--json").json()
    assert sorted(h["url"] for h in hits) == sorted(urls)
    assert all(h["versions"] == [1] and h["in_latest"] for h in hits), hits

    changed = set(range(0, WATCHES, 3))
    for i in changed:
        server.routes[f"/shard/{i}"] = page(server, i, 1)
    second = raqib.proc("check", "--all", "--json").json()
    assert second["workers"] == 0  # 30 region checks: too little work to fork for
    assert second["outcomes"] == {"new_version": len(changed), "unchanged": WATCHES - len(changed)}
    assert second["substantive"] + second["cosmetic"] == len(changed)
    for i, url in enumerate(urls):
        log = raqib("log", url, "--json").json()
        assert len(log) == 2, (url, log)  # each watch fetched once per pass, by one process
        versions = raqib("versions", url, "--json").json()
        assert len(versions) == (2 if i in changed else 1)
        assert f"في طبعته رقم {1 if i in changed else 0} " in versions[-1]["text"]
    # The archive holds every fetch, whichever process appended it, in valid files.
    records = [r for r in index(raqib.home / "warc") if r["warc-type"] in ("response", "revisit")]
    assert sorted(r["warc-target-uri"] for r in records) == sorted(urls * 2)


@pytest.mark.parametrize(("processes", "workers"), [(1, 0), (1, 1), (2, -1)])
def test_sigterm_lets_each_process_finish_what_it_holds(
    server, raqib: Raqib, processes: int, workers: int
) -> None:
    """In the pass's own process (its crawl session, analysing its pages
    itself or in a worker, which must finish what it holds) and in crawler
    processes alike."""
    configure(raqib, processes=processes, per_domain=2, workers=workers)
    urls = watched(server, raqib, "slow-shard", 12, delay=1.0)
    code, out, err = sigterm_once_served(server, raqib, "check", "--all", below=workers > 0)
    assert code == 130, err  # stopped by a signal: a wrapper can tell
    assert "Traceback" not in err
    assert ("(1 extraction worker)" in out) == (workers == 1), out
    logs = [raqib("log", u, "--json").json() for u in urls]
    fetched = [u for u, log in zip(urls, logs, strict=True) if log]
    assert 0 < len(fetched) < 12  # what was in flight was recorded, the rest left alone
    left = 12 - len(fetched)
    assert f"stopped by a signal: checked {len(fetched)} of 12 watches ({left} due again)" in out
    assert {log[0]["outcome"] for log in logs if log} == {"new_version"}  # and analysed
    # Nothing stays leased: the next pass takes the rest at once.
    rest = raqib.proc("check", "--json").json()
    assert rest["claimed"] == 12 - len(fetched)
    assert all(raqib("log", u, "--json").json() for u in urls)


def test_a_summary_tells_a_signal_from_watches_left_otherwise() -> None:
    """ "Stopped by a signal" only when one came; what is due again leaves out
    the watches another pass's lease took."""
    from raqib.present.text import pass_summary

    d = {
        "outcomes": {"unchanged": 5}, "claimed": 9, "first_captures": 0, "substantive": 0,
        "cosmetic": 0, "seconds": 1.0, "processes": 1, "notified": 0, "notify_pending": 0,
    }  # fmt: skip
    assert pass_summary({**d, "stopped": True, "left": 3}).startswith(
        "stopped by a signal: checked 5 of 9 watches (3 due again): "
    )
    assert pass_summary({**d, "left": 3}).startswith(
        "checked 5 of 9 watches (3 not recorded, due again): "
    )
    assert pass_summary({**d, "claimed": 5}).startswith("checked 5 watches: ")


def task(i: int, host: str = "a.example", **kw: object) -> Task:
    return Task(
        watch_id=i, url=f"https://{host}/{i}", etag=None, last_modified=None, body_key=None,
        content_hash=None, state="active", version_count=0, last_words=0,
        added_at=datetime.now(UTC), last_change_at=None, error_count=0, removed_count=0,
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_shard_count_and_divided_limits() -> None:
    tasks = [task(i) for i in range(7)]
    assert shard_count(tasks, 0) == 1  # small passes stay in one process
    assert shard_count(tasks[:5], 8) == 5  # never more processes than watches
    many = (tasks * MIN_WORK_PER_SHARD)[: MIN_WORK_PER_SHARD - 1]  # new pages: extracted in full
    assert shard_count(many, 0) == min(usable_cores(), FULL_WORK)
    checked = [dataclasses.replace(t, region={"path": "/html"}) for t in many]
    assert shard_count(checked, 0) == 1  # the same pages with regions: a quarter of the work
    assert shard_count(checked, 0, more=True) == min(usable_cores(), 2)  # more batches follow
    limits = divided({"CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": 4}, 3)
    assert limits == {"CONCURRENT_REQUESTS": 10, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}


def test_the_dealer_hands_out_in_claim_order_and_claims_only_when_it_runs_out() -> None:
    batches = [[task(i) for i in range(5, 9)], []]
    claims: list[int] = []

    def claim() -> list[Task]:
        claims.append(len(batches))
        return batches.pop(0)

    dealer = Dealer([task(i) for i in range(5)], claim)
    dealer.track = True
    assert [t.watch_id for t in dealer.take(3)] == [0, 1, 2]
    assert [t.watch_id for t in dealer.take(3)] == [3, 4]  # what is left of the batch
    assert claims == []  # the next batch is claimed when this one is all handed out
    assert [t.watch_id for t in dealer.take(3)] == [5, 6, 7]
    assert [t.watch_id for t in dealer.take(3)] == [8]
    assert dealer.take(3) == [] and claims == [2, 1]  # the last claim found nothing due
    assert dealer.take(3) == [] and claims == [2, 1]  # and nothing is claimed again
    assert dealer.handed == 9
    assert dealer.recorded(4).watch_id == 4 and 4 not in dealer.by_id


def test_a_process_that_dies_after_asking_for_more_fails_the_pass_with_the_reason() -> None:
    """Its question is read after it died: the answer cannot be sent (EPIPE).
    That must not end the pass's loop with a BrokenPipeError, which the command
    line takes for a reader that left (`| head`) and exits 0 in silence; the
    end of its pipe, read next, fails the pass with the reason."""
    import multiprocessing
    from types import SimpleNamespace

    from raqib.crawler.crew import Crew
    from raqib.crawler.shards import Crawl, Job
    from raqib.guard import Guard

    here, there = multiprocessing.Pipe(duplex=True)
    there.send(("more", 4))
    there.close()  # killed (SIGKILL) after asking
    crawl = Crawl("owner", None, lambda: datetime.now(UTC), {}, 0.0, Guard())
    crew = Crew(Dealer([task(i) for i in range(10)], list), Job("", [], 4, crawl, 0, False), None)
    crew.open[here] = SimpleNamespace(join=lambda: None, exitcode=-9)
    crew.handed[here] = 4
    outcome = crew.run()
    assert str(outcome.fatal) == "a crawler process ended without reporting (exit code -9)"
    assert crew.dealer.take(1) == []  # nothing more is handed out


def test_a_stopping_dealer_hands_out_nothing_more() -> None:
    dealer = Dealer([task(i) for i in range(10)], lambda: [task(99)])
    assert len(dealer.take(4)) == 4
    dealer.stop()  # a signal: what was claimed and not handed out stays leased, then freed
    assert dealer.take(4) == [] and dealer.handed == 4
    assert not dealer.by_id  # nothing kept when no one asked to follow the records


def test_a_pass_of_many_batches_keeps_its_crawler_processes(server, raqib: Raqib) -> None:
    """Six batches of five, crawled by two processes that ask for more as
    they run out: each process starts once (one robots.txt each for the
    pass, not one per batch), every watch is fetched once, and the site's
    limit holds across batches."""
    configure(raqib, processes=2, per_domain=2, batch=5)
    probe = ConcurrencyProbe()
    server.around = probe
    watched(server, raqib, "batched", delay=0.02)
    server.requests.clear()

    summary = raqib.proc("check", "--all", "--json").json()
    assert summary["processes"] == 2
    assert summary["claimed"] == WATCHES
    assert summary["outcomes"] == {"new_version": WATCHES}
    paths = [path for path, _headers in server.requests]
    assert paths.count("/robots.txt") == 2
    assert sorted(p for p in paths if p != "/robots.txt") == sorted(
        f"/batched/{i}" for i in range(WATCHES)
    )
    assert 1 <= probe.most <= 2, probe.most


@pytest.mark.parametrize("wanted", [0, 1, 3])
def test_the_forkserver_starts_early_only_when_the_pass_will_split(wanted: int) -> None:
    """`certain` says a pass will split before its watches are claimed (the
    forkserver then warms up during the feed read): whenever it says so,
    shard_count splits the first batch, even if every watch has a region."""
    base = Task(
        watch_id=0, url="https://a.example/0", etag=None, last_modified=None, body_key=None,
        content_hash="h", state="active", version_count=1, last_words=0,
        added_at=datetime.now(UTC), last_change_at=None, error_count=0, removed_count=0,
        region={"path": "/html/body/article"},
    )  # fmt: skip
    batch = 1000
    for due in (1, 2, 10, 749, 750, 751, 999, 1000, 1001, 1499, 1500, 1501, 5000):
        first = [dataclasses.replace(base, watch_id=i) for i in range(min(due, batch))]
        splits = shard_count(first, wanted, more=due > batch) > 1
        if certain(due, batch, wanted):
            assert splits, due
    cores = usable_cores()
    assert certain(5000, batch, wanted) == (wanted > 1 or (wanted == 0 and cores > 1))
    assert not certain(100, batch, 0)  # a small pass never starts it


def forkservers(pid: int) -> list[int]:
    """The forkservers among process `pid`'s children, now."""
    found = []
    for child in children(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as c:
                if b"forkserver" in c.read():
                    found.append(child)
        except FileNotFoundError:
            pass  # ended since the listing
    return found


def test_after_a_pass_that_split_the_next_starts_its_forkserver_at_once(
    server, raqib: Raqib
) -> None:
    """The home remembers how many processes its last whole pass ran in; after
    a split, `check` starts the forkserver before its own imports. --limit
    passes neither guess nor leave a hint."""
    configure(raqib, processes=2)
    urls = [f"{server.base}/hint/{i}" for i in range(8)]
    for i in range(8):
        server.routes[f"/hint/{i}"] = page(server, i, 0)
    raqib("watch", "--no-fetch", *urls)
    hint = raqib.home / "last-pass.json"
    assert raqib.proc("check", "--all", "--json").json()["processes"] == 2
    assert json.loads(hint.read_text(encoding="utf-8"))["processes"] == 2

    warm = raqib.proc("-v", "check", "--all", "--json")
    assert "ran in 2 crawler processes: starting their forkserver now" in warm.err
    assert warm.json()["outcomes"] == {"unchanged": 8}
    capped = raqib.proc("-v", "check", "--all", "--limit", "8", "--json")
    assert "forkserver" not in capped.err
    assert json.loads(hint.read_text(encoding="utf-8"))["processes"] == 2  # --limit left it

    configure(raqib, processes=1)
    raqib.proc("check", "--all")
    assert json.loads(hint.read_text(encoding="utf-8"))["processes"] == 1
    assert "forkserver" not in raqib.proc("-v", "check", "--all").err
    hint.write_text("{not json", encoding="utf-8")  # a damaged hint is no guess, not an error
    assert "forkserver" not in raqib.proc("-v", "check", "--all").err


def test_a_wrong_guess_stops_the_forkserver_before_the_crawl(server, raqib: Raqib) -> None:
    """The last pass split, this one is small: the forkserver started at once
    is gone before the first request, and the pass crawls in its own process."""
    configure(raqib, processes=0)  # automatic: three watches never repay a second process
    (raqib.home / "last-pass.json").write_text('{"processes": 2, "claimed": 3000}')
    urls = [f"{server.base}/guess/{i}" for i in range(3)]
    for i in range(3):
        server.routes[f"/guess/{i}"] = page(server, i, 0)
    raqib("watch", "--no-fetch", *urls)
    pass_pid: list[int] = []
    seen: list[list[int]] = []

    class Look:  # runs in the server's thread as each request arrives
        def __enter__(self) -> None:
            seen.append(forkservers(pass_pid[0]))

        def __exit__(self, *exc: object) -> None:
            pass

    server.around = Look()
    proc = raqib.popen("-v", "check", "--all", "--json")
    pass_pid.append(proc.pid)  # Popen returns once exec'd: long before the first request
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "starting their forkserver now" in err
    assert json.loads(out)["outcomes"] == {"new_version": 3}
    assert json.loads(out)["processes"] == 1
    assert len(seen) >= 3 and not any(seen), seen


def test_sigterm_while_feeds_are_read_starts_no_crawl_after(server, raqib: Raqib) -> None:
    """A pass told to stop while it reads its outlets' feeds (a crawl of its
    own, in the same process) finishes that read and fetches no watch after it."""
    configure(raqib, processes=1)
    urls = [f"{server.base}/after-feed/{i}" for i in range(4)]
    for i in range(4):
        server.routes[f"/after-feed/{i}"] = page(server, i, 0)
    raqib("watch", "--no-fetch", *urls)
    server.routes["/slow-feed.xml"] = Route(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
        headers={"Content-Type": "application/rss+xml"},
        delay=2.0,
    )
    raqib("outlet", "add", "slow", "--feed", f"{server.base}/slow-feed.xml")
    code, out, err = sigterm_once_served(server, raqib, "check")
    assert code == 130 and "stopped by a signal: checked 0 of 4 watches (4 due again)" in out, err
    assert not [p for p, _h in server.requests if p.startswith("/after-feed/")]
    assert all(raqib("log", u, "--json").json() == [] for u in urls)
    # Nothing stays leased: the next pass fetches them.
    assert raqib.proc("check", "--json").json()["claimed"] == 4


def test_a_second_signal_while_feeds_are_read_stops_the_pass_as_a_signal(
    server, raqib: Raqib
) -> None:
    """Two SIGTERMs while the outlets' feeds were read: "unexpected error:
    stopped at once by a second signal", exit 1, as if Raqib had failed."""
    configure(raqib, processes=1)
    server.routes["/slow-feed.xml"] = Route(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
        headers={"Content-Type": "application/rss+xml"},
        delay=5.0,
    )
    raqib("outlet", "add", "slow", "--feed", f"{server.base}/slow-feed.xml")
    proc = raqib.popen("check")
    try:
        assert server.hit.wait(30), "the pass never reached the server"
        while proc.poll() is None:  # signals do not queue: until one lands as the second
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.5)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "unexpected error" not in err, err


def test_watches_that_want_a_browser_wait_for_a_crawl_of_their_own(raqib: Raqib) -> None:
    """Crawler processes asking for more started without a browser: a batch's
    rendered watches are held back, and crawled after, with one."""
    from raqib.app.claims import Claims
    from raqib.app.home import open_app

    configure(raqib, processes=2, batch=4)
    plain = [f"http://127.0.0.1:9/plain/{i}" for i in range(6)]
    raqib("watch", "--no-fetch", *plain[:3])
    raqib("watch", "--no-fetch", "--render", "http://127.0.0.1:9/rendered/0")
    raqib("watch", "--no-fetch", *plain[3:])
    raqib("watch", "--no-fetch", "--render", "http://127.0.0.1:9/rendered/1")
    app = open_app(raqib.home)
    try:
        claims = Claims(app, "test-owner", all_watches=True, limit=None, only=None, on_start=None)
        first = claims.first(wait=False, wait_timeout=None)
        assert [t.url for t in first] == [*plain[:3], "http://127.0.0.1:9/rendered/0"]
        # The processes, having started on plain watches, ask for the next batch:
        second = claims.plain()
        assert [t.url for t in second] == plain[3:]
        assert claims.plain() == []  # they end: the held watch is crawled next, with a browser
        held = claims.next()
        assert [(t.url, t.render) for t in held] == [("http://127.0.0.1:9/rendered/1", True)]
        assert claims.next() == []  # the last batch was short: nothing more was due
        assert claims.claimed == 8
    finally:
        app.storage.leases.release("test-owner")
        app.close()


def _crawlers(pid: int) -> list[int]:
    """A pass's crawler processes: the children of its forkserver."""
    below = descendants(pid)
    parent = {p: int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1]) for p in below}
    forkserver = [
        p for p in below
        if parent[p] == pid and b"forkserver" in open(f"/proc/{p}/cmdline", "rb").read()
    ]  # fmt: skip
    crawlers = [p for p in below if parent[p] in forkserver]
    assert crawlers, parent
    return crawlers


def _signal_one_crawler(
    server: PageServer, raqib: Raqib, name: str, signum: int
) -> tuple[list[str], int, str, str]:
    """A two-process pass whose first crawler process is sent `signum` once
    the server is reached: the watches, and the pass's exit code and output."""
    configure(raqib, processes=2, per_domain=2, batch=10)
    urls = watched(server, raqib, name, delay=0.2)
    proc = raqib.popen("check", "--all")
    try:
        assert server.hit.wait(30), "the pass never reached the server"
        os.kill(_crawlers(proc.pid)[0], signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return urls, proc.returncode, out, err


def test_a_crawler_process_killed_mid_pass_fails_the_pass_and_loses_nothing(
    server, raqib: Raqib
) -> None:
    """The OOM killer takes one crawler process: the pass hands out nothing
    more, the other process finishes what it holds, and the pass fails with
    the reason. What was not recorded is free for the next pass at once."""
    urls, code, _out, err = _signal_one_crawler(server, raqib, "killed", signal.SIGKILL)
    assert code != 0
    assert "a crawler process ended without reporting (exit code -9)" in err
    assert "Traceback" not in err
    fetched = [u for u in urls if raqib("log", u, "--json").json()]
    assert len(fetched) < WATCHES  # nothing more was handed out
    raqib.proc("check")  # no lease outlived the pass: the next takes the rest at once
    assert all(len(raqib("log", u, "--json").json()) == 1 for u in urls)


def test_a_crawler_process_sent_sigterm_alone_stops_the_pass_as_a_signal(
    server, raqib: Raqib
) -> None:
    """Someone (an init system, an operator) stops one crawler process: it
    finishes what it holds and the pass says a signal stopped it (exit 130),
    not that it checked every watch."""
    urls, code, out, err = _signal_one_crawler(server, raqib, "termed", signal.SIGTERM)
    assert code == 130, err
    fetched = [u for u in urls if raqib("log", u, "--json").json()]
    assert f"stopped by a signal: checked {len(fetched)} of" in out
    raqib.proc("check")  # the rest is due at once
    assert all(len(raqib("log", u, "--json").json()) == 1 for u in urls)


def test_a_crawler_process_sent_sigterm_while_it_starts_stops_the_pass_as_a_signal(
    server, raqib: Raqib
) -> None:
    """The same signal, sent the moment the process exists, before it has a
    handler of its own: it dies of the signal without reporting, and the
    pass still says a signal stopped it (before, it failed the pass, 1)."""
    configure(raqib, processes=2, per_domain=2, batch=10)
    urls = watched(server, raqib, "early", delay=0.2)
    proc = raqib.popen("check", "--all")
    try:
        while True:  # polling the process table: the process to signal appears there
            try:
                first = _crawlers(proc.pid)[0]
                break
            except (AssertionError, FileNotFoundError, ProcessLookupError):
                assert proc.poll() is None, "the pass ended before a crawler process started"
                time.sleep(0.001)
        os.kill(first, signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "stopped by a signal" in out
    raqib.proc("check")  # the rest is due at once
    assert all(len(raqib("log", u, "--json").json()) == 1 for u in urls)


def test_a_crawler_process_given_its_share_hands_over_to_a_fresh_one(
    server, raqib: Raqib, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process given WATCHES_PER_PROCESS watches is told there are no more,
    and a fresh one takes over once it is done (memory a long-lived process
    would keep): every watch is fetched once, and the site's limit holds,
    since the fresh process starts only after the one it replaces has ended.
    The pass runs in this process, with the share made small."""
    from raqib.app.home import open_app
    from raqib.app.passes import run_check
    from raqib.crawler import crew

    monkeypatch.setattr(crew, "WATCHES_PER_PROCESS", 6)
    monkeypatch.setattr(crew, "RETIRE_LEFT", 1)
    for key, value in raqib.env.items():
        monkeypatch.setenv(key, value)
    configure(raqib, processes=2, per_domain=2, batch=10, robots_ttl="0")  # each asks: counted
    probe = ConcurrencyProbe()
    server.around = probe
    urls = watched(server, raqib, "handed-over", delay=0.02)
    server.requests.clear()
    app = open_app(raqib.home)
    try:
        summary = run_check(app, all_watches=True)
    finally:
        app.close()
    assert dict(summary.counts) == {"new_version": WATCHES}
    paths = [path for path, _headers in server.requests]
    assert sorted(p for p in paths if p != "/robots.txt") == sorted(
        f"/handed-over/{i}" for i in range(WATCHES)
    )
    assert paths.count("/robots.txt") >= 3  # two processes, then a fresh one after them
    assert 1 <= probe.most <= 2, probe.most
    assert all(len(raqib("log", u, "--json").json()) == 1 for u in urls)


def test_a_pass_over_due_watches_fetches_each_once_across_its_batches(
    server, raqib: Raqib, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next batch is claimed once the last is all handed out, while the
    crawler processes still fetch some of it: those watches are due and leased
    to this very pass, and must not be claimed (and fetched) a second time."""
    from raqib.app.home import open_app
    from raqib.app.passes import run_check

    for key, value in raqib.env.items():
        monkeypatch.setenv(key, value)
    configure(raqib, processes=2, per_domain=2, batch=10)
    watched(server, raqib, "once", delay=0.02)
    server.requests.clear()
    app = open_app(raqib.home)
    try:
        summary = run_check(app)  # due watches only: no id order to go by
    finally:
        app.close()
    paths = [path for path, _headers in server.requests if path != "/robots.txt"]
    assert sorted(paths) == sorted(f"/once/{i}" for i in range(WATCHES))
    assert dict(summary.counts) == {"new_version": WATCHES}
    assert summary.claimed == WATCHES


def test_a_signal_as_a_crawler_process_ends_is_passed_on_to_the_others_only() -> None:
    """A process that has just ended, and is not yet known to have, is gone
    when the signal is passed on: the pass still stops, and tells the rest."""
    import subprocess
    import sys
    from types import SimpleNamespace

    from raqib.crawler.crew import Crew

    gone = subprocess.Popen([sys.executable, "-c", ""])
    gone.wait()  # reaped: its pid names no process now
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        crew = Crew(Dealer([], list), None, None)  # type: ignore[arg-type]
        crew.procs = [SimpleNamespace(pid=p.pid, exitcode=None) for p in (gone, alive)]
        crew.forward(signal.SIGTERM, None)
        assert crew.dealer.done and crew.signalled == signal.SIGTERM
        assert alive.wait(10) == -signal.SIGTERM
    finally:
        alive.kill()


def test_a_signal_while_a_fresh_process_starts_reaches_it_too(
    server, raqib: Raqib, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM arrives while the pass starts the process that takes over from
    one given its share: that process is told to stop as well (it was not yet
    on the list the signal handler walks), the pass ends cleanly (a process
    ended by the pass's own signal is no failure), and what it did not record
    is free for the next pass."""
    import multiprocessing.context

    from raqib.app.home import open_app
    from raqib.app.passes import run_check
    from raqib.crawler import crew

    monkeypatch.setattr(crew, "WATCHES_PER_PROCESS", 6)
    monkeypatch.setattr(crew, "RETIRE_LEFT", 1)
    for key, value in raqib.env.items():
        monkeypatch.setenv(key, value)
    configure(raqib, processes=2, per_domain=2, batch=10)
    urls = watched(server, raqib, "signalled", delay=0.02)
    started: list[int] = []
    kills: list[tuple[int, int]] = []
    real_start, real_kill = multiprocessing.context.ForkServerProcess.start, os.kill

    def start(proc: multiprocessing.context.ForkServerProcess) -> None:
        real_start(proc)
        assert proc.pid is not None
        started.append(proc.pid)
        if len(started) == 3:  # the first fresh one: the signal comes before the pass lists it
            signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    def kill(pid: int, signum: int) -> None:
        kills.append((pid, signum))
        real_kill(pid, signum)

    monkeypatch.setattr(multiprocessing.context.ForkServerProcess, "start", start)
    monkeypatch.setattr(os, "kill", kill)
    app = open_app(raqib.home)
    try:
        summary = run_check(app, all_watches=True)
    finally:
        app.close()
    assert len(started) == 3, started  # nothing more was started after the signal
    assert (started[2], signal.SIGTERM) in kills
    assert 0 < sum(summary.counts.values()) < WATCHES
    monkeypatch.undo()
    raqib.proc("check")  # no lease outlived the pass: the next takes the rest at once
    assert all(len(raqib("log", u, "--json").json()) == 1 for u in urls)


@pytest.mark.slow
def test_a_rendered_watch_in_a_later_batch_is_crawled_with_a_browser(server, raqib: Raqib) -> None:
    """Crawler processes that ask for more were started without a browser: a
    rendered watch in a batch claimed as they ask is held back and fetched
    after them, rendered, while every plain watch is fetched once by them."""
    from bench.scripted_pages import scripted_page
    from tests.test_render import need_browser

    need_browser()
    configure(raqib, processes=2, batch=4)
    server.routes["/rendered/0"] = Route(scripted_page(0))
    plain = watched(server, raqib, "plain", n=10)
    # Claimed in watch order, four at a time: the rendered watch comes in the
    # last batch, claimed when the processes ask for more.
    rendered = f"{server.base}/rendered/0"
    raqib("watch", "--no-fetch", "--render", rendered)
    summary = raqib.proc("check", "--all", "--json").json()
    assert summary["claimed"] == 11
    (fetch,) = raqib("log", rendered, "--json").json()
    assert fetch["outcome"] == "new_version", fetch
    (version,) = raqib("versions", rendered, "--json").json()
    assert "250 مليون دولار" in version["text"]  # what the page's script builds
    assert all(
        [f["outcome"] for f in raqib("log", u, "--json").json()] == ["new_version"] for u in plain
    )
    paths = [p for p, _h in server.requests]
    assert sorted(p for p in paths if p.startswith("/plain/")) == sorted(
        f"/plain/{i}" for i in range(10)
    )
    assert paths.count("/rendered/0") == 1  # the browser was served the archived document


@pytest.mark.parametrize(("level", "debug"), [("WARNING", False), ("DEBUG", True)])
def test_a_crawler_process_logs_scrapy_at_the_consoles_level(level: str, debug: bool) -> None:
    # Scrapy's process opens its loggers at DEBUG: a record for every request,
    # for the handler to drop. A crawler process makes them only when -vv asks.
    import subprocess
    import sys

    code = f"""
import logging
from raqib import console
from raqib.crawler.run import build_settings, crawler_process
console.setup(logging.{level})
crawler_process(build_settings({{"LOG_INSTALL_ROOT_HANDLER": False}}))  # as run_spider builds them
print(logging.getLogger("scrapy.core.engine").isEnabledFor(logging.DEBUG))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.split() == [str(debug)]
