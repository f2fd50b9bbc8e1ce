"""The code itself: lint, types, the direction of imports, module sizes, and
that Raqib installs as one package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

MAX_LINES = 420  # "about 400": a module past this is split by what it holds


def _run(
    *cmd: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, capture_output=True, text=True, cwd=cwd, timeout=600, env={**os.environ, **(env or {})}
    )


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]


def source_dir(package: str, package_dir: dict[str, str]) -> Path:
    """Where a package's files live in the checkout, by the package-dir map."""
    parts = package.split(".")
    for i in range(len(parts), 0, -1):
        mapped = package_dir.get(".".join(parts[:i]))
        if mapped is not None:
            return ROOT / mapped / Path(*parts[i:])
    return ROOT / Path(*parts)


@pytest.fixture(scope="module")
def installed_tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The package laid out as pip installs it (tools that read files, not
    import hooks, need it): every listed package copied to its import path."""
    cfg = _setuptools()
    out = tmp_path_factory.mktemp("site")
    for package in cfg["packages"]:
        src = source_dir(package, cfg["package-dir"])
        dest = out / Path(*package.split("."))
        dest.mkdir(parents=True, exist_ok=True)
        for f in src.glob("*.py"):
            shutil.copyfile(f, dest / f.name)  # follows raqib/scheduler.py → scheduler.py
    yield out


def test_ruff() -> None:
    p = _run(sys.executable, "-m", "ruff", "check", ".")
    assert p.returncode == 0, p.stdout + p.stderr


def test_ruff_format() -> None:
    p = _run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert p.returncode == 0, p.stdout + p.stderr


def test_import_rules(installed_tree: Path) -> None:
    """The contracts in pyproject.toml's [tool.importlinter] hold."""
    exe = Path(sys.executable).with_name("lint-imports")
    p = _run(
        str(exe), "--config", str(ROOT / "pyproject.toml"), "--no-cache",
        cwd=installed_tree, env={"PYTHONPATH": str(installed_tree)},
    )  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    assert "0 broken" in p.stdout


def test_mypy(installed_tree: Path) -> None:
    p = _run(
        sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
        "--cache-dir", str(installed_tree / ".mypy_cache"), "raqib",
        cwd=installed_tree,
    )  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr


def test_every_package_is_listed() -> None:
    """A package missing from pyproject.toml would be missing from the wheel."""
    cfg = _setuptools()
    listed = {source_dir(p, cfg["package-dir"]).resolve() for p in cfg["packages"]}
    found = {
        init.parent.resolve()
        for top in ("raqib", "crawler", "storage", "diffs")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found == listed


def _source_files() -> list[Path]:
    files = [ROOT / "scheduler.py"]
    for top in ("raqib", "crawler", "storage", "diffs"):
        files += [p for p in (ROOT / top).rglob("*.py") if not p.is_symlink()]
    return [p for p in files if "migrations" not in p.parts]


def test_modules_stay_small() -> None:
    long = {
        p.relative_to(ROOT).as_posix(): n
        for p in _source_files()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_product_never_reads_shared() -> None:
    for path in _source_files():
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text and "shared/corpus" not in text, path
    assert (ROOT / "scrapy.cfg").read_text(encoding="utf-8").count("raqib.crawler.settings") == 1
