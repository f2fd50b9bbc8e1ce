"""Word diffs, sentence alignment, classification and rendering."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raqib.diffs.align import align, moved_paragraphs
from raqib.diffs.classify import ANALYZER, Analysis, compare, is_current, judged
from raqib.diffs.render import DiffMeta, to_html, to_text
from raqib.diffs.words import DELETE, EQUAL, INSERT, new_text, old_text, word_diff
from raqib.normalize.stamps import is_stamp
from raqib.present.records import diff_record


@dataclass
class V:
    text: str
    title: str = "عنوان الخبر"
    byline: str | None = "فريق التحرير"
    modified: str | None = None
    notices: list[str] = field(default_factory=list)
    last_seen: datetime | None = None  # a stored version's: the last fetch that saw it
    first_seen: datetime | None = None


WORDS = st.sampled_from(
    [
        "العراق",
        "واشنطن",
        "قال",
        "إن",
        "2500",
        "٣٫٥",
        "«لا",
        "نتوقع»",
        "،",
        ".",
        "وزيرُ",
        "الدِّفاع",
        "\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, max_size=40), st.lists(WORDS, max_size=40))
def test_word_diff_reconstructs_both_texts(a: list[str], b: list[str]) -> None:
    old, new = " ".join(a), " ".join(b)
    ops = word_diff(old, new)
    assert old_text(ops) == old
    assert new_text(ops) == new  # applying the diff to the old text gives the new


def test_word_diff_never_splits_a_word_and_its_marks() -> None:
    ops = word_diff("قال وزير الدفاع", "قال وزيرُ الدِّفاع")
    changed = [t for op, t in ops if op != EQUAL]
    assert "وزيرُ الدِّفاع" in changed
    # A highlight never starts on a bare mark (a word and its harakat are one token).
    assert all(unicodedata.category(t[0]) != "Mn" for t in changed)
    ops = word_diff("وزير", "وزيرُ")
    assert ops == [(DELETE, "وزير"), (INSERT, "وزيرُ")]


def test_word_diff_is_deterministic() -> None:
    a = " ".join(["كلمة"] * 300 + ["العراق"] * 300)
    b = " ".join(["العراق"] * 300 + ["كلمة"] * 300)
    assert word_diff(a, b) == word_diff(a, b)


def test_alignment_labels() -> None:
    old = "الجملة الأولى هنا.\nجملة ثانية عن المحادثات في بغداد. جملة ستحذف من النص تماما.\nفقرة أخيرة عن واشنطن."
    new = "الجملة الأولى هنا.\nجملة ثانية عن المحادثات الطويلة في بغداد.\nجملة جديدة تضاف هنا.\nفقرة أخيرة عن واشنطن."
    labels = [(it.label, (it.new or it.old).text) for it in align(old, new)]
    assert ("edit", "جملة ثانية عن المحادثات الطويلة في بغداد.") in labels
    assert ("delete", "جملة ستحذف من النص تماما.") in labels
    assert ("add", "جملة جديدة تضاف هنا.") in labels
    assert [lab for lab, _ in labels].count("unchanged") == 2


def test_moved_paragraph_is_a_move_not_delete_plus_insert() -> None:
    a = "فقرة أولى عن المحادثات بين بغداد وواشنطن."
    b = "فقرة ثانية عن انسحاب القوات الأمريكية من العراق."
    c = "فقرة ثالثة عن موقف الفصائل المسلحة من الاتفاق."
    items = align("\n".join([a, b, c]), "\n".join([c, a, b]))
    labels = [it.label for it in items]
    assert "add" not in labels and "delete" not in labels
    assert labels.count("move") == 1
    assert moved_paragraphs(items) == {0: 2}


def test_cosmetic_only_change() -> None:
    old = V("قال وزير الدفاع الأمريكي إن المحادثات ستجرى في أغسطس 2023.")
    new = V("قال وزيرُ الدِّفاع الأمريكي إن المحادثـات ستجرى في اغسطس ٢٠٢٣.")
    a = compare(old, new)
    assert a.kind == "cosmetic" and not a.silent and not a.headline_changed
    assert a.counts["cosmetic"] == 1 and a.facts == {"numbers": [], "quotes": [], "negations": []}


def test_silent_substantive_change_with_figures() -> None:
    old = V("بلغت الصادرات 3.5 مليون برميل يوميا في ديسمبر.")
    new = V("بلغت الصادرات 3.3 مليون برميل يوميا في ديسمبر.")
    a = compare(old, new)
    assert a.kind == "substantive" and a.silent
    assert a.facts["numbers"][0]["removed"] == ["3.5 مليون"] and a.facts["numbers"][0]["added"] == [
        "3.3 مليون"
    ]


def test_digit_shapes_are_not_a_figure_change() -> None:
    a = compare(
        V("عاد الجنود في عام 2014 إلى العراق ثم غادروا."),
        V("عاد الجنود في عام ٢٠١٤ إلى العراق ثم غادر الجميع."),
    )
    assert a.kind == "substantive" and a.facts["numbers"] == []


def test_digits_grouped_by_thousands_are_one_figure() -> None:
    """1,500 and ١٬٥٠٠ are 1500, and 30 في المئة is 30%: rewriting is
    cosmetic, and a sentence edited beside it shows no figure delta; a
    decimal comma stays a figure."""
    old = "أعلنت الوزارة تسجيل {} إصابة في ثلاث محافظات."
    for before in ("1,500", "١٬٥٠٠"):
        a = compare(V(old.format(before)), V(old.format("1500")))
        assert a.kind == "cosmetic" and a.facts["numbers"] == [], before
    a = compare(V(old.format("1,500")), V(old.format("1500").replace("أعلنت", "أكدت")))
    assert a.kind == "substantive" and a.facts["numbers"] == []
    for before, after in (  # decimals too, and before a scale word
        ("1,500.5", "1500.5"), ("2,500,000.75", "2500000.75"), ("1,500.5 مليون", "1500.5 مليون"),
        ("24,118,700 ألف", "24118700 ألف"),
    ):  # fmt: skip
        a = compare(V(old.format(before)), V(old.format(after).replace("أعلنت", "أكدت")))
        assert a.kind == "substantive" and a.facts["numbers"] == [], before
    price = "بلغ السعر {} دينار."  # a decimal point: the comma is no fils separator
    a = compare(V(price.format("1,350.5")), V(price.format("1350.5").replace("بلغ", "وصل")))
    assert a.facts["numbers"] == []
    a = compare(V(old.format("1,500")), V(old.format("1,600")))
    assert a.facts["numbers"][0]["removed"] == ["1,500"] and a.facts["numbers"][0]["added"] == [
        "1,600"
    ]
    pairs = (("30%", "30 في المئة"), ("٣٠٪", "30 بالمائة"), ("30 %", "ثلاثين في المئة"))
    for a, b in (*pairs, ("۳۰٪", "۳۰ درصد"), ("3.5%", "۳٫۵ درصد")):  # Persian's too
        c = compare(V(old.format(a)), V(old.format(b)))
        assert c.kind == "cosmetic" and c.facts["numbers"] == [], (a, b)
    c = compare(V(old.format("30%")), V(old.format("30 في المئة").replace("أعلنت", "أكدت")))
    assert c.kind == "substantive" and c.facts["numbers"] == []  # 30% is 30 في المئة
    c = compare(V(old.format("30%")), V(old.format("30")))  # a share became a count
    assert c.facts["numbers"][0]["removed"] == ["30%"]
    dateline = "بغداد ـ " + old  # a tatweel dash: the words no longer align with the key's
    c = compare(V(dateline.format("30 في المئة")), V(dateline.format("30")))
    assert (c.facts["numbers"][0]["removed"], c.facts["numbers"][0]["added"]) == (["30%"], ["30"])
    for share in ("30 في المئة", "ثلاثين بالمائة"):  # shown as written, not as "30 → 30"
        c = compare(V(old.format(share)), V(old.format("30")))
        assert (c.facts["numbers"][0]["removed"], c.facts["numbers"][0]["added"]) == (
            [share],
            ["30"],
        )
    for other in ("1,5", "3,25", "1,5000", "0,250", "1،500"):  # not thousands: a change of figure
        a = compare(V(old.format(other)), V(old.format(other.replace(",", "").replace("،", ""))))
        assert a.kind == "substantive" and a.facts["numbers"], other
    price = "بلغ سعر الكيلو {} دينار في السوق."  # 1,350 دينار may be 1.35 dinars
    a = compare(V(price.format("1,350")), V(price.format("1350")))
    assert a.kind == "substantive" and a.facts["numbers"][0]["removed"] == ["1,350"]
    a = compare(V(price.format("1,350,000")), V(price.format("1350000")))
    assert a.kind == "cosmetic"


def test_halves_and_construct_duals_are_the_same_figure() -> None:
    """مليون ونصف is 1.5 million, ملياري دولار two billion, ألفي جندي two
    thousand: rewriting a figure between these forms is cosmetic."""
    from raqib.diffs.facts import numbers

    frame = "قالت الوزارة إن الكلفة بلغت {} في العام الماضي."
    for a, b in (
        ("1.5 مليون دولار", "مليون ونصف دولار"),
        ("2.5 مليون دولار", "مليونان ونصف دولار"),
        ("3.5 مليون دولار", "ثلاثة ملايين ونصف دولار"),
        ("2.5 مليار دولار", "2 مليار ونصف دولار"),
        ("2 مليار دولار", "ملياري دولار"),
        ("2000 جندي", "ألفي جندي"),
    ):
        c = compare(V(frame.format(a)), V(frame.format(b)))
        assert c.kind == "cosmetic" and c.facts["numbers"] == [], (a, b)
    assert numbers("مليون ونصف دولار") == ["1500000"]
    # The idiom names the scale again after the half: one figure, no stray word.
    for idiom in ("ثلاثة ملايين ونصف المليون", "3 ملايين ونصف المليون"):
        assert numbers(f"{idiom} دولار") == ["3500000"], idiom
        c = compare(V(frame.format(f"{idiom} دولار")), V(frame.format("3.5 مليون دولار")))
        assert c.kind == "cosmetic", idiom
    assert numbers("خرج حشد مليوني إلى الشوارع") == []  # the adjective, not two million
    # ألفاً, written with its tanween, is a thousand (the key drops the mark and
    # spelt it as the dual ألفا): 1000 → 2000 read as cosmetic (a copy desk's).
    said = "وبلغ عدد المخالطين الخاضعين للعزل {}، بحسب الوزارة."
    c = compare(V(said.format("ألفاً")), V(said.format("ألفين")))
    assert c.kind == "substantive" and c.facts["numbers"][0]["added"] == ["ألفين"]
    assert compare(V(said.format("ألفاً")), V(said.format("ألف"))).kind == "cosmetic"
    assert compare(V(said.format("مليوناً")), V(said.format("مليونين"))).kind == "substantive"
    for text, value in (
        ("بلغ عددهم ألفاً من الجنود", "1000"), ("بلغ ألفاً تقريباً", "1000"),
        ("ألفاً و500 شخص", "1500"), ("ألفا جندي", "2000"), ("مليونا دولار", "2000000"),
        ("يتقاضى ألفاً كل شهر", "1000"), ("يتقاضى ألفًا كل شهر", "1000"),
        ("بناء ألفا وحدة سكنية", "2000"), ("مضى ألفا عام", "2000"), ("بلغ عددهم ألفا،", "1000"),
        ("قتل ألفا من الجنود", "1000"), ("نزح ألفا في المدينة", "1000"), ("ألفا تقريبا", "1000"),
        ("قتل ألفا منهم", "1000"),
    ):  # fmt: skip
        assert numbers(text) == [value], text
    # The dual before its noun stays two (a review's: ألفا وحدة → ألف وحدة read as cosmetic).
    built = "وأعلنت الوزارة بناء {} وحدة سكنية في المدينة."
    assert compare(V(built.format("ألفا")), V(built.format("ألف"))).kind == "substantive"
    c = compare(V(frame.format("مليون ونصف دولار")), V(frame.format("مليون دولار")))
    assert c.facts["numbers"][0]["removed"] == ["مليون ونصف"]


def test_a_scale_and_its_remainder_in_digits_are_one_figure() -> None:
    """ألف و500, مليار و200 مليون and 49 ألفاً و759 are how outlets write
    1500, 1.2 billion and 49,759: rewriting one form as the other read as a
    figure changed (a false substantive edit). A remainder as large as its
    scale is another number."""
    from raqib.diffs.facts import numbers

    frame = "قالت الوزارة إن العدد بلغ {} حتى اليوم."
    for a, b in (
        ("ألف و500 جندي", "1500 جندي"),
        ("مليار و200 مليون دولار", "1.2 مليار دولار"),
        ("49 ألفاً و759 شخصا", "49,759 شخصا"),
        ("ثلاثة آلاف و500 جندي", "3500 جندي"),
    ):
        c = compare(V(frame.format(a)), V(frame.format(b)))
        assert c.kind == "cosmetic" and c.facts["numbers"] == [], (a, b)
    c = compare(V(frame.format("ألف و500 جندي")), V(frame.format("ألف و600 جندي")))
    assert c.kind == "substantive" and c.facts["numbers"][0]["added"] == ["ألف و600"]
    assert numbers("قتل ألف و2000 أصيبوا") == ["1000", "2000"]  # not less than its scale
    # Typed with a space after و (a copy desk's): the same figure, not 49 ألفاً and 759.
    c = compare(V(frame.format("49 ألفاً و759 شخصا")), V(frame.format("49 ألفاً و 759 شخصا")))
    assert c.kind == "cosmetic" and c.facts["numbers"] == []
    assert numbers("بين ألف و 3000") == ["1000", "3000"]
    assert numbers("دفعت ألف دولار و500 يورو") == ["1000", "500"]  # a word between them
    from raqib.normalize.arabic import matching_key

    assert "1000003" not in matching_key("بين مليون و3 ملايين")  # before a larger scale: its own


def test_a_month_after_its_day_has_one_name() -> None:
    """`25 يناير` → `25 كانون الثاني` (the Levantine name) read as a silent
    substantive edit; CNN prints both names (`28 آب/أغسطس`). One month's names
    are one date; another month is an edit."""
    frame = "عقد الاجتماع في {} بحضور الوزراء."
    for a, b in (
        ("25 يناير 2024", "25 كانون الثاني 2024"),
        ("25 يناير", "25 جانفي"),
        ("28 آب/أغسطس 2013", "28 أغسطس 2013"),
        ("5 حزيران", "5 يونيه"),
    ):
        assert compare(V(frame.format(a)), V(frame.format(b))).kind == "cosmetic", (a, b)
    assert compare(V(frame.format("25 يناير")), V(frame.format("25 شباط"))).kind == "substantive"
    # Another month is a date changed, a figure (a copy desk's: no fact was said).
    c = compare(V(frame.format("23 أبريل 1966")), V(frame.format("23 مايو 1966")))
    assert [(d["removed"], d["added"]) for d in c.facts["numbers"]] == [(["23 أبريل"], ["23 مايو"])]
    # A day glued to its month is a date too, shown as typed, without an error (a
    # review's); its month changed is a figure changed (a copy desk's: none was said).
    from raqib.diffs.facts import figures

    assert figures("جرت في 23أبريل الماضي") == [("23 ابريل", "23أبريل")]
    assert figures("جرت في (٢٣أبريل) الماضي") == [("23 ابريل", "٢٣أبريل")]
    c = compare(V("قتل 5 أشخاص في 23أبريل."), V("قتل 50 شخصا في 23أبريل."))
    assert c.error is None and c.facts["numbers"]
    c = compare(V(frame.format("23أبريل")), V(frame.format("23مايو")))
    assert [(d["removed"], d["added"]) for d in c.facts["numbers"]] == [(["23أبريل"], ["23مايو"])]
    assert compare(V(frame.format("23أبريل")), V(frame.format("23 أبريل"))).kind == "cosmetic"
    assert compare(V("قال الأب إن"), V("قال أغسطس إن")).kind == "substantive"  # no day: a word


def test_numbers_in_words_beside_punctuation_decimal_commas_and_the_dual_of_a_hundred() -> None:
    """A newsroom's figures as written: "ثلاثة آلاف." with the sentence's
    stop on it, "(ثلاثة)", a decimal comma before a scale word (2,5 مليون:
    2.5 million, as the Maghreb's outlets write it), and مئتا / مئتي ألف (200
    thousand). Each was read wrongly: the same value rewritten made a false
    figure change, and a tenfold change (2,5 → 25 مليون) none at all."""
    from raqib.diffs.facts import numbers

    frame = "قالت الوزارة إن الحصيلة بلغت {} بحسب آخر الأرقام"
    for a, b in (
        ("ثلاثة آلاف.", "3000."), ("80 ألفا.", "80000."), ("(ثلاثة)", "(3)"),
        ("ستة، بينهم أطفال", "6، بينهم أطفال"), ("«ثلاثة آلاف»", "«3000»"),
        ("2,5 مليون", "2.5 مليون"), ("مئتي ألف جنيه", "200 ألف جنيه"),
        ("مائتا ألف جنيه", "200000 جنيه"),
    ):  # fmt: skip
        c = compare(V(frame.format(a)), V(frame.format(b)))
        assert c.kind == "cosmetic" and c.facts["numbers"] == [], (a, b)
    for a, b, removed, added in (
        ("2,5 مليون دولار", "25 مليون دولار", "2500000", "25000000"),
        ("0,250 مليار دينار", "250 مليار دينار", "250000000", "250000000000"),
        ("ثلاثة آلاف.", "ثلاثة ملايين.", "3000", "3000000"),
        ("190 ألف جنيه", "مئتي ألف جنيه", "190000", "200000"),
    ):
        c = compare(V(frame.format(a)), V(frame.format(b)))
        assert c.kind == "substantive", (a, b)
        assert numbers(a) == [removed] and numbers(b) == [added], (a, b)
        assert c.facts["numbers"][0]["removed"] and c.facts["numbers"][0]["added"], (a, b)
    from raqib.diffs.facts import figures

    assert figures("قتل (ثلاثة آلاف) شخص") == [("3000", "ثلاثة آلاف")]  # shown without "("
    # Punctuation bounds a number: "ثلاثة، آلاف" is not 3000, nor "ثلاثة (آلاف".
    assert numbers("قتل ثلاثة، آلاف الناس فروا") == ["3"]
    assert numbers("عددهم ثلاثة (آلاف منهم أطفال)") == ["3"]


def test_announced_by_modified_date_or_notice() -> None:
    old = V("نص الخبر الأول.", modified="2024-01-25T09:00:00+03:00")
    assert not compare(old, V("نص الخبر المعدل.", modified="2024-01-25T13:40:00+03:00")).silent
    assert not compare(
        old, V("نص الخبر المعدل.", modified=old.modified, notices=["تصحيح: ورد خطأ"])
    ).silent
    # A notice that was already there announces nothing new.
    noted = V("نص الخبر الأول.", notices=["تصحيح: ورد خطأ"])
    assert compare(noted, V("نص الخبر المعدل.", notices=["تصحيح: ورد خطأ"])).silent
    # Nor does a line the old text already held, now read as a notice by a
    # later extractor's rules: the silent edit beside it stays silent.
    line = "تم تحديث هذا الخبر."
    held = V(f"نص الخبر الأول. {line}")
    assert compare(held, V(f"نص الخبر المعدل. {line}", notices=[line])).silent


@pytest.mark.parametrize(
    ("notice", "stamp"),
    [
        ("الأربعاء، 28 آب/اغسطس 2013، آخر تحديث 14:00 (GMT+0400)", True),
        ("آخر تحديث: 26 يناير 2024 - 10:30 بتوقيت مكة المكرمة", True),
        ("Updated at 15.30 GMT", True),
        ("آخر تحديث منذ 5 دقائق", True),
        ("تحديث 19:10: أضيفت تصريحات الوزير", False),  # says what was updated
        ("تصحيح 19:10: الرقم 30 لا 50", False),  # a correction is never a stamp
        ("(تم تحديث هذا الخبر)", False),  # no time: says the article changed
        ("آخر تحديث 14:00 بتوقيت القدس المحتلة عدل الرقم", False),
        ("آخر تحديث: 26/1/2024 11:26 ص (توقيت مكة)", True),
        ("آخر تحديث 11:26 (مكة المكرمة)", True),
        ("Last updated 16:30 BST", True),
        ("Updated 4:30 p.m. ET", True),
        ("updated 2024-01-26T10:30:00+03:00", True),
        ("تحديث 16:30 بتوقيت مكة: 5 قتلى", False),  # a number that is no time: news
        ("تحديث (3) 16:30 بتوقيت مقتل صحفيين", False),  # words after a zone: news
        ("تحديث 3", False),  # a live story's numbered update
        ("Update 2: 4:30 pm", False),
        ("آخر تحديث: منذ ساعتين", True),  # relative, no digit
        ("آخر تحديث: 16:35-23 فبراير 2024 م ـ 13 شعبان 1445 هـ", True),  # a Hijri year
        ("Updated 16:30 GMT+3", True),
        ("آخر تحديث الساعة 5", True),
        ("آخر تحديث 14:00 بتوقيت أم القرى", True),
        ("تحديث منذ ساعتين: أضيفت تصريحات", False),
    ],
)
def test_a_stamp_says_only_when(notice: str, stamp: bool) -> None:
    assert is_stamp(notice) is stamp


def test_a_relative_stamp_announces_only_an_update_after_the_old_text_was_seen() -> None:
    """ "آخر تحديث: منذ 5 دقائق", then "منذ 15 دقيقة" ten minutes later: new
    words, the same moment. A copy desk's page: a silent edit read as announced."""
    seen = datetime(2024, 1, 25, 12, 0, tzinfo=UTC)  # the old text was still there
    first = seen + timedelta(minutes=5)  # the edited text, first fetched

    def silent(stamp: str, at: datetime = first) -> bool:
        old = V("نص الخبر الأول.", notices=["آخر تحديث: منذ 5 دقائق"], last_seen=seen)
        return compare(old, V("نص الخبر المعدل.", notices=[stamp], first_seen=at)).silent

    assert silent("آخر تحديث: منذ 15 دقيقة")  # 11:50 at the latest: before 12:00
    assert silent("آخر تحديث: منذ 6 دقائق")  # read as rounded down
    assert silent("آخر تحديث: منذ ساعتين")
    assert silent("Updated 2 hours ago")
    assert silent("آخر تحديث: قبل 3 ساعات") and silent("آخر تحديث: منذ أسبوع")
    assert not silent("آخر تحديث: منذ 3 دقائق")  # 12:02 at the latest: after
    assert not silent("آخر تحديث: منذ 4 دقائق")  # 12:01
    assert not silent("آخر تحديث: منذ ساعة", at=seen + timedelta(minutes=90))
    assert not silent("تحديث منذ 15 دقيقة: أضيفت تصريحات الوزير")  # says what: not a stamp
    assert not silent("آخر تحديث: منذ 15 دقيقة", at=None)  # type: ignore[arg-type]
    # A stranger's span, and a first fetch near year 1: no moment, and no error (a review's).
    assert not silent("آخر تحديث: منذ 9999999 يوم") and not silent("منذ " + "9" * 30 + " يوم")
    early = datetime(1, 1, 2, tzinfo=UTC)
    old = V("نص الخبر الأول.", notices=["آخر تحديث: منذ 5 دقائق"], last_seen=early)
    new = V("نص الخبر المعدل.", notices=["آخر تحديث: منذ 3 أيام"], first_seen=early)
    assert compare(old, new).kind == "substantive"


