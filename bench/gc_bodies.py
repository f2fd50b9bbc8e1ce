"""gc's removal of unused page bodies, with and without migration 0015's indexes.

    python bench/gc_bodies.py                     # 3,000 watches × 4 versions
    python bench/gc_bodies.py --watches 500 --versions 3

Builds a fresh SQLite home of `--watches` articles with `--versions`
versions each (about 10 kB of text and a 30 kB body a version), drops every
body but each watch's latest (as `gc --older-than` does), then times
ArchiveRepo.delete_blobs on copies of that database: one with the indexes on
versions.raw_hash and blobs.base dropped (the schema before 0015), one as it
is, twice each, alternating. Each removal checks that no version refers to
the body; without the index that is a scan of every version, text included.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from raqib.domain import FetchRecord, Snapshot
from raqib.extract.page import content_hash
from raqib.storage import open_storage, sqlite


def build(db: Path, watches: int, versions: int) -> None:
    store = open_storage(sqlite.url_for(db))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    rnd = random.Random(1)
    words = [f"كلمة{i}" for i in range(5000)]
    added = store.watches.add([f"https://a.example/{i}" for i in range(watches)], now=t0)
    for v in range(versions):
        at = t0 + timedelta(days=30 * v)
        for w, _ in added:
            body = " ".join(rnd.choice(words) for _ in range(1500))
            page = f"<html><body><p>{body}</p></body></html>" + os.urandom(2000).hex()
            snap = Snapshot(
                title="عنوان", byline=None, published=None, modified=None, text=body, notices=[],
                language="ar", content_hash=content_hash("عنوان", body), extractor="bench",
            )  # fmt: skip
            store.history.record(
                FetchRecord(w.id, at, "new_version", at + timedelta(days=1), status=200,
                            snapshot=snap, raw_body=page.encode())
            )  # fmt: skip
    store.archive.drop_raw_before(t0 + timedelta(days=30 * versions - 10), dry_run=False)
    store.close()


def timed(db: Path, *, indexed: bool) -> tuple[int, float]:
    copy = db.with_name("copy.db")
    for ext in ("", "-wal", "-shm"):
        if Path(f"{db}{ext}").exists():
            shutil.copy(f"{db}{ext}", f"{copy}{ext}")
    store = open_storage(sqlite.url_for(copy))
    try:
        if not indexed:
            with store.db.session() as s:
                s.execute(text("DROP INDEX ix_versions_raw_hash"))
                s.execute(text("DROP INDEX ix_blobs_base"))
        unused = store.archive.unused_blobs()
        started = time.perf_counter()
        store.archive.delete_blobs(unused)
        return len(unused), time.perf_counter() - started
    finally:
        store.close()
        for ext in ("", "-wal", "-shm"):
            Path(f"{copy}{ext}").unlink(missing_ok=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--watches", type=int, default=3000)
    ap.add_argument("--versions", type=int, default=4)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "raqib.db"
        build(db, args.watches, args.versions)
        for indexed in (False, True, False, True):
            n, took = timed(db, indexed=indexed)
            label = "with the indexes (0015)" if indexed else "without them (before 0015)"
            print(f"{label:28} removed {n} bodies of {args.watches * args.versions} versions "
                  f"in {took:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
