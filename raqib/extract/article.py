"""Response text → Article, or NotArticle with a reason.

The only module that imports trafilatura (its parse is in extract.parsing,
which does not). Its options are explicit: no comments, no layout tables, no
deduplication cache (the cache makes the output of a page depend on the pages
seen before it).
"""

from __future__ import annotations

import re
from typing import Any

import trafilatura
from trafilatura.settings import Document, use_config

from raqib.extract import blocks, pagemeta, tables
from raqib.extract.facts import Facts
from raqib.extract.furniture import COUNTER, counters
from raqib.extract.parsing import MAX_TREE_SIZE, fit, oversize, read
from raqib.extract.results import BOT_CHECK, REMOVED_NOTICE, Article, NotArticle
from raqib.normalize.arabic import ZWNJ_STANDIN, compact_key

MIN_WORDS = 25

# trafilatura's settings, explicit rather than whatever its settings.cfg says.
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_SIZE))
_CONFIG.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")  # signals do not work in worker threads
_CONFIG.set("DEFAULT", "EXTENSIVE_DATE_SEARCH", "off")
# Not lowered to keep a two-paragraph story's paragraphs (below it, trafilatura
# takes the container's text, headline glued on): three times it is also where
# trafilatura stops collecting <div> paragraphs, and at 100 real articles that
# mix <p> and <div> lost their <div> part (a review's run, 2026-12-05).
_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", "250")
_CONFIG.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")


_BOT_CHECK = re.compile(
    r"captcha|just a moment|checking your browser|attention required|are you a robot|not a robot"
    r"|verify you are human|ddos protection|access denied|request unsuccessful|enable javascript and cookies"
    r"|لست روبوت|التحقق من أنك|تحقق من أنك إنسان|يرجى تفعيل جافا ?سكري?بت",
    re.IGNORECASE,
)
_SOFT_404 = re.compile(
    r"\b404\b|page not found|not found|no longer available|الصفحة غير موجودة|الصفحة المطلوبة غير موجودة"
    r"|لم يتم العثور على الصفحة|الصفحة التي تبحث عنها|عذرا،? الصفحة",
    re.IGNORECASE,
)
# An article whose first line says it was taken down, in the page's own template.
_REMOVED = re.compile(
    r"(?:عذرا[،,]?\s*)?(?:لقد\s+)?(?:تم|جرى)\s+(?:حذف|إزالة|ازالة|سحب)\s+(?:هذا|هذه)\s+"
    r"(?:الخبر|المقال|المقالة|الموضوع|المادة|الصفحة)"
    r"|(?:this|the)\s+(?:article|story|page)\s+(?:has\s+been|was)\s+"
    r"(?:removed|deleted|withdrawn|taken\s+down)",
    re.IGNORECASE,
)
# UTF-8 read as Latin-1/cp1252 (Ø§Ù„) or as windows-1256 (ط§ظ„): the letters of "ال".
_MOJIBAKE = re.compile(r"Ø[§£¨ª]|Ù[„…]|Ã[©¨]|ط§ظ„|ظ„ط|ط¨ط|ظٹ")

# Comment-policy and site boilerplate that trails some articles (CNN Arabic's
# comment rules, newsletter prompts, copyright lines). Only stripped from the end.
_TAIL_BOILERPLATE = re.compile(
    r"الآراء الواردة|لا تعبر عن رأي|ترحب شبكة|إرشادات الاستخدام|سياسة الخصوصية|شروط الاستخدام"
    r"|جميع الحقوق محفوظة|اشترك في (?:نشرتنا|النشرة)|تابعونا على|حمّل تطبيق|انتهای پیام"
    r"|comment policy|terms of (?:use|service)|privacy policy|all rights reserved|sign up for our newsletter",
    re.IGNORECASE,
)

# trafilatura deletes every non-printable character, ZWNJ included — harmless
# for Arabic, wrong for Persian and Urdu (می‌کنند ≠ میکنند): see ZWNJ_STANDIN.
# ZWNJ written as a character reference. One scan of the page: three substring
# searches and a lowered copy of the page cost a first fetch 0.38 ms a page.
_ZWNJ_REFERENCE = re.compile("&(?:zwnj|#8204|#[xX]200[cC]);")


_READ_ALSO = pagemeta.READ_ALSO


