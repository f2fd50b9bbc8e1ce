"""A newsroom's month, simulated: whole outlets publishing and editing.

    python bench/month.py --tick 2h                # 50 outlets x 20 a day x 30 days (about an hour)
    python bench/month.py --outlets 10 --tick 2h   # ten outlets for a month (about 35 minutes)
    python bench/month.py --outlets 5 --days 7     # a week of five outlets (minutes)

Each outlet is a real HTTP server on its own 127.0.0.x address (tests/
outlet_world.py), publishing articles on a known schedule and silently
editing some of them (a figure changed) at known times; half list their
articles in RSS, half in a news sitemap. Time is simulated: every `--tick`
the world advances and one `raqib check` runs with RAQIB_NOW set, as cron
would run it. Sources are read every tick (outlets.feed_every = the tick).

Afterwards the planted truth is checked against the database and the
figures the README quotes are printed: articles watched within one source
interval, edits caught within their revisit interval, false versions,
per-host politeness, fetches per article against the age curve, and the
database, blob and WARC bytes per watch per day. Writes
bench/results/month-<outlets>x<per_day>x<days>-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from raqib.config import ScheduleConfig, parse_duration  # noqa: E402
from raqib.discovery.outlets import write_opml  # noqa: E402
from raqib.scheduler import RevisitPolicy  # noqa: E402
from raqib.storage import models as m  # noqa: E402
from raqib.storage import open_storage, sqlite  # noqa: E402
from tests.outlet_world import World  # noqa: E402

RAQIB = str(Path(sys.executable).with_name("raqib"))
START = datetime(2026, 1, 1, tzinfo=UTC)
# A month-long curve for whole outlets: new articles often, old ones rarely.
CURVE = [["6h", "2h"], ["2d", "8h"], ["7d", "1d"], ["30d", "5d"]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--outlets", type=int, default=50)
    ap.add_argument("--per-day", type=int, default=20, help="new articles per outlet per day")
    ap.add_argument("--days", type=float, default=30)
    ap.add_argument("--tick", default="1h", help="cron interval and source interval (1h)")
    ap.add_argument("--edit-share", type=float, default=0.3, help="share of articles edited")
    ap.add_argument("--retain-days", type=int, default=30)
    ap.add_argument(
        "--gc-older-than", default="7d", help="retention applied at the end by raqib gc (7d)"
    )
    ap.add_argument(
        "--figures-of", metavar="HOME", type=Path,
        help="run nothing: work the figures out again from the home of an earlier run with the "
        "same options (the plan is deterministic)",
    )  # fmt: skip
    args = ap.parse_args()
    tick = parse_duration(args.tick)
    home = args.figures_of or Path(tempfile.mkdtemp(prefix="raqib-month-"))
    curve = "[" + ", ".join(f'["{a}", "{b}"]' for a, b in CURVE) + "]"
    (home / "raqib.toml").write_text(
        f'[fetch]\nobey_robots = false\n[schedule]\ncurve = {curve}\ninterval_after = "7d"\n'
        f'[outlets]\nfeed_every = "{args.tick}"\n',
        encoding="utf-8",
    )
    names = [(f"outlet{i:02d}", "rss" if i % 2 == 0 else "sitemap") for i in range(args.outlets)]
    world = World(
        START, args.days, outlets=names, per_day=args.per_day, edit_share=args.edit_share,
        edit_gaps=[timedelta(hours=3), timedelta(days=2)], feed_size=2 * args.per_day,
    )  # fmt: skip
    try:
        if args.figures_of:
            end = START + tick * int(args.days * 86400 / tick.total_seconds())
            result = {"home": str(home), **check(world, home, end, tick, args.days)}
            result.pop("max_inflight_per_host")  # seen only while serving
        else:
            result = run(world, home, args, tick)
    finally:
        world.stop()
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"month-{args.outlets}x{args.per_day}x{args.days:g}-{stamp}.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(f"wrote {path}", file=sys.stderr)


def raqib(home: Path, now: datetime, *args: str) -> str:
    env = {**os.environ, "RAQIB_NOW": now.isoformat()}
    p = subprocess.run(
        [RAQIB, "--home", str(home), *args], env=env, capture_output=True, text=True, check=False
    )
    if p.returncode != 0:
        raise SystemExit(f"raqib {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p.stdout


def run(world: World, home: Path, args: Any, tick: timedelta) -> dict[str, Any]:
    opml = home / "outlets.opml"
    opml.write_bytes(
        write_opml(
            [
                (
                    name,
                    args.retain_days,
                    [("feed" if o.source == "rss" else "sitemap", o.source_url)],
                )
                for name, o in world.outlets.items()
            ]
        )
    )
    raqib(home, START, "outlet", "import", str(opml), "--allow-private")  # 127.0.0.x
    ticks = int(args.days * 86400 / tick.total_seconds())
    started = time.monotonic()
    pass_seconds = []
    for i in range(1, ticks + 1):
        now = START + tick * i
        world.advance(now)
        t = time.monotonic()
        summary = json.loads(raqib(home, now, "check", "--json"))
        pass_seconds.append(time.monotonic() - t)
        if i % 24 == 0 or i == ticks:
            print(
                f"day {i * tick.total_seconds() / 86400:5.1f}: {summary['claimed']} checked, "
                f"{summary['outlets']['watched'] if summary['outlets'] else 0} new, "
                f"{time.monotonic() - started:6.0f}s",
                file=sys.stderr,
            )
    wall = time.monotonic() - started
    end = START + tick * ticks
    figures = check(world, home, end, tick, args.days)
    # Retention, as a newsroom would run it from cron: raw bodies and WARCs
    # older than the cutoff go; versions and changes stay.
    gc_out = raqib(home, end, "gc", "--older-than", args.gc_older_than).strip()
    after = sizes(home)
    return {
        "outlets": args.outlets, "per_day": args.per_day, "days": args.days,
        "tick": args.tick, "curve": CURVE, "home": str(home), "wall_seconds": round(wall, 1),
        "pass_seconds_median": round(sorted(pass_seconds)[len(pass_seconds) // 2], 2),
        **figures,
        "gc": {"older_than": args.gc_older_than, "said": gc_out, "totals_bytes_after": after},
    }  # fmt: skip


def sizes(home: Path) -> dict[str, int]:
    store = open_storage(sqlite.url_for(home / "raqib.db"), readonly=True)
    try:
        with store.db.session() as s:
            blobs = sum(len(d) for (d,) in s.query(m.Blob.data))
    finally:
        store.close()
    return {
        "database": sum(f.stat().st_size for f in home.glob("raqib.db*")),
        "blobs": blobs,
        "warc": sum(f.stat().st_size for f in (home / "warc").glob("*.warc.gz")),
    }


def check(world: World, home: Path, end: datetime, tick: timedelta, days: float) -> dict[str, Any]:
    """The planted truth against the database, and the figures."""
    store = open_storage(sqlite.url_for(home / "raqib.db"), readonly=True)
    policy = RevisitPolicy(ScheduleConfig(curve=CURVE, interval_after="7d"))
    try:
        with store.db.session() as s:
            # By host and path: a rerun of the plan (--figures-of) serves on other ports.
            watches = {
                _place(w.url): w for w in s.query(m.Watch).filter(m.Watch.origin == "outlet")
            }
            changes: dict[int, list[datetime]] = {}
            for wid, at in s.query(m.Change.watch_id, m.Change.detected_at).order_by(
                m.Change.detected_at
            ):
                changes.setdefault(wid, []).append(at)
            added = {w.id: w.added_at for w in watches.values()}
            fetch_ages: list[tuple[int, timedelta]] = [
                (wid, at - added[wid])
                for wid, at in s.query(m.Fetch.watch_id, m.Fetch.fetched_at)
                if wid in added
            ]
        late_watch, missed, late, caught, false_versions, planted, pending = 0, 0, 0, 0, 0, 0, 0
        articles = 0
        for name, o in world.outlets.items():
            for p in world.articles(name, end):
                articles += 1
                w = watches.get(_place(o.url(p)))
                if w is None or w.added_at - p.published > tick:
                    late_watch += 1
                    continue
                visible = [e for e in p.edits if w.added_at < e <= end]
                planted += len(visible)
                got = changes.get(w.id, [])
                false_versions += max(0, w.version_count - 1 - len(visible))
                for e in visible:
                    found = next((c for c in got if c >= e), None)
                    deadline = e + policy.interval(e - w.added_at) + tick
                    if found is None:
                        # Made in the last revisit interval: not due a fetch yet.
                        pending += deadline > end
                        missed += deadline <= end
                        continue
                    caught += 1
                    late += found > deadline
        total = sizes(home)
        db, blob_bytes, warc = total["database"], total["blobs"], total["warc"]
        n = max(len(watches), 1)
        # Watch-days: how long each watch has existed by the end (watches
        # arrive all month long, so watches x days would halve the figure).
        per = max(sum((end - w.added_at).total_seconds() for w in watches.values()) / 86400, 1)
        fetches = len(fetch_ages)
        return {
            "articles": articles,
            "watches": len(watches),
            "watched_late": late_watch,
            "edits_planted": planted,
            "edits_caught": caught,
            "edits_missed": missed,
            "edits_caught_late": late,
            "edits_not_yet_due": pending,
            "false_versions": false_versions,
            "max_inflight_per_host": max(o.max_inflight for o in world.outlets.values()),
            "fetches": fetches,
            "fetches_per_article": round(fetches / n, 2),
            "fetches_per_article_by_age": by_age(fetch_ages, watches, end),
            "bytes_per_watch_per_day": {
                "database": round(db / per),
                "blobs": round(blob_bytes / per),
                "warc": round(warc / per),
            },
            "watch_days": round(per, 1),
            "totals_bytes": {"database": db, "blobs": blob_bytes, "warc": warc},
        }
    finally:
        store.close()


def _place(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.path


def by_age(
    fetch_ages: list[tuple[int, timedelta]], watches: dict[Any, Any], end: datetime
) -> dict[str, dict[str, float]]:
    """Fetches per article in each span of the age curve, against what the
    curve asks for: counted only over articles old enough to have lived
    through the whole span, so young articles do not dilute it."""
    out: dict[str, dict[str, float]] = {}
    lower = timedelta(0)
    for limit_s, every_s in CURVE:
        limit, every = parse_duration(limit_s), parse_duration(every_s)
        grown = {w.id for w in watches.values() if end - w.added_at >= limit}
        got = sum(1 for wid, age in fetch_ages if wid in grown and lower <= age < limit)
        # Never edited: the curve alone (a change brings the next fetch sooner).
        calm = {w.id for w in watches.values() if w.id in grown and w.version_count == 1}
        got_calm = sum(1 for wid, age in fetch_ages if wid in calm and lower <= age < limit)
        # One fetch per interval from the span's start (a fetch lands on it).
        expected = math.ceil((limit - lower) / every)
        if grown:
            out[f"{lower.total_seconds() / 3600:g}h-{limit_s} every {every_s}"] = {
                "articles": len(grown), "measured": round(got / len(grown), 2),
                "measured_never_edited": round(got_calm / max(len(calm), 1), 2),
                "curve": round(expected, 2),
            }  # fmt: skip
        lower = limit
    return out


if __name__ == "__main__":
    main()
