"""Reading an outlet's sources: a body byte for byte that of the last read is
not parsed again, a sitemap index's children are read whatever the index
says, and a pass that dies between reading and watching loses no article."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import PageServer, Route
from tests.conftest import Raqib, imported

XML = {"Content-Type": "application/xml"}

pytestmark = pytest.mark.backends  # the digest is a column of both schemas


def _at(hours: int) -> str:
    """A pass's clock: `hours` after now, when the test's sources are due
    (each is due 10 minutes after its last read)."""
    return (datetime.now(UTC) + timedelta(hours=hours, minutes=1)).isoformat()


def _rss(server: PageServer, paths: list[str]) -> Route:
    items = "".join(f"<item><title>{p}</title><link>{server.base}{p}</link></item>" for p in paths)
    body = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    )
    return Route(body.encode(), headers={"Content-Type": "application/rss+xml"})


def _urlset(server: PageServer, paths: list[str]) -> Route:
    urls = "".join(f"<url><loc>{server.base}{p}</loc></url>" for p in paths)
    ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
    return Route(f'<?xml version="1.0"?><urlset xmlns="{ns}">{urls}</urlset>'.encode(), headers=XML)


def _articles(server: PageServer, *paths: str) -> None:
    for p in paths:
        server.routes[p] = Route(render(VERSIONS[0], server.base))


def _check(raqib: Raqib, hours: int, *python_flags: str) -> subprocess.CompletedProcess:
    """`raqib check --json`, `hours` from now."""
    env = {**raqib.env, "RAQIB_NOW": _at(hours)}
    p = subprocess.run(
        [sys.executable, *python_flags, "-m", "raqib", "--home", str(raqib.home), "check", "--json"],
        capture_output=True, text=True, timeout=120, env={**os.environ, **env},
    )  # fmt: skip
    assert p.returncode == 0, p.stderr[-2000:]
    return p


def _status(raqib: Raqib) -> str:
    [outlet] = raqib("outlet", "list", "--json").json()
    [source] = outlet["sources"]
    return source["last_status"]


def _watched(raqib: Raqib) -> set[str]:
    return {w["url"] for w in raqib("watches", "--json").json()}


def _asked(server: PageServer, path: str) -> int:
    return sum(1 for p, _headers in server.requests if p == path)


@pytest.mark.scenario
def test_an_unchanged_feed_is_not_parsed_again(server: PageServer, raqib: Raqib) -> None:
    """A feed without validators, served again byte for byte: fetched, not
    parsed (feedparser is not even imported), nothing new; the same bytes
    under another declared type, and a changed feed, are parsed, and the
    changed feed's new article watched."""
    server.routes["/feed.xml"] = _rss(server, ["/a/1", "/a/2"])
    _articles(server, "/a/1", "/a/2", "/a/3")
    raqib("outlet", "add", "sada", "--feed", server.base + "/feed.xml")
    _check(raqib, 0)
    assert _watched(raqib) == {server.base + "/a/1", server.base + "/a/2"}
    assert _status(raqib).startswith("ok: rss, 2 entries")

    p = _check(raqib, 1, "-X", "importtime")
    assert _asked(server, "/feed.xml") == 2
    assert _status(raqib) == "unchanged since the last read"
    loaded = imported(p.stderr)
    assert "raqib.crawler.spiders.outlets" in loaded  # the measurement sees the read's imports
    assert "feedparser" not in loaded

    same = server.routes["/feed.xml"]
    server.routes["/feed.xml"] = Route(same.body, headers={"Content-Type": "text/xml"})
    _check(raqib, 2)
    assert _status(raqib).startswith("ok: rss, 2 entries")

    server.routes["/feed.xml"] = _rss(server, ["/a/1", "/a/2", "/a/3"])
    _check(raqib, 3)
    assert _status(raqib).startswith("ok: rss, 3 entries")
    assert server.base + "/a/3" in _watched(raqib)


