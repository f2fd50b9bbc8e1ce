"""Words and numbers found as a reader means them: `search`, `changes
--search` and a channel's keywords match a number only whole (خمسة is 5,
never 50, 2500 or 3,250,000), and words by matching key, spacing aside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from raqib import analysis
from raqib.domain import FetchRecord
from raqib.normalize.arabic import matching_key
from raqib.normalize.holding import holds
from tests.conftest import Raqib
from tests.test_storage import snap

pytestmark = pytest.mark.backends

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
HISTORIES = {
    "https://a.example/exports": [
        "قال الوزير إن الصادرات بلغت 3.5 مليون برميل يوميا.",
        "قال الوزير إن الصادرات بلغت 3.25 مليون برميل يوميا.",
    ],
    "https://b.example/summit": [
        "شاركت خمسين دولة في القمة و2500 مندوب وطائرات F16 في عام 2024م، وهي القمة الـ17."
    ],
    "https://c.example/attack": [
        "قتل خمسة جنود في الهجوم.",
        "قتل ستة جنود في الهجوم، وأصيب 3,500 شخص.",
    ],
    "https://d.example/losses": ["قدرت الخسائر بـ 4.5 ملياراً."],  # the accusative scale word
}


@pytest.mark.parametrize(
    ("text", "words", "held"),
    [
        ("قتل خمسة جنود", "5", True),
        ("قتل خمسة جنود", "خمسة جنود", True),
        ("شاركت خمسين دولة", "خمسة", False),
        ("بلغت 3.25 مليون برميل", "خمسة", False),
        ("بلغت 3.25 مليون برميل", "ثلاثة", False),
        ("بلغت 3.25 مليون برميل", "3.25 مليون", True),
        ("شاركت خمسين دولة و2500 مندوب", "2500", True),
        ("يقترب الانسحاب", "الإنسحاب", True),  # a spelling variant
        ("قال إن والانسحاب قريب", "الانسحاب", True),  # inside a word: a clitic
        ("عبد الله", "عبدالله", True),  # spacing aside
        ("", "خمسة", False),
    ],
)
def test_holds(text: str, words: str, held: bool) -> None:
    assert holds(matching_key(text), matching_key(words)) is held


def test_a_number_is_searched_for_whole(raqib: Raqib) -> None:
    raqib.home.mkdir(parents=True)
    store = raqib.open_storage()
    try:
        for url, texts in HISTORIES.items():
            (w, _), *_ = store.watches.add([url], now=T0)
            for i, text in enumerate(texts):
                at = T0 + timedelta(hours=i)
                store.history.record(
                    FetchRecord(
                        w.id, at, "new_version", at + timedelta(hours=1), status=200,
                        snapshot=snap(text), raw_body=text.encode(),
                    )
                )  # fmt: skip
        analysis.analyze_pending(store)
    finally:
        store.close()

    def found(*words: str) -> list[tuple[str, list[int]]]:
        return [(h["url"], h["versions"]) for h in raqib("search", *words, "--json").json()]

    assert found("خمسة") == found("5") == [("https://c.example/attack", [1])]
    assert found("ثلاثة") == []
    said = raqib("search", "تسعة", "وتسعين").err  # nothing: the value it looked for is named
    assert "so this searched for '99'" in said
    assert found("3.25", "مليون") == [("https://a.example/exports", [2])]
    # A decimal figure as printed: the key holds "3.25 مليون" as its value.
    assert found("3.25") == [("https://a.example/exports", [2])]
    assert found("3.5") == [("https://a.example/exports", [1])]
    assert found("2.5") == found("3.5", "مندوب") == []  # never the bare 2500 of the summit
    assert found("4.5") == [("https://d.example/losses", [1])]  # before ملياراً as well
    [hit] = raqib("search", "3.5", "--json").json()
    assert "3.5 مليون برميل" in hit["snippet"]
    assert found("2500") == found("و2500") == [("https://b.example/summit", [1])]
    assert found("F16") == [("https://b.example/summit", [1])]  # letters and digits: one word
    # Letters written after a number, or the article before it: the number still.
    assert found("2024") == found("17") == found("سبعة عشر") == [("https://b.example/summit", [1])]
    assert found("جنود") == [("https://c.example/attack", [2, 1])]
    # With or without the definite article, and its clitics (والهجوم, للقمة).
    assert found("هجوم") == found("الهجوم") == [("https://c.example/attack", [2, 1])]
    assert found("قمة") == found("القمة") == [("https://b.example/summit", [1])]
    assert found("صادرات") == [("https://a.example/exports", [2, 1])]
    # A word with its article is not asked for without it (التزام is not تزامن).
    assert found("دولة") == [("https://b.example/summit", [1])] and found("الدولة") == []
    assert found("طائرات") == [("https://b.example/summit", [1])]  # وطائرات: a clitic
    [hit] = raqib("search", "وزير", "--json").json()
    assert "قال الوزير" in hit["snippet"]
    assert found("3,500") == [("https://c.example/attack", [2])]  # a thousands comma
    # A figure printed with its commas or without: either finds the other.
    assert found("3500") == found("٣٥٠٠") == [("https://c.example/attack", [2])]
    assert found("2,500") == found("و2,500") == [("https://b.example/summit", [1])]
    [hit] = raqib("search", "3500", "--json").json()
    assert "3,500 شخص" in hit["snippet"]
    assert found("500") == found("3") == []  # parts of 3,500 and 3.25 are not numbers there
    edited = raqib("changes", "--search", "خمسة", "--json").json()
    assert [c["url"] for c in edited] == ["https://c.example/attack"]


@pytest.mark.parametrize(
    ("text", "words", "held"),
    [
        ("بلغت الكلفة 2 مليار دولار", "مليار", True),  # the word after a figure
        ("رصدت الحكومة 5 ملايين دينار", "ملايين", True),
        ("بلغت الكلفة 2 مليار دولار", "2 مليار", True),  # and the value, in any form
        ("بلغت الكلفة ملياري دولار", "2 مليار", True),
        ("بلغت الكلفة 2000000000 دولار", "مليار", False),  # two billion is not one
        ("شاركت خمسين دولة", "خمسة", False),  # a number still matches whole
        ("خرجت مليونية حاشدة", "مليون", False),  # a scale word whole, not inside a word
        ("قال الملياردير", "مليار", False),
        ("توسع التحالف الدولي", "ألف", False),
        ("تراجعت الصادرات 30 في المئة", "في المئة", True),  # the words as written too
        ("ارتفعت بنسبة 30%", "30 في المئة", True),  # and the value however written
        ("ارتفع الإنتاج إلى 3.5 مليون برميل", "3.5", True),  # a decimal before its scale
        ("ارتفع الإنتاج إلى 3.55 مليون برميل", "3.5", False),  # whole
        ("ارتفع الإنتاج إلى 3500000 برميل", "3.5", False),  # as `raqib search` reads it
        ("قدرت الخسائر بـ 4.5 ملياراً", "4.5", True),  # before any scale word the key reads
        ("بلغ عدد الزوار و2.5 ألفاً", "2.5", True),
        ("بلغ النمو 4.5 في المئة", "4.5", True),  # and a decimal that is no scale's count
        ("قدرت الخسائر بـ 4.5 ملياراً", "4.5 مليار", True),
        ("قدرت الخسائر بـ 4500000000", "4.5", False),
    ],
)
def test_changes_search_and_keywords_find_number_words_as_written(
    text: str, words: str, held: bool
) -> None:
    """`changes --search` and `notify --keyword` (text_holds): a scale word is
    found after any figure, as a reader would; a value still only whole."""
    from raqib.app.search import _line_holds, search_key
    from raqib.normalize.holding import text_holds

    assert text_holds([text], words) is held
    if words.replace(".", "").isdigit():  # and `raqib search` by the same rule
        assert _line_holds(text, search_key(text), words) is held


def _key_as_before(store) -> None:  # type: ignore[no-untyped-def]
    """Every key as an older Raqib made it: spelling 0, number words not read."""
    from sqlalchemy import select, update

    from raqib.storage import models as m
    from raqib.storage import sqlite

    vs = m.VersionSearch
    with store.db.session() as s:
        conn = s.connection()
        rows = s.execute(
            select(vs.version_id, vs.key, m.Version.title, m.Version.text).join(
                m.Version, m.Version.id == vs.version_id
            )
        ).all()
        was = [(vid, matching_key(f"{t}\n{b}", fold_numbers=False)) for vid, _, t, b in rows]
        if store.db.backend == "sqlite":
            sqlite.unindex_search(conn, [(vid, key) for vid, key, _, _ in rows])
        for vid, key in was:
            conn.execute(update(vs).where(vs.version_id == vid).values(key=key, spelling=0))
        if store.db.backend == "sqlite":
            sqlite.index_search(conn, was)


def test_versions_an_older_raqib_indexed_are_indexed_again(raqib: Raqib, monkeypatch) -> None:
    """Analyzer 7 reads a number word with the sentence's stop on it ("آلاف.");
    a version indexed before it holds the words, and a search for the figure
    missed it. Each pass indexes a bounded number again; `--reindex` all."""
    from raqib.app import search as search_app
    from raqib.app.home import open_app

    raqib.home.mkdir(parents=True)
    store = raqib.open_storage()
    texts = ["قتل ثلاثة آلاف.", "وصل أربعة آلاف.", "غادر خمسة آلاف."]
    try:
        for i, text in enumerate(texts):
            (w, _), *_ = store.watches.add([f"https://a.example/{i}"], now=T0)
            store.history.record(
                FetchRecord(
                    w.id, T0, "new_version", T0 + timedelta(hours=1), status=200,
                    snapshot=snap(text), raw_body=text.encode(),
                )
            )  # fmt: skip
        assert [h["url"] for h in raqib("search", "3000", "--json").json()] == [
            "https://a.example/0"
        ]
        _key_as_before(store)
    finally:
        store.close()
    result = raqib("search", "3000", "--json")
    assert result.json() == []
    assert "3 versions indexed by an older Raqib may be missed" in result.err
    for name, value in raqib.env.items():
        monkeypatch.setenv(name, value)
    app = open_app(raqib.home)
    try:
        search_app.index(app, rekey=2)  # what a pass does, with a smaller bound
        assert search_app.stale(app) == 1
    finally:
        app.storage.close()
    result = raqib("search", "--reindex")
    assert "indexed 1 version again" in result.err and result.out == ""
    result = raqib("search", "3000", "--json")
    assert [h["url"] for h in result.json()] == ["https://a.example/0"]
    assert "older Raqib" not in result.err
    assert [h["url"] for h in raqib("search", "5000", "--json").json()] == ["https://a.example/2"]
    if raqib.database_url.startswith("sqlite"):
        store = raqib.open_storage()
        try:  # the full-text index agrees with the keys it was told of
            with store.db.session() as s:
                s.connection().exec_driver_sql(
                    "INSERT INTO version_search_fts (version_search_fts, rank) "
                    "VALUES ('integrity-check', 1)"
                )
        finally:
            store.close()


def test_a_number_is_found_however_many_longer_ones_start_like_it(
    raqib: Raqib, monkeypatch
) -> None:
    """The index finds what starts with 7 (70, 700, 7xxx), and the search kept
    the newest 20 a hit of those before it read each number whole: over six
    months of history `search 7` found none of the five articles holding 7.
    It now reads page after page, and lists every matching version of a hit."""
    from raqib.app import search as search_app

    monkeypatch.setattr(search_app, "PAGE", 4, raising=False)
    raqib.home.mkdir(parents=True)
    store = raqib.open_storage()
    try:
        urls = [f"https://s.example/seven/{i}" for i in range(2)]
        urls += [f"https://s.example/seven-hundred/{i}" for i in range(25)]
        for url in urls:
            (w, _), *_ = store.watches.add([url], now=T0)
            n = "7" if "/seven/" in url else "700"
            for i in range(3 if "/seven/" in url else 1):
                at = T0 + timedelta(hours=i)
                text = f"بلغ عدد المشاركين {n} شخص في اليوم {i + 1}."
                store.history.record(
                    FetchRecord(
                        w.id, at, "new_version", at + timedelta(hours=1), status=200,
                        snapshot=snap(text), raw_body=text.encode(),
                    )
                )  # fmt: skip
    finally:
        store.close()
    hits = raqib("search", "7", "--limit", "1", "--json").json()
    assert [(h["url"], h["versions"]) for h in hits] == [(urls[1], [3, 2, 1])]
    hits = raqib("search", "7", "--json").json()
    assert sorted(h["url"] for h in hits) == urls[:2]
    assert all(h["versions"] == [3, 2, 1] for h in hits)


def test_changes_search_reads_each_changes_headlines_and_figures(raqib: Raqib) -> None:
    """`changes --search` matched the article's current headline, not the
    change's: a word of a headline edited away found nothing, and a word of
    the latest headline found edits made before it existed. And a decimal
    figure found its edit only with the scale word typed (3.5 مليون)."""
    raqib.home.mkdir(parents=True)
    store = raqib.open_storage()
    url = "https://d.example/oil"
    history = [
        ("معارضون يسيطرون على مخازن", "بلغت الصادرات 3.5 مليون برميل."),
        ("مسلحون يسيطرون على مخازن", "بلغت الصادرات 3.5 مليون برميل."),
        ("مسلحون يسيطرون على مخازن", "بلغت الصادرات 3.3 مليون برميل."),
    ]
    try:
        (w, _), *_ = store.watches.add([url], now=T0)
        for i, (title, text) in enumerate(history):
            at = T0 + timedelta(hours=i)
            store.history.record(
                FetchRecord(
                    w.id, at, "new_version", at + timedelta(hours=1), status=200,
                    snapshot=snap(text, title), raw_body=text.encode(),
                )
            )  # fmt: skip
        analysis.analyze_pending(store)
    finally:
        store.close()

    def edits(words: str) -> list[int]:
        return [c["to_version"] for c in raqib("changes", "--search", words, "--json").json()]

    assert edits("معارضون") == [2]  # the headline it was edited from
    assert edits("مسلحون") == [2, 3]  # the headline of each change that shows it
    assert edits("3.5") == edits("3.3") == [3]  # the figure before its scale word
    # A removed article's latest version is its last: not "still there".
    assert "still there" in raqib("search", "مسلحون").out
    from raqib.domain import WatchState

    store = raqib.open_storage()
    try:
        store.watches.set_state([w.id], WatchState.REMOVED, now=T0 + timedelta(days=1))
    finally:
        store.close()
    said = raqib("search", "مسلحون").out
    assert "in its last version; the article was REMOVED" in said and "still there" not in said
    assert raqib("search", "مسلحون", "--json").json()[0]["state"] == "removed"
