"""Raqib under a real Scrapyd: deployed from scrapy.cfg with scrapyd-deploy,
scheduled through schedule.json, writing to the shared PostgreSQL database
with the same claims as `raqib check`."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import Route
from tests.conftest import ROOT, ConcurrencyProbe, Raqib

PAGES = 30
BIN = Path(sys.executable).parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _api(base: str, endpoint: str, data: dict[str, str] | None = None) -> Any:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(base + endpoint, data=body, timeout=30) as resp:
        return json.loads(resp.read())


def _wait(what: str, ready: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = ready()
        except OSError:
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout:.0f}s"
        time.sleep(0.2)  # polling Scrapyd's own status API


@pytest.fixture
def scrapyd(tmp_path: Path, database_url_pg: str) -> Any:
    if shutil.which("scrapyd", path=str(BIN)) is None:
        pytest.skip("scrapyd is not installed (pip install -e '.[test]')")
    work = tmp_path / "scrapyd"
    work.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    (home / "raqib.toml").write_text("[schedule]\nclaim_batch = 15\n", encoding="utf-8")
    env = {**os.environ, "RAQIB_DATABASE_URL": database_url_pg, "RAQIB_HOME": str(home)}
    for _attempt in range(3):
        proc, base = _start_scrapyd(work, env)
        if proc is not None:
            break
    else:
        pytest.fail("scrapyd found every free port it picked taken before it bound it")
    try:
        yield {"base": base, "home": home, "env": env, "work": work}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _start_scrapyd(work: Path, env: dict[str, str]) -> tuple[Any, str]:
    """Scrapyd on a free port; (None, …) when another process took that port
    between its pick and scrapyd's bind (the other xdist worker picks ports too)."""
    port = _port()
    (work / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\nmax_proc = 2\npoll_interval = 0.5\n"
        f"eggs_dir = {work / 'eggs'}\nlogs_dir = {work / 'logs'}\ndbs_dir = {work / 'dbs'}\nitems_dir =\n",
        encoding="utf-8",
    )
    out = work / f"scrapyd-{port}.out"  # scrapyd logs to stdout, its errors too
    with out.open("wb") as f:
        proc = subprocess.Popen(
            [str(BIN / "scrapyd")], cwd=work, env=env, stdout=f, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}/"

    def up() -> bool:
        if proc.poll() is not None:
            return True  # exited: no use waiting
        return bool(_api(base, "daemonstatus.json").get("status") == "ok")

    try:
        _wait("scrapyd start", up)
    except BaseException:
        proc.kill()
        raise
    if proc.poll() is None:
        return proc, base
    err = out.read_text(encoding="utf-8", errors="replace")
    assert "CannotListenError" in err or "Address already in use" in err, err[-3000:]
    return None, base


@pytest.fixture
def database_url_pg(pg_cluster: Any) -> str:
    return str(pg_cluster.new_database())


def test_scrapyd_runs_raqib_passes_with_the_same_claims(
    server, scrapyd: Any, tmp_path: Path
) -> None:
    paths = [f"/sd/{i}" for i in range(PAGES)]
    for p in paths:
        server.routes[p] = Route(render(VERSIONS[0], server.base), delay=0.3)
    raqib = Raqib(scrapyd["home"], {"RAQIB_DATABASE_URL": scrapyd["env"]["RAQIB_DATABASE_URL"]})
    raqib("watch", "--no-fetch", *(server.base + p for p in paths))
    # Deployed from the project's scrapy.cfg (a copy: the egg build writes beside it).
    src = tmp_path / "src"
    shutil.copytree(
        ROOT, src, symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git", ".venv*", "*.egg-info", "build", "dist", "__pycache__", ".*_cache",
            ".hypothesis", "test-artifacts",  # what the other xdist worker may be writing
        ),
    )  # fmt: skip
    deploy = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "-p", "raqib"],
        cwd=src, env={**scrapyd["env"], "SCRAPYD_URL": scrapyd["base"]}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert "pass" in _api(scrapyd["base"], "listspiders.json?project=raqib")["spiders"]
    server.requests.clear()
    probe = ConcurrencyProbe()
    server.around = probe

    # Two jobs at once, each claiming a batch of 15 of one site's 30 pages. One
    # job at a time fetches a site: the second finds it taken (and claims
    # nothing), or takes the rest once the first is done. A third job takes
    # whatever is left: together, every page once.
    def run(n: int) -> None:
        jobs = [
            _api(
                scrapyd["base"],
                "schedule.json",
                {"project": "raqib", "spider": "pass", "home": str(scrapyd["home"])},
            )["jobid"]
            for _ in range(n)
        ]

        def finished() -> bool:
            listed = _api(scrapyd["base"], "listjobs.json?project=raqib")
            return {j["id"] for j in listed["finished"]} >= set(jobs)

        _wait(f"{n} job(s) to finish", finished, timeout=240)

    run(2)
    fetched = Counter(p for p, _h in server.requests if p != "/robots.txt")
    assert set(fetched.values()) == {1} and len(fetched) in (15, 30), fetched
    assert 1 <= probe.most <= 4, probe.most  # fetch.per_domain: one job's, never two
    run(1)
    fetched = Counter(p for p, _h in server.requests if p != "/robots.txt")
    assert fetched == Counter(dict.fromkeys(paths, 1))
    watches = raqib("watches", "--json").json()
    assert [w["versions"] for w in watches] == [1] * PAGES
    assert {w["last_outcome"] for w in watches} == {"new_version"}
