"""Scaling: 1, 2 and 4 workers sharing one PostgreSQL database.

    python bench/scaling.py                    # 2,000 pages, 50 ms of latency each (a few minutes)
    python bench/scaling.py --pages 500 --workers 1 2

Serves N article pages from 127.0.0.1 with a fixed latency per request (a
distant site), starts a throwaway PostgreSQL cluster (tests/pg.py: initdb in a
temporary directory), and for each worker count runs that many `raqib check`
processes at once over a fresh database where every page is due. Reports the
sweep's wall time and throughput, and how many times each page was fetched
(always 1: a sweep fetches each due watch exactly once). Each worker runs one
crawler process with the default per-site limit, as one machine would.
Writes bench/results/scaling-<N>-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from raqib.cores import usable_cores  # noqa: E402
from raqib.demo.pages import VERSIONS, render  # noqa: E402
from raqib.demo.server import PageServer, Route  # noqa: E402
from tests import pg  # noqa: E402

RAQIB = str(Path(sys.executable).with_name("raqib"))


def sweep(
    cluster: pg.Cluster, server: PageServer, paths: list[str], workers: int
) -> dict[str, Any]:
    url = cluster.new_database()
    env = {**os.environ, "RAQIB_DATABASE_URL": url}
    homes = [Path(tempfile.mkdtemp(prefix=f"raqib-scale{workers}-")) for _ in range(workers)]
    for home in homes:
        (home / "raqib.toml").write_text(
            "[fetch]\nprocesses = 1\n[archive]\nwarc = false\n[schedule]\nclaim_batch = 100\n",
            encoding="utf-8",
        )
    lines = "".join(server.base + p + "\n" for p in paths)
    subprocess.run(
        [RAQIB, "--home", str(homes[0]), "watch", "-", "--allow-private"],
        input=lines,
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    server.requests.clear()
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [RAQIB, "--home", str(h), "check", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for h in homes
    ]
    claimed = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode == 0:
            claimed.append(json.loads(out)["claimed"])
        elif p.returncode != 75:
            raise SystemExit(f"a worker failed: {err}")
    seconds = time.monotonic() - started
    per_page = Counter(path for path, _h in server.requests if path != "/robots.txt")
    counts = [per_page.get(p, 0) for p in paths]
    return {
        "workers": workers,
        "seconds": round(seconds, 2),
        "pages_per_s": round(len(paths) / seconds, 1),
        "fetches_per_page": [min(counts), max(counts)],
        "checked_by_worker": claimed,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = ap.parse_args()
    bindir = pg.bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL server binaries are needed (apt-get install postgresql)")
    cluster = pg.Cluster(bindir).start()
    server = PageServer().start()
    try:
        paths = [f"/s/{i}" for i in range(args.pages)]
        body = render(VERSIONS[0], server.base)
        for p in paths:
            server.routes[p] = Route(body, delay=args.latency)
        rows = [sweep(cluster, server, paths, n) for n in args.workers]
    finally:
        server.stop()
        cluster.stop()
    base = rows[0]["pages_per_s"]
    print(f"{args.pages} pages, {args.latency * 1000:.0f} ms per request, {usable_cores()} cores")
    print(
        f"{'workers':>7} {'seconds':>8} {'pages/s':>8} {'speed-up':>8}  fetches per page  checked by each worker"
    )
    for r in rows:
        lo, hi = r["fetches_per_page"]
        print(
            f"{r['workers']:>7} {r['seconds']:>8} {r['pages_per_s']:>8} {r['pages_per_s'] / base:>7.2f}x  "
            f"{lo}–{hi}{'':>13}{r['checked_by_worker']}"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"scaling-{args.pages}-{stamp}.json").write_text(json.dumps(rows, indent=2))
    return 0 if all(r["fetches_per_page"] == [1, 1] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
