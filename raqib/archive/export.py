"""Exports for hand-off: versions and changes as JSON Lines or CSV, and the
captures of a story as one WARC file for pywb / ReplayWeb.page."""

from __future__ import annotations

import csv
import json
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from warcio.warcwriter import WARCWriter

from raqib import analysis
from raqib.archive.warc import WARC_VERSION
from raqib.domain import Watch
from raqib.present.records import change_record, version_record, watch_record
from raqib.storage import Storage


def _watches(storage: Storage, story: str | None) -> list[Watch]:
    return [w for w in storage.watches.all() if story is None or w.story == story]


def records(
    storage: Storage, *, story: str | None = None, since: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Every watch, version and change of the selection, as tagged records."""
    for w in _watches(storage, story):
        yield {"record": "watch", **watch_record(w, storage.watches.aliases(w.id))}
        evidence = storage.archive.evidence(w.id)
        for v in storage.history.versions(w.id):
            if since is None or v.first_seen >= since:
                yield {
                    "record": "version",
                    "watch_url": w.url,
                    **version_record(v, evidence.get(v.id)),
                }
        rows = storage.changes.all(watch_id=w.id, since=since)
        for r in analysis.current_rows(storage, rows):
            yield {
                "record": "change",
                **change_record(r.change, r.watch, r.from_number, r.to_number),
            }


def write_jsonl(
    storage: Storage, out: TextIO, *, story: str | None = None, since: datetime | None = None
) -> int:
    n = 0
    for rec in records(storage, story=story, since=since):
        out.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
        n += 1
    return n


def read_jsonl(lines: TextIO) -> dict[str, list[dict[str, Any]]]:
    """The inverse of write_jsonl: records grouped by kind."""
    out: dict[str, list[dict[str, Any]]] = {"watch": [], "version": [], "change": []}
    for line in lines:
        if line.strip():
            rec = json.loads(line)
            out[rec.pop("record")].append(rec)
    return out


_CSV_COLUMNS = [
    "record", "url", "watch_url", "story", "version", "from_version", "to_version", "first_seen", "last_seen",
    "detected_at", "kind", "silent", "headline_changed", "byline_changed", "chars_changed", "title", "byline",
    "published", "modified", "figures_removed", "figures_added", "quotes_removed", "quotes_added", "signals",
    "text", "content_hash", "raw_sha256", "extractor", "warc_file", "warc_offset",
]  # fmt: skip


def write_csv(
    storage: Storage, out: TextIO, *, story: str | None = None, since: datetime | None = None
) -> int:
    """One table for spreadsheets: a row per version and per change (lists joined by " | ")."""
    writer = csv.DictWriter(out, fieldnames=_CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    n = 0
    for rec in records(storage, story=story, since=since):
        if rec["record"] == "watch":
            continue
        row = dict(rec)
        facts = rec.get("facts") or {}
        row["figures_removed"] = " | ".join(
            x for d in facts.get("numbers", []) for x in d["removed"]
        )
        row["figures_added"] = " | ".join(x for d in facts.get("numbers", []) for x in d["added"])
        row["quotes_removed"] = " | ".join(x for d in facts.get("quotes", []) for x in d["removed"])
        row["quotes_added"] = " | ".join(x for d in facts.get("quotes", []) for x in d["added"])
        row["signals"] = " | ".join(rec.get("signals") or [])
        warc = rec.get("warc") or {}
        row["warc_file"], row["warc_offset"] = warc.get("file"), warc.get("offset")
        writer.writerow(row)
        n += 1
    return n


def _gzip_members(f: BinaryIO, offset: int, count: int) -> bytes:
    """The raw bytes of `count` consecutive gzip members starting at `offset`.

    Raqib writes every WARC record as its own gzip member, a response (or
    revisit) followed by its request, so a capture is two members; copying
    them byte for byte keeps the evidence exactly as it was written.
    """
    f.seek(offset)
    start = offset
    for _ in range(count):
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while not d.eof:
            chunk = f.read(1 << 16)
            if not chunk:
                raise ValueError(f"truncated gzip member at {start} in {getattr(f, 'name', '?')}")
            d.decompress(chunk)
        start = f.tell() - len(d.unused_data)
        f.seek(start)
    f.seek(offset)
    return f.read(start - offset)


def write_warc(storage: Storage, warc_dir: Path, out: Path, *, story: str) -> int:
    """Copy the captures of one story's watches into one WARC file."""
    ids = [w.id for w in _watches(storage, story)]
    refs = storage.archive.warc_refs(ids)
    with out.open("wb") as f:
        writer = WARCWriter(f, gzip=True, warc_version=WARC_VERSION)
        writer.write_record(
            writer.create_warcinfo_record(
                out.name,
                {
                    "software": "Raqib export",
                    "format": "WARC File Format 1.1",
                    "description": f"captures of story {story}",
                },
            )
        )
        for _watch, name, offset in refs:
            with (warc_dir / name).open("rb") as src:
                f.write(_gzip_members(src, offset, 2))
    return len(refs)
