"""The region short-circuit never misses an edit.

`analyze(html, url, region)` may answer SAME without running the extractor.
The property checked here: whenever it does, full extraction of that page
gives the same content hash as the version the region was taken from. It is
checked on the benchmark's generated pages (four templates, furniture churn,
real edits) and on real news pages under seeded random mutations anywhere in
the page, plus targeted edits to the headline and the body.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from bench import pages as bench_pages
from raqib.extract.furniture import is_furniture
from raqib.extract.page import SAME, Page, analyze, make_page
from raqib.extract.parsing import parse
from raqib.extract.region import VERSION, unchanged
from raqib.extract.results import NotArticle
from raqib.normalize.arabic import canonical_line
from tests.conftest import realpage

URL = "https://news.example/article"
REALPAGES = sorted(
    p.stem for p in (Path(__file__).resolve().parents[2] / "shared" / "realpages").glob("*.html")
) or ["ar_cnnarabic"]  # skipped by realpage() when ../shared is missing


def first(html: str) -> Page:
    page = analyze(html, URL, None)
    assert isinstance(page, Page), page
    return page


def full_hash(html: str) -> str | None:
    page = make_page(html, URL)
    return None if isinstance(page, NotArticle) else page.snapshot.content_hash


def assert_never_misses(base: Page, html: str) -> bool:
    """The property; returns whether the short-circuit fired."""
    assert base.region is not None
    if analyze(html, URL, base.region) is SAME:
        assert full_hash(html) == base.snapshot.content_hash, "region said SAME, article changed"
        return True
    return False


# --- generated pages -----------------------------------------------------------------------------


@pytest.mark.parametrize("page", range(8))  # every template twice
def test_generated_churn_is_same_and_edits_are_seen(page: int) -> None:
    base = first(bench_pages.render(page, 0, 0, "http://b.example").decode())
    assert base.region is not None, "no region for a plain generated page"

    churned = bench_pages.render(page, 0, 1, "http://b.example").decode()
    fired = assert_never_misses(base, churned)
    # The table portal (template 2) carries its news ticker in a bare table
    # cell: prose outside the article that no markup tells from a paragraph
    # added to it, so that page is always extracted in full (slower, not wrong).
    if page % 4 != 2:
        assert fired, "furniture churn alone was not short-circuited"

    for edition in (1, 2):
        edited = bench_pages.render(page, edition, 1, "http://b.example").decode()
        result = analyze(edited, URL, base.region)
        assert isinstance(result, Page), f"edition {edition} was taken for unchanged"
        assert result.snapshot.content_hash != base.snapshot.content_hash


@pytest.mark.parametrize("page", [0, 1, 3])  # the templates whose churn passes the check
@pytest.mark.parametrize(
    ("name", "value"), [("style", "display:none"), ("aria-hidden", "true"), ("class", "comments")]
)
def test_a_paragraph_hidden_by_an_attribute_is_an_edit(page: int, name: str, value: str) -> None:
    """A site can drop a paragraph from what readers see without touching its
    text: the extractor drops it too, so the check must not vouch for the page."""
    html = bench_pages.render(page, 0, 1, "http://b.example").decode()
    base = first(bench_pages.render(page, 0, 0, "http://b.example").decode())
    assert base.region is not None and analyze(html, URL, base.region) is SAME
    for target in ("first paragraph", "the region's parent"):
        tree = lxml.html.document_fromstring(html)
        region = tree.getroottree().xpath(base.region["path"])[0]
        el = region.find(".//p") if target == "first paragraph" else region.getparent()
        el.set(name, value)
        hidden = lxml.html.tostring(tree, encoding="unicode")
        assert analyze(hidden, URL, base.region) is not SAME, f"{target}: {name}={value}"


def test_an_ad_slot_renumbered_every_fetch_inside_the_article_is_not_an_edit() -> None:
    def with_slot(churn: int, slot: str) -> str:
        html = bench_pages.render(0, 0, churn, "http://b.example").decode()
        return html.replace(
            '<div class="entry-content">', f'<div class="entry-content"><div id="{slot}"></div>', 1
        )

    base = first(with_slot(0, "div-gpt-ad-1700000001-0"))
    assert base.region is not None
    assert analyze(with_slot(1, "div-gpt-ad-1733300000-3"), URL, base.region) is SAME
    assert analyze(with_slot(1, "div-gpt-ad-hidden-0"), URL, base.region) is not SAME


def _counted_page(comments: int, views: int, clock: str, figure: int = 40) -> str:
    """A small page whose <article> holds counters that change on every fetch,
    beside a sidebar with the site's own "last updated" clock."""
    body = "".join(
        f"<p>{bench_pages.sentence(random.Random(i))} {bench_pages.sentence(random.Random(i + 50))}</p>"
        for i in range(6)
    )
    return f"""<html><head><title>عنوان الخبر</title></head><body>
<header class="site-header"><ul class="menu"><li><a href="/">الرئيسية</a></li></ul></header>
<main><article><header class="entry-header"><h1>عنوان الخبر</h1>
<div class="meta"><span class="byline">سلمى حداد</span> | <i class="icon"></i> <span class="meta-comments">
<a href="#comments">{comments} تعليقاً</a></span> | <span class="post-views">{views}</span></div>
</header><div class="entry-content"><p>وصل عدد المشاركين إلى {figure} مشاركاً في الجلسة الأولى
التي عقدت أمس في العاصمة بحضور ممثلين عن الحكومة والبرلمان والمجتمع المدني.</p>{body}</div>
</article></main>
<aside class="sidebar"><div class="widget"><p>آخر تحديث: {clock}</p><ul><li><a href="/a">خبر</a></li></ul></div></aside>
</body></html>"""