def test_a_modified_date_announces_only_when_it_could_date_the_edit() -> None:
    seen = datetime(2024, 1, 25, 12, 0, tzinfo=UTC)  # the old text was still there

    def silent(old_date: str | None, new_date: str, last_seen: datetime | None = seen) -> bool:
        old = V("نص الخبر الأول.", modified=old_date, last_seen=last_seen)
        return compare(old, V("نص الخبر المعدل.", modified=new_date)).silent

    at = "2024-01-25T16:40:00+03:00"  # 13:40 UTC, after the last fetch
    assert not silent("2024-01-25T09:00:00+03:00", at)
    assert not silent(None, at)
    assert silent(at, "2024-01-25T09:00:00+03:00", last_seen=None)  # going back
    assert silent(at, "2024-01-25T13:40:00Z", last_seen=None)  # the same moment, another zone
    assert silent(at, "Thu, 25 Jan 2024 13:40:00 GMT", last_seen=None)
    # Dated before a fetch that still saw the old text: not this edit's date.
    assert silent("2024-01-24T09:00:00+03:00", "2024-01-25T14:40:00+03:00")
    assert not silent("2024-01-24T09:00:00+03:00", "2024-01-25T15:05:00+03:00")
    # A date with no zone, or no time, could be later than it reads.
    assert not silent(None, "2024-01-25 10:00")
    assert silent(None, "2024-01-24 20:00")
    assert not silent(None, "2024-01-25")
    assert silent(None, "2024-01-23")
    # A date this cannot read announces by changing at all.
    assert not silent("أمس", "اليوم")
    # Nor does a date at the calendar's end break the judging of every change.
    for far in ("9999-12-31", "9999-12-31T23:59:59", "9999-12-31T23:59:59+00:00"):
        assert not silent(at, far)


