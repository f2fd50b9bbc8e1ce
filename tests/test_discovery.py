"""Related coverage: sources, judging, identity, and the private-address guard."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from urllib.parse import unquote_plus, urlsplit

import pytest

from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import Route
from raqib.discovery import feeds
from raqib.discovery.relate import Corpus, StoryModel, document, terms
from raqib.guard import Guard, category, literal, network_of
from tests.conftest import Gate, Raqib, corpus_body


def _serve_coverage(server, manifest) -> str:
    """Serve the seed article, the two sources and the eight coverage pages."""
    seed = manifest["watches"][0]
    server.routes[seed["path"]] = Route(
        corpus_body(manifest, seed["steps"][0]["body"], server.base)
    )
    cov = manifest["coverage"]
    for s in cov["sources"]:
        server.routes[s["path"]] = Route(
            corpus_body(manifest, s["body"], server.base), headers=s["headers"]
        )
    for path, page in cov["pages"].items():
        server.routes[path] = Route(corpus_body(manifest, page["body"], server.base))
    return server.base + seed["path"]


def test_corpus_discovery_adds_exactly_the_related_articles(server, raqib: Raqib, manifest) -> None:
    cov = manifest["coverage"]
    seed_url = _serve_coverage(server, manifest)
    raqib("watch", "--no-fetch", seed_url, "--story", cov["story"])
    raqib.proc("check")
    for s in cov["sources"]:
        raqib("source", "add", server.base + s["path"], "--story", cov["story"])
    report = raqib.proc("discover", "--json").json()
    added = {c["url"] for c in report["candidates"] if c["decision"] == "added"}
    related = {server.base + p for p, v in cov["pages"].items() if v["related"]}
    unrelated = {server.base + p for p, v in cov["pages"].items() if not v["related"]}
    assert added == related
    assert not added & unrelated
    judged = {c["url"] for c in report["candidates"]}
    assert unrelated <= judged  # each unrelated one was seen and turned down
    for c in report["candidates"]:
        if c["decision"] == "added":
            assert c["score"] >= 0.18 and c["terms"] and c["found_via"]
    kinds = {s["url"].rsplit("/", 2)[-2]: s["kind"] for s in report["sources"]}
    assert set(kinds.values()) == {"rss", "sitemap"}

    watches = {w["url"]: w for w in raqib("watches", "--json").json()}
    assert watches[seed_url]["origin"] == "manual"
    for url in related:
        w = watches[url]
        assert w["origin"] == "discovered" and w["story"] == cov["story"]
        assert w["found_via"].startswith(server.base) and w["score"] >= 0.18 and w["matched_terms"]
    sources = raqib("source", "list", "--json").json()
    assert {s["kind"] for s in sources} == {"rss", "sitemap"} and all(
        s["last_status"].startswith("ok") for s in sources
    )

    # Discovered articles are then watched, versioned and diffed like the seed.
    raqib.proc("check")
    assert all(raqib("versions", url, "--json").json() for url in related)

    # A second run adds nothing and refetches nothing already judged.
    before = len(server.requests)
    again = raqib.proc("discover", "--json").json()
    assert not [c for c in again["candidates"] if c["decision"] == "added"]
    fetched_again = [p for p, _ in server.requests[before:] if p in cov["pages"]]
    assert fetched_again == []


# --- source formats -------------------------------------------------------------------------

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>أخبار</title><id>urn:x</id><updated>2024-01-26T00:00:00Z</updated>
<entry><title>{t1}</title><id>urn:1</id><updated>2024-01-26T00:00:00Z</updated><link href="{base}/atom/related"/></entry>
<entry><title>الهلال يتأهل إلى نصف نهائي دوري أبطال آسيا</title><id>urn:2</id><updated>2024-01-26T00:00:00Z</updated>
<summary>تأهل فريق الهلال السعودي إلى الدور نصف النهائي من دوري أبطال آسيا بعد فوزه على ضيفه</summary><link href="{base}/atom/sport"/></entry>
</feed>"""

INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{base}/sm/news-1.xml</loc></sitemap><sitemap><loc>{base}/sm/news-2.xml</loc></sitemap></sitemapindex>"""

CHILD = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{base}{path}</loc><lastmod>2024-01-26</lastmod></url></urlset>"""


def _article(title: str, paragraphs: list[str], canonical: str | None = None) -> bytes:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f'<html lang="ar"><head><meta charset="utf-8"><title>{title}</title>{link}</head><body><article><h1>{title}</h1>{body}</article></body></html>'.encode()


RELATED = [
    "أعلنت الحكومة العراقية والإدارة الأمريكية إطلاق حوار لوضع جدول زمني لانسحاب قوات التحالف الدولي من العراق.",
    "وقال وزير الدفاع الأمريكي لويد أوستن إن اللجنة العسكرية العليا ستبحث الانتقال إلى شراكة أمنية ثنائية دائمة.",
    "وتأتي المحادثات بعد هجمات على القواعد التي تستضيف القوات الأمريكية منذ بدء الحرب في غزة.",
]
SPORT = [
    "تأهل فريق الهلال السعودي إلى الدور نصف النهائي من دوري أبطال آسيا بعد فوزه على ضيفه بثلاثة أهداف.",
    "وسجل أهداف الهلال لاعبو الوسط والهجوم في الشوطين الأول والثاني أمام جماهير غفيرة في الرياض.",
    "ويلتقي الفريق في نصف النهائي مع الفائز من مباراة الفريقين الآخرين الأسبوع المقبل في جدة.",
]


@pytest.fixture
def seeded(server, raqib: Raqib):
    server.routes["/seed"] = Route(render(VERSIONS[0], server.base))
    raqib("watch", "--no-fetch", server.base + "/seed", "--story", "talks")
    raqib.proc("check")
    return server.base + "/seed"


def _added(report) -> set[str]:
    return {c["url"] for c in report["candidates"] if c["decision"] == "added"}


def _atom_source(server) -> None:
    """An Atom feed listing a related article (served) and a sports one."""
    server.routes["/atom.xml"] = Route(
        ATOM.format(
            base=server.base, t1="بغداد وواشنطن تبدآن محادثات انسحاب قوات التحالف"
        ).encode(),
        headers={"Content-Type": "application/atom+xml"},
    )
    server.routes["/atom/related"] = Route(
        _article("بغداد وواشنطن تبدآن محادثات انسحاب قوات التحالف", RELATED)
    )


def test_atom_feed(server, raqib: Raqib, seeded) -> None:
    _atom_source(server)
    server.routes["/atom/sport"] = Route(_article("الهلال يتأهل", SPORT))
    out = raqib("source", "add", server.base + "/atom.xml", "--story", "talks", "--kind", "atom")
    assert "new story" not in out.out  # the seeded story
    typo = raqib("source", "add", server.base + "/atom.xml", "--story", "tlaks", "--kind", "atom")
    assert "(a new story: check its spelling" in typo.out
    raqib("source", "remove", server.base + "/atom.xml", "--story", "tlaks")
    report = raqib.proc("discover", "--json").json()
    assert _added(report) == {server.base + "/atom/related"}
    assert [c["first_version"] for c in report["candidates"]] == [
        c["decision"] == "added" for c in report["candidates"]
    ]
    sport = next(c for c in report["candidates"] if c["url"].endswith("/atom/sport"))
    assert sport["decision"] == "rejected"
    # Clearly unrelated by its feed title and summary: not even fetched.
    assert not any(p == "/atom/sport" for p, _ in server.requests)


