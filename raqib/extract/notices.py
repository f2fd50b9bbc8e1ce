"""Visible lines that announce an update or a correction of the article.

Read by pagemeta for a full extraction, and on their own by the region check
(extract.region), whose digest holds them: a notice added or reworded is a
change to look at even when the article's text is not.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from lxml import etree

from raqib.extract.furniture import beside_the_article
from raqib.normalize.arabic import ZWNJ, ZWNJ_STANDIN, canonical_line
from raqib.normalize.stamps import STAMP as _STAMP
from raqib.normalize.stamps import stamp_in

MAX_NOTICE_CHARS = 300
HEAD_CHARS = 80  # of a line's start: enough for "(تم تحديث هذا الخبر)"

# Marks and tatweel, dropped before the keywords are read: "صُحّح" is "صحح".
_MARK_CLASS = "[\u064b-\u065f\u0670\u0640]"
_MARKS = re.compile(_MARK_CLASS)
_OPEN = r"^\s*[(\[«\"“*]?\s*"  # "(تم تحديث هذا الخبر)", "* صحح هذا الخبر"
# A half-space: ZWNJ, its stand-in through extraction (article.py), or a space.
_HALF = f"[{ZWNJ}{ZWNJ_STANDIN} ]"
_UPDATE_FA = rf"(?:به?{_HALF}?)?روز{_HALF}?رسان[یي]"  # به‌روزرسانی, بروزرسانی

# Every way a notice can open, in one match per line, marks allowed between
# the letters: most lines fail it at their first letter, before their marks are
# dropped and the rules below are tried.
_MARK = _MARK_CLASS + "*"
_FIRST_WORDS = (
    "آخر", "اخر", "تم", "تحديث", "محدث", "تصحيح", "توضيح", "تنويه", "تنبيه", "استدراك",
    "ملاحظة", "صحح", "عدل", "جرى", "تصويب", "اصلاحیه", "تعديل", "التحديث", "نعتذر", "نأسف",
    "اعتذار", f"به{ZWNJ}روز", f"به{ZWNJ_STANDIN}روز", "به روز", "بروز", "بهروز", "ویرایش", "ويرايش",
    "توضیح", "تصحیح", "اصلاح", "تکمیلی", "تكميلي", "خبر تکمیلی", "خبر تكميلي", "یادداشت",
    "ياداشت", "این خبر", "اين خبر", "last", "update", "correct",
    "clarification", "editor", "note", "this",
)  # fmt: skip
_OPENS = re.compile(
    _OPEN + _MARK + "(?:" + "|".join(_MARK.join(w) for w in _FIRST_WORDS) + ")", re.IGNORECASE
)

# A keyword opening an update or correction notice (and its number: "تحديث 2:").
# Each also opens ordinary sentences ("تحديث المصافي سيكلف 3 مليارات", "تصحيح
# المسار يتطلب..."), so the line is a notice when a separator follows the
# keyword or a date or a time does ("تحديث 10:30"; in "تحديث المنظومة بدأ في
# 15 مارس" the date is the sentence's); an editor's note is one as it stands.
_KEYWORD = (
    r"(?:آخر\s+تحديث|اخر\s+تحديث|تم\s+التحديث|تحديث|محدث|تصحيح|تصويب|توضيح|تنويه"
    r"|استدراك|ملاحظة\s+المحرر|last\s+updated|updated|update|correction|corrected"
    r"|clarification|editor'?s\s+note)\b"
)
_SEPARATOR = r"[:：\-–—|]"  # "تحديث | 19:10 | ..." too
# The keyword, its number, a closing quote before a separator ("«تحديث»: ..."), the separator.
_NOTICE = re.compile(
    _OPEN + _KEYWORD + rf"(?:\s*[(\[]?\d{{1,2}}[)\]]?(?=\s*{_SEPARATOR}))?"
    rf"(?:\s*[»”\"](?=\s*{_SEPARATOR}))?\s*{_SEPARATOR}?",
    re.IGNORECASE,
)
# Words that open sentences as often as notices (تعديل: an amendment, a reshuffle;
# "التحديث الأخير في 10 مايو أضاف..."): a label only before a colon.
_COLON_ONLY = re.compile(
    _OPEN + r"(?:(?:آخر|اخر)\s+تعديل|تعديل|اعتذار\s+وتصحيح"
    r"|التحديث\s+(?:الأول|الاول|الثاني|الثالث|الرابع|الخامس|الأخير|الاخير))"
    r"(?:\s*[(\[]?\d{1,2}[)\]]?)?\s*[:：]"  # a dash opens prose: "التحديث الأخير - الذي…"
)
# Persian's labels, before a colon only (اصلاحیه is as often a law's amendment:
# "اصلاحیه - قانون ..."), with two words after it or more, and no date or time: a
# line that holds one is a stamp ("به‌روزرسانی: ۲۹ بهمن ۱۴۰۲ ساعت ۳ بعد از ظهر"),
# which is_stamp does not read in Persian, and a stamp that moved with no edit
# would announce the next one. A notice with a time in it is missed: the lesser error.
_PERSIAN_LABEL = re.compile(
    _OPEN + rf"(?:{_UPDATE_FA}|خبر\s+تک[یي]?م[یي]ل[یي]|خبر\s+تكميلي)"
    r"(?:\s*[(\[]?\d{1,2}[)\]]?)?\s*[:：]"
)
# A correction's labels (اصلاحیه is as often a law's amendment, تصحیح a book's
# edition) with an error or an earlier version named after them.
_PERSIAN_CORRECTION = re.compile(_OPEN + r"(?:اصلاح[یي]ه|تصح[یي]ح)\s*[:：]")
# Notes (an editor's credit, "ویرایش: سید محمد حسینی"; a disclaimer, "توضیح: مطالب
# این ستون..."; an editorial's label, "یادداشت سردبیر"): a correction only when
# they name an earlier version of this article and an error, each a word of its own.
_PERSIAN_NOTE = re.compile(
    _OPEN + r"(?:(?:توض[یي]ح|[یي]اد{1,2}اشت)\s+سردب[یي]ر|و[یي]را[یي]ش|توض[یي]ح)\s*[:：]"
)
# An earlier version of this article ("در نسخه قبلی این خبر"), not of a law or a program.
_PERSIAN_EARLIER = re.compile(
    r"نسخه\s*(?:[یي]\s*)?(?:قبل[یي]|پ[یي]ش[یي]ن|اول[یي]ه|سابق)\s+(?:ا[یي]ن|هم[یي]ن)\s+"
    r"(?:خبر|گزارش|مطلب)"
)
_ALONE = f"[\\w{ZWNJ}{ZWNJ_STANDIN}]"  # not inside a word (اصلاح‌طلبان: reformists)
# An error, a word of its own (not اصلاح, "reform", nor تصحیح, "grading"; not "بدون خطا").
_PERSIAN_ERROR = re.compile(
    rf"(?<!{_ALONE})(?<!بدون )(?:اشتباه(?:ا|اً)?|خطا(?:[یي])?|نادرست)(?!\w|[{ZWNJ}{ZWNJ_STANDIN}]\w)"
)
_FA_WORD = re.compile(r"[^\W\d_]{2,}")
_PERSIAN_LETTERS = re.compile("[پچژگک]")  # no Arabic word has them (ک is not ك)
# What a stamp's line holds: a time, a date, a month (Iranian, Afghan after a day,
# Gregorian, lunar), a weekday, a relative time, a news code, a reading time; each
# a word of its own (شب is no شبکه, می no verb's prefix: ZWNJ is kept, and is no letter).
_FA_DATED = re.compile(
    r"\d\s*[:/]\s*\d|gmt|utc|\d\s*(?:حمل|ثور|جوزا|سرطان|اسد|سنبله|م[یي]زان|عقرب|قوس|جد[یي]|دلو|حوت)"
    r"(?!\w)|(?<!\w)(?:ساعت|شنبه|[یي]کشنبه|دوشنبه|سه\s?شنبه|چهارشنبه|پنجشنبه|جمعه|فرورد[یي]ن"
    r"|ارد[یي]بهشت|خرداد|ت[یي]ر|مرداد|شهر[یي]ور|مهر|آبان|آذر|د[یي]|بهمن|اسفند|ژانو[یي]ه|فور[یي]ه"
    r"|مارس|مارچ|آور[یي]ل|اپر[یي]ل|م[یي]|مه|ژوئن|جون|ژوئ[یي]ه|جولا[یي]|اوت|آگوست|اگست|سپتامبر"
    r"|سپتمبر|اکتبر|اکتوبر|نوامبر|نومبر|دسامبر|دسمبر|جنوری|فبروری|قمر[یي]|شمس[یي]|خورش[یي]د[یي]"
    r"|م[یي]لاد[یي]|محرم|صفر|رب[یي]ع|جماد[یي]|رجب|شعبان|رمضان|شوال|ذ[یي]\s?القعده|ذ[یي]\s?الحجه"
    r"|ذ[یي]قعده|ذ[یي]حجه|دق[یي]قه|دقا[یي]ق|دقا[یي]ق[یي]|لحظه|لحظات[یي]?|پ[یي]ش|قبل|امروز"
    r"|د[یي]روز|گذشته|بامداد|صبح|ظهر|عصر|شب|روز|هفته|ماه|سال|الان|حالا|ثان[یي]ه|کد\s+خبر"
    rf"|زمان\s+مطالعه)(?![\w{ZWNJ}{ZWNJ_STANDIN}])",
    re.IGNORECASE,
)


def _dated_only(rest: str) -> bool:
    """Whether what follows a Persian label may be a stamp: a date or a time in
    it, or under two words."""
    return bool(_FA_DATED.search(rest) or _WHEN.search(rest)) or len(_FA_WORD.findall(rest)) < 2


# The keyword in brackets of its own is a label as a separator is: "[تحديث] ...".
_BRACKETED = re.compile(r"^\s*[(\[]\s*" + _KEYWORD + r"\s*[)\]]", re.IGNORECASE)
_EDITOR = re.compile(_OPEN + r"(?:ملاحظة\s+المحرر|editor'?s\s+note)\b", re.IGNORECASE)
# A line that says the article itself was corrected or updated is a notice as
# it stands: a passive verb with the article right after it ("صُحّح هذا الخبر",
# "(تم تحديث هذا الخبر)"; "عدل البرلمان هذه المادة" is a sentence, and حدث is
# also "happened"), or a note that names an earlier version and a correction
# ("ملاحظة: تم تصحيح الرقم الوارد في نسخة سابقة"; "ملاحظة: هذا التقرير يعتمد
# على..." is a note, no more).
_ITSELF = r"(?:هذا|هذه)\s+(?:ال)?(?:خبر|مقال|مقالة|تقرير|قصة)"
# "تم تحديث الخبر" too; not "التقرير" alone, which is as often a ministry's.
_ARTICLE = r"(?:" + _ITSELF + r"|ال(?:خبر|مقال|مقالة)\b)"
_PASSIVE = re.compile(
    _OPEN
    + r"(?:(?:تم|جرى)\s+(?:ال)?(?:تحديث|تصحيح|تعديل)|صحح|صححت|عدل|عدلت)\s+"
    + _ARTICLE
    + r"|"
    + _OPEN  # "تم تحديث هذه المادة لتصحيح...": not a law's ("تم تعديل هذه المادة لإضافة")
    + r"(?:تم|جرى)\s+(?:تحديث|تصحيح)\s+(?:هذه|هذا)\s+(?:ال)?(?:مادة|موضوع)\s+"
    r"ل(?:تصحيح|تصويب|توضيح)"
    + r"|"
    + _OPEN
    + r"this\s+(?:article|story|report)\s+(?:has\s+been|was)\s+"
    r"(?:updated|corrected|amended)\b"
    + r"|"
    + _OPEN  # the whole line: "این خبر به‌روزرسانی شد" ("این گزارش اصلاح شد" is a committee's)
    + rf"ا[یي]ن\s+خبر\s+(?:(?:{_UPDATE_FA}|به{_HALF}?روز|اصلاح|و[یي]را[یي]ش)\s+شد(?:ه(?:\s+است)?)?"
    + rf"|در\s+حال\s+{_UPDATE_FA}\s+است)\s*[.!]?\s*[)\]]?\s*$",
    re.IGNORECASE,
)
_NOTE = re.compile(_OPEN + r"(?:ملاحظة|تنويه|توضيح|تنبيه|note)\s*[:：\-–—]", re.IGNORECASE)
# An apology is one when it names this article and an error ("نعتذر عن خطأ ورد في نسخة سابقة من
# هذا الخبر"), unquoted: not a minister's, nor of a late report, nor of a fault ("خطأ فني").
_APOLOGY = re.compile(_OPEN + r"(?:نعتذر|نأسف|اعتذار)\b")
# An error, not a fault's (خطأ فني: a late or broken page), or what was wrong named
# ("معلومة خاطئة", "الرقم الصحيح", "تصحيح اسم"; not "بالشكل الصحيح", "الرابط الخاطئ").
_ERROR = re.compile(
    r"خطأ(?!\s+(?:ال)?(?:فن|تقن|ال?كترون|إلكترون|برمج)[يى])"  # not a fault's, nor the page's:
    r"(?!\s+(?:في\s+)?(?:ال)?(?:عرض|تحميل|ظهور|رابط|خادم|نشر|موقع|صفح))|\berror\b",
    re.IGNORECASE,
)
_RIGHT = re.compile(r"(?<!الشكل )(?<!بشكل )(?<!الوقت )الصحيح")  # "والصحيح أنه": not a display's
_WRONG = re.compile(
    r"(?:ال)?(?:رقم|ارقام|أرقام|اسم|اسماء|أسماء|عدد|تاريخ|معلوم\S*)\s+(?:غير\s+(?:ال)?صحيح|(?:ال)?خاطئ)"
    r"|(?:الرقم|الاسم|العدد|التاريخ)\s+الصحيح|تصحيح\s+(?:ال)?(?:اسم|رقم|عدد|تاريخ|معلوم)"
)
_PRIOR = re.compile(r"(?:ال)?نسخة\s+(?:ال)?سابقة|(?:earlier|previous)\s+version", re.IGNORECASE)
_EARLIER = re.compile(_ITSELF + "|" + _PRIOR.pattern, re.IGNORECASE)
_CORRECTED = re.compile(
    r"تصحيح|صحح|تعديل|عدل|تحديث|خطأ|\b(?:corrected|updated|amended|misstated|error)\b",
    re.IGNORECASE,
)
_MONTH = (
    r"يناير|فبراير|مارس|أبريل|ابريل|إبريل|مايو|يونيو|يونيه|يوليو|يوليه|أغسطس|اغسطس|سبتمبر"
    r"|أكتوبر|اكتوبر|نوفمبر|ديسمبر|كانون\s+الثاني|شباط|آذار|اذار|نيسان|أيار|ايار|حزيران|تموز"
    r"|آب|أيلول|ايلول|تشرين\s+الأول|تشرين\s+الثاني|كانون\s+الأول|جانفي|فيفري|أفريل|جوان|جويلية"
    r"|أوت|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
# A date or a time: 10:30, 10.30 GMT, 26/01/2024, 2024-01-26, 26 يناير, January 26.
_WHEN = re.compile(
    rf"\d{{1,2}}\s*:\s*\d{{2}}|\d{{1,2}}[.:]\d{{2}}\s*(?:am|pm|gmt|utc|ص|م|بتوقيت)\b"
    rf"|\d{{1,2}}\s*(?:am|pm)\b|(\d{{4}}|\d{{1,2}})\s*([/.\-])\s*\d{{1,2}}\s*\2\s*(?:\d{{4}}|\d{{2}})(?!\d)"
    rf"|\d{{1,2}}\s+(?:{_MONTH})\b|\b(?:{_MONTH})\s+\d{{1,2}}\b",
    re.IGNORECASE,
)
# A date or a time right after a notice's keyword ("Updated at 15.30 GMT").
_AT = r"(?:(?:at|on|في|الساعة|بتاريخ|يوم)\s+){0,2}(?:" + _WHEN.pattern + ")"
_SOON = re.compile(r"[»”\"]?\s*" + _AT, re.IGNORECASE)  # «تحديث» 19:10
# Or in brackets or after a comma, closing the label: "تحديث (19:10 بتوقيت غرينتش):",
# "تحديث، الساعة 19:10:"; not "تصحيح، 10 مايو ليس موعد الانتخابات" (a sentence).
_SOON_CLOSED = re.compile(
    r"\s*[(\[،,]\s*" + _AT + r"[^:：\-–—)\]\n]{0,30}[:：\-–—)\]]", re.IGNORECASE
)
# A label in quotation marks ("«تحديث»: ...") is one only with a date or a time:
# a quoted word opens sentences too ("«تصحيح»: هكذا وصف الوزير القرار").
_QUOTED = re.compile(r"^\s*[«\"“]")
MAX_STAMP_CHARS = 150  # a stamp line's (normalize.stamps.STAMP, stamp_in)


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
    """Short visible lines that start like an update or correction notice:
    an element's text, or a line of one written as lines (`<br>`)."""
    found: list[str] = []
    body = root.find("body")
    if body is None:
        return found
    for el in body.iter(*BLOCK_TAGS):  # (script and style hold no elements)
        head = (el.text or "").strip() or _opening(el)
        opens = _OPENS.match(head)
        stamp = None if opens else _STAMP.search(head, 0, MAX_STAMP_CHARS)
        if not (opens or stamp) or beside_the_article(el):
            continue
        if opens and _take(found, head, _text(el), el.iter("a")):
            continue
        # A line that opens like a notice and is none may be a stamp ("آخر تعديل - 14:00").
        _stamped(found, head, _text(el), stamp)
    # Some sites write a whole article as one paragraph of lines, a correction
    # among them: each line is read as an element's text is. Never inside a
    # link (a teaser of lines names another page).
    for parent in dict.fromkeys(br.getparent() for br in body.iter("br")):
        if parent is None or beside_the_article(parent) or _linked(parent):
            continue
        for head, line, members in _lines(parent):
            if _OPENS.match(head):
                links = (a for m in members for a in m.iter("a"))
                if not _take(found, head, text := canonical_line(line()), links):
                    _stamped(found, head, text)
    # Nested elements repeat the same notice; keep the shortest of each family.
    return [t for t in found if not any(o != t and t.startswith(o) for o in found)]


