"""Split canonical text into paragraphs and sentences, and words into tokens."""

from __future__ import annotations

import re

# A sentence ends at . ! ? ؟ ۔ or … followed by optional closing quotes or
# brackets and then whitespace. "3.5" does not end one, nor "U.S." (an initial).
_SENTENCE_END = re.compile(
    r"(?<=[.!?\u061F\u06D4\u2026])(?<![\s.][A-Z]\.)[\"'\u201D\u2019\u00BB)\]]*\s+"
)

# Characters that continue a word: \w plus the combining marks, tatweel and
# joiners that Python's \w leaves out (a word and its harakat stay one token).
_WORD_CHAR = (
    r"[\w\u0300-\u036F\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u08D3-\u08FF\u0640\u200C\u200D]"
)

# Word tokens: runs of word characters (numbers keep an inner . , ٫ ٬ before a
# digit); every other character is a token of its own. Spaces are tokens too,
# so ''.join(tokens(t)) == t.
_TOKEN = re.compile(
    rf"\s+|[^\W_]{_WORD_CHAR}*(?:[.,\u066B\u066C](?=\d){_WORD_CHAR}+)*|.",
    re.UNICODE,
)


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def sentences(paragraph: str) -> list[str]:
    p = paragraph.strip()
    out: list[str] = []
    pos = 0
    for m in _SENTENCE_END.finditer(p):
        end = m.start() + len(m.group().rstrip())
        out.append(p[pos:end].strip())
        pos = m.end()
    tail = p[pos:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


def tokens(text: str) -> list[str]:
    """Words, spaces and punctuation, in order; ''.join(tokens(t)) == t."""
    return _TOKEN.findall(text)


def words(text: str) -> list[str]:
    return [t for t in tokens(text) if t[0].isalnum()]