def test_candidates_rejected_on_their_text_are_judged_again_on_request(
    server, raqib: Raqib, seeded
) -> None:
    """A rejected candidate was never judged again: a threshold set too high, or
    a story that gained a seed, left its related articles rejected for good."""
    _atom_source(server)
    server.routes["/atom/sport"] = Route(_article("الهلال يتأهل", SPORT))
    config = raqib.home / "raqib.toml"
    config.write_text("[discovery]\nthreshold = 0.9\n", encoding="utf-8")
    raqib("source", "add", server.base + "/atom.xml", "--story", "talks", "--kind", "atom")
    first = raqib.proc("discover", "--json").json()
    assert not _added(first)
    config.write_text("[discovery]\nthreshold = 0.18\n", encoding="utf-8")
    fetched = len(server.requests)
    again = raqib.proc("discover", "--rejudge", "--json").json()
    assert _added(again) == {server.base + "/atom/related"}, again
    assert "judged again on its text as read" in again["candidates"][0]["reason"]
    # Nothing fetched; the sports article, rejected on its feed entry, has no text to judge.
    assert len(server.requests) == fetched
    assert again["notes"] == [
        "talks: 1 rejected candidate judged again from the text kept when read, 1 now related"
    ]
    watched = raqib("watches", "--story", "talks", "--format", "json").json()
    assert server.base + "/atom/related" in {w["url"] for w in watched}
    raqib.proc("check")
    assert len(server.requests) > fetched  # its first check fetched it
    assert not _added(raqib.proc("discover", "--rejudge", "--json").json())
    usage = raqib("discover", "--rejudge", "--outlet", "x", expect=2)
    assert "--rejudge and --skip-read-within are for stories" in usage.err
    usage = raqib("discover", "--rejudge", "--skip-read-within", "60", expect=2)
    assert "--rejudge fetches nothing" in usage.err


def test_a_candidate_judged_again_is_watched_where_it_was_served(
    server, raqib: Raqib, seeded
) -> None:
    """A review: `--rejudge` watched a candidate as its feed listed it (a
    redirect), beside the article's own watch under its final address."""
    final = server.base + "/news/x"
    title = "بغداد وواشنطن تبدآن محادثات انسحاب قوات التحالف"
    server.routes["/atom.xml"] = Route(
        ATOM.format(base=server.base, t1=title).replace("/atom/related", "/r/1").encode(),
        headers={"Content-Type": "application/atom+xml"},
    )
    server.routes["/r/1"] = Route(b"", status=301, headers={"Location": final})
    server.routes["/news/x"] = Route(_article(title, RELATED))
    config = raqib.home / "raqib.toml"
    config.write_text("[discovery]\nthreshold = 0.9\n", encoding="utf-8")
    raqib("source", "add", server.base + "/atom.xml", "--story", "talks", "--kind", "atom")
    assert not _added(raqib.proc("discover", "--json").json())
    raqib.proc("watch", final, "--story", "other")  # the desk watches it, in another story
    config.write_text("[discovery]\nthreshold = 0.18\n", encoding="utf-8")
    again = raqib.proc("discover", "--rejudge", "--json").json()
    [joined] = again["candidates"]
    assert joined["url"] == final and "joined this story" in joined["reason"], joined
    [watch] = raqib("watches", "--json").json()[1:]  # the seed, then it
    assert watch["url"] == final and sorted(watch["stories"]) == ["other", "talks"]
    # Its own row was judged again, not a second one beside it: nothing left to judge.
    third = raqib.proc("discover", "--rejudge", "--story", "talks", "--json").json()
    assert not third["candidates"]
    assert third["notes"] == [
        "talks: 0 rejected candidates judged again from the text kept when read, 0 now related"
    ]


@pytest.mark.backends
def test_a_story_is_read_by_one_discovery_run_at_a_time(server, raqib: Raqib, seeded) -> None:
    """Every worker's daemon read every story: each candidate was fetched once
    a worker, and their findings raced to watch the same article."""
    _atom_source(server)
    raqib("source", "add", server.base + "/atom.xml", "--story", "talks", "--kind", "atom")
    gate = server.around = Gate(free=0)
    first = raqib.popen("discover", "--json")
    try:
        assert gate.held.wait(60), "the first run never fetched"
        fetched = len(server.requests)
        second = raqib.proc("discover", "--json").json()
        assert not second["candidates"] and not second["sources"]
        assert second["notes"][0].startswith("talks: another discovery run is reading it"), second
        assert len(server.requests) == fetched  # the second run fetched nothing
        named = raqib.proc("discover", "--story", "talks", expect=75)  # asked for: an error
        assert "talks: another discovery run is reading it" in named.err
    finally:
        gate.open.set()
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert _added(json.loads(out)) == {server.base + "/atom/related"}
    # Ended, it holds nothing; a daemon's run (half its interval) leaves a story just read.
    daemon = raqib.proc("discover", "--skip-read-within", "900", "--json").json()
    assert daemon["notes"] == ["1 story read by a run in the last 15 min: skipped (talks)"]
    assert not daemon["sources"]
    assert raqib.proc("discover", "--json").json()["sources"]  # by hand: read again


def test_a_candidate_listed_as_another_address_is_not_its_watchs_first_version(
    server, raqib: Raqib, seeded
) -> None:
    """A review: a feed that listed an article's AMP page (its last paragraph cut)
    gave the watch of its canonical page the AMP text as version 1, and its
    first check a silent edit that never was."""
    canonical = server.base + "/news/talks"
    server.routes["/atom.xml"] = Route(
        ATOM.format(base=server.base, t1="بغداد وواشنطن تبدآن محادثات انسحاب قوات التحالف")
        .replace("/atom/related", "/news/talks/amp")
        .encode(),
        headers={"Content-Type": "application/atom+xml"},
    )
    title = "بغداد وواشنطن تبدآن محادثات انسحاب قوات التحالف"
    server.routes["/news/talks/amp"] = Route(_article(title, RELATED[:2], canonical=canonical))
    server.routes["/news/talks"] = Route(_article(title, RELATED, canonical=canonical))
    raqib("source", "add", server.base + "/atom.xml", "--story", "talks", "--kind", "atom")
    report = raqib.proc("discover", "--json").json()
    [added] = [c for c in report["candidates"] if c["decision"] == "added"]
    assert added["url"] == canonical and added["first_version"] is False
    raqib.proc("check", "--all")
    assert raqib("changes", "--url", canonical, "--json").json() == []


_FIRST_VERSION_FAILS = {
    # The claim of the new watches fails (the database went away meanwhile).
    "claim": "import raqib.storage.leases as leases\n"
    "def claim(self, *a, **k):\n    raise RuntimeError('the database went away')\n"
    "leases.LeaseRepo.claim = claim\n",
    # The spool cannot be written (a full disk).
    "spool": "import raqib.discovery.findings as findings\n"
    "def put(self, fetched):\n    raise OSError(28, 'No space left on device')\n"
    "findings.Spool.put = put\n",
}


@pytest.mark.parametrize("failing", sorted(_FIRST_VERSION_FAILS))
def test_a_first_version_that_cannot_be_kept_costs_the_run_nothing(
    server, raqib: Raqib, seeded, failing: str
) -> None:
    """A review: a failed claim of the new watches lost the whole report and its
    notifications (the watches stored already, the next run said nothing of
    them); a full spool dropped the candidate from the run, unsaid."""
    _atom_source(server)
    raqib("source", "add", server.base + "/atom.xml", "--story", "talks", "--kind", "atom")
    script = _FIRST_VERSION_FAILS[failing] + "from raqib.cli import run\nrun()\n"
    report, err = raqib.patched(script, "discover", "--json")
    [added] = [c for c in report["candidates"] if c["decision"] == "added"]
    assert added["url"] == server.base + "/atom/related" and added["first_version"] is False
    assert ("No space left" if failing == "spool" else "the database went away") in err
    raqib.proc("check")  # due at once: its first check stores version 1
    [watch] = [w for w in raqib("watches", "--json").json() if w["url"] == added["url"]]
    assert watch["versions"] == 1


