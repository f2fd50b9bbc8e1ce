"""Arabic numbers written as words, read as values.

"ثلاثة" and "3" are one figure; "ثلاثة آلاف", "3 آلاف" and "3000" are one
figure; "ثلاثة" → "خمسة" is a change of figure. The matching key replaces
each number written in words (or in digits with a scale word) by its value
in ASCII digits, so a change between forms of a value is cosmetic and a
change of value is not.

Read: cardinals (واحد…عشرة with their feminine, case and accusative forms, أحد عشر…
تسعة عشر, the tens, مئة/مائة and its multiples, ألف/آلاف, مليون/ملايين,
مليار/مليارات with their duals), numbers joined by و, digits with a scale
word (`3 آلاف`, `2.5 مليون`), and ordinals where they count (للمرة الثالثة).
Words that are also everyday words are only read inside a number: أحد
(Sunday, "anyone") and ست ("lady") alone are not figures. With the article, the
words that are numbers only (numerals.DEFINITE: الثلاث, الأربع والعشرين) are
read, the article kept (ال3, as الـ3 is keyed).

Works on matching-key text (no diacritics, hamza and alef folded, ة → ه,
ى → ي, ASCII digits), word by word.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from raqib.normalize.numerals import (
    ARTICLED,
    COUNTED,
    DEFINITE,
    DUAL_SCALES,
    HALF,
    HUNDREDS,
    INNER_UNITS,
    ORDINALS,
    SCALES,
    TENS,
    UNITS,
)

# Digits before a scale word: 3.5, 1,500, and grouped with decimals (1,500.5,
# 24,118,700), as facts.figures reads them before the key ungroups them.
_DIGITS = re.compile(r"^(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?)$")
_STEMS = re.compile(
    r"واحد|اثن|ثلاث|اربع|خمس|ست|سبع|ثمان|تسع|عشر|مءه|ماءه|مءت|ماءت|الف|الاف|مليو|ملاي|مليار|مره"
)
_PREFIX = "و"


def _word_value(word: str, inside: bool) -> tuple[str, int] | None:
    """(kind, value) of a number word; `inside`: already within a number."""
    for w in (word, word[1:] if word.startswith(_PREFIX) and len(word) > 2 else None):
        if w is None:
            continue
        if w in UNITS:
            return "unit", UNITS[w]
        if inside and w in INNER_UNITS:
            return "unit", INNER_UNITS[w]
        if w in TENS:
            return "ten", TENS[w]
        if w in HUNDREDS:
            return "hundred", HUNDREDS[w]
        if w in DUAL_SCALES:
            return "dual", DUAL_SCALES[w]
        if w in SCALES:
            return "scale", SCALES[w]
    if (before := _definite(word)) is not None:
        return _word_value(word[len(before) :], inside)
    return None


def _definite(word: str) -> str | None:
    """What comes before a number word with the article (ال, وال, بال, لل…), if it is one."""
    return next(
        (c for c in ARTICLED if word.startswith(c) and "ال" + word[len(c) :] in DEFINITE), None
    )


_GROUPED = re.compile(r"^[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$")  # no group starts with 0


def _digits(word: str) -> float | None:
    """Digits' value: 1,500 is grouped (1500), any other comma a decimal
    one, as the Maghreb's outlets write them: 2,5 مليون is 2.5 million."""
    if not _DIGITS.match(word):
        return None
    return float(word.replace(",", "") if _GROUPED.match(word) else word.replace(",", "."))


