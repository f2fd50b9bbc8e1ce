"""Where an extracted article's paragraphs sit in the parsed page: the text
nodes holding each paragraph's opening, and the element holding them all
(extract.region.locate). Each holder is kept once, and the element holding
them is narrowed one holder at a time: a live blog of 2,000 entries that open
alike made 4,000,000 holders, each walked to the root (11 s of a page's
analysis; 0.8 MB of 4,000 distinct paragraphs took 3.5 s).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

# Openings searched for across the page before the page's words are indexed
# (30 ms a megabyte), and each opening of three words or more is looked up by
# a word instead: 16,000 paragraphs (3.3 MB) searched for took 14 s.
INDEXED_AFTER = 200
# Characters searched in all, at most (about a second): past it the article
# is not pinned down, and is extracted in full on every fetch. Openings of one
# or two words cannot be looked up (40,000 such paragraphs took 13 s), nor
# quickly those whose inner words are in every paragraph (a dated archive:
# 38,000 entries took 146 s). Looked-up nodes count too.
SCAN_BUDGET = 2_000_000_000


class Openings:
    """The text nodes of a page, searched as one string: a paragraph's
    opening is found in C across the page, not node by node in Python."""

    def __init__(self, texts: list[tuple[Any, str]]) -> None:
        self.owners = [el for el, _text in texts]
        self.texts = [text for _el, text in texts]
        self.starts: list[int] = []
        at = 0
        for text in self.texts:
            self.starts.append(at)
            at += len(text) + 1
        # '\x00' is in no parsed text (the page is cleaned of it first), so an
        # opening never runs from one node into the next.
        self.joined = "\x00".join(self.texts)
        self.found: dict[str, list[Any]] = {}  # openings alike are searched once
        self.words: dict[str, list[int]] | None = None  # word -> the nodes that hold it
        self.searches = 0
        self.scanned = 0

    def holders(self, opening: str) -> list[Any] | None:
        """The owner of each text node holding `opening`, in page order (an
        element once per text or tail of its own that holds it); None past
        SCAN_BUDGET."""
        if (known := self.found.get(opening)) is not None:
            return known
        if not self.starts:
            return []
        inner = opening.split(" ")[1:-1]  # whole words of any text that holds the opening
        if inner and self.searches >= INDEXED_AFTER:
            nodes = min((self._words().get(w, []) for w in inner), key=len)
            # Each looked-up node read in Python: a node's mean text, and the
            # loop's own cost, as characters of the budget.
            cost = len(nodes) * (len(self.joined) // len(self.starts) + 200)
            if self.scanned + cost > SCAN_BUDGET:
                return None
            self.scanned += cost
            out = [self.owners[k] for k in nodes if opening in self.texts[k]]
            self.found[opening] = out
            return out
        if self.scanned + len(self.joined) > SCAN_BUDGET:
            return None
        self.searches, self.scanned = self.searches + 1, self.scanned + len(self.joined)
        out = []
        i = self.joined.find(opening)
        while i >= 0:
            k = bisect.bisect_right(self.starts, i) - 1
            out.append(self.owners[k])
            i = self.joined.find(opening, self.starts[k + 1]) if k + 1 < len(self.starts) else -1
        self.found[opening] = out
        return out

    def _words(self) -> dict[str, list[int]]:
        if self.words is None:
            self.words = {}
            for k, text in enumerate(self.texts):
                for word in set(text.split(" ")):
                    self.words.setdefault(word, []).append(k)
        return self.words


def common_ancestor(nodes: list[Any]) -> Any:
    """The deepest element that is or holds every one of `nodes` (the first's
    root when none is: another tree's)."""
    chain = [nodes[0], *nodes[0].iterancestors()]
    at, seen = 0, {id(nodes[0])}
    for node in nodes[1:]:
        if id(node) in seen:
            continue
        seen.add(id(node))
        line = {id(node), *map(id, node.iterancestors())}
        while at < len(chain) - 1 and id(chain[at]) not in line:
            at += 1
    return chain[at]


def lowest_holding(start: Any, holds: Callable[[Any], bool]) -> Any:
    """The first of `start` and its ancestors that `holds` (None when neither
    `start` nor the root does). An ancestor's text holds its descendants', so
    the levels are searched by doubling, then halving: each test walks a
    level's subtree, and testing one level after another cost the page's size
    times its depth (an opening at the bottom of 250 nested elements in 8 MB:
    80 s). Where that does not hold (`start` inside a skipped element), a
    level above the lowest, or None, may be found; never one that does not
    hold."""
    chain = [start, *start.iterancestors()]
    known: dict[int, bool] = {}

    def test(i: int) -> bool:
        if i not in known:
            known[i] = holds(chain[i])
        return known[i]

    if test(0):
        return start
    below, step = 0, 1  # `below` never holds
    while not test(above := min(below + step, len(chain) - 1)):
        if above == len(chain) - 1:
            return None
        below, step = above, step * 2
    while above - below > 1:
        middle = (below + above) // 2
        below, above = (below, middle) if test(middle) else (middle, above)
    return chain[above]


def holds_all(inside: str, parts: list[str]) -> bool:
    """Whether every one of `parts` is in `inside`: each looked for after the
    one before first (an article's paragraphs come in order), then anywhere."""
    at = 0
    for part in parts:
        found = inside.find(part, at)
        if found < 0 and (found := inside.find(part)) < 0:
            return False
        at = found + len(part)
    return True