def test_coverage_watched_in_one_story_joins_another_it_belongs_to(
    server, raqib: Raqib, seeded
) -> None:
    """A related-coverage hunt: an article discovered for one story was "already
    watched" for every other, and never joined them; its edits showed under one."""
    _atom_source(server)
    server.routes["/seed2"] = Route(_article("محادثات انسحاب التحالف من العراق", RELATED[:2]))
    raqib("watch", "--no-fetch", server.base + "/seed2", "--story", "coalition")
    raqib.proc("check")
    for story in ("talks", "coalition"):
        raqib("source", "add", server.base + "/atom.xml", "--story", story, "--kind", "atom")
    server.routes["/atom/sport"] = Route(_article("الهلال يتأهل", SPORT))
    report = raqib.proc("discover", "--json").json()
    related = server.base + "/atom/related"
    decisions = sorted(
        (c["story"], c["decision"]) for c in report["candidates"] if c["url"] == related
    )
    assert decisions == [("coalition", "added"), ("talks", "added")], report["candidates"]
    ids = {c["watch_id"] for c in report["candidates"] if c["url"] == related}
    assert len(ids) == 1  # one watch, in both stories
    for story in ("talks", "coalition"):
        urls = {w["url"] for w in raqib("watches", "--story", story, "--json").json()}
        assert related in urls, (story, urls)
    server.requests.clear()
    again = raqib.proc("discover", "--json").json()
    assert not any(p == "/atom/related" for p, _ in server.requests)  # known to both now
    assert not [c for c in again["candidates"] if c["decision"] == "added"]
    # A watch at rest (unwatched, paused, retired) joins no story: it stays as it was
    # left, and the report says so (a second review: "added", and never checked).
    server.routes["/seed3"] = Route(_article("انسحاب قوات التحالف من العراق", RELATED[1:]))
    raqib("watch", "--no-fetch", server.base + "/seed3", "--story", "gulf")
    raqib.proc("check")
    raqib("unwatch", related)
    raqib("source", "add", server.base + "/atom.xml", "--story", "gulf", "--kind", "atom")
    third = raqib.proc("discover", "--story", "gulf", "--json").json()
    [c] = [c for c in third["candidates"] if c["url"] == related]
    assert c["decision"] == "known" and "(unwatched: not joined)" in c["reason"], c
    assert related not in {w["url"] for w in raqib("watches", "--story", "gulf", "--json").json()}


def test_a_section_page_of_teasers_is_not_coverage(server, raqib: Raqib, seeded) -> None:
    """A related-coverage hunt: a section page (og:type website, a list of teasers
    on the story) was watched, and each rotation of its teasers was a silent edit."""
    teasers = "".join(
        f'<div class="teaser"><h2><a href="/story/{i}">{s[:60]}</a></h2><p>{s}</p></div>'
        for i, s in enumerate(RELATED * 2)
    )
    server.routes["/section/iraq"] = Route(
        '<html lang="ar"><head><meta charset="utf-8"><meta property="og:type" content="website">'
        f"</head><body><h1>أخبار العراق</h1>{teasers}</body></html>".encode()
    )
    _atom_source(server)
    title = "بغداد وواشنطن تبدآن محادثات انسحاب قوات التحالف"
    entries = "".join(
        f"<entry><title>{title}</title><id>urn:{i}</id><updated>2024-01-26T00:00:00Z</updated>"
        f'<link href="{server.base}{path}"/></entry>'
        for i, path in enumerate(("/atom/related", "/section/iraq"))
    )
    server.routes["/both.xml"] = Route(
        ATOM.split("<entry>")[0].encode() + entries.encode() + b"</feed>",
        headers={"Content-Type": "application/atom+xml"},
    )
    raqib("source", "add", server.base + "/both.xml", "--story", "talks", "--kind", "atom")
    report = raqib.proc("discover", "--json").json()
    found = {c["url"].removeprefix(server.base): c for c in report["candidates"]}
    assert found["/atom/related"]["decision"] == "added"
    section = found["/section/iraq"]
    assert section["decision"] == "rejected", section
    assert section["reason"] == "no coverage: a list of other stories' headlines"


def test_a_rejected_candidate_is_remembered_as_its_source_listed_it(
    server, raqib: Raqib, seeded
) -> None:
    """A related-coverage hunt: a rejected page whose canonical differed from the
    address its feed listed was remembered under the canonical, and the listed
    address fetched and judged again on every run."""
    listed = server.base + "/listed/sport"
    server.routes["/listed/sport"] = Route(
        _article("الهلال يتأهل", SPORT, canonical=server.base + "/sport/final")
    )
    entry = (
        "<entry><title>الهلال يتأهل</title><id>urn:9</id><updated>2024-01-26T00:00:00Z</updated>"
        f'<link href="{listed}"/></entry>'
    )
    server.routes["/sport.xml"] = Route(
        ATOM.split("<entry>")[0].encode() + entry.encode() + b"</feed>",
        headers={"Content-Type": "application/atom+xml"},
    )
    raqib("source", "add", server.base + "/sport.xml", "--story", "talks", "--kind", "atom")
    first = raqib.proc("discover", "--json").json()
    [c] = [c for c in first["candidates"] if c["decision"] == "rejected"]
    assert c["url"] == listed
    raqib.proc("discover", "--json")
    assert sum(1 for p, _ in server.requests if p == "/listed/sport") == 1


def test_a_long_sources_later_entries_are_reached_and_failures_tried_again_after_them(
    server, raqib: Raqib, seeded
) -> None:
    """A related-coverage hunt: max_candidates counted the entries judged before,
    so a sitemap's related article after 200 dead ones was never reached; and
    the dead ones, tried again each hour, took the budget before new ones."""
    from datetime import UTC, datetime, timedelta

    (raqib.home / "raqib.toml").write_text("[discovery]\nmax_candidates = 2\n", encoding="utf-8")
    paths = ["/dead/1", "/dead/2", "/dead/3", "/late/related"]

    def sitemap() -> Route:
        urlset = "".join(f"<url><loc>{server.base}{p}</loc></url>" for p in paths)
        return Route(
            '<?xml version="1.0" encoding="UTF-8"?><urlset '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urlset}</urlset>'.encode(),
            headers={"Content-Type": "application/xml"},
        )

    server.routes["/long.xml"] = sitemap()
    for p in paths[:3]:
        server.routes[p] = Route(b"gone", 404)
    for p in ("/late/related", "/later/related"):
        server.routes[p] = Route(
            _article("بغداد وواشنطن تبدآن محادثات انسحاب قوات التحالف", RELATED)
        )
    raqib("source", "add", server.base + "/long.xml", "--story", "talks", "--kind", "sitemap")
    first = raqib.proc("discover", "--json").json()
    gone = [c for c in first["candidates"] if "/dead/" in c["url"]]
    assert [c["decision"] for c in gone] == ["error", "error"], gone  # a 404 is tried again
    second = raqib.proc("discover", "--json").json()
    assert _added(second) == {server.base + "/late/related"}, second
    fetched = Counter(path for path, _headers in server.requests if path.startswith("/dead/"))
    assert fetched == {"/dead/1": 1, "/dead/2": 1, "/dead/3": 1}
    # Hours on, a new entry comes before the failures tried again.
    paths.append("/later/related")
    server.routes["/long.xml"] = sitemap()
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    third = raqib.proc("discover", "--json", env={"RAQIB_NOW": later}).json()
    assert _added(third) == {server.base + "/later/related"}, third
    retried = [c["url"] for c in third["candidates"] if c["decision"] == "error"]
    assert len(retried) == 1 and "/dead/" in retried[0]


