"""What Raqib's passes are compared with: the naive loop (fetch, extract,
hash, compare, one page after another) and the extraction limit (trafilatura's
median time a page, over the cores)."""

from __future__ import annotations

import hashlib
import statistics
import time
import urllib.request
from typing import Any

from bench.procs import self_cpu
from bench.serving import Site
from raqib.cores import usable_cores

# The CPUs the timed passes may use (`taskset -c 0 python bench/run.py` times one).
CORES = usable_cores()


def naive(site: Site, sample: list[int], previous: dict[int, str], *, fast: bool) -> dict[str, Any]:
    """The baseline: fetch, extract, hash, compare — one page after another."""
    import trafilatura

    changed = 0
    cpu0 = self_cpu()
    t0 = time.perf_counter()
    for i in sample:
        with urllib.request.urlopen(f"{site.base}/news/{i}", timeout=30) as resp:
            html = resp.read().decode("utf-8")
        text = trafilatura.extract(html, fast=fast) or ""
        digest = hashlib.sha256(text.encode()).hexdigest()
        changed += previous.get(i) != digest
        previous[i] = digest
    wall = time.perf_counter() - t0
    print(f"  naive loop: {len(sample) / wall:.1f} pages/s", flush=True)
    return {
        "pages": len(sample),
        "seconds": round(wall, 3),
        "pages_per_s": round(len(sample) / wall, 1),
        "cpu_s_per_page": round((self_cpu() - cpu0) / len(sample), 5),
        "changed": changed,
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
