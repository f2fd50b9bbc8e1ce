"""Detection holes found on real pages (issue 16), each on pages built for it
and replayed through real passes: data tables, ledes, an in-body headline,
JSON-LD that breaks, invalid UTF-8 on a first fetch, numbers in words, and
an article nested 10,000 divs deep."""

from __future__ import annotations

from typing import Any

import pytest

from raqib.demo.server import Route
from tests.built_pages import (
    BODY,
    TITLE,
    article_page,
    deep_page,
    lede_markup,
    standings_table,
)
from tests.conftest import Raqib


def replay(server: Any, raqib: Raqib, pages: list[str | bytes], path: str = "/a") -> str:
    """Serve each page in turn and run a pass after each; returns the URL."""
    url = server.base + path
    raqib("watch", url, "--no-fetch")
    for page in pages:
        body = page.encode("utf-8") if isinstance(page, str) else page
        server.routes[path] = Route(body)
        raqib.proc("check", "--all")
    return url


def changes(raqib: Raqib, url: str) -> list[dict[str, Any]]:
    return raqib("changes", "--url", url, "--json").json()


def last_log(raqib: Raqib, url: str) -> dict[str, Any]:
    return raqib("log", url, "--json").json()[-1]


@pytest.mark.parametrize("layout", ["thead", "bare", "row-headers"])
def test_a_changed_table_cell_is_a_substantive_edit(server, raqib: Raqib, layout: str) -> None:
    second = [["المريخ", "30", "12", "40"], ["الزمالك", "30", "11", "38"]]
    url = replay(
        server,
        raqib,
        [
            article_page(in_body=standings_table(layout)),
            article_page(in_body=standings_table(layout, points="63")),  # one cell
            article_page(
                in_body=standings_table(layout, points="63") + standings_table(layout, rows=second)
            ),  # a table added
        ],
    )
    cell, added = changes(raqib, url)
    assert cell["kind"] == "substantive"
    assert cell["facts"]["numbers"][0]["removed"] == ["62"]
    assert cell["facts"]["numbers"][0]["added"] == ["63"]
    assert [a["label"] for a in cell["alignment"]] == ["edit"]
    assert {a["label"] for a in added["alignment"]} == {"add"}
    assert any("المريخ" in (a["new"] or "") for a in added["alignment"])


@pytest.mark.parametrize("kind", ["div-lead", "standfirst", "description", "bullets"])
def test_the_lede_is_part_of_the_text(server, raqib: Raqib, kind: str) -> None:
    lede = "أعلنت وزارة الصحة اليوم تسجيل {n} حالة جديدة؛ وارتفع العدد الإجمالي للمصابين إلى 196 حالة مؤكدة"
    url = replay(
        server,
        raqib,
        [
            article_page(header=lede_markup(kind, lede.format(n=30))),
            # A new photo caption in the header is not article text…
            article_page(
                header=lede_markup(kind, lede.format(n=30)), caption="صورة جديدة من الملعب"
            ),
            # …a figure changed in the lede is.
            article_page(header=lede_markup(kind, lede.format(n=31))),
        ],
    )
    versions = raqib("versions", url, "--json").json()
    assert versions[0]["text"].startswith("أعلنت وزارة الصحة اليوم تسجيل 30 حالة جديدة")
    (change,) = changes(raqib, url)
    assert change["kind"] == "substantive" and change["to_version"] == 2
    assert change["facts"]["numbers"][0]["removed"] == ["30"]


def test_a_cosmetic_edit_to_an_in_body_headline_makes_no_version(server, raqib: Raqib) -> None:
    dressed = "نتائجُ الجولةِ الأخيرة من الدوري وأسعار الخضار في الأسواق"
    url = replay(
        server,
        raqib,
        [article_page(h1_in_body=TITLE), article_page(h1_in_body=dressed)],
    )
    assert [e["outcome"] for e in raqib("log", url, "--json").json()] == [
        "new_version",
        "unchanged",
    ]
    assert TITLE not in raqib("versions", url, "--json").json()[0]["text"]


def test_broken_json_ld_changes_metadata_not_the_version(server, raqib: Raqib) -> None:
    ld = {
        "@type": "NewsArticle",
        "headline": "عنوان من JSON-LD يختلف قليلا",
        "author": {"name": "فريق التحرير"},
        "datePublished": "2026-01-01T10:00:00+03:00",
        "dateModified": "2026-01-01T11:00:00+03:00",
    }
    url = replay(
        server,
        raqib,
        [article_page(jsonld=ld), article_page(jsonld='{"@type": "NewsArticle", "headline": ')],
    )
    log = raqib("log", url, "--json").json()
    assert [e["outcome"] for e in log] == ["new_version", "unchanged"]
    assert log[1]["detail"].startswith("metadata changed, text and headline not:")
    assert "byline gone" in log[1]["detail"] and "modified gone" in log[1]["detail"]
    assert "metadata changed" in raqib("log", url).out  # the terminal view says it too
    assert changes(raqib, url) == []


