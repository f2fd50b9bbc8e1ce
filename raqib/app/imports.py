"""`raqib import`: an export's watches and versions into this home.

Idempotent: a watch already held is matched by its address, a version the
watch already has is skipped (the same number with other text is refused),
and the changes are judged again from the versions, as a pass would, so a
second import of the same file adds nothing. Imported watches that are new
here start paused: importing an archive must not start fetching it (an
unwatched one stays unwatched). Their aliases come along, and their outlet
where this home follows one by that name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from raqib import analysis, urls
from raqib.app.errors import BadInput
from raqib.app.history import clean_tags
from raqib.app.home import App
from raqib.clock import parse_instant
from raqib.domain import HIDDEN_STATES, Version, WatchState
from raqib.extract.page import content_hash

SCHEMAS = {"watch": "raqib.watch/1", "version": "raqib.version/1", "change": "raqib.change/1"}


@dataclass
class ImportReport:
    watches_new: int = 0
    watches_known: int = 0
    versions_new: int = 0
    versions_known: int = 0
    changes: int = 0
    # Outlets the file's watches came from that this home does not follow.
    outlets_missing: dict[str, int] = field(default_factory=dict)


def _schema(kind: str) -> Any:
    path = Path(__file__).resolve().parent.parent / "schemas" / f"{kind}-1.json"
    return jsonschema.Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))


# Column widths a foreign record must fit (PostgreSQL refuses longer values).
# A version's fields at most as long as a fetch can make them (text: an 8 MB page's).
_WIDTHS = {
    "published": 64, "modified": 64, "language": 16, "extractor": 200, "url": 2048,
    "title": 100_000, "byline": 100_000, "text": 8_000_000,
}  # fmt: skip


def read(lines: Iterable[str], name: str) -> list[dict[str, Any]]:
    """The export's records, checked line by line before anything is stored:
    each against the schema it names, a version's text against its content
    hash, and every version against a watch record of the same file."""
    validators = {kind: _schema(kind) for kind in SCHEMAS}
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
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
        problem = next(iter(validators[kind].iter_errors(rec)), None)
        if problem is not None:
            where = "/".join(map(str, problem.path)) or "the record"
            raise BadInput(f"{name}:{n}: {where}: {problem.message[:200]}")
        if kind == "version":
            for key, width in _WIDTHS.items():
                if isinstance(rec.get(key), str) and len(rec[key]) > width:
                    raise BadInput(f"{name}:{n}: {key} is longer than {width} characters")
            if content_hash(rec["title"], rec["text"]) != rec["content_hash"]:
                raise BadInput(f"{name}:{n}: version {rec['version']} of {rec['watch_url']}: "
                               "its text does not match its content hash")  # fmt: skip
            if (rec["watch_url"], rec["version"]) in seen:
                continue  # the same version twice (two exports concatenated)
            seen.add((rec["watch_url"], rec["version"]))
        if kind == "watch":
            try:
                rec["url"] = urls.normalize(rec["url"])
                rec["tags"] = clean_tags(rec.get("tags") or [])
                # Only addresses of the article's own site, never a home page: a
                # file from elsewhere must not make another site's article ours.
                rec["aliases"] = [
                    a
                    for a in (urls.normalize(x) for x in rec["aliases"] if x)
                    if urls.same_owner(a, rec["url"]) and not urls.is_home(a)
                ]
            except (urls.BadURL, BadInput) as exc:
                raise BadInput(f"{name}:{n}: {exc}") from None
        out.append(rec)
    watched = {r["url"] for r in out if r["record"] == "watch"}
    for r in out:
        if r["record"] == "version" and urls.normalize(r["watch_url"]) not in watched:
            raise BadInput(
                f"version {r['version']} of {r['watch_url']}: the file has no watch record for it"
            )
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


def _conflicts(app: App, records: list[dict[str, Any]]) -> None:
    """Refuse the whole file, before writing, if a watch held here has a
    version under the same number with other text."""
    for rec in (r for r in records if r["record"] == "version"):
        w = app.storage.watches.find(urls.normalize(rec["watch_url"]))
        if w is None:
            continue
        held = app.storage.history.version(w.id, int(rec["version"]))
        if held is not None and held.content_hash != rec["content_hash"]:
            raise BadInput(
                f"version {rec['version']} of {rec['watch_url']} differs from the one held here: "
                "two histories of one article are not merged"
            )


def import_records(app: App, records: list[dict[str, Any]]) -> ImportReport:
    """Store what `read` checked. Each watch and each version is its own
    transaction: a crash leaves a prefix, and importing again completes it."""
    _conflicts(app, records)
    report = ImportReport()
    now = app.clock()
    ids: dict[str, int] = {}
    for rec in (r for r in records if r["record"] == "watch"):
        stories = rec.get("stories") or ([rec["story"]] if rec.get("story") else [None])
        # An unwatched (or rejected) article stays so; any other starts paused.
        state = WatchState(rec["state"]) if rec["state"] in HIDDEN_STATES else WatchState.PAUSED
        made = False
        for story in stories:
            ((w, created),) = app.storage.watches.add(
                [rec["url"]], now=now, story=story, tags=rec["tags"], state=state, revive=False,
            )  # fmt: skip
            report.watches_new += created
            made = made or created
        ids[rec["url"]] = w.id
        if not app.storage.watches.adopt(w.id, rec["aliases"], rec["outlet"], made=made):
            missing = report.outlets_missing
            missing[rec["outlet"]] = missing.get(rec["outlet"], 0) + 1
    report.watches_known = len(ids) - report.watches_new
    versions = sorted(
        (r for r in records if r["record"] == "version"),
        key=lambda r: (r["watch_url"], r["version"]),
    )
    for rec in versions:
        watch_id = ids[urls.normalize(rec["watch_url"])]
        if app.storage.history.import_version(watch_id, _version(watch_id, rec)):
            report.versions_new += 1
        else:
            report.versions_known += 1
    report.changes = len(analysis.analyze_pending(app.storage))
    from raqib.app import search

    search.index(app)
    return report
