"""One stranger's item costs that item only: a header, a link, a charset or a
date the code did not foresee, in one page or one feed entry, is recorded
(or left out) there, and every other watch, entry, report page and feed entry
goes on. Before, each of these stopped a loop: the watch stayed unrecorded and
first in line, and on PostgreSQL a NUL stopped every later pass."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from raqib.demo.server import PageServer, Route
from tests.built_pages import BODY, article_page
from tests.conftest import Raqib

pytestmark = pytest.mark.backends  # a NUL is refused by PostgreSQL only

HTML = {"Content-Type": "text/html; charset=utf-8"}


def _page(n: int, body: list[str] | None = None, **kw: object) -> bytes:
    body = body or [f"{p} ({n})" for p in BODY]
    title = f"خبر رقم {n} عن نتائج الدوري"
    return article_page(title=title, body=body, **kw).encode()  # type: ignore[arg-type]


def _check(raqib: Raqib, *args: str) -> dict[str, object]:
    p = raqib.proc("check", "--json", *args)
    return p.json()


def test_a_page_that_trips_the_recording_is_recorded_and_the_pass_goes_on(
    server: PageServer, raqib: Raqib
) -> None:
    long_target = "/long/" + "x" * 2100
    server.routes.update(
        {
            # A canonical link urllib cannot take apart: ignored, as any bad canonical.
            "/canonical": Route(
                _page(1).replace(b"</head>", b'<link rel="canonical" href="http://[x/"></head>')
            ),
            # A superscript digit: str.isdigit() says yes, int() says no.
            "/retry": Route(b"busy", 503, {**HTML, "Retry-After": "\u00b2"}),
            # Charsets that are no text encodings, in the header and in the page.
            "/hex": Route(_page(2), headers={"Content-Type": "text/html; charset=hex"}),
            "/meta-hex": Route(
                _page(3).replace(b'<meta charset="utf-8">', b'<meta charset="hex">'),
                headers={"Content-Type": "text/html"},
            ),
            # A header charset Python cannot use, on a page whose <meta> names its own.
            "/undefined": Route(
                _page(8)
                .decode()
                .replace('<meta charset="utf-8">', '<meta charset="windows-1256">')
                .encode("cp1256"),
                headers={"Content-Type": "text/html; charset=undefined"},
            ),
            # Stored by its header's UTF-8; read again by its <meta>, a lone surrogate.
            "/escape": Route(
                _page(9)
                .replace(b'<meta charset="utf-8">', b'<meta charset="unicode_escape">')
                .replace(b"</head>", b'<script>var s = "\\ud800";</script></head>')
            ),
            # What PostgreSQL refuses: a NUL in a header and in a JSON-LD date.
            "/nul-etag": Route(_page(4), headers={**HTML, "ETag": '"v1\x00"'}),
            "/nul-date": Route(
                _page(5, jsonld={"@type": "NewsArticle", "datePublished": "2024-01-25\u0000"})
            ),
            # A lone surrogate escaped in JSON-LD: no text, digest or column holds one.
            "/lone": Route(
                _page(7, jsonld='{"@type": "NewsArticle", "author": {"name": "\\ud800 فريق"}}')
            ),
            # A redirect to an address wider than the version's column.
            "/to-long": Route(b"", 302, {"Location": long_target}),
            long_target: Route(_page(6)),
            **{f"/good{i}": Route(_page(10 + i)) for i in range(3)},
        }
    )
    paths = ["/canonical", "/retry", "/hex", "/meta-hex", "/nul-etag", "/nul-date", "/lone"]
    paths += ["/to-long", "/undefined", "/escape"]
    paths += [f"/good{i}" for i in range(3)]
    for p in paths:  # one at a time: the strangers first in line
        raqib("watch", "--no-fetch", server.base + p)
    # Batches of two: one unrecorded watch used to end the pass at its batch.
    (raqib.home / "raqib.toml").write_text("[schedule]\nclaim_batch = 2\n", encoding="utf-8")
    summary = _check(raqib)
    assert summary["claimed"] == len(paths) and summary["left"] == 0, summary
    assert summary["outcomes"] == {"new_version": len(paths) - 1, "error": 1}, summary
    assert _check(raqib)["claimed"] == 0  # every one recorded: none is due again at once
    log = raqib("log", server.base + "/retry", "--json").json()
    assert [(e["outcome"], e["detail"]) for e in log] == [("error", "HTTP 503")]
    [etag] = raqib("log", server.base + "/nul-etag", "--json").json()
    assert etag["etag"] == '"v1 "'  # the control character dropped, the validator kept
    [v] = raqib("versions", server.base + "/nul-date", "--json").json()
    assert v["published"] == "2024-01-25"
    [v] = raqib("versions", server.base + "/to-long", "--json").json()
    assert v["url"] == server.base + "/to-long"  # the served address is in the WARC
    # What revisit records refer to is remembered for every page but that address
    # (on PostgreSQL it cost the others theirs).
    storage = raqib.open_storage(readonly=True)
    try:
        captured = storage.archive.last_captures([server.base + p for p in paths])
    finally:
        storage.close()
    assert len(captured) == len(paths) - 2  # neither the 503 nor the redirect is a capture
    [v] = raqib("versions", server.base + "/meta-hex", "--json").json()
    assert "(3)" in v["text"]  # read as UTF-8, which it is
    [v] = raqib("versions", server.base + "/undefined", "--json").json()
    assert "(8)" in v["text"] and "نتائج الدوري" in v["title"]  # read by its <meta>
    report = raqib.home / "report"
    raqib("report", "--out", str(report))  # the stored pages are decoded again there
    assert (report / "index.html").exists()


_BUILDING_FAILS = """
import raqib.crawler.record as record
real = record.build_record
def build_record(task, fetched, verdict, key, policy):
    if "/boom" in fetched.url:
        raise KeyError("a header no one foresaw")
    return real(task, fetched, verdict, key, policy)