def test_counters_in_the_article_and_a_sidebar_clock_do_not_defeat_the_check() -> None:
    base = first(_counted_page(12, 1534, "08:00"))
    assert base.region is not None
    assert base.snapshot.notices == [], "the sidebar's clock is not the article's update notice"
    assert "تعليق" not in base.snapshot.text
    churned = _counted_page(13, 1601, "09:30")
    assert assert_never_misses(base, churned), "counters and the clock churned; the check must hold"
    edited = analyze(_counted_page(13, 1601, "09:30", figure=45), URL, base.region)
    assert isinstance(edited, Page) and edited.snapshot.content_hash != base.snapshot.content_hash


def test_a_region_from_another_version_or_layout_is_not_trusted() -> None:
    html = bench_pages.render(0, 0, 0, "http://b.example").decode()
    region = first(html).region
    root = parse(html)
    assert region is not None and unchanged(root, region, lambda root: [])
    assert not unchanged(root, {**region, "v": VERSION - 1}, lambda root: [])
    assert not unchanged(root, {**region, "path": "/html/body/div[99]"}, lambda root: [])
    assert not unchanged(root, {**region, "path": "//p"}, lambda root: [])  # not one element
    assert not unchanged(root, {**region, "path": "/html/[["}, lambda root: [])


# --- real pages ----------------------------------------------------------------------------------


def _texty(tree: Any, region_path: str) -> list[Any]:
    """Text-bearing elements outside reader comments, menus, tickers and
    sidebars: text added there is not an edit to the article (see region.py),
    unless the article itself sits in one (a page wrapped in a <form>)."""
    body = tree.find("body")
    wrapped = is_furniture(tree.getroottree().xpath(region_path)[0])
    return [
        el
        for el in body.iter()
        if isinstance(el.tag, str)
        and el.tag not in ("script", "style", "noscript")
        and ((el.text and el.text.strip()) or (el.tail and el.tail.strip()))
        and (wrapped or not is_furniture(el))
    ]


def _mutate(tree: Any, r: random.Random, region_path: str) -> str:
    """One random change somewhere in the page: the kind of edit a newsroom
    makes, or the kind of churn a page's furniture goes through."""
    el = r.choice(_texty(tree, region_path))
    kind = r.choice(["figure", "word", "sentence", "drop", "new_paragraph", "tail", "hide"])
    if kind == "figure":
        el.text = (el.text or "") + f" {r.randint(10, 99)}"
    elif kind == "word":
        words = (el.text or "").split() or ["نص"]
        words[r.randrange(len(words))] = "مختلفة"
        el.text = " ".join(words)
    elif kind == "sentence":
        el.text = (el.text or "") + " وأضاف المسؤول أن المحادثات ستستأنف الأسبوع المقبل في بغداد."
    elif kind == "drop" and el.getparent() is not None and el.tag not in ("body", "html"):
        el.drop_tree()
    elif kind == "new_paragraph" and el.getparent() is not None and el.tag not in ("body", "html"):
        el.addnext(
            lxml.html.fragment_fromstring(
                "<p>وقال مصدر حكومي إن الجولة المقبلة من المحادثات ستبحث جدولا زمنيا"
                " لانسحاب قوات التحالف الدولي من القواعد العسكرية في العراق خلال العام المقبل.</p>"
            )
        )
    elif kind == "hide":  # the text stays; an attribute tells the reader not to show it
        name, value = r.choice(
            [("style", "display:none"), ("aria-hidden", "true"), ("class", "comments"),
             ("role", "navigation"), ("id", "share-bar")]
        )  # fmt: skip
        el.set(name, value)
    else:
        el.tail = (el.tail or "") + " تحديث"
    return kind


def real_base(name: str) -> tuple[str, Page]:
    """A saved real page (re-serialised, as the mutations will be) and its first analysis."""
    source = realpage(f"{name}.html")
    html = lxml.html.tostring(lxml.html.document_fromstring(source), encoding="unicode")
    base = analyze(html, URL, None)
    if not isinstance(base, Page):
        pytest.skip(f"{name}: not an article to the extractor")
    if base.region is None:
        pytest.skip(f"{name}: no region (always fully extracted, nothing to check)")
    return html, base