def test_a_sitemap_index_reads_its_children_again(server: PageServer, raqib: Raqib) -> None:
    """An index lists the same children while they list new articles: an
    unchanged index is still followed; an unchanged child is not parsed.
    With validators (nginx sends them for a static file) the index was asked
    conditionally, answered 304, and its children never read again."""
    ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
    index = f'<?xml version="1.0"?><sitemapindex xmlns="{ns}"><sitemap><loc>{server.base}/sm/1.xml</loc></sitemap></sitemapindex>'
    server.routes["/sm/index.xml"] = Route(
        index.encode(), headers=XML, etag='"i1"', last_modified="Thu, 25 Jan 2024 15:00:00 GMT"
    )
    server.routes["/sm/1.xml"] = _urlset(server, ["/b/1"])
    _articles(server, "/b/1", "/b/2")
    raqib("outlet", "add", "nahar", "--sitemap", server.base + "/sm/index.xml")
    _check(raqib, 0)
    assert _watched(raqib) == {server.base + "/b/1"}
    server.routes["/sm/1.xml"] = _urlset(server, ["/b/1", "/b/2"])
    _check(raqib, 1)
    assert _asked(server, "/sm/1.xml") == 2
    assert _watched(raqib) == {server.base + "/b/1", server.base + "/b/2"}
    asked = [h for p, h in server.requests if p == "/sm/index.xml"]
    assert "If-None-Match" not in asked[-1] and "If-Modified-Since" not in asked[-1]


def test_a_sitemap_index_says_what_its_children_gave(server: PageServer, raqib: Raqib) -> None:
    """An index whose child sitemaps all answered 404 read "ok: sitemapindex,
    0 entries": its status says how many children were read, what they
    listed, and why the first failed; with none read, the read failed."""
    ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
    locs = "".join(f"<sitemap><loc>{server.base}/sm/{n}.xml</loc></sitemap>" for n in (1, 2, 3))
    index = f'<?xml version="1.0"?><sitemapindex xmlns="{ns}">{locs}</sitemapindex>'
    server.routes["/sm/index.xml"] = Route(index.encode(), headers=XML)
    server.routes["/sm/1.xml"] = _urlset(server, ["/b/1", "/b/2"])
    _articles(server, "/b/1", "/b/2")
    raqib("outlet", "add", "nahar", "--sitemap", server.base + "/sm/index.xml")
    _check(raqib, 0)
    assert _status(raqib) == (
        "ok: sitemapindex, 0 entries; its sitemaps: 1 of 3 read, 2 entries; 2 failed "
        "(first: HTTP 404)"
    )
    del server.routes["/sm/1.xml"]
    assert len(json.loads(_check(raqib, 1).stdout)["outlets"]["failed"]) == 1
    assert _status(raqib).endswith(
        "its sitemaps: 0 of 3 read, 0 entries; 3 failed (first: HTTP 404)"
    )


def test_one_read_follows_a_bounded_number_of_child_sitemaps(
    server: PageServer, raqib: Raqib
) -> None:
    """An index of indexes fans out: one read follows 20 children of one index
    and 40 sitemaps in all (it made 1 + 20 + 400 requests and listed 400,000
    pages), and an index of many indexes still leaves room for what they list."""
    ns = "http://www.sitemaps.org/schemas/sitemap/0.9"

    def index(paths: list[str]) -> Route:
        locs = "".join(f"<sitemap><loc>{server.base}{p}</loc></sitemap>" for p in paths)
        body = f'<?xml version="1.0"?><sitemapindex xmlns="{ns}">{locs}</sitemapindex>'
        return Route(body.encode(), headers=XML)

    subs = [f"/big/{i}.xml" for i in range(25)]
    server.routes["/big/index.xml"] = index(subs)
    for i, sub in enumerate(subs):
        leaves = [f"/big/{i}/{j}.xml" for j in range(3)]
        server.routes[sub] = index(leaves)
        for j, leaf in enumerate(leaves):
            server.routes[leaf] = _urlset(server, [f"/big/a/{i}-{j}"])
            _articles(server, f"/big/a/{i}-{j}")
    raqib("outlet", "add", "wasea", "--sitemap", server.base + "/big/index.xml")
    _check(raqib, 0)
    sitemaps = [p for p, _h in server.requests if p.startswith("/big/") and p.endswith(".xml")]
    assert len(set(sitemaps)) == len(sitemaps) == 1 + 40
    assert len([p for p in sitemaps if p.count("/") == 2]) == 1 + 20  # 20 of the 25 indexes
    assert len(_watched(raqib)) == 20  # one article in each of the 20 sitemaps read


