"""Exports for hand-off: versions and changes as JSON Lines or CSV, and the
captures of a watch, story, outlet or everything as one WARC file for pywb
/ ReplayWeb.page (packaged as WACZ by raqib.archive.wacz)."""

from __future__ import annotations

import csv
import json
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from warcio.warcwriter import WARCWriter

from raqib import analysis
from raqib.archive.warc import WARC_VERSION
from raqib.domain import Watch, WatchState
from raqib.present.records import change_record, version_record, watch_record
from raqib.storage import Storage


@dataclass(frozen=True)
class Selection:
    """What an export holds: one watch, a story, an outlet, or (all None) everything."""

    watch_id: int | None = None
    story: str | None = None
    outlet: str | None = None

    def describe(self) -> str:
        if self.watch_id is not None:
            return f"watch {self.watch_id}"
        if self.story is not None:
            return f"story {self.story}"
        if self.outlet is not None:
            return f"outlet {self.outlet}"
        return "every watch"

    def holds(self, w: Watch) -> bool:
        return (
            (self.watch_id is None or w.id == self.watch_id)
            and (self.story is None or self.story in (w.stories or (w.story,)))
            and (self.outlet is None or w.outlet == self.outlet)
        )


EVERYTHING = Selection()


def watches_of(storage: Storage, sel: Selection) -> list[Watch]:
    if sel.watch_id is not None:  # a watch named by the user, whatever its state
        return [storage.watches.get(sel.watch_id)]
    # An unwatched article's history is kept, and an archive holds it; an
    # outlet's rejected pages (not articles) have none.
    states = [s for s in WatchState if s != WatchState.REJECTED]
    return [w for w in storage.watches.all(states=states) if sel.holds(w)]


def _grouping(w: Watch) -> dict[str, Any]:
    """Where an article belongs, repeated on each of its records (CSV rows stand alone)."""
    return {"story": w.story, "stories": list(w.stories), "outlet": w.outlet, "tags": list(w.tags)}


