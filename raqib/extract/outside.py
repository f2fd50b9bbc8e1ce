"""Prose outside the article region, and which of it churns without effect.

A new paragraph anywhere the extractor might reach for it would be an edit,
so the region digest holds every prose-like block outside the region (bar
reader comments, menus, tickers and sidebars, which markup names). A page
whose furniture no markup names, such as a news ticker in a bare table
cell of an old portal, then fails the check on every fetch.

Such a block is learnt instead: when a failed check was followed by a full
extraction that came out exactly as before, every outside block whose text
changed (or appeared) at the same place did not matter to the extractor. From then on
that block counts by its place alone, while its text stays within twice
the longest text seen there without effect; a longer text, a new block or
a block gone fails the check, and the extraction that follows decides
again. This is learnt from the extractor's own behaviour on this page,
not assumed: the first churn of such a page is always extracted in full.
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
SLACK = 2  # a learnt block's text may grow to this many times the longest seen
_SKIP = {"script", "style", "noscript", "template", "svg"}
_DIGITS = re.compile(r"[\d٠-٩۰-۹]+")
_INLINE = {
    "span", "b", "i", "strong", "em", "font", "u", "small", "big", "sub", "sup", "mark",
    "abbr", "time", "q", "cite", "br", "bdi", "bdo", "ins", "del", "s",
}  # fmt: skip


@dataclass(frozen=True)
class Block:
    """One prose-like block outside the region: its own text with digits
    masked (outside the region digits are counters and clocks), in words."""

    element: Any
    text: str
    words: int


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
        if el is region or not isinstance(el.tag, str) or el.tag in _SKIP:
            continue
        if skip_furniture and marks_furniture(el):
            continue
        text = canonical_line(_block_text(el))
        words = len(_DIGITS.sub("", text).split())
        if words >= MIN_PROSE_WORDS:
            out.append(Block(el, _DIGITS.sub("#", text), words))
        stack.extend(reversed(el))
    return out


def resolve(root: Any, paths: Any) -> dict[str, Any]:
    """{path: element} of the learnt places that still hold one element."""
    tree = root.getroottree()
    out = {}
    for path in paths:
        try:
            found = tree.xpath(path)
        except etree.XPathError:  # not a path this module wrote
            continue
        if len(found) == 1:
            out[path] = found[0]
    return out


def digest_parts(root: Any, blocks: list[Block], volatile: dict[str, int]) -> list[str]:
    """What the outside blocks put in the region digest: a learnt place its
    presence (its text too when it outgrew its bound), any other block its text."""
    if not volatile:
        return [b.text for b in blocks]
    places = resolve(root, volatile)
    bounds = {id(el): SLACK * volatile[path] for path, el in places.items()}
    out = [b.text for b in blocks if b.words > bounds.get(id(b.element), -1)]
    out.extend(f"learnt:{path}:{path in places}" for path in sorted(volatile))
    return out


def fingerprints(root: Any, blocks: list[Block]) -> dict[str, list[Any]]:
    """{path: [text fingerprint, words]} of the blocks, kept with the region
    so that the next full extraction can tell which of them changed."""
    tree = root.getroottree()
    return {
        tree.getpath(b.element): [hashlib.sha256(b.text.encode()).hexdigest()[:16], b.words]
        for b in blocks[:MAX_KEPT]
    }


def learn(
    previous: dict[str, Any],
    now: dict[str, list[Any]],
    extraction_same: bool,
    places: dict[str, Any],
) -> dict[str, int]:
    """The region's learnt blocks after a full extraction of the same layout.

    `previous` is the region the failed check used; `now` the fingerprints
    of this fetch; `places` the learnt places that still hold an element.
    What was learnt stays while its place holds an element (its text may
    have shrunk below a block's); when the extraction came out exactly as
    before, each block whose text changed at its place, or that is new
    there, is learnt with the longest text seen. A block that did not
    change is not: it passes the check as it is.
    """
    before = previous.get("outside") or {}
    volatile = {p: w for p, w in (previous.get("volatile") or {}).items() if p in places}
    if extraction_same:
        for path, (fingerprint, words) in now.items():
            old = before.get(path)
            if old is None or old[0] != fingerprint:
                volatile[path] = max(volatile.get(path, 0), old[1] if old else 0, words)
    return dict(list(volatile.items())[:MAX_KEPT])
