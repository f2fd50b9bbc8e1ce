"""Whole outlets over simulated days: two outlets (an RSS feed; a news
sitemap) publish and edit on a known schedule on their own 127.0.0.x hosts,
`raqib check` runs every few simulated hours (RAQIB_NOW), and what Raqib
recorded is compared with the planted truth."""

from __future__ import annotations

import re
import urllib.request
from datetime import UTC, datetime, timedelta
from statistics import median

import pytest

from tests.conftest import Raqib
from tests.outlet_world import World

pytestmark = pytest.mark.backends

START = datetime(2026, 3, 1, tzinfo=UTC)
TICK = timedelta(hours=3)
DAYS = 3
RETAIN = {"alpha": 2, "beta": 3}


@pytest.fixture
def world():
    w = World(
        START, DAYS,
        outlets=[("alpha", "rss"), ("beta", "sitemap")],
        per_day=4, edit_share=0.5, edit_gaps=[timedelta(hours=2), timedelta(hours=20)],
        extras={"alpha": ["video", "live", "section", "tag", "category"]},
    )  # fmt: skip
    yield w
    w.stop()


def _at(raqib: Raqib, when: datetime, *args: str, **kw):
    return raqib.proc(*args, env={"RAQIB_NOW": when.isoformat()}, **kw)


