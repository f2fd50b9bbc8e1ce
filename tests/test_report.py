"""The report (static site), the live view, the Atom feed — and a real browser
opening them."""

from __future__ import annotations

import itertools
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest

from raqib.demo.server import PageServer, Route
from raqib.report.views import safe_href
from raqib.report.web import create_app
from raqib.storage import open_storage, sqlite
from tests.conftest import ROOT, Raqib, replay_corpus

XSS_TEXT = [
    "نص عادي عن المحادثات بين بغداد وواشنطن حول مستقبل التحالف الدولي وانسحاب القوات من العراق خلال الأشهر المقبلة.",
    "وقال مسؤول إن الجولة الأولى من المحادثات ستعقد قريبا في العاصمة العراقية بحضور ممثلين عن البلدين.",
    "ويقول محللون إن الاتفاق قد يستغرق وقتا طويلا قبل أن يرى النور بسبب الخلافات الداخلية.",
]
PAYLOADS = (
    "&lt;script&gt;window.__xss=1&lt;/script&gt; و&lt;img src=x onerror=&quot;window.__xss=2&quot;&gt; "
    '<a href="javascript:window.__xss=3">اضغط هنا للمزيد من التفاصيل</a>'
)


def xss_page(version: int) -> bytes:
    paras = list(XSS_TEXT)
    title = "عنوان عادي للخبر"
    if version == 2:
        paras[1] = paras[1] + " " + PAYLOADS
        title = "&lt;script&gt;window.__xss=4&lt;/script&gt; عنوان معدل"
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (
        f'<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{title}</title>'
        f"<script>window.__xss=5</script></head><body><article><h1>{title}</h1>{body}</article>"
        f'<img src="x" onerror="window.__xss=6"></body></html>'
    ).encode()


@pytest.fixture(scope="module")
def replayed(manifest) -> Iterator[dict[str, Any]]:
    """The corpus replayed plus an article whose text carries XSS payloads."""
    tmp = Path(tempfile.mkdtemp(prefix="raqib-report-"))
    server = PageServer().start()
    raqib = Raqib(tmp / "home")
    try:
        server.routes["/xss/article"] = Route(xss_page(1))
        raqib("watch", "--no-fetch", server.base + "/xss/article", "--story", "xss")
        urls = replay_corpus(server, raqib, manifest)  # bot check, 503, 404, restore included
        server.routes["/xss/article"] = Route(xss_page(2))
        raqib.proc("check", "--all")
        site = tmp / "site"
        out = raqib("report", "--out", str(site)).out
        assert "wrote" in out
        yield {
            "raqib": raqib,
            "site": site,
            "urls": urls,
            "xss": server.base + "/xss/article",
            "server": server,
        }
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _change_id(raqib: Raqib, url: str, to_version: int) -> int:
    home = raqib.home
    store = open_storage(sqlite.url_for(home / "raqib.db"), readonly=True)
    try:
        w = store.watches.find(url)
        assert w is not None
        for row in store.changes.all(watch_id=w.id):
            if row.to_number == to_version:
                return row.change.id
    finally:
        store.close()
    raise AssertionError("no such change")


def test_static_site_pages(replayed) -> None:
    site: Path = replayed["site"]
    raqib: Raqib = replayed["raqib"]
    index = (site / "index.html").read_text(encoding="utf-8")
    assert (
        "us-iraq-coalition-talks" in index and "silent edit" in index and "figures changed" in index
    )
    assert "<script" not in index
    n = len(raqib("changes", "--json").json())  # English, left to right in the Arabic page
    assert f'<p class="meta" dir="ltr">{n} changes; silent substantive edits first' in index
    seed = replayed["urls"]["seed"]
    seed_change = _change_id(raqib, seed, 3)  # the silent edit: a figure changed
    page = (site / f"change-{seed_change}.html").read_text(encoding="utf-8")
    assert re.search(r'<article class="inline" dir="rtl" lang="ar"', page)
    assert re.search(
        r"<del class=\"del\" style=\"[^\"]*line-through[^\"]*\">آلاف القوات عادت</del>", page
    )
    assert re.search(r"<ins class=\"ins\" style=\"[^\"]*\">نحو 2500 جندي عادوا</ins>", page)
    assert "silent edit" in page and "أرقام" in page
    raw_links = re.findall(r'href="(raw-[0-9a-f]{64}\.txt)"', page)
    assert len(raw_links) == 2 and all((site / r).exists() for r in raw_links)
    watch_id = re.search(r'href="article-(\d+)\.html"', page).group(1)
    article = (site / f"article-{watch_id}.html").read_text(encoding="utf-8")
    seed_changes = raqib("changes", "--url", seed, "--json").json()
    assert article.count('class="mark ') == len(seed_changes) >= 3
    assert seed_change in {c["change_id"] for c in seed_changes}  # a listing names its page
    assert all((site / f"change-{c['change_id']}.html").exists() for c in seed_changes)
    silent = sum(1 for c in seed_changes if c["silent"] and c["kind"] == "substantive")
    assert article.count('class="mark silent"') == silent >= 1
    assert "<svg" in article and "<script" not in article


