"""Raqib installs as one import package, and what runs is always Raqib.

The wheel holds `raqib` and nothing else at the top level, with the client's
folders mapped into it. Every child process starts with `python -P -m raqib`,
so files in the working directory that share a name with an old top-level
module (cli.py, config.py, console.py, …) never run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from raqib.demo.pages import PATH, VERSIONS, render
from raqib.demo.server import PageServer, Route
from tests.conftest import ROOT, Raqib

# A module that would announce itself if anything imported it.
TRAP = "import sys\nsys.stderr.write('STRAY {name} RAN\\n')\nraise SystemExit(99)\n"
STRAY = ("cli", "config", "console", "tasks", "scheduler", "storage", "crawler", "clock")


@pytest.fixture
def stray_dir(tmp_path: Path) -> Path:
    """A working directory full of modules named like Raqib's old top level."""
    d = tmp_path / "work"
    d.mkdir()
    for name in STRAY:
        (d / f"{name}.py").write_text(TRAP.format(name=name), encoding="utf-8")
    return d


def _raqib_exe() -> str:
    return str(Path(sys.executable).with_name("raqib"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel pip builds from a copy of the checkout (nothing written here)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(
        ROOT,
        src,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "*.egg-info", "build", "dist", "test-artifacts", "__pycache__",
            ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "results",
        ),
    )  # fmt: skip
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp / "dist"),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    (built,) = (tmp / "dist").glob("raqib-*.whl")
    return built


def test_the_wheel_installs_one_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        (top_level,) = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        assert z.read(top_level).decode().split() == ["raqib"]
        assert {n.split("/")[0] for n in names} == {"raqib", top_level.split("/")[0]}
        # The client's folders are mapped in, the scheduler module is a real file.
        for path in (
            "raqib/crawler/settings.py",
            "raqib/crawler/spiders/refetch.py",
            "raqib/storage/migrations/env.py",
            "raqib/storage/migrations/versions/0001_initial_schema.py",
            "raqib/diffs/templates/diff.html",
            "raqib/report/templates/change.html",
            "raqib/__main__.py",
        ):
            assert path in names, path
        assert z.read("raqib/scheduler.py") == (ROOT / "scheduler.py").read_bytes()


def test_the_installed_wheel_runs_a_pass(wheel: Path, tmp_path: Path, stray_dir: Path) -> None:
    """Installed from the wheel alone (no checkout on the path), from a
    directory of stray modules: help, a watch, a real pass, a diff."""
    site = tmp_path / "site"
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    env = {**os.environ, "PYTHONPATH": str(site)}
    home = tmp_path / "home"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-P", "-m", "raqib", "--home", str(home), *args],
            capture_output=True, text=True, timeout=180, env=env, cwd=stray_dir,
        )  # fmt: skip

    probe = subprocess.run(
        [sys.executable, "-P", "-c", "import raqib.crawler.settings as s; print(s.__file__)"],
        capture_output=True, text=True, env=env, cwd=stray_dir,
    )  # fmt: skip
    assert probe.stdout.startswith(str(site)), probe.stdout + probe.stderr
    server = PageServer().start()
    try:
        url = server.base + PATH
        for version in VERSIONS[:3]:
            server.routes[PATH] = Route(render(version, server.base))
            if version is VERSIONS[0]:
                assert run("watch", "--no-fetch", url).returncode == 0
            r = run("check", "--all")
            assert r.returncode == 0 and "STRAY" not in r.stderr, r.stdout + r.stderr
        r = run("diff", url, "--format", "json")
        assert r.returncode == 0 and '"schema": "raqib.diff/1"' in r.stdout, r.stderr
    finally:
        server.stop()


@pytest.mark.parametrize("how", ["script", "module"])
def test_help_ignores_stray_modules_in_the_working_directory(stray_dir: Path, how: str) -> None:
    cmd = [_raqib_exe()] if how == "script" else [sys.executable, "-P", "-m", "raqib"]
    p = subprocess.run([*cmd, "--help"], capture_output=True, text=True, cwd=stray_dir, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "STRAY" not in p.stderr and "Raqib (رقيب) watches news articles" in p.stdout


def test_daemon_and_sharded_passes_ignore_stray_modules(
    stray_dir: Path, home: Path, server: PageServer
) -> None:
    """The daemon's sweeps (child processes) and a pass split over two crawler
    processes (a forkserver) all start from a directory of stray modules."""
    (stray_dir / "raqib.py").write_text(TRAP.format(name="raqib"), encoding="utf-8")
    for i in range(4):
        server.routes[f"/a{i}"] = Route(render(VERSIONS[0], server.base))
    raqib = Raqib(home)
    raqib("watch", "--no-fetch", *(f"{server.base}/a{i}" for i in range(4)))
    home.mkdir(exist_ok=True)
    (home / "raqib.toml").write_text("[fetch]\nprocesses = 2\n", encoding="utf-8")
    p = subprocess.run(
        [_raqib_exe(), "--home", str(home), "check", "--all", "--json"],
        capture_output=True, text=True, cwd=stray_dir, timeout=180,
    )  # fmt: skip
    assert p.returncode == 0 and "STRAY" not in p.stderr, p.stdout + p.stderr
    assert '"processes": 2' in p.stdout and '"new_version": 4' in p.stdout
    daemon = subprocess.Popen(
        [_raqib_exe(), "--home", str(home), "daemon", "--every", "1", "--discover-every", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=stray_dir,
        env={**os.environ, "RAQIB_NOW": "2099-01-01T00:00:00Z"},
    )  # fmt: skip
    guard = threading.Timer(120, daemon.kill)  # a hung daemon fails the test, not CI
    guard.start()
    try:
        assert daemon.stderr is not None
        seen = []
        for line in daemon.stderr:  # the daemon logs each sweep as it ends
            seen.append(line)
            if "sweep 1:" in line:
                break
        assert any("checked 4 watches" in line for line in seen), seen
        assert not any("STRAY" in line for line in seen), seen
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
        guard.cancel()
    assert daemon.returncode == 0