@pytest.mark.parametrize("name", REALPAGES)
def test_real_page_random_mutations_never_missed(name: str) -> None:
    html, base = real_base(name)
    assert base.region is not None
    assert analyze(html, URL, base.region) is SAME, "the unchanged page itself"

    r = random.Random(name + os.environ.get("RAQIB_MUTATION_SEED", ""))
    for _ in range(int(os.environ.get("RAQIB_MUTATIONS", "10"))):
        tree = lxml.html.document_fromstring(html)
        _mutate(tree, r, base.region["path"])
        assert_never_misses(base, lxml.html.tostring(tree, encoding="unicode"))


@pytest.mark.parametrize("page", range(6))  # each of the three templates twice
def test_peers_pages_churn_is_skipped_and_mutations_never_missed(page: int) -> None:
    """The peers' corpus (bench/small_pages.py): counters inside the article,
    a sidebar clock, most-read lists and tickers churn on every round; the
    check must skip extraction on every unchanged page and still never miss
    an edit made anywhere else."""
    from bench import small_pages

    base = first(small_pages.render(page, 0, 0, "http://p.example").decode())
    assert base.region is not None
    for rnd in (1, 2, 3):
        churned = small_pages.render(page, 0, rnd, "http://p.example").decode()
        assert assert_never_misses(base, churned), f"round {rnd}: churn alone was not skipped"
    edited = analyze(small_pages.render(page, 1, 1, "http://p.example").decode(), URL, base.region)
    assert isinstance(edited, Page) and edited.snapshot.content_hash != base.snapshot.content_hash
    html = lxml.html.tostring(
        lxml.html.document_fromstring(small_pages.render(page, 0, 1, "http://p.example")),
        encoding="unicode",
    )
    r = random.Random(f"peers{page}" + os.environ.get("RAQIB_MUTATION_SEED", ""))
    for _ in range(int(os.environ.get("RAQIB_MUTATIONS", "10"))):
        tree = lxml.html.document_fromstring(html)
        _mutate(tree, r, base.region["path"])
        assert_never_misses(base, lxml.html.tostring(tree, encoding="unicode"))


def _holder(tree: Any, paragraph: str) -> Any:
    probe = " ".join(paragraph.split()[:6])
    for el in tree.iter():
        if isinstance(el.tag, str) and el.text and probe in canonical_line(el.text):
            return el
    return None


@pytest.mark.parametrize("name", REALPAGES)
def test_real_page_body_and_headline_edits_are_seen(name: str) -> None:
    html, base = real_base(name)

    paragraphs = base.snapshot.text.split("\n")
    tree = lxml.html.document_fromstring(html)
    el = next((h for p in reversed(paragraphs) if (h := _holder(tree, p)) is not None), None)
    assert el is not None, "no body paragraph sits in a text node"
    el.text = el.text.replace(el.text.split()[-1], "٩٩٩", 1)
    edited = lxml.html.tostring(tree, encoding="unicode")
    assert full_hash(edited) != base.snapshot.content_hash
    assert analyze(edited, URL, base.region) is not SAME, "a body edit was short-circuited"

    tree = lxml.html.document_fromstring(html)
    for t in tree.iter("title", "h1"):
        t.text = (t.text or "") + " (محدث)"
    for m in tree.iter("meta"):
        if "title" in (m.get("property") or m.get("name") or ""):
            m.set("content", (m.get("content") or "") + " (محدث)")
    retitled = lxml.html.tostring(tree, encoding="unicode")
    assert analyze(retitled, URL, base.region) is not SAME, "a headline edit was short-circuited"


def test_prose_in_deeply_nested_inline_elements_counts_once() -> None:
    """Prose outside the article inside 250 nested <span> was kept, joined
    and copied once per level: a megabyte of it took the region check 35 s
    and 313 MB. Its prose is its block's, counted there once, and an edit
    deep inside still changes the digest."""
    from raqib.extract.region import _prose_outside, digest

    def page(word: str) -> str:
        nested = "<span>" * 250 + f"{word} " * 40 + "كلمة أخيرة" + "</span>" * 250
        body = "<p>" + "نص المقال " * 30 + "</p>"
        return f"<html><body><article>{body}</article><div>{nested}</div></body></html>"

    trees = [parse(page(w)) for w in ("كلمة", "كلمة", "عبارة")]
    regions = [t.find(".//article") for t in trees]
    prose = _prose_outside(trees[0], regions[0])
    assert len(prose) == 1 and prose[0].count("كلمة") == 41
    digests = [digest(t, r, []) for t, r in zip(trees, regions, strict=True)]
    assert digests[0] == digests[1] != digests[2]