def test_moved_paragraphs_are_shown_as_moves(tmp_path: Path, server, raqib: Raqib) -> None:
    from raqib.demo.pages import VERSIONS, render

    server.routes["/m"] = Route(render(VERSIONS[3], server.base))
    raqib("watch", "--no-fetch", server.base + "/m")
    raqib.proc("check")
    server.routes["/m"] = Route(render(VERSIONS[4], server.base))
    raqib.proc("check", "--all")
    raqib("report", "--out", str(tmp_path / "site"))
    page = next((tmp_path / "site").glob("change-*.html")).read_text(encoding="utf-8")
    assert "moved from ¶4" in page and 'class="para new moved"' in page


def test_a_page_removed_twice_in_a_row_is_counted_among_the_failing(
    tmp_path: Path, server, raqib: Raqib
) -> None:
    """The failing watches' table counted errors alone: a page answering 404
    twice in a row showed "failures in a row: 0"."""
    from raqib.demo.pages import VERSIONS, render

    server.routes["/gone"] = Route(render(VERSIONS[0], server.base))
    raqib("watch", "--no-fetch", server.base + "/gone")
    raqib.proc("check")
    server.routes["/gone"] = Route(b"not here", status=404)
    for _ in range(2):
        raqib.proc("check", "--all")
    raqib("report", "--out", str(tmp_path / "site"))
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    row = page[page.index('href="outcome-removed.html"') :].split("</tr>")[0]
    assert re.search(r"</a></td><td>2</td>", row), row