@pytest.mark.scenario
def test_outlets_over_simulated_days(world: World, raqib: Raqib) -> None:
    raqib.home.mkdir(parents=True, exist_ok=True)
    (raqib.home / "raqib.toml").write_text(
        '[fetch]\nobey_robots = false\n[outlets]\nfeed_every = "10m"\n', encoding="utf-8"
    )
    for name, o in world.outlets.items():
        flag = "--feed" if o.source == "rss" else "--sitemap"
        _at(
            raqib,
            START,
            "outlet",
            "add",
            name,
            flag,
            o.source_url,
            "--retain-days",
            str(RETAIN[name]),
        )

    ticks = [START + TICK * i for i in range(1, int(DAYS * 24 / 3) + 1)]
    paused_url = unwatched_url = None
    for n, now in enumerate(ticks):
        world.advance(now)
        summary = _at(raqib, now, "check", "--json").json()
        assert summary["outlets"]["sources"] == 2, summary
        if n == 4:  # a newsroom steps in: pause one article, drop another, tag a third
            alpha = raqib("watches", "--outlet", "alpha", "--json").json()
            paused_url, unwatched_url = (w["url"] for w in alpha[:2])
            # Tag one that the plan edits later, so the tag filter has something to show.
            later = {
                o.url(p)
                for o in world.outlets.values()
                for p in world.articles(o.name, now)
                if any(now < e <= ticks[-1] for e in p.edits)
            }
            listed = [w["url"] for w in raqib("watches", "--json").json()]
            tagged = next(u for u in listed if u in later and u not in (paused_url, unwatched_url))
            raqib("pause", paused_url)
            raqib("unwatch", unwatched_url)
            raqib("tag", tagged, "--add", "drought")
            fetches_when_paused = len(raqib("log", paused_url, "--json").json())
    end = ticks[-1]

    every = {w["url"]: w for w in raqib("watches", "--state", "active", "--state", "retired",
                                        "--state", "paused", "--state", "unwatched",
                                        "--json").json()}  # fmt: skip
    for name, o in world.outlets.items():
        articles = world.articles(name, end)
        # Watched from first sight: within one source interval (the tick here).
        for p in articles:
            w = every[o.url(p)]
            assert w["origin"] == "outlet" and w["outlet"] == name
            assert w["found_via"] == o.source_url
            seen = datetime.fromisoformat(w["added_at"])
            assert p.published <= seen <= p.published + TICK, (p.path, seen)
        # Retired after the window, and only then.
        for p in articles:
            w = every[o.url(p)]
            if w["url"] in (paused_url, unwatched_url):
                continue
            expired = datetime.fromisoformat(w["added_at"]) < end - timedelta(days=RETAIN[name])
            assert (w["state"] == "retired") == expired, (p.path, w["state"])

    # Non-articles: refused by URL, or by what the page declared when fetched.
    rejected = {
        r["url"]: r["reason"] for r in raqib("outlet", "rejected", "alpha", "--json").json()
    }
    base = world.outlets["alpha"].server.base
    assert "declares itself a video page" in rejected[base + "/media/clip-0"]
    assert "declares itself a live page" in rejected[base + "/live/updates-1"]
    assert "declares itself a section page" in rejected[base + "/section/world/"]
    assert "a tag page (by its URL)" in rejected[base + "/tag/topic-3"]
    assert "a section page (by its URL)" in rejected[base + "/category/politics-4/"]
    assert not set(rejected) & set(every)  # rejected pages are not listed as watches

    # Every edit made while an article was watched was caught, once, and nothing else.
    pause_tick = ticks[4]
    by_url: dict[str, list[dict]] = {}
    for c in raqib("changes", "--json").json():
        by_url.setdefault(c["url"], []).append(c)
    visible: dict[str, list[datetime]] = {}
    for name, o in world.outlets.items():
        for p in world.articles(name, end):
            url = o.url(p)
            first = datetime.fromisoformat(every[url]["added_at"])
            last = pause_tick if url in (paused_url, unwatched_url) else end
            visible[url] = [e for e in p.edits if first < e <= last]
            got = by_url.get(url, [])
            assert len(got) == len(visible[url]), (p.path, p.edits, [c["detected_at"] for c in got])
            for edit, change in zip(visible[url], got, strict=True):
                caught = datetime.fromisoformat(change["detected_at"])
                assert edit <= caught <= edit + TICK, (p.path, edit, caught)
                assert change["kind"] == "substantive" and change["silent"] is True
                assert change["facts"]["numbers"], change
            assert every[url]["versions"] == 1 + len(visible[url])  # 0 false versions
    assert sum(map(len, visible.values())) >= 8  # the plan did edit, and inside the window

    # The figures, against the planted truth.
    for name, o in world.outlets.items():
        stats = raqib("outlet", "stats", name, "--json").json()
        urls = [o.url(p) for p in world.articles(name, end)]
        edited = [u for u in urls if visible[u]]
        assert stats["articles"] == len(urls)
        assert stats["edited"] == stats["edited_silently"] == len(edited)
        assert stats["edits"] == sum(len(visible[u]) for u in urls)
        assert stats["share_edited"] == round(len(edited) / len(urls), 4)
        highs, lows = [], []
        for u in edited:
            first = datetime.fromisoformat(every[u]["added_at"])
            caught = min(t for t in ticks if t >= visible[u][0])
            highs.append((caught - first).total_seconds())
            lows.append((caught - TICK - first).total_seconds())
        m = stats["median_to_first_edit_seconds"]
        assert (m["last_seen_unedited"], m["first_seen_edited"]) == (median(lows), median(highs))

    # The newsroom's steps held.
    assert len(raqib("log", paused_url, "--json").json()) == fetches_when_paused
    assert unwatched_url not in [w["url"] for w in raqib("watches", "--json").json()]
    tagged_changes = raqib("changes", "--tag", "drought", "--json").json()
    assert tagged_changes and all(c["url"] == tagged for c in tagged_changes)
    beta = {c["url"] for c in raqib("changes", "--outlet", "beta", "--silent", "--json").json()}
    assert beta == {
        u for u in visible if u.startswith(world.outlets["beta"].server.base) and visible[u]
    }
    # Search across every stored version, by matching key: the planted figure
    # of an edited article's first version is gone from its latest one.
    edited_url = next(u for u in visible if visible[u] and u not in (paused_url, unwatched_url))
    hits = raqib("search", "المتضررين", "100", "--json").json()
    hit = next(h for h in hits if h["url"] == edited_url)
    assert hit["versions"] == [1] and hit["in_latest"] is False and "100" in hit["snippet"]
    # Spelling variants: a tatweel inside the word, Arabic-Indic digits.
    variant = raqib("search", "المتضرريـن", "١٠٠", "--json").json()
    assert [h["url"] for h in variant] == [h["url"] for h in hits]

    # serve opens on the latest changes, silent substantive first, with the same filters.
    proc = raqib.popen("serve", "--port", "0")
    try:
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", proc.stderr.readline())
        assert m
        base = f"http://127.0.0.1:{m.group(1)}/"
        front = _get(base)
        assert "Latest edits" in front and "Failing watches" in front and "<svg" in front
        assert front.index(edited_url) < front.index("Watched stories")
        only_beta = _get(base + "?outlet=beta&silent=1&kind=substantive")
        beta_urls = {u for u in visible if u.startswith(world.outlets["beta"].server.base)}
        listed = set(re.findall(r"#\d+ (http://[^ <]+)", only_beta))
        assert listed == {u for u in beta_urls if visible[u]}
        only_tagged = _get(base + "?tag=drought")
        assert set(re.findall(r"#\d+ (http://[^ <]+)", only_tagged)) == {tagged}
        said = _get(base + "?since=whenever")  # in the page's words, not the command line's
        assert "since &#39;whenever&#39; is not a time: give an ISO 8601" in said, said[:2000]
        assert "--since" not in said
        assert "see `raqib" not in _get(base + "?outlet=nosuch")
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    # Politeness: never more requests at once to one host than fetch.per_domain.
    for o in world.outlets.values():
        assert 0 < o.max_inflight <= 4, (o.name, o.max_inflight)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert resp.status == 200
        return str(resp.read().decode("utf-8"))


def test_a_bot_wall_never_rejects_an_outlets_article() -> None:
    """A challenge page is the site's for a while: an outlet's new article
    behind one is fetched again (backing off) until it reads, never dropped;
    a page that is no article in three fetches is."""
    from raqib.domain import Origin, Outcome, Task
    from raqib.extract.judge import REJECT_AFTER, Verdict, outlet_verdict
    from raqib.extract.results import BOT_CHECK

    def task(errors: int) -> Task:
        return Task(
            watch_id=1, url="https://outlet.example/a", etag=None, last_modified=None,
            body_key=None, content_hash=None, state="active", version_count=0, last_words=0,
            added_at=datetime.now(UTC), last_change_at=None, error_count=errors,
            removed_count=0, origin=Origin.OUTLET,
        )  # fmt: skip

    for errors in range(REJECT_AFTER + 5):
        wall = outlet_verdict(task(errors), Verdict(Outcome.NOT_ARTICLE, BOT_CHECK))
        assert not wall.reject
    thin = outlet_verdict(task(REJECT_AFTER - 1), Verdict(Outcome.NOT_ARTICLE, "too little text"))
    assert thin.reject
