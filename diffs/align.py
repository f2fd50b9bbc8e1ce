"""Align two versions sentence by sentence, as the NewsEdits research does.

Sentences are matched first by equal matching key (unchanged or cosmetic),
then by similarity (edited); what stays unmatched was added or deleted. A
matched sentence that sits out of order relative to the others (outside the
longest in-order chain of matches) moved. A paragraph whose sentences all
moved together is a moved paragraph, not a deletion plus an insertion.
"""

from __future__ import annotations

import bisect
from collections import defaultdict, deque
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from raqib.diffs.words import Op, word_diff
from raqib.normalize.arabic import compact, matching_key
from raqib.normalize.sentences import paragraphs, sentences

EDIT_THRESHOLD = 0.45  # similarity at or above which two sentences are one, edited
# Bounds on a stranger's page: sentence pairs compared (all of them for 200
# edited sentences against 200) and words in a pair read in order.
MAX_PAIRS = 40_000
MAX_WORD_PAIRS = 250_000
# Words read in order over one alignment (about 3 s): past it, pairs are judged
# by their word sets alone. 200 edited sentences of 30 words stay within it.
MAX_WORK = 30_000_000
# Repeats of one sentence paired by nearest place; past this many, in order.
MAX_REPEATS = 64


@dataclass(frozen=True)
class Sentence:
    index: int  # position in the version, counting every sentence
    para: int  # paragraph number (0-based)
    text: str  # canonical
    key: str  # compact matching key
    words: tuple[str, ...]  # words of the matching key


@dataclass
class Item:
    """One line of the alignment, in reading order of the new version."""

    label: str  # unchanged | cosmetic | edit | move | add | delete
    old: Sentence | None = None
    new: Sentence | None = None
    similarity: float = 1.0
    ops: list[Op] = field(default_factory=list)  # word diff for cosmetic/edit/move

    @property
    def sentence(self) -> Sentence:
        """The sentence this item shows: the new one, or the deleted old one."""
        s = self.new or self.old
        assert s is not None, "an alignment item always has a side"
        return s

    @property
    def edited(self) -> bool:
        return self.old is not None and self.new is not None and self.old.text != self.new.text


def split(text: str) -> list[Sentence]:
    out: list[Sentence] = []
    for p, para in enumerate(paragraphs(text)):
        for s in sentences(para):
            key = matching_key(s)
            out.append(Sentence(len(out), p, s, compact(key), tuple(key.split())))
    return out


def similarity(a: Sentence, b: Sentence, budget: list[int] | None = None) -> float:
    """How alike two sentences are; `budget` ([words left to read in order]),
    when given, is spent by SequenceMatcher and bounds it."""
    sa, sb = set(a.words), set(b.words)
    if not sa or not sb:
        return 0.0
    jaccard = len(sa & sb) / len(sa | sb)
    work = len(a.words) * len(b.words)
    if jaccard < 0.15 or work > MAX_WORD_PAIRS or (budget is not None and budget[0] < work):
        return jaccard  # SequenceMatcher is quadratic: not for run-on "sentences"
    if budget is not None:
        budget[0] -= work
    return SequenceMatcher(None, a.words, b.words, autojunk=False).ratio()


