"""What the report shows, built from the store: the same data for the static
site (`raqib report`), the live view (`raqib serve`) and the feed.

Pages are named so that relative links work both from files and from the
server: index.html, article-<id>.html, change-<id>.html, raw-<sha256>.txt.
"""

from __future__ import annotations

import base64
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from raqib import analysis
from raqib.diffs.render import (
    COSMETIC_STYLE,
    DEL_STYLE,
    INS_STYLE,
    direction,
    lang_of,
    paragraphs_view,
    segments,
)
from raqib.diffs.words import DELETE, EQUAL, INSERT, mark_cosmetic, word_diff
from raqib.domain import (
    FACT_MARKS,
    Change,
    FetchEntry,
    Version,
    Watch,
    WatchMarks,
    WatchState,
    fact_marks,
)
from raqib.present import labels
from raqib.present.when import local
from raqib.report import charts, timeline
from raqib.storage import Storage


def safe_href(url: str | None) -> str:
    """Only http(s) addresses become links; javascript:, data: and the rest do not."""
    if not url:
        return "#"
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return "#"
    return url if scheme in ("http", "https") else "#"


def _when(value: datetime | None) -> str:
    return local(value, "—")


def _verdict(kind: str, silent: bool) -> str:
    """'تعديل صامت · silent edit': the report's labels in both languages."""
    return " · ".join(labels.verdict(kind, silent))


def _outcome(name: str) -> str:
    return " · ".join(labels.outcome(name))


def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [PackageLoader("raqib.report", "templates"), PackageLoader("raqib.diffs", "templates")]
        ),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["href"] = safe_href
    env.filters["when"] = _when
    env.filters["verdict"] = _verdict
    env.filters["outcome"] = _outcome
    env.globals["OUTCOMES"] = list(labels.OUTCOMES)
    env.globals.update(DEL_STYLE=DEL_STYLE, INS_STYLE=INS_STYLE, COSMETIC_STYLE=COSMETIC_STYLE)
    return env


def badges(marks: WatchMarks | None, watch: Watch) -> list[str]:
    out = [
        label for label, on in (
            ("silent edit", marks and marks.silent), ("headline changed", marks and marks.headline),
            ("figures changed", marks and marks.figures), ("quotes changed", marks and marks.quotes),
        ) if on
    ]  # fmt: skip
    if watch.state == WatchState.REMOVED or watch.last_outcome == "removed":
        out.append("removed")
    return out


def marks_of(changes: list[Change], more: WatchMarks | None = None) -> WatchMarks:
    """What these changes add up to (and `more`, what others did)."""
    bits = [fact_marks(c.analysis) for c in changes]
    base = more or WatchMarks(0, False, False, False, False)
    return WatchMarks(
        base.changes + len(changes),
        base.silent or any(c.silent for c in changes),
        base.headline or any(c.headline_changed for c in changes),
        base.figures or any(b & FACT_MARKS["numbers"] for b in bits),
        base.quotes or any(b & FACT_MARKS["quotes"] for b in bits),
    )


def newsroom_view(news: Any) -> dict[str, Any]:
    """The front page's top: raqib.app.newsroom.Newsroom as the template reads it."""
    if news is None:
        return {"latest": None}
    latest = []
    for row in news.changes:
        c, w = row.change, row.watch
        facts = c.analysis.get("facts", {})
        latest.append(
            {
                "id": c.id, "watch_id": w.id, "url": w.url, "title": w.title or w.url,
                "dir": direction(None, w.title or ""), "kind": c.kind, "silent": c.silent,
                "from": row.from_number, "to": row.to_number, "detected_at": c.detected_at,
                "outlet": w.outlet, "stories": list(w.stories), "tags": list(w.tags),
                "badges": [
                    b for b, on in (
                        ("headline changed", c.headline_changed),
                        ("figures changed", bool(facts.get("numbers"))),
                        ("quotes changed", bool(facts.get("quotes"))),
                        ("negation", bool(facts.get("negations"))),
                    ) if on
                ],
            }
        )  # fmt: skip
    failing = [
        {
            "id": w.id, "url": w.url, "title": w.title or w.url, "dir": direction(None, w.title or ""),
            "outcome": w.last_outcome or w.state, "checked": w.last_checked_at,
            # Errors and removals are each counted in a row (a 404 is no error).
            "errors": max(w.error_count, w.removed_count),
        }
        for w in news.failing
    ]  # fmt: skip
    return {
        "latest": latest,
        "total": news.total,
        "failing": failing,
        "outlets": news.outlets,
        "chart": charts.outlet_bars(news.outlets),
        "filters": news.filters,
        "filter_error": news.error,
    }


