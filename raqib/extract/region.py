"""Where the article sits in its page, and whether it still says the same.

Most refetches find the article unchanged while the page around it churns
(clocks, counters, most-read lists, ads): full extraction of such a page is
waste. After each full extraction Raqib remembers a *region*: the path of the
smallest element holding every extracted paragraph, and a digest of

- the visible text of that element with the shape of its markup (where each
  element begins and ends: the extractor splits paragraphs there; and the
  attributes by which it drops an element, there and on the element's
  ancestors: a paragraph hidden by display:none loses no text);
- every prose-like block outside it, bar reader comments, menus, tickers and
  sidebars (a new paragraph anywhere the extractor might reach for it);
- the link-only blocks elsewhere whose text the region repeats (the extractor
  drops such a line as a promo: a headline repeated in a most-read list);
- every place a headline or byline can come from (<title>, h1, title and
  author <meta>, JSON-LD headline and author, author/byline elements, the
  last two with those attributes);
- the update and correction notices.

On the next fetch the same digest is computed from a cheap parse. Equal
digests mean the article cannot have changed: every extracted paragraph lies
inside the region (each paragraph's every possible location was included when
the region was chosen), every source of the title and byline is in the
digest, and so is any prose a new paragraph could be read from. Anything else
— a different digest, a path that no longer resolves — falls back to full
extraction: the check can cost a needless extraction, not a missed edit.

What it does not look at: text inside comments, menus, tickers and sidebars,
unless the article itself sits in one. An extractor that pulled such text
into the article would be reporting furniture, not an edit. Nor prose blocks
under 15 words outside the region: a dozen added at once can make the
extractor take the whole page for the article (a review found it; the
article itself is not edited then). The property is
checked by tests/test_region.py: random edits anywhere else on the saved real
pages and on the benchmark's generated pages (RAQIB_MUTATIONS=150 for a long
run), and it found each of the cases above when they were missing.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from raqib.extract import tables
from raqib.extract.anchors import Openings, common_ancestor, holds_all, lowest_holding
from raqib.extract.facts import Facts
from raqib.extract.furniture import is_counter, is_furniture, marks_furniture
from raqib.extract.pagemeta import author_mark
from raqib.normalize.arabic import canonical_line

VERSION = 6  # 6: the attributes that make the extractor drop an element, in the shape
# The attributes the extractor reads to drop an element (trafilatura's discard
# XPaths: a class, id or role naming furniture, display:none, aria-hidden…):
# one added to a paragraph hides it from the article without touching its text.
_SHAPE_ATTRS = frozenset(
    (
        "class", "id", "style", "role", "aria-hidden", "hidden", "itemprop", "rel",
        "data-component", "data-testid", "data-lp-replacement-content",
    )
)  # fmt: skip
_SKIP = {"script", "style", "noscript", "template", "svg"}
_DIGITS = re.compile(r"[\d٠-٩۰-۹]+")
_TITLE_META = re.compile(
    r"title|headline|author|creator|byline|date|time|published|modified|description", re.I
)
MIN_PROSE_WORDS = 15
_INLINE = {
    "span",
    "b",
    "i",
    "strong",
    "em",
    "font",
    "u",
    "small",
    "big",
    "sub",
    "sup",
    "mark",
    "abbr",
    "time",
    "q",
    "cite",
    "br",
    "bdi",
    "bdo",
    "ins",
    "del",
    "s",
}


def _collect(el: Any, out: list[str], skip_counters: bool, marked: list[str] | None) -> None:
    """The element's visible text into `out`; with its markup's shape into
    `marked` too, when given (one walk for both)."""
    if el.text:
        out.append(el.text)
        if marked is not None:
            marked.append(_escape(el.text))
    for child in el:
        if (
            isinstance(child.tag, str)
            and child.tag not in _SKIP
            and not (skip_counters and is_counter(child))
        ):
            if marked is not None:
                marked.append(f"⟪{child.tag}{_attrs(child)}⟫")
            _collect(child, out, skip_counters, marked)
            if marked is not None:
                marked.append("⟪/⟫")
        if child.tail:
            out.append(child.tail)
            if marked is not None:
                marked.append(_escape(child.tail))


def _escape(text: str) -> str:
    return text.replace("⟪", "⟪⟪")


def _attrs(el: Any) -> str:
    """Those attributes of the element, digits masked: an ad slot's id that
    changes its number every fetch is not an edit, and no pattern the
    extractor drops elements by holds a digit."""
    attrib = el.attrib
    if not attrib:
        return ""
    kept = sorted((k, v) for k, v in attrib.items() if k in _SHAPE_ATTRS)
    return _escape(_DIGITS.sub("#", "".join(f" {k}={v}" for k, v in kept)))


def _ancestry(el: Any) -> str:
    """An element and its ancestors with those attributes: a wrapper marked
    hidden or as furniture drops what it holds with it."""
    return "".join(f"⟪{a.tag}{_attrs(a)}⟫" for a in (el, *el.iterancestors()))


def visible_text(el: Any, *, skip_counters: bool = False) -> str:
    """The element's text as a reader sees it (scripts and styles left out;
    view and comment counters too when asked: they are never article text)."""
    out: list[str] = []
    _collect(el, out, skip_counters, None)
    return canonical_line("".join(out))


def region_texts(el: Any) -> tuple[str, str]:
    """The region's visible text without counters, and the same with its
    markup's shape: the extractor's output depends on where elements begin
    and end (two paragraphs run together, an empty block removed), so the
    digest must too."""
    out: list[str] = []
    marked: list[str] = []
    _collect(el, out, True, marked)
    return canonical_line("".join(out)), canonical_line("".join(marked))


def _author_elements(root: Any) -> list[Any]:
    """Elements marked as an author or byline (class, id, itemprop, rel).

    A loop rather than an XPath with translate(): a third of the time."""
    out = []
    for el in root.iter():
        attrs = el.attrib if isinstance(el.tag, str) else None
        if not attrs:
            continue
        cls = attrs.get("class")
        ident = attrs.get("id") or ""
        if (
            (cls and author_mark(cls))
            or "author" in ident
            or "byline" in ident
            or "author" in (attrs.get("itemprop") or "")
            or "author" in (attrs.get("rel") or "")
        ):
            out.append(el)
    return out


def _heads(root: Any) -> list[str]:
    """Every place a headline or a byline can be read from."""
    out: list[str] = []
    title = root.find(".//title")
    if title is not None and title.text:
        out.append("title:" + canonical_line(title.text))
    for m in root.iter("meta"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or "").lower()
        if key and _TITLE_META.search(key):
            out.append(f"meta:{key}:{canonical_line(m.get('content') or '')}")
    for s in root.iter("script"):
        if (s.get("type") or "").strip().lower() == "application/ld+json" and s.text:
            try:
                data = json.loads(s.text)
            except ValueError:
                out.append("ld:unparseable:" + hashlib.sha256(s.text.encode()).hexdigest())
                continue
            for obj in (
                data
                if isinstance(data, list)
                else [data, *(data.get("@graph") or [] if isinstance(data, dict) else [])]
            ):
                if isinstance(obj, dict):
                    for key in (
                        "headline", "name", "author", "creator", "datePublished", "dateModified",
                        "description",
                    ):  # fmt: skip
                        if key in obj:
                            out.append(
                                f"ld:{key}:{json.dumps(obj[key], ensure_ascii=False, sort_keys=True)}"
                            )
    # With the attributes of each and its ancestors: a headline hidden or
    # marked as furniture is passed over for another.
    for h in root.iter("h1"):
        out.append("h1:" + _ancestry(h) + visible_text(h))
    for el in _author_elements(root):
        if el.tag not in _SKIP and not is_furniture(el):  # a commenter's name is not the byline
            out.append("author:" + _ancestry(el) + visible_text(el))
    return out


def _block_text(el: Any, parts: list[str] | None = None) -> str:
    """An element's own prose: its text and that of its inline children,
    without link text and without nested blocks (they count on their own).
    Gathered into one list and joined once: inline elements nested a few
    hundred deep around a megabyte of text were joined, and copied, at
    every level."""
    top = parts is None
    parts = [] if parts is None else parts
    if el.tag != "a":
        parts.append(el.text or "")
    for child in el:
        if isinstance(child.tag, str) and child.tag in _INLINE:
            _block_text(child, parts)
        parts.append(child.tail or "")
    return " ".join(parts) if top else ""


def _prose_outside(root: Any, region: Any) -> list[str]:
    """Prose-like blocks anywhere outside the region: a paragraph added beside
    the body, or anywhere the extractor might reach for it.

    Reader comments, menus, sidebars and footers are left out (they churn on
    every fetch), unless the article itself sits inside such an element.
    Digits are masked: outside the region they are counters and clocks.
    """
    body = root.find("body")
    if body is None:
        return []
    skip_furniture = not is_furniture(region)
    out: list[str] = []
    stack = [body]
    while stack:
        el = stack.pop()
        if el is region or not isinstance(el.tag, str) or el.tag in _SKIP:
            continue
        if skip_furniture and marks_furniture(el):
            continue
        if el.tag in _INLINE:  # its prose is its block's: counted there, once
            stack.extend(reversed(el))
            continue
        text = canonical_line(_block_text(el))
        if len(_DIGITS.sub("", text).split()) >= MIN_PROSE_WORDS:
            out.append(_DIGITS.sub("#", text))
        stack.extend(reversed(el))
    return out


def digest(root: Any, region: Any, notices: list[str], facts: Facts | None = None) -> str:
    facts = facts if facts is not None else Facts(root)
    h = hashlib.sha256(f"region/{VERSION}".encode())
    # A line of the region that is also a link-only block elsewhere (a
    # headline repeated in a most-read list) is dropped from the article as a
    # promo: whether it still is depends on those links.
    flat, marked = region_texts(region)
    promos = sorted(t for t in facts.link_texts()[0] if t in flat)
    parts = (
        _ancestry(region),
        marked,
        *promos,
        *_prose_outside(root, region),
        *_heads(root),
        *notices,
        # Data tables and ledes are article text wherever they sit on the page.
        *(
            line
            for t in tables.data_tables(root)
            if not is_furniture(t)
            for line in tables.row_lines(t)
        ),
        *facts.ledes(),
    )
    for part in parts:
        # surrogatepass: a lone surrogate from a JSON-LD escape ("\ud800") is
        # digested, not raised on; any other text digests as before.
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


def _text_nodes(root: Any) -> list[tuple[Any, str]]:
    """(owning element, canonical text) of every visible text node of the body."""
    out: list[tuple[Any, str]] = []
    body = root.find("body")
    if body is None:
        return out
    for el in body.iter():
        if not isinstance(el.tag, str) or el.tag in _SKIP:
            continue
        if el.text and el.text.strip():
            out.append((el, canonical_line(el.text)))
        for child in el:
            if child.tail and child.tail.strip():
                out.append((el, canonical_line(child.tail)))
    return out


def locate(
    root: Any,
    paragraphs: list[str],
    notices: list[str],
    checked: Checked | None = None,
    facts: Facts | None = None,
) -> dict[str, Any] | None:
    """The region of a freshly extracted article in the page's tree (as
    parsed, not as extraction pruned it), or None if it cannot be pinned down.
    `checked`: this tree's failed region check, whose digest is reused when
    the article sits in the same element (an edit, or furniture in reach)."""
    if root is None or not paragraphs:
        return None
    # Table rows are in the digest whole, wherever their table is: the region
    # need not hold them (a row's text is nowhere on the page in one piece).
    rows = {canonical_line(line) for t in tables.data_tables(root) for line in tables.row_lines(t)}
    paragraphs = [p for p in paragraphs if p not in rows]
    if not paragraphs:
        return None
    nodes: list[Any] = []
    openings, taken = Openings(_text_nodes(root)), set()
    for p in paragraphs:
        words = p.split()
        for n in (6, 3):  # a long opening pins the paragraph; a short one survives inline markup
            if holders := openings.holders(opening := " ".join(words[:n])):
                break
        if not holders:
            return None  # a paragraph we cannot find: always extract this page fully
        if opening not in taken:  # every possible location, so the true one is inside
            taken.add(opening)
            nodes.extend(holders)
    region = common_ancestor(nodes)
    # The invariant the digest relies on: every extracted paragraph lies,
    # whole, inside the region (a paragraph can span several elements;
    # extractors and pages disagree on spaces between elements, hence the
    # comparison without whitespace).
    squeezed = ["".join(p.split()) for p in paragraphs]
    region = lowest_holding(
        region, lambda el: holds_all("".join(visible_text(el).split()), squeezed)
    )
    if region is None or region.tag in ("html", "body"):
        return None  # the whole page: nothing to gain
    path = root.getroottree().getpath(region)
    if checked is not None and checked.element is region and checked.notices == notices:
        return {"path": path, "digest": checked.digest, "v": VERSION}
    return {"path": path, "digest": digest(root, region, notices, facts), "v": VERSION}


@dataclass(frozen=True)
class Checked:
    """A region check's digest of one parsed tree: the element and notices it covered."""

    element: Any
    notices: list[str]
    digest: str


def check(
    root: Any, region: dict[str, Any], notices_of: Any, facts: Facts | None = None
) -> Checked | None:
    """The page's article region, digested in its parsed tree (None: the
    region is gone or of an older kind); equal to region["digest"] when unchanged."""
    if region.get("v") != VERSION or root is None:
        return None
    try:
        found = root.getroottree().xpath(region["path"])
    except etree.XPathError:
        return None
    if len(found) != 1:
        return None
    notices = notices_of(root)
    return Checked(found[0], notices, digest(root, found[0], notices, facts))


def unchanged(root: Any, region: dict[str, Any], notices_of: Any) -> bool:
    """True when the page's article region, in its parsed tree, still digests the same."""
    checked = check(root, region, notices_of)
    return checked is not None and checked.digest == region["digest"]
