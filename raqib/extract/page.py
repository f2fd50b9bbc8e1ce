"""Decoded page → canonical snapshot (extract, then normalise). Pure and
picklable: this is the function the extraction worker processes run.

trafilatura is imported on the first full extraction, not with this module:
a pass whose every refetch passes the region check never needs it.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from raqib.domain import Snapshot
from raqib.extract.facts import Facts
from raqib.extract.notices import notices as read_notices
from raqib.extract.parsing import MAX_TREE_SIZE, fit, oversize, parse
from raqib.extract.region import check, locate
from raqib.extract.results import EXTRACTOR, NotArticle
from raqib.normalize.arabic import canonical_line


@dataclass(frozen=True)
class Page:
    """A snapshot plus what the page said about its own identity, and where
    its article sat (for the next fetch's region check)."""

    snapshot: Snapshot
    canonical_url: str | None
    amp_url: str | None
    region: dict[str, Any] | None = None
    kind: str | None = None  # what the page declares itself: article, live, video, …
    pinned: bool = True  # False: no region can vouch for this text (results.Article.unglued)


@dataclass(frozen=True)
class Same:
    """The article region digests as before: the article did not change."""


SAME = Same()


def content_hash(title: str, text: str) -> str:
    """What makes a version: headline and body, canonical. A byline or a date
    that changed alone is metadata (the fetch log says so), not a version."""
    h = hashlib.sha256(b"v2\x1f")
    for part in (title, text):
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


def body_key(body: bytes, encoding: str | None) -> str:
    """Same extractor + same charset + same bytes = same extraction."""
    h = hashlib.sha256(EXTRACTOR.encode())
    h.update(b"\x1f" + (encoding or "").encode() + b"\x1f")
    h.update(body)
    return h.hexdigest()


def make_page(
    html: str, url: str | None, tree: Any = None, facts: Facts | None = None
) -> Page | NotArticle:
    from raqib.extract.article import extract  # trafilatura: see the module's docstring

    result = extract(html, url, tree, facts)
    if isinstance(result, NotArticle):
        return result
    title = canonical_line(result.title)
    byline = canonical_line(result.byline) if result.byline else None
    paragraphs = [p for p in (canonical_line(p) for p in result.paragraphs) if p]
    text = "\n".join(paragraphs)
    notices = [n for n in (canonical_line(n) for n in result.notices) if n]
    snap = Snapshot(
        title=title,
        byline=byline or None,
        published=result.published,
        modified=result.modified,
        text=text,
        notices=notices,
        language=(result.language or None) and result.language[:16],
        content_hash=content_hash(title, text),
        extractor=EXTRACTOR,
    )
    return Page(
        snap, result.canonical_url, result.amp_url, kind=result.kind, pinned=not result.unglued
    )


def analyze(html: str, url: str | None, region: dict[str, Any] | None) -> Page | NotArticle | Same:
    """What the extraction workers run: the region check when there is a
    region, else (or when it fails) full extraction plus a new region. The
    page is parsed once: extraction prunes a copy of the tree."""
    root = parse(html) if html and html.strip() else None
    # Fewer characters than the bound, fewer elements. A page past it without
    # its drawings is refused, whether or not its article region still
    # digests as before (walking it would take a second).
    if root is not None and len(html) > MAX_TREE_SIZE and (why := oversize(fit(root)[0])):
        return NotArticle(why)
    facts = Facts(root) if root is not None else None  # read by all three below
    checked = check(root, region, read_notices, facts) if region is not None else None
    if checked is not None and region is not None and checked.digest == region["digest"]:
        return SAME
    result = make_page(html, url, copy.deepcopy(root) if root is not None else None, facts)
    if isinstance(result, NotArticle) or not result.pinned:
        return result  # not pinned: extracted in full on every fetch
    found = locate(root, result.snapshot.text.split("\n"), result.snapshot.notices, checked, facts)
    return dataclasses.replace(result, region=found)


def analyze_timed(
    html: str, url: str | None, region: dict[str, Any] | None
) -> tuple[Page | NotArticle | Same, float]:
    """analyze(), and the CPU seconds it took on the thread that ran it (a
    worker process's CPU is not the pass's own: it is counted this way)."""
    started = time.thread_time()
    result = analyze(html, url, region)
    return result, time.thread_time() - started