record.build_record = build_record
from raqib.cli import run
run()
"""


def test_a_fetch_whose_record_cannot_be_built_is_recorded_as_an_error(
    server: PageServer, raqib: Raqib
) -> None:
    """Whatever raises after the analysis: the fetch is that watch's error,
    backed off, and the batches after it are claimed."""
    paths = ["/boom", "/a", "/b", "/c"]
    for i, p in enumerate(paths):
        server.routes[p] = Route(_page(20 + i))
        raqib("watch", "--no-fetch", server.base + p)
    (raqib.home / "raqib.toml").write_text("[schedule]\nclaim_batch = 2\n", encoding="utf-8")
    summary, _stderr = raqib.patched(_BUILDING_FAILS, "check", "--json")
    assert summary["claimed"] == 4 and summary["outcomes"] == {"new_version": 3, "error": 1}
    [entry] = raqib("log", server.base + "/boom", "--json").json()
    assert entry["detail"] == "recording failed: KeyError: 'a header no one foresaw'"
    [watch] = [w for w in raqib("watches", "--json").json() if w["url"].endswith("/boom")]
    assert watch["last_outcome"] == "error" and watch["next_check_at"] > entry["fetched_at"]


def test_a_month_of_failures_backs_off_without_overflowing() -> None:
    """The 40th error in a row (a month of a lapsed domain) overflowed timedelta
    before min() capped the back-off, on every fetch after it."""
    from raqib.config import ScheduleConfig
    from raqib.notify.deliver import _backoff
    from raqib.scheduler import RevisitPolicy

    policy = RevisitPolicy(ScheduleConfig())
    assert policy.error_delay(1) == policy.backoff
    for errors in (39, 40, 64, 10_000):
        assert policy.error_delay(errors) == policy.backoff_max
    daily = RevisitPolicy(ScheduleConfig(error_backoff="1d", error_backoff_max="30d"))
    assert [daily.error_delay(n) for n in (1, 2, 31, 10_000)] == [
        timedelta(days=1), timedelta(days=2), timedelta(days=30), timedelta(days=30)
    ]  # fmt: skip
    assert _backoff(500, timedelta(seconds=30), timedelta(hours=1)) == timedelta(hours=1)
    assert _backoff(40, timedelta(days=1), timedelta(days=7)) == timedelta(days=7)


def _rss(items: str) -> Route:
    body = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    )
    return Route(body.encode(), headers={"Content-Type": "application/rss+xml", "ETag": '"f\x00"'})


def test_one_bad_entry_costs_a_feed_that_entry_only(server: PageServer, raqib: Raqib) -> None:
    """A NUL in a title (feedparser makes one of &#0;) or in the feed's ETag,
    and a link urllib cannot take apart, in one feed; a bad link on a front
    page: the other entries are watched, and the pass checks its watches."""
    for i in range(4):
        server.routes[f"/n/{i}"] = Route(_page(30 + i))
    server.routes["/feed.xml"] = _rss(
        f"<item><title>خبر&#0;عاجل</title><link>{server.base}/n/0</link></item>"
        "<item><title>رابط معطوب</title><link>http://[x/</link></item>"
        f"<item><title>خبر آخر</title><link>{server.base}/n/1</link></item>"
    )
    server.routes["/front"] = Route(
        '<html><body><a href="http://[x/">x</a><a href="/n/2">خبر</a></body></html>'.encode()
    )
    raqib("watch", "--no-fetch", server.base + "/n/3")
    raqib("outlet", "add", "sada", "--feed", server.base + "/feed.xml")
    raqib("outlet", "add", "sada-front", "--front", server.base + "/front")
    summary = _check(raqib)
    assert summary["outcomes"] == {"new_version": 4}, summary
    watched = {w["url"]: w for w in raqib("watches", "--json").json()}
    assert set(watched) == {server.base + f"/n/{i}" for i in range(4)}
    assert watched[server.base + "/n/0"]["outlet"] == "sada"
    [feed] = [o for o in raqib("outlet", "list", "--json").json() if o["name"] == "sada"]
    assert feed["sources"][0]["last_status"].startswith("ok: rss, 2 entries")


def test_a_headline_xml_cannot_carry_leaves_the_feed_whole(
    server: PageServer, raqib: Raqib
) -> None:
    """U+FFFF survives extraction into a headline, and lxml refuses it: the
    whole feed failed while that change was among the latest."""
    url = server.base + "/story"
    server.routes["/story"] = Route(_page(40))
    raqib("watch", "--no-fetch", url)
    raqib.proc("check", "--all")
    edited = _page(40, body=[f"{p} (40)" for p in BODY[:-1]])
    server.routes["/story"] = Route(edited.replace("رقم 40".encode(), "رقم &#xFFFF; 40".encode()))
    raqib.proc("check", "--all")
    [change] = raqib("changes", "--json").json()
    assert change["headline_changed"]
    out = raqib.home / "feed.xml"
    raqib("feed", "--out", str(out))
    xml = out.read_text(encoding="utf-8")
    assert "\uffff" not in xml and f"urn:raqib:change:{change['watch_id']}:1-2" in xml


def _two_changes(server: PageServer, raqib: Raqib, first: int) -> None:
    """Watches /s{first} and the next, each with one change."""
    for n in (first, first + 1):
        server.routes[f"/s{n}"] = Route(_page(n))
        raqib("watch", "--no-fetch", server.base + f"/s{n}")
    raqib.proc("check", "--all")
    for n in (first, first + 1):
        server.routes[f"/s{n}"] = Route(_page(n, body=[f"{p} ({n})" for p in BODY[:-1]]))
    raqib.proc("check", "--all")


def _failing(monkeypatch: pytest.MonkeyPatch, path: str, exc: Exception) -> None:
    """Drawing the change of the watch at `path` raises `exc` (report and feed)."""
    from raqib.report import views

    real = views.change_view

    def change_view(storage: Any, change_id: int) -> Any:
        view = real(storage, change_id)
        if view is not None and view["watch"].url.endswith(path):
            raise exc
        return view

    monkeypatch.setattr(views, "change_view", change_view)
    monkeypatch.setattr("raqib.report.feed.change_view", change_view)


def test_a_change_the_report_cannot_draw_costs_it_that_page_only(
    server: PageServer, raqib: Raqib, monkeypatch
) -> None:
    """The differ redraws each change for the report and the feed; a bug on
    one change's text stopped both, on every run, for the whole home."""
    _two_changes(server, raqib, 50)
    changes = {c["url"]: c for c in raqib("changes", "--json").json()}
    broken = changes[server.base + "/s50"]
    _failing(monkeypatch, "/s50", ValueError("the differ <fails> here"))  # the differ's bug
    out = raqib.home / "feed.xml"
    raqib("feed", "--out", str(out))  # exits 0
    xml = out.read_text(encoding="utf-8")
    assert "/s51" in xml and f"urn:raqib:change:{broken['watch_id']}:" not in xml
    report = raqib.home / "report"
    raqib("report", "--out", str(report))
    pages = {p.name: p.read_text(encoding="utf-8") for p in report.glob("change-*.html")}
    assert len(pages) == 2
    unshown = [t for t in pages.values() if "could not be shown" in t]
    assert len(unshown) == 1 and "the differ &lt;fails&gt; here" in unshown[0]


def test_a_database_error_on_one_change_stops_the_report_and_the_feed(
    server: PageServer, raqib: Raqib, monkeypatch
) -> None:
    """The guards above are for a change's own faults. An error the database
    raised is no change's: the report and the feed stop and say so, and the
    last feed and front page are kept, rather than every later change logged
    as unshowable (on PostgreSQL every statement after one error fails in its
    transaction)."""
    from sqlalchemy.exc import ProgrammingError

    _two_changes(server, raqib, 60)
    out, site = raqib.home / "feed.xml", raqib.home / "report"
    raqib("feed", "--out", str(out))
    raqib("report", "--out", str(site))
    before, front = out.read_bytes(), (site / "index.html").read_bytes()
    assert b"/s60" in before and b"/s61" in before
    server.routes["/s62"] = Route(_page(62))  # news since the last report
    raqib("watch", "--no-fetch", server.base + "/s62")
    server.routes["/s61"] = Route(_page(61, body=[f"{p} (61)" for p in BODY[:-2]]))  # an edit
    raqib.proc("check", "--all")
    # The database fails on one change's read.
    missing = Exception("relation “change” does not exist")
    _failing(monkeypatch, "/s60", ProgrammingError("SELECT …", {}, missing))
    feed = raqib("feed", "--out", str(out), expect=1)
    assert "does not exist" in feed.err
    assert out.read_bytes() == before
    report = raqib("report", "--out", str(site), expect=1)
    assert "does not exist" in report.err
    # Each page after those it links to, the front page last: the last report's front
    # page is kept, and no page it leads to links to a page that is not there.
    assert (site / "index.html").read_bytes() == front
    assert _dangling(site) == []
    # What it wrote is on the report's list, so that a later report that does
    # not want a page removes it: no page of a stopped report is left for good.
    listed = set((site / ".raqib-report").read_text(encoding="utf-8").split())
    assert {p.name for p in site.iterdir() if p.name != ".raqib-report"} <= listed
    assert "article-3.html" in listed  # /s62's: the stopped report's alone


def _dangling(site: Path) -> list[str]:
    """Links to missing files on the pages reachable from the front page."""
    seen, todo, missing = {"index.html"}, ["index.html"], []
    while todo:
        page = (site / todo.pop()).read_text(encoding="utf-8")
        for name in re.findall(r'href="([a-z]+-[^"/?#]+\.(?:html|txt))"', page):
            if not (site / name).exists():
                missing.append(name)
            elif name.endswith(".html") and name not in seen:
                seen.add(name)
                todo.append(name)
    return missing


def test_links_and_charsets_urllib_and_w3lib_refuse_are_skipped() -> None:
    """Discovery reads a story's seed articles and the candidates' pages: one
    such link or charset stopped every `raqib discover`, for every story."""
    from raqib.discovery.links import article_links
    from raqib.discovery.outlets import front_links
    from raqib.extract.decoding import decoded
    from raqib.urls import identity, joined

    para = 'نص المقال الأول هنا عن المحادثات بين الوفدين في العاصمة أمس <a href="http://[x/">أ</a> <a href="/b">ب</a>'
    html = f"<html><body><article><p>{para}</p></article></body></html>"
    text = "نص المقال الأول هنا عن المحادثات بين الوفدين في العاصمة أمس أ ب"
    assert article_links(html, "https://s.example/a", text) == [("https://s.example/b", "ب")]
    assert front_links(html, "https://s.example/") == [("https://s.example/b", "ب")]
    assert joined("https://s.example/", "http://[x/") is None
    assert joined("https://s.example/a/", "b") == "https://s.example/a/b"
    primary, _ = identity("https://s.example/a", canonical="http://[x/")
    assert primary == "https://s.example/a"
    page = '<meta charset="hex"><p>مرحبا</p>'.encode()
    assert "مرحبا" in decoded(page)


_UNSTORABLE = """
import dataclasses
import raqib.crawler.record as record
real = record.build_record
def build_record(task, fetched, verdict, key, policy):
    rec = real(task, fetched, verdict, key, policy)
    if "/poison" in fetched.url and rec.snapshot is not None:
        rec.snapshot = dataclasses.replace(rec.snapshot, title="\\ud800" + rec.snapshot.title)
    return rec
record.build_record = build_record
from raqib.cli import run
run()
"""


def test_a_fetch_the_database_refuses_is_that_watchs_error_not_every_passs(
    server: PageServer, raqib: Raqib
) -> None:
    """A value no column holds, which no cleaning foresaw (here a lone
    surrogate, which neither driver encodes), refused the whole batch: the
    pass stopped, and the watch, first in line, stopped every pass after it."""
    paths = ["/poison", "/a", "/b"]
    for i, p in enumerate(paths):
        server.routes[p] = Route(_page(60 + i))
        raqib("watch", "--no-fetch", server.base + p)
    summary, stderr = raqib.patched(_UNSTORABLE, "check", "--json")
    assert summary["outcomes"] == {"new_version": 2, "error": 1}
    assert re.search(r"a batch of \d+ fetches was refused", stderr), stderr
    [entry] = raqib("log", server.base + "/poison", "--json").json()
    assert entry["outcome"] == "error" and entry["detail"].startswith("could not be stored: ")
    assert raqib("versions", server.base + "/poison", "--json").json() == []
    store = raqib.open_storage()
    try:  # counted and backed off like any error, not refetched at the next pass
        poison = store.watches.find(server.base + "/poison")
        assert poison is not None and poison.error_count == 1
        assert poison.next_check_at - poison.last_checked_at == timedelta(days=1)
    finally:
        store.close()
    assert _check(raqib)["claimed"] == 0


_READING_FAILS = """
import raqib.discovery.feeds as feeds
def parse(body, url, content_type=None, **kw):
    raise KeyError("a feed no one foresaw")
feeds.parse = parse
from raqib.cli import run
run()
"""


def test_a_source_whose_read_raises_says_so_and_the_pass_goes_on(
    server: PageServer, raqib: Raqib
) -> None:
    """Before, the read yielded nothing: lost, and its status never said why."""
    server.routes["/feed.xml"] = _rss(f"<item><link>{server.base}/n/0</link></item>")
    server.routes["/n/9"] = Route(_page(70))
    raqib("watch", "--no-fetch", server.base + "/n/9")
    raqib("outlet", "add", "sada", "--feed", server.base + "/feed.xml")
    summary, _stderr = raqib.patched(_READING_FAILS, "check", "--json")
    assert summary["outcomes"] == {"new_version": 1}
    [failed] = summary["outlets"]["failed"]  # type: ignore[index]
    assert failed["status"] == "unreadable: KeyError: 'a feed no one foresaw'"
    [outlet] = raqib("outlet", "list", "--json").json()
    assert outlet["sources"][0]["last_status"] == failed["status"]
