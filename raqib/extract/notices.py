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

# Marks and tatweel, dropped before the keywords are read: "صُحّح" is "صحح".
_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")
_OPEN = r"^\s*[(\[«\"“*]?\s*"  # "(تم تحديث هذا الخبر)", "* صحح هذا الخبر"

# A keyword opening an update or correction notice. Each also opens ordinary
# sentences ("تحديث المصافي سيكلف 3 مليارات", "تصحيح المسار يتطلب..."), so the
# line is a notice when a separator follows the keyword or it carries a date
# or a time.
_NOTICE = re.compile(
    _OPEN + r"(?:آخر\s+تحديث|اخر\s+تحديث|تم\s+التحديث|تحديث|محدث|تصحيح|توضيح|تنويه|استدراك"
    r"|ملاحظة\s+المحرر|last\s+updated|updated|update|correction|corrected|clarification"
    r"|editor'?s\s+note)\b\s*[:：\-–—]?",
    re.IGNORECASE,
)
# A line that opens like a correction or an update and names the article
# itself is a notice as it stands: "صُحّح هذا الخبر لتعديل...", "ملاحظة: تم
# تصحيح الرقم الوارد في نسخة سابقة", "This story has been corrected".
_OPENER = re.compile(
    _OPEN + r"(?:تم\s+(?:ال)?(?:تحديث|تصحيح|تعديل)|صحح|صححت|عدل|عدلت|حدث|حدثت|ملاحظة|تنبيه"
    r"|تنويه|توضيح|تصحيح|تحديث|note"
    r"|this\s+(?:article|story|report)\s+(?:has\s+been|was|is)\s+(?:updated|corrected|amended))\b",
    re.IGNORECASE,
)
# ...and says what changed: "ملاحظة: هذا التقرير يعتمد على بيانات الوزارة" is a
# note on the article, not an announcement of an edit.
_CHANGED = re.compile(
    r"\b(?:تصحيح|صحح|صححت|تحديث|حدث|حدثت|تعديل|عدل|عدلت|خطأ|corrected|updated|amended"
    r"|misstated|error)",
    re.IGNORECASE,
)
_ITSELF = re.compile(
    r"(?:هذا|هذه)\s+(?:الخبر|المقال|المقالة|التقرير|المادة|النص|القصة)|(?:ال)?نسخة\s+(?:ال)?سابقة"
    r"|this\s+(?:article|story|report)|(?:an\s+)?(?:earlier|previous)\s+version",
    re.IGNORECASE,
)
_MONTH = (
    r"يناير|فبراير|مارس|أبريل|ابريل|إبريل|مايو|يونيو|يونيه|يوليو|يوليه|أغسطس|اغسطس|سبتمبر"
    r"|أكتوبر|اكتوبر|نوفمبر|ديسمبر|كانون\s+الثاني|شباط|آذار|اذار|نيسان|أيار|ايار|حزيران|تموز"
    r"|آب|أيلول|ايلول|تشرين\s+الأول|تشرين\s+الثاني|كانون\s+الأول|جانفي|فيفري|أفريل|جوان|جويلية"
    r"|أوت|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
# A date or a time: 10:30, 26/01/2024, 2024-01-26, 26 يناير, January 26.
_WHEN = re.compile(
    rf"\d{{1,2}}\s*:\s*\d{{2}}|\d{{1,4}}\s*[/.\-]\s*\d{{1,2}}\s*[/.\-]\s*\d{{1,4}}"
    rf"|\d{{1,2}}\s+(?:{_MONTH})\b|\b(?:{_MONTH})\s+\d{{1,2}}\b",
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
        head = _MARKS.sub("", head)
        m = _NOTICE.match(head) if head else None
        opener = _OPENER.match(head) if head else None
        if not (m or opener) or beside_the_article(el):
            continue
        text = _text(el)
        if not 0 < len(text) <= MAX_NOTICE_CHARS or text in found:
            continue
        plain = _MARKS.sub("", text)
        if (
            (opener and _ITSELF.search(plain) and _CHANGED.search(plain))
            or (m and m.group().rstrip()[-1:] in ":：-–—")
            or (m and _WHEN.search(text))
        ):
            found.append(text)
    # Nested elements repeat the same notice; keep the shortest of each family.
    return [t for t in found if not any(o != t and t.startswith(o) for o in found)]


def _text(el: Any) -> str:
    return canonical_line(etree.tostring(el, method="text", encoding="unicode", with_tail=False))