def records(
    storage: Storage, sel: Selection = EVERYTHING, *, since: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Every watch, version and change of the selection, as tagged records.

    `since`: the versions and changes first seen from then on, with the
    version before the first of them (the change into it compares the two,
    and an import judges it from them), and the watches that have any, or
    were added since (an import made an empty watch of each of the others)."""
    for w in watches_of(storage, sel):
        versions = storage.history.versions(w.id)
        rows = storage.changes.all(watch_id=w.id, since=since)
        if since is not None:
            versions = [
                v for i, v in enumerate(versions)
                if any(n.first_seen >= since for n in versions[i : i + 2])
            ]  # fmt: skip
            if not (versions or rows or w.added_at >= since):
                continue
        yield {"record": "watch", **watch_record(w, storage.watches.aliases(w.id))}
        evidence = storage.archive.evidence(w.id)
        for v in versions:
            yield {
                "record": "version",
                "watch_url": w.url,
                **_grouping(w),
                **version_record(v, evidence.get(v.id)),
            }
        for r in analysis.current_rows(storage, rows):
            window = (evidence.get(r.change.to_version_id) or {}).get("window")
            yield {
                "record": "change",
                **_grouping(w),
                **change_record(r.change, r.watch, r.from_number, r.to_number),
                "evidence": window,
            }


def write_jsonl(
    storage: Storage, out: TextIO, sel: Selection = EVERYTHING, *, since: datetime | None = None
) -> int:
    """The records, then an end record counting them: a file cut short (a
    pipe broken, a disk full, a copy interrupted) ends without it."""
    counts = {"watch": 0, "version": 0, "change": 0}
    for rec in records(storage, sel, since=since):
        out.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
        counts[rec["record"]] += 1
    end = {"record": "end", "schema": "raqib.end/1", "watches": counts["watch"],
           "versions": counts["version"], "changes": counts["change"]}  # fmt: skip
    out.write(json.dumps(end, sort_keys=True) + "\n")
    return sum(counts.values())


def read_jsonl(lines: TextIO) -> dict[str, list[dict[str, Any]]]:
    """The inverse of write_jsonl: records grouped by kind (the end record aside)."""
    out: dict[str, list[dict[str, Any]]] = {"watch": [], "version": [], "change": []}
    for line in lines:
        if line.strip():
            rec = json.loads(line)
            if rec["record"] != "end":
                out[rec.pop("record")].append(rec)
    return out


_CSV_COLUMNS = [
    "record", "url", "watch_url", "story", "outlet", "tags", "version", "from_version", "to_version",
    "first_seen", "last_seen", "detected_at", "kind", "silent", "headline_changed", "byline_changed",
    "chars_changed", "title", "byline", "published", "modified", "figures_removed", "figures_added",
    "quotes_removed", "quotes_added", "signals", "old_last_seen", "old_last_warc", "new_first_seen",
    "new_first_warc", "text", "content_hash", "raw_sha256", "extractor", "warc_file", "warc_offset",
    "analysis_error",  # a coarse judgement's error (raqib.change/1)
]  # fmt: skip
BOM = "\ufeff"  # without it, Excel reads UTF-8 as the local code page and garbles Arabic


def _joined(items: Any) -> str:
    return " | ".join(items or [])


# Columns a stranger's page fills: a cell starting with one of these would be
# read by a spreadsheet as a formula (CSV injection), so it is quoted as text.
_PAGE_TEXT = ("title", "byline", "text", "figures_removed", "figures_added", "quotes_removed",
              "quotes_added", "signals", "published", "modified", "tags", "story", "outlet",
              "analysis_error")  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA) else value


def _pointer(ref: dict[str, Any] | None) -> str:
    return f"{ref['file']}#{ref['offset']}" if ref else ""


def write_csv(
    storage: Storage, out: TextIO, sel: Selection = EVERYTHING, *, since: datetime | None = None
) -> int:
    """One table for spreadsheets: a row per version and per change (lists
    joined by " | "). A change row carries its evidence: when the old text was
    last seen and the new first seen, and the WARC records (file#offset) of
    both fetches. Page text that a spreadsheet would run as a formula (=, +,
    -, @ first) is prefixed with an apostrophe."""
    out.write(BOM)
    writer = csv.DictWriter(out, fieldnames=_CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    n = 0
    for rec in records(storage, sel, since=since):
        if rec["record"] == "watch":
            continue
        row = dict(rec)
        facts = rec.get("facts") or {}
        numbers, quotes = facts.get("numbers", []), facts.get("quotes", [])
        row["tags"] = _joined(rec.get("tags"))
        row["figures_removed"] = _joined(x for d in numbers for x in d["removed"])
        row["figures_added"] = _joined(x for d in numbers for x in d["added"])
        row["quotes_removed"] = _joined(x for d in quotes for x in d["removed"])
        row["quotes_added"] = _joined(x for d in quotes for x in d["added"])
        row["signals"] = _joined(rec.get("signals"))
        ev = rec.get("evidence") or {}
        row["old_last_seen"], row["new_first_seen"] = (
            ev.get("old_last_seen"),
            ev.get("new_first_seen"),
        )
        row["old_last_warc"] = _pointer(ev.get("old_last_warc"))
        row["new_first_warc"] = _pointer(ev.get("new_first_warc"))
        warc = rec.get("warc") or {}
        row["warc_file"], row["warc_offset"] = warc.get("file"), warc.get("offset")
        for column in _PAGE_TEXT:
            row[column] = safe_cell(row.get(column))
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
                raise DamagedCapture(getattr(f, "name", "?"), start, "the file ends inside it")
            try:
                d.decompress(chunk)
            except zlib.error as exc:
                raise DamagedCapture(getattr(f, "name", "?"), start, str(exc)) from None
        start = f.tell() - len(d.unused_data)
        f.seek(start)
    f.seek(offset)
    return f.read(start - offset)


class DamagedCapture(Exception):
    """A capture whose bytes in its WARC file do not read as the gzip
    members Raqib wrote (the file cut short, or overwritten)."""

    def __init__(self, file: str, offset: int, why: str) -> None:
        self.file, self.offset = Path(file).name, offset
        super().__init__(f"the WARC record at offset {offset} of {self.file} is damaged: {why}")


class OrphanRevisits(Exception):
    """Revisits of the selection whose originals `raqib gc` removed after they
    were read (storage.archive.orphans): copied, they would replay nothing."""

    def __init__(self, n: int) -> None:
        self.n = n
        super().__init__(f"{n} revisits refer to records in WARC files gc has removed")


class MissingCaptures(Exception):
    """Captures of the selection in WARC files that are not in the directory
    (written by a worker on another machine, or moved away)."""

    def __init__(self, files: dict[str, int]) -> None:
        self.files = files  # file name → captures of the selection in it
        super().__init__(f"{sum(files.values())} captures in {len(files)} missing WARC files")


def write_warc(
    storage: Storage, warc_dir: Path, out: BinaryIO, sel: Selection = EVERYTHING, *, name: str
) -> int:
    """Copy the captures of the selection's watches into one WARC stream (file
    `name`); MissingCaptures, before writing anything, if a file is not there."""
    ids = [w.id for w in watches_of(storage, sel)]
    refs = storage.archive.warc_refs(ids) if ids else []
    in_file = Counter(f for _w, f, _o in refs)
    missing = {f: n for f, n in in_file.items() if not (warc_dir / f).is_file()}
    if missing:
        raise MissingCaptures(missing)
    if ids and (orphans := storage.archive.orphans(ids)):
        raise OrphanRevisits(orphans)
    writer = WARCWriter(out, gzip=True, warc_version=WARC_VERSION)
    writer.write_record(
        writer.create_warcinfo_record(
            name,
            {
                "software": "Raqib export",
                "format": "WARC File Format 1.1",
                "description": f"captures of {sel.describe()}",
            },
        )
    )
    for _watch, name, offset in refs:
        with (warc_dir / name).open("rb") as src:
            out.write(_gzip_members(src, offset, 2))
    return len(refs)