def _stamped(found: list[str], head: str, text: str, stamp: re.Match[str] | None = None) -> None:
    """Add the stamp in the line `text` (opening with `head`), if it holds the page's."""
    stamp = stamp or _STAMP.search(head, 0, MAX_STAMP_CHARS)
    if stamp and len(text) <= MAX_STAMP_CHARS and _SOON.match(head, stamp.end()):
        said = stamp_in(text)
        if said is not None and said not in found:
            found.append(said)
            # A notice may follow it: "… آخر تحديث 16:45 - تحديث: تم تعديل عدد الضحايا".
            rest = text[text.find(said) + len(said) :].lstrip(" -–—|·•")
            if _OPENS.match(rest):
                _take(found, rest, rest, ())


def _take(found: list[str], head: str, text: str, links: Iterable[Any]) -> bool:
    """Add the line `text` (opening with `head`) if it is a notice; whether it is one."""
    head = _plain(head[:HEAD_CHARS])  # the keywords open the line
    m = _NOTICE.match(head) or _BRACKETED.match(head)
    labels = (
        _COLON_ONLY,
        _PERSIAN_LABEL,
        _PERSIAN_CORRECTION,
        _PERSIAN_NOTE,
        _PASSIVE,
        _NOTE,
        _APOLOGY,
    )
    if not (m or any(r.match(head) for r in labels)):
        return False
    if text in found:
        return True
    links = list(links)
    if not 0 < len(text) <= MAX_NOTICE_CHARS or _a_link(links, text):
        return False
    plain = _plain(text)
    # A Persian line read by the Arabic rules (its توضيح: typed with the Arabic yeh) is
    # Persian's to judge: "توضيح: مطالب این ستون دیدگاه نویسنده است" is a disclaimer.
    arabic = not _PERSIAN_LETTERS.search(plain)
    said = arabic and (_BRACKETED.match(plain) or _NOTICE.match(plain) or _COLON_ONLY.match(plain))
    if not said and (said := _PERSIAN_LABEL.match(plain)):
        if _dated_only(plain[said.end() :]):
            return False  # "به‌روزرسانی: ۲۹ بهمن ۱۳۹۸ - ۱۰:۳۰": a stamp, unread
    if said and not plain[said.end() :].strip():
        return False  # the label alone ("<strong>تحديث:</strong>"): its line is the parent's
    if said and _a_link(links, plain[said.end() :].strip(), _plain):
        return False  # a label before a teaser's link ("<span>تحديث:</span> <a>...</a>")
    note, correction = _PERSIAN_NOTE.match(plain), _PERSIAN_CORRECTION.match(plain)
    if (persian := note or correction) and _a_link(links, plain[persian.end() :].strip(), _plain):
        return False  # "اصلاحیه: <a>…</a>": another story's teaser
    if (
        _PASSIVE.match(plain)
        or ((_NOTE.match(plain) or said) and _EARLIER.search(plain) and _CORRECTED.search(plain))
        or (
            _APOLOGY.match(plain)
            and not _QUOTED.match(plain)
            and re.search(_ITSELF, plain)
            and (
                _ERROR.search(plain)
                or _WRONG.search(plain)
                or (_PRIOR.search(plain) and (_CORRECTED.search(plain) or _RIGHT.search(plain)))
            )
        )
        or (said and said.group().rstrip()[-1:] in ":：-–—|)]" and not _QUOTED.match(plain))
        or (said and (_SOON.match(plain, said.end()) or _SOON_CLOSED.match(plain, said.end())))
        or _EDITOR.match(plain)
        or (
            note
            and _PERSIAN_EARLIER.search(plain, note.end())
            and _PERSIAN_ERROR.search(plain, note.end())
        )
        or (
            correction
            and not _dated_only(plain[correction.end() :])
            and (
                _PERSIAN_EARLIER.search(plain, correction.end())
                or _PERSIAN_ERROR.search(plain, correction.end())
            )
        )
    ):
        found.append(text)
        return True
    return False


