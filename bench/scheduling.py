"""The scheduler's costs: selecting the due watches among many, and the
daemon's memory over many sweeps."""

from __future__ import annotations

import statistics
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.procs import command, raqib, rss_kb

SITES = 199  # prime to the due stride (every 10th watch): every site has due watches


def due_selection(tmp: Path, total: int = 100_000) -> dict[str, Any]:
    """Time the query that picks due watches, among `total` (10% due) on SITES sites."""
    from raqib.storage import open_storage
    from raqib.storage import sqlite as sqlite_mod

    store = open_storage(sqlite_mod.url_for(tmp / "due.db"))
    now = datetime.now(UTC)
    con = store.db.engine.raw_connection()
    try:
        rows = [
            (
                f"https://news{i % SITES}.example/{i}",
                "manual",
                (now - timedelta(hours=1) if i % 10 == 0 else now + timedelta(hours=i % 500))
                .replace(tzinfo=None)
                .isoformat(" "),
                "active" if i % 50 else "retired",
            )
            for i in range(total)
        ]
        cur = con.cursor()
        cur.execute("BEGIN")
        cur.executemany(
            "INSERT INTO watches (url, host, origin, added_at, state, next_check_at, error_count, removed_count, version_count, words, replacements) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0)",
            [(u, u.split("/")[2], o, nc, st, nc) for u, o, nc, st in rows],
        )
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
    finally:
        con.close()
    select_times, claim_times, beside_times = [], [], []
    due = 0
    lease = timedelta(minutes=15)
    for k in range(5):
        t = time.perf_counter()
        due = len(store.leases.due_ids(now=now, limit=total))
        select_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        store.leases.claim(f"bench-{k}", now=now, lease=lease, limit=500)
        claim_times.append(time.perf_counter() - t)
        store.leases.release(f"bench-{k}")
    # Beside another worker holding about half the sites: the claim reads
    # which hosts it holds and takes its share of the rest (storage.leases).
    store.leases.claim("other", now=now, lease=lease, limit=SITES // 2)
    for k in range(5):
        t = time.perf_counter()
        store.leases.claim(f"beside-{k}", now=now, lease=lease, limit=500)
        beside_times.append(time.perf_counter() - t)
        store.leases.release(f"beside-{k}")
    store.close()
    return {
        "watches": total,
        "due": due,
        "select_ms_median": round(statistics.median(select_times) * 1000, 1),
        "claim_500_ms_median": round(statistics.median(claim_times) * 1000, 1),
        "claim_500_beside_ms_median": round(statistics.median(beside_times) * 1000, 1),
    }


def daemon_rss(tmp: Path, sweeps: int) -> dict[str, Any]:
    """RSS of the daemon process over `sweeps` sweeps (children excluded)."""
    home = tmp / "daemon-home"
    home.mkdir()
    raqib(home, "watch", "--no-fetch", "https://daemon.invalid/never-due")
    cmd, env = command(home, "daemon", "--every", "0.05", "--discover-every", "0", "--jitter", "0")
    env["RAQIB_NOW"] = "2000-01-01T00:00:00+00:00"  # the one watch is never due: sweeps are cheap
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    readings = []
    try:
        deadline = time.monotonic() + 300
        seen = 0
        assert proc.stderr is not None  # stderr=PIPE
        for line in proc.stderr:  # the daemon logs one line per sweep
            if "sweep" in line:
                seen += 1
                readings.append(rss_kb(proc.pid))
                if seen >= sweeps or time.monotonic() > deadline:
                    break
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    base = readings[min(9, len(readings) - 1)] if readings else 0
    last = readings[-1] if readings else 0
    return {
        "sweeps": len(readings),
        "rss_kb_after_10": base,
        "rss_kb_last": last,
        "growth_pct": round(100 * (last - base) / base, 2) if base else None,
    }
