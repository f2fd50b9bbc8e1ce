"""Times and dates in a matching key, one spelling each.

An hour, a day and a month lose a leading zero, and a date is written
day/month/year however it was: `09:45` is `9:45`; `05/03/2020`,
`05-03-2020`, `05.03.2020`, `2020-03-05` and `2020/03/05` are `5/3/2020`.
Dropping the zero or changing the separator is typing, not a new figure;
minutes keep theirs (10:05 is not 10:5). Only what can be a date is read:
a day up to 31, a month up to 12, a year from 1900 to 2099 (02-12-3456 is
a telephone number's).
"""

from __future__ import annotations

import re

# The hour of a time, with its minutes: not inside a number (10:05, 2.09:30).
_HOUR = re.compile(r"(?<![\d.,:/])0(\d:\d{2})(?!\d)")
# A day, a month and a year, with one separator twice; or the year first.
_DATE = re.compile(
    r"(?<![\d.,/:\-])(?:(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})|(\d{4})([/.\-])(\d{1,2})\6(\d{1,2}))"
    r"(?![\d]|[.,/\-]\d)"
)
# What a date needs, found in C first: most texts have none, and are left at once.
_MAYBE = re.compile(r"\d[/.\-]\d")


def _dated(m: re.Match[str]) -> str:
    if m.group(1):
        day, month, year = m.group(1), m.group(3), m.group(4)
    else:
        year, month, day = m.group(5), m.group(7), m.group(8)
    if not (1 <= int(day) <= 31 and 1 <= int(month) <= 12 and 1900 <= int(year) <= 2099):
        return m.group()
    return f"{int(day)}/{int(month)}/{year}"


def one_spelling(key: str) -> str:
    """The key (ASCII digits) with its times and dates written one way."""
    if ":" in key:
        key = _HOUR.sub(r"\1", key)
    if _MAYBE.search(key):
        key = _DATE.sub(_dated, key)
    return key
