"""Stamps: notices that say only when a page was last updated.

"آخر تحديث: 16:30", "الأربعاء، 28 آب/اغسطس 2013، آخر تحديث 14:00 (GMT+0400)".
A stamp that a fetch of the old text already showed announces no edit made
after it (CNN Arabic moves its stamp with no edit, and a silent edit came
later: diffs.signals.new_notices). A notice that says anything more (a
correction, what was updated, a numbered update) is never one: seen before
its text changed, it still announces that change. So every word must be one
of a time's, a date's or a zone's, and every number a time, a date, a year
(the Hijri's too), a zone's offset, a day beside its month, a span ("منذ 5
دقائق") or, where no time is written, an hour beside its word ("الساعة 5").
"""

from __future__ import annotations

import re
from datetime import timedelta

from raqib.normalize.arabic import matching_key

_LABEL = ("تحديث", "التحديث", "تعديل", "التعديل", "محدث", "محدثة", "updated", "update")
_MONTHS = (
    "يناير", "فبراير", "مارس", "أبريل", "ابريل", "إبريل", "مايو", "يونيو", "يونيه", "يوليو",
    "يوليه", "أغسطس", "اغسطس", "سبتمبر", "أكتوبر", "اكتوبر", "نوفمبر", "ديسمبر", "كانون",
    "شباط", "آذار", "اذار", "نيسان", "أيار", "ايار", "حزيران", "تموز", "آب", "اب", "أيلول",
    "ايلول", "تشرين", "جانفي", "فيفري", "أفريل", "ماي", "جوان", "جويلية", "أوت", "محرم", "صفر",
    "ربيع", "جمادى", "رجب", "شعبان", "رمضان", "شوال", "ذو", "january", "february", "march",
    "april", "may", "june", "july", "august", "september", "october", "november", "december",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
)  # fmt: skip
_WHEN_WORDS = (
    *_LABEL, *_MONTHS, "آخر", "اخر", "تم", "last", "في", "الساعة", "ساعة", "يوم", "بتاريخ",
    "تاريخ", "الموافق", "منذ", "قبل", "دقيقة", "دقائق", "دقيقتين", "ساعات", "ساعتين", "أيام",
    "يومين", "أسبوع", "أسابيع", "أسبوعين", "week", "weeks",
    "at", "on", "ago", "min", "mins", "minutes", "hour", "hours", "ص", "م", "صباحا", "صباحاً",
    "مساء", "مساءً", "مساءا", "ظهرا", "ظهراً", "am", "pm", "a", "p", "m", "ت", "غ", "هـ", "ه",
    "الثاني", "الأول", "الاول", "الأولى", "الاولى", "الآخر", "الاخر", "الآخرة", "الاخرة",
    "القعدة", "الحجة", "السبت", "الأحد", "الاحد", "الإثنين", "الاثنين", "الثلاثاء", "الأربعاء",
    "الاربعاء", "الخميس", "الجمعة", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "mon", "tue", "wed", "thu", "fri", "sat", "sun",
    # Zones, as stamps name them: "بتوقيت مكة المكرمة", "(توقيت القدس)", "16:30 BST".
    "بتوقيت", "توقيت", "gmt", "utc", "bst", "ast", "est", "edt", "cet", "cest", "eet", "eest",
    "msk", "et", "ksa", "مكة", "المكرمة", "غرينتش", "غرينيتش", "جرينتش", "القدس", "القاهرة",
    "بيروت", "دمشق", "بغداد", "الرياض", "الدوحة", "دبي", "أبوظبي", "ابوظبي", "عمان", "الكويت",
    "المنامة", "مسقط", "صنعاء", "الخرطوم", "طرابلس", "تونس", "الجزائر", "الرباط", "أنقرة",
    "طهران", "الإمارات", "الامارات", "السعودية", "مصر", "الأردن", "لبنان", "سوريا", "العراق",
    "قطر", "البحرين", "اليمن", "السودان", "ليبيا", "المغرب", "فلسطين", "لندن", "باريس",
    "واشنطن", "نيويورك", "موسكو", "المحلي", "المحلية", "العالمي", "الصيفي", "الشتوي",
    "الخليج", "أم", "القرى", "st", "nd", "rd", "th", "an", "ساعتين", "دقيقتين", "يومين",
)  # fmt: skip
# A time, a date (the key writes 2024-01-26 as 26/1/2024; ISO's T and zone
# follow it), a zone's offset: read whole.
_WHEN = re.compile(
    r"\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}(?:t[\d:.+\-z]*)?|\d{1,2}[:.]\d{2}(?:[:.]\d{2})?"
    r"|[+-]\d{1,2}(?::?\d{2})?"
)
# What a number before it counts: "منذ 5 دقائق", "2 hours ago".
_SPANS = (
    "دقيقة", "دقائق", "دقيقتين", "ساعة", "ساعات", "ساعتين", "يوم", "أيام", "يومين", "أسبوع",
    "أسابيع", "أسبوعين", "min", "mins", "minute", "minutes", "hour", "hours", "day", "days",
    "week", "weeks",
)  # fmt: skip
# What an hour beside it is: "الساعة 5", "5 م", "5 am".
_HOURS = ("الساعة", "at", "م", "ص", "مساء", "مساءً", "صباحا", "صباحاً", "ظهرا", "am", "pm")
_TOKEN = re.compile(r"\d+|[^\W\d_]+")


