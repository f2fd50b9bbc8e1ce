"""Response text → Article, or NotArticle with a reason.

The only module that imports trafilatura. Its options are explicit: no
comments, no layout tables, no deduplication cache (the cache makes the output
of a page depend on the pages seen before it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml
import trafilatura
from trafilatura.settings import use_config
from trafilatura.utils import load_html

from crawler import pagemeta

# Bumped whenever Raqib's own handling around trafilatura changes output.
PROFILE = 3
EXTRACTOR = (
    f"trafilatura {trafilatura.__version__}; lxml {lxml.__version__}; raqib-extract {PROFILE}"
)

MAX_TREE_SIZE = 200_000  # elements; a 5 MB inline script is one element, a table bomb is not
MIN_WORDS = 25

# trafilatura's settings, explicit rather than whatever its settings.cfg says.
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_SIZE))
_CONFIG.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")  # signals do not work in worker threads
_CONFIG.set("DEFAULT", "EXTENSIVE_DATE_SEARCH", "off")
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
# UTF-8 read as Latin-1/cp1252 (Ø§Ù„) or as windows-1256 (ط§ظ„): the letters of "ال".
_MOJIBAKE = re.compile(r"Ø[§£¨ª]|Ù[„…]|Ã[©¨]|ط§ظ„|ظ„ط|ط¨ط|ظٹ")

_READ_ALSO = re.compile(
    r"^\s*(?:اقرأ|إقرأ|اقرا|طالع|شاهد|تابع|اطلع)\s+(?:أيضا|أيضاً|أيضًا|ايضا|ايضاً|المزيد)"
    r"|^\s*للمزيد\b|^\s*(?:read|see)\s+(?:also|more)\b|^\s*also\s+read\b|^\s*related\s*:",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Article:
    title: str
    byline: str | None
    published: str | None
    modified: str | None
    paragraphs: tuple[str, ...]
    notices: tuple[str, ...] = ()
    canonical_url: str | None = None
    amp_url: str | None = None
    language: str | None = None
    links: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class NotArticle:
    reason: str


def extract(html: str, url: str | None = None) -> Article | NotArticle:
    """Extract the article of one decoded HTML page."""
    if not html or not html.strip():
        return NotArticle("empty body")
    if html.count("\ufffd") > max(20, len(html) // 500):
        return NotArticle("mojibake: undecodable bytes")
    tree = load_html(html)
    if tree is None:
        return NotArticle("unparseable HTML")
    meta = pagemeta.read(tree)  # before trafilatura, which prunes the tree
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=False,
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_formatting=False,
        include_links=False,
        deduplicate=False,
        with_metadata=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
        config=_CONFIG,
    )
    if doc is None or not (doc.text or "").strip():
        return NotArticle("no article text found")
    paragraphs = [
        line.strip()
        for line in doc.text.split("\n")
        if line.strip() and not _is_promo(line.strip(), meta.link_only_blocks)
    ]
    text = " ".join(paragraphs)
    title = (doc.title or meta.headline or "").strip()
    verdict = _not_article_reason(title, text)
    if verdict:
        return NotArticle(verdict)
    return Article(
        title=title,
        byline=meta.byline or (doc.author or None),
        published=meta.published or (doc.date or None),
        modified=meta.modified,
        paragraphs=tuple(paragraphs),
        notices=tuple(meta.notices),
        canonical_url=meta.canonical_url,
        amp_url=meta.amp_url,
        language=meta.language or (doc.language or None),
    )


def _is_promo(paragraph: str, link_only: set[str]) -> bool:
    """An in-body "read also" promo: a cue word, or nothing but a link."""
    if _READ_ALSO.match(paragraph) and len(paragraph) < 300:
        return True
    return " ".join(paragraph.split()) in link_only


def _not_article_reason(title: str, text: str) -> str | None:
    words = len(text.split())
    sample = f"{title}\n{text[:2000]}"
    if _MOJIBAKE.search(sample) and len(_MOJIBAKE.findall(text)) > 3:
        return "mojibake: text decoded with the wrong charset"
    if words < 120 and _BOT_CHECK.search(sample):
        return "bot check or challenge page"
    if words < 80 and _SOFT_404.search(sample):
        return "soft 404: an error page served with 200"
    if words < MIN_WORDS:
        return f"too little text ({words} words)"
    return None