# A tatweel standing alone is a dash ("تصحيح ـ ..."); inside a word, a stretch dropped.
_TATWEEL_DASH = re.compile(r"(?<=\s)\u0640+(?=\s)")


def _plain(text: str) -> str:
    return _MARKS.sub("", _TATWEEL_DASH.sub("-", text))


def _lines(parent: Any) -> Iterator[tuple[str, Callable[[], str], list[Any]]]:
    """An element's own content split at its `<br>`s: each line's start, how
    to read the whole line (read only for a line that starts like a notice:
    each level of nested lines would read all below it again), and the
    elements in it."""
    children = list(parent)
    starts = [-1] + [i for i, c in enumerate(children) if c.tag == "br"]
    for n, at in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(children)
        members = children[at + 1 : end]
        lead = (parent.text if at < 0 else children[at].tail) or ""
        head = lead.strip() or _opening(members)
        yield head, functools.partial(_line, lead, members), members


def _opening(children: Any) -> str:
    """How a line whose own text is empty opens: its first child's text, or,
    after an icon (an empty <i>, <img> or <svg> before "تصحيح:"), the text that
    follows it."""
    for child in children:
        if not isinstance(child.tag, str) or child.tag == "br":
            return ""
        if (text := (child.text or "").strip()) or (len(child) and child.tag not in _ICONS):
            return text  # read for every element with no text of its own: kept cheap
        if len(child) and any(t.strip() for t in child.itertext()):  # <svg><path/></svg>: none
            return ""
        if tail := (child.tail or "").strip():
            return tail
    return ""


# Tags an icon with elements inside is made of; an empty element of any tag is
# stepped over too (<a id="upd"></a>, <strong></strong> before "تحديث:").
_ICONS = frozenset({"i", "svg", "span", "picture", "em", "b"})


def _line(lead: str, members: list[Any]) -> str:
    parts = [lead]
    for child in members:
        if isinstance(child.tag, str):  # not a comment or a processing instruction
            parts.append(etree.tostring(child, method="text", encoding="unicode", with_tail=False))
        parts.append(child.tail or "")
    return "".join(parts)


def _linked(el: Any) -> bool:
    """Whether the element is, or is inside, a link."""
    return any(a.tag == "a" and a.get("href") for a in (el, *el.iterancestors()))


def _a_link(links: Iterable[Any], text: str, form: Callable[[str], str] = str) -> bool:
    """Whether the line is all the text of its links: a teaser ("تحديث: ..."
    heading another story), which names another page, not this one."""
    linked = [a for a in links if a.get("href")]
    said = canonical_line(" ".join(a.text_content() for a in linked))
    return bool(linked) and form(said) == text


def _text(el: Any) -> str:
    return canonical_line(etree.tostring(el, method="text", encoding="unicode", with_tail=False))
