"""Where the article sits in its page, and whether it still says the same.

Most refetches find the article unchanged while the page around it churns
(clocks, counters, most-read lists, ads): full extraction of such a page is
waste. After each full extraction Raqib remembers a *region*: the path of the
smallest element holding every extracted paragraph, and a digest of

- the visible text of that element;
- the prose-like blocks next to it (a new paragraph added beside the body);
- every place a headline or byline can come from (<title>, h1, title and
  author <meta>, JSON-LD headline and author, author/byline elements);
- the update and correction notices.

On the next fetch the same digest is computed from a cheap parse. Equal
digests mean the extracted article cannot have changed: every extracted
paragraph lies inside the region (each paragraph's every possible location
was included when the region was chosen), and every source of the title and
byline is in the digest. Anything else — a different digest, a path that no
longer resolves — falls back to full extraction. The region check can cost a
needless extraction, never a missed edit (tests/test_region.py checks that
property on generated and real pages).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from lxml import etree
from trafilatura.utils import load_html

from crawler.extract import COUNTER
from crawler.pagemeta import is_furniture
from normalize.arabic import canonical_line

VERSION = 2
_SKIP = {"script", "style", "noscript", "template", "svg"}
_AUTHORISH = re.compile(r"author|byline|writer|creator|kutt|kateb", re.I)
_TITLE_META = re.compile(r"title|headline|author|creator|byline", re.I)
MIN_PROSE_WORDS = 15


_COUNTERISH = re.compile(r"view|count|hits|reads?\b|stat|share|comments-?count", re.I)


def _is_counter(el: Any) -> bool:
    """A view/read/comment counter element: marked as one, and nothing but a count.

    Both conditions, so that a figure inside an article sentence is never
    mistaken for one (its element is not marked as a counter).
    """
    marks = f"{el.get('class', '')} {el.get('id', '')}"
    if not _COUNTERISH.search(marks):
        return False
    return bool(COUNTER.match(" ".join(el.text_content().split())))


def _collect(el: Any, out: list[str], skip_counters: bool) -> None:
    if el.text:
        out.append(el.text)
    for child in el:
        if (
            isinstance(child.tag, str)
            and child.tag not in _SKIP
            and not (skip_counters and _is_counter(child))
        ):
            _collect(child, out, skip_counters)
        if child.tail:
            out.append(child.tail)


def visible_text(el: Any, *, skip_counters: bool = False) -> str:
    """The element's text as a reader sees it (scripts and styles left out;
    view and comment counters too when asked: they are never article text)."""
    out: list[str] = []
    _collect(el, out, skip_counters)
    return canonical_line("".join(out))


_AUTHOR_XPATH = (
    "//*[contains(translate(@class,'AUTHORBYLINEWRITE','authorbylinewrite'),'author')"
    " or contains(translate(@class,'AUTHORBYLINEWRITE','authorbylinewrite'),'byline')"
    " or contains(translate(@class,'AUTHORBYLINEWRITE','authorbylinewrite'),'writer')"
    " or contains(@id,'author') or contains(@id,'byline') or contains(@itemprop,'author')"
    " or contains(@rel,'author') or contains(@class,'kateb')]"
)


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
                    for key in ("headline", "name", "author", "creator"):
                        if key in obj:
                            out.append(
                                f"ld:{key}:{json.dumps(obj[key], ensure_ascii=False, sort_keys=True)}"
                            )
    for h in root.iter("h1"):
        out.append("h1:" + visible_text(h))
    for el in root.xpath(_AUTHOR_XPATH):
        if el.tag not in _SKIP and not is_furniture(el):  # a commenter's name is not the byline
            out.append("author:" + visible_text(el))
    return out


_DIGITS = re.compile(r"[\d٠-٩۰-۹]+")


def _neighbours(region: Any) -> list[str]:
    """Prose-like blocks beside the region: a paragraph added next to the body.

    Digits are left out: a neighbour is not article text (that is all inside
    the region), and counters beside the body change on every fetch.
    """
    out: list[str] = []
    parent = region.getparent()
    if parent is None:
        return out
    for sib in parent:
        if sib is region or not isinstance(sib.tag, str) or sib.tag in _SKIP or is_furniture(sib):
            continue  # reader comments, menus and sidebars are not the article
        text = visible_text(sib)
        links = " ".join(" ".join(a.text_content().split()) for a in sib.iter("a"))
        if len(text.split()) - len(links.split()) >= MIN_PROSE_WORDS:
            out.append(_DIGITS.sub("#", text))
    return out


def digest(root: Any, region: Any, notices: list[str]) -> str:
    h = hashlib.sha256(f"region/{VERSION}".encode())
    parts = (
        visible_text(region, skip_counters=True),
        *_neighbours(region),
        *_heads(root),
        *notices,
    )
    for part in parts:
        h.update(part.encode("utf-8"))
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


def _common_ancestor(nodes: list[Any]) -> Any:
    chains = [[n, *n.iterancestors()] for n in nodes]
    first = chains[0]
    others = [set(map(id, c)) for c in chains[1:]]
    for candidate in first:
        if all(id(candidate) in o for o in others):
            return candidate
    return first[-1]


def locate(html: str, paragraphs: list[str], notices: list[str]) -> dict[str, Any] | None:
    """The region of a freshly extracted article, or None if it cannot be pinned down."""
    root = load_html(html)
    if root is None or not paragraphs:
        return None
    nodes: list[Any] = []
    texts = _text_nodes(root)
    for p in paragraphs:
        words = p.split()
        holders: list[Any] = []
        for n in (6, 3):  # a long opening pins the paragraph; a short one survives inline markup
            probe = " ".join(words[:n])
            holders = [el for el, text in texts if probe in text]
            if holders:
                break
        if not holders:
            return None  # a paragraph we cannot find: always extract this page fully
        nodes.extend(holders)  # every possible location, so the true one is inside
    region = _common_ancestor(nodes)
    # The invariant the digest relies on: every extracted paragraph lies,
    # whole, inside the region (a paragraph can span several elements;
    # extractors and pages disagree on spaces between elements, hence the
    # comparison without whitespace).
    squeezed = ["".join(p.split()) for p in paragraphs]
    while True:
        inside = "".join(visible_text(region).split())
        if all(p in inside for p in squeezed):
            break
        parent = region.getparent()
        if parent is None:
            return None
        region = parent
    if region.tag in ("html", "body"):
        return None  # the whole page: nothing to gain
    path = root.getroottree().getpath(region)
    return {"path": path, "digest": digest(root, region, notices), "v": VERSION}


def unchanged(html: str, region: dict[str, Any], notices_of: Any) -> bool:
    """True when the page's article region still digests the same."""
    if region.get("v") != VERSION:
        return False
    root = load_html(html)
    if root is None:
        return False
    try:
        found = root.getroottree().xpath(region["path"])
    except etree.XPathError:
        return False
    if len(found) != 1:
        return False
    return bool(digest(root, found[0], notices_of(root)) == region["digest"])
