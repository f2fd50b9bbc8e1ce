"""What an outlet's sources list, and which of it is an article.

A listed page is refused by its URL with courlan's filters (tag, section,
author, gallery and listing pages, files, logins); the rest is watched, and
its first fetch refuses it when the page declares itself something else
(og:type, JSON-LD: a video, a live page). No per-site rules.
"""

from __future__ import annotations

import bisect
import itertools
import re
from typing import Any
from urllib.parse import urlsplit

from raqib import urls
from raqib.extract.parsing import document
from raqib.urls import joined

MAX_FRONT_LINKS = 500
MAX_OPML_BYTES = 5_000_000

_KIND_WORDS = (
    (re.compile(r"[/_-](?:tags?|schlagwort|labels?|hashtags?)/", re.I), "a tag page"),
    (
        re.compile(r"[/_-](?:[ck]ategor[a-z]{1,2}|[ck]at|sections?|topics?)/", re.I),
        "a section page",
    ),
    (re.compile(r"[/_-](?:auth?ors?|writers?|users?|profiles?)/", re.I), "an author page"),
    (re.compile(r"/gall?er[a-z]{1,2}/", re.I), "a gallery page"),
    (re.compile(r"/(?:paged?|seite|archives?|search|suche)/", re.I), "a listing page"),
)


def _kind(url: str) -> str:
    from courlan import filters  # imported on first use: courlan pulls in urllib3

    for pattern, word in _KIND_WORDS:
        if pattern.search(url + "/"):
            return word
    if filters.FILE_TYPE.search(url):
        return "a file, not a web page"
    return "a navigation page"


def refusal(url: str, *, front: bool = False) -> str | None:
    """Why a listed URL is not an article page, by its URL alone (None: it may
    be one). `front`: a front page's link, which may be its navigation."""
    if urls.is_home(url):
        return "not an article: the home page"
    # Feeds and sitemaps list articles, and are trusted; a front page's link of
    # words only is its navigation (urls.words_only).
    if front and urls.words_only(url):
        return "not an article: a section page (by its URL: a front page's link of words only)"
    from courlan import filters

    parts = urlsplit(url)
    if filters.is_not_crawlable(url):
        return "not an article: a login or contact page (by its URL)"
    if not filters.type_filter(url, strict=True) or filters.is_navigation_page(url):
        return f"not an article: {_kind(url)} (by its URL)"
    if not filters.path_filter(parts.path, parts.query):
        return "not an article: an index page (by its URL)"
    if not filters.extension_filter(parts.path):
        return "not an article: a file, not a web page (by its URL)"
    return None


def front_links(html: str, base_url: str) -> list[tuple[str, str]]:
    """(url, anchor text) of a front page's links to pages of its own site."""
    if (tree := document(html)) is None:  # refused, or unparseable
        return []
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "whatsapp:")):
            continue
        if (url := joined(base_url, href)) is None:
            continue
        if urlsplit(url).scheme not in ("http", "https") or not urls.same_site(url, base_url):
            continue
        if url in seen or url.split("#")[0] == base_url:
            continue
        seen.add(url)
        out.append((url, " ".join(a.text_content().split())[:300]))
        if len(out) >= MAX_FRONT_LINKS:
            break
    return out


# --- OPML: outlets in and out (one outline per outlet, its sources inside) -------------


def read_opml(data: bytes) -> list[tuple[str, list[tuple[str, str]], int | None]]:
    """(outlet name, [(kind, url)], retain days or None) from an OPML file. A
    top-level outline with child outlines is an outlet; a top-level feed
    outline is an outlet of its own. Retention is what `write_opml` wrote."""
    from lxml import etree

    if len(data) > MAX_OPML_BYTES:
        raise ValueError(f"the OPML file is over {MAX_OPML_BYTES // 1_000_000} MB")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not an OPML file: {exc}") from None
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise ValueError("not an OPML file (no <opml><body>)")
    out: list[tuple[str, list[tuple[str, str]], int | None]] = []
    for top in body.findall("outline"):
        name = (top.get("text") or top.get("title") or "").strip()
        children = top.findall("outline") or [top]
        sources = []
        for o in children:
            url = (o.get("xmlUrl") or o.get("htmlUrl") or "").strip()
            if not url:
                continue
            kind = (o.get("raqibKind") or "").strip() or ("feed" if o.get("xmlUrl") else "front")
            if kind not in ("feed", "sitemap", "front"):
                raise ValueError(
                    f"{name[:80]!r}: raqibKind {kind[:40]!r} is none of feed, sitemap or front; "
                    "nothing imported"
                )
            sources.append((kind, url))
        if not name and sources:
            name = urlsplit(sources[0][1]).hostname or ""
        retain = (top.get("raqibRetainDays") or "").strip()
        if name and sources:
            days = int(retain) if retain.isascii() and retain.isdigit() else None
            out.append((name, sources, days))
    return out


