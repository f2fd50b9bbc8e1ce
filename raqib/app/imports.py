"""`raqib import`: an export's watches and versions into this home.

Idempotent: a watch already held is matched by its address, a version the
watch already has is skipped (the same number with other text is refused),
and the changes are judged again from the versions, as a pass would, so a
second import of the same file adds nothing. Imported watches that are new
here start paused: importing an archive must not start fetching it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from raqib import analysis, urls
from raqib.app.errors import BadInput
from raqib.app.home import App
from raqib.clock import parse_instant
from raqib.domain import Version, WatchState
from raqib.extract.page import content_hash

SCHEMAS = {"watch": "raqib.watch/1", "version": "raqib.version/1", "change": "raqib.change/1"}


@dataclass
class ImportReport:
    watches_new: int = 0
    watches_known: int = 0
    versions_new: int = 0
    versions_known: int = 0
    changes: int = 0


def read(lines: Iterable[str], name: str) -> list[dict[str, Any]]:
    """The export's records, checked line by line before anything is stored."""
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as exc:
            raise BadInput(f"{name}:{n}: not JSON ({exc})") from None
        kind = rec.get("record") if isinstance(rec, dict) else None
        if kind not in SCHEMAS or rec.get("schema") != SCHEMAS[kind]:
            raise BadInput(
                f"{name}:{n}: not a record of `raqib export --format jsonl` "
                f"(record {kind!r}, schema {rec.get('schema') if isinstance(rec, dict) else None!r})"
            )
        if kind == "version" and content_hash(rec["title"], rec["text"]) != rec["content_hash"]:
            raise BadInput(f"{name}:{n}: version {rec['version']} of {rec['watch_url']}: "
                           "its text does not match its content hash")  # fmt: skip
        out.append(rec)
    return out


def _version(watch_id: int, r: dict[str, Any]) -> Version:
    return Version(
        id=0, watch_id=watch_id, number=int(r["version"]), title=r["title"], byline=r["byline"],
        published=r["published"], modified=r["modified"], text=r["text"],
        notices=list(r["notices"]), language=r["language"], content_hash=r["content_hash"],
        raw_hash=r["raw_sha256"], url=r["url"], extractor=r["extractor"],
        first_seen=parse_instant(r["first_seen"]), last_seen=parse_instant(r["last_seen"]),
        fetch_id=None,
    )  # fmt: skip


def import_records(app: App, records: list[dict[str, Any]]) -> ImportReport:
    report = ImportReport()
    now = app.clock()
    ids: dict[str, int] = {}
    for rec in (r for r in records if r["record"] == "watch"):
        url = urls.normalize(rec["url"])
        stories = rec.get("stories") or ([rec["story"]] if rec.get("story") else [None])
        for story in stories:
            ((w, created),) = app.storage.watches.add(
                [url], now=now, story=story, tags=rec.get("tags") or []
            )
            if created:
                report.watches_new += 1
                app.storage.watches.set_state([w.id], WatchState.PAUSED, now=now)
        ids[rec["url"]] = w.id
    report.watches_known = len(ids) - report.watches_new
    versions = sorted(
        (r for r in records if r["record"] == "version"),
        key=lambda r: (r["watch_url"], r["version"]),
    )
    for rec in versions:
        watch_id = ids.get(rec["watch_url"])
        if watch_id is None:
            raise BadInput(
                f"version {rec['version']} of {rec['watch_url']}: no watch record for it"
            )
        if app.storage.history.import_version(watch_id, _version(watch_id, rec)):
            report.versions_new += 1
        else:
            report.versions_known += 1
    report.changes = len(analysis.analyze_pending(app.storage))
    from raqib.app import search

    search.index(app)
    return report
