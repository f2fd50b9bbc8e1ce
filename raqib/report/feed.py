"""`raqib feed`: an Atom feed of changes (feedgen), newest first, each entry
carrying the highlighted change as HTML."""

from __future__ import annotations

from datetime import datetime

from feedgen.feed import FeedGenerator

from raqib.present import labels
from raqib.present.when import local
from raqib.report.views import change_view, environment
from raqib.storage import Storage

MAX_ENTRIES = 200  # a feed reader wants the latest, not the archive


def build(
    storage: Storage,
    *,
    base_url: str,
    now: datetime,
    story: str | None = None,
    title: str | None = None,
    limit: int = MAX_ENTRIES,
) -> bytes:
    """The feed of `story` (None: every change). Links start with `base_url`
    (empty: relative to the feed, which readers resolve against its address)."""
    base = base_url.rstrip("/") + "/" if base_url else ""
    fg = FeedGenerator()
    fg.id(f"urn:raqib:changes:{story or 'all'}")
    fg.title(title or f"رقيب · Raqib — التعديلات{f' في {story}' if story else ''}")
    fg.link(href=base + "index.html", rel="alternate")
    fg.language("ar")
    rows = storage.changes.all(story=story)
    rows.sort(key=lambda r: (r.change.detected_at, r.change.id), reverse=True)
    rows = rows[:limit]  # before the work per entry: change_view judges each one
    # The feed is as new as its newest change: the same database gives the same
    # feed. With none, it is as new as the moment it was written.
    fg.updated(rows[0].change.detected_at if rows else now)
    template = environment().get_template("feed_entry.html")
    for row in rows:
        w, a, b = row.watch, row.from_number, row.to_number
        view = change_view(storage, row.change.id)
        if view is None:
            continue  # deleted while the feed was written
        c = view["change"]  # with the analysis readers show (a stale one re-judged)
        label = labels.verdict(c.kind, c.silent)
        headline = f"، {labels.HEADLINE[0]}" if c.headline_changed else ""
        e = fg.add_entry(order="append")  # rows are newest first already
        e.id(f"urn:raqib:change:{w.id}:{a}-{b}")
        e.title(f"{label[0]}{headline}: {w.title or w.url}")
        # One link per entry: feedgen 1.0 drops the rel of entry links, so a
        # second (related) link would read as another alternate.
        e.link(href=f"{base}change-{c.id}.html", rel="alternate")
        e.updated(c.detected_at)
        e.published(c.detected_at)
        html = template.render(
            label=label, headline_label=labels.HEADLINE, detected=local(c.detected_at), **view
        )
        e.content(html, type="html")
    return fg.atom_str(pretty=True)