def test_an_archives_sitemaps_are_read_newest_first_and_its_old_articles_not_watched(
    server: PageServer, raqib: Raqib
) -> None:
    """An outlet's sitemap index lists its archive oldest first: a read's 20
    sitemaps were the oldest, this month's never read (its new articles never
    watched), and each archived article was watched for the next 30 days."""
    ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
    today = datetime.now(UTC)
    months = [f"/arch/2019-{m:02d}.xml" for m in range(1, 13)] + [
        f"/arch/2020-{m:02d}.xml" for m in range(1, 13)
    ]
    kids = [(p, p[6:13] + "-28") for p in months] + [("/arch/now.xml", today.isoformat())]
    locs = (
        "".join(
            f"<sitemap><loc>{server.base}{p}</loc><lastmod>{d}</lastmod></sitemap>" for p, d in kids
        )
        + f"<sitemap><loc>{server.base}/arch/news.xml</loc></sitemap>"
    )  # undated: first
    server.routes["/arch/index.xml"] = Route(
        f'<?xml version="1.0"?><sitemapindex xmlns="{ns}">{locs}</sitemapindex>'.encode(),
        headers=XML,
    )
    for p in months:  # each month's sitemap: one article of that month
        art = p.replace(".xml", "/story-1")
        entry = f"<url><loc>{server.base}{art}</loc><lastmod>{p[6:13]}-15</lastmod></url>"
        server.routes[p] = Route(f'<urlset xmlns="{ns}">{entry}</urlset>'.encode(), headers=XML)
        _articles(server, art)
    server.routes["/arch/news.xml"] = _urlset(server, ["/arch/news/story-6"])
    _articles(server, "/arch/news/story-6")
    # This month's: a new article, an undated one, one at the window's edge (30
    # days; a date is read with a day's slack), and an old one that an update of
    # the sitemap still lists.
    edge = (today - timedelta(days=30, hours=12)).date().isoformat()
    listed = [
        ("/arch/new/story-2", f"<lastmod>{(today - timedelta(hours=2)).isoformat()}</lastmod>"),
        ("/arch/new/story-3", ""),
        ("/arch/new/story-5", f"<lastmod>{edge}</lastmod>"),
        ("/arch/old/story-4", "<lastmod>2021-03-01T10:00:00+03:00</lastmod>"),
    ]
    urls = "".join(f"<url><loc>{server.base}{a}</loc>{d}</url>" for a, d in listed)
    server.routes["/arch/now.xml"] = Route(
        f'<urlset xmlns="{ns}">{urls}</urlset>'.encode(), headers=XML
    )
    _articles(server, *(a for a, _d in listed))
    # A feed lists what is current, whatever it dates it.
    items = "".join(
        f"<item><title>t</title><link>{server.base}{a}</link><pubDate>{d}</pubDate></item>"
        for a, d in (("/feed/old-1", "Mon, 04 Mar 2019 10:00:00 +0300"),
                     ("/feed/new-1", today.strftime("%a, %d %b %Y %H:%M:%S +0000")))
    )  # fmt: skip
    server.routes["/feed.xml"] = Route(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
        .encode(), headers={"Content-Type": "application/rss+xml"},
    )  # fmt: skip
    _articles(server, "/feed/old-1", "/feed/new-1")
    raqib(
        "outlet", "add", "arsheef", "--sitemap", server.base + "/arch/index.xml",
        "--feed", server.base + "/feed.xml",
    )  # fmt: skip
    summary = json.loads(_check(raqib, 0).stdout)
    assert _asked(server, "/arch/now.xml") == _asked(server, "/arch/news.xml") == 1
    watched = {u.removeprefix(server.base) for u in _watched(raqib)}
    new = {"/arch/new/story-2", "/arch/new/story-3", "/arch/new/story-5", "/arch/news/story-6"}
    assert new | {"/feed/old-1", "/feed/new-1"} <= watched
    assert "/arch/old/story-4" not in watched
    assert not any(u.startswith("/arch/20") for u in watched), watched  # months past: history
    # 18 of the 24 months read (20 sitemaps: the undated and this month's first), and one more.
    assert summary["outlets"]["old"] == 18 + 1, summary["outlets"]
    assert (
        "older than the retention window (not watched)"
        in raqib("discover", "--outlet", "arsheef").out
    )