def test_an_entry_that_says_too_little_is_fetched_before_it_is_judged(
    server, raqib: Raqib, seeded
) -> None:
    """A related-coverage hunt: an entry titled "عاجل" over an image, or "فيديو"
    with "شاهد التفاصيل", scored 0 on its words and was rejected unread, for good."""
    entries = "".join(
        f"<entry><title>{t}</title><id>urn:{i}</id><updated>2024-01-26T00:00:00Z</updated>"
        f'<summary type="html">{s}</summary><link href="{server.base}/teaser/{i}"/></entry>'
        for i, (t, s) in enumerate(
            [("عاجل", '&lt;img src="/a.jpg"&gt;'), ("فيديو", "شاهد التفاصيل")]
        )
    )
    server.routes["/teasers.xml"] = Route(
        ATOM.split("<entry>")[0].encode() + entries.encode() + b"</feed>",
        headers={"Content-Type": "application/atom+xml"},
    )
    for i in range(2):
        server.routes[f"/teaser/{i}"] = Route(
            _article("بغداد وواشنطن تبدآن محادثات انسحاب قوات التحالف", RELATED)
        )
    raqib("source", "add", server.base + "/teasers.xml", "--story", "talks", "--kind", "atom")
    report = raqib.proc("discover", "--json").json()
    assert _added(report) == {f"{server.base}/teaser/{i}" for i in range(2)}, report


def test_a_failed_candidate_is_tried_again_and_a_feeds_charset_is_its_headers(
    server, raqib: Raqib, seeded
) -> None:
    """A related article that answered 503 once was never fetched again; a
    feed in windows-1256 that says so only in its Content-Type was read as
    Latin-1, every entry rejected by its garbled title; a source's 404 was
    shown as "HttpError: Ignoring non-200 response"."""
    from datetime import UTC, datetime, timedelta

    feed = ATOM.replace('encoding="utf-8"', "").format(
        base=server.base, t1="بغداد وواشنطن تبدآن محادثات انسحاب قوات التحالف"
    )
    server.routes["/1256.xml"] = Route(
        feed.encode("cp1256"),
        headers={"Content-Type": "application/atom+xml; charset=windows-1256"},
    )
    server.routes["/atom/related"] = Route(b"busy", 503)
    server.routes["/gone.xml"] = Route(b"", 404)
    raqib("source", "add", server.base + "/1256.xml", "--story", "talks", "--kind", "atom")
    raqib("source", "add", server.base + "/gone.xml", "--story", "talks", "--kind", "rss")
    report = raqib.proc("discover", "--json").json()
    related = next(c for c in report["candidates"] if c["url"].endswith("/atom/related"))
    assert related["decision"] == "error" and "HTTP 503" in related["reason"]
    gone = next(s for s in report["sources"] if s["url"].endswith("/gone.xml"))
    assert gone["error"] == "HTTP 404"
    server.routes["/atom/related"] = Route(
        _article("بغداد وواشنطن تبدآن محادثات انسحاب قوات التحالف", RELATED)
    )
    soon = raqib.proc("discover", "--json").json()  # within the hour: left alone
    assert not any(c["url"].endswith("/atom/related") for c in soon["candidates"])
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    again = raqib.proc("discover", "--json", env={"RAQIB_NOW": later}).json()
    assert _added(again) == {server.base + "/atom/related"}


def test_an_outlets_article_put_in_a_story_is_its_seed(server, raqib: Raqib) -> None:
    """ "An outlet's article can also be a story's seed", as the README says:
    discovery said "no seed article with a stored version yet"."""
    server.routes["/o/seed"] = Route(render(VERSIONS[0], server.base))
    server.routes["/o.xml"] = Route(
        f"<rss><channel><item><link>{server.base}/o/seed</link></item></channel></rss>".encode(),
        headers={"Content-Type": "application/rss+xml"},
    )
    raqib("outlet", "add", "own", "--feed", server.base + "/o.xml")
    raqib.proc("check")
    raqib("watch", "--no-fetch", server.base + "/o/seed", "--story", "talks")
    _atom_source(server)
    raqib("source", "add", server.base + "/atom.xml", "--story", "talks", "--kind", "atom")
    report = raqib.proc("discover", "--json").json()
    assert not report["notes"] and _added(report) == {server.base + "/atom/related"}


def test_sitemap_index_follows_its_children(server, raqib: Raqib, seeded) -> None:
    server.routes["/sm/index.xml"] = Route(
        INDEX.format(base=server.base).encode(), headers={"Content-Type": "application/xml"}
    )
    server.routes["/sm/news-1.xml"] = Route(
        CHILD.format(base=server.base, path="/sm/a").encode(),
        headers={"Content-Type": "application/xml"},
    )
    server.routes["/sm/news-2.xml"] = Route(
        CHILD.format(base=server.base, path="/sm/b").encode(),
        headers={"Content-Type": "application/xml"},
    )
    server.routes["/sm/a"] = Route(_article("محادثات انسحاب قوات التحالف من العراق", RELATED))
    server.routes["/sm/b"] = Route(_article("الهلال يتأهل", SPORT))
    raqib("source", "add", server.base + "/sm/index.xml", "--story", "talks")
    report = raqib.proc("discover", "--json").json()
    assert _added(report) == {server.base + "/sm/a"}
    assert {s["kind"] for s in report["sources"]} == {"sitemapindex", "sitemap"}


def test_search_template_is_filled_with_the_story_terms(server, raqib: Raqib, seeded) -> None:
    rss = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>بحث</title>
