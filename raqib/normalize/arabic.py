"""Arabic text at two levels: the canonical text and the matching key.

The canonical text is what Raqib stores, shows and diffs. It never folds one
letter into another; it only removes what a reader cannot see (bidi controls,
stray zero-width characters), unifies spaces, folds presentation forms one
character at a time and applies NFC. Two pages that look the same give the same
canonical text, so an invisible change never makes a version.

The matching key decides whether a change is only orthographic: it also strips
diacritics and tatweel, folds hamza/alef forms, alef maqsura, ta marbuta,
Persian yeh/kaf, every decimal digit script and Arabic punctuation. It is never
shown; two texts whose keys match differ only cosmetically.

Pure functions, standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from raqib.normalize import dates, numbers

ZWNJ = "\N{ZERO WIDTH NON-JOINER}"
ZWNJ_STANDIN = "\U00016fe0"  # ZWNJ through trafilatura, which deletes it (extract.article)
ZWJ = "\N{ZERO WIDTH JOINER}"

# Invisible controls that never carry meaning in running text.
_INVISIBLE = frozenset(
    [
        "\N{LEFT-TO-RIGHT MARK}",
        "\N{RIGHT-TO-LEFT MARK}",
        "\N{ARABIC LETTER MARK}",
        "\N{LEFT-TO-RIGHT EMBEDDING}",
        "\N{RIGHT-TO-LEFT EMBEDDING}",
        "\N{POP DIRECTIONAL FORMATTING}",
        "\N{LEFT-TO-RIGHT OVERRIDE}",
        "\N{RIGHT-TO-LEFT OVERRIDE}",
        "\N{LEFT-TO-RIGHT ISOLATE}",
        "\N{RIGHT-TO-LEFT ISOLATE}",
        "\N{FIRST STRONG ISOLATE}",
        "\N{POP DIRECTIONAL ISOLATE}",
        "\N{ZERO WIDTH SPACE}",
        "\N{WORD JOINER}",
        "\N{ZERO WIDTH NO-BREAK SPACE}",
        "\N{SOFT HYPHEN}",
        "\N{MONGOLIAN VOWEL SEPARATOR}",
        "\N{FUNCTION APPLICATION}",
        "\N{INVISIBLE TIMES}",
        "\N{INVISIBLE SEPARATOR}",
        "\N{INVISIBLE PLUS}",
    ]
)

# Spaces of every width become one ordinary space.
_SPACES = frozenset(
    [
        "\t",
        "\v",
        "\f",
        "\r",
        "\N{NO-BREAK SPACE}",
        "\N{OGHAM SPACE MARK}",
        "\N{NARROW NO-BREAK SPACE}",
        "\N{MEDIUM MATHEMATICAL SPACE}",
        "\N{IDEOGRAPHIC SPACE}",
        *(chr(c) for c in range(0x2000, 0x200B)),  # EN QUAD .. HAIR SPACE
    ]
)
_LINE_BREAKS = frozenset(["\N{LINE SEPARATOR}", "\N{PARAGRAPH SEPARATOR}", "\x85"])


def _is_letter_like(ch: str) -> bool:
    """A letter or a mark riding on one: what a joiner may sit between."""
    return unicodedata.category(ch)[0] in "LM"


def canonical_line(text: str) -> str:
    """Canonical form of one paragraph: a single line, spaces collapsed."""
    if _PLAIN.fullmatch(text):  # nothing canonical() would change but spacing
        return " ".join(text.split())
    return " ".join(_canonical_chars(text).split())  # canonical()'s lines, joined


# Printable ASCII, ordinary whitespace, the Arabic and Persian letters, digits
# and punctuation, guillemets, dashes, quotes and ellipses (U+2010-2027,
# U+2030-205E) and the brackets U+27E6-27EF, all their own NFC form: text made
# only of these has nothing invisible, no presentation forms and no marks to
# reorder. (A dash in a dateline sent every such paragraph the slow way.)
_PLAIN = re.compile(
    "[\t\n\r\x20-\x7e\xab\xbb\u060c\u061b\u061f\u0621-\u063a\u0640-\u064a"
    "\u0660-\u0669\u067e\u0686\u0698\u06a9\u06af\u06cc"
    "\u2010-\u2027\u2030-\u205e\u27e6-\u27ef]*"
)


# Three regex passes (in C) do most of the work: invisibles go, odd spaces and
# controls become spaces, line separators newlines (str.translate, a dict
# lookup a character, is several times slower, on every page's text).
def _class(chars: Iterable[str]) -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(ch) for ch in sorted(chars)) + "]")


_DROP = _class(_INVISIBLE)
_TO_SPACE = _class(
    _SPACES | {chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0)) if c not in (0x0A, 0x85)}
)
_TO_NEWLINE = _class(_LINE_BREAKS)
_PRESENTATION = re.compile("[\ufb50-\ufdcf\ufdf0-\ufdff\ufe70-\ufefe]")


def _fold_presentation(m: re.Match[str]) -> str:
    # One character at a time: NFKC of the whole text would also fold
    # superscripts, full-width Latin and the like, which are visible.
    return unicodedata.normalize("NFKC", m.group())


def canonical(text: str) -> str:
    """The canonical text: invisible differences removed, letters untouched.

    Paragraph breaks survive as single newlines; every other run of spaces
    becomes one space; lines are stripped and empty lines dropped.
    """
    lines = (" ".join(line.split()) for line in _canonical_chars(text).split("\n"))
    return "\n".join(line for line in lines if line)


def _canonical_chars(text: str) -> str:
    """canonical() character by character, before lines and spaces are tidied."""
    chars = _TO_NEWLINE.sub("\n", _TO_SPACE.sub(" ", _DROP.sub("", text)))
    if _PRESENTATION.search(chars):
        chars = _PRESENTATION.sub(_fold_presentation, chars)
    chars = _drop_stray_joiners(chars)
    if not unicodedata.is_normalized("NFC", chars):
        chars = unicodedata.normalize("NFC", chars)
    return chars


_JOINER_RUN = re.compile(f"[{ZWNJ}{ZWJ}]+")


def _drop_stray_joiners(text: str) -> str:
    """Keep one ZWNJ/ZWJ between two letters (it changes shaping); drop the rest."""
    if ZWNJ not in text and ZWJ not in text:
        return text

    def one_or_none(m: re.Match[str]) -> str:
        start, end = m.span()
        between = 0 < start and end < len(text)
        if between and _is_letter_like(text[start - 1]) and _is_letter_like(text[end]):
            return m.group()[0]  # the first joiner of a run speaks for the run
        return ""

    return _JOINER_RUN.sub(one_or_none, text)


# --- the matching key -------------------------------------------------------

_LETTER_FOLDS = {
    "\N{ARABIC LETTER ALEF WITH MADDA ABOVE}": "\N{ARABIC LETTER ALEF}",
    "\N{ARABIC LETTER ALEF WITH HAMZA ABOVE}": "\N{ARABIC LETTER ALEF}",
    "\N{ARABIC LETTER ALEF WITH HAMZA BELOW}": "\N{ARABIC LETTER ALEF}",
    "\N{ARABIC LETTER ALEF WASLA}": "\N{ARABIC LETTER ALEF}",
    "\N{ARABIC LETTER ALEF WITH WAVY HAMZA ABOVE}": "\N{ARABIC LETTER ALEF}",
    "\N{ARABIC LETTER ALEF WITH WAVY HAMZA BELOW}": "\N{ARABIC LETTER ALEF}",
    "\N{ARABIC LETTER ALEF MAKSURA}": "\N{ARABIC LETTER YEH}",
    "\N{ARABIC LETTER TEH MARBUTA}": "\N{ARABIC LETTER HEH}",
    "\N{ARABIC LETTER WAW WITH HAMZA ABOVE}": "\N{ARABIC LETTER HAMZA}",
    "\N{ARABIC LETTER YEH WITH HAMZA ABOVE}": "\N{ARABIC LETTER HAMZA}",
    "\N{ARABIC LETTER FARSI YEH}": "\N{ARABIC LETTER YEH}",
    "\N{ARABIC LETTER KEHEH}": "\N{ARABIC LETTER KAF}",
    "\N{ARABIC LETTER HEH WITH YEH ABOVE}": "\N{ARABIC LETTER HEH}",  # Persian's ezafe: دربارۀ
    "\N{ARABIC TATWEEL}": "",
    # Arabic punctuation → ASCII
    "\N{ARABIC COMMA}": ",",
    "\N{ARABIC SEMICOLON}": ";",
    "\N{ARABIC QUESTION MARK}": "?",
    "\N{ARABIC PERCENT SIGN}": "%",
    "\N{ARABIC DECIMAL SEPARATOR}": ".",
    "\N{ARABIC THOUSANDS SEPARATOR}": ",",
    "\N{ARABIC FULL STOP}": ".",
    "\N{ARABIC FIVE POINTED STAR}": "*",
    "\N{ARABIC-INDIC PER MILLE SIGN}": "\N{PER MILLE SIGN}",  # not %: a tenth of it
    # Quote marks → ASCII
    "\N{LEFT-POINTING DOUBLE ANGLE QUOTATION MARK}": '"',
    "\N{RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK}": '"',
    "\N{SINGLE LEFT-POINTING ANGLE QUOTATION MARK}": '"',
    "\N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}": '"',
    "\N{LEFT DOUBLE QUOTATION MARK}": '"',
    "\N{RIGHT DOUBLE QUOTATION MARK}": '"',
    "\N{DOUBLE LOW-9 QUOTATION MARK}": '"',
    "\N{DOUBLE HIGH-REVERSED-9 QUOTATION MARK}": '"',
    "\N{FULLWIDTH QUOTATION MARK}": '"',
    "\N{DOUBLE PRIME}": '"',
    "\N{LEFT SINGLE QUOTATION MARK}": "'",
    "\N{RIGHT SINGLE QUOTATION MARK}": "'",
    "\N{SINGLE LOW-9 QUOTATION MARK}": "'",
    "\N{SINGLE HIGH-REVERSED-9 QUOTATION MARK}": "'",
    "\N{PRIME}": "'",
    # Dashes and the ellipsis
    "\N{EN DASH}": "-",
    "\N{EM DASH}": "-",
    "\N{FIGURE DASH}": "-",
    "\N{HORIZONTAL BAR}": "-",
    "\N{HYPHEN}": "-",
    "\N{NON-BREAKING HYPHEN}": "-",
    "\N{MINUS SIGN}": "-",
    "\N{HORIZONTAL ELLIPSIS}": "...",
}

_ARABIC_RANGES = (
    (0x0600, 0x06FF),
    (0x0750, 0x077F),
    (0x0870, 0x08FF),
    (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFF),
)


def _is_arabic_mark(ch: str) -> bool:
    """Harakat, tanween, shadda, sukun, superscript alef, Quranic marks."""
    if unicodedata.category(ch) != "Mn":
        return False
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _ARABIC_RANGES)


def _fold_char(ch: str) -> str:
    folded = _LETTER_FOLDS.get(ch)
    if folded is not None:
        return folded
    if _is_arabic_mark(ch):
        return ""
    if ch.isdecimal():
        # Arabic-Indic, Extended Arabic-Indic (Persian/Urdu) and every other
        # decimal digit script count the same as ASCII digits.
        return str(unicodedata.decimal(ch))
    return ch


# Characters _fold_char leaves alone that make up most running text (ASCII,
# the basic Arabic letters): only the others go through it, found by a regex.
_KEPT = "".join(
    ch for ch in map(chr, (*range(0x20, 0x7F), *range(0x0621, 0x064B))) if _fold_char(ch) == ch
)
_TO_FOLD = re.compile("[^" + re.escape(_KEPT) + "\n]")
# The letters behind nearly all of the folding in running Arabic text (ة and
# أ alone, about 70%): each is replaced in C, and the regex meets the rare rest.
_COMMON_FOLDS = tuple((ch, _LETTER_FOLDS[ch]) for ch in "ةأىإئؤ")


def _fold(text: str) -> str:
    """Every character of `text` through _fold_char."""
    for ch, folded in _COMMON_FOLDS:
        text = text.replace(ch, folded)
    return _TO_FOLD.sub(lambda m: _fold_char(m.group()), text)


# Digits grouped by thousands (1,500, and 1,500.5 before its decimals; ١٬٥٠٠ is
# 1,500 by then): not 3,25 or 1,5, nor 0,250 (no group starts a number with 0).
# The look-behind comes after the first digit: the scan then skips in C.
_THOUSANDS = re.compile(r"[1-9](?<![\d.,][1-9])\d{0,2}(?:,\d{3})+(?!\d|,\d|\.\d+[.,]\d)")
# A three-decimal currency: "1,350 دينار" may be a dinar and 350 fils, so one
# group before it is not read as thousands (1,350,000 دينار is).
_FILS = re.compile(r" ?(?:ال)?(?:دينار|دنانير)")
# The Arabic comma between digits separates a list (1،500 is 1 and 500).
_LIST_COMMA = re.compile(r"\u060c(?<=\d\u060c)(?=\d)")  # the comma first: found fast


# Not a year's (۱۴۰۱/۱۴۰۲, ۱۴۰۲/۳): three digits at most before it, three after.
_PERSIAN_DECIMAL = re.compile(r"(?<![۰-۹/])([۰-۹]{1,3})/([۰-۹]{1,3})(?![/۰-۹])")
# In a Persian text (a letter only Persian has: not ی or ک, which Iran's Arabic-language
# outlets type too), its ASCII digits' too: نرخ 3/5 درصد.
_PERSIAN_DECIMAL_ANY = re.compile(r"(?<![0-9۰-۹/])([0-9۰-۹]{1,3})/([0-9۰-۹]{1,3})(?![/0-9۰-۹])")
_PERSIAN_ONLY = re.compile("[پچژگ]|درصد")


def matching_key(text: str, *, fold_numbers: bool = True, keep_grouping: bool = False) -> str:
    """The orthography-blind key of a text. Equal keys = cosmetic difference.

    Numbers written in words become their value (`ثلاثة آلاف` and `3 آلاف`
    are `3000`), unless `fold_numbers` is off; digits grouped by thousands
    lose their separators (`1,500` is `1500`) and a percentage is written
    `30%` however it was (`30 في المئة`), unless `keep_grouping` is on (the
    search index's key, `search_key`, and the facts' words as written).
    """
    if not keep_grouping:
        text = list_commas(text)
    text = canonical(text)
    if "/" in text:  # Persian's decimal point, typed as a slash: ۳/۵ is ۳٫۵ (not a date's)
        persian = _PERSIAN_DECIMAL_ANY if _PERSIAN_ONLY.search(text) else _PERSIAN_DECIMAL
        text = persian.sub("\\1\u066b\\2", text)
    folded = _fold(numbers.one_scale(text)).casefold()
    # A joiner kept between a mark and a letter is stray once the mark is gone.
    folded = _drop_stray_joiners(folded)
    # Diacritics removed from a letter leave the letter; spacing never matters.
    lines = (" ".join(line.split()) for line in folded.split("\n"))
    key = dates.one_spelling("\n".join(line for line in lines if line))
    if not keep_grouping:
        key = ungroup(key)
    key = numbers.fold(key) if fold_numbers else key
    if not keep_grouping and ("%" in key or "ءه" in key or "درصد" in key):
        key = _PERCENT.sub(r"\1%", key)
    return key


# A percentage however written: 30%, 30 %, 30 في المئة (المائة), 30 بالمئة, ۳۰ درصد.
_PERCENT = re.compile(r"(\d)(?: %| في الما?ءه| بالما?ءه| درصد)(?=\s|$|[^\w\s])")
PERCENT_WORDS = re.compile(r"\s*(?:%|في الما?ءه|بالما?ءه|درصد)(?=\s|$|[^\w\s])")


def ungroup(key: str) -> str:
    """Digits grouped by thousands without their separators: 1,500 → 1500."""
    if "," not in key:
        return key
    return _THOUSANDS.sub(lambda m: _ungrouped(m.group(), key[m.end() : m.end() + 12]), key)


def _ungrouped(number: str, after: str) -> str:
    if number.count(",") == 1 and _FILS.match(after):
        return number  # 1,350 دينار: perhaps 1.35 dinars
    return number.replace(",", "")


def ungroup_figure(number: str, after: str) -> str:
    """`ungroup` of one figure (as the key writes it, a % at most after it) before `after`."""
    digits, percent = (number[:-1], "%") if number.endswith("%") else (number, "")
    whole, dot, decimals = digits.partition(".")
    if not _THOUSANDS.fullmatch(whole) or (dot and not decimals.isdigit()):
        return number
    return _ungrouped(whole, dot or after) + dot + decimals + percent  # 1,350.5: not fils


def list_commas(text: str) -> str:
    """The text with a space after each Arabic comma between digits (a list)."""
    return _LIST_COMMA.sub("\u060c ", text) if "\u060c" in text else text


# Raised whenever search_key's output changes (the index keys again, a pass at a time, what
# an older spelling keyed). 1, 2, 3: analyzers 7-9's numbers; 4: ألف و500 is 1500, one name
# a month; 5: ألفاً alone is 1000, ‰ no %, و 500 as و500; 6: ۀ is ه; 7: الثلاث is ال3,
# ۳/۵ is 3.5, a Hijri year's date is a date.
SEARCH_SPELLING = 7


def search_key(text: str) -> str:
    """The key the search index holds, and searches are read with: digit
    grouping kept, as every version was indexed with it."""
    return matching_key(text, keep_grouping=True)


# What typing alone changes beside the key's folds: spacing, ZWNJ (می‌نمایند), stops, commas,
# dashes, a quote's marks single or double. Quotes and brackets stay (taken off, a quote is
# a paraphrase), so do ? and ! ("انتهت الحرب؟") and a mark by a number (3.5, "1، 500", -5).
_LOOSE = re.compile(
    r"[\s\u200c\u200d]+|(?<!\d)[.,،؛:]|[.,،؛:](?!\s*\d)|(?<!\d)(?<!\d\s)-+(?!\s?\d)"
)
# A short name's hyphen to its number (كوفيد-19, F-16, ميغ-29); not a sign after a word
# with the article or a preposition (الحراره-3, الي-5: minus 5).
_NAMED = re.compile(
    r"(?<![\w-])(?!ال|(?:حتي|من|بين|نحو|عند|دون|تحت|ناقص|to|from|at|below|under|minus)-)"
    r"([^\W\d_]{1,6})-(?=\d)"
)
_SINGLE = re.compile(r"(?<!\d)'")  # not a minute's mark (45', 33°30')


def compact_key(text: str) -> str:
    """The matching key without spacing and sentence punctuation: their edits vanish."""
    return compact(matching_key(text))


def compact(key: str) -> str:
    """compact_key of a text whose matching key is `key` (when it is at hand)."""
    if "-" in key:
        key = _NAMED.sub(r"\1", key)
    if "'" in key:
        key = _SINGLE.sub('"', key)
    return _LOOSE.sub("", key)


def fold_digits(text: str) -> str:
    """ASCII digits for every decimal digit script, everything else untouched."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)
