"""Several hosts, one PostgreSQL: network namespaces the test makes itself
(tests/netns.py), one host for the database, one for the page server and its
webhook receiver, three for workers, each with its own address and host name.

Shows: every due watch fetched exactly once per sweep; a worker SIGKILLed
mid-pass has its leases taken over after they expire, with no version lost
or doubled; a worker whose link is cut mid-pass writes no duplicate and
rejoins; two workers never both deliver one message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import pg
from tests.conftest import ROOT
from tests.netns import Network, unavailable

WHY = unavailable() or (None if pg.bindir() else "no PostgreSQL server binaries")
pytestmark = pytest.mark.skipif(WHY is not None, reason=str(WHY))

PAGES = 120
HOSTS = {
    "db": "10.77.0.1",
    "web": "10.77.0.2",
    "web2": "10.77.0.3",
    "w1": "10.77.0.11",
    "w2": "10.77.0.12",
    "w3": "10.77.0.13",
}
WEB = "http://10.77.0.2:8080"
WEB2 = "http://10.77.0.3:8080"  # a second site: one worker at a time fetches each
RAQIB = str(Path(sys.executable).with_name("raqib"))


@dataclass
class World:
    net: Network
    cluster: pg.Cluster
    log: Path
    tmp: Path
    log2: Path  # the second site's

    def fresh(self, config: str) -> tuple[str, dict[str, Path]]:
        """A new database, a home per worker holding `config`, the web log emptied."""
        url = self.cluster.new_database()
        homes = {}
        for w in ("w1", "w2", "w3"):
            homes[w] = self.tmp / f"{url.rsplit('/', 1)[1]}-{w}"
            homes[w].mkdir()
            (homes[w] / "raqib.toml").write_text(config, encoding="utf-8")
        for log in (self.log, self.log.with_suffix(".hooks"), self.log2):
            log.write_text("", encoding="utf-8")
            log.with_suffix(".most").unlink(missing_ok=True)
        return url, homes

    def start(self, worker: str, url: str, home: Path, *args: str) -> subprocess.Popen[str]:
        return self.net.popen(
            worker,
            [RAQIB, "--home", str(home), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "RAQIB_DATABASE_URL": url},
            cwd=ROOT,
        )

    def run(
        self, worker: str, url: str, home: Path, *args: str, timeout: float = 180
    ) -> tuple[int, str, str]:
        p = self.start(worker, url, home, *args)
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err

    def fetched(self, log: Path | None = None) -> Counter[str]:
        text = (log or self.log).read_text(encoding="utf-8")
        return Counter(line for line in text.split() if line)

    def wait_fetched(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while sum(self.fetched().values()) < n:
            assert time.monotonic() < deadline, "the pass never got going"
            time.sleep(0.05)  # polling a log another process writes

    def watches(self, url: str, home: Path) -> list[dict[str, Any]]:
        code, out, err = self.run("w3", url, home, "watches", "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("hosts")
    os.chmod(tmp, 0o777)
    net = Network(HOSTS)
    cluster = None
    webs: list[subprocess.Popen[str]] = []
    try:
        bindir = pg.bindir()
        assert bindir is not None
        cluster = pg.Cluster(
            bindir, host=HOSTS["db"], prefix=["ip", "netns", "exec", net.ns["db"]]
        ).start()
        log, log2 = tmp / "web.log", tmp / "web2.log"
        webs = [_serve(net, "web", log), _serve(net, "web2", log2)]
        yield World(net, cluster, log, tmp, log2)
    finally:
        for web in webs:
            web.kill()
        if cluster is not None:
            cluster.stop()
        net.teardown()


def _serve(net: Network, host: str, log: Path) -> subprocess.Popen[str]:
    web = net.popen(
        host,
        [sys.executable, str(ROOT / "tests" / "hosts_web.py"), HOSTS[host], "8080", str(PAGES),
         "0.05", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # clients cut off mid-request, on purpose
        cwd=ROOT,
    )  # fmt: skip
    assert web.stdout is not None and web.stdout.readline().strip() == "ready"
    return web


def _watch_all(world: World, url: str, home: Path) -> list[str]:
    urls = [f"{WEB}/p/{i}" for i in range(PAGES)]
    code, _out, err = world.run("w1", url, home, "watch", "--no-fetch", *urls)
    assert code == 0, err
    return [f"/p/{i}" for i in range(PAGES)]


def test_three_workers_share_two_sites_and_fetch_every_page_once(world: World) -> None:
    """Two sites, three workers at once: one worker at a time fetches a site,
    so neither ever has more than its limit in flight (without the rule, up
    to three workers' worth), and the sites pass between workers as their
    batches end. Each page fetched once."""
    url, homes = world.fresh("[schedule]\nclaim_batch = 15\n[fetch]\nper_domain = 2\n")
    urls = [f"{site}/p/{i}" for i in range(PAGES) for site in (WEB, WEB2)]
    code, _out, err = world.run("w1", url, homes["w1"], "watch", "--no-fetch", *urls)
    assert code == 0, err
    procs = {w: world.start(w, url, homes[w], "check", "--json") for w in homes}
    results = {w: (p.wait(timeout=300), *p.communicate()) for w, p in procs.items()}
    every = Counter(dict.fromkeys((f"/p/{i}" for i in range(PAGES)), 1))
    assert world.fetched() == every and world.fetched(world.log2) == every
    for log in (world.log, world.log2):
        assert 1 <= int(log.with_suffix(".most").read_text(encoding="utf-8")) <= 2
    checked = {}
    for w, (code, out, err) in results.items():
        assert code in (0, 75), err
        if code == 0:
            checked[w] = json.loads(out)["claimed"]
    assert sum(checked.values()) == 2 * PAGES and sum(1 for n in checked.values() if n) >= 2


def test_a_killed_workers_leases_are_taken_over_when_they_expire(world: World) -> None:
    url, homes = world.fresh(
        '[schedule]\nlease = "6s"\nclaim_batch = 500\n[fetch]\nper_domain = 2\n'
    )
    paths = _watch_all(world, url, homes["w1"])
    victim = world.start("w1", url, homes["w1"], "check")
    world.wait_fetched(20)
    victim.kill()  # SIGKILL, mid-pass: its leases stay until they expire
    victim.communicate(timeout=30)
    code, _out, err = world.run("w2", url, homes["w2"], "check")
    assert code == 75 and "another raqib pass is running" in err  # w1's claims still stand
    code, out, err = world.run(
        "w2", url, homes["w2"], "check", "--wait", "--wait-timeout", "60", "--json"
    )
    assert code == 0, err
    assert 0 < json.loads(out)["claimed"] < PAGES  # what w1 had not recorded
    assert [w["versions"] for w in world.watches(url, homes["w3"])] == [1] * PAGES
    counts = world.fetched()
    assert set(counts) == set(paths) and max(counts.values()) <= 2  # at most in flight at the kill


def test_a_worker_whose_link_is_cut_writes_no_duplicate_and_rejoins(world: World) -> None:
    url, homes = world.fresh(
        '[schedule]\nlease = "30s"\nclaim_batch = 500\n[fetch]\nper_domain = 2\ntimeout = 3\n'
    )
    _watch_all(world, url, homes["w1"])
    cut = world.start("w1", url, homes["w1"], "check")
    world.wait_fetched(20)
    world.net.link("w1", False)
    time.sleep(8)  # the outage itself, not synchronisation
    world.net.link("w1", True)
    cut.communicate(timeout=180)  # it ends one way or another: every write is whole
    during = world.watches(url, homes["w3"])
    assert max(w["versions"] for w in during) == 1  # nothing written twice
    # Fetches that failed in the outage are errors, retried on their schedule;
    # the worker rejoins and a pass over everything leaves one version each.
    assert all(w["versions"] == 1 or w["last_outcome"] in ("error", None) for w in during)
    code, _out, err = world.run(
        "w1", url, homes["w1"], "check", "--all", "--wait", "--wait-timeout", "120", "--json"
    )
    assert code == 0, err
    assert [w["versions"] for w in world.watches(url, homes["w3"])] == [1] * PAGES


def test_two_workers_never_deliver_one_message_twice(world: World) -> None:
    url, homes = world.fresh("")
    code, _out, err = world.run(
        "w1", url, homes["w1"], "notify", "add", "http://10.77.0.2:8081/hook", "--when", "all"
    )
    assert code == 0, err
    queue = (
        "import os, sys; from datetime import UTC, datetime;"
        "from raqib.storage import open_storage;"
        "s = open_storage(os.environ['RAQIB_DATABASE_URL']);"
        "ch = s.outbox.channels()[0].id;"
        "s.outbox.enqueue([(ch, f'k{i}', {'id': f'e{i}', 'event': 'coverage', 'url': 'u', 'headline': 'h',"
        " 'detected_at': None, 'score': 0.5, 'terms': [], 'found_via': 'f'}) for i in range(60)],"
        " now=datetime.now(UTC))"
    )
    p = world.net.popen(
        "w1", [sys.executable, "-c", queue], env={**os.environ, "RAQIB_DATABASE_URL": url}, cwd=ROOT
    )
    assert p.wait(timeout=60) == 0
    flushes = [
        world.start(w, url, homes[w], "notify", "flush", "--timeout", "60") for w in ("w2", "w3")
    ]
    for f in flushes:
        _out, err = f.communicate(timeout=120)
        assert f.returncode == 0, err
    heard = Counter(world.log.with_suffix(".hooks").read_text(encoding="utf-8").split())
    assert heard == Counter({f"e{i}": 1 for i in range(60)})
