"""Times and dates in a matching key, one spelling each.

An hour, a day and a month lose a leading zero, and a date is written
day/month/year however it was: `09:45` is `9:45`; `05/03/2020`,
`05-03-2020`, `05.03.2020` and `2020-03-05` are `5/3/2020`. Dropping the
zero or changing the separator is typing, not a new figure; minutes keep
theirs (10:05 is not 10:5).
"""

from __future__ import annotations

import re

# The hour of a time, with its minutes: not inside a number (10:05, 2.09:30).
_HOUR = re.compile(r"(?<![\d.,:/])0(\d:\d{2})(?!\d)")
# A day, a month and a four-digit year, with one separator twice; or ISO's order.
_DATE = re.compile(
    r"(?<![\d.,/:\-])(?:(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})|(\d{4})-(\d{1,2})-(\d{1,2}))"
    r"(?![\d]|[.,/\-]\d)"
)


def _dated(m: re.Match[str]) -> str:
    if m.group(1):
        day, month, year = m.group(1), m.group(3), m.group(4)
    else:
        year, month, day = m.group(5), m.group(6), m.group(7)
    return f"{int(day)}/{int(month)}/{year}"


def one_spelling(key: str) -> str:
    """The key (ASCII digits) with its times and dates written one way."""
    if ":" in key:
        key = _HOUR.sub(r"\1", key)
    if any(mark in key for mark in "/-.") and any(ch.isdigit() for ch in key):
        key = _DATE.sub(_dated, key)
    return key
