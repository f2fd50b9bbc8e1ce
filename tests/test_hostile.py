"""What a hostile run found (issue 15): bad databases, port 0, and what a
pass reports as its own."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import Route
from raqib.storage.migrate import HEAD
from tests.conftest import Raqib


def test_port_zero_is_refused(raqib: Raqib) -> None:
    r = raqib("watch", "--no-fetch", "http://127.0.0.1:0/x", expect=2)
    assert "port 0" in r.err


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("empty", "the database is empty"),
        ("garbage", "not a database Raqib can read"),
        ("foreign", "not a Raqib database: it holds other tables (customers)"),
        ("newer", f"schema 9999, newer than this Raqib's {HEAD}"),
    ],
)
def test_a_database_raqib_cannot_use_is_named_in_one_line(
    raqib: Raqib, setup: str, message: str
) -> None:
    home: Path = raqib.home
    if setup == "newer":
        raqib("watch", "--no-fetch", "https://a.example/x")
    home.mkdir(parents=True, exist_ok=True)
    db = home / "raqib.db"
    if setup == "empty":
        db.write_bytes(b"")
    elif setup == "garbage":
        db.write_bytes(b"not sqlite at all " * 100)
    elif setup == "foreign":
        with sqlite3.connect(db) as con:
            con.execute("CREATE TABLE customers (id INTEGER)")
    elif setup == "newer":
        with sqlite3.connect(db) as con:
            con.execute("UPDATE alembic_version SET version_num = '9999'")
    reads = raqib("watches", expect=1)
    assert reads.err.count("\n") == 1 and message in reads.err, reads.err
    if setup != "empty":  # an empty file is a database a writing command may create
        writes = raqib("watch", "--no-fetch", "https://a.example/y", expect=1)
        assert message in writes.err and "alembic" not in writes.err.lower()


def test_a_pass_counts_only_its_own_changes(server, raqib: Raqib) -> None:
    """Versions another pass left unanalysed are analysed, but not counted as this pass's."""
    from raqib.storage.models import Change

    server.routes["/a"] = Route(render(VERSIONS[0], server.base))
    server.routes["/b"] = Route(render(VERSIONS[0], server.base))
    raqib("watch", "--no-fetch", server.base + "/a", server.base + "/b")
    raqib.proc("check", "--all")
    server.routes["/a"] = Route(render(VERSIONS[3], server.base))  # a silent edit
    raqib.proc("check", "--all")
    # As if a pass had stored /a's new version and died before analysing it.
    storage = raqib.open_storage()
    try:
        with storage.db.session() as s:
            s.query(Change).delete()
    finally:
        storage.close()
    server.routes["/b"] = Route(render(VERSIONS[1], server.base))  # furniture churn only
    summary = raqib.proc("check", "--all", "--json").json()
    assert summary["outcomes"].get("new_version", 0) == 0
    assert summary["substantive"] == 0 and summary["cosmetic"] == 0
    # Its pass may still be running (two passes ending together judged each
    # other's versions twice): left to it until a lease has passed.
    assert raqib("changes", "--json").json() == []
    later = {"RAQIB_NOW": (datetime.now(UTC) + timedelta(minutes=16)).isoformat()}
    summary = raqib.proc("check", "--all", "--json", env=later).json()
    assert summary["substantive"] == 0 and summary["cosmetic"] == 0
    assert len(raqib("changes", "--json").json()) == 1  # analysed all the same


@pytest.mark.parametrize("mode", ["due", "all"])
def test_a_pass_claims_batch_after_batch_until_nothing_is_due(
    server, raqib: Raqib, mode: str
) -> None:
    paths = [f"/b{i}" for i in range(7)]
    for path in paths:
        server.routes[path] = Route(render(VERSIONS[0], server.base))
    raqib("watch", "--no-fetch", *(server.base + p for p in paths))
    (raqib.home / "raqib.toml").write_text("[schedule]\nclaim_batch = 3\n", encoding="utf-8")
    args = ("check", "--all", "--json") if mode == "all" else ("check", "--json")
    summary = raqib.proc(*args).json()
    assert summary["claimed"] == 7 and summary["outcomes"] == {"new_version": 7}
    fetched = [p for p, _h in server.requests if p != "/robots.txt"]
    assert sorted(fetched) == sorted(paths)  # each exactly once
    limited = raqib.proc("check", "--all", "--limit", "5", "--json").json()
    assert limited["claimed"] == 5 and sum(limited["outcomes"].values()) == 5


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("127.0.0.1.evil.example", False),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
    ],
)
def test_loopback_is_parsed_not_prefixed(host: str, loopback: bool) -> None:
    from raqib.report.web import is_loopback

    assert is_loopback(host) is loopback