def test_a_headline_leaving_the_front_of_the_text_is_no_edit() -> None:
    """Extractors before raqib-extract 12 glued the headline to a short story's
    text: the upgrade, or the story growing, took it out again."""
    body = "قال الوزير إن المفاوضات مستمرة. وأضاف أن الجولة المقبلة في بغداد."
    glued = V(f"عنوان الخبر {body}")
    assert compare(glued, V(body)).kind == "cosmetic"
    assert compare(V(body), glued).kind == "cosmetic"
    assert compare(glued, V(body.replace("مستمرة", "انتهت"))).kind == "substantive"
    # Another headline's words, or words cut from the middle, are an edit.
    assert compare(V(f"عنوان آخر {body}"), V(body)).kind == "substantive"
    assert compare(glued, V(body, title="عنوان جديد")).silent


def test_a_figure_changed_in_the_headline_is_a_figure() -> None:
    a = compare(
        V("نص الخبر.", title="الصادرات في أعلى مستوى منذ 2020"),
        V("نص الخبر.", title="الصادرات في أعلى مستوى منذ 2021"),
    )
    assert a.headline_changed and a.facts["numbers"] == [
        {
            "removed": ["2020"], "added": ["2021"], "label": "headline",
            "old_sentence": "الصادرات في أعلى مستوى منذ 2020",
            "new_sentence": "الصادرات في أعلى مستوى منذ 2021",
        }
    ]  # fmt: skip
    same = compare(V("نص.", title="منذ 2020"), V("نص آخر تماما.", title="منذ ٢٠٢٠"))
    assert not same.headline_changed and same.facts["numbers"] == []


