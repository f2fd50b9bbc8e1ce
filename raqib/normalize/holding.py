"""Whether a text holds words: `raqib search`'s, `changes --search`'s and
keywords' rule, on the matching key (arabic.matching_key)."""

from __future__ import annotations

import re

from raqib.normalize import numbers
from raqib.normalize.arabic import compact, matching_key

# A number whole (3.5 and 1,000 are one token), or a word's letters: و2500 is و, 2500.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")


# Letters written onto a number (و2500, ب3 ملايين): a search for it looks for these too.
NUMBER_CLITICS = ("و", "ب", "ل", "ف", "ك", "وب", "ول", "فب", "فل", "وك", "ال", "وال", "بال", "لل")


def holds(key: str, words: str) -> bool:
    """Whether a text whose matching key is `key` holds `words` (a matching key
    too). Words match as the keys do, spacing aside (والانسحاب holds الانسحاب).
    Numbers match only whole: خمسة is 5, which 2500, 3.5 and 50 (خمسين) are not."""
    if not any(ch.isdigit() for ch in words):
        return bool(words.strip()) and compact(words) in compact(key)
    want, have = _TOKEN.findall(words), _TOKEN.findall(key)
    return any(
        all(w == h if w[0].isdigit() else w in h for w, h in zip(want, have[i:], strict=False))
        for i in range(len(have) - len(want) + 1)
    )


def text_holds(texts: list[str], words: str) -> bool:
    """Whether any of `texts` holds `words` (`holds`): by value; with the
    figures as written (في المئة, which the key writes %); where its number
    words are scale words, those words whole as written (مليار: one billion, and
    the word after any figure, never in الملياردير); a decimal figure also
    before its scale word (3.5 مليون), by `raqib search`'s rule."""
    key = matching_key(words)
    if not key:
        return False
    if any(holds(matching_key(t), key) for t in texts):
        return True
    plain = matching_key(words, keep_grouping=True)
    if any(holds(matching_key(t, keep_grouping=True), plain) for t in texts):
        return True
    written = matching_key(words, fold_numbers=False)
    figures = [w for w in written.split() if _DECIMAL.search(w)]
    return (numbers.scale_words(written) or bool(figures)) and any(
        _words_in(have.split(), written.split())
        and all(numbers.before_scale(have, f) for f in figures)
        for have in (matching_key(t, fold_numbers=False) for t in texts)
    )


_DECIMAL = re.compile(r"\d\.\d")


def _words_in(have: list[str], want: list[str]) -> bool:
    """`want` as whole words in `have`, each perhaps with a clitic written on."""

    def same(h: str, w: str) -> bool:
        return h == w or any(h == c + w for c in NUMBER_CLITICS)

    return any(
        all(same(h, w) for h, w in zip(have[i : i + len(want)], want, strict=True))
        for i in range(len(have) - len(want) + 1)
    )
