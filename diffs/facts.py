"""Fact deltas: the figures, quotations and negations an edit touched.

All comparisons run on the matching key, so a figure rewritten in
Arabic-Indic digits or in words (3 → ثلاثة), or a quotation that only gained
diacritics, is not a delta; figures are shown as the page wrote them.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left
from collections import Counter
from typing import Any

from raqib.diffs.align import Item
from raqib.normalize import numbers as number_words
from raqib.normalize.arabic import (
    PERCENT_WORDS,
    compact_key,
    fold_digits,
    list_commas,
    matching_key,
    ungroup_figure,
)  # fmt: skip
from raqib.normalize.dates import MONTHS, one_spelling

# A number: digits in any script with inner separators (. , ٫ ٬), then an
# optional percent sign.
# A time (09:45) and a date (15/03/2020, 2020-03-15) are one figure each, not
# two or three; then a number (3.5, 2,500, 50%).
_NUMBER = re.compile(
    r"\d{1,2}:\d{2}(?::\d{2})?(?!\d)|\d{1,2}/\d{1,2}/\d{2,4}(?!\d)|\d{4}-\d{1,2}-\d{1,2}(?!\d)"
    r"|\d{1,2}-\d{1,2}-\d{4}(?!\d)|\d{1,2}\.\d{1,2}\.\d{4}(?!\d)|\d{4}/\d{1,2}/\d{1,2}(?!\d)"
    r"|\d+(?:[.,\u066B\u066C]\d+)*\s*[%\u066A]?"
)
_MONTH_AFTER = re.compile(r"\s*(" + "|".join(MONTHS) + r")(?![^\W\d_])")
# Quotations between « » “ ” „ or straight quotes, in whatever pairing the
# page uses (Arabic sites often open with ” as well as “).
_OPEN, _CLOSE = '\u00ab\u201c\u201d\u201e"', '\u00bb\u201d\u201c"'
_QUOTE = re.compile(rf"[{_OPEN}]([^{_OPEN}{_CLOSE}\u00bb\n]{{2,400}})[{_CLOSE}]")
# Single marks ('…', ‘…’), some desks' style: only outside words, as an
# apostrophe (it's, Qur'an) never is.
_SINGLE = (
    re.compile(  # not before a digit ('80s), nor closed by a plural's possessive (workers' unions)
        r"(?<![^\W_])['\u2018\u2019](?=[^\s\d])([^'\u2018\u2019\n]{2,400}?)(?<=\S)"
        r"(?<!s)['\u2018\u2019](?![^\W_])"
    )
)
# Negation particles, alone or with a proclitic و / ف (on the key: no diacritics).
_NEGATION = re.compile(
    r"(?<!\w)(?:[وف]?(?:لا|لم|لن|ليس|ليست|ليسوا|لسنا|لست|غير|عدم|بدون|دون|لما|بلا|لءلا))(?!\w)"
    r"|(?<!\w)(?:not|no|never|none|without)(?!\w)|n't\b",
    re.IGNORECASE,
)


# A sentence's punctuation (and direction marks) after a figure's last word.
_TRAILING = number_words.CLOSING
_LEADING = number_words.OPENING  # and before its first: "(ثلاثة آلاف)"


def figures(text: str) -> list[tuple[str, str]]:
    """(value, as written) of each figure in a text: digits (3.5, 2,500, 50%)
    and numbers written in words (ثلاثة آلاف is 3000)."""
    text = list_commas(text)  # as matching_key reads it: 1،500 is 1 and 500
    key_words = matching_key(text, fold_numbers=False, keep_grouping=True).split(" ")
    shown = text.split()
    as_written = len(shown) == len(key_words)
    if not as_written:
        shown = key_words  # a word the key dropped: show the key instead
    out: list[tuple[str, str]] = []
    rest = list(key_words)
    for start, end, value in number_words.spans(key_words):
        after = " " + " ".join(key_words[end : end + 2])
        # ثلاثون في المئة is 30%, shown with its percent words (not as 30)
        pct = PERCENT_WORDS.match(after)
        n = len(pct.group().split()) if pct and as_written else 0
        out.append(
            (
                value + ("%" if pct else ""),
                " ".join(shown[start : end + n]).rstrip(_TRAILING).lstrip(_LEADING),
            )
        )
        rest[start:end] = ["#"] * (end - start)
    joined = fold_digits(" ".join(rest))
    spaces = [i for i, ch in enumerate(joined) if ch == " "]

    def word_at(pos: int) -> int:  # joined.count(" ", 0, pos), in log time: a long line
        return bisect_left(spaces, pos)  # of glued figures made it quadratic

    for m in _NUMBER.finditer(joined):
        value = m.group().replace("\u066b", ".").replace("\u066c", ",").replace("\u066a", "%")
        value = "".join(value.split())
        # 1,500 is 1500 and 30 في المئة is 30%, shown as written.
        dated = any(mark in value for mark in ":/-")
        figure = value if dated else ungroup_figure(value, joined[m.end() : m.end() + 12])
        if not value.endswith("%") and (pct := PERCENT_WORDS.match(joined, m.end())):
            figure += "%"
            if as_written:  # not in the key's spelling (المءه)
                at = word_at(m.start())  # the figure's word, then the percent words
                words = shown[at + 1 : word_at(pct.end()) + 1]
                value = " ".join([value, *words]).rstrip(_TRAILING)
            else:
                value += "%"  # a share still, never "30 → 30"
        if as_written:  # in the page's digits: ٢٩ stays ٢٩ (the key reads it 29)
            word = shown[word_at(m.start())]
            value = _dated_as_written(value, word) if dated else _as_written(value, word)
        named = None if dated else _MONTH_AFTER.match(joined, m.end())
        if named and figure.isdigit() and 0 < int(figure) < 32:
            # A day and its month: 23 أبريل → 23 مايو is a date changed, not words.
            figure = f"{figure} {named.group(1)}"
            at = word_at(named.start(1))  # the month's own word
            month = shown[at].rstrip(_TRAILING) if as_written else named.group(1)
            if joined[named.start(1) - 1] == " ":
                value += " " + month
            else:  # glued (23أبريل): one word, shown whole
                value = month.lstrip(_LEADING) if as_written else value + month
        out.append((figure, value))
    return out


def _dated_as_written(value: str, word: str) -> str:
    """A time or a date as the page's word has it (the key writes 09:45 as
    9:45 and 2020-03-05 as 5/3/2020)."""
    return _dates_in(word).get(value, value)


# Each read once for all its figures: a stranger's word of 8,000 glued figures
# was read again for each (minutes at 100 KB).
@functools.lru_cache(maxsize=64)
def _dates_in(word: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for m in _NUMBER.finditer(fold_digits(word)):  # one character for one: spans agree
        found.setdefault(one_spelling(m.group()), word[m.start() : m.end()])  # a range's first
    return found


@functools.lru_cache(maxsize=64)
def _zero_of(word: str) -> str | None:
    return next((z for z in ("٠", "۰") if any(z <= ch <= chr(ord(z) + 9) for ch in word)), None)


def _as_written(value: str, word: str) -> str:
    """`value` (ASCII digits) in the digits of `word`, the page's word it was read in."""
    zero = _zero_of(word)  # Arabic-Indic, Persian
    if zero is None:
        return value
    out = "".join(chr(ord(zero) + int(c)) if c.isdigit() else c for c in value)
    for ascii_mark, mark in ((".", "٫"), (",", "٬"), ("%", "٪"), (".", "/")):
        if mark in word and ascii_mark in out:  # "/": Persian's decimal point (۳/۵)
            out = out.replace(ascii_mark, mark)
    return out


