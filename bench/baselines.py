"""What Raqib's passes are compared with: the naive loop (fetch, extract,
hash, compare, one page after another) and the extraction limit (trafilatura's
median time a page, over the cores)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.serving import Site
from raqib.cores import usable_cores

# The CPUs the timed passes may use (`taskset -c 0 python bench/run.py` times one).
CORES = usable_cores()


def sample(n: int, size: int, period: int) -> list[int]:
    """Pages for the naive loop: all n when n ≤ size; else `size` of them
    spread over the site (its whole periods alone, when it holds no more than
    size ÷ period of them), each residue modulo `period` as often as the next
    (equally when size is a multiple of it).
    With the period a multiple of the template count and of the edit stride,
    the sample holds each template and the edited share as the whole site
    does. (Every n // size-th page did not: at 2,000 pages that took only
    templates 0 and 2, half of them the slowest to extract.)"""
    if size < period:
        raise ValueError(f"a sample of at least {period} pages holds every residue")
    if n <= size:
        return list(range(n))
    blocks = n // period
    if blocks * period <= size:
        return list(range(blocks * period))
    # Picks k and k + period share a residue and land `period` picks apart,
    # at least one block apart since blocks × period > size: no two collide.
    return sorted(k * blocks // size * period + k % period for k in range(size))


def naive(site: Site, pages: list[int], state: Path) -> dict[str, Any]:
    """The baseline (bench/naive_loop.py: requests, trafilatura.extract, a hash
    compared with `state`'s, one page after another) in a process of its own,
    as the peers' mode runs it. In this process it shared the GIL with the page
    server, and ran slower the more pages the server held. Its rate is the
    loop's own time, imports excluded: a pass of Raqib's pays its start-up over
    every page, the loop over a sample."""
    urls = state.with_suffix(".urls")
    urls.write_text("\n".join(f"{site.base}/news/{i}" for i in pages), encoding="utf-8")
    loop = Path(__file__).with_name("naive_loop.py")
    run = subprocess.run(
        [sys.executable, str(loop), "--urls", str(urls), str(state)], capture_output=True, text=True
    )
    if run.returncode:
        raise RuntimeError(f"the naive loop failed ({run.returncode}): {run.stderr[-2000:]}")
    report = json.loads(run.stdout)
    wall = report["loop_seconds"]
    print(f"  naive loop: {len(pages) / wall:.1f} pages/s", flush=True)
    return {
        "pages": len(pages),
        "seconds": wall,
        "pages_per_s": round(len(pages) / wall, 1),
        "cpu_s_per_page": round(report["loop_cpu_s"] / len(pages), 5),
        "changed": len(report["changed"]),
    }


def extraction_limit(site: Site, sample: list[int], n: int) -> dict[str, Any]:
    import trafilatura

    from raqib.extract.page import make_page

    times: dict[str, list[float]] = {"default": [], "raqib": []}
    for i in sample:
        html = site.pages[i].decode("utf-8")
        t = time.perf_counter()
        trafilatura.extract(html)
        times["default"].append(time.perf_counter() - t)
        t = time.perf_counter()
        make_page(html, f"{site.base}/news/{i}")
        times["raqib"].append(time.perf_counter() - t)
    out = {}
    for name, ts in times.items():
        med = statistics.median(ts)
        out[name] = {
            "median_ms": round(med * 1000, 2),
            "limit_seconds": round(n * med / CORES, 3),
            "limit_pages_per_s": round(CORES / med, 1),
        }
    return out