def _words(text: str) -> list[str]:
    return _TOKEN.findall(matching_key(text, fold_numbers=False))


_STAMP_WORDS = frozenset(w for word in _WHEN_WORDS for w in _words(word))
_LABELS = frozenset(w for word in _LABEL for w in _words(word))
_MONTH_WORDS = frozenset(w for word in _MONTHS for w in _words(word))
_SPAN_WORDS = frozenset(w for word in _SPANS for w in _words(word))
_HOUR_WORDS = frozenset(w for word in _HOURS for w in _words(word))
_AGO = frozenset(_words("منذ قبل ago"))


def stamp_end(before: str) -> bool:
    """Whether text ends as a date or a time does, before a stamp's label: a
    month, a year, a time or a date (12:09م, 2020م), ص or م, a zone (GMT+3,
    "(توقيت القدس)", "بتوقيت مكة"), a span's plural ("نشر منذ ساعتين"). Not في,
    يوم or a place alone: a sentence's ("في آخر تحديث يوم 17 مارس")."""
    words = matching_key(before[-200:], fold_numbers=False).split()
    key = words[-1].strip("()[]،,.:;") if words else ""
    key = _GLUED_MARK.sub("", key)  # 12:09م, 2020م
    if _WHEN.fullmatch(key) or _ZONE_OFFSET.fullmatch(key):
        return True
    if len(key) == 4 and key.isdigit() and 1300 <= int(key) <= 2099:
        return True
    zone = len(words) > 1 and words[-2].strip("()[]") in _ZONE_WORDS and key in _STAMP_WORDS
    return key in _ENDS or zone


_GLUED_MARK = re.compile(r"(?<=\d)[مص]$")
_ZONE_OFFSET = re.compile(r"(?:gmt|utc)[+-]\d{1,2}(?::?\d{2})?")
_ZONE_WORDS = frozenset(_words("توقيت بتوقيت"))
_ENDS = frozenset(
    w for word in (*_MONTHS, "دقائق", "دقيقتين", "ساعات", "ساعتين", "أيام", "يومين", "ص", "م",
                   "هـ", "am", "pm", "gmt", "utc", "bst", "ast", "est", "edt", "cet", "cest",
                   "eet", "eest", "msk", "ksa", "غرينتش", "غرينيتش", "جرينتش", "المكرمة",
                   "صباحا", "مساء", "ظهرا")
    for w in _words(word)
)  # fmt: skip


def is_stamp(notice: str) -> bool:
    """Whether a notice says only when the page was updated (a time or a date)."""
    key = matching_key(notice, fold_numbers=False)
    rest = _WHEN.sub(" ", key)
    tokens = _TOKEN.findall(rest)
    relative = _AGO.intersection(tokens) and _SPAN_WORDS.intersection(tokens)  # "منذ ساعتين"
    if rest == key and not any(ch.isdigit() for ch in key) and not relative:
        return False  # no time and no date: "(تم تحديث هذا الخبر)"
    if not _LABELS.intersection(tokens):
        return False
    for i, t in enumerate(tokens):
        if not t.isdigit():
            if t not in _STAMP_WORDS:
                return False
        elif (
            len(t) > 4
            or not (
                (len(t) == 4 and 1300 <= int(t) <= 2099)  # a year, the Hijri's too (1445 هـ)
                or (1 <= int(t) <= 31 and _MONTH_WORDS.intersection(tokens[max(i - 1, 0) : i + 3]))
                or _SPAN_WORDS.intersection(tokens[i + 1 : i + 2])
                # A bare hour where no time is written ("Update 2: 4:30 pm" is numbered).
                or (rest == key and int(t) <= 24 and _HOUR_WORDS & {*tokens[max(i - 1, 0) : i + 2]})
            )
        ):
            return False  # no year, day, span or hour: "تحديث 3"
    return True


