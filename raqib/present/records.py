"""Plain-data forms of everything Raqib prints as JSON: what `--json`
prints, what the exports hold and what webhook events are built from.

One serializer, so they always agree. Every document names its schema and
version (`raqib.change/1`, …); a field is only ever added to a version.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from raqib.domain import (
    Change,
    Channel,
    Delivery,
    FetchEntry,
    KeptRobots,
    Label,
    Message,
    Outlet,
    Source,
    Version,
    Watch,
)


def schema(name: str) -> str:
    return f"raqib.{name}/1"


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def judgement(data: dict[str, Any], analyzer: str) -> dict[str, Any]:
    """The shown part of a stored analysis (unchanged sentences left out)."""
    out = {
        "kind": data["kind"],
        "silent": data["silent"],
        "headline_changed": data["headline_changed"],
        "byline_changed": data["byline_changed"],
        "chars_changed": data["chars_changed"],
        "signals": data.get("signals", []),
        "counts": data.get("counts", {}),
        "facts": data.get("facts", {}),
        "moved_paragraphs": data.get("moved_paragraphs", {}),
        "alignment": [
            a for a in data.get("alignment", []) if a.get("label") != Label.UNCHANGED.value
        ],
        "analyzer": analyzer,
    }
    if data.get("analysis_error"):
        out["analysis_error"] = data["analysis_error"]
    if data.get("reanalyzed_from"):
        out["reanalyzed_from"] = data["reanalyzed_from"]
    return out


def watch_record(w: Watch, aliases: list[str]) -> dict[str, Any]:
    return {
        "schema": schema("watch"),
        "id": w.id,
        "url": w.url,
        "story": w.story,
        "stories": list(w.stories),
        "tags": list(w.tags),
        "outlet": w.outlet,
        "origin": w.origin,
        "render": w.render,
        "screenshots": w.screenshots,
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


def version_record(v: Version, evidence: dict[str, Any] | None = None) -> dict[str, Any]:
    ev = evidence or {}
    return {
        "schema": schema("version"),
        "version": v.number,
        "first_seen": iso(v.first_seen),
        "last_seen": iso(v.last_seen),
        "title": v.title,
        "byline": v.byline,
        "published": v.published,
        "modified": v.modified,
        "notices": list(v.notices or []),
        "seen_notices": list(v.seen_notices or []),
        "language": v.language,
        "url": v.url,
        "text": v.text,
        "content_hash": v.content_hash,
        "raw_sha256": v.raw_hash,
        "extractor": v.extractor,
        "warc": ev.get("warc"),
        "evidence": ev.get("window"),
    }


def change_record(c: Change, watch: Watch, from_n: int, to_n: int) -> dict[str, Any]:
    """A stored change as every reader shows it (`changes --json`, exports, events)."""
    return {
        "schema": schema("change"),
        "url": watch.url,
        "watch_id": watch.id,
        "change_id": c.id,  # this home's: the report's and serve's change-N.html
        "title": watch.title,  # the article's latest headline
        "from_version": from_n,
        "to_version": to_n,
        "detected_at": iso(c.detected_at),
        **judgement(c.analysis, c.analyzer),
    }


def diff_record(meta: dict[str, Any], data: dict[str, Any], analyzer: str) -> dict[str, Any]:
    """`raqib diff --format json`: the versions compared and their analysis."""
    return {"schema": schema("diff"), **meta, **judgement(data, analyzer)}


def fetch_record(f: FetchEntry, version_number: int | None) -> dict[str, Any]:
    return {
        "schema": schema("fetch"),
        "fetched_at": iso(f.fetched_at),
        "status": f.status,
        "outcome": f.outcome,
        "duration_ms": f.duration_ms,
        "etag": f.etag,
        "last_modified": f.last_modified,
        "detail": f.detail,
        "version": version_number,
        # The fetch's WARC record (a response, or a revisit of an unchanged page).
        "warc": (
            {"file": f.warc_file, "offset": f.warc_offset}
            if f.warc_file is not None and f.warc_offset is not None
            else None
        ),
    }


def source_record(src: Source) -> dict[str, Any]:
    return {
        "schema": schema("source"),
        "url": src.url,
        "story": src.story,
        "kind": src.kind,
        "added_at": iso(src.added_at),
        "last_checked_at": iso(src.last_checked_at),
        "last_status": src.last_status,
        "entries": src.entries_seen,
    }


def robots_record(answer: KeptRobots, used_until: datetime | None, now: datetime) -> dict[str, Any]:
    return {
        "schema": schema("robots"),
        "origin": answer.origin,
        "fetched_at": iso(answer.fetched_at),
        "used_until": iso(used_until),
        "fresh": used_until is not None and answer.fetched_at <= now <= used_until,
        "bytes": answer.size,
    }


# Schemes whose first part is a server's name. In most other apprise URLs it is
# a token (tgram://BOT_TOKEN/CHAT, discord://ID/TOKEN, slack://A/B/C).
_HOST_FIRST = frozenset(
    ("http", "https", "json", "jsons", "xml", "xmls", "form", "forms", "mailto", "mailtos")
)
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")


def redact_secret(url: str) -> str:
    """Channel URLs carry tokens: the scheme, and the server where it is one;
    never a user, a password, a path, a query or a fragment (`…` if any)."""
    scheme, sep, _rest = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{0,31}", scheme):
        return "***"
    if scheme.lower() not in _HOST_FIRST:
        return f"{scheme}://…"
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        port = parts.port
    except ValueError:
        return f"{scheme}://…"
    server = host.rsplit(":", 1)[0] if port is not None else host
    if not _HOST.fullmatch(server):
        return f"{scheme}://…"
    more = parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc
    return f"{scheme}://{server}{f':{port}' if port is not None else ''}{'/…' if more else ''}"


def fingerprint(url: str) -> str:
    """Six hex digits of the URL's SHA-256: two channels on one server told
    apart without showing either's secret."""
    return hashlib.sha256(url.encode()).hexdigest()[:6]


