"""`raqib feed`: an Atom feed of changes (feedgen), one entry per change."""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from raqib import analysis
from raqib.domain import Change
from raqib.report.views import safe_href
from raqib.storage import Storage


def _summary(c: Change) -> str:
    a = c.analysis
    lines = [f"{c.kind}{', silent edit (no update signal)' if c.silent else ''}"]
    if c.headline_changed:
        lines.append("headline changed")
    facts = a.get("facts", {})
    for d in facts.get("numbers", []):
        lines.append(f"figures: {' '.join(d['removed']) or '—'} → {' '.join(d['added']) or '—'}")
    for d in facts.get("quotes", []):
        lines.append(f"quotation: «{' | '.join(d['removed'])}» → «{' | '.join(d['added'])}»")
    for d in facts.get("negations", []):
        lines.append(
            f"negation {'added' if d['added'] else 'removed'}: {' '.join(d['added'] or d['removed'])}"
        )
    counts = a.get("counts", {})
    lines.append(
        f"{counts.get('add', 0)} added, {counts.get('delete', 0)} deleted, {counts.get('edit', 0)} edited, "
        f"{counts.get('move', 0)} moved sentences; {c.chars_changed} characters"
    )
    lines.extend(f"update signal: {s}" for s in a.get("signals", []))
    return "\n".join(lines)


def build(
    storage: Storage, *, base_url: str, story: str | None = None, title: str | None = None
) -> bytes:
    base = base_url.rstrip("/") + "/"
    fg = FeedGenerator()
    fg.id(f"urn:raqib:changes:{story or 'all'}")
    fg.title(title or f"Raqib — changes{f' in {story}' if story else ''}")
    fg.link(href=base + "index.html", rel="alternate")
    fg.language("ar")
    rows = analysis.current_rows(storage, storage.changes.all(story=story))
    # The feed is as new as its newest change: the same database gives the same feed.
    fg.updated(rows[-1].change.detected_at if rows else datetime(1970, 1, 1, tzinfo=UTC))
    for row in rows:
        c, w, a, b = row.change, row.watch, row.from_number, row.to_number
        e = fg.add_entry(order="append")
        e.id(f"urn:raqib:change:{w.id}:{a}-{b}")
        e.title(
            f"{w.title or w.url} — {c.kind}{', silent' if c.silent else ''}{', headline changed' if c.headline_changed else ''}"
        )
        # One link per entry: feedgen 1.0 drops the rel of entry links, so a
        # second (related) link would read as another alternate.
        e.link(href=f"{base}change-{c.id}.html", rel="alternate")
        e.updated(c.detected_at)
        e.published(c.detected_at)
        article = w.url if safe_href(w.url) != "#" else "(not a web address)"
        e.summary(f"{_summary(c)}\narticle: {article}")
    return fg.atom_str(pretty=True)