def _match(old: list[Sentence], new: list[Sentence]) -> dict[int, tuple[int, float]]:
    """new index → (old index, similarity)."""
    pairs: dict[int, tuple[int, float]] = {}
    unused: dict[str, deque[int]] = defaultdict(deque)
    for s in old:
        unused[s.key].append(s.index)
    used_old: set[int] = set()
    # 1. Equal keys: prefer the nearest position so repeated sentences pair in
    # order; a sentence repeated past MAX_REPEATS times pairs in order.
    for s in new:
        candidates = unused.get(s.key)
        if candidates:
            if len(candidates) <= MAX_REPEATS:
                best = min(candidates, key=lambda i: abs(i - s.index))
                candidates.remove(best)
            else:
                best = candidates.popleft()
            pairs[s.index] = (best, 1.0)
            used_old.add(best)
    # 2. Similar sentences among the rest, best pairs first (deterministic ties).
    rest_old = [s for s in old if s.index not in used_old]
    rest_new = [s for s in new if s.index not in pairs]
    # Every pair, up to MAX_PAIRS; past that (a page rewritten at length, or
    # made to be) each new sentence meets the old ones near its own place, so
    # the time stays linear: an edit that also moved far is then a deletion
    # and an addition. Unchanged sentences were paired above, wherever they went.
    everywhere = len(rest_new) * len(rest_old) <= MAX_PAIRS
    reach = MAX_PAIRS // (2 * len(rest_new) or 1)
    at = [o.index for o in rest_old]
    budget = [MAX_WORK]
    scored = []
    for n in rest_new:
        near = (
            rest_old
            if everywhere
            else rest_old[
                bisect.bisect_left(at, n.index - reach) : bisect.bisect_right(at, n.index + reach)
            ]
        )
        for o in near:
            sim = similarity(o, n, budget)
            if sim >= EDIT_THRESHOLD:
                scored.append((-sim, abs(o.index - n.index), o.index, n.index))
    scored.sort()
    for neg_sim, _dist, oi, ni in scored:
        if oi in used_old or ni in pairs:
            continue
        pairs[ni] = (oi, -neg_sim)
        used_old.add(oi)
    return pairs


def _in_order(pairs: dict[int, tuple[int, float]]) -> set[int]:
    """New indexes of the longest chain of matches kept in the same order."""
    seq = sorted((ni, oi) for ni, (oi, _s) in pairs.items())
    tails: list[int] = []
    tails_at: list[int] = []
    prev: dict[int, int | None] = {}
    for pos, (_ni, oi) in enumerate(seq):
        k = bisect.bisect_left(tails, oi)
        if k == len(tails):
            tails.append(oi)
            tails_at.append(pos)
        else:
            tails[k] = oi
            tails_at[k] = pos
        prev[pos] = tails_at[k - 1] if k > 0 else None
    keep: set[int] = set()
    at = tails_at[-1] if tails_at else None
    while at is not None:
        keep.add(seq[at][0])
        at = prev[at]
    return keep


def align(old_text: str, new_text: str) -> list[Item]:
    old, new = split(old_text), split(new_text)
    pairs = _match(old, new)
    anchored = _in_order(pairs)
    matched_old = {oi for oi, _s in pairs.values()}
    items: list[Item] = []
    next_old = 0  # deletions are emitted up to the old position of each anchor

    def flush_deletions(upto: int) -> None:
        nonlocal next_old
        while next_old < upto:
            if next_old not in matched_old:
                items.append(Item("delete", old=old[next_old]))
            next_old += 1

    for s in new:
        match = pairs.get(s.index)
        if match is None:
            items.append(Item("add", new=s))
            continue
        oi, sim = match
        o = old[oi]
        if s.index in anchored:
            flush_deletions(oi)
            next_old = max(next_old, oi + 1)
            if o.text == s.text:
                items.append(Item("unchanged", old=o, new=s))
            elif o.key == s.key:
                items.append(Item("cosmetic", old=o, new=s, ops=word_diff(o.text, s.text)))
            else:
                items.append(
                    Item(
                        "edit",
                        old=o,
                        new=s,
                        similarity=round(sim, 3),
                        ops=word_diff(o.text, s.text),
                    )
                )
        else:
            ops = word_diff(o.text, s.text) if o.text != s.text else []
            items.append(Item("move", old=o, new=s, similarity=round(sim, 3), ops=ops))
    flush_deletions(len(old))
    return items


def moved_paragraphs(items: list[Item]) -> dict[int, int]:
    """New paragraph → old paragraph, for paragraphs that moved as a whole."""
    by_para: dict[int, list[Item]] = defaultdict(list)
    for it in items:
        if it.new is not None:
            by_para[it.new.para].append(it)
    out: dict[int, int] = {}
    for para, its in by_para.items():
        if its and all(it.label == "move" for it in its):
            olds = {it.old.para for it in its if it.old is not None}
            if len(olds) == 1:
                out[para] = olds.pop()
    return out
