"""Which analyzer judged a change: its name and version, stored with each
change, and whether a stored judgement still stands. Apart from the
analysis itself (classify.py), so that a pass with nothing to judge can ask
for stale changes without importing the analyzer."""

from __future__ import annotations

# Bumped whenever the analysis or its stored form changes; a change stored by
# an older analyzer is re-judged when read, and re-stored by the next pass.
# 3: numbers written in words are figures; 4: a headline's figures, quotes
# and negations are facts, and a notice the old text already held is not new;
# 5: digits grouped by thousands are the same figure ungrouped (1,500 = 1500);
# 6: a modified date announces only when it could date the edit (signals.py),
# a headline glued to the front of the text is not an edit of the text, and
# 1,500.5 is 1500.5, and ثلاثة ملايين ونصف المليون is 3.5 million; 7: a number
# in words with punctuation on it ("آلاف."), 2,5 مليون (2.5 million), مئتي ألف;
# 8: a sentence's stops and commas, and the half-space (ZWNJ), are spelling;
# نصف/ربع before a scale word is that fraction of it (نصف مليون is 500000);
# a negation is its particle, without its و / ف; figures shown in the page's digits;
# a time (09:45) or a date (15/03/2020) is one figure; another page served at the
# address (a redirect, nothing of the old text left) is a signal, not a silent edit;
# 9: عشر and the accusative (خمسا وعشرين) are numbers; a time's or a date's
# leading zero and separator are spelling (09:45 is 9:45, 2020-03-05 is 5/3/2020);
# 10: a stamp that later fetches of the old text saw (versions.seen_notices) is
# the old side's, and announces no edit after it; a scale's remainder in digits
# is one figure with it (ألف و500 is 1500, مليار و200 مليون is 1.2 billion); a
# month after its day has one name (25 كانون الثاني is 25 يناير); 11: ألفاً with its
# tanween, or at its sentence's end, is a thousand (ألفا جندي, two); a relative stamp
# ("منذ 15 دقيقة") announces only an update after the old text was last seen; ‰ is not
# %; ألا (أن لا), بلا and لئلا are negations; a dash beside words is punctuation
# ((CNN) -- is (CNN) —); و 500 after a scale is و500; a day's month changed is
# a figure changed (23 أبريل → 23 مايو); 12: ۳۰ درصد is 30%; Persian's negative verbs;
# a quotation over several sentences is one in each of them (after «, before »);
# 13: a quotation's single marks are its double ones ('…' is "…"); a hyphen joining
# a word to its number is spelling (كوفيد-19); a day glued to its month is a date; a
# number with the article is a figure (الثلاث سنوات; الأربع والعشرين is الـ24); Persian's
# slash between digits is a decimal point (۳/۵); a date's year may be Hijri (from 1300).
ANALYZER_VERSION = 13
ANALYZER = f"raqib-diff {ANALYZER_VERSION}"


def is_current(analyzer: str) -> bool:
    """Whether `analyzer` is this one or newer (its judgement stands)."""
    name, _, number = analyzer.rpartition(" ")
    return name == "raqib-diff" and number.isdigit() and int(number) >= ANALYZER_VERSION