def test_headline_change_alone_is_silent() -> None:
    a = compare(V("نص.", title="عنوان أول"), V("نص.", title="عنوان آخر تماما"))
    assert a.headline_changed and a.silent and a.kind == "substantive"


def test_quote_and_negation_deltas() -> None:
    old = V("وأضاف المتحدث: «نتوقع زيادة الصادرات خلال الربع الثاني».")
    new = V("وأضاف المتحدث: «لا نتوقع زيادة كبيرة في الصادرات خلال الربع الثاني».")
    a = compare(old, new)
    assert a.facts["quotes"][0]["removed"] == ["نتوقع زيادة الصادرات خلال الربع الثاني"]
    assert a.facts["negations"][0]["added"] == ["لا"]


def test_renderers_escape_untrusted_text() -> None:
    old = V("نص عادي عن الخبر.")
    new = V(
        'نص عادي عن الخبر. <script>alert(1)</script> <img src=x onerror="alert(2)">',
        title="<b>x</b>",
    )
    a = compare(old, new)
    meta = DiffMeta(
        "http://127.0.0.1/a", 1, 2, old_title=old.title, new_title=new.title, language="ar"
    )
    html = to_html(a, meta)
    assert "<script>" not in html and "<img" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;" in html
    assert 'dir="rtl"' in html and 'lang="ar"' in html
    assert "<ins" in html
    plain = to_text(a, meta, markers=True).plain
    assert "{+" in plain and "<script>" in plain  # shown as text in the terminal
    data = diff_record(meta.to_json(), a.to_json(), ANALYZER)
    json.dumps(data)
    assert data["from_version"] == 1 and data["alignment"][0]["label"] == "add"


def test_ops_are_valid() -> None:
    for op, _ in word_diff("أ ب ج", "أ د ج"):
        assert op in (DELETE, EQUAL, INSERT)


PARAS = st.lists(
    st.lists(st.lists(WORDS, min_size=1, max_size=8).map(" ".join), min_size=1, max_size=3).map(
        lambda ss: " ".join(x.rstrip(".") + "." for x in ss)
    ),
    min_size=1,
    max_size=5,
).map("\n".join)


@settings(max_examples=60, deadline=None)
@given(old=PARAS, new=PARAS)
def test_a_stored_analysis_reads_back_as_made(old: str, new: str) -> None:
    """What readers show is the stored analysis: restored from its JSON, it
    renders exactly as the analysis that was stored."""
    a = compare(V(old), V(new))
    stored = json.loads(json.dumps(a.to_json()))  # as the database gives it back
    b = Analysis.from_json(stored, V(old), V(new))
    meta = DiffMeta("http://127.0.0.1/a", 1, 2, old_title="عنوان", new_title="عنوان")
    assert b.to_json() == a.to_json()
    assert to_text(b, meta, context=True).plain == to_text(a, meta, context=True).plain
    assert to_html(b, meta) == to_html(a, meta)


def test_only_an_older_analyzer_is_judged_again() -> None:
    old, new = V("قال الوزير إن 2500 جندي سيبقون."), V("قال الوزير إن 3000 جندي سيبقون.")
    stored = compare(old, new).to_json()
    stored["silent"] = False  # a stored judgement differs from a fresh one: readers keep it
    kept = judged(stored, ANALYZER, old, new)
    assert kept.data is stored and kept.analysis.silent is False and kept.reanalyzed_from is None
    assert is_current(ANALYZER) and is_current("raqib-diff 99") and not is_current("raqib-diff 1")
    redone = judged(stored, "raqib-diff 1", old, new)
    assert redone.analysis.silent is True and redone.analyzer == ANALYZER
    assert redone.data["reanalyzed_from"] == "raqib-diff 1"
    # A stored form that does not fit the versions is judged again, not trusted.
    broken = dict(stored, alignment=[{"label": "edit", "old_index": 7, "new_index": 0}])
    assert judged(broken, ANALYZER, old, new).reanalyzed_from == ANALYZER