def test_a_sitemap_index_past_its_limit_keeps_its_newest_children() -> None:
    """A review: the index's children were cut to the first 1,000 listed before
    they were sorted, so an archive of daily sitemaps still gave its oldest."""
    from raqib.discovery.feeds import MAX_ENTRIES, parse_sitemap

    ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
    start = datetime(2015, 1, 1, tzinfo=UTC)
    days = [(start + timedelta(days=n)).date().isoformat() for n in range(4000)]
    locs = "".join(
        f"<sitemap><loc>https://n.example/{d}.xml</loc><lastmod>{d}</lastmod></sitemap>"
        for d in days
    )
    parsed = parse_sitemap(
        f'<sitemapindex xmlns="{ns}">{locs}</sitemapindex>'.encode(), "https://n.example/"
    )
    assert len(parsed.children) == MAX_ENTRIES
    assert parsed.children[:2] == [f"https://n.example/{d}.xml" for d in (days[-1], days[-2])]


def test_an_index_reads_its_current_sitemaps_before_its_undated_ones() -> None:
    """A review: undated section sitemaps listed before the dated posts sitemap
    took a read's budget, and this month's posts were never read."""
    from raqib.discovery.feeds import parse_sitemap

    ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
    sections = "".join(
        f"<sitemap><loc>https://n.example/s{i}.xml</loc></sitemap>" for i in range(25)
    )
    dated = "".join(
        f"<sitemap><loc>https://n.example/{d}.xml</loc><lastmod>{d}-28</lastmod></sitemap>"
        for d in ("2019-01", "2026-11", "2026-12")
    )
    body = f'<sitemapindex xmlns="{ns}">{sections}{dated}</sitemapindex>'.encode()
    kids = parse_sitemap(body, "https://n.example/").children
    assert kids[:3] == [
        "https://n.example/2026-12.xml",
        "https://n.example/s0.xml",
        "https://n.example/s1.xml",
    ]
    assert kids[-2:] == ["https://n.example/2026-11.xml", "https://n.example/2019-01.xml"]


def test_an_entry_listed_twice_goes_by_its_newest_date_or_by_none() -> None:
    """A review: of two sitemaps dating one article, the first read decided (an
    old date first skipped an article the other listed as new), and an
    unreadable date counted as one."""
    from raqib.app.outlets import _newest
    from raqib.domain import Listed

    old, new = "2019-03-01T10:00:00+03:00", "2026-12-07T10:00:00+00:00"
    item = lambda when: Listed("https://n.example/a", 1, "https://n.example/s.xml", published=when)  # noqa: E731
    for first, second in ((old, new), (new, old)):
        kept = _newest(item(second), item(_newest(item(first), None, sitemap=True)), sitemap=True)
        assert kept == "2026-12-07T10:00:00+00:00", (first, second)
    for first, second in ((old, "yesterday"), ("yesterday", old), (old, None)):
        once = item(_newest(item(first), None, sitemap=True))
        assert _newest(item(second), once, sitemap=True) is None, (first, second)
    # A feed's listing gives no date to go by, whatever it says.
    assert _newest(item(old), None, sitemap=False) is None
    # A day without its time goes by its end: read as its midnight, the archive test
    # failed every morning (its edge article, dated 30.5 days back, was history by then).
    assert _newest(item("2026-11-07"), None, sitemap=True) == "2026-11-08T00:00:00+00:00"


def test_a_pass_that_dies_before_watching_loses_no_article(
    server: PageServer, raqib: Raqib
) -> None:
    """The read is recorded (its validators, its body's digest) only once what
    it listed is watched: a pass that dies in between reads the feed again."""
    server.routes["/feed.xml"] = _rss(server, ["/c/1"])
    _articles(server, "/c/1")
    raqib("outlet", "add", "ufuq", "--feed", server.base + "/feed.xml")
    crash = (
        "import sys\n"
        "from raqib.storage.outlets import OutletRepo\n"
        "def watch(*args, **kwargs):\n"
        "    raise SystemExit('died before watching')\n"
        "OutletRepo.watch = watch\n"
        "from raqib.cli import run\n"
        f"sys.argv = ['raqib', '--home', {str(raqib.home)!r}, 'check']\n"
        "run()\n"
    )
    env = {**os.environ, **raqib.env, "RAQIB_NOW": _at(0)}
    p = subprocess.run(
        [sys.executable, "-c", crash], capture_output=True, text=True, env=env, timeout=120
    )
    assert "died before watching" in p.stderr and p.returncode != 0
    assert _watched(raqib) == set()
    _check(raqib, 1)
    assert _watched(raqib) == {server.base + "/c/1"}