def test_untrusted_text_renders_as_text(replayed) -> None:
    site: Path = replayed["site"]
    cid = _change_id(replayed["raqib"], replayed["xss"], 2)
    page = (site / f"change-{cid}.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=" in page
    assert (
        "<script" not in page
        and "<img" not in page
        and "javascript:" not in page.lower().replace("&lt;", "")
    )
    for f in site.glob("*.html"):
        assert "<script" not in f.read_text(encoding="utf-8"), f.name


def test_safe_href() -> None:
    assert safe_href("https://a.example/x") == "https://a.example/x"
    for bad in (
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,x",
        "vbscript:x",
        "",
        None,
    ):
        assert safe_href(bad) == "#"


def test_feed_has_one_entry_per_change(replayed, tmp_path: Path) -> None:
    raqib: Raqib = replayed["raqib"]
    out = tmp_path / "changes.atom"
    said = raqib("feed", "--out", str(out), "--base-url", "https://report.example/raqib/").err
    assert "relative" not in said
    parsed = feedparser.parse(out.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    changes = raqib("changes", "--json").json()
    assert len(parsed.entries) == len(changes)
    assert len({e.id for e in parsed.entries}) == len(changes)
    # Newest first, and the feed is as new as its newest change.
    detected = sorted((c["detected_at"] for c in changes), reverse=True)
    entry_times = [e.updated_parsed for e in parsed.entries]
    assert entry_times == sorted(entry_times, reverse=True)
    assert parsed.feed.updated_parsed == entry_times[0]
    assert parsed.feed.updated.startswith(detected[0][:19])
    silent = [e for e in parsed.entries if e.title.startswith("تعديل صامت")]
    assert len(silent) == sum(1 for c in changes if c["silent"] and c["kind"] == "substantive")
    assert all(e.link.startswith("https://report.example/raqib/change-") for e in parsed.entries)
    # The highlighted change as HTML: the changed figure deleted and inserted.
    figures = [e for e in parsed.entries if "3.3 مليون" in e.content[0].value]
    assert len(figures) == 1 and figures[0].content[0].type == "text/html"
    content = figures[0].content[0].value
    assert "<del" in content and "<ins" in content and "أرقام · figures" in content
    # Only the latest are read (in SQL, not all then cut): the same newest entries.
    from datetime import UTC, datetime

    from raqib.report.feed import build

    store = raqib.open_storage(readonly=True)
    try:
        two = feedparser.parse(build(store, base_url="", now=datetime.now(UTC), limit=2)).entries
    finally:
        store.close()
    assert [e.id for e in two] == [e.id for e in parsed.entries[:2]]
    story = tmp_path / "story.atom"
    said = raqib("feed", "--out", str(story), "--story", "xss").err  # and that is said
    assert "a feed reader opens them only with --base-url or [report] base_url" in said
    (entry,) = feedparser.parse(story.read_bytes()).entries
    assert "<script" not in entry.content[0].value  # the payloads arrive as text
    assert entry.link.startswith("change-")  # no base configured: relative to the feed


def test_the_front_page_reads_only_its_latest_changes(replayed) -> None:
    """The front page and `serve` read every change (its analysis too) to show
    200: 3.4 s of CPU a request at 8,100 changes. Without a filter that needs
    each change's analysis, the database orders and cuts them, and counts.
    The newest are taken, then put silent edits first: taken by priority, a
    year of silent edits hid every later change from the front page."""
    from raqib.app import change_list
    from raqib.app.home import open_app

    raqib: Raqib = replayed["raqib"]
    app = open_app(raqib.home, readonly=True)
    try:
        every = list(change_list.each_change(app))
        n = len(every)
        for f in (change_list.ChangeFilter(), change_list.ChangeFilter(kind="substantive")):
            wanted = [r for r in every if f.kind in (None, r.change.kind)]
            first, total = change_list.changes(app, f, first=3)
            assert total == len(wanted) and n == len(every) > 3
            ranked = sorted(wanted[-3:], key=change_list.priority)
            assert [r.change.id for r in first] == [r.change.id for r in ranked]
            assert wanted[-1].change.id in {r.change.id for r in first}
        first, total = change_list.changes(
            app, change_list.ChangeFilter(facts=("figures",)), first=2
        )
        figures = [r for r in every if r.change.analysis.get("facts", {}).get("numbers")]
        assert total == len(figures) and len(first) == min(2, len(figures))
        newest = sorted(figures[-2:], key=change_list.priority)
        assert [r.change.id for r in first] == [r.change.id for r in newest]
    finally:
        app.storage.close()


def test_changes_are_read_a_page_at_a_time(replayed, monkeypatch) -> None:
    """`raqib changes` held every change of the history in memory (260 MB at
    8,100): it reads them a page at a time, in the same order, none twice or
    lost (pages that end between changes of one moment: test_storage)."""
    from raqib.app import change_list
    from raqib.app.home import open_app

    raqib: Raqib = replayed["raqib"]
    app = open_app(raqib.home, readonly=True)
    try:
        whole = [r.change.id for r in change_list.each_change(app)]
        read = app.storage.changes.all
        pages: list[int] = []

        def paged(**kw):
            rows = read(**kw)
            pages.append(len(rows))
            return rows

        monkeypatch.setattr(app.storage.changes, "all", paged)
        monkeypatch.setattr(change_list, "PAGE", 2)
        assert [r.change.id for r in change_list.each_change(app)] == whole
        assert max(pages) == 2 and len(pages) == len(whole) // 2 + 1
        f = change_list.ChangeFilter(facts=("figures",))
        assert [r.change.id for r in change_list.each_change(app, f)] == [
            r.change.id for r in change_list.changes(app, f, first=10**6, order="newest")[0]
        ]
    finally:
        app.storage.close()
    assert (
        raqib("changes", "--json").json() == raqib("changes", "--last", "100000", "--json").json()
    )
    r = raqib("changes", "--story", "none-such", "--json", expect=4)  # said before any "["
    assert "no story 'none-such'" in r.err and not r.out


def test_the_stories_badges_are_added_up_in_the_database(replayed, tmp_path: Path) -> None:
    """The list of stories read every change's analysis for its badges (1.8 s
    a request at 8,100 changes): the database adds them up from the changes'
    columns. Changes an older analyzer judged are judged again as read, so a
    stale row's columns never show."""
    from sqlalchemy import text

    from raqib import analysis
    from raqib.report.views import badges, index_view, marks_of

    shutil.copy(replayed["raqib"].home / "raqib.db", tmp_path / "raqib.db")
    store = open_storage(sqlite.url_for(tmp_path / "raqib.db"))
    try:

        def shown() -> dict[int, tuple[int, list[str]]]:
            view = index_view(store)
            return {
                a["id"]: (a["changes"], a["badges"])
                for s in view["stories"] for a in s["articles"]
            }  # fmt: skip

        by_watch: dict[int, list[Any]] = {}
        for row in analysis.current_rows(store, store.changes.all()):
            by_watch.setdefault(row.watch.id, []).append(row.change)
        expected = {
            w.id: (len(by_watch.get(w.id, [])), badges(marks_of(by_watch.get(w.id, [])), w))
            for w in store.watches.all()
            if w.id in shown()
        }
        assert shown() == expected
        assert {"silent edit", "figures changed"} <= {b for _n, bs in expected.values() for b in bs}
        with store.db.engine.begin() as conn:  # every other change, as an older Raqib left it
            conn.execute(
                text(
                    "UPDATE changes SET analyzer = 'raqib-diff 1', marks = 0, silent = false,"
                    " headline_changed = false WHERE id % 2 = 0"
                )
            )
        assert shown() == expected
    finally:
        store.close()


def test_changes_last_lists_the_newest_oldest_first(replayed) -> None:
    """`raqib changes` printed every change of months of history (8,100, 260
    MB of memory): --last N reads the newest N in SQL, unless a filter needs
    each change's analysis, and says how many there are."""
    raqib: Raqib = replayed["raqib"]
    every = raqib("changes", "--json").json()
    assert raqib("changes", "--last", "2", "--json").json() == every[-2:]
    figures = raqib("changes", "--facts", "figures", "--json").json()
    assert raqib("changes", "--facts", "figures", "--last", "1", "--json").json() == figures[-1:]
    r = raqib("changes", "--last", "2")
    assert f"the newest 2 of {len(every):,} changes" in r.err
    assert raqib("changes", "--last", "100000", "--json").json() == every


def test_an_empty_feed_is_dated_now(tmp_path: Path) -> None:
    raqib = Raqib(tmp_path / "home", env={"RAQIB_NOW": "2026-11-30T09:15:00+00:00"})
    raqib("watch", "--no-fetch", "https://example.com/news/1")  # a home, no change yet
    raqib("feed", "--out", str(tmp_path / "empty.atom"))
    parsed = feedparser.parse((tmp_path / "empty.atom").read_bytes())
    assert not parsed.entries and parsed.feed.updated.startswith("2026-11-30T09:15:00")
    for bad in ("javascript:alert(1)//", "report.example/raqib/"):  # links are http(s)
        r = raqib("feed", "--out", str(tmp_path / "bad.atom"), "--base-url", bad, expect=2)
        assert "--base-url must be an http(s) address" in r.err
    assert not (tmp_path / "bad.atom").exists()


def test_serve_requires_a_token_off_loopback(replayed) -> None:
    raqib: Raqib = replayed["raqib"]
    r = raqib("serve", "--host", "0.0.0.0", expect=2)
    assert "--token" in r.err
    store = raqib.open_storage(readonly=True)
    try:
        app = create_app(store, token="correct horse battery staple")
        client = app.test_client()
        assert client.get("/").status_code == 401
        assert (
            client.get("/", headers={"Authorization": "Bearer wrong token here"}).status_code == 401
        )
        ok = client.get("/", headers={"Authorization": "Bearer correct horse battery staple"})
        assert ok.status_code == 200 and "Content-Security-Policy" in ok.headers
        once = client.get("/index.html?token=correct horse battery staple&x=1")
        # Accepted once: a cookie, and a redirect to the same URL without the token.
        assert once.status_code == 303 and once.headers["Location"] == "/index.html?x=1"
        assert client.get("/index.html?token=wrong").status_code == 401
        assert client.get("/article-1.html").status_code == 200  # the cookie carries it
        assert (
            client.post(
                "/", headers={"Authorization": "Bearer correct horse battery staple"}
            ).status_code
            == 405
        )
        open_app = create_app(store).test_client()
        cid = _change_id(raqib, replayed["xss"], 2)
        page = open_app.get(f"/change-{cid}.html")
        assert page.status_code == 200 and b"&lt;script&gt;" in page.data
        raw = re.search(rb'href="(raw-[0-9a-f]{64}\.txt)"', page.data).group(1).decode()
        served = open_app.get("/" + raw)
        assert (
            served.headers["Content-Type"].startswith("text/plain")
            and served.headers["Content-Security-Policy"] == "sandbox"
        )
        assert open_app.get("/raw-../../etc/passwd.txt").status_code == 404
        assert open_app.get("/change-99999.html").status_code == 404
        huge = "9" * 30  # past a 64-bit integer: a 404, not the database's overflow (500)
        assert open_app.get(f"/change-{huge}.html").status_code == 404
        assert open_app.get(f"/article-{huge}.html").status_code == 404
    finally:
        store.close()


def test_serve_runs_on_loopback(replayed) -> None:
    raqib: Raqib = replayed["raqib"]
    proc = raqib.popen("serve", "--port", "0")
    try:
        line = proc.stderr.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, line
        with urllib.request.urlopen(f"http://127.0.0.1:{m.group(1)}/", timeout=10) as resp:
            body = resp.read().decode()
        assert resp.status == 200 and "us-iraq-coalition-talks" in body
        # A bad filter is said, and nothing claims the list was filtered by the others.
        url = f"http://127.0.0.1:{m.group(1)}/?story=xss&kind=typo"
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = resp.read().decode()
        assert "kind &#39;typo&#39;: substantive or cosmetic: no filter applied" in body, body[
            :3000
        ]
        assert "filtered:" not in body and "us-iraq-coalition-talks" in body
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{m.group(1)}/change-424242.html", timeout=10)
        assert err.value.code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- a real browser ----------------------------------------------------------------------------


@pytest.mark.browser
def test_browser_change_page(replayed, browser) -> None:
    from selenium.webdriver.common.by import By

    site: Path = replayed["site"]
    raqib: Raqib = replayed["raqib"]
    cid = _change_id(raqib, replayed["urls"]["seed"], 3)
    browser.get((site / f"change-{cid}.html").as_uri())
    inline = browser.find_element(By.CSS_SELECTOR, "article.inline")
    assert (
        inline.get_attribute("dir") == "rtl"
        and browser.execute_script("return getComputedStyle(arguments[0]).direction", inline)
        == "rtl"
    )
    deleted = [e.text for e in inline.find_elements(By.CSS_SELECTOR, "del.del")]
    inserted = [e.text for e in inline.find_elements(By.CSS_SELECTOR, "ins.ins")]
    assert "آلاف القوات عادت" in deleted and "نحو 2500 جندي عادوا" in inserted
    struck = inline.find_element(By.CSS_SELECTOR, "del.del")
    assert "line-through" in browser.execute_script(
        "return getComputedStyle(arguments[0]).textDecorationLine", struck
    )
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(artifacts / "change-page.png"))

    xss = _change_id(raqib, replayed["xss"], 2)
    browser.get((site / f"change-{xss}.html").as_uri())
    assert browser.execute_script("return window.__xss === undefined")
    assert "<script>window.__xss=1</script>" in browser.find_element(By.TAG_NAME, "body").text
    assert not browser.find_elements(By.CSS_SELECTOR, "a[href^='javascript']")
    browser.save_screenshot(str(artifacts / "xss-change-page.png"))
    for raw in re.findall(
        r'href="(raw-[0-9a-f]{64}\.txt)"', (site / f"change-{xss}.html").read_text(encoding="utf-8")
    ):
        browser.get((site / raw).as_uri())
        assert browser.execute_script("return window.__xss === undefined")
        assert (
            "window.__xss=5" in browser.find_element(By.TAG_NAME, "body").text
        )  # shown as source text


@pytest.mark.browser
def test_browser_timeline_fetch_log_capture_and_feed(replayed, browser) -> None:
    """Right to left, every outcome shown, captures drawn with scripts off,
    and the feed's first entry is the latest change."""
    from selenium.webdriver.common.by import By

    site: Path = replayed["site"]
    raqib: Raqib = replayed["raqib"]
    seed = replayed["urls"]["seed"]
    watch_id = next(w["id"] for w in raqib("watches", "--json").json() if w["url"] == seed)
    browser.get((site / f"article-{watch_id}.html").as_uri())
    marks = browser.execute_script(
        "return [...document.querySelectorAll('svg g.mark')]"
        ".map(g => [g.dataset.at, g.getBoundingClientRect().left])"
    )
    assert len(marks) >= 3
    lefts = [left for _at, left in sorted(marks)]
    assert all(a > b for a, b in itertools.pairwise(lefts)), marks  # later is further left
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(artifacts / "article-page.png"))

    log = raqib("log", seed, "--json").json()
    shown = browser.execute_script(
        "return [...document.querySelectorAll('tr.fetch')]"
        ".map(r => [r.dataset.outcome, +r.cells[3].textContent])"
    )
    assert {o for o, _n in shown} == {f["outcome"] for f in log} >= {
        "not_article", "error", "removed", "restored", "new_version",
    }  # fmt: skip
    assert sum(n for _o, n in shown) == len(log)  # folded runs still count every fetch
    bot = browser.find_element(By.CSS_SELECTOR, "tr.fetch.not_article a")
    assert "ليست مقالًا" in bot.text and bot.get_attribute("href").endswith(
        "outcome-not_article.html"
    )
    bot.click()
    assert seed in browser.find_element(By.TAG_NAME, "body").text

    xss = next(w["id"] for w in raqib("watches", "--json").json() if w["url"] == replayed["xss"])
    html = (site / f"article-{xss}.html").read_text(encoding="utf-8")
    capture = re.findall(r'href="(capture-[0-9a-f]{64}\.html)"', html)[-1]
    browser.get((site / capture).as_uri())
    frame = browser.find_element(By.CSS_SELECTOR, "iframe.capture")
    assert frame.get_attribute("sandbox") == ""
    browser.switch_to.frame(frame)
    try:
        assert "نص عادي عن المحادثات" in browser.find_element(By.TAG_NAME, "body").text
        assert browser.execute_script("return window.__xss === undefined")  # its scripts never ran
    finally:
        browser.switch_to.default_content()
    assert browser.execute_script("return window.__xss === undefined")

    feed = site / "changes.atom"
    raqib("feed", "--out", str(feed))
    browser.get(feed.as_uri())
    first = browser.execute_script(
        "const e = document.getElementsByTagName('entry')[0];"
        "return [e.getElementsByTagName('id')[0].textContent,"
        "        e.getElementsByTagName('updated')[0].textContent]"
    )
    latest = max(raqib("changes", "--json").json(), key=lambda c: c["detected_at"])
    assert (
        first[0]
        == f"urn:raqib:change:{latest['watch_id']}:{latest['from_version']}-{latest['to_version']}"
    )
    assert first[1][:19] == latest["detected_at"][:19]


