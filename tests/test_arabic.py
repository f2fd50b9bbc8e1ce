"""The normalizer: a table of input → canonical → key, and properties."""

from __future__ import annotations

import tomllib
import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from raqib.normalize.arabic import (
    _PLAIN,
    ZWJ,
    ZWNJ,
    canonical,
    canonical_line,
    compact_key,
    matching_key,
)

CASES = tomllib.loads(
    (Path(__file__).parent / "data" / "normalize.toml").read_text(encoding="utf-8")
)["case"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_table(case: dict[str, str]) -> None:
    assert canonical(case["input"]) == case["canonical"]
    assert matching_key(case["input"]) == case["key"]


# Text drawn mostly from the alphabets Raqib meets, plus every kind of
# invisible, space and presentation form the normalizer handles.
ARABIC = st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)
PRESENTATION = st.one_of(
    st.characters(min_codepoint=0xFB50, max_codepoint=0xFDCF),
    st.characters(min_codepoint=0xFE70, max_codepoint=0xFEFC),
)
INVISIBLE = st.sampled_from(
    [
        "\u200e",
        "\u200f",
        "\u061c",
        "\u202a",
        "\u202b",
        "\u202c",
        "\u2066",
        "\u2069",
        "\u200b",
        "\u2060",
        "\ufeff",
        "\u00ad",
        ZWNJ,
        ZWJ,
    ]
)
SPACES = st.sampled_from([" ", "\u00a0", "\u202f", "\u2009", "\t", "\n", "\u3000", "\u2029"])
TEXT = st.text(
    alphabet=st.one_of(
        ARABIC,
        PRESENTATION,
        INVISIBLE,
        SPACES,
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    ),
    max_size=200,
)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_canonical_is_idempotent(text: str) -> None:
    once = canonical(text)
    assert canonical(once) == once


@settings(max_examples=600, deadline=None)
@given(
    st.one_of(
        TEXT,
        st.text(alphabet=st.characters(min_codepoint=0x600, max_codepoint=0x6FF), max_size=80),
        st.text(
            alphabet=st.sampled_from("\t\n\r abc،؛؟ءآأبةتـيپچژکگی٠١٩\u064b\u0651"), max_size=80
        ),
        # the punctuation the fast path takes, beside marks, joiners and odd spaces
        st.text(
            alphabet=st.sampled_from(
                "\n abب«»–—‘’“”…•‰⁄⟦⟪⟫⟯\u0301\u064b\u200c\u200d\u2028\u202f\u2060\u2000\u2001"
            ),
            max_size=80,
        ),
    )
)
def test_canonical_line_fast_path_agrees(text: str) -> None:
    # canonical_line skips canonical() for plain text: the answers must match.
    assert canonical_line(text) == " ".join(canonical(text).split())


def test_every_character_of_the_fast_path_is_one_canonical_leaves_alone() -> None:
    # Each character of the Basic Multilingual Plane that the fast path takes,
    # after and between letters it could join or compose with.
    plain = [chr(c) for c in range(0x10000) if _PLAIN.fullmatch(chr(c))]
    assert "–" in plain and "ب" in plain and "\u064b" not in plain
    for ch in plain:
        for text in (f"a{ch}", f"e{ch}", f"ب{ch}ب", f"{ch}{ch}", f"\u064b{ch}"):
            assert canonical_line(text) == " ".join(canonical(text).split()), hex(ord(ch))


@settings(max_examples=400, deadline=None)
@given(TEXT)
@example("\u0610\u200c\u0620")  # a joiner after a mark the key removes (found by CI)
def test_key_is_idempotent(text: str) -> None:
    once = matching_key(text)
    assert matching_key(once) == once


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.one_of(
            ARABIC, INVISIBLE, SPACES, st.characters(min_codepoint=0x41, max_codepoint=0x7A)
        ),
        max_size=120,
    )
)
def test_canonical_never_drops_a_visible_letter(text: str) -> None:
    """Every letter of the (NFC) input survives, in order."""

    # Compare base letters after NFD: removing an invisible may let NFC compose
    # a letter with its mark, which changes code points but drops nothing.
    def base_letters(s: str) -> list[str]:
        return [
            ch for ch in unicodedata.normalize("NFD", s) if unicodedata.category(ch).startswith("L")
        ]

    assert base_letters(canonical(text)) == base_letters(text)


WORDS = [
    "العراق",
    "الولايات",
    "المتحدة",
    "أغسطس",
    "مسؤول",
    "إيران",
    "مستوى",
    "2023",
    "آلاف",
    "قال",
    "«نتوقع»",
]
DIACRITICS = [
    "\u064e",
    "\u064f",
    "\u0650",
    "\u0651",
    "\u0652",
    "\u064b",
    "\u064c",
    "\u064d",
    "\u0670",
]


def _cosmetic_variant(words: list[str], data: st.DataObject) -> str:
    """The same words with diacritics, tatweel, folded letters and other digits."""
    out = []
    for w in words:
        chars = []
        for ch in w:
            roll = data.draw(st.integers(0, 9))
            if ch.isdigit() and roll < 5:
                ch = chr(0x0660 + int(ch))
            elif ch in "أإآ" and roll < 5:
                ch = "ا"
            elif ch == "ة" and roll < 5:
                ch = "ه"
            elif ch == "ى" and roll < 5:
                ch = "ي"
            chars.append(ch)
            if "\u0621" <= ch <= "\u064a" and roll == 9:
                chars.append(data.draw(st.sampled_from(DIACRITICS)))
            if "\u0621" <= ch <= "\u064a" and roll == 8:
                chars.append("\u0640")
        out.append("".join(chars))
    spaces = [data.draw(st.sampled_from([" ", "  ", "\u00a0", " \u200f"])) for _ in out]
    return "".join(w + s for w, s in zip(out, spaces, strict=True))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=12), st.data())
def test_key_of_cosmetic_variant_equals_original(words: list[str], data: st.DataObject) -> None:
    original = " ".join(words)
    variant = _cosmetic_variant(words, data)
    assert compact_key(variant) == compact_key(original)
    assert matching_key(variant) == matching_key(original)


def test_key_tells_different_words_apart() -> None:
    assert compact_key("عدة أشهر") != compact_key("عدة أسابيع")
    assert compact_key("3.5 مليون") != compact_key("3.3 مليون")
    assert compact_key("نتوقع") != compact_key("لا نتوقع")