def test_a_removed_outlet_keeps_its_history_and_can_be_followed_again(
    server: PageServer, raqib: Raqib
) -> None:
    """`outlet remove` retires its watches but leaves them its name: the edits
    they saw are still found by it. Its feed is not read again until `outlet
    add` follows it anew."""
    server.routes["/feed.xml"] = _rss(server, ["/c/1"])
    _articles(server, "/c/1", "/c/2")
    raqib("outlet", "add", "sada", "--feed", server.base + "/feed.xml")
    _check(raqib, 0)
    server.routes["/c/1"] = Route(render(VERSIONS[3], server.base))  # a silent edit
    _check(raqib, 1)
    edits = raqib("changes", "--outlet", "sada", "--json").json()
    assert [(c["url"], c["kind"]) for c in edits] == [(server.base + "/c/1", "substantive")]

    assert "1 of its watches retired" in raqib("outlet", "remove", "sada").out
    assert raqib("outlet", "list", "--json").json() == []
    assert raqib("changes", "--outlet", "sada", "--json").json() == edits
    assert raqib("outlet", "stats", "sada", "--json").json()["edited"] == 1
    assert raqib("outlet", "rejected", "sada", "--json").json() == []  # its record, kept
    raqib("report", "--out", str(raqib.home / "r"), "--outlet", "sada")
    assert '<table class="outlets">' in (raqib.home / "r" / "index.html").read_text("utf-8")
    raqib("outlet", "remove", "sada", expect=4)
    server.routes["/feed.xml"] = _rss(server, ["/c/1", "/c/2"])
    _check(raqib, 2)
    assert _asked(server, "/feed.xml") == 2 and _asked(server, "/c/2") == 0

    raqib("outlet", "add", "sada", "--feed", server.base + "/feed.xml")
    _check(raqib, 3)
    assert _asked(server, "/feed.xml") == 3 and _asked(server, "/c/2") == 1
    [outlet] = raqib("outlet", "list", "--json").json()
    assert outlet["name"] == "sada" and outlet["watched"] == 2
    assert raqib("changes", "--outlet", "sada", "--json").json() == edits
    # What the removal retired, still inside its window, is watched again: its
    # feed lists it as seen, so it stayed retired, never fetched again.
    states = {w["url"]: w["state"] for w in raqib("watches", "--json").json()}
    assert states[server.base + "/c/1"] == "active" and _asked(server, "/c/1") == 3