def write_opml(outlets: list[tuple[str, int, list[tuple[str, str]]]]) -> bytes:
    """(name, retain_days, [(kind, url)]) as OPML 2.0 that feed readers and
    `raqib outlet import` read."""
    from lxml import etree

    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = "Raqib outlets"
    body = etree.SubElement(root, "body")
    for name, retain_days, sources in outlets:
        top = etree.SubElement(body, "outline", text=name, raqibRetainDays=str(retain_days))
        for kind, url in sources:
            attrs = {"text": url, "raqibKind": kind}
            if kind == "front":
                attrs["htmlUrl"] = url
            else:
                attrs.update(type="rss", xmlUrl=url)
            etree.SubElement(top, "outline", attrs)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))


# A page of teasers: five or more of the text's lines start with a heading that
# is one link to another page ("<h2><a href=/story-3>…</a></h2>", or a card's
# "<a href=/story-3><h2>…</h2></a>"). An article's related boxes hold such
# headings too, but the extraction leaves them out of its text. (A list whose
# headings the extraction drops, keeping their summaries, is not seen.)
MIN_TEASERS = 5
MAX_HEADINGS = 300  # read of a stranger's page
MAX_HEADING = 400  # characters of one heading read (a teaser's title is short)
MAX_HEADING_ELEMENTS = 50
_HEADINGS = ("h2", "h3", "h4", "h5")


def lists_stories(html: str, url: str, text: str) -> bool:
    """Whether the page's extracted `text` is a list of other stories' teasers
    (a section or tag page an outlet serves with no sign of it but its shape)."""
    from raqib.extract.parsing import document
    from raqib.normalize.arabic import canonical_line

    root = document(html)
    body = root.find("body") if root is not None else None
    if body is None:
        return False
    # Sorted, a line that starts with a heading is found by bisection (the
    # extraction may join a teaser's heading to its summary).
    lines = sorted(canonical_line(line) for line in text.splitlines() if line.strip())
    teasers = 0
    for h in itertools.islice(body.iter(*_HEADINGS), MAX_HEADINGS):
        said = _bounded(h)
        link = _link_of(h, said)
        if link is None or len(said.split()) < 3:
            continue
        if _this_page(link.get("href", ""), url):
            continue  # a live page's own posts (#post-3, ?post=3)
        if _starts_a_line(lines, said):
            teasers += 1
            if teasers >= MIN_TEASERS:
                return True
    return False


def _this_page(href: str, url: str) -> bool:
    """Whether a link leads to this page (its anchors, its posts: ?post=3). Not
    below it: a section's stories often are (/middle-east/1690001-slug)."""
    target = joined(url, href.strip()) if href.strip() else url
    if target is None:
        return True
    a, b = urlsplit(target), urlsplit(url)
    return (a.scheme, a.netloc, a.path.rstrip("/")) == (b.scheme, b.netloc, b.path.rstrip("/"))


def _starts_a_line(lines: list[str], text: str) -> bool:
    at = bisect.bisect_left(lines, text)
    return at < len(lines) and lines[at].startswith(text)


def _bounded(el: Any) -> str:
    """An element's text, as far as a heading's goes (a stranger's may hold the page)."""
    from raqib.normalize.arabic import canonical_line

    return canonical_line("".join(itertools.islice(el.itertext(), 40))[:MAX_HEADING])


def _link_of(heading: Any, said: str) -> Any:
    """The one link a heading is, inside it or around it (within three levels)."""
    near = itertools.islice(heading.iter(), MAX_HEADING_ELEMENTS)  # a teaser's are few
    links = [a for a in near if a.tag == "a" and a.get("href")][:2]
    if len(links) == 1 and _bounded(links[0]) == said:
        return links[0]
    if links:
        return None
    for depth, a in enumerate(heading.iterancestors()):
        if depth >= 3:
            break
        if a.tag == "a" and a.get("href"):
            return a
    return None