def extract(
    html: str, url: str | None = None, tree: Any = None, facts: Facts | None = None
) -> Article | NotArticle:
    """Extract the article of one decoded HTML page; `tree` is its parse, if
    the caller has one to give up (extraction prunes it), read (`read`)
    and fitted (`fit`, `oversize`) as page.analyze does, and `facts` what is
    known of that parse before any change (the tree is a copy of facts.root)."""
    if not html or not html.strip():
        return NotArticle("empty body")
    if html.count("\ufffd") > max(20, len(html) // 500):
        return NotArticle("mojibake: undecodable bytes")
    if tree is None:
        tree, why = read(html)
        facts = None  # they describe a parse the caller had
        if tree is None:
            return NotArticle(why or "unparseable HTML")
        if why := oversize(fit(tree)[0]):  # an inline map or icon sprite is not its size
            return NotArticle(why)
    if "\N{ZERO WIDTH NON-JOINER}" in html or _ZWNJ_REFERENCE.search(html):
        _disguise_zwnj(tree)
        facts = None  # the tree is no longer the one facts describe
    if facts is None:
        facts = Facts(tree)
    meta = pagemeta.read(tree, facts.link_texts())  # before trafilatura, which prunes the tree
    ledes = [_restore(x) for x in facts.ledes()]
    for counter in counters(tree):  # the region check leaves the same ones out
        counter.drop_tree()
    _unwrap_layout_tables(tree)
    _free_loose_text(tree)
    n_tables = tables.rows_to_paragraphs(tree, meta.furniture)  # data tables are article text
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        # fast: trafilatura's own algorithm without the justext/readability
        # fallbacks. Measured on the saved real pages, the fallback comparison
        # flips between candidates when unrelated links change (a version out
        # of nothing); without it the output is stable and about twice as fast.
        fast=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_formatting=False,
        include_links=False,
        deduplicate=False,
        # Metadata (title, byline, dates) comes from pagemeta: read once, from
        # the same tree, and predictable — trafilatura's took a third of the
        # time and split "بغداد - سلمى الكبيسي" into a byline of "بغداد".
        with_metadata=False,
        config=_CONFIG,
    )
    if not isinstance(doc, Document) or not (doc.text or "").strip():
        return NotArticle("no article text found")
    title = _restore(meta.title()).strip()
    found = [line.strip() for line in (doc.text or "").split("\n") if line.strip()]
    unglued = None
    if len(found) == 1 and len(found[0]) <= blocks.MAX_GLUED:
        unglued = _unglued(found[0], html, title, meta.link_only_blocks)
    body = unglued or _strip_tail_boilerplate(
        [_restore(line) for line in found if not _is_promo(line, meta.link_only_blocks)]
    )
    paragraphs = _with_ledes(ledes, _without_headline(body, title))
    text = " ".join(paragraphs)
    # Judged as the glued text was (its headline's words counted): a story
    # an older profile kept stays an article.
    if paragraphs and len(paragraphs[0]) <= 150 and _REMOVED.match(paragraphs[0]):
        return NotArticle(f"{REMOVED_NOTICE}: {paragraphs[0]}")  # the rest: the template's
    verdict = _not_article_reason(title, f"{title} {text}" if unglued else text)
    if verdict:
        return NotArticle(verdict)
    return Article(
        title=title,
        byline=_restore(meta.author() or "") or None,
        published=meta.published,
        modified=meta.modified,
        paragraphs=tuple(paragraphs),
        notices=tuple(_restore(n) for n in meta.notices),
        canonical_url=meta.canonical_url,
        amp_url=meta.amp_url,
        language=meta.language,
        lede=tuple(ledes),
        tables=n_tables,
        kind=meta.kind(),
        unglued=bool(unglued),
    )


def _unglued(line: str, html: str, title: str, link_only: set[str]) -> list[str] | None:
    """A short story's paragraphs, when trafilatura glued them behind its
    headline (extract/blocks.py) and the split leaves out nothing but the
    headline: the filters below drop nothing more from them than from the
    glued line, so an older profile's version differs only by the headline."""
    glued, head = compact_key(_restore(line)), compact_key(title)
    if not head or len(glued) <= len(head) or not glued.startswith(head):
        return None
    split = blocks.split(_restore(line), html)
    if split is None:
        return None
    kept = [_restore(x) for x in map(_disguise, split) if not _is_promo(x, link_only)]
    body = _without_headline(_strip_tail_boilerplate(kept), title)
    return body if compact_key(" ".join(body)) == glued[len(head) :] else None


def _disguise_zwnj(tree: Any) -> None:
    """Swap ZWNJ (written raw or as &zwnj;) for its stand-in in every text node."""
    zwnj = "\N{ZERO WIDTH NON-JOINER}"
    for el in tree.iter():
        if el.text and zwnj in el.text:
            el.text = el.text.replace(zwnj, ZWNJ_STANDIN)
        if el.tail and zwnj in el.tail:
            el.tail = el.tail.replace(zwnj, ZWNJ_STANDIN)


