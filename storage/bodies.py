"""Storing a batch's raw bodies (storage.writes): each new body once, later
bodies of a watch as zstd deltas against its first (storage.blobs); and the
rows of its screenshots."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from raqib.domain import Shot
from raqib.storage import models as m
from raqib.storage.blobs import BlobCache, compress, digest, read
from raqib.storage.db import insert_new


def store_bodies(
    s: Session, conn: Any, cache: BlobCache, bodies: list[tuple[bytes | None, str | None]]
) -> list[str | None]:
    """Store the raw bodies not stored yet, each (body, its watch's base body's
    hash: later bodies are zstd deltas against a watch's first); their hashes."""
    hashes = [digest(body) if body is not None else None for body, _base in bodies]
    wanted = {h for h in hashes if h is not None}
    if not wanted:
        return hashes
    # Held until the versions refer to them (FOR KEY SHARE on PostgreSQL): a gc that
    # judged one unused waits, then finds it used (ArchiveRepo.delete_blobs).
    found = select(m.Blob.hash).where(m.Blob.hash.in_(wanted))
    stored = set(conn.scalars(found.with_for_update(read=True, key_share=True)))
    rows = []
    for (body, base), h in zip(bodies, hashes, strict=True):
        if h is None or h in stored or body is None:
            continue
        stored.add(h)  # the same body twice in a batch is stored once
        base_raw = cache.raw(lambda k: read(s, k), base) if base and base != h else None
        rows.append(
            {
                "hash": h,
                "size": len(body),
                "data": compress(body, base_raw),
                "base": base if base_raw is not None else None,
            }
        )
    if rows:
        # Two workers may store the same pages at once: each waits for the
        # other's row, and in the same order they cannot wait on each other.
        rows.sort(key=lambda row: str(row["hash"]))
        insert_new(conn, m.Blob.__table__, rows)
    return hashes


def shot_row(shot: Shot, watch_id: int, version_id: int) -> dict[str, Any]:
    return {
        "version_id": version_id, "watch_id": watch_id, "media_type": shot.media_type,
        "width": shot.width, "height": shot.height, "sha256": digest(shot.data),
        "data": shot.data,
    }  # fmt: skip
