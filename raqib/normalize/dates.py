"""Times and dates in a matching key, one spelling each.

An hour, a day and a month lose a leading zero, and a date is written
day/month/year however it was: `09:45` is `9:45`; `05/03/2020`,
`05-03-2020`, `05.03.2020`, `2020-03-05` and `2020/03/05` are `5/3/2020`.
Dropping the zero or changing the separator is typing, not a new figure;
minutes keep theirs (10:05 is not 10:5). Only what can be a date is read:
a day up to 31, a month up to 12, a year from 1300 (the Hijri calendars':
۱۴۰۲/۰۳/۱۵ is 15/3/1402) to 2099 (02-12-3456 is a telephone number's). A month after its day has one name, whichever the
outlet prints: `25 كانون الثاني`, `25 جانفي` and `25 يناير` are one date, and
so is CNN's `28 آب/أغسطس` (both names) and `28 أغسطس`.
"""

from __future__ import annotations

import re

# The hour of a time, with its minutes: not inside a number (10:05, 2.09:30).
# The pattern opens with a digit, its look-behind after it: the scan for the
# digit then runs in C (a look-behind first is tried at every character).
_HOUR = re.compile(r"0(?<![\d.,:/]0)(\d:\d{2})(?!\d)")
# What may be a date: three numbers, one separator twice. Told in Python which
# are (a regular expression that says so was 40% of the key's time on the real
# pages: its alternatives and look-arounds are tried at each digit).
_CANDIDATE = re.compile(r"\d{1,4}([/.\-])\d{1,2}\1\d{1,4}")
_NEAR = "0123456789.,/:-"  # before a date: it is part of a longer figure
# Looked for first, each from its separator (a character rare in a text, found
# in C): a digit, a separator and a month and a separator; an hour 0-9 with a 0.
_MAYBE_DATE = re.compile(r"[/.\-](?<=\d[/.\-])\d{1,2}[/.\-]")
_MAYBE_HOUR = re.compile(r":(?<=0\d:)")


def _date(text: str, sep: str) -> str | None:
    first, month, last = text.split(sep)
    if len(first) == 4 and len(last) <= 2:
        year, day = first, last
    elif len(last) == 4 and len(first) <= 2:
        day, year = first, last
    else:
        return None
    if not (1 <= int(day) <= 31 and 1 <= int(month) <= 12 and 1300 <= int(year) <= 2099):
        return None
    return f"{int(day)}/{int(month)}/{year}"


# Each month's names as a key spells them (Levantine, Maghrebi, Egyptian),
# with the one kept; read only after a day's number.
_MONTH_NAMES = {
    "يناير": ("كانون الثاني", "جانفي"), "فبراير": ("شباط", "فيفري"), "مارس": ("اذار",),
    "ابريل": ("نيسان", "افريل"), "مايو": ("ايار", "ماي"), "يونيو": ("حزيران", "جوان", "يونيه"),
    "يوليو": ("تموز", "جويليه", "يوليه"), "اغسطس": ("اب", "اوت"), "سبتمبر": ("ايلول",),
    "اكتوبر": ("تشرين الاول",), "نوفمبر": ("تشرين الثاني",), "ديسمبر": ("كانون الاول",),
}  # fmt: skip
_ONE_NAME = {n: kept for kept, names in _MONTH_NAMES.items() for n in (kept, *names)}
MONTHS = tuple(_MONTH_NAMES)  # the names kept: a key's month after its day is one of them
_ANY_NAME = "|".join(sorted(map(re.escape, _ONE_NAME), key=len, reverse=True))
# A day, its month's name, and the same month's other name after a slash. The
# space opens it (found in C), the day's digit behind it.
_DAY_MONTH = re.compile(rf" (?<=\d )({_ANY_NAME})(?:/({_ANY_NAME}))?(?![^\W\d_])")


def _month(m: re.Match[str]) -> str:
    kept = _ONE_NAME[m.group(1)]
    if m.group(2) and _ONE_NAME[m.group(2)] != kept:
        return m.group()  # two months: a range, left as written
    return f" {kept}"


def one_spelling(key: str) -> str:
    """The key (ASCII digits) with its times and dates written one way."""
    key = _DAY_MONTH.sub(_month, key)
    if _MAYBE_HOUR.search(key):
        key = _HOUR.sub(r"\1", key)
    if not _MAYBE_DATE.search(key):
        return key
    out: list[str] = []
    at = 0
    for m in _CANDIDATE.finditer(key):
        start, end = m.span()
        if start and key[start - 1] in _NEAR:
            continue  # inside a longer figure (1,05/03/2020)
        if end < len(key) and (
            key[end].isdigit() or (key[end] in ".,/-" and key[end + 1 : end + 2].isdigit())
        ):
            continue  # and so: 05/03/2020-06/03/2020, a range, is left as it is
        if (new := _date(m.group(), m.group(1))) is not None:
            out += (key[at:start], new)
            at = end
    return "".join(out) + key[at:] if out else key