def _without_headline(paragraphs: list[str], title: str) -> list[str]:
    """The body without in-body repeats of the headline, compared by matching key
    (a repeat that gained diacritics is still the headline)."""
    key = compact_key(title)
    if not key:
        return paragraphs
    # The key drops marks and punctuation, never half a line: only a paragraph
    # of about the headline's length can be it (and keys cost 10% of a pass).
    near = range(len(title) // 2, 2 * len(title) + 20)
    return [p for p in paragraphs if len(p) not in near or compact_key(p) != key]


def _with_ledes(ledes: list[str], body: list[str]) -> list[str]:
    """The lede lines the extractor left out, ahead of the body."""
    if not ledes:
        return body
    keys = [compact_key(p) for p in body]
    missing = [x for x in ledes if not any(compact_key(x) in k for k in keys)]
    return [*missing, *body]


def _disguise(text: str) -> str:
    return text.replace("\N{ZERO WIDTH NON-JOINER}", ZWNJ_STANDIN)


def _restore(text: str) -> str:
    return text.replace(ZWNJ_STANDIN, "\N{ZERO WIDTH NON-JOINER}")


def _free_loose_text(tree: Any) -> None:
    """Text written loose after a block with no text (a photo's <div>): trafilatura
    drops the block and that text with it (aryanews's lede, after its photo). The
    block goes first; its text stays where it was, its parent's."""
    loose = [el for el in tree.iter("div", "figure", "picture") if el.tail and el.tail.strip()]
    for el in loose:
        if el.getparent() is not None and not el.text_content().strip():
            el.drop_tree()


def _unwrap_layout_tables(tree: Any) -> None:
    """Turn layout tables into divs so trafilatura reads their cells as blocks.

    Excluding tables (as Raqib does) would otherwise leave a whole-page table
    layout with no article, and trafilatura would fall back to the full page
    text, clocks and counters included.
    """
    layout = [t for t in tree.iter("table") if tables.is_layout(t)]
    # Find each table's own rows and cells before renaming anything: the
    # nearest table ancestor decides, and a nested data table keeps its cells.
    parts = []
    for table in layout:
        parts.append(table)
        for el in table.iter("thead", "tbody", "tfoot", "tr", "td", "th", "caption"):
            if next(el.iterancestors("table"), None) is table:
                parts.append(el)
    cells = [el for el in parts if el.tag in ("td", "th")]
    for el in parts:
        el.tag = "div"
        for attr in (
            "width",
            "height",
            "valign",
            "align",
            "colspan",
            "rowspan",
            "border",
            "cellpadding",
            "cellspacing",
        ):
            el.attrib.pop(attr, None)
    # The cell holding most of the page's prose is the article: say so, the
    # way a modern page would, so trafilatura looks there first.
    if cells:
        prose = {id(c): _prose_length(c) for c in cells}
        most = max(prose.values())
        if most > 200:
            # The innermost cell still holding nearly all of it, not its wrappers.
            near = [c for c in cells if prose[id(c)] >= 0.8 * most]
            max(near, key=lambda c: sum(1 for _ in c.iterancestors())).tag = "article"


def _prose_length(el: Any) -> int:
    """Characters of text not inside links, the measure of a block's prose."""
    total = len(el.text_content() or "")
    links = sum(len(a.text_content() or "") for a in el.iter("a"))
    return total - links


def _strip_tail_boilerplate(paragraphs: list[str]) -> list[str]:
    """Drop comment-policy, newsletter and copyright lines from the end."""
    end = len(paragraphs)
    while (
        end > 0 and len(paragraphs[end - 1]) < 400 and _TAIL_BOILERPLATE.search(paragraphs[end - 1])
    ):
        end -= 1
    return paragraphs[:end]


def _is_promo(paragraph: str, link_only: set[str]) -> bool:
    """Not prose: an in-body "read also" promo (a cue word, or nothing but a
    link), or a bare counter of views, reads or comments."""
    if len(paragraph) < 300 and _READ_ALSO.match(paragraph):
        return True
    if len(paragraph) < 60 and COUNTER.match(paragraph):
        return True
    return " ".join(paragraph.split()) in link_only


def _not_article_reason(title: str, text: str) -> str | None:
    words = len(text.split())
    sample = f"{title}\n{text[:2000]}"
    if _MOJIBAKE.search(sample) and len(_MOJIBAKE.findall(text)) > 3:
        return "mojibake: text decoded with the wrong charset"
    if words < 120 and _BOT_CHECK.search(sample):
        return BOT_CHECK
    if words < 80 and _SOFT_404.search(sample):
        return "soft 404: an error page served with 200"
    if words < MIN_WORDS:
        return f"too little text ({words} words)"
    return None
