"""The code itself: lint, types, and the layering the style guide asks for."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *cmd], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_ruff() -> None:
    p = _run("ruff", "check", ".")
    assert p.returncode == 0, p.stdout + p.stderr


def test_mypy_on_storage_diffs_normalize() -> None:
    p = _run("mypy")
    assert p.returncode == 0, p.stdout + p.stderr


def _imports(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def test_layers_point_one_way() -> None:
    project = {
        "crawler",
        "storage",
        "diffs",
        "normalize",
        "discovery",
        "archive",
        "report",
        "demo",
        "cli",
        "tasks",
        "scheduler",
        "config",
        "clock",
        "console",
    }
    assert _imports("storage") & project <= {"storage"}
    assert _imports("normalize") & project <= {"normalize"}
    assert _imports("diffs") & project <= {"diffs", "normalize"}
    assert not {"scrapy", "trafilatura"} & _imports("diffs")
    assert "diffs" not in _imports("crawler")
    # trafilatura is imported in exactly one product module (the benchmark's
    # naive baseline and the tests call it directly on purpose).
    users = [
        p.relative_to(ROOT).as_posix()
        for p in ROOT.rglob("*.py")
        if not {".venv", "tests", "bench"} & set(p.relative_to(ROOT).parts)
        and re.search(r"^\s*(?:import|from) trafilatura", p.read_text(encoding="utf-8"), re.M)
    ]
    assert users == ["crawler/extract.py"]


def test_product_never_reads_shared() -> None:
    for package in (
        "crawler",
        "storage",
        "diffs",
        "normalize",
        "discovery",
        "archive",
        "report",
        "demo",
    ):
        for path in (ROOT / package).rglob("*.py"):
            assert "../shared" not in path.read_text(encoding="utf-8"), path
    for module in ("cli.py", "tasks.py", "scheduler.py"):
        assert "shared/corpus" not in (ROOT / module).read_text(encoding="utf-8")
    assert Path(ROOT / "scrapy.cfg").read_text(encoding="utf-8").count("crawler.settings") == 1
