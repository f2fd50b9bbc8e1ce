"""`raqib feed`: an Atom feed of changes (feedgen), newest first, each entry
carrying the highlighted change as HTML."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from feedgen.feed import FeedGenerator

from raqib.domain import ChangeRow
from raqib.present import labels
from raqib.present.when import local
from raqib.report.views import change_view, environment
from raqib.storage import Storage, StoreFault

MAX_ENTRIES = 200  # a feed reader wants the latest, not the archive
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
log = logging.getLogger("raqib")


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
    # Only the latest are read: before the work per entry (change_view judges each one).
    rows = storage.changes.all(story=story, newest=limit)
    # The feed is as new as its newest change: the same database gives the same
    # feed. With none, it is as new as the moment it was written.
    fg.updated(rows[0].change.detected_at if rows else now)
    template = environment().get_template("feed_entry.html")
    failed = 0
    for row in rows:
        try:
            entry = _entry(storage, template, row, base)
        except StoreFault:  # the database's, not the change's: say so, stop
            raise
        except Exception as exc:  # one change must not cost the feed its others
            failed += 1
            if failed == len(rows):  # none drawn: not a feed to write over the last one
                raise
            log.error("feed: change %d left out: %s: %s", row.change.id, type(exc).__name__, exc)
            continue
        if entry is None:
            continue  # deleted while the feed was written
        entry_id, entry_title, link, when, html = entry
        e = fg.add_entry(order="append")  # rows are newest first already
        e.id(entry_id)
        e.title(entry_title)
        # One link per entry: feedgen 1.0 drops the rel of entry links, so a
        # second (related) link would read as another alternate.
        e.link(href=link, rel="alternate")
        e.updated(when)
        e.published(when)
        e.content(html, type="html")
    return fg.atom_str(pretty=True)


def _entry(
    storage: Storage, template: Any, row: ChangeRow, base: str
) -> tuple[str, str, str, datetime, str] | None:
    """(id, title, link, when, content) of one change's entry."""
    w, a, b = row.watch, row.from_number, row.to_number
    view = change_view(storage, row.change.id)
    if view is None:
        return None
    c = view["change"]  # with the analysis readers show (a stale one re-judged)
    label = labels.verdict(c.kind, c.silent)
    headline = f"، {labels.HEADLINE[0]}" if c.headline_changed else ""
    html = template.render(
        label=label, headline_label=labels.HEADLINE, detected=local(c.detected_at), **view
    )
    return (
        f"urn:raqib:change:{w.id}:{a}-{b}",
        xml_text(f"{label[0]}{headline}: {w.title or w.url}"),
        f"{base}change-{c.id}.html",
        c.detected_at,
        xml_text(html),
    )


def xml_text(s: str) -> str:
    """`s` without what XML 1.0 cannot carry (U+FFFF, controls, lone
    surrogates), which a page's headline can hold and lxml refuses."""
    return _NOT_XML.sub("", s)
