"""Where an article's paragraphs sit in the page (raqib/extract/anchors.py):
each shortcut finds exactly what the plain search it replaced found."""

from __future__ import annotations

import random

import lxml.html

from raqib.extract import anchors
from raqib.extract import region as regions
from raqib.extract.anchors import Openings, common_ancestor, holds_all, lowest_holding

WORDS = "في من على خطة الحكومة أعلنت اليوم جديدة بغداد".split()


def _page(r: random.Random) -> lxml.html.HtmlElement:
    """A random tree of nested blocks whose texts and tails share words."""

    def text() -> str:
        return " ".join(r.choice(WORDS) for _ in range(r.randint(1, 9)))

    def block(depth: int) -> str:
        inner = "".join(
            block(depth + 1) if depth < 4 and r.random() < 0.5 else f"<span>{text()}</span>{text()}"
            for _ in range(r.randint(1, 4))
        )
        return f"<div>{text()}{inner}</div>{text()}"

    return lxml.html.fromstring(f"<html><body>{block(0)}</body></html>")


def test_openings_are_found_where_a_search_node_by_node_finds_them() -> None:
    """Searched across the joined text, or looked up by a word once enough
    were searched, an opening's holders are the plain search's, in order."""
    r = random.Random(20261206)
    for _ in range(60):
        root = _page(r)
        texts = [(el, t) for el in root.iter() for t in (el.text, el.tail) if t and t.strip()]
        texts = [(el if t == el.text else el.getparent(), t) for el, t in texts]
        openings = Openings(texts)
        for i in range(2 * anchors.INDEXED_AFTER + 50):  # past INDEXED_AFTER: by a word
            opening = " ".join(r.choice(WORDS) for _ in range(r.randint(1, 6)))
            expected = [el for el, t in texts if opening in t]
            assert openings.holders(opening) == expected, (i, opening)


def test_the_common_ancestor_is_the_deepest_element_holding_every_node() -> None:
    r = random.Random(7)
    for _ in range(200):
        root = _page(r)
        elements = list(root.iter())
        nodes = [r.choice(elements) for _ in range(r.randint(1, 12))]
        chains = [[n, *n.iterancestors()] for n in nodes]
        deepest = next(a for a in chains[0] if all(a in c for c in chains[1:]))
        assert common_ancestor(nodes) is deepest


def test_the_lowest_holding_ancestor_is_the_one_a_climb_level_by_level_finds() -> None:
    """As the region's widening asks: the first of an element and its
    ancestors whose text holds some words, found in a few tests of a deep
    chain, where a climb tested every level."""
    r = random.Random(11)
    for _ in range(300):
        root = _page(r)
        start = r.choice(list(root.iter()))
        wanted = [r.choice(WORDS) for _ in range(r.randint(1, 3))]

        def holds(el: lxml.html.HtmlElement, wanted: list[str] = wanted) -> bool:
            return holds_all(regions.visible_text(el), wanted)

        climb = next((a for a in [start, *start.iterancestors()] if holds(a)), None)
        assert lowest_holding(start, holds) is climb
    for depth in (10, 250, 1_000):
        deepest = lxml.html.Element("div")  # built, not parsed: past libxml2's nesting limit
        for _ in range(depth - 1):
            deepest = lxml.html.etree.SubElement(deepest, "div")
        chain = [deepest, *deepest.iterancestors()]  # kept: lxml's proxies keep their identity
        for level in (0, 1, depth // 3, depth - 1):
            tested = []

            def at_or_above(el: lxml.html.HtmlElement, level: int = level, tested=tested) -> bool:
                tested.append(el)
                return chain.index(el) >= level  # noqa: B023 (called before the next level)

            assert chain.index(lowest_holding(deepest, at_or_above)) == level
            assert len(tested) <= 2 * depth.bit_length() + 1, (depth, level, len(tested))
        assert lowest_holding(deepest, lambda el: False) is None


def test_every_part_is_found_in_order_or_anywhere() -> None:
    r = random.Random(3)
    for _ in range(2_000):
        inside = "".join(r.choice("abc") for _ in range(r.randint(0, 30)))
        parts = ["".join(r.choice("abc") for _ in range(r.randint(1, 4))) for _ in range(5)]
        assert holds_all(inside, parts) == all(p in inside for p in parts)


def test_a_search_past_its_budget_pins_nothing_down() -> None:
    """Openings of one or two words cannot be looked up by a word: past
    SCAN_BUDGET characters searched, the page is not pinned down (and is
    extracted in full on every fetch) rather than searched on."""
    texts = [(None, f"كلمة {i}") for i in range(1_000)]
    openings = Openings(texts)  # type: ignore[arg-type]
    searches = anchors.SCAN_BUDGET // len(openings.joined)
    for i in range(searches):
        assert openings.holders(f"كلمة {i}") is not None
    assert openings.holders("كلمة 5") is not None  # searched before: remembered
    assert openings.holders("كلمة 999999") is None


def test_looked_up_openings_count_against_the_budget_too(monkeypatch) -> None:
    """Openings whose inner words are in every paragraph (a dated archive's
    entries) are looked up in every node: that reading counts against the
    budget, and past it the page is not pinned down."""
    monkeypatch.setattr(anchors, "INDEXED_AFTER", 0)
    texts = [(i, f"#{i:04d} أعلنت وزارة الصحة تسجيل {i}") for i in range(500)]
    openings = Openings(texts)
    cost = len(texts) * (len(openings.joined) // len(texts) + 200)
    monkeypatch.setattr(anchors, "SCAN_BUDGET", 10 * cost)
    for i in range(10):
        assert openings.holders(f"#{i:04d} أعلنت وزارة الصحة") == [i]
    assert openings.holders("#0011 أعلنت وزارة الصحة") is None
    assert Openings([]).holders("أعلنت") == []  # a page with no text holds no opening