def index_view(storage: Storage, news: Any = None) -> dict[str, Any]:
    # Each article's badges, added up in SQL; only the changes an older
    # analyzer judged (after an upgrade, until passes judge them again) are read.
    marks = storage.changes.marks_by_watch(analysis.ANALYZER)
    older: dict[int, list[Change]] = defaultdict(list)
    for row in analysis.current_rows(
        storage, storage.changes.all(judged_by_other=analysis.ANALYZER)
    ):
        older[row.change.watch_id].append(row.change)
    for watch_id, changes in older.items():
        marks[watch_id] = marks_of(changes, marks.get(watch_id))
    stories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    outlets_only = 0
    for w in storage.watches.all():
        if w.origin == "outlet" and not w.stories:
            outlets_only += 1  # they show in the latest changes and their outlet's figures
            continue
        slug = w.story
        counted = marks.get(w.id)
        stories[slug or "(no story)"].append(
            {
                "id": w.id,
                "url": w.url,
                "title": w.title or w.url,
                "origin": w.origin,
                "versions": w.version_count,
                "changes": counted.changes if counted else 0,
                "last_change": w.last_change_at,
                "badges": badges(counted, w),
                "dir": direction(None, w.title or ""),
            }
        )
    ordered = []
    for slug, articles in stories.items():
        articles.sort(
            key=lambda a: (a["last_change"] is not None, a["last_change"] or datetime.min),
            reverse=True,
        )
        newest = articles[0]["last_change"] if articles else None
        ordered.append({"slug": slug, "articles": articles, "newest": newest})
    ordered.sort(key=lambda s: (s["newest"] is not None, s["newest"] or datetime.min), reverse=True)
    return {"stories": ordered, "outlets_only": outlets_only, **newsroom_view(news)}


def article_view(storage: Storage, watch_id: int) -> dict[str, Any] | None:
    try:
        w = storage.watches.get(watch_id)
    except LookupError:
        return None
    versions = storage.history.versions(w.id)
    rows = [
        (r.change, r.watch, r.from_number, r.to_number)
        for r in analysis.current_rows(storage, storage.changes.all(watch_id=w.id))
    ]
    marks = [
        timeline.Mark(
            at=c.detected_at,
            chars=c.chars_changed,
            kind=c.kind,
            silent=c.silent,
            label=f"v{a}→v{b} {c.kind}{' silent' if c.silent else ''}, {c.chars_changed} characters",
            href=f"change-{c.id}.html",
        )
        for c, _w, a, b in rows
    ]
    svg = Markup("")
    if versions:
        end = max(v.last_seen for v in versions)
        svg = timeline.svg(marks, [v.first_seen for v in versions], versions[0].first_seen, end)
    changes = [
        {
            "id": c.id,
            "from": a,
            "to": b,
            "detected_at": c.detected_at,
            "kind": c.kind,
            "silent": c.silent,
            "headline_changed": c.headline_changed,
            "chars": c.chars_changed,
            "badges": badges(marks_of([c]), w),
            "signals": c.analysis.get("signals", []),
        }
        for c, _w, a, b in reversed(rows)
    ]
    shots = storage.history.shots(w.id)
    return {
        "watch": w,
        "story": w.story,
        "title": w.title or w.url,
        "dir": direction(versions[-1].language if versions else None, w.title or ""),
        "versions": versions,
        "changes": changes,
        "svg": svg,
        "shot": shot_view(storage, next((v for v in reversed(versions) if v.id in shots), None)),
        **fetch_runs(storage.history.fetches(w.id), {v.id: v.number for v in versions}),
    }


