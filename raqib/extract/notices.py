"""Visible lines that announce an update or a correction of the article.

Read by pagemeta for a full extraction, and on their own by the region check
(extract.region), whose digest holds them: a notice added or reworded is a
change to look at even when the article's text is not.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from raqib.extract.furniture import beside_the_article
from raqib.normalize.arabic import canonical_line

MAX_NOTICE_CHARS = 300

# Visible lines that announce an update or a correction.
_NOTICE = re.compile(
    r"^\s*(?:آخر\s+تحديث|اخر\s+تحديث|تم\s+التحديث|تحديث|محدث|تصحيح|توضيح|تنويه|استدراك|ملاحظة\s+المحرر"
    r"|last\s+updated|updated|update|correction|corrected|clarification|editor'?s\s+note)\b\s*[:：\-–—]?",
    re.IGNORECASE,
)

# The elements a notice (or a link-only line, pagemeta.link_texts) is read from.
BLOCK_TAGS = {
    "p",
    "li",
    "div",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "aside",
    "blockquote",
    "span",
    "strong",
    "em",
    "b",
}


def notices(root: Any) -> list[str]:
    """Short visible lines that start like an update or correction notice."""
    found: list[str] = []
    body = root.find("body")
    if body is None:
        return found
    for el in body.iter(*BLOCK_TAGS):  # (script and style hold no elements)
        head = (el.text or "").strip()
        if not head and len(el):
            head = (el[0].text or "").strip()
        m = _NOTICE.match(head) if head else None
        if not m or beside_the_article(el):
            continue
        text = _text(el)
        if not 0 < len(text) <= MAX_NOTICE_CHARS or text in found:
            continue
        # "تحديث" also opens ordinary sentences ("تحديث الأسطول..."): a notice
        # has a separator after the keyword or carries a date or time.
        if m.group().rstrip()[-1:] in ":：-–—" or any(ch.isdigit() for ch in text):
            found.append(text)
    # Nested elements repeat the same notice; keep the shortest of each family.
    return [t for t in found if not any(o != t and t.startswith(o) for o in found)]


def _text(el: Any) -> str:
    return canonical_line(etree.tostring(el, method="text", encoding="unicode", with_tail=False))