def shown_channel(url: str) -> str:
    return f"{redact_secret(url)} #{fingerprint(url)}"


def channel_record(c: Channel) -> dict[str, Any]:
    return {
        "schema": schema("channel"),
        "id": c.id,
        "url": redact_secret(c.url),
        "fingerprint": fingerprint(c.url),
        "kind": c.kind,
        "story": c.story,
        "when": c.when,
        "keywords": c.keywords,
        "digest": c.digest,
        "origin": c.origin,
        "enabled": c.enabled,
    }


def schedule_record(w: Watch, now: datetime, failure: FetchEntry | None = None) -> dict[str, Any]:
    """One upcoming check and what set its time: the age of the last change
    (or of the watch, if it never changed) or, after errors, the backoff and
    the latest failure."""
    changed = w.last_change_at or w.added_at
    return {
        "schema": schema("scheduled"),
        "id": w.id,
        "url": w.url,
        "title": w.title,
        "story": w.story,
        "state": w.state,
        "next_check_at": iso(w.next_check_at),
        "due": w.next_check_at <= now,
        "in_seconds": max(0, int((w.next_check_at - now).total_seconds())),
        "last_checked_at": iso(w.last_checked_at),
        "last_change_at": iso(w.last_change_at),
        "versions": w.version_count,
        "unchanged_seconds": max(0, int((now - changed).total_seconds())),
        "last_outcome": w.last_outcome,
        "error_count": w.error_count,
        "removed_count": w.removed_count,
        "last_error": (
            {
                "fetched_at": iso(failure.fetched_at),
                "outcome": failure.outcome,
                "status": failure.status,
                "detail": failure.detail,
            }
            if failure is not None and w.error_count
            else None
        ),
    }


def delivery_record(
    channels: list[Channel],
    counts: dict[tuple[int, str], int],
    problems: list[tuple[Message, Channel]],
) -> dict[str, Any]:
    """`notify status`: what each channel was sent, and what went wrong lately."""
    return document(
        "delivery",
        channels=[
            {
                "id": c.id,
                "url": redact_secret(c.url),
                "fingerprint": fingerprint(c.url),
                **{st.value: counts.get((c.id, st.value), 0) for st in Delivery},
            }
            for c in channels
        ],
        problems=[
            {
                "channel": c.id,
                "status": m.status,
                "attempts": m.attempts,
                "next_attempt_at": iso(m.next_attempt_at) if m.status == Delivery.PENDING else None,
                "error": m.last_error,
                "event": m.key,
            }
            for m, c in problems[:50]
        ],
    )


def preview_record(p: Any, *, created: bool | None = None) -> dict[str, Any]:
    """What a fetch of one page read (`watch` and `preview`)."""
    return {
        "schema": schema("preview"),
        "url": p.url,
        "id": p.watch_id,
        **({"created": created} if created is not None else {}),
        "outcome": p.outcome,
        "detail": p.detail,
        "title": p.title,
        "lede": p.lede,
        "excerpt": p.excerpt,
        "paragraphs": p.paragraphs,
        "tables": p.tables,
        "words": p.words,
    }


def document(name: str, **fields: Any) -> dict[str, Any]:
    """Any other JSON document (a pass summary, a discovery report, a status)."""
    return {"schema": schema(name), **fields}


def outlet_read(r: Any) -> dict[str, Any]:
    """What reading outlets' sources did (raqib.app.outlets.ReadReport)."""
    return {
        "sources": len(r.sources),
        "failed": [s for s in r.sources if s["failed"]],
        "watched": r.watched,
        "rejected": len(r.rejected),
        "retired": r.retired,
        "old": r.old,
    }


def outlet_record(o: Outlet) -> dict[str, Any]:
    return {
        "schema": schema("outlet"),
        "name": o.name,
        "retain_days": o.retain_days,
        "added_at": iso(o.added_at),
        "watched": o.watched,
        "rejected": o.rejected,
        "sources": [
            {
                "url": s.url, "kind": s.kind, "next_read_at": iso(s.next_check_at),
                "last_read_at": iso(s.last_checked_at), "last_status": s.last_status,
                "entries_seen": s.entries_seen,
            }
            for s in o.sources
        ],
    }  # fmt: skip


def outlet_stats_record(st: Any) -> dict[str, Any]:
    """raqib.app.outlets.OutletStats as `outlet stats --json` prints it."""
    return {
        "schema": schema("outlet-stats"),
        "outlet": st.outlet,
        "articles": st.articles,
        "edited": st.edited,
        "edited_silently": st.edited_silently,
        "edits": st.edits,
        "share_edited": round(st.share_edited, 4),
        "share_edited_silently": round(st.share_silent, 4),
        "edits_per_article": round(st.edits_per_article, 4),
        "median_to_first_edit_seconds": {
            "last_seen_unedited": st.median_first_edit_after,
            "first_seen_edited": st.median_first_edit_before,
        },
    }


def search_record(h: Any) -> dict[str, Any]:
    """raqib.app.search.Hit as `raqib search --json` prints it."""
    return {
        "schema": schema("search-hit"),
        "watch_id": h.watch.id,
        "url": h.watch.url,
        "title": h.watch.title,
        "outlet": h.watch.outlet,
        "versions": h.versions,
        "latest_version": h.watch.version_count,
        "in_latest": h.in_latest,
        "state": str(h.watch.state),
        "snippet": h.snippet,
        "first_seen": h.first_seen,
    }
