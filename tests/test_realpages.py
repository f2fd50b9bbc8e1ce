"""Real Arabic and Persian news pages (../shared/realpages, tests only).

Extraction keeps the article body and drops comment/policy boilerplate; page
furniture perturbations make no version; diacritics are cosmetic; a new
sentence is substantive.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from raqib.diffs.classify import compare
from raqib.extract.page import Page, make_page
from raqib.extract.results import NotArticle
from raqib.normalize.arabic import canonical_line
from tests.conftest import realpage

TABLE = tomllib.loads(
    (Path(__file__).parent / "data" / "realpages.toml").read_text(encoding="utf-8")
)
PAGES = sorted(TABLE)


def page_of(html: str) -> Page:
    result = make_page(html, "https://news.example/article")
    assert not isinstance(result, NotArticle), result
    return result


@pytest.mark.parametrize("name", PAGES)
def test_extraction_keeps_body_drops_boilerplate(name: str) -> None:
    text = page_of(realpage(f"{name}.html")).snapshot.text
    for phrase in TABLE[name]["must_contain"]:
        assert phrase in text, f"{name}: lost {phrase!r}"
    for phrase in TABLE[name]["must_not_contain"]:
        assert phrase not in text, f"{name}: kept boilerplate {phrase!r}"


# --- perturbations, each applied to the parsed page --------------------------


def _tree(name: str) -> Any:
    return lxml.html.document_fromstring(realpage(f"{name}.html"))


def _html(tree: Any) -> str:
    return lxml.html.tostring(tree, encoding="unicode")


def _body_element(tree: Any, paragraph: str) -> Any:
    """The smallest element whose text starts like this extracted paragraph."""
    probe = canonical_line(paragraph)[:25]
    best = None
    for el in tree.iter("p", "div", "span", "td", "font", "article", "section"):
        text = canonical_line(el.text_content())
        if probe in text and (best is None or len(text) < len(canonical_line(best.text_content()))):
            best = el
    assert best is not None, f"no element holds {probe!r}"
    return best


def _perturb_links_outside_body(tree: Any, article: Any) -> int:
    """Change every link that is not part of the article (headline, body, byline)."""
    changed = 0
    own = f"{article.title}\n{article.byline or ''}\n{article.text}"
    for a in tree.iter("a"):
        label = canonical_line(a.text_content())
        if label and label in own:
            continue
        a.set("href", (a.get("href") or "/") + "?ref=changed")
        if a.text and a.text.strip():
            a.text = a.text + " - جديد"
        changed += 1
    return changed


def _add_ads(tree: Any) -> None:
    body = tree.find("body")
    for where in (0, len(body)):
        ad = lxml.html.fragment_fromstring(
            '<div class="ad-slot advertisement">إعلان: خصومات كبيرة على الرحلات إلى إسطنبول هذا الأسبوع فقط</div>'
        )
        body.insert(where, ad)


def _inject_read_also(tree: Any, paragraph: str) -> None:
    el = _body_element(tree, paragraph)
    promo = lxml.html.fragment_fromstring(
        '<p>اقرأ أيضاً: <a href="/news/other-story">تفاصيل جديدة عن موضوع آخر مختلف تماما في المنطقة</a></p>'
    )
    el.addnext(promo)
    link_only = lxml.html.fragment_fromstring(
        '<p><a href="/news/third-story">وزير الخارجية يصل إلى أنقرة في زيارة رسمية تستمر يومين</a></p>'
    )
    promo.addnext(link_only)


_ARABIC_WORD = re.compile(r"([\u0628-\u064a])([\u0628-\u064a]+)")


def _add_diacritics(text: str) -> str:
    return _ARABIC_WORD.sub(lambda m: m.group(1) + "\u064e" + m.group(2), text)


def _edit_paragraph(tree: Any, paragraphs: list[str], fn: Any) -> None:
    """Rewrite the text node holding the longest paragraph that sits in one
    text node (in a <p>, or between <br>s), untouched by inline markup."""
    for paragraph in sorted(paragraphs, key=len, reverse=True):
        probe = canonical_line(paragraph)[:25]
        for el in tree.iter():
            if el.text and probe in canonical_line(el.text):
                el.text = fn(el.text)
                return
            if el.tail and probe in canonical_line(el.tail):
                el.tail = fn(el.tail)
                return
    raise AssertionError("no paragraph sits in a single text node")


@pytest.mark.parametrize("name", PAGES)
def test_furniture_perturbations_make_no_version(name: str) -> None:
    baseline = page_of(_html(_tree(name))).snapshot
    paragraph = baseline.text.split("\n")[1 if baseline.text.count("\n") else 0]

    tree = _tree(name)
    assert _perturb_links_outside_body(tree, baseline) > 5
    assert page_of(_html(tree)).snapshot.content_hash == baseline.content_hash, (
        "links outside the body"
    )

    tree = _tree(name)
    _add_ads(tree)
    assert page_of(_html(tree)).snapshot.content_hash == baseline.content_hash, "ads"

    tree = _tree(name)
    _inject_read_also(tree, paragraph)
    assert page_of(_html(tree)).snapshot.content_hash == baseline.content_hash, (
        "in-body read-also promo"
    )


@pytest.mark.parametrize("name", PAGES)
def test_diacritics_are_cosmetic_and_a_sentence_is_substantive(name: str) -> None:
    baseline = page_of(_html(_tree(name))).snapshot
    paragraphs = baseline.text.split("\n")

    tree = _tree(name)
    _edit_paragraph(tree, paragraphs, _add_diacritics)
    voweled = page_of(_html(tree)).snapshot
    assert voweled.content_hash != baseline.content_hash  # a version is stored …
    change = compare(baseline, voweled)
    assert change.kind == "cosmetic" and not change.silent  # … and judged cosmetic

    tree = _tree(name)
    _edit_paragraph(
        tree,
        paragraphs,
        lambda text: text.rstrip() + " وأكد مصدر مسؤول أن التحقيقات في القضية مستمرة حتى الآن. ",
    )
    added = page_of(_html(tree)).snapshot
    change = compare(baseline, added)
    assert change.kind == "substantive" and change.silent
    assert change.counts["add"] + change.counts["edit"] >= 1


def test_a_teaser_in_the_article_that_opens_like_a_notice_announces_nothing() -> None:
    """Sputnik puts "read also" teasers inside the article's paragraphs. One
    whose headline opened "تحديث:" was read as this article's update notice,
    so the silent edit beside it (78 → 87) was announced, and `changes
    --silent` lost it. A line that is all one link names another page."""
    html = realpage("ar_sputnik_arabic.html")
    baseline = page_of(html)
    teaser = "مصر تحظر تصدير الكحول والكمامات الطبية"
    assert teaser in html and "78 عامًا" in html
    edited = page_of(
        html.replace(teaser, "تحديث: الأردن يسجل 12 إصابة جديدة بكورونا").replace(
            "78 عامًا", "87 عامًا"
        )
    )
    assert edited.snapshot.notices == baseline.snapshot.notices == []
    change = compare(baseline.snapshot, edited.snapshot)
    assert change.kind == "substantive" and change.silent
    # A notice that holds a link is still one: only a line all of one link is not.
    note = '<p>تصحيح: <a href="/policy">سياسة التصحيح</a> نشرت نسخة سابقة رقما خاطئا.</p>'
    corrected = page_of(html.replace("78 عامًا", "87 عامًا", 1).replace("</h1>", "</h1>" + note, 1))
    assert corrected.snapshot.notices


def test_a_copy_desks_silent_edits_stay_silent() -> None:
    """On the real pages, as a copy desk edited them: a sentence holding "آخر
    تحديث" and a date was read as the page's stamp, and a related story's
    JSON-LD dateModified as the page's, each announcing a silent edit; and
    ألفاً → ألفين (a thousand to two) read as a cosmetic edit."""
    html = realpage("ar_sputnik_arabic.html")
    at = html.index("</p>", html.index("78 عامًا")) + len("</p>")
    para = "<p>وبحسب آخر تحديث في 17 مارس، بلغ عدد المتعافين 21 حالة.</p>"
    para += "<p>وبلغ عدد المخالطين الخاضعين للعزل ألفاً، بحسب الوزارة.</p>"
    before = page_of(html[:at] + para + html[at:])
    edited = para.replace("21 حالة", "32 حالة").replace("ألفاً،", "ألفين،")
    after = page_of(html[:at] + edited + html[at:])
    assert before.snapshot.notices == after.snapshot.notices == []
    change = compare(before.snapshot, after.snapshot)
    assert change.kind == "substantive" and change.silent
    assert {n for f in change.facts["numbers"] for n in f["added"]} == {"32", "ألفين"}

    html = realpage("ar_elbaladtv_eg.html")
    assert html.count("رمضان 2020") == 1

    def related(modified: str) -> str:
        other = '{"@type": "NewsArticle", "url": "https://elbaladtv.net/other/",'
        return f'<script type="application/ld+json">{other} "dateModified": "{modified}"}}</script>'

    before = page_of(html.replace("</body>", related("2020-12-25T08:00:00+02:00") + "</body>"))
    after = page_of(
        html.replace("رمضان 2020", "رمضان 2019").replace(
            "</body>", related("2020-12-26T08:00:00+02:00") + "</body>"
        )
    )
    assert before.snapshot.modified == after.snapshot.modified == "2020-12-25T01:59:50+02:00"
    change = compare(before.snapshot, after.snapshot)
    assert change.kind == "substantive" and change.silent


def test_a_correction_written_as_a_line_of_the_article_announces_the_edit() -> None:
    """youm7 writes its article as paragraphs of lines (<br>): a correction
    added as one more line was no notice (only an element's own short text
    was), so the corrected figure read as a silent edit."""
    html = realpage("ar_youm7_eg.html")
    baseline = page_of(html)
    line = "ملامح المرحلة الثانية من الدراسة.<br />"
    correction = "تصحيح: ورد في نسخة سابقة من هذا الخبر أن عدد المراحل ثلاث، والصحيح مرحلتان."
    assert html.count(line) == 1 and "<br />" in html
    edited = page_of(
        html.replace(line, f"{line}\n\t{correction}<br />").replace("الثانية", "الثالثة")
    )
    assert baseline.snapshot.notices == [] and edited.snapshot.notices == [correction]
    change = compare(baseline.snapshot, edited.snapshot)
    assert change.kind == "substantive" and not change.silent


def test_an_article_replaced_by_a_removal_notice_is_removed() -> None:
    """Sputnik's page with its article replaced by "تم حذف هذا الخبر": the
    extraction fell back to the template (comment rules, account dialogs), and
    the change read as a silent edit of 38 paragraphs. It is removed, as a 404
    would say, with the page's own words."""
    import re as regex
    from datetime import UTC, datetime

    from raqib.domain import Outcome, Task
    from raqib.extract import judge

    html = realpage("ar_sputnik_arabic.html")
    notice = "تم حذف هذا الخبر بناء على طلب الجهة المعنية."
    gone, n = regex.subn(
        r'<div itemprop="description" class="b-article__lead">.*?</div>'
        r'<div class="b-banner m-banner-33',
        f'<div itemprop="articleBody" class="b-article__text"><p dir="rtl">{notice}</p></div>'
        '<div class="b-banner m-banner-33',
        html,
        count=1,
        flags=regex.S,
    )
    assert n == 1
    result = make_page(gone, "https://news.example/article")
    assert isinstance(result, NotArticle) and result.reason.endswith(notice)
    now = datetime.now(UTC)
    task = Task(
        1, "https://news.example/a", None, None, None, "x", "active", 1, 400, now, None, 0, 0
    )
    verdict = judge.after_extraction(task, result)
    assert verdict.outcome == Outcome.REMOVED
    assert not isinstance(make_page(html, "https://news.example/article"), NotArticle)