<item><title>محادثات انسحاب قوات التحالف</title><link>{server.base}/found/1</link></item></channel></rss>"""
    server.routes["/search"] = Route(rss.encode(), headers={"Content-Type": "application/rss+xml"})
    server.routes["/found/1"] = Route(_article("محادثات انسحاب قوات التحالف من العراق", RELATED))
    raqib("source", "add", server.base + "/search?q={query}&hl=ar", "--story", "talks")
    assert raqib("source", "list", "--json").json()[0]["kind"] == "search"
    report = raqib.proc("discover", "--json").json()
    asked = [p for p, _ in server.requests if p.startswith("/search?")]
    assert len(asked) == 1
    query = unquote_plus(asked[0].split("q=", 1)[1].split("&", 1)[0]).split()
    assert len(query) >= 3 and "تحالف" in query
    assert _added(report) == {server.base + "/found/1"}
    # Refused with a clear line (a related-coverage hunt): a feed's kind given to a
    # template (it was stored with "q" for {query}), a story's empty slug (an
    # unexpected error for '', a blank story for '   ').
    bad = (
        (server.base + "/rss?q={query}", "--kind", "rss", "--story", "talks"),
        (server.base + "/rss.xml", "--story", ""),
        (server.base + "/rss.xml", "--story", "   "),
    )
    for args in bad:
        r = raqib("source", "add", *args, expect=2)
        assert "{query} is a search source's placeholder" in r.err or "non-empty slug" in r.err
    assert len(raqib("source", "list", "--json").json()) == 1


def _seed_page(server, more: str = "") -> str:
    """The seed article, linking inline to related coverage on another site
    and, in a "read also" line (and `more`), to an analysis on its own; both
    linked pages are served."""
    inline = '<p>وكانت <a href="/other-site/coalition">محادثات التحالف</a> قد بدأت في بغداد الأسبوع الماضي وسط ترقب إقليمي واسع.</p>'
    promo = '<p>اقرأ أيضاً: <a href="/same/talks-analysis">ماذا يعني انسحاب التحالف للعراق؟</a></p>'
    page = render(VERSIONS[0], server.base).decode()
    server.routes["/other-site/coalition"] = Route(
        _article("محادثات انسحاب قوات التحالف من العراق", RELATED)
    )
    server.routes["/same/talks-analysis"] = Route(
        _article("ماذا يعني انسحاب التحالف للعراق؟", RELATED[::-1])
    )
    return page.replace("</div>\n</article>", inline + promo + more + "</div>\n</article>", 1)


def test_links_inside_watched_articles(server, raqib: Raqib) -> None:
    base_page = _seed_page(server)
    page = base_page.replace(
        "<aside><h2>الأكثر قراءة</h2><ul>",
        '<aside><h2>الأكثر قراءة</h2><ul><li><a href="/outside/sport">الهلال يتأهل إلى نصف نهائي دوري أبطال آسيا</a></li>',
        1,
    )
    assert page != base_page
    server.routes["/seed"] = Route(page.encode())
    server.routes["/outside/sport"] = Route(_article("الهلال يتأهل", SPORT))
    raqib("watch", "--no-fetch", server.base + "/seed", "--story", "talks")
    raqib.proc("check")
    report = raqib.proc("discover", "--json").json()
    assert _added(report) == {
        server.base + "/other-site/coalition",
        server.base + "/same/talks-analysis",
    }
    assert all(c["found_via"] == f"link in {server.base}/seed" for c in report["candidates"])
    assert not any(p == "/outside/sport" for p, _ in server.requests)  # outside the article body
    # Found on a loopback page, they may be refetched on loopback ("link in URL" is their origin).
    server.requests.clear()
    raqib.proc("check", "--all")
    refetched = {p for p, _ in server.requests}
    assert {"/other-site/coalition", "/same/talks-analysis"} <= refetched
    assert all(w["last_outcome"] != "error" for w in raqib("watches", "--json").json())


def test_an_article_discovery_added_is_archived_whole_by_its_own_first_check(
    server, raqib: Raqib, seeded, tmp_path: Path
) -> None:
    """Discovery archives the candidates it fetches, and a watch's first check
    of the same page was written as a revisit of that record: one no export
    holds (exports hold a watch's own fetches), so the article could not be
    replayed from any export."""
    from warcio.archiveiterator import ArchiveIterator

    url = server.base + "/atom/related"
    _atom_source(server)
    raqib("source", "add", server.base + "/atom.xml", "--story", "talks", "--kind", "atom")
    assert url in _added(raqib.proc("discover", "--json").json())
    raqib.proc("check")
    out = tmp_path / "talks.warc.gz"
    raqib("export", "--format", "warc", "--story", "talks", "--out", str(out))
    with out.open("rb") as f:
        kinds = [
            r.rec_type
            for r in ArchiveIterator(f)
            if r.rec_headers.get_header("WARC-Target-URI") == url
        ]
    assert kinds == ["response", "request"], kinds


@pytest.mark.backends
def test_an_edit_between_discovery_and_the_first_check_is_caught(
    server, raqib: Raqib, seeded
) -> None:
    """A related-coverage hunt: the page discovery fetched was thrown away, so
    the watch's first check stored whatever the page said by then as version 1:
    a sentence added in between, with its figure, was never seen."""
    url = server.base + "/atom/related"
    _atom_source(server)
    raqib("source", "add", server.base + "/atom.xml", "--story", "talks", "--kind", "atom")
    out = raqib.proc("discover").out
    said = out.split("added   ", 1)[1].splitlines()
    assert f" {url} " in said[0] and said[1].endswith("its page as fetched here is version 1"), out
    title = "بغداد وواشنطن تبدآن محادثات انسحاب قوات التحالف"
    edited = [RELATED[0], RELATED[1] + " وقتل 12 شخصا في الهجمات.", RELATED[2]]
    server.routes["/atom/related"] = Route(_article(title, edited))
    raqib.proc("check", "--all")
    changes = raqib("changes", "--url", url, "--json").json()
    assert [(c["from_version"], c["to_version"]) for c in changes] == [(1, 2)], changes
    assert changes[0]["kind"] == "substantive" and changes[0]["silent"], changes[0]
    # The first check of a page discovery stored is no new version.
    raqib.proc("check", "--all")
    assert len(raqib("changes", "--url", url, "--json").json()) == 1


_BUGS = """
import raqib.app.discover as discover
import raqib.crawler.spiders.discover as spider
links, make_page, decide = discover.article_links, spider.make_page, discover.decide
def article_links(html, url, text):
    if url.endswith("/seed-broken"):
        raise ValueError("a link no one foresaw")
    return links(html, url, text)
def page(html, url):
    if url.endswith("/same/talks-analysis"):
        raise KeyError("a page no one foresaw")
    return make_page(html, url)
def judge(c, **kw):
    if c.url.endswith("/same/judge-trips"):
        raise IndexError("a judgement no one foresaw")
    return decide(c, **kw)
terms = discover.document
def document(title, text):
    if title == "محادثات التحالف في بغداد":
        raise UnicodeError("a text no one foresaw")
    return terms(title, text)
discover.article_links, spider.make_page, discover.decide = article_links, page, judge
discover.document = document
from raqib.cli import run
run()
"""


def test_one_seed_or_candidate_that_trips_discovery_costs_that_one_only(
    server, raqib: Raqib
) -> None:
    """A seed article whose links and text cannot be read, a candidate page
    whose analysis raises and one whose judgement raises: the run goes on,
    for the other seed and candidate, and the failed candidates are recorded
    as errors, judged before, not fetched on every run."""

    more = '<p>اقرأ أيضاً: <a href="/same/judge-trips">التحالف يبدأ الانسحاب من قواعده</a></p>'
    server.routes["/seed"] = Route(_seed_page(server, more).encode())
    server.routes["/seed-broken"] = Route(_article("محادثات التحالف في بغداد", RELATED))
    server.routes["/same/judge-trips"] = Route(
        _article("التحالف يبدأ الانسحاب من قواعده", RELATED[1:])
    )
    for path in ("/seed-broken", "/seed"):
        raqib("watch", "--no-fetch", server.base + path, "--story", "talks")
    raqib.proc("check")

    report, stderr = raqib.patched(_BUGS, "discover", "--json")
    assert _added(report) == {server.base + "/other-site/coalition"}
    found = {c["url"].rsplit("/", 1)[-1]: c for c in report["candidates"]}
    assert found["talks-analysis"]["decision"] == "error"
    assert "analysis failed: KeyError" in found["talks-analysis"]["reason"]
    assert found["judge-trips"]["decision"] == "error"
    assert "could not be judged: IndexError" in found["judge-trips"]["reason"]
    assert "candidate " + server.base + "/same/judge-trips could not be judged" in stderr
    assert "the links of " + server.base + "/seed-broken could not be read" in stderr
    # Once, by its address, though the seed is read as one of the corpus's texts too.
    assert stderr.count("could not be read: UnicodeError('a text no one foresaw')") == 1
    server.requests.clear()
    raqib.patched(_BUGS, "discover", "--json")
    fetched = {path for path, _headers in server.requests}
    assert "/same/judge-trips" not in fetched and "/same/talks-analysis" not in fetched


def test_a_candidate_left_unfetched_and_unjudged_is_an_error_not_a_rejection() -> None:
    """With fetch_candidates off, a feed entry whose title cannot be read is
    not fetched; recorded as rejected, it was never looked at again."""
    from raqib.app.discover import UNREADABLE_ENTRY
    from raqib.discovery.findings import CandidatePage
    from raqib.discovery.judge import decide

    page = CandidatePage(1, "https://s.example/a", "https://s.example/feed", 1, feed_title="t")
    page.skipped = UNREADABLE_ENTRY  # what crawl's want() says of it
    judged = decide(page, slug="s", model=None, threshold=0.2, known=set(), prefiltered=None)
    assert judged is not None and judged["decision"] == "error"
    assert judged["reason"] == page.skipped


def test_one_article_one_watch(server, raqib: Raqib, seeded) -> None:
    """Tracking parameters, AMP pages and canonical links all lead to one watch."""
    canonical = server.base + "/news/talks"
    rss = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>
<item><title>محادثات انسحاب قوات التحالف</title><link>{server.base}/news/talks?utm_source=rss&amp;utm_medium=feed</link></item>
<item><title>محادثات انسحاب قوات التحالف</title><link>{server.base}/news/talks?fbclid=abc123</link></item>
<item><title>محادثات انسحاب قوات التحالف</title><link>{server.base}/news/talks/amp</link></item>
</channel></rss>"""
    server.routes["/feed"] = Route(rss.encode(), headers={"Content-Type": "application/rss+xml"})
    server.routes["/news/talks"] = Route(
        _article("محادثات انسحاب قوات التحالف من العراق", RELATED, canonical=canonical)
    )
    server.routes["/news/talks/amp"] = Route(
        _article("محادثات انسحاب قوات التحالف من العراق", RELATED, canonical=canonical)
    )
    raqib("source", "add", server.base + "/feed", "--story", "talks")
    report = raqib.proc("discover", "--json").json()
    assert _added(report) == {canonical}
    discovered = [w for w in raqib("watches", "--json").json() if w["origin"] == "discovered"]
    assert [w["url"] for w in discovered] == [canonical]
    # The AMP address finds the same watch.
    raqib.proc("check")
    assert raqib("versions", server.base + "/news/talks/amp", "--json").json()


@pytest.mark.parametrize("fetching", [True, False], ids=["fetched", "judged-on-feed"])
def test_guard_refuses_private_targets_end_to_end(
    server, raqib: Raqib, seeded, fetching: bool
) -> None:
    """A loopback source may list loopback pages, never private or link-local ones.
    The refused addresses are IP literals, so no traffic leaves 127.0.0.1.
    With `fetch_candidates = false` a candidate is watched unfetched, on its
    feed entry alone: its network is checked all the same (it was not, and a
    public feed could have an intranet page watched and then fetched)."""
    if not fetching:
        config = raqib.home / "raqib.toml"
        old = config.read_text(encoding="utf-8") if config.exists() else ""
        config.write_text(old + "\n[discovery]\nfetch_candidates = false\n", encoding="utf-8")
    rss = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>
<item><title>محادثات انسحاب قوات التحالف</title><link>http://10.255.255.1/coalition-talks</link></item>
<item><title>محادثات انسحاب قوات التحالف</title><link>http://169.254.169.254/latest/meta-data/</link></item>
<item><title>محادثات انسحاب قوات التحالف</title><link>http://[fd00::1]/talks</link></item>
<item><title>محادثات انسحاب قوات التحالف</title><link>{server.base}/ok</link></item>
<item><title>محادثات انسحاب قوات التحالف</title><link>{server.base}/redirect</link></item>
</channel></rss>"""
    server.routes["/feed"] = Route(rss.encode(), headers={"Content-Type": "application/rss+xml"})
    server.routes["/ok"] = Route(_article("محادثات انسحاب قوات التحالف من العراق", RELATED))
    # A loopback page that redirects to cloud metadata: the redirect is checked too.
    server.routes["/redirect"] = Route(
        b"", 302, {"Location": "http://169.254.169.254/latest/meta-data/iam"}
    )
    raqib("source", "add", server.base + "/feed", "--story", "talks")
    report = raqib.proc("discover", "--json").json()
    decisions = {c["url"]: (c["decision"], c["reason"]) for c in report["candidates"]}
    assert decisions[server.base + "/ok"][0] == "added"
    refused = [
        ("http://10.255.255.1/coalition-talks", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fd00::1]/talks", "private"),
    ]
    if fetching:  # unfetched, its redirect is met by the refetch's own guard
        refused.append((server.base + "/redirect", "link-local"))
    for url, kind in refused:
        decision, reason = decisions[url]
        assert decision == "blocked" and kind in reason
    watched = {w["url"] for w in raqib("watches", "--json").json()}
    assert not any(url in watched for url, _kind in refused)
    again = raqib.proc("discover", "--json").json()  # judged once: not said again
    assert not {c["url"] for c in again["candidates"]} & {url for url, _kind in refused}


def test_a_watch_found_on_a_page_reaches_only_that_pages_network(server, raqib: Raqib) -> None:
    """A watch found on a page or feed is refetched within the network it was
    found from, not its own URL's: a public feed could once have an intranet
    page watched (before candidates were checked where they were listed), and
    each refetch would have reached the intranet. Here a public page "found"
    a loopback one; its refetch is refused, while one a loopback page found,
    and one watched by hand, are fetched."""
    from sqlalchemy import update

    from raqib.storage import models as m

    for name in ("found-public", "found-here", "by-hand"):
        server.routes[f"/{name}"] = Route(_article("محادثات انسحاب قوات التحالف", RELATED))
        raqib("watch", "--no-fetch", f"{server.base}/{name}")
    storage = raqib.open_storage()
    try:
        with storage.db.session() as s:
            for name, via in (
                ("found-public", "https://news.example/world"),
                ("found-here", f"{server.base}/feed"),
            ):
                s.execute(
                    update(m.Watch)
                    .where(m.Watch.url == f"{server.base}/{name}")
                    .values(origin="discovered", found_via=via)
                )
    finally:
        storage.close()
    raqib.proc("check", "--all", expect=None)
    fetched = {path for path, _ in server.requests}
    assert {"/found-here", "/by-hand"} <= fetched and "/found-public" not in fetched
    shown = {w["url"]: w for w in raqib("watches", "--json").json()}
    assert shown[f"{server.base}/found-public"]["versions"] == 0
    assert shown[f"{server.base}/found-here"]["versions"] == 1
    scheduled = {w["url"]: w for w in raqib("schedule", "--json").json()}
    why = scheduled[f"{server.base}/found-public"]["last_error"]["detail"]
    assert "outside the public network" in why, why


# --- the guard's rule (no traffic) ---------------------------------------------------------

FAKE_DNS = {
    "news.example": ["93.184.216.34"],
    "intranet.example": ["10.1.2.3"],
    "sneaky.example": ["93.184.216.35", "192.168.0.10"],
    "metadata.example": ["169.254.169.254"],
    "v6.example": ["2606:2800:220:1:248:1893:25c8:1946"],
    "mapped.example": ["::ffff:10.0.0.1"],
    "wiki.newsroom.internal": ["10.9.9.8"],
    "localhost": ["127.0.0.1"],
}


@pytest.mark.parametrize(
    ("url", "origin", "found_via", "address", "fetched"),
    [
        # Found on a public page: an intranet page is refused, a public one fetched.
        (
            "http://10.0.0.5/admin",
            "discovered",
            "link in https://news.example/a",
            "10.0.0.5",
            False,
        ),
        ("http://wiki/x", "outlet", "https://news.example/feed", "10.9.9.8", False),
        (
            "https://news.example/b",
            "discovered",
            "https://news.example/feed",
            "93.184.216.34",
            True,
        ),
        # Found on an intranet (or loopback) page: its own network stays reachable…
        ("http://wiki/y", "discovered", "link in http://wiki/x", "10.9.9.8", True),
        ("http://127.0.0.1:8080/b", "outlet", "http://127.0.0.1:8080/rss", "127.0.0.1", True),
        # …but a public article found there gets no more than the public internet.
        ("https://public.example/a", "outlet", "http://localhost:8080/rss", "127.0.0.1", False),
        ("https://public.example/a", "discovered", "link in http://wiki/x", "10.1.2.3", False),
        # Watched by hand: its own URL, wherever it was first seen.
        ("http://wiki/z", "manual", "https://news.example/feed", "10.9.9.8", True),
    ],
)
def test_a_watch_found_elsewhere_reaches_no_wider_than_its_own_url_or_where_found(
    url: str, origin: str, found_via: str, address: str, fetched: bool
) -> None:
    from datetime import UTC, datetime

    from raqib.domain import Task
    from raqib.guard import origin_of

    now = datetime.now(UTC)
    task = Task(1, url, None, None, None, None, "active", 1, 0, now, None, 0, 0, origin=origin,
                found_via=found_via)  # fmt: skip
    refused = Guard().refuse(url, [address], origin=origin_of(task))
    assert (refused is None) == fetched, refused


def _addresses(url: str) -> list[str]:
    host = urlsplit(url).hostname or ""
    return [literal(host)] if literal(host) else FAKE_DNS.get(host, [])


@pytest.mark.parametrize(
    ("url", "origin", "allowed"),
    [
        ("https://news.example/a", "https://news.example/feed", True),
        ("https://v6.example/a", "https://news.example/feed", True),
        ("https://intranet.example/a", "https://news.example/feed", False),
        ("https://sneaky.example/a", "https://news.example/feed", False),  # one private is enough
        ("https://metadata.example/latest", "https://news.example/feed", False),
        ("https://mapped.example/a", "https://news.example/feed", False),
        ("http://127.0.0.1:8080/a", "https://news.example/feed", False),
        ("http://localhost/a", "https://news.example/feed", False),
        ("http://[::1]/a", "https://news.example/feed", False),
        ("https://unknown.example/a", "https://news.example/feed", False),
        # An origin on a private network may stay there, never go link-local.
        ("https://intranet.example/a", "https://wiki.newsroom.internal/feed", True),
        ("https://intranet.example/a", "http://10.0.0.7/feed", True),
        ("https://metadata.example/latest", "https://wiki.newsroom.internal/feed", False),
        # Not even from a link-local origin: a list from elsewhere could name the metadata service.
        ("http://169.254.169.254/latest/meta-data/", "http://169.254.169.254/latest/", False),
        # A public name is public whatever it resolves to: no rebinding into the intranet.
        ("https://wiki.newsroom.internal/a", "https://intranet.example/feed", False),
        ("http://localhost/a", "http://127.0.0.1:9/x", True),
        ("ftp://news.example/a", "https://news.example/feed", False),
        ("https://intranet.example/a", None, False),  # no origin: public only
    ],
)
def test_guard_rule(url: str, origin: str | None, allowed: bool) -> None:
    assert (Guard().refuse(url, _addresses(url), origin=origin) is None) is allowed


def test_the_origin_network_is_read_from_the_url_as_written() -> None:
    assert network_of("https://news.example/") == "public"
    assert network_of("http://10.1.2.3/") == "private"
    assert network_of("http://[fd00::1]:8080/") == "private"
    assert network_of("http://localhost:8000/") == network_of("http://127.0.0.2/") == "loopback"
    assert network_of("http://intranet/") == network_of("http://cms.newsroom.lan/") == "private"
    assert network_of("http://169.254.169.254/") == "link-local"


def test_guard_can_be_opened_by_config() -> None:
    url = "https://intranet.example/a"
    assert Guard(allow_private=True).refuse(url, _addresses(url), origin=None) is None
    for url in ("http://127.0.0.1:8080/a", "http://localhost/a", "http://10.0.0.7/a"):
        assert Guard(allow_private=True).refuse(url, _addresses(url), origin=None) is None
    # Never link-local nor a metadata service (a related-coverage hunt: a feed's item
    # reached 169.254.169.254 under allow_private, and its answer was archived).
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "https://metadata.example/latest",
        "http://[::ffff:a9fe:a9fe]/latest",
        "http://100.100.100.200/latest",
        "http://[fd00:ec2::254]/latest",
        "http://[fd20:ce::254]/computeMetadata/v1/",
        "http://[fd00:c1::a9fe:a9fe]/opc/v2/",
    ):
        why = Guard(allow_private=True).refuse(url, _addresses(url), origin=url)
        assert why is not None and "no fetch reaches link-local" in why, (url, why)


def test_address_categories() -> None:
    assert category("8.8.8.8") == "public"
    assert category("10.0.0.1") == category("172.16.0.1") == category("192.168.1.1") == "private"
    assert category("127.0.0.1") == category("::1") == "loopback"
    assert category("169.254.169.254") == category("fe80::1") == "link-local"
    # Both reach this host: what a redirect from an intranet watch must not.
    assert category("0.0.0.0") == category("::") == "loopback"
    # Not global, not private: documentation, benchmarking, carrier NAT, future use.
    for reserved in ("198.51.100.1", "203.0.113.9", "192.0.2.1", "198.18.0.1", "240.0.0.1",
                     "100.64.0.1", "0.1.2.3"):  # fmt: skip
        assert category(reserved) == "reserved", reserved
    # IPv6 addresses that carry an IPv4 one are what they carry.
    for carried, what in (("::ffff:10.0.0.1", "private"), ("64:ff9b::a00:1", "private"),
                          ("64:ff9b::7f00:1", "loopback"), ("2002:a00:1::", "private"),
                          ("2002:a9fe:a9fe::", "link-local"), ("::10.0.0.1", "private"),
                          ("64:ff9b::808:808", "public"), ("fec0::1", "private"),
                          ("::ffff:0:a00:1", "private")):  # fmt: skip
        assert category(carried) == what, carried
    # Cloud metadata services outside 169.254/16 count as link-local: never reached.
    assert category("fd00:ec2::254") == category("100.100.100.200") == "link-local"


# --- pure pieces ---------------------------------------------------------------------------


def test_terms_fold_spelling_and_clitics() -> None:
    assert terms("والعراق") == terms("العراق") == terms("بالعراق") == ["عراق"]
    assert terms("التحالف الدولي") == terms("التَّحالُف الدَّولي")
    assert "في" not in terms("في العراق")
    # A stopword behind its conjunction is a stopword: two texts that shared
    # only these scored as related (0.351, past the 0.18 threshold).
    assert terms("وخلال وبعد وعلى وإلى وأن ولكن فإن") == []


def test_hard_negatives_score_low() -> None:
    seed = "اتفقت الولايات المتحدة والعراق على بدء محادثات حول مستقبل التحالف العسكري وانسحاب القوات الأمريكية من العراق"
    others = {
        "same country": "أعلنت وزارة الموارد المائية العراقية أن بغداد ستستضيف قمة إقليمية لبحث أزمة المياه في العراق",
        "talks, other parties": "تواصلت في القاهرة المحادثات غير المباشرة بشأن وقف إطلاق النار في غزة وتبادل الأسرى",
        "same city, sport": "فاز نادي الشرطة العراقي في بغداد على ضيفه في الدوري العراقي لكرة القدم",
        "related": "بغداد وواشنطن تبدآن محادثات لتحديد موعد انسحاب قوات التحالف الدولي من العراق",
    }
    corpus = Corpus([document(None, seed), *(document(None, t) for t in others.values())])
    model = StoryModel(corpus, [("seed", document(None, seed))])
    scores = {k: model.judge(document(None, v)).score for k, v in others.items()}
    assert scores["related"] > 2 * max(v for k, v in scores.items() if k != "related")


def test_feed_parsers_are_bounded_and_safe() -> None:
    evil = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://a.example/&e;</loc></url></urlset>"""
    parsed = feeds.parse(evil, "http://a.example/sitemap.xml")
    assert all("root:" not in e.url for e in parsed.entries)
    garbage = feeds.parse(b"\x00\x01 not a feed", "http://a.example/x")
    assert garbage.kind == "unknown" and garbage.error


def test_a_feed_of_more_markup_than_any_real_feed_is_refused_unparsed() -> None:
    """feedparser's time grows with the tags, escaped ones too, on the crawl's
    own thread: a stranger's 8 MB feed of nested tags held a pass for 153 s.
    A real feed of 1,000 entries with HTML summaries is read whole."""
    items = "".join(
        f"<item><title>خبر {i}</title><link>http://a.example/{i}</link>"
        f"<description>&lt;p&gt;فقرة {i}&lt;/p&gt;&lt;p&gt;أخرى&lt;/p&gt;</description></item>"
        for i in range(1000)
    )
    real = f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()
    parsed = feeds.parse(real, "http://a.example/feed")
    assert parsed.error is None and len(parsed.entries) == 1000
    noisy = b"Deprecated: a PHP notice on line 3\n" + real  # text before <?xml: still read
    assert len(feeds.parse(noisy, "http://a.example/feed").entries) == 1000
    n = feeds.MAX_FEED_TAGS
    # Tags as elements or escaped in the text however spelt, in an encoding
    # the bytes do not show them in, behind junk a strict parser stops at, or
    # packed into an entity the feed declares.
    dtd = '<!DOCTYPE rss [<!ENTITY e "' + "<é>x</é>" * 1000 + '">]>'
    for inner, encoding, before in (
        ("<x/>" * n, "utf-8", ""),
        ("&lt;b&gt;" * n, "utf-8", ""),
        ("&#x3c;b&#x3e;" * n, "utf-8", ""),
        ("&#60;b>" * n, "utf-16", ""),
        ("<x/>" * n, "cp037", ""),  # EBCDIC, which feedparser decodes
        ("<x/>" * n, "utf-8", "<br />Deprecated: a PHP notice<br />"),
        ("&e;" * 60, "utf-8", dtd),
    ):
        hostile = (
            f'{before}<?xml version="1.0" encoding="{encoding}"?>'
            f'{dtd if before == dtd else ""}<rss version="2.0"><channel><item>'
            f"<title>t</title><link>http://a.example/1</link><description>{inner}"
            "</description></item></channel></rss>"
        ).encode(encoding)
        if before == dtd:
            hostile = hostile.replace(dtd.encode(), b"", 1)  # the DOCTYPE after the declaration
        parsed = feeds.parse(hostile, "http://a.example/feed")  # refused by its count, unparsed
        assert parsed.error is not None and "feed too large to read" in parsed.error, inner[:9]
        assert not parsed.entries


def test_a_feed_body_that_names_a_file_is_not_that_file(tmp_path: Path) -> None:
    """feedparser opens a string naming a file as the file: a stranger's body
    of "/etc/passwd" or "/dev/zero" (unbounded) must be read as a body."""
    local = tmp_path / "feed.xml"
    local.write_text(
        '<rss version="2.0"><channel><item><link>http://a.example/local-only</link></item>'
        "</channel></rss>",
        encoding="utf-8",
    )
    for body in (str(local).encode(), b"/dev/zero", b"file://" + str(local).encode()):
        parsed = feeds.parse(body, "http://a.example/feed.xml")
        assert parsed.entries == [] and parsed.kind == "unknown", body


def test_a_candidates_canonical_link_into_another_network_is_not_its_address() -> None:
    """A canonical link counts on the page's own site, up to a leading www.:
    a public page on www.wiki naming the intranet's single-label "wiki" as
    canonical was watched there, and its refetches may reach its own network."""
    from types import SimpleNamespace

    from raqib.discovery.findings import CandidatePage
    from raqib.discovery.judge import decide

    page = "http://www.wiki/story-1"
    c = CandidatePage(1, page, "https://feeds.example.org/rss", 7, feed_title="t")
    c.final_url, c.title, c.text = page, "t", "x"
    c.canonical_url = "http://wiki/admin/secret"
    related = SimpleNamespace(judge=lambda d: SimpleNamespace(score=1.0, terms=[], against=None))
    r = decide(c, slug="s", model=related, threshold=0.5, known=set(), prefiltered=None)
    assert (r["decision"], r["url"]) == ("added", page)
    c.canonical_url = "http://www.wiki/story-1?from=rss-canonical"  # the same network: trusted
    r = decide(c, slug="s", model=related, threshold=0.5, known=set(), prefiltered=None)
    assert r["url"] == "http://www.wiki/story-1?from=rss-canonical"


def test_a_feed_in_utf8_is_read_so_whatever_its_header_says() -> None:
    """A related-coverage hunt: a UTF-8 feed served as windows-1256 was read as
    mojibake, every entry rejected by its garbled title; a feed in windows-1256
    that says so only in its header is still read as it says."""
    from raqib.discovery import feeds

    title = "بغداد وواشنطن تبدآن محادثات انسحاب قوات التحالف"
    feed = ATOM.replace('encoding="utf-8"', "").format(base="http://a.example", t1=title)
    header = "application/atom+xml; charset=windows-1256"
    for body in (feed.encode("utf-8"), feed.encode("cp1256")):
        parsed = feeds.parse(body, "http://a.example/feed", header)
        assert parsed.entries[0].title == title, parsed.entries[0].title


@pytest.mark.parametrize(
    ("layout", "is_list"),
    [
        # The hunt's section page: each teaser's headline opens its summary's line.
        ('<div class="t"><h2><a href="/story/{i}">{p60}</a></h2><p>{p}</p></div>', True),
        ('<div class="c"><a href="/story/{i}"><h3>{p60}</h3><p>{p}</p></a></div>', True),
        ('<div class="t"><h2><a href="/story/{i}">{h}</a></h2><p>{p}</p></div>', False),  # unseen
        # An article's own (reviews): a timeline, an explainer, a live page's posts.
        ('<ul><li><h3><a href="/story/{i}">{h}</a></h3><p>{p}</p></li></ul>', False),
        ('<section><h2><a href="/topics/{i}">{h}؟</a></h2><p>{p}</p><p>{p}</p></section>', False),
        ('<div class="post"><h3><a href="?post={i}">{h}</a></h3><p>{p}</p></div>', False),
    ],
)
def test_a_list_of_stories_is_told_by_its_headlines_in_its_text(layout: str, is_list: bool) -> None:
    """Five headings that are each one link to another page and start lines of
    the page's text; an article's own linked subheads do not (nor, unseen, a list
    whose headlines the extraction drops: the lesser error)."""
    from raqib.discovery.outlets import lists_stories
    from raqib.extract.page import make_page

    texts = [f"{i} " + RELATED[i % 3] for i in range(8)]
    items = "".join(
        layout.format(i=i, h=f"عنوان خبر سياسي عن العراق رقم {i}", p=p, p60=p[:60])
        for i, p in enumerate(texts)
    )
    html = f"<html><body><main><h1>أخبار العراق</h1>{items}</main></body></html>"
    page = make_page(html, "https://news.example/iraq")
    assert lists_stories(html, "https://news.example/iraq", page.snapshot.text) is is_list
