"""Shared fixtures: a page server on 127.0.0.1, a fresh home, the corpus, and
two ways to drive the CLI (in-process for reads, a subprocess for passes —
Scrapy's reactor runs once per process)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from raqib.demo.server import PageServer, Route
from tests import needs

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
REALPAGES = SHARED / "realpages"


_PYTEST_PID = os.getpid()
_CONTROLLER = False  # this process only hands tests to xdist's workers (`-n 2`)


def pytest_configure(config: pytest.Config) -> None:
    # A run stopped by SIGTERM (a CI timeout, `pkill`) tears its fixtures down
    # as ^C does: the session's PostgreSQL cluster, Chromium and chromedriver
    # go with it, not left running without their temporary directories.
    global _CONTROLLER
    _CONTROLLER = bool(config.getoption("numprocesses", None)) and not hasattr(
        config, "workerinput"
    )
    signal.signal(signal.SIGTERM, _interrupted)


def _interrupted(signum: int, frame: Any) -> None:
    if os.getpid() != _PYTEST_PID:  # a process a test forked dies of it, as it would have
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    # Once: a second SIGTERM (one sent to the whole process group reaches a
    # worker twice, from its sender and from the controller) would cut the
    # teardown short, and a cluster's directory be removed while it runs.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if _CONTROLLER:
        # The fixtures live in the workers, this process's only children: each
        # tears its own down (execnet interrupts a worker after 5 s, kills it at 10).
        for child in children(os.getpid()):
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass
    raise KeyboardInterrupt


def children(pid: int) -> list[int]:
    """Process `pid`'s children, now."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:  # no /proc: the workers are left to xdist's own ending
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                found += [int(c) for c in f.read().split()]
        except OSError:  # a thread that ended meanwhile
            pass
    return found