def test_a_report_into_an_old_one_leaves_none_of_its_pages_behind(
    tmp_path: Path, server, raqib: Raqib
) -> None:
    """An article purged since (or left out by a filter) loses its page; files
    that are not the report's own stay."""
    from raqib.demo.pages import VERSIONS, render

    for path in ("/a", "/b"):
        server.routes[path] = Route(render(VERSIONS[2], server.base))
        raqib("watch", "--no-fetch", server.base + path, "--story", path[1:])
    raqib.proc("check", "--all")
    site = tmp_path / "site"
    raqib("report", "--out", str(site))
    ids = {w["url"]: w["id"] for w in raqib("watches", "--json").json()}
    b_page = site / f"article-{ids[server.base + '/b']}.html"
    assert b_page.exists() and (site / f"article-{ids[server.base + '/a']}.html").exists()
    (site / "notes.txt").write_text("ours", encoding="utf-8")
    (site / "article-notes.html").write_text("ours too", encoding="utf-8")
    (site / "change-2007.html").write_text("ours, named like a page", encoding="utf-8")
    raqib("unwatch", server.base + "/b", "--purge")
    out = raqib("report", "--out", str(site)).out
    assert not b_page.exists() and (site / f"article-{ids[server.base + '/a']}.html").exists()
    assert "removed 1 pages of the last report there" in out
    assert (site / "notes.txt").exists() and (site / "article-notes.html").exists()
    assert (site / "change-2007.html").exists()  # not a page the last report wrote
    assert (site / "index.html").exists() and list(site.glob("capture-*.html"))
    # A web root no report wrote keeps its files, whatever their names.
    root = tmp_path / "www"
    root.mkdir()
    (root / "article-99999.html").write_text("the newsroom's own", encoding="utf-8")
    for _ in range(2):  # the second over a report: its list does not name the file
        raqib("report", "--out", str(root))
        assert (root / "article-99999.html").read_text(encoding="utf-8") == "the newsroom's own"