def test_invalid_utf8_on_a_first_fetch_is_not_an_article(server, raqib: Raqib) -> None:
    page = article_page().encode("utf-8")
    damaged = page.replace(BODY[1].encode("utf-8")[:12], b"\xff\xfe\xfa\xfb" * 3, 1)
    url = replay(server, raqib, [damaged])
    entry = last_log(raqib, url)
    assert entry["outcome"] == "not_article" and "undecodable bytes" in entry["detail"]
    assert raqib("versions", url, "--json").json() == []


def test_numbers_in_words_are_figures(server, raqib: Raqib) -> None:
    def page(figure: str) -> str:
        body = list(BODY)
        body[2] = f"وقال رئيس الاتحاد إن {figure} لاعبين أصيبوا خلال الموسم الذي انتهى أمس."
        return article_page(body=body)

    url = replay(server, raqib, [page("3"), page("ثلاثة"), page("خمسة")])
    to_words, to_five = changes(raqib, url)
    assert to_words["kind"] == "cosmetic" and to_words["facts"]["numbers"] == []
    assert to_five["kind"] == "substantive"
    assert to_five["facts"]["numbers"][0]["removed"] == ["ثلاثة"]
    assert to_five["facts"]["numbers"][0]["added"] == ["خمسة"]


def test_an_article_ten_thousand_divs_deep_is_extracted(server, raqib: Raqib) -> None:
    url = replay(server, raqib, [deep_page(10_000)])
    assert last_log(raqib, url)["outcome"] == "new_version"
    assert BODY[0] in raqib("versions", url, "--json").json()[0]["text"]


LEDE = (
    "أعلنت وزارة الصحة اليوم تسجيل 30 حالة جديدة وارتفع العدد الإجمالي للمصابين إلى 196 حالة مؤكدة"
)


def test_watch_fetches_at_once_and_shows_what_it_reads(server, raqib: Raqib) -> None:
    page = article_page(header=lede_markup("standfirst", LEDE), in_body=standings_table("thead"))
    server.routes["/p"] = Route(page.encode("utf-8"))
    url = server.base + "/p"
    out = raqib("watch", url).out  # the fetch runs in a child process
    assert out.startswith(f"watching {url}")
    assert f"headline:   {TITLE}" in out and f"lede:       {LEDE}" in out
    assert "1 table" in out and "an article: watched as shown" in out
    assert [e["outcome"] for e in raqib("log", url, "--json").json()] == ["new_version"]
    again = raqib("watch", url, "--json").json()  # already watched: shown, not fetched again
    assert again[0]["created"] is False and again[0]["tables"] == 1
    assert len(raqib("log", url, "--json").json()) == 1


def test_preview_reads_a_page_and_stores_nothing(server, raqib: Raqib) -> None:
    server.routes["/p"] = Route(article_page(header=lede_markup("div-lead", LEDE)).encode())
    server.routes["/js"] = Route(
        b'<html><body><div id="app"></div><script>render(window.__STATE__)</script></body></html>'
    )
    shown = raqib("preview", server.base + "/p", server.base + "/js", "--json").json()
    assert shown[0]["title"] == TITLE and shown[0]["lede"] == [LEDE]
    assert shown[0]["paragraphs"] == len(BODY) + 1 and shown[0]["words"] > 60
    assert shown[1]["outcome"] == "not_article" and shown[1]["title"] is None
    said = raqib("preview", server.base + "/js").out
    assert "not an article (no article text found; its scripts build the page: try" in said
    assert f"raqib watch --render {server.base}/js" in said  # what to do about it
    assert not (raqib.home / "raqib.db").exists()


def test_a_page_extracted_in_full_with_no_region_drops_the_old_one(server, raqib: Raqib) -> None:
    """A long story cut to a short one that has no region (its text glued by
    trafilatura, split back by Raqib) must not keep the long one's region: the
    long text restored would match that old digest and pass for unchanged."""
    from tests.test_extract import _SHORT, _short_story

    url = server.base + "/cut"
    long = [
        *_SHORT,
        "وأضاف أن الحكومة تعمل على خطة شاملة لإصلاح المالية العامة تشمل خفض النفقات" * 2,
    ]
    raqib("watch", "--no-fetch", url)
    for paragraphs in (long, _SHORT[:2], long):
        server.routes["/cut"] = Route(_short_story(paragraphs).encode())
        raqib.proc("check", "--all")
    log = raqib("log", url, "--json").json()
    assert sorted(e["outcome"] for e in log) == ["new_version"] * 3
    assert [len(v["text"].split("\n")) for v in raqib("versions", url, "--json").json()][-1] == 4