# A span's unit, in seconds, and what its word alone counts ("منذ ساعتين": 2).
_SPAN_UNITS = {
    "دقيقة": (60, 1), "دقائق": (60, 0), "دقيقتين": (60, 2), "ساعة": (3600, 1),
    "ساعات": (3600, 0), "ساعتين": (3600, 2), "يوم": (86400, 1), "أيام": (86400, 0),
    "يومين": (86400, 2), "أسبوع": (604800, 1), "أسابيع": (604800, 0), "أسبوعين": (604800, 2),
    "week": (604800, 1), "weeks": (604800, 0), "min": (60, 0), "mins": (60, 0), "minute": (60, 1),
    "minutes": (60, 0), "hour": (3600, 1), "hours": (3600, 0), "day": (86400, 1),
    "days": (86400, 0),
}  # fmt: skip
_SPAN_OF = {w: unit for word, unit in _SPAN_UNITS.items() for w in _words(word)}


def ago(stamp: str) -> timedelta | None:
    """How long before its page was served a relative stamp says the update
    was ("آخر تحديث: منذ 15 دقيقة", "2 hours ago"); None for any other notice."""
    tokens = _TOKEN.findall(matching_key(stamp))
    if not _AGO.intersection(tokens):
        return None
    for i, t in enumerate(tokens):
        if t in _SPAN_OF:
            seconds, alone = _SPAN_OF[t]
            said = tokens[i - 1] if i else ""
            if said.isdigit() and len(said) > 6:
                return None  # "منذ 9999999 يوم" is no moment
            count = int(said) if said.isdigit() else alone
            if 0 < count * seconds <= MAX_AGO:  # a page's "منذ 9999999 يوم" is no moment
                return timedelta(seconds=count * seconds)
            return None
    return None


MAX_AGO = 10 * 366 * 86400  # ten years, in seconds


# A page's own stamp line, "آخر تحديث" and a time anywhere in it: "الأربعاء، 28
# آب/اغسطس 2013، آخر تحديث 14:00 (GMT+0400)" (CNN Arabic, above its article).
STAMP = re.compile(r"(?:(?:آخر|اخر)\s+(?:تحديث|تعديل)|last\s+updated)\s*[:：\-–—]?", re.I)


def stamp_in(text: str) -> str | None:
    """The page's stamp in a line with "آخر تحديث" inside it: after a date's or a
    time's end (a month, a year, a time, ص, GMT) or a separator, with a stamp's words
    alone up to the next separator ("· قراءة 3 دقائق" may follow); the line up to
    there if it is all a stamp's words ("الأربعاء، 28 آب/اغسطس 2013، آخر تحديث 14:00"),
    else the stamp alone: what else the line says is no notice, and its edit no
    announcement. In "وبحسب آخر تحديث في 17 مارس، بلغ عدد المتعافين 21 حالة" the
    stamp is the sentence's."""
    stamp = STAMP.search(text)
    if stamp is None:
        return None
    before = text[: stamp.start()].rstrip()
    last = before.split()[-1] if before else ""
    if not (not last or last[-1] in _STAMP_AFTER or stamp_end(before)):
        return None
    label = stamp.group()  # after a dash, the stamp runs to a bar ("آخر تعديل - 14:00 | طباعة")
    ends = _BAR if label.rstrip()[-1:] in "-–—" else _PART_END
    end = None  # on past a dash while a stamp's words go on ("آخر تحديث: 12 مارس 2024 - 14:00")
    for cut in (*ends.finditer(text, stamp.end()), None):
        at = cut.start() if cut else len(text)
        if not is_stamp(text[stamp.start() : at]):
            break
        end = at
        if cut is None or cut.group().strip() in "|·•":
            break
    if end is None:
        return None
    return (
        text[:end].strip() if before and is_stamp(text[:end]) else text[stamp.start() : end].strip()
    )


_STAMP_AFTER = "،,;؛|-–—:•·/"
_PART_END = re.compile(r"\s[|·•]|\s[-–—]\s")  # "آخر تحديث: 14:00 | طباعة"
_BAR = re.compile(r"\s[|·•]")