def test_a_renamed_outlet_takes_its_sources_watches_and_history(
    server: PageServer, raqib: Raqib
) -> None:
    """`outlet rename` moves everything the outlet brought to the new name:
    its edits are found by it and not by the old one, its feed is read as
    before (no article watched twice), and a removed outlet's name can be
    freed for another outlet."""
    server.routes["/feed.xml"] = _rss(server, ["/c/1"])
    _articles(server, "/c/1", "/c/2")
    raqib("outlet", "add", "sada", "--feed", server.base + "/feed.xml")
    _check(raqib, 0)
    server.routes["/c/1"] = Route(render(VERSIONS[3], server.base))  # a silent edit
    _check(raqib, 1)
    edits = raqib("changes", "--outlet", "sada", "--json").json()
    assert len(edits) == 1
    (raqib.home / "raqib.toml").write_text('[outlets.sada]\nretain = "60d"\n')
    old_opml = raqib.home / "before.opml"
    raqib("outlet", "export", str(old_opml))
    refused = raqib("outlet", "rename", "sada", "sada-news", expect=2).err
    assert "[outlets.sada] would no longer apply: rename that table [outlets.sada-news]" in refused
    assert raqib("outlet", "list", "--json").json()[0]["name"] == "sada"  # nothing changed
    (raqib.home / "raqib.toml").write_text('[outlets.sada-news]\nretain = "60d"\n')

    r = raqib("outlet", "rename", "sada", "sada-news")
    assert "renamed sada to sada-news" in r.out
    [outlet] = raqib("outlet", "list", "--json").json()
    assert (outlet["name"], outlet["watched"]) == ("sada-news", 1)
    assert [s["url"] for s in outlet["sources"]] == [server.base + "/feed.xml"]
    moved = raqib("changes", "--outlet", "sada-news", "--json").json()
    assert [c["to_version"] for c in moved] == [c["to_version"] for c in edits]
    assert raqib("outlet", "stats", "sada-news", "--json").json()["edited"] == 1
    # The old name, or an OPML file written before, would read the feed twice.
    feed = server.base + "/feed.xml"
    twice = raqib("outlet", "add", "sada", "--feed", feed, expect=2).err
    assert "is already read by outlet 'sada-news'" in twice
    opml = raqib("outlet", "import", "--allow-private", str(old_opml), expect=2).err
    assert "already read by outlet" in opml
    assert [o["name"] for o in raqib("outlet", "list", "--json").json()] == ["sada-news"]
    assert "no outlet 'sada'" in raqib("changes", "--outlet", "sada", expect=4).err
    assert {w["outlet"] for w in raqib("watches", "--json").json()} == {"sada-news"}
    server.routes["/feed.xml"] = _rss(server, ["/c/1", "/c/2"])
    _check(raqib, 2)
    assert {w["url"]: w["outlet"] for w in raqib("watches", "--json").json()} == {
        server.base + "/c/1": "sada-news",
        server.base + "/c/2": "sada-news",
    }

    # Refused: an unknown outlet, a taken name (followed or removed), a bad name.
    assert "no outlet 'nowhere'" in raqib("outlet", "rename", "nowhere", "x", expect=4).err
    raqib("outlet", "add", "other", "--feed", server.base + "/other.xml")
    taken = raqib("outlet", "rename", "other", "sada-news", expect=2).err
    assert "already an outlet 'sada-news'" in taken
    assert "letters, digits" in raqib("outlet", "rename", "other", "a b", expect=2).err
    raqib("outlet", "remove", "sada-news")
    assert "already an outlet" in raqib("outlet", "rename", "other", "sada-news", expect=2).err
    # A removed outlet renamed frees its name: `outlet add` then starts afresh.
    # Removed, it reads nothing: its [outlets.sada-news] is for the name's next outlet.
    raqib("outlet", "rename", "sada-news", "sada-2025")
    assert raqib("changes", "--outlet", "sada-2025", "--json").json() == moved
    raqib("outlet", "add", "sada-news", "--feed", server.base + "/third.xml")
    assert raqib("changes", "--outlet", "sada-news", "--json").json() == []


def test_what_a_source_listed_goes_to_its_outlet_renamed_during_the_read(
    raqib: Raqib, monkeypatch
) -> None:
    """A read claimed under the outlet's old name is taken in under its new
    one (it was dropped as "removed meanwhile", and its body's digest kept it
    from being read again); a removed outlet's read is dropped."""
    from raqib.app import outlets
    from raqib.app.home import open_app
    from raqib.crawler.spiders.outlets import SourceRead
    from raqib.domain import Listed

    feed = "https://sada.example/feed.xml"
    raqib("outlet", "add", "sada", "--feed", feed)
    for k, v in raqib.env.items():  # the backend the commands use
        monkeypatch.setenv(k, v)
    app = open_app(raqib.home)
    try:
        [source] = app.storage.outlets.get("sada").sources
        read = SourceRead(source, "200", [Listed("https://sada.example/a/1", source.id, feed)])
        app.storage.outlets.rename("sada", "sada-news")
        report = outlets.ReadReport()
        outlets._watch_listed(app, [read], report)
        assert report.watched == 1
        app.storage.outlets.remove("sada-news", now=app.clock())
        gone = SourceRead(source, "200", [Listed("https://sada.example/a/2", source.id, feed)])
        outlets._watch_listed(app, [gone], report)
        assert report.watched == 1
    finally:
        app.close()
    watched = raqib("watches", "--json").json()
    assert [(w["url"], w["outlet"]) for w in watched] == [("https://sada.example/a/1", "sada-news")]