def raqib_command() -> list[str]:
    exe = Path(sys.executable).with_name("raqib")
    return [str(exe)] if exe.exists() else [sys.executable, "-P", "-m", "raqib"]


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Raqib:
    """Runs raqib against one home directory (and its database: SQLite in the
    home, or the PostgreSQL database RAQIB_DATABASE_URL names)."""

    def __init__(self, home: Path, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.env = env or {}

    @property
    def database_url(self) -> str:
        from raqib.storage import sqlite

        return self.env.get("RAQIB_DATABASE_URL") or sqlite.url_for(self.home / "raqib.db")

    def open_storage(self, *, readonly: bool = False) -> Any:
        from raqib.storage import open_storage

        return open_storage(self.database_url, readonly=readonly)

    def __call__(
        self, *args: str, expect: int | None = 0, input: str | None = None, timeout: float = 120
    ) -> Result:
        """In-process (fast): for every command that does not crawl."""
        runner = CliRunner()
        old = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            r = runner.invoke(
                __import__("raqib.cli", fromlist=["main"]).main,
                ["--home", str(self.home), *args],
                input=input,
                catch_exceptions=False,
            )
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        res = Result(r.exit_code, r.stdout, r.stderr)
        if expect is not None:
            assert r.exit_code == expect, (
                f"raqib {' '.join(args)} exited {r.exit_code}: {r.stdout}\n{r.stderr}"
            )
        return res

    def proc(
        self,
        *args: str,
        expect: int | None = 0,
        timeout: float = 180,
        env: dict[str, str] | None = None,
    ) -> Result:
        """A real subprocess: for passes (check, demo, daemon)."""
        full_env = {**os.environ, **self.env, **(env or {})}
        p = subprocess.run(
            [*raqib_command(), "--home", str(self.home), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
            cwd=ROOT,
        )
        res = Result(p.returncode, p.stdout, p.stderr)
        if expect is not None:
            assert p.returncode == expect, (
                f"raqib {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}"
            )
        return res

    def patched(self, script: str, *args: str) -> tuple[Any, str]:
        """`raqib ARGS` (a --json command) run by `script`, which patches Raqib
        first: the bug it stands in for is one no test can predict. Returns
        (the parsed output, stderr)."""
        p = subprocess.run(
            [sys.executable, "-P", "-c", script, "--home", str(self.home), *args],
            capture_output=True, text=True, timeout=180, env={**os.environ, **self.env},
        )  # fmt: skip
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout), p.stderr

    def popen(
        self, *args: str, env: dict[str, str] | None = None, **kw: Any
    ) -> subprocess.Popen[str]:
        full_env = {**os.environ, **self.env, **(env or {})}
        return subprocess.Popen(
            [*raqib_command(), "--home", str(self.home), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
            cwd=ROOT,
            **kw,
        )


class Gate:
    """Around each request: the first `free` pass, the rest wait until opened."""

    def __init__(self, free: int) -> None:
        self.free, self.lock = free, threading.Lock()
        self.held, self.open = threading.Event(), threading.Event()

    def __enter__(self) -> None:
        with self.lock:
            self.free -= 1
            wait = self.free < 0
        if wait:
            self.held.set()
            self.open.wait(60)

    def __exit__(self, *exc: object) -> None:
        return None


class ConcurrencyProbe:
    """Counts requests in flight at the server; remembers the most at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


@pytest.fixture
def server() -> Iterator[PageServer]:
    srv = PageServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The default run leaves the tests marked slow out (the README's Tests
    section says which): `-m` chooses for itself, and a test named by its id
    (`file.py::test`) runs whatever its marks."""
    if config.option.markexpr or any("::" in str(arg) for arg in config.args):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
        config.stash[_LEFT_OUT] = len(slow)


_LEFT_OUT = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say so when slow tests were left out (a `-k` or `--lf` run's too)."""
    if left := config.stash.get(_LEFT_OUT, 0):
        terminalreporter.write_line(
            f"{left} slow test{'s' if left != 1 else ''} left out: `-m slow` runs them alone, "
            '`-m "slow or not slow"` everything'
        )


# --- both backends ------------------------------------------------------------------
#
# A test module marked `pytestmark = pytest.mark.backends` runs each of its
# tests that use `raqib` (or `backend`) twice: on SQLite in the home, and on
# a fresh database of a throwaway PostgreSQL cluster started for the session.


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("backends"):
        # A long scenario whose subject is no backend's (a month of passes, a
        # channel's messages) runs on PostgreSQL in the full run only; the
        # storage, claims, outbox and crash tests run on both in every run.
        scenario = metafunc.definition.get_closest_marker("scenario") is not None
        pg = pytest.param("postgresql", marks=pytest.mark.slow) if scenario else "postgresql"
        metafunc.parametrize("backend", ["sqlite", pg], indirect=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Any]:
    from tests import pg

    bindir = pg.bindir()
    if bindir is None:  # installed here, or by the other xdist worker meanwhile
        needs.debian()
        bindir = pg.bindir()
    if bindir is None:
        pytest.skip(
            "no PostgreSQL server binaries (initdb, pg_ctl): .ci/run installs Debian's postgresql"
        )
    cluster = pg.Cluster(bindir).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """None for SQLite in the home; a fresh PostgreSQL database's URL otherwise."""
    if backend == "sqlite":
        return None
    return str(request.getfixturevalue("pg_cluster").new_database())


@pytest.fixture
def raqib(home: Path, database_url: str | None) -> Raqib:
    return Raqib(home, env={"RAQIB_DATABASE_URL": database_url} if database_url else {})


def imported(importtime: str) -> set[str]:
    """The modules a `python -X importtime` run imported, from its stderr."""
    return {line.rsplit("|", 1)[-1].strip() for line in importtime.splitlines() if "|" in line}


def importing_run(raqib: Raqib, *args: str) -> tuple[str, set[str]]:
    """`raqib ARGS` in a process of its own: its stdout, and the modules it imported."""
    r = raqib.proc(*args, env={"PYTHONPROFILEIMPORTTIME": "1"})
    return r.out, imported(r.err)


# --- the corpus ------------------------------------------------------------------


def require_shared() -> None:
    if not CORPUS.exists():
        pytest.skip("../shared/corpus is not beside the checkout")


@pytest.fixture(scope="session")
def manifest() -> dict[str, Any]:
    require_shared()
    return json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))


def corpus_body(manifest: dict[str, Any], name: str, base: str) -> bytes:
    raw = (CORPUS / "pages" / name).read_bytes()
    return raw.replace(manifest["base_token"].encode(), base.encode())


def corpus_route(manifest: dict[str, Any], step: dict[str, Any], base: str) -> Route:
    return Route(
        body=corpus_body(manifest, step["body"], base),
        status=step["status"],
        headers=dict(step["headers"]),
    )


def realpage(name: str) -> str:
    path = REALPAGES / name
    if not path.exists():
        pytest.skip("../shared/realpages is not beside the checkout")
    return path.read_text(encoding="utf-8", errors="replace")


def replay_corpus(
    server: PageServer, raqib: Raqib, manifest: dict[str, Any], *, steps: int | None = None
) -> dict[str, str]:
    """Watch both corpus articles and replay their steps; returns id → URL."""
    watches = manifest["watches"]
    urls = {w["id"]: server.base + w["path"] for w in watches}
    for w in watches:
        raqib("watch", "--no-fetch", urls[w["id"]], "--story", w["story"])
    total = max(len(w["steps"]) for w in watches) if steps is None else steps
    for k in range(total):
        for w in watches:
            if k < len(w["steps"]):
                server.routes[w["path"]] = corpus_route(manifest, w["steps"][k], server.base)
        raqib.proc("check", "--all")
    return urls


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    found = needs.chromium()  # installs Debian's chromium and chromium-driver when it can
    if found is None:
        pytest.skip("Debian's chromium and chromium-driver are missing (python3 tests/needs.py)")
    chromium, chromedriver = found
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="raqib-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1280,1700",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(chromedriver), options=opts)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
