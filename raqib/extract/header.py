"""What an article says before its body: the lede (standfirst, summary) and
summary bullets ("أبرز النقاط"). Extractors often leave these out, because
they sit in the header, outside the element that holds the body; an edit
there is an edit to the article all the same.

Found by structure, not by site: an element marked as a lede (class, id or
itemprop: lead, lede, standfirst, summary, excerpt, intro, subtitle, dek,
teaser, abstract, description), or a list introduced by a summary heading.
Photo captions, links and furniture (menus, sidebars, comments) are not ledes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from lxml import etree

from raqib.extract.classnames import searcher
from raqib.extract.furniture import article_header, marks_furniture
from raqib.normalize.arabic import canonical_line

_MARK = re.compile(
    r"(?:^|[\s_-])(?:lead|lede|standfirst|stand-first|summary|excerpt|intro|subtitle|sub-title"
    r"|subheadline|dek|teaser|abstract|description|article__desc|highlights|key-?points)(?:$|[\s_-])"
    r"|__lead\b|__lede\b|__summary\b|__subtitle\b",
    re.IGNORECASE,
)
_SUMMARY_HEADING = re.compile(
    r"^\W*(?:أبرز النقاط|أهم النقاط|أبرز ما جاء|النقاط الرئيسية|باختصار|في سطور|ملخص|key points|highlights"
    r"|in brief|summary)\W*$",
    re.IGNORECASE,
)
_NOT_LEDE = {
    "figcaption",
    "figure",
    "a",
    "nav",
    "footer",
    "aside",
    "form",
    "script",
    "style",
    "button",
}
_CAPTION = re.compile(r"caption|credit|photo|image|gallery|media", re.IGNORECASE)
_lede_mark = searcher(_MARK, unless=_CAPTION)
_HEADINGS = {"h2", "h3", "h4", "h5", "h6", "strong", "b", "p", "span", "div"}
MIN_CHARS, MAX_CHARS = 30, 1500
MAX_LEDES = 8


def _marked(el: Any) -> bool:
    a = el.attrib
    if not a:
        return False  # most elements: no attributes at all
    return _lede_mark(f"{a.get('class', '')} {a.get('id', '')} {a.get('itemprop', '')}")


def _excluded(el: Any) -> bool:
    for a in (el, *el.iterancestors()):
        if not isinstance(a.tag, str):
            continue
        if a.tag == "form" and not marks_furniture(a):
            continue  # a page-wide form (ASP.NET's) holds the article, and its lede
        if a.tag in _NOT_LEDE or _CAPTION.search(a.get("class", "")):
            return True
        if a.tag == "header":
            if not article_header(a):
                return True
        elif marks_furniture(a):
            return True
    return False


def _text(el: Any) -> str:
    return canonical_line(" ".join(el.itertext()))


def ledes(root: Any) -> list[str]:
    """The lede and summary lines of a page, in document order."""
    body = root.find("body")
    if body is None:
        return []
    out: list[str] = []
    taken: list[Any] = []
    for el in body.iter(etree.Element):
        if len(out) >= MAX_LEDES:
            break
        # A summary heading is short: a paragraph's own text rules it out
        # before its whole text is joined (this runs on every element).
        heading = el.tag in _HEADINGS and len(el) <= 1 and len(el.text or "") < 120
        marked = _marked(el)
        if not heading and not marked:
            continue  # the cheap test first: most elements are neither
        if any(el is t or t in el.iterancestors() for t in taken):
            continue  # inside a lede already taken
        # An unmarked heading matters only with a list after it: its words are
        # read (canonicalised) only then. A marked one is skipped as a lede
        # when its words are a summary heading's, list or not.
        if (
            heading
            and (marked or _list_follows(el))
            and (raw := _short_text(el, 120)) is not None
            and _summary_heading(raw)
        ):
            items = _bullets_after(el)
            if items:
                out.extend(items)
                taken.append(el.getparent())
            continue
        if not marked or _excluded(el):
            continue
        if el.tag in ("ul", "ol") or el.find(".//li") is not None:
            # Summary bullets: each item a line (a heading above them is not).
            items = [t for li in el.iter("li") if MIN_CHARS <= len(t := _text(li)) <= MAX_CHARS]
            out.extend(items)
            taken.append(el)
            continue
        text = _text(el)
        if MIN_CHARS <= len(text) <= MAX_CHARS and len(text.split()) >= 6:
            out.append(text)
            taken.append(el)
    return list(dict.fromkeys(out))


def _short_text(el: Any, limit: int) -> str | None:
    """ " ".join(el.itertext()) if shorter than `limit`, else None, found
    without joining all of it: a one-child wrapper can hold a whole page."""
    if not len(el):  # a leaf: its text is all there is
        text = el.text or ""
        return text if len(text) < limit else None
    parts: list[str] = []
    length = -1  # of the joined text so far: each part adds itself and a space
    for t in el.itertext():
        length += len(t) + 1
        if length >= limit:
            return None
        parts.append(t)
    return " ".join(parts)


@functools.lru_cache(maxsize=4096)
def _summary_heading(raw: str) -> bool:
    """Whether a short text reads as a summary heading. Cached: the same
    labels and menu words come back on every page of a site."""
    return len(title := canonical_line(raw)) < 40 and _SUMMARY_HEADING.match(title) is not None


def _lists_after(heading: Any) -> Iterator[Any]:
    """The list that is the next element after the heading, then the one
    after its parent: where a summary heading's bullets can be."""
    for node in (heading, heading.getparent()):
        if node is None:
            continue
        sibling = node.getnext()
        while sibling is not None and not isinstance(sibling.tag, str):
            sibling = sibling.getnext()
        if sibling is not None and sibling.tag in ("ul", "ol"):
            yield sibling


def _list_follows(heading: Any) -> bool:
    return next(_lists_after(heading), None) is not None


def _bullets_after(heading: Any) -> list[str]:
    """The items of the list that follows a summary heading (its sibling, or its parent's)."""
    for lst in _lists_after(heading):
        if not _excluded(lst):
            return [t for li in lst.iter("li") if MIN_CHARS <= len(t := _text(li)) <= MAX_CHARS]
    return []