def test_an_outlets_headers_and_cookies_go_to_its_hosts_only(
    server: PageServer, raqib: Raqib
) -> None:
    """[outlets.NAME] headers and cookies are sent to the outlet's hosts, feed
    and articles, and not on to where its server redirects: Scrapy copies a
    request's headers onto its redirect, so an API key reached the other host."""
    elsewhere = PageServer(host="127.0.0.2").start()
    try:
        elsewhere.routes["/moved"] = Route(render(VERSIONS[0], elsewhere.base))
        server.routes["/feed.xml"] = _rss(server, ["/a/1", "/a/2"])
        _articles(server, "/a/1")
        server.routes["/a/2"] = Route(b"", 302, {"Location": elsewhere.base + "/moved"})
        raqib.home.mkdir(exist_ok=True)
        (raqib.home / "raqib.toml").write_text(
            '[outlets.sada]\nheaders = { "X-Api-Key" = "SECRET" }\n'
            'cookies = { "consent" = "yes" }\n',
            encoding="utf-8",
        )
        raqib("outlet", "add", "sada", "--feed", server.base + "/feed.xml")
        _check(raqib, 0)
        own = {p: h for p, h in server.requests if p != "/robots.txt"}
        assert set(own) == {"/feed.xml", "/a/1", "/a/2"}
        for path, sent in own.items():
            assert (sent.get("X-Api-Key"), sent.get("Cookie")) == ("SECRET", "consent=yes"), path
        (moved,) = [h for p, h in elsewhere.requests if p == "/moved"]
        assert "X-Api-Key" not in moved and "Cookie" not in moved
        assert "Raqib" in moved["User-Agent"]
        # The report's story list holds none of an outlet's articles: it says
        # where they are, not "No watches yet."
        raqib("report", "--out", str(raqib.home / "site"))
        index = (raqib.home / "site" / "index.html").read_text(encoding="utf-8")
        assert "None outside the outlets: their 2 articles" in index
        assert "No watches yet" not in index
    finally:
        elsewhere.stop()


def test_a_gzip_sitemap_is_read_unpacked_and_no_further_than_the_size_limit(
    server: PageServer, raqib: Raqib
) -> None:
    """sitemap.xml.gz sent as a gzip file (no Content-Encoding: sitemaps.org's
    own form, common for an index's children) was "not a feed or sitemap"; a
    gzip bomb is unpacked no further than fetch.max_size_mb."""
    import gzip

    gz = {"Content-Type": "application/x-gzip"}
    ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
    index = f'<sitemapindex xmlns="{ns}"><sitemap><loc>{server.base}/sm/1.xml.gz</loc></sitemap></sitemapindex>'
    server.routes["/sm/index.xml.gz"] = Route(gzip.compress(index.encode()), headers=gz)
    server.routes["/sm/1.xml.gz"] = Route(gzip.compress(_urlset(server, ["/b/1"]).body), headers=gz)
    _articles(server, "/b/1")
    raqib("outlet", "add", "nahar", "--sitemap", server.base + "/sm/index.xml.gz")
    _check(raqib, 0)
    assert _watched(raqib) == {server.base + "/b/1"}
    bomb = b'<?xml version="1.0"?>' + b" " * (9 * 1024 * 1024) + f'<urlset xmlns="{ns}"/>'.encode()
    server.routes["/sm/1.xml.gz"] = Route(gzip.compress(bomb), headers=gz)  # 9 MB in 9 KB
    raqib("outlet", "remove", "nahar")
    raqib("outlet", "add", "bomb", "--sitemap", server.base + "/sm/1.xml.gz")
    _check(raqib, 1)
    assert _status(raqib) == "a gzip file past 8,388,608 bytes unpacked, or broken"


def test_an_outlet_that_lists_many_pages_does_not_hold_back_anothers(
    server: PageServer, raqib: Raqib
) -> None:
    """A batch goes in turns, one watch of each outlet at a time: a hostile
    outlet listing 256 pages on slow hosts held another's three new articles
    behind its own for up to 244 s (their first captures, against which a
    silent edit is caught). One download at a time shows the order."""
    raqib.home.mkdir(parents=True, exist_ok=True)
    (raqib.home / "raqib.toml").write_text(
        "[fetch]\nconcurrency = 1\nper_domain = 1\nautothrottle = false\nprocesses = 0\n",
        encoding="utf-8",
    )
    many = [f"/many/{n}" for n in range(6)]
    server.routes["/many.xml"] = _rss(server, many)
    server.routes["/few.xml"] = _rss(server, ["/few/0", "/few/1"])
    _articles(server, *many, "/few/0", "/few/1")
    raqib("outlet", "add", "many", "--feed", server.base + "/many.xml")
    raqib("outlet", "add", "few", "--feed", server.base + "/few.xml")
    _check(raqib, 0)
    fetched = [p for p, _h in server.requests if p.startswith(("/many/", "/few/"))]
    assert sorted(fetched) == sorted([*many, "/few/0", "/few/1"])
    assert {fetched.index("/few/0"), fetched.index("/few/1")} <= {0, 1, 2, 3}, fetched


