"""Prose outside the article region, and which of it churns without effect.

A new paragraph anywhere the extractor might reach for it would be an edit,
so the region digest holds every prose-like block outside the region (bar
reader comments, menus, tickers and sidebars, which markup names). A page
whose furniture no markup names, such as a news ticker in a bare table
cell of an old portal, then fails the check on every fetch.

Such a block can be learnt. After a failed check whose full extraction came
out exactly as before, a block outside the region is learnt when
- the same places held the same outside blocks in both fetches (nothing
  shifted, appeared or went), and this block's text changed at its place
  to a text that was not elsewhere before (not a block that moved);
- it lies away from the article: outside the element that holds the
  article (an <article>, a <main>, an element whose class or id says
  article, post, story, content…), or, where no such element is marked,
  not beside it (sharing only the region's parent or grandparent). The
  extractor reads those by their content (a "read also" line is dropped
  today, a paragraph written there tomorrow is not): never learnt.

From then on the block counts by its place alone, while its text stays
within twice the longest seen there without effect, in words and in
characters. A longer text, or its place no longer holding one element,
fails the check, and the full extraction that follows decides again. This
rests on what the extractor did with this page, not on a proof; the first
churn of such a page is always extracted in full.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from raqib.extract.furniture import is_furniture, marks_furniture
from raqib.normalize.arabic import canonical_line

MIN_PROSE_WORDS = 15
MAX_KEPT = 64  # blocks remembered per region: bounds what a strange page can store
MAX_PATH = 1000
SLACK = 2  # a learnt block's text may grow to this many times the longest seen
SKIP = {"script", "style", "noscript", "template", "svg"}
_DIGITS = re.compile(r"[\d٠-٩۰-۹]+")
_INLINE = {
    "span", "b", "i", "strong", "em", "font", "u", "small", "big", "sub", "sup", "mark",
    "abbr", "time", "q", "cite", "br", "bdi", "bdo", "ins", "del", "s",
}  # fmt: skip
# What marks the element holding the article, as extractors look for it.
_HOLDER_TAGS = {"article", "main"}
_HOLDER_MARK = re.compile(r"article|entry|post|story|content|news|text|body|main|detail", re.I)


@dataclass(frozen=True)
class Block:
    """One prose-like block outside the region: its own text with digits
    masked (outside the region digits are counters and clocks), its length
    in words (digits aside) and in characters."""

    element: Any
    text: str
    words: int

    @property
    def chars(self) -> int:
        return len(self.text)


def _block_text(el: Any) -> str:
    """An element's own prose: its text and that of its inline children,
    without link text and without nested blocks (they count on their own)."""
    parts = [el.text or ""] if el.tag != "a" else []
    for child in el:
        if isinstance(child.tag, str) and child.tag in _INLINE:
            parts.append(_block_text(child))
        parts.append(child.tail or "")
    return " ".join(parts)


def prose_outside(root: Any, region: Any) -> list[Block]:
    """Prose-like blocks anywhere outside the region, in document order.

    Reader comments, menus, sidebars and footers are left out (they churn on
    every fetch), unless the article itself sits inside such an element.
    """
    body = root.find("body")
    if body is None:
        return []
    skip_furniture = not is_furniture(region)
    out: list[Block] = []
    stack = [body]
    while stack:
        el = stack.pop()
        if el is region or not isinstance(el.tag, str) or el.tag in SKIP:
            continue
        if skip_furniture and marks_furniture(el):
            continue
        text = canonical_line(_block_text(el))
        words = len(_DIGITS.sub("", text).split())
        if words >= MIN_PROSE_WORDS:
            out.append(Block(el, _DIGITS.sub("#", text), words))
        stack.extend(reversed(el))
    return out


# --- what a region stores ---------------------------------------------------------------------


def _ints(value: Any, n: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == n
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
    )


def _path(key: Any) -> bool:
    return isinstance(key, str) and key.startswith("/") and len(key) <= MAX_PATH


def learnt(region: dict[str, Any]) -> dict[str, list[int]]:
    """The region's learnt blocks, {path: [words, chars] longest seen}; a
    malformed store is as good as none (the check then fails, and the full
    extraction writes a sound region)."""
    stored = region.get("volatile")
    if not isinstance(stored, dict):
        return {}
    return {p: v for p, v in stored.items() if _path(p) and _ints(v, 2)}


def _fingerprints_of(region: dict[str, Any]) -> dict[str, list[Any]]:
    stored = region.get("blocks")
    if not isinstance(stored, dict):
        return {}
    return {
        p: v
        for p, v in stored.items()
        if _path(p) and isinstance(v, list) and len(v) == 3 and isinstance(v[0], str)
        and _ints(v[1:], 2)
    }  # fmt: skip


def resolve(root: Any, paths: Any) -> dict[str, Any]:
    """{path: element} of the learnt places that still hold one element."""
    tree = root.getroottree()
    out = {}
    for path in paths:
        try:
            found = tree.xpath(path)
        except etree.XPathError:  # not a path this module wrote
            continue
        if isinstance(found, list) and len(found) == 1 and isinstance(found[0], etree._Element):
            out[path] = found[0]
    return out


def digest_parts(root: Any, blocks: list[Block], volatile: dict[str, list[int]]) -> list[str]:
    """What the outside blocks put in the region digest: a learnt place its
    presence (its text too when it outgrew its bound), any other block its text."""
    if not volatile:
        return [b.text for b in blocks]
    places = resolve(root, volatile)
    bounds = {id(el): volatile[path] for path, el in places.items()}
    out = []
    for b in blocks:
        bound = bounds.get(id(b.element))
        if bound is None or b.words > SLACK * bound[0] or b.chars > SLACK * bound[1]:
            out.append(b.text)
    out.extend(f"learnt:{path}:{path in places}" for path in sorted(volatile))
    return out


def fingerprints(root: Any, blocks: list[Block]) -> dict[str, list[Any]]:
    """{path: [text fingerprint, words, chars]} of the blocks, kept with the
    region so that the next full extraction can tell which of them changed."""
    tree = root.getroottree()
    return {
        tree.getpath(b.element): [
            hashlib.sha256(b.text.encode()).hexdigest()[:16], b.words, b.chars,
        ]
        for b in blocks[:MAX_KEPT]
    }  # fmt: skip


def _holder(region: Any) -> Any:
    """The outermost marked element holding the article (the region or an
    ancestor, below <body>), or None."""
    found = None
    for el in (region, *region.iterancestors()):
        if el.tag in ("body", "html"):
            break
        if el.tag in _HOLDER_TAGS or _HOLDER_MARK.search(
            f"{el.get('class', '')} {el.get('id', '')}"
        ):
            found = el
    return found


def away(root: Any, blocks: list[Block], region: Any) -> set[str]:
    """Paths of the blocks that lie away from the article (see the module):
    outside the element marked as holding it, and not beside it."""
    holder = _holder(region)
    line = list(region.iterancestors())
    beside = {id(a) for a in line[:2]}
    above = {id(a) for a in line}
    tree = root.getroottree()
    out = set()
    for b in blocks:
        ancestors = list(b.element.iterancestors())
        if id(b.element) in above:
            continue  # the article's own container: its prose is next to the article's
        if holder is not None and (b.element is holder or any(a is holder for a in ancestors)):
            continue
        common = next((a for a in ancestors if id(a) in above), None)
        if common is not None and id(common) not in beside:
            out.add(tree.getpath(b.element))
    return out


def learn(
    previous: dict[str, Any],
    now: dict[str, list[Any]],
    extraction_same: bool,
    alive: set[str],
    away_paths: set[str],
) -> dict[str, list[int]]:
    """The region's learnt blocks after a full extraction of the same layout.

    `previous` is the region the failed check used; `now` the fingerprints
    of this fetch; `alive` the learnt places that still hold an element;
    `away_paths` the blocks away from the article. What was learnt stays
    while its place holds an element (its text may have shrunk below a
    block's); new blocks are learnt as the module says.
    """
    before = _fingerprints_of(previous)
    volatile = {p: v for p, v in learnt(previous).items() if p in alive}
    same_places = set(before) - set(volatile) == set(now) - set(volatile)
    if extraction_same and same_places:
        texts_before = {v[0] for v in before.values()}
        for path, (fingerprint, words, chars) in now.items():
            old = before.get(path)  # none for a learnt place that was short before
            if old is None or old[0] == fingerprint or fingerprint in texts_before:
                continue
            if path not in away_paths:
                continue
            seen = volatile.get(path, [0, 0])
            volatile[path] = [max(seen[0], old[1], words), max(seen[1], old[2], chars)]
    return dict(list(volatile.items())[:MAX_KEPT])