def test_a_long_rewrite_compares_a_bounded_number_of_sentence_pairs(monkeypatch) -> None:
    """Every pair of changed sentences is compared up to MAX_PAIRS; past that
    (a page rewritten at length, or made to be) each new sentence meets the old
    ones near its place: still paired with its own old sentence, in linear time."""
    from raqib.diffs import align as aligning

    calls = 0
    real = aligning.similarity

    def counted(a: Any, b: Any, budget: Any = None) -> float:
        nonlocal calls
        calls += 1
        return real(a, b, budget)

    monkeypatch.setattr(aligning, "similarity", counted)
    old = [f"قال الوزير إن الجملة رقم {i} عن الصادرات." for i in range(1000)]
    new = [s.replace("الصادرات", "الواردات") for s in old]
    items = aligning.align("\n".join(old), "\n".join(new))
    assert [(i.label, i.old.index, i.new.index) for i in items if i.old and i.new] == [
        ("edit", k, k) for k in range(1000)
    ]
    assert calls <= 2 * aligning.MAX_PAIRS < 1000 * 1000


def test_words_read_in_order_are_bounded_over_one_alignment(monkeypatch) -> None:
    """Long sentences, each pair within MAX_WORD_PAIRS: SequenceMatcher reads at
    most MAX_WORK word pairs in all, then the word sets judge; and a sentence
    repeated thousands of times pairs in order, in linear time."""
    from raqib.diffs import align as aligning

    read = 0
    real = aligning.SequenceMatcher

    def counted(junk: Any, a: Any, b: Any, **kw: Any) -> Any:
        nonlocal read
        read += len(a) * len(b)
        return real(junk, a, b, **kw)

    monkeypatch.setattr(aligning, "SequenceMatcher", counted)
    words = [f"كلمة{i}" for i in range(400)]
    old = [" ".join(words[k:] + words[:k]) + "." for k in range(0, 400, 10)]
    new = [s.replace("كلمة7 ", "كلمة سابعة ") for s in old]
    aligning.align("\n".join(old), "\n".join(new))
    assert 0 < read <= aligning.MAX_WORK

    same = "\n".join(["قال الوزير."] * 5000)
    items = aligning.align(same, same)
    assert [(i.label, i.old.index) for i in items if i.old] == [
        ("unchanged", k) for k in range(5000)
    ]


def test_a_coarse_judgement_reads_what_it_still_can(monkeypatch) -> None:
    """When the aligner itself raises, the judgement that replaces it keeps the
    verdicts a reader acts on: a notice announces, a figure is still a figure,
    and an unchanged text under a new headline is a headline change."""
    from raqib.diffs import classify

    def broken(a: str, b: str) -> None:
        raise RecursionError("the aligner's bug")

    monkeypatch.setattr(classify, "align", broken)
    old = V("قتل 30 شخصا في الهجوم.\n\nوأضاف المصدر أن التحقيق مستمر.")
    new = V("قتل 40 شخصا في الهجوم.\n\nوأضاف المصدر أن التحقيق مستمر.", notices=["تصحيح: ورد خطأ"])
    a = classify.judge(old, new)
    assert a.error == "RecursionError: the aligner's bug"
    assert (a.kind, a.silent, a.signals) == ("substantive", False, ["notice: تصحيح: ورد خطأ"])
    assert [(d["removed"], d["added"]) for d in a.facts["numbers"]] == [(["30"], []), ([], ["40"])]
    assert a.counts == {
        "add": 1, "delete": 1, "edit": 0, "move": 0, "cosmetic": 0, "chars_changed": 44
    }  # fmt: skip
    assert classify.judge(old, V(new.text)).silent  # no signal: silent, as compare says
    retitled = classify.judge(old, V(old.text, title="عنوان آخر"))
    assert retitled.headline_changed and retitled.kind == "substantive"
    assert [it.label for it in retitled.items] == ["unchanged", "unchanged"]
    # What is stored reads back, error and all.
    back = Analysis.from_json(a.to_json(), old, new)
    assert (back.error, [it.label for it in back.items]) == (
        a.error,
        ["delete", "add", "unchanged"],
    )


def test_a_coarse_judgement_keeps_cosmetic_and_announced_verdicts(monkeypatch) -> None:
    """The review of the fallback: with the aligner and the notice check both
    broken, diacritics alone stay cosmetic, and a later modified date still
    announces; with the splitter broken too, readers restore what was stored."""
    from raqib.diffs import classify

    def broken(*args: object) -> None:
        raise RecursionError("broken")

    monkeypatch.setattr(classify, "align", broken)
    old = V("قال الوزير إن المفاوضات مستمرة.", modified="2024-01-25T09:00:00+03:00")
    marked = V("قالَ الوزيرُ إنّ المفاوضاتِ مستمرةٌ.", modified=old.modified)
    assert (classify.judge(old, marked).kind, classify.judge(old, marked).silent) == (
        "cosmetic",
        False,
    )
    monkeypatch.setattr(classify, "update_signals", broken)
    line = "تحديث: أضيفت تفاصيل جديدة"  # held by the old text; now read as a notice, marked
    held = V(f"قال الوزير إن المفاوضات مستمرة. {line}")
    noted = V(f"قال الوزير إن المفاوضات انتهت. {line}", notices=["تحديث: أُضيفت تفاصيل جديدة"])
    assert classify.judge(held, noted).silent
    later = V("قال الوزير إن المفاوضات انتهت.", modified="2024-01-25T13:40:00+03:00")
    a = classify.judge(old, later)
    assert a.signals and a.signals[0].startswith("modified date") and not a.silent
    monkeypatch.setattr(classify, "split", broken)
    a = classify.judge(old, later)
    assert a.items == [] and a.kind == "substantive"
    again = judged(a.to_json(), ANALYZER, old, later)  # a reader: split raises there too
    assert again.analysis.error == "RecursionError: broken"


def test_a_coarse_judgement_is_bounded(monkeypatch) -> None:
    from raqib.diffs import classify

    monkeypatch.setattr(classify, "align", lambda a, b: 1 / 0)
    monkeypatch.setattr(classify, "MAX_COARSE_PAIRS", 3)
    old, new = V("أ ب.\n\nج د.\n\nه و."), V("أ ب.\n\nج د.\n\nه ز.")
    labels = [it.label for it in classify.judge(old, new).items]
    assert labels == ["delete"] * 3 + ["add"] * 3  # past the bound: no matching at all
    monkeypatch.setattr(classify, "MAX_COARSE_PAIRS", 9)
    assert [it.label for it in classify.judge(old, new).items] == [
        "unchanged", "unchanged", "delete", "add"
    ]  # fmt: skip


def test_a_sentences_punctuation_and_the_half_space_are_spelling() -> None:
    """A comma dropped, a stop removed, a Persian half-space (ZWNJ) typed as a
    space: each was a substantive silent edit. A mark between two numbers is
    the figure's (3.5 → 35, and the list "1، 500" → 1500, are changes), and
    quotation marks are the quote's."""
    text = "أعلنت الوزارة اليوم الثلاثاء، تسجيل {} حالة جديدة."
    for old, new in (
        (text.format(26), text.format(26).replace("،", "")),
        (text.format(26), text.format(26).rstrip(".")),
        ("صادر می\u200cنمایند", "صادر می نمایند"),
        (text.format("3.5"), text.format("3.5").replace("،", ",")),
    ):
        assert compare(V(old), V(new)).kind == "cosmetic", (old, new)
    for old, new in (
        (text.format("3.5"), text.format("35")),
        (text.format("1، 500"), text.format("1500")),
        ("قال «سننسحب قريبا».", "قال سننسحب قريبا."),
        (text.format(26), text.format(29)),
    ):
        assert compare(V(old), V(new)).kind == "substantive", (old, new)