def test_a_source_that_fails_says_its_http_status(server: PageServer, raqib: Raqib) -> None:
    """A moved feed must be told from a struggling server: both read
    "HttpError: Ignoring non-200 response"."""
    server.routes["/feed.xml"] = Route(b"", 404)
    raqib("outlet", "add", "sada", "--feed", server.base + "/feed.xml")
    _check(raqib, 0)
    assert _status(raqib) == "HTTP 404"
    server.routes["/feed.xml"] = Route(b"", 503)
    _check(raqib, 1)
    assert _status(raqib) == "HTTP 503"
    # And the pass's summary says so (it read "read 1 outlet sources: 0 new
    # articles watched", as a feed that had nothing new would).
    said = raqib.proc("check", env={"RAQIB_NOW": _at(2)}).out
    assert f"read 1 outlet sources (1 failed: sada {server.base}/feed.xml: HTTP 503)" in said


def test_an_outlets_article_in_a_story_or_resumed_outlives_its_window(
    server: PageServer, raqib: Raqib
) -> None:
    """Past the outlet's window its articles retire, but one the user put in a
    story, or resumed, is the user's to keep: each pass retired it again, the
    resumed one before it was fetched."""
    server.routes["/feed.xml"] = _rss(server, ["/r/1", "/r/2", "/r/3"])
    _articles(server, "/r/1", "/r/2", "/r/3")
    raqib("outlet", "add", "sada", "--feed", server.base + "/feed.xml", "--retain-days", "1")
    _check(raqib, 0)
    raqib("watch", "--no-fetch", server.base + "/r/1", "--story", "talks")
    _check(raqib, 49)
    states = {w["url"]: w["state"] for w in raqib("watches", "--json").json()}
    assert [states[server.base + p] for p in ("/r/1", "/r/2", "/r/3")] == [
        "active", "retired", "retired",
    ]  # fmt: skip
    raqib("resume", server.base + "/r/2")
    fetched = _asked(server, "/r/2")
    _check(raqib, 50)
    states = {w["url"]: w["state"] for w in raqib("watches", "--json").json()}
    assert states[server.base + "/r/2"] == "active" and _asked(server, "/r/2") == fetched + 1
    assert states[server.base + "/r/3"] == "retired"
    assert raqib("outlet", "stats", "sada", "--json").json()["articles"] == 3  # still its own


def test_a_front_pages_sections_are_not_watched(server: PageServer, raqib: Raqib) -> None:
    """A front page links its sections (/politics/, /news/world/, /سياسة/):
    each was watched as an article, and its teasers, new every pass, made a
    substantive edit each time. A front page's link whose path is words alone
    is refused by its URL; an article's slug, number or query is watched, and
    so is a section a feed lists (feeds list articles)."""
    sections = ["/politics/", "/news/world/", "/%D8%B3%D9%8A%D8%A7%D8%B3%D8%A9/"]
    articles = ["/news/2024/01/a-story", "/news/some-slug/", "/news/123456", "/article?id=5"]
    links = "".join(f'<a href="{p}">{p}</a>' for p in [*sections, *articles, "/economy/"])
    server.routes["/front"] = Route(f"<html><body>{links}</body></html>".encode())
    server.routes["/feed.xml"] = _rss(server, ["/economy/"])
    _articles(server, *(p.split("?")[0] for p in articles), "/economy/")
    raqib("outlet", "add", "sada", "--front", server.base + "/front")
    raqib("outlet", "add", "sada", "--feed", server.base + "/feed.xml")  # a second source
    _check(raqib, 0)
    assert _watched(raqib) == {server.base + p for p in [*articles, "/economy/"]}
    rejected = {r["url"]: r["reason"] for r in raqib("outlet", "rejected", "sada", "--json").json()}
    assert set(rejected) == {server.base + p for p in sections}
    assert all("a section page (by its URL" in why for why in rejected.values())
