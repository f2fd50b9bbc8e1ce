"""Plain-data forms of watches, versions, changes and fetches: what `--json`
prints and what exports hold (one serializer, so they always agree)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def version_record(v: Any, evidence: dict[str, Any] | None = None) -> dict[str, Any]:
    ev = evidence or {}
    return {
        "version": v.number,
        "first_seen": iso(v.first_seen),
        "last_seen": iso(v.last_seen),
        "title": v.title,
        "byline": v.byline,
        "published": v.published,
        "modified": v.modified,
        "notices": list(v.notices or []),
        "language": v.language,
        "url": v.url,
        "text": v.text,
        "content_hash": v.content_hash,
        "raw_sha256": v.raw_hash,
        "extractor": v.extractor,
        "warc": ev.get("warc"),
        "evidence": ev.get("window"),
    }


def change_record(change: Any, watch: Any, from_n: int, to_n: int) -> dict[str, Any]:
    analysis = dict(change.analysis)
    return {
        "url": watch.url,
        "watch_id": watch.id,
        "from_version": from_n,
        "to_version": to_n,
        "detected_at": iso(change.detected_at),
        "kind": change.kind,
        "silent": change.silent,
        "headline_changed": change.headline_changed,
        "byline_changed": change.byline_changed,
        "chars_changed": change.chars_changed,
        "signals": analysis.get("signals", []),
        "counts": analysis.get("counts", {}),
        "facts": analysis.get("facts", {}),
        "moved_paragraphs": analysis.get("moved_paragraphs", {}),
        "alignment": analysis.get("alignment", []),
        "analyzer": change.analyzer,
    }


def fetch_record(f: Any, version_number: int | None) -> dict[str, Any]:
    return {
        "fetched_at": iso(f.fetched_at),
        "status": f.status,
        "outcome": f.outcome,
        "duration_ms": f.duration_ms,
        "etag": f.etag,
        "last_modified": f.last_modified,
        "detail": f.detail,
        "version": version_number,
    }


def watch_record(w: Any, story: str | None, aliases: list[str]) -> dict[str, Any]:
    return {
        "id": w.id,
        "url": w.url,
        "story": story,
        "origin": w.origin,
        "found_via": w.found_via,
        "score": w.score,
        "matched_terms": w.matched_terms,
        "title": w.title,
        "state": w.state,
        "versions": w.version_count,
        "added_at": iso(w.added_at),
        "last_checked_at": iso(w.last_checked_at),
        "last_outcome": w.last_outcome,
        "next_check_at": iso(w.next_check_at),
        "aliases": [a for a in aliases if a != w.url],
    }