def _show(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


_CONSTRUCT_DUALS = {"الفا", "مليونا", "مليارا"}  # after a count: "ثلاثون مليونا" (30 million)
_PARTICLES = {"من", "في", "علي", "الي", "عن", "حتي", "او", "مع", "بين", "منذ", "خلال", "فقط",
              "نحو", "تقريبا", "حوالي", "لكل", "كل", "منهم", "منهن", "ممن", "منها"}  # fmt: skip
_ONE_SCALE = re.compile(r"([أا]لف|مليون|مليار)(?:ا\u064b|\u064bا)(?![^\W\d_])")


def one_scale(text: str) -> str:
    """ألفاً (ألفًا, مليوناً, ملياراً) written ألف while its tanween says it is one:
    the key drops the mark, and then spells it as the dual ألفا (ألفا جندي)."""
    return _ONE_SCALE.sub(r"\1", text) if "\u064b" in text else text


_PLURAL_SCALES = {"الاف", "ملايين", "مليارات"}  # "thousands": a count only after a number
_WITH_ARTICLE = {c + w[2:] for w in DEFINITE for c in ARTICLED}  # بالثلاث, وللخمسة
_KNOWN = {*UNITS, *INNER_UNITS, *TENS, *HUNDREDS, *SCALES, *DUAL_SCALES, *_WITH_ARTICLE}
# Every word a number can start with (_number_at), with and without its و,
# digits aside: a superset, so that spans can pass over the other words.
# A fraction of the scale word after it: "نصف مليون" is 500000, "ربع مليار".
_FRACTIONS = {"نصف": 0.5, "ربع": 0.25}
_STARTS = {
    *(w for table in (UNITS, TENS, HUNDREDS, SCALES, DUAL_SCALES, _FRACTIONS)
      for k in table for w in (k, _PREFIX + k)),
    *INNER_UNITS, *COUNTED, *_WITH_ARTICLE,
}  # fmt: skip


# A word that begins with a digit, or with و and a digit, in words joined by spaces.
_DIGIT_WORD = re.compile(rf"(?<![^ ]){_PREFIX}?\d")


def _starts(words: list[str]) -> list[int]:
    """The words a number may begin at, in order: one of _STARTS, or one
    that begins with a digit (_number_at returns None at any other). Found
    with a set and a regex, which run in C: most words are neither."""
    line = " ".join(words)
    at, index, pos = [], 0, 0
    for m in _DIGIT_WORD.finditer(line):
        index += line.count(" ", pos, m.start())  # the spaces before it number it
        pos = m.start()
        at.append(index)
    if _STARTS.isdisjoint(words):
        return at
    return sorted({*at, *(i for i, w in enumerate(words) if w in _STARTS)})


# Punctuation a key keeps on a word's edges: a number's first word may open
# with it and its last close with it ("(ثلاثة)", "آلاف."), and none other.
OPENING = "(«\"'\u201c\u201e["
CLOSING = ".,،؛:!?؟)»\"'\u201d]\u200e\u200f"
# What may be a number's word, with and without its و: only such a word
# with punctuation on its edge makes the punctuation matter.
_NUMBERISH = {w for k in (*_KNOWN, *_STARTS, *HALF, *ORDINALS, *COUNTED) for w in (k, _PREFIX + k)}


def _core(word: str) -> str:
    """A word without its opening and closing punctuation (".5" keeps its point)."""
    return word.lstrip(OPENING).rstrip(CLOSING)


def _numberish(core: str) -> bool:
    if core in _NUMBERISH or core[:1].isdigit() or core[1:2].isdigit():
        return True
    return core.startswith("ال") and core[2:] in SCALES  # ونصف المليون


def spans(words: list[str]) -> list[tuple[int, int, str]]:
    """(first word, after the last word, value) of each number written in
    words; punctuation on a word's edges bounds a number, and is not read."""
    edged = (w for w in words if w[-1:] in CLOSING or w[:1] in OPENING)
    if not any(_numberish(_core(w)) for w in edged if w):
        return _spans(words)  # punctuation beside no number word changes nothing
    cores = [_core(w) for w in words]  # the rare line: read between the marks
    out, first = [], 0
    for i, (w, core) in enumerate(zip(words, cores, strict=True)):
        if core and i > first and not w.startswith(core):  # opens with punctuation
            out += _shifted(cores, first, i)
            first = i
        if core and not w.endswith(core):  # closes with punctuation: a number ends here
            out += _shifted(cores, first, i + 1)
            first = i + 1
    return out + _shifted(cores, first, len(cores))


def _shifted(words: list[str], start: int, end: int) -> list[tuple[int, int, str]]:
    return [(a + start, b + start, v) for a, b, v in _spans(words[start:end])]


def _spans(words: list[str]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    i = 0
    at = _starts(words)
    for start in at:
        if start < i:
            continue  # inside the number found before
        i = start
        if words[i] in COUNTED and i + 1 < len(words) and words[i + 1] in ORDINALS:
            out.append((i + 1, i + 2, str(ORDINALS[words[i + 1]])))  # "للمرة الثالثة"
            i += 2
            continue
        if _bare(words[i]) in _PLURAL_SCALES:
            continue  # "ملايين الدولارات": many, not a figure
        found = _number_at(words, i)
        if found is None:
            continue
        end, value = found
        out.append((i, end, _show(value)))
        i = end
    return out


def _bare(word: str) -> str:
    """The word without a leading و that is not part of it."""
    if word.startswith(_PREFIX) and word not in _KNOWN and len(word) > 2:
        return word[1:]
    return word


_AND_DIGITS = re.compile(r"^و(\d+|[1-9]\d{0,2}(?:,\d{3})+)$")


def _remainder(words: list[str], k: int, total: float, scale: float) -> tuple[int, float]:
    """A figure's remainder written in digits after its scale word: ألف و500
    is 1500, 49 ألفا و759 is 49759, مليار و200 مليون is 1.2 billion. Only
    less than the scale it follows (ألف و2000 is two numbers), and after a
    whole count of it (3.5 مليون و2500 is a figure and a number)."""
    while k < len(words) and total % scale == 0 and (found := _and_digits(words, k)):
        value, step = _digits(found[0]), found[1]
        if value is None or value <= 0:
            break
        after = _word_value(words[k + step], True) if k + step < len(words) else None
        if after is not None and after[0] in ("scale", "dual"):
            if after[0] == "dual" or value * after[1] >= scale:
                break  # "بين مليون و3 ملايين": a number of its own
            total, scale, k = total + value * after[1], after[1], k + step + 1  # و200 مليون
            continue
        if value < scale:
            total, k = total + value, k + step
        break
    return k, total


def _and_digits(words: list[str], k: int) -> tuple[str, int] | None:
    """The digits after و at k (و500, or و 500 as typed), and the words they take."""
    spaced = words[k] == "و" and k + 1 < len(words)
    m = _AND_DIGITS.match("و" + words[k + 1] if spaced else words[k])
    return (m.group(1), 2 if spaced else 1) if m else None


def _the_scale(words: list[str], k: int, scale: float) -> int:
    """Past the scale named again after a half (ثلاثة ملايين ونصف المليون), else k."""
    if k < len(words) and _word_value(words[k].removeprefix("ال"), True) == ("scale", scale):
        return k + 1  # ونصف المليون, ونصف مليون
    return k


# The ordinals عشر ends (الحادي عشر … التاسع عشر), as the key spells them.
_BEFORE_TEN = frozenset(
    p + w for w in ("حادي", "حاديه", "ثاني", "ثانيه", "ثالث", "ثالثه", "رابع", "رابعه", "خامس",
                    "خامسه", "سادس", "سادسه", "سابع", "سابعه", "ثامن", "ثامنه", "تاسع", "تاسعه")
    for p in ("ال", "وال", "")
)  # fmt: skip


def _tenth_or_ordinal(words: list[str], i: int) -> bool:
    """عشر alone is 10 before its noun (اعتقلت الشرطة عشر نساء); after an
    ordinal it ends it (الحادي عشر, الحادية عشرة), and before a word with the
    article it is a tenth (عشر الميزانية)."""
    before = words[i - 1] if i else ""
    after = words[i + 1] if i + 1 < len(words) else ""
    tenth = _bare(words[i]) == "عشر" and after.startswith(("ال", "وال"))
    return before in _BEFORE_TEN or tenth


def _number_at(words: list[str], i: int) -> tuple[int, float] | None:
    total, current, j, used_words, scale = 0.0, 0.0, i, False, 0
    least, began = float("inf"), i  # the smallest scale read; where `current` began
    digits = _digits(_bare(words[i]))
    if digits is not None:
        # Digits count only with a scale word after them: "3 آلاف", "2.5 مليون".
        after = _word_value(words[i + 1], True) if i + 1 < len(words) else None
        if after is not None and after[0] == "scale":
            if i + 2 < len(words) and words[i + 2] in HALF and digits == int(digits):
                # "2 مليار ونصف"
                return _the_scale(words, i + 3, after[1]), (digits + 0.5) * after[1]
            return _remainder(words, i + 2, digits * after[1], after[1])
        return None
    if (part := _FRACTIONS.get(_bare(words[i]))) is not None:
        after = _word_value(words[i + 1], True) if i + 1 < len(words) else None
        if after is not None and after[0] == "scale" and _bare(words[i + 1]) in SCALES:
            return i + 2, part * after[1]  # "نصف مليون"; "نصف الساعة" is no number
        return None
    if _bare(words[i]) in ("عشر", "عشره") and _tenth_or_ordinal(words, i):
        return None
    if i and words[i - 1] in _BEFORE_TEN and _definite(words[i]) is not None:
        return None  # "الخامسة والعشرين", "الحادي والعشرين": an ordinal's ten, no figure
    while j < len(words):
        word = _word_value(words[j], inside=used_words)
        if word is None and scale and not current and _and_digits(words, j):
            j, total = _remainder(words, j, total, scale)  # "ألف و500"
            break
        if word is None and scale and not current and words[j] in HALF:
            total += scale / 2  # "مليون ونصف": half the scale just read
            j = _the_scale(words, j + 1, scale)
            scale = 0
            continue
        if word is None:
            # "احد عشر", "ست مءه": words that are numbers only before another number word.
            w = words[j]
            if not used_words and w in INNER_UNITS and j + 1 < len(words):
                nxt = _word_value(words[j + 1], inside=True)
                if (
                    nxt is not None
                    and nxt[0] in ("unit", "hundred", "scale", "dual")
                    and (w not in ("احد", "احدي") or words[j + 1] in ("عشر", "عشره"))
                ):
                    began = j if not current else began
                    current += INNER_UNITS[w]
                    used_words = True
                    j += 1
                    continue
            break
        kind, value = word
        if (
            kind in ("scale", "dual")
            and total
            and (value // 2 if kind == "dual" else value) >= least
        ):
            return (began if current else j), total  # "بين عشرة آلاف وعشرين ألفا": two figures
        if (
            kind == "unit"
            and value == 10
            and 0 < current % 100 < 10
            and _bare(words[j]) == words[j]
        ):
            current += 10  # ثلاثة عشر, ثلاثمائة وخمسة عشر (not "خمسة وعشرة": two)
        elif kind == "hundred" and current and current < 10 and value == 100:
            current *= 100  # ثلاث مئة
        elif (
            kind == "scale"
            and not (current or total)
            and _bare(words[j]) in _CONSTRUCT_DUALS
            # A dual before its noun ("ألفا جندي"); its tanween unwritten, one's accusative
            # at the end, before punctuation (where spans end) or a particle (ألفا من).
            and j + 1 < len(words)
            and words[j + 1][:1].isalpha()
            and words[j + 1] not in _PARTICLES
        ):
            total += 2 * value  # "مليونا دولار": two million (a dual before its noun)
            scale = value
        elif kind == "scale":
            total += (current or 1) * value
            current, scale, least = 0, value, min(least, value)
        elif kind == "dual":
            if current:
                break  # "مئة وألفين": a count is no dual's; two figures
            total += value
            scale = least = value // 2
        else:
            below = current % 100
            if (
                (kind == "unit" and below)
                or (kind == "ten" and below >= 10)
                or (kind == "hundred" and current % 1000 >= 100)
            ):
                break  # "بين ثلاث وسبع", "بين العشرين والخمسين": two figures, not their sum
            began = j if not current else began
            current += value
            scale = 0
        used_words = True
        j += 1
    if not used_words:
        return None
    return j, total + current


def before_scale(written: str, figure: str) -> bool:
    """Whether `written` (a key with its numbers unfolded) holds `figure` just
    before a scale word, where `fold` reads the two as one value (3.5 in "3.5
    ملياراً", never a bare 3500): `search`'s, `changes --search`'s and keywords' rule."""
    return any(
        end - at > 1 and _bare(_core(words[at])) == figure  # digits only with a scale word
        for words in (line.split(" ") for line in written.split("\n"))
        for at, end, _ in spans(words)
    )


def scale_words(key: str) -> bool:
    """Whether the number words of a key (unfolded) are scale words only
    (مليار, ملايين, آلاف): words a reader also looks for after any figure.
    Not a unit or a ten, which must match a number whole (خمس is not خمسين)."""
    words = [_bare(w) for w in key.split()]
    scales = [w for w in words if w in SCALES or w in DUAL_SCALES]
    return bool(scales) and not any(
        w in UNITS or w in TENS or w in HUNDREDS or w in INNER_UNITS for w in words
    )


def fold(key: str, show: Callable[[str], str] | None = None) -> str:
    """The key with every number written in words replaced by its value."""
    if not _STEMS.search(key):
        return key  # most sentences: nothing to read
    lines = []
    for line in key.split("\n"):
        words = line.split(" ")
        found = spans(words)
        if not found:
            lines.append(line)
            continue
        out, at = [], 0
        for start, end, value in found:
            out.extend(words[at:start])
            first, last = words[start], words[end - 1]
            core = first.lstrip(OPENING)
            opening = first[: len(first) - len(core)]
            core = core.rstrip(CLOSING) if start == end - 1 else core
            prefix = _definite(core)  # kept: الأربع والعشرين is الـ24, بالثلاث بالـ3
            prefix = (_PREFIX if _bare(core) != core else "") if prefix is None else prefix
            out.append(opening + prefix + value + last[len(last.rstrip(CLOSING)) :])
            at = end
        out.extend(words[at:])
        lines.append(" ".join(out))
    return "\n".join(lines)