def test_half_and_a_quarter_of_a_scale_are_figures() -> None:
    """Half a million ("نصف مليون") was read as a million: doubling it showed
    no figure change, and writing it "500 ألف" was a substantive edit."""
    old = "وتم توزيع نصف مليون كمامة على المستشفيات."
    doubled = compare(V(old), V(old.replace("نصف مليون", "مليون")))
    assert doubled.kind == "substantive"
    assert [(d["removed"], d["added"]) for d in doubled.facts["numbers"]] == [
        (["نصف مليون"], ["مليون"])
    ]
    assert compare(V(old), V(old.replace("نصف مليون", "500 ألف"))).kind == "cosmetic"
    quarter = compare(V("خصص ربع مليار دولار."), V("خصص نصف مليار دولار."))
    assert [(d["removed"], d["added"]) for d in quarter.facts["numbers"]] == [
        (["ربع مليار"], ["نصف مليار"])
    ]
    # Without a scale word after it, نصف is no number: "نصف ساعة" → "ربع ساعة" is words.
    assert compare(V("انتظر نصف ساعة."), V("انتظر ربع ساعة.")).facts["numbers"] == []


def test_a_negation_is_its_particle_without_its_conjunction() -> None:
    """A conjunction taken off a particle ("ولم" → "لم") reported a negation
    removed and one added."""
    old = "وأكدت الوزارة أنها ولم تسجل أي إصابة جديدة."
    c = compare(V(old), V(old.replace("ولم", "لم")))
    assert c.facts["negations"] == []
    c = compare(V(old), V(old.replace("ولم تسجل", "سجلت")))
    assert [(d["removed"], d["added"]) for d in c.facts["negations"]] == [(["لم"], [])]


def test_a_dash_is_punctuation_beside_words_not_beside_a_number() -> None:
    """(CNN) -- → (CNN) —, a dash typed as a tatweel, :- → : read as
    substantive edits; a dash beside a figure (a minus, a score) still counts."""
    for a, b in (
        ("(CNN) -- قال الوزير إن المحادثات مستمرة.", "(CNN) — قال الوزير إن المحادثات مستمرة."),
        ("بيروت - قال الوزير إن المحادثات مستمرة.", "بيروت ـ قال الوزير إن المحادثات مستمرة."),
        ("وقال الوزير:- إن المحادثات مستمرة.", "وقال الوزير: إن المحادثات مستمرة."),
    ):
        assert compare(V(a), V(b)).kind == "cosmetic", (a, b)
    for a, b in (
        ("سجلت درجة الحرارة -5 درجات.", "سجلت درجة الحرارة 5 درجات."),
        ("انتهت المباراة 5 - 3 للفريق.", "انتهت المباراة 53 للفريق."),
    ):
        assert compare(V(a), V(b)).kind == "substantive", (a, b)


def test_a_quotations_marks_and_a_words_hyphen_to_its_number_are_typing() -> None:
    """A copy desk's house style: "…" → '…' read as a quotation removed, and
    (كوفيد 19) → (كوفيد-19) as a substantive edit. A quotation's words changed
    inside single marks still count; an apostrophe opens no quotation."""
    said = "قال الوزير {} أمس، وأضاف أن الحكومة ستعلن التفاصيل."
    for a, b in (
        (said.format('"لن نتراجع عن القرار"'), said.format("'لن نتراجع عن القرار'")),
        (said.format("«لن نتراجع عن القرار»"), said.format("‘لن نتراجع عن القرار’")),
        ("ارتفعت إصابات (كوفيد 19) في البلاد.", "ارتفعت إصابات (كوفيد-19) في البلاد."),
        ("ارتفعت إصابات COVID 19 في البلاد.", "ارتفعت إصابات COVID-19 في البلاد."),
    ):
        c = compare(V(a), V(b))
        assert c.kind == "cosmetic" and not any(c.facts.values()), (a, b)
    c = compare(V(said.format('"لن نتراجع عن القرار"')), V(said.format("'قد نتراجع عن القرار'")))
    assert [(d["removed"], d["added"]) for d in c.facts["quotes"]] == [
        (["لن نتراجع عن القرار"], ["قد نتراجع عن القرار"])
    ]
    from raqib.diffs.facts import quotes

    assert quotes("it's the 'Qur'an' debate, isn't it") == []  # one inside: none read
    assert quotes("he said 'no deal' and left") == ["no deal"]
    # A review's: an elided year opens none, a plural's possessive closes none.
    assert quotes("In the '80s, the workers' unions grew") == []
    # A dash before a number is still a figure's (a minus, a score), after a word with
    # the article or a preposition too; a minute's mark is no quotation's.
    for a, b in (
        ("سجلت الحرارة -5 درجات.", "سجلت الحرارة 5 درجات."),
        ("انخفضت الحرارة إلى-5 درجات.", "انخفضت الحرارة إلى 5 درجات."),
        ("سجلت الحرارة-3 درجات.", "سجلت الحرارة 3 درجات."),
        ("it fell to-5 degrees.", "it fell to 5 degrees."),
        ("سجل الهدف في الدقيقة 45' من المباراة.", 'سجل الهدف في الدقيقة 45" من المباراة.'),
    ):
        assert compare(V(a), V(b)).kind == "substantive", (a, b)


def test_a_number_with_the_article_is_a_figure() -> None:
    """الثلاث سنوات → الأربع سنوات said no figure changed, and الساعات الأربع
    والعشرين → الساعات الـ24 said "24 added" (a copy desk's). With the article,
    the words that are numbers only are figures; الاثنين (Monday), السبع (a
    lion) and الست (a lady) are not read."""

    def delta(old: str, new: str) -> list[tuple[list[str], list[str]]]:
        c = compare(V(old), V(new))
        assert c.kind == "substantive", (old, new)
        return [(d["removed"], d["added"]) for d in c.facts["numbers"]]

    assert delta("استمرت الحرب الثلاث سنوات الماضية.", "استمرت الحرب الأربع سنوات الماضية.") == [
        (["الثلاث"], ["الأربع"])
    ]
    assert delta("خلال السنوات الخمس الماضية.", "خلال السنوات العشرين الماضية.") == [
        (["الخمس"], ["العشرين"])
    ]
    assert delta("في الدقائق الخمسة والعشرين الأولى.", "في الدقائق الثلاثين الأولى.") == [
        (["الخمسة والعشرين"], ["الثلاثين"])
    ]
    for a, b in (
        ("خلال الساعات الأربع والعشرين الماضية.", "خلال الساعات الـ24 الماضية."),
        ("قمة مجموعة العشرين في الرياض.", "قمة مجموعة الـ20 في الرياض."),
    ):
        c = compare(V(a), V(b))
        assert c.kind == "cosmetic" and not c.facts["numbers"], (a, b)
    assert delta("ثلاث سنوات من الحرب.", "الثلاث سنوات من الحرب.") == []  # the same figure
    assert delta("مقارنة مع الثلاث سنوات.", "مقارنة بالثلاث سنوات.") == []  # بال: the same
    # A review's: a range is two figures, not their sum (20 and 50 is not 30 and 40).
    assert delta("بين العشرين والخمسين عاما.", "بين الثلاثين والأربعين عاما.") == [
        (["العشرين", "والخمسين"], ["الثلاثين", "والأربعين"])
    ]
    assert delta("بين ثلاث وسبع سنوات.", "بين أربع وست سنوات.")  # 3 and 7 is not 10
    # The third review's: ranges of thousands, hundreds, millions; a ten after و is no teen.
    for a, b in (
        ("بين عشرة آلاف وعشرين ألف متظاهر.", "بين خمسة آلاف وخمسة وعشرين ألف متظاهر."),
        ("بين مئتين وثلاثمائة جندي.", "بين مئة وأربعمائة جندي."),
        ("بين ألفين وثلاثة آلاف جندي.", "بين ألف وأربعة آلاف جندي."),
        ("بين مليون ومليونين دولار.", "بين مليونين وثلاثة ملايين دولار."),
        ("بين خمسة وعشرة أيام.", "بين ستة وتسعة أيام."),
    ):
        assert delta(a, b), (a, b)
    from raqib.normalize.arabic import matching_key

    for words, key in (
        ("مئة وخمسة وعشرون", "125"), ("ألف وتسعمائة وخمسة وتسعون", "1995"),
        ("ثلاثة ملايين وخمسمائة ألف", "3500000"), ("مليون ومئة ألف وخمسة", "1100005"),
        ("ثلاث مئة وخمسة", "305"), ("اثنا عشر ألفا", "12000"), ("خمسة عشر", "15"),
        # The fourth review's: a teen after a hundred, half a scale without its article, a
        # count before a dual (two figures, none made up).
        ("ثلاثمائة وخمسة عشر", "315"), ("ثلاثة ملايين ونصف مليون", "3500000"),
        ("مئة وألفين وثلاثة آلاف", "100 و2000 و3000"),
    ):  # fmt: skip
        assert matching_key(words) == key, words
    # An ordinal's ten is no figure of its own; العشرة is also companionship.
    assert delta("في الذكرى الخامسة والعشرين للثورة.", "في الذكرى الـ25 للثورة.") == [([], ["25"])]
    assert delta("قال إن العشرة الزوجية تدوم.", "قال إن الصحبة الزوجية تدوم.") == []
    assert delta("عقد الاجتماع يوم الاثنين.", "عقد الاجتماع يوم الثلاثاء.") == []
    assert delta("هاجم السبع القطيع.", "هاجم الأسد القطيع.") == []