def numbers(text: str) -> list[str]:
    """Figures in a text as values (3.5, 2,500, 50%, and 3000 for ثلاثة آلاف)."""
    return [value for value, _shown in figures(text)]


def quotes(text: str) -> list[str]:
    """Quotations in a sentence, and its part of one over several sentences:
    after a « it does not close, before a » it did not open (guillemets only:
    a straight or curly mark alone does not say which way it faces)."""
    found = _QUOTE.findall(text)
    if "'" in text or "\u2018" in text or "\u2019" in text:
        found += _SINGLE.findall(_QUOTE.sub(" ", text))
    if "«" in text or "»" in text:
        rest = _QUOTE.sub(" ", text)
        found += _OPENED.findall(rest) + _CLOSED.findall(rest)
    return [q.strip() for q in found if q.strip()]


_OPENED = re.compile(r"«([^«»\n]{2,400})$")
_CLOSED = re.compile(r"^([^«»\n]{2,400})»")


def negations(text: str) -> list[str]:
    """The negation particles, without their و / ف (no particle starts with
    either): "ولم" → "لم" changes no negation. ألا is أن لا: its لا. Persian's
    negative verbs (نمی‌, نیست, ندارد…) as the key writes them."""
    key = matching_key(text)
    said = [m.group().lower().lstrip("وف") for m in _NEGATION.finditer(key)]
    said = ["لئلا" if n == "لءلا" else n for n in said]  # as written, not as keyed
    return said + ["لا"] * len(_AN_LA.findall(text)) + _NEGATION_FA.findall(key)