def fetch_runs(fetches: list[FetchEntry], numbers: dict[int, int]) -> dict[str, Any]:
    """An article's fetch log as the page shows it: every outcome, with runs
    of the same answer (a month of "unchanged") folded into one row, newest
    first, so a bot check, a 503, a 404 or a restore is never lost in them."""
    runs: list[dict[str, Any]] = []
    for f in fetches:
        last = runs[-1] if runs else None
        if (
            last is not None
            and f.version_id is None
            and last["version"] is None
            and (last["outcome"], last["status"], last["detail"]) == (f.outcome, f.status, f.detail)
        ):
            last["count"] += 1
            last["last"] = f.fetched_at
            continue
        runs.append(
            {
                "outcome": f.outcome, "status": f.status, "detail": f.detail,
                "version": numbers.get(f.version_id) if f.version_id else None,
                "first": f.fetched_at, "last": f.fetched_at, "count": 1,
                "warc": f"{f.warc_file}#{f.warc_offset}" if f.warc_file else None,
            }
        )  # fmt: skip
    kinds = Counter(f.outcome for f in fetches)
    return {"fetches": len(fetches), "runs": runs[::-1], "outcome_counts": dict(kinds)}


MAX_OUTCOME_ROWS = 500


def outcome_view(storage: Storage, kind: str) -> dict[str, Any] | None:
    """Every recent fetch that ended one way (bot checks, errors, removals, …)."""
    if kind not in labels.OUTCOMES:
        return None
    rows = storage.history.with_outcome(kind, limit=MAX_OUTCOME_ROWS)
    return {"kind": kind, "rows": rows, "limit": MAX_OUTCOME_ROWS}


def capture_view(storage: Storage, raw_hash: str, text: str | None) -> dict[str, Any] | None:
    """An archived page, to be drawn in a sandboxed frame with scripts off."""
    if text is None:
        return None
    return {"raw_hash": raw_hash, "html": text}


def _side_rows(analysis: Any) -> list[dict[str, Any]]:
    """Side-by-side rows: the old sentence with its deletions, the new with its insertions."""
    rows = []
    for it in analysis.items:
        if it.label == "add":
            rows.append({"label": it.label, "old": None, "new": segments(it)})
            continue
        if it.label == "delete":
            rows.append({"label": it.label, "old": segments(it), "new": None})
            continue
        marked = mark_cosmetic(it.ops) if it.ops else [(EQUAL, it.sentence.text, False)]
        kinds = {EQUAL: "same", DELETE: "del", INSERT: "ins"}
        old = [{"kind": kinds[op], "text": t, "cosmetic": c} for op, t, c in marked if op != INSERT]
        new = [{"kind": kinds[op], "text": t, "cosmetic": c} for op, t, c in marked if op != DELETE]
        rows.append(
            {
                "label": it.label,
                "old": old,
                "new": new,
                "from_para": it.old.para if it.old else None,
                "to_para": it.new.para if it.new else None,
            }
        )
    return rows


IMAGE_TYPES = frozenset({"image/webp", "image/png"})


def shot_view(storage: Storage, version: Version | None) -> dict[str, Any] | None:
    """A version's screenshot as the page shows it: inline, as a data: URI (the
    report's CSP allows images from nowhere else, and it works from file://)."""
    shot = storage.history.shot(version.id) if version is not None else None
    if version is None or shot is None or shot.media_type not in IMAGE_TYPES:
        return None
    data = base64.b64encode(shot.data).decode("ascii")
    return {"src": f"data:{shot.media_type};base64,{data}", "width": shot.width,
            "height": shot.height, "number": version.number}  # fmt: skip


def change_view(storage: Storage, change_id: int) -> dict[str, Any] | None:
    found = storage.changes.detail(change_id)
    if found is None:
        return None
    c, j = analysis.current(*found)
    _, old, new = found
    w = storage.watches.get(c.watch_id)
    judged = j.analysis
    sample = new.title + " " + new.text[:500]
    headline = [
        {"kind": {EQUAL: "same", DELETE: "del", INSERT: "ins"}[op], "text": t, "cosmetic": cos}
        for op, t, cos in mark_cosmetic(word_diff(old.title, new.title))
    ]
    return {
        "change": c,
        "watch": w,
        "story": w.story,
        "old": old,
        "new": new,
        "a": judged,
        "headline": headline,
        "paragraphs": paragraphs_view(judged),
        "rows": _side_rows(judged),
        "shots": [v for v in (shot_view(storage, old), shot_view(storage, new)) if v],
        "dir": direction(new.language, sample),
        "lang": lang_of(new.language, sample),
    }