def test_a_stamp_an_older_extractor_kept_in_its_line_is_not_new() -> None:
    """Extractor 19 keeps a stamp without the rest of its line ("نشر في 10:00
    ص آخر تحديث 14:00 | طباعة" is "آخر تحديث 14:00"): the same stamp, shown in
    the old version's longer line, announces nothing; another time does."""
    old = V("نص الخبر.", notices=["نشر في 10:00 ص آخر تحديث 14:00 | طباعة"])
    edited = "نص الخبر المعدل."
    assert compare(old, V(edited, notices=["آخر تحديث 14:00"])).silent
    for moved in ("آخر تحديث 16:30", "آخر تحديث 1:00", "آخر تحديث 14:0"):
        assert not compare(old, V(edited, notices=[moved])).silent, moved
    old.notices = ["نشر في 10:00 ص آخر تحديث 11:00 | طباعة"]
    assert not compare(old, V(edited, notices=["آخر تحديث 1:00"])).silent


def test_persians_slash_decimal_and_a_hijri_years_date() -> None:
    """A Persian copy desk's: ۳/۵ درصد (Persian types its decimal point as a
    slash) → ۳٫۵ درصد read as 3 and 5 gone, 3.5 added; ۱۴۰۲/۰۳/۱۵ → ۱۴۰۲/۳/۱۵
    (a Solar Hijri date's leading zero) as a date changed."""
    from raqib.diffs.facts import figures
    from raqib.normalize.arabic import matching_key

    said = "نرخ تورم {} درصد اعلام شد."
    for a, b in (("۳/۵", "۳٫۵"), ("۳/۵", "3.5")):
        c = compare(V(said.format(a)), V(said.format(b)))
        assert c.kind == "cosmetic", (a, b)
    c = compare(V(said.format("۳/۵")), V(said.format("۴/۵")))
    assert [(d["removed"], d["added"]) for d in c.facts["numbers"]] == [
        (["۳/۵ درصد"], ["۴/۵ درصد"])
    ]
    dated = "این قانون در تاریخ {} تصویب شد."
    assert compare(V(dated.format("۱۴۰۲/۰۳/۱۵")), V(dated.format("۱۴۰۲/۳/۱۵"))).kind == "cosmetic"
    c = compare(V(dated.format("۱۴۰۲/۰۳/۱۵")), V(dated.format("۱۴۰۲/۰۴/۱۵")))
    assert [(d["removed"], d["added"]) for d in c.facts["numbers"]] == [
        (["۱۴۰۲/۰۳/۱۵"], ["۱۴۰۲/۰۴/۱۵"])
    ]
    # In a Persian text its ASCII digits' slash too (the third review's); not a year range.
    assert compare(V("نرخ ۳/۵ درصد است."), V("نرخ 3/5 درصد است.")).kind == "cosmetic"
    assert "1401/1402" in matching_key("سال تحصیلی ۱۴۰۱/۱۴۰۲")
    assert "1402/3" in matching_key("سال ۱۴۰۲/۳")  # a year and its month (the fourth review's)
    assert "3/5" in matching_key("بلغ 3/5 في یک")  # ی and ک: Iran's Arabic outlets type them
    # A date's slashes are not decimal points, and Arabic's digits keep theirs.
    assert figures("في ٣/٥ الماضي") == [("3", "٣"), ("5", "٥")]
    assert compare(V("بلغ 3/5 الماضي"), V("بلغ 3.5 الماضي")).kind == "substantive"


def test_per_mille_is_not_percent() -> None:
    """5‰ → 5% is a tenfold change: the key folded ‰ into %, and the edit read
    as cosmetic (a copy desk's Sputnik page)."""
    said = "وبلغت نسبة الوفيات بين المصابين {} بحسب الوزارة."
    c = compare(V(said.format("5‰")), V(said.format("5%")))
    assert c.kind == "substantive" and c.facts["numbers"]
    assert compare(V(said.format("5‰")), V(said.format("5؉"))).kind == "cosmetic"
    assert compare(V(said.format("5%")), V(said.format("5٪"))).kind == "cosmetic"


def test_ala_bila_and_liala_are_negations() -> None:
    """ألا (أن لا) dropped flips the meaning and no negation was said (a copy
    desk's alyaum page); ألا written out as أن لا is the same negation; إلا
    ("except"), keyed as ألا is, is none."""

    def delta(old: str, new: str) -> list[tuple[list[str], list[str]]]:
        return [(d["removed"], d["added"]) for d in compare(V(old), V(new)).facts["negations"]]

    said = "وقال المسؤول متوقعا {} يكون الرد قريبا."
    assert delta(said.format("ألا"), said.format("أن")) == [(["لا"], [])]
    assert delta(said.format("ألا"), said.format("أن لا")) == []
    assert delta("عاش الآلاف بلا مأوى.", "عاش الآلاف في مأوى.") == [(["بلا"], [])]
    assert delta("أغلقت الطرق لئلا تتكرر الحوادث.", "أغلقت الطرق كي تتكرر الحوادث.") == [
        (["لئلا"], [])
    ]
    assert delta("لم يبق إلا القليل.", "لم يبق سوى القليل.") == []


def test_a_quotation_over_several_sentences_is_a_quote_in_each() -> None:
    """A Persian copy desk's hunt: an edit inside a quotation of two sentences
    said no quote changed (its sentence held one of its marks only)."""
    old = "قال الوزير: «لن نتراجع عن القرار. سنواصل العمل حتى النهاية.» وأضاف أن الحكومة مستعدة."
    for a, b in (("سنواصل", "لن نواصل"), ("نتراجع", "نتنازل")):
        c = compare(V(old), V(old.replace(a, b)))
        [q] = c.facts["quotes"]
        assert any(a in r for r in q["removed"]) and any(b in x for x in q["added"]), q
    fa = "وی گفت: «صحبتی نشده است. حمایت و عدم‌حمایت، هر دو محتمل است.» او افزود."
    assert compare(V(fa), V(fa.replace("محتمل", "بعید"))).facts["quotes"]
    assert compare(V(old), V(old.replace("وأضاف", "وقال"))).facts["quotes"] == []