def test_serve_refuses_foreign_host_names_and_keeps_tokens_out_of_logs(raqib: Raqib) -> None:
    import http.client
    import re

    raqib("watch", "--no-fetch", "https://a.example/x")
    proc = raqib.popen(
        "-v", "serve", "--host", "127.0.0.1", "--port", "0", "--token", "correct horse battery",
        "--allow-host", "raqib.newsroom.example",
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        port = None
        while port is None:
            line = proc.stderr.readline()
            assert line, "serve ended before it said where it listens"
            m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
            port = int(m.group(1)) if m else None

        def get(path: str, host: str, cookie: str = "") -> http.client.HTTPResponse:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers={"Host": host, "Cookie": cookie})
            return conn.getresponse()

        token = "correct%20horse%20battery"
        assert get(f"/?token={token}", "attacker.example").status == 400  # DNS rebinding
        assert get(f"/?token={token}", f"127.0.0.1.evil.example:{port}").status == 400
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "raqib.newsroom.example"):
            once = get(f"/?token={token}", host)
            assert once.status == 303 and once.getheader("Location") == "/"
            cookie = once.getheader("Set-Cookie").split(";")[0]
            assert get("/", host, cookie).status == 200
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert "GET /?token=***" in err  # the access log saw the request, not the token
    assert "horse" not in err


def test_a_database_locked_too_long_exits_75_in_one_line(
    raqib: Raqib, monkeypatch: pytest.MonkeyPatch
) -> None:
    from raqib.storage import sqlite as sqlite_mod

    raqib("watch", "--no-fetch", "https://a.example/x")
    monkeypatch.setattr(sqlite_mod, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(raqib.home / "raqib.db", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
        r = raqib("watch", "--no-fetch", "https://a.example/y", expect=75)
        assert r.err.count("\n") == 1 and "the database is busy" in r.err
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    raqib("watch", "--no-fetch", "https://a.example/y")  # and once it is free, all is well


# The analysis raising on one page, as an extractor's bug would on a stranger's
# markup: the patched analysis stands in for the page no test can predict.
_CHOKING = """
import raqib.crawler.record as record
real = record.analyze_timed
def analyze_timed(text, url, region):
    if "/choke" in url:
        raise ValueError("the extractor choked")
    return real(text, url, region)
record.analyze_timed = analyze_timed
from raqib.cli import run
run()
"""


def test_a_page_the_analysis_cannot_read_is_that_watchs_error_not_the_passs(
    server, raqib: Raqib
) -> None:
    """Unrecorded, such a watch stayed first in line, and every pass stopped
    at the batch that held it: the watches after it were never checked."""
    paths = ["/b0", "/choke", *(f"/b{i}" for i in range(1, 6))]
    for path in paths:
        server.routes[path] = Route(render(VERSIONS[0], server.base))
    raqib("watch", "--no-fetch", *(server.base + p for p in paths))
    (raqib.home / "raqib.toml").write_text("[schedule]\nclaim_batch = 2\n", encoding="utf-8")
    p = subprocess.run(
        [sys.executable, "-P", "-c", _CHOKING, "--home", str(raqib.home), "check", "--json"],
        capture_output=True, text=True, timeout=180, env={**os.environ, **raqib.env},
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    assert summary["claimed"] == 7
    assert summary["outcomes"] == {"new_version": 6, "error": 1}, summary
    log = raqib("log", server.base + "/choke").out
    assert "analysis failed: ValueError: the extractor choked" in log


# The analysis killing the process that runs it, as a crash in a C library on
# hostile markup would: only ever in a worker (the test's pass is given one).
_CRASHING_MODULE = """
import multiprocessing, os, signal
from raqib.extract.page import analyze_timed as real
def analyze_timed(text, url, region):
    if "/crash" in url and multiprocessing.parent_process() is not None:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(text, url, region)
"""
_CRASHING = """
import crashing, raqib.crawler.record as record
record.analyze_timed = crashing.analyze_timed
from raqib.cli import run
run()
"""


def test_a_page_that_kills_its_analysis_worker_is_that_watchs_error_not_the_passs(
    server, raqib: Raqib, tmp_path: Path
) -> None:
    """Every page in flight dies with the worker, and nothing says which one
    did it. Failing the pass would fail every pass after it: the page's watch
    stays unrecorded, first in line. Each is analysed again alone instead."""
    paths = [f"/b{i}" for i in range(12)]
    paths[5] = "/crash"
    for path in paths:
        server.routes[path] = Route(render(VERSIONS[0], server.base))
    raqib("watch", "--no-fetch", *(server.base + p for p in paths))
    (raqib.home / "raqib.toml").write_text("[fetch]\nworkers = 1\n", encoding="utf-8")
    (tmp_path / "crashing.py").write_text(_CRASHING_MODULE, encoding="utf-8")
    env = {**os.environ, **raqib.env, "PYTHONPATH": f"{tmp_path}{os.pathsep}{Path.cwd()}"}
    command = [sys.executable, "-P", "-c", _CRASHING, "--home", str(raqib.home), "check", "--all"]
    p = subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=180, env=env)
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    assert summary["workers"] == 1 and summary["claimed"] == 12
    assert summary["outcomes"] == {"new_version": 11, "error": 1}, summary
    assert summary["worker_deaths"] == 2  # with the pages beside it, then alone
    assert "an extraction worker died (killed by SIGKILL)" in p.stderr
    # The next pass is not stopped by it either, and says what happened.
    p = subprocess.run(command, capture_output=True, text=True, timeout=180, env=env)
    assert p.returncode == 0, p.stderr
    assert "11 unchanged" in p.stdout and "1 errors" in p.stdout, p.stdout
    assert "(1 extraction worker; 2 worker deaths)" in p.stdout, p.stdout
    log = raqib("log", server.base + "/crash").out
    assert "analysis failed: the worker analysing it alone died (killed by SIGKILL)" in log
