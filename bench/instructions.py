"""Instructions per page of Raqib's analysis, counted by valgrind: the same on
every run, so a change of a few percent shows on a machine whose speed drifts
by ±30% (where pass times cannot tell it from the drift).

    python bench/run.py --instructions                          # this checkout, about 2 minutes
    python bench/run.py --instructions --baseline /tmp/base/.venv/bin/python

Counts what a crawler process does with a fetched page (raqib.extract.page:
analyze) on the benchmark's generated pages: a first fetch (full extraction,
then the region located and digested) and a refetch after the furniture
churned (the region check). Each figure is the difference between a run that
analyses N pages and one that only prepares them, divided by N. `--baseline`
names the Python of another install (a worktree, as `--ab`'s help shows): the
same pages, analysed by its Raqib. Needs valgrind (`apt-get install valgrind`).
Writes bench/results/instructions-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MODES = ("prepare", "first", "churn")
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _child(mode: str, n: int) -> None:
    """The counted workload, in whichever install runs this file (the bench
    pages are loaded by path, so that `raqib` is that install's)."""
    spec = importlib.util.spec_from_file_location("raqib_bench_pages", HERE / "pages.py")
    assert spec is not None and spec.loader is not None
    pages = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = pages  # dataclasses look their module up there
    spec.loader.exec_module(pages)
    from raqib.extract.page import analyze

    url = "http://bench.test/news/a"
    first = [pages.render(i, 0, 1, "http://bench.test").decode() for i in range(n)]
    churned = [pages.render(i, 0, 2, "http://bench.test").decode() for i in range(n)]
    analyze(first[0], url, None)  # what a first call sets up is in every mode alike
    if mode == "prepare":
        return
    results = [analyze(html, url, None) for html in first]
    if mode == "churn":
        for html, r in zip(churned, results, strict=True):
            analyze(html, url, getattr(r, "region", None))  # every benchmark page is an article


def _count(python: str, mode: str, n: int) -> int:
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", python,
           str(Path(__file__).resolve()), "--child", mode, str(n)]  # fmt: skip
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    m = _REFS.search(p.stderr)
    if p.returncode != 0 or m is None:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr[-3000:]}")
    return int(m.group(1).replace(",", ""))


def measure(python: str, n: int) -> dict[str, float]:
    """Million instructions per page, a first fetch's analysis and a churned
    refetch's, and the three runs' totals they come from."""
    with ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0))) as pool:
        counts = dict(zip(MODES, pool.map(lambda m: _count(python, m, n), MODES), strict=True))
    first = (counts["first"] - counts["prepare"]) / n / 1e6
    churn = (counts["churn"] - counts["first"]) / n / 1e6
    return {
        "first": round(first, 2),
        "churn": round(churn, 2),
        **{f"total_{k}": float(v) for k, v in counts.items()},
    }


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        _child(argv[1], int(argv[2]))
        return
    ap = argparse.ArgumentParser(
        prog="bench/run.py --instructions",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--pages", type=int, default=20, help="pages analysed per count (default 20)")
    ap.add_argument("--baseline", metavar="PYTHON", help="another install's Python, counted too")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    args = ap.parse_args(argv)
    if args.pages < 1:
        ap.error("--pages is at least 1")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: apt-get install valgrind")
    if args.baseline and not Path(args.baseline).exists():
        ap.error(f"--baseline: no such Python: {args.baseline}")
    result: dict[str, Any] = {"pages": args.pages, "started": datetime.now(UTC).isoformat()}
    result["this"] = measure(sys.executable, args.pages)
    if args.baseline:
        result["baseline"] = measure(args.baseline, args.pages)
    print(f"million instructions per page, analysis only ({args.pages} benchmark pages):")
    for kind in ("first", "churn"):
        line = f"  {kind:<6} this {result['this'][kind]:7.2f}"
        if "baseline" in result:
            base = result["baseline"][kind]
            line += f"   baseline {base:7.2f}   ×{result['this'][kind] / base:.3f}"
        print(line)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"instructions-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