def test_persian_ezafe_on_heh_is_spelling() -> None:
    """A Persian copy desk's hunt: دربارۀ (U+06C0) → دربارهٔ or درباره was substantive."""
    old = "گزارشی دربارۀ بودجه سال آینده منتشر شد."
    for new in ("دربارهٔ", "درباره"):
        assert compare(V(old), V(old.replace("دربارۀ", new))).kind == "cosmetic", new


def test_persian_negative_verbs_are_negations() -> None:
    """A Persian copy desk's hunt: می‌نمایند → نمی‌نمایند, نیست → است were
    substantive with no negation said (`changes --facts negation` missed them);
    Arabic words that look alike are none."""

    def delta(old: str, new: str) -> list[tuple[list[str], list[str]]]:
        return [(d["removed"], d["added"]) for d in compare(V(old), V(new)).facts["negations"]]

    assert delta("مجوز را صادر می‌نمایند.", "مجوز را صادر نمی‌نمایند.") == [([], ["نمي"])]
    assert delta("بازگشت او بعید نیست.", "بازگشت او بعید است.") == [(["نيست"], [])]
    assert delta("این کار عیبی ندارد.", "این کار عیبی دارد.") == [(["ندارد"], [])]
    assert delta("مواد جاساز شده بود.", "مواد جاساز نشده بود.") == [([], ["نشده"])]
    assert delta("نشدد على أهمية الحوار.", "نؤكد على أهمية الحوار.") == []
    assert delta("لم نكن هناك في نشوء الأزمة.", "كنا هناك في نشوء الأزمة.") == [(["لم"], [])]


def test_a_figure_is_shown_in_the_digits_the_page_wrote() -> None:
    """The README says figures are shown as the page wrote them: ٢٩ was shown 29."""
    old = "سجلت الوزارة 26 حالة جديدة، ونسبة الشفاء ٣٫٥ بالمئة."
    c = compare(V(old), V(old.replace("26", "٢٩").replace("٣٫٥", "٤٫٥")))
    assert [(d["removed"], d["added"]) for d in c.facts["numbers"]] == [
        (["26", "٣٫٥ بالمئة"], ["٢٩", "٤٫٥ بالمئة"])
    ]
    assert compare(V(old), V(old.replace("26", "٢٦"))).kind == "cosmetic"


def test_a_time_or_a_date_is_one_figure() -> None:
    """09:22 → 09:45 was shown "removed 22; added 45", 15/03/2020 → 16/03/2020
    "removed 15; added 16"."""
    for old, new in (
        ("09:22", "09:45"),
        ("15/03/2020", "16/03/2020"),
        ("2020-03-15", "2020-03-16"),
    ):
        text = "أعلنت الوزارة النتائج في {} بتوقيت بغداد."
        c = compare(V(text.format(old)), V(text.format(new)))
        assert [(d["removed"], d["added"]) for d in c.facts["numbers"]] == [([old], [new])]


def test_a_times_or_a_dates_leading_zero_and_separator_are_spelling() -> None:
    """A fact-checker's hunt on beirutobserver: 09:45 → 9:45 and 05/11/2020 →
    5/11/2020 read as a silent figure change, and 15/03/2020 → 15-03-2020 as
    three new figures. A changed figure is still one, shown as written."""
    text = "أعلنت الوزارة النتائج الساعة {} بتوقيت بغداد."
    for old, new in (
        ("09:45 مساء 05/11/2020", "9:45 مساء 5/11/2020"),
        ("15/03/2020", "15-03-2020"),
        ("15/03/2020", "2020-03-15"),
        ("١٥/٠٣/٢٠٢٠", "15.03.2020"),
        ("2020/03/05", "5/3/2020"),
    ):
        c = compare(V(text.format(old)), V(text.format(new)))
        assert c.kind == "cosmetic" and c.facts["numbers"] == [], (old, new)
    for old, new in (
        ("09:45", "09:50"), ("10:05", "10:50"), ("15-03-2020", "16-03-2020"),
        ("02-12-3456", "2-12-3456"),  # no year: a telephone number's digits
    ):  # fmt: skip
        c = compare(V(text.format(old)), V(text.format(new)))
        assert c.kind == "substantive", (old, new)
        assert [(d["removed"], d["added"]) for d in c.facts["numbers"]] == [([old], [new])]


def test_a_range_of_times_or_dates_shows_the_one_that_changed() -> None:
    """10:00-10:30 → 10:00-11:30 was shown "10:00 → 10:00" (a reviewer's)."""
    text = "تعقد الجلسة من {} في القاعة الكبرى."
    for old, new, removed, added in (
        ("10:00-10:30", "10:00-11:30", "10:30", "11:30"),
        ("05/03/2020-06/03/2020", "05/03/2020-07/03/2020", "06/03/2020", "07/03/2020"),
    ):
        c = compare(V(text.format(old)), V(text.format(new)))
        assert [(d["removed"], d["added"]) for d in c.facts["numbers"]] == [([removed], [added])]


def test_ten_and_the_accusative_are_numbers() -> None:
    from raqib.diffs.facts import numbers

    """منذ 10 سنوات → منذ عشر سنوات (a style edit) read as the figure 10
    removed; خمسا وعشرين was 20 and ثلاثا no number."""
    text = "قالت الوزارة إن {} من التحقيق أثبتت صحة الرواية"
    for old, new in (
        ("10 سنوات", "عشر سنوات"),
        ("25 عاما", "خمسا وعشرين عاما"),
        ("3 مرات", "ثلاثا"),
        ("9 أشهر", "تسعاً أشهر"),
    ):
        c = compare(V(text.format(old)), V(text.format(new)))
        removed = [d["removed"] for d in c.facts["numbers"]]
        assert removed == [] and (c.kind == "cosmetic" or old == "3 مرات"), (old, new, removed)
    # عشر ending an ordinal, or a tenth (before a word with its article), is no 10.
    assert numbers("منذ الحادي عشر من سبتمبر، وفي القرن التاسع عشر، عشر الميزانية") == []
    assert numbers("اعتقلت الشرطة عشر نساء") == ["10"]  # after a subject with its article
    assert numbers("في الدورة الحادية عشرة للمهرجان") == []
    c = compare(V(text.format("عشر سنوات")), V(text.format("إحدى عشرة سنة")))
    assert [(d["removed"], d["added"]) for d in c.facts["numbers"]] == [(["عشر"], ["إحدى عشرة"])]


def test_a_question_mark_is_not_typing() -> None:
    """A question become a statement is an edit: "?" is kept where "." and "،" are not."""
    for a, b in (("انتهت الحرب؟", "انتهت الحرب."), ("هل انتهت الحرب?", "هل انتهت الحرب!")):
        assert compare(V(a), V(b)).kind == "substantive", (a, b)


@dataclass
class Served(V):
    url: str = "https://news.example/a"


def test_another_page_at_the_address_is_a_redirect_not_a_silent_rewrite() -> None:
    """The address redirected to another story: the change read as the article
    silently rewritten whole (substantive, silent, every sentence). It says the
    address now leads elsewhere; a rewrite at the same address stays silent."""
    old = Served("قالت الوزارة إن 26 حالة سجلت اليوم.\nوأضافت أن الوضع مستقر.", "كورونا في مصر")
    other = "افتتح الوزير مشروع الري الجديد في المنيا.\nويخدم المشروع ألف فدان."
    moved = Served(other, "مشروع ري جديد", url="https://news.example/other")
    c = compare(old, moved)
    assert c.kind == "substantive" and not c.silent
    assert c.signals == [
        "redirect: the address now leads to another page (https://news.example/other)"
    ]
    assert compare(old, Served(other, "مشروع ري جديد")).silent  # the same address
    edited = Served(old.text.replace("26", "29"), old.title, url="https://news.example/a-slug")
    assert compare(old, edited).silent  # a new address, the same story edited
