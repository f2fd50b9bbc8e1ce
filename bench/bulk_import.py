"""Bulk import: `raqib watch -` over 100,000 URLs, with a pass running beside it.

    python bench/bulk_import.py                 # 100,000 URLs (about a minute)
    python bench/bulk_import.py --urls 20000

Measures the import's wall time and peak RSS (sampled from /proc), and runs a
real `raqib check` over 50 pages served on 127.0.0.1 twice: alone, and while
the import writes its batches (the imported watches are scheduled far ahead,
so the pass checks only the pages). The pass beside the import must end with
exit 0, every page recorded, in about the time it takes alone. Targets: the
import under 60 s, the pass not held up.
Writes bench/results/import-<N>-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procs import command, rss_kb
from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import PageServer, Route

PAGES = 50


def _count(home: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{home / 'raqib.db'}?mode=ro", uri=True, timeout=1) as con:
            return int(con.execute("SELECT count(*) FROM watches").fetchone()[0])
    except sqlite3.Error:
        return 0


def _pass(home: Path, ahead: int) -> dict[str, Any]:
    """A pass as if `ahead` seconds from now, when the pages are due again."""
    when = datetime.fromtimestamp(time.time() + ahead, UTC).isoformat()
    cmd, env = command(home, "check", "--json")
    started = time.monotonic()
    p = subprocess.run(cmd, env={**env, "RAQIB_NOW": when}, capture_output=True, text=True)
    summary = json.loads(p.stdout) if p.returncode == 0 else {}
    return {
        "exit": p.returncode,
        "seconds": round(time.monotonic() - started, 2),
        "outcomes": summary.get("outcomes"),
        "error": p.stderr.strip()[-300:] if p.returncode else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--urls", type=int, default=100_000)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="raqib-import-"))
    server = PageServer().start()
    try:
        for i in range(PAGES):
            server.routes[f"/p{i}"] = Route(render(VERSIONS[0], server.base))
        cmd, env = command(
            home, "watch", "--no-fetch", *(f"{server.base}/p{i}" for i in range(PAGES))
        )
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        day = 86400
        alone = _pass(home, day)  # the pages' first pass, alone
        alone = _pass(home, 2 * day)  # and a refetch, alone: the time to compare with
        lines = "".join(
            f"https://bulk{i % 97}.example/news/2026/{i // 1000}/story-{i}?utm_source=feed\n"
            for i in range(args.urls)
        ).encode()
        cmd, env = command(home, "watch", "-", "--json")  # public names: no --allow-private
        env["RAQIB_NOW"] = "2099-01-01T00:00:00Z"  # imported watches are due far ahead
        started = time.monotonic()
        imp = subprocess.Popen(
            cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        peak = [0]

        def sample() -> None:
            while imp.poll() is None:
                peak[0] = max(peak[0], rss_kb(imp.pid))
                time.sleep(0.05)  # a sampling interval, not synchronisation

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        feeder = threading.Thread(target=lambda: imp.communicate(lines), daemon=True)
        feeder.start()
        while imp.poll() is None and _count(home) < 1000:  # the import is writing
            time.sleep(0.05)
        beside = _pass(home, 3 * day)
        beside["during_import"] = imp.poll() is None
        feeder.join()
        seconds = time.monotonic() - started
        sampler.join()
        result = {
            "urls": args.urls,
            "import_seconds": round(seconds, 2),
            "import_exit": imp.returncode,
            "import_peak_rss_mb": round(peak[0] / 1024, 1),
            "pass_alone": alone,
            "pass_beside_import": beside,
        }
    finally:
        server.stop()
    print(json.dumps(result, indent=2))
    beside = result["pass_beside_import"]
    ok_time = result["import_seconds"] < 60 and result["import_exit"] == 0
    ok_pass = (
        beside["exit"] == 0
        and beside["during_import"]
        and sum((beside["outcomes"] or {}).values()) == PAGES
    )
    print(f"{'met' if ok_time else 'NOT met':8} {args.urls:,} URLs imported in < 60 s")
    print(
        f"{'met' if ok_pass else 'NOT met':8} a pass beside the import ends with every page recorded"
    )
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"import-{args.urls}-{stamp}.json").write_text(json.dumps(result, indent=2))
    return 0 if ok_time and ok_pass else 1


if __name__ == "__main__":
    sys.exit(main())