# Persian negates its verbs with ن (نمی‌رود, نیست, ندارد): the common forms, as
# the key spells them (ي, ك), none an Arabic word; نمی only before its verb.
_NEGATION_FA = re.compile(
    r"(?<!\w)(?:نمي(?=[\u200c ][^\W\d_])|هرگز|(?:نيست|ندار|نكرد|نبود|نخواه)(?:د|ند|م|يم|ي|يد|ه)?"
    r"|(?:نداشت|نگفت)(?:ند|ه|م|يم)?|(?:نشد|نشود)(?:ند|ه)?|نباشد|نباشند|نبايد|نتوانست(?:ند)?"
    r"|نتوانند|نتواند|نكند|نكنند|نگويد|نگويند)(?!\w)"
)


# ألا ("that ... not"), read before the key folds it into الا, as it folds إلا
# ("except"): only as written with its hamza above.
_AN_LA = re.compile(r"(?<!\w)[وف]?أ[\u064b-\u0652]*ل[\u064b-\u0652]*ا(?!\w)")


def _counter_delta(old: list[str], new: list[str]) -> tuple[list[str], list[str]]:
    a, b = Counter(old), Counter(new)
    return sorted((a - b).elements()), sorted((b - a).elements())


def _figure_delta(
    old: list[tuple[str, str]], new: list[tuple[str, str]]
) -> tuple[list[str], list[str]]:
    """Figures gone and new, compared by value (3 and ثلاثة are one), shown as written."""
    gone, came = _counter_delta([v for v, _ in old], [v for v, _ in new])

    def shown(values: list[str], pool: list[tuple[str, str]]) -> list[str]:
        left = list(pool)
        out = []
        for v in values:
            i = next(i for i, (value, _s) in enumerate(left) if value == v)
            out.append(left.pop(i)[1])
        return out

    return shown(gone, old), shown(came, new)


def _quote_delta(old: list[str], new: list[str]) -> tuple[list[str], list[str]]:
    """Quotations gone and new, compared on the key, shown as written."""
    old_keys = Counter(compact_key(q) for q in old)
    new_keys = Counter(compact_key(q) for q in new)
    gone, came = old_keys - new_keys, new_keys - old_keys
    return [q for q in old if gone.get(compact_key(q), 0) > 0], [
        q for q in new if came.get(compact_key(q), 0) > 0
    ]


def deltas(
    items: list[Item], headline: tuple[str, str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Numbers, quotes and negations that changed, each with its sentence(s);
    `headline` (old, new), when it changed, first, labelled "headline"."""
    out: dict[str, list[dict[str, Any]]] = {"numbers": [], "quotes": [], "negations": []}
    pairs = [("headline", headline[0], headline[1])] if headline else []
    for it in items:
        if it.label in ("unchanged", "cosmetic"):
            continue
        if it.old is not None and it.new is not None and it.old.key == it.new.key:
            continue  # a move that kept its words
        old_s = it.old.text if it.old is not None else ""
        new_s = it.new.text if it.new is not None else ""
        pairs.append((it.label, old_s, new_s))
    for label, old_s, new_s in pairs:
        context = {"label": label, "old_sentence": old_s or None, "new_sentence": new_s or None}
        removed, added = _figure_delta(figures(old_s), figures(new_s))
        if removed or added:
            out["numbers"].append({"removed": removed, "added": added, **context})
        qr, qa = _quote_delta(quotes(old_s), quotes(new_s))
        if qr or qa:
            out["quotes"].append({"removed": qr, "added": qa, **context})
        nr, na = _counter_delta(negations(old_s), negations(new_s))
        if nr or na:
            out["negations"].append({"removed": nr, "added": na, **context})
    return out
