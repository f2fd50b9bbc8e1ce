"""robots.txt: asked once a pass, and its answer kept between passes for
`[fetch] robots_ttl` (crawler.robots), on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import PageServer, Route
from tests.conftest import Raqib

pytestmark = pytest.mark.backends  # the answers are rows of both schemas

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
TEXT = {"Content-Type": "text/plain"}


def _site(
    server: PageServer, raqib: Raqib, *, ttl: str = "1h", robots: Route, processes: int = 0
) -> None:
    """Three article pages, watched; robots.txt answered by `robots`."""
    raqib.home.mkdir(parents=True, exist_ok=True)
    (raqib.home / "raqib.toml").write_text(
        f'[fetch]\nautothrottle = false\nrobots_ttl = "{ttl}"\nprocesses = {processes}\n',
        encoding="utf-8",
    )
    server.routes["/robots.txt"] = robots
    for i in range(3):
        server.routes[f"/news/{i}"] = Route(render(VERSIONS[0], server.base))
    raqib("watch", "--no-fetch", *(f"{server.base}/news/{i}" for i in range(3)))


def _pass(server: PageServer, raqib: Raqib, minutes: int) -> tuple[int, set[str]]:
    """A pass `minutes` after T0: how often it asked for robots.txt, and which pages."""
    server.requests.clear()
    raqib.proc("check", "--all", env={"RAQIB_NOW": (T0 + timedelta(minutes=minutes)).isoformat()})
    paths = [p for p, _headers in server.requests]
    return paths.count("/robots.txt"), {p for p in paths if p != "/robots.txt"}


def test_an_answer_is_used_again_until_its_ttl_runs_out(server, raqib: Raqib) -> None:
    """The next pass within the TTL asks nothing and obeys the kept rules,
    even once the host has changed them; the first pass after the TTL asks
    again and obeys the new ones."""
    _site(server, raqib, robots=Route(b"User-agent: *\nDisallow: /news/2\n", headers=TEXT))
    assert _pass(server, raqib, 0) == (1, {"/news/0", "/news/1"})
    assert _pass(server, raqib, 30) == (0, {"/news/0", "/news/1"})
    server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /news/0\n", headers=TEXT)
    assert _pass(server, raqib, 59) == (0, {"/news/0", "/news/1"})  # kept: the old rules
    assert _pass(server, raqib, 61) == (1, {"/news/1", "/news/2"})
    assert _pass(server, raqib, 90) == (0, {"/news/1", "/news/2"})


def test_a_robots_txt_past_500_kib_is_read_to_there_and_kept(server, raqib: Raqib) -> None:
    """RFC 9309 asks a crawler to read the first 500 KiB. Parsed whole, a
    stranger's 8 MB of wildcard rules cost seconds each pass (never kept, so
    parsed again every pass) and time on every request. Its rules up to the
    cut are obeyed, the rest not read, and the cut answer is kept."""
    from raqib.crawler.robots import MAX_BODY

    filler = b"".join(b"Disallow: /nowhere-%d/*x*y*z\n" % i for i in range(40_000))
    assert len(filler) > 2 * MAX_BODY
    body = b"User-agent: *\nDisallow: /news/2\n" + filler + b"Disallow: /news/0\n"
    _site(server, raqib, robots=Route(body, headers=TEXT))
    assert _pass(server, raqib, 0) == (1, {"/news/0", "/news/1"})  # the last rule is past the cut
    raqib.env["RAQIB_NOW"] = (T0 + timedelta(minutes=1)).isoformat()
    [kept] = raqib("robots", "list", "--json").json()
    assert kept["bytes"] <= MAX_BODY and kept["fresh"] is True
    assert raqib("robots", "show", server.base).out.endswith("*x*y*z\n")  # cut at a line's end
    del raqib.env["RAQIB_NOW"]
    assert _pass(server, raqib, 30) == (0, {"/news/0", "/news/1"})


def test_a_forgotten_answer_is_asked_again_at_the_next_pass(server, raqib: Raqib) -> None:
    """A site that has just opened its pages need not wait out the TTL."""
    rules = b"User-agent: *\nDisallow: /news/2\n"
    _site(server, raqib, robots=Route(rules, headers=TEXT))
    assert _pass(server, raqib, 0) == (1, {"/news/0", "/news/1"})
    origin = server.base.lower()
    raqib.env["RAQIB_NOW"] = (T0 + timedelta(minutes=30)).isoformat()
    [kept] = raqib("robots", "list", "--json").json()
    assert kept["origin"] == origin and kept["fresh"] is True
    assert kept["bytes"] == len(rules)
    assert kept["used_until"] == (T0 + timedelta(hours=1)).isoformat()
    assert raqib("robots", "show", server.base + "/news/0").out == rules.decode()
    server.routes["/robots.txt"] = Route(
        "User-agent: *\x1b[2J\nAllow: /\u202e\n".encode(), headers=TEXT
    )
    host = origin.partition("://")[2]
    assert (
        raqib("robots", "forget", "other.example").out.strip() == "nothing kept for other.example"
    )
    assert _pass(server, raqib, 30)[0] == 0  # still kept
    assert raqib("robots", "forget", host).out.strip() == f"forgot {origin}"
    assert raqib("robots", "list", "--json").json() == []
    assert _pass(server, raqib, 31) == (1, {"/news/0", "/news/1", "/news/2"})  # the new rules
    # A stranger's bytes reach the terminal without escape sequences or bidi controls.
    assert raqib("robots", "show", host).out.splitlines() == ["User-agent: * [2J", "Allow: / "]
    # Past its TTL an answer is listed as expired; unnamed, nothing is forgotten.
    raqib.env["RAQIB_NOW"] = (T0 + timedelta(hours=3)).isoformat()
    [expired] = raqib("robots", "list", "--json").json()
    assert expired["fresh"] is False
    assert "expired: the next pass asks again" in raqib("robots", "list").out
    refused = raqib("robots", "forget", expect=2)
    assert refused.code == 2 and "--all" in refused.err
    assert raqib("robots", "forget", "--all").out.strip() == f"forgot {origin}"
    missing = raqib("robots", "show", host, expect=4)
    assert missing.code == 4 and f"no robots.txt answer is kept for {host}" in missing.err


def test_hosts_are_named_as_a_watched_url_names_them(raqib: Raqib) -> None:
    """An Arabic host name as typed, a default port written out, a bare host
    on another port: each finds what a pass kept for it."""
    raqib.home.mkdir(parents=True, exist_ok=True)
    storage = raqib.open_storage()
    try:
        kept = {"https://xn--mgbh0fb.com": (b"Disallow: /a\n", T0),
                "http://host.test:8080": (b"Disallow: /b\n", T0),
                "https://example.com": (b"Disallow: /c\n", T0)}  # fmt: skip
        storage.robots.put(kept, older_than=T0 - timedelta(days=1))
    finally:
        storage.close()
    raqib.env["RAQIB_NOW"] = T0.isoformat()
    assert raqib("robots", "show", "https://مثال.com/news").out == "Disallow: /a\n"
    assert raqib("robots", "show", "مثال.com").out == "Disallow: /a\n"
    assert raqib("robots", "show", "https://EXAMPLE.com:443/x").out == "Disallow: /c\n"
    assert raqib("robots", "show", "http://example.com/", expect=4).code == 4  # another scheme
    bad = raqib("robots", "show", "http://[::1", expect=2)
    assert "not a host or a web address" in bad.err
    assert raqib("robots", "forget", "host.test").out.strip() == "forgot http://host.test:8080"
    assert [r["origin"] for r in raqib("robots", "list", "--json").json()] == [
        "https://example.com",
        "https://xn--mgbh0fb.com",
    ]


def test_a_struggling_host_is_asked_again_and_a_missing_file_is_kept(server, raqib: Raqib) -> None:
    """A 5xx says nothing about the rules: the next pass asks again, and
    meanwhile nothing is fetched from the host (RFC 9309 §2.3.1.4: complete
    disallow; every page was fetched). A 404 means "no rules", and that answer
    is kept like any other."""
    _site(server, raqib, robots=Route(b"busy", status=503, headers=TEXT))
    assert _pass(server, raqib, 0) == (1, set())
    assert _pass(server, raqib, 1) == (1, set())
    log = raqib("log", f"{server.base}/news/0", "--json").json()
    assert log[-1]["detail"].startswith("robots.txt could not be read (HTTP 503): nothing is")
    server.routes["/robots.txt"] = Route(b"not here", status=404, headers=TEXT)
    assert _pass(server, raqib, 2) == (1, {"/news/0", "/news/1", "/news/2"})
    assert _pass(server, raqib, 3) == (0, {"/news/0", "/news/1", "/news/2"})


def test_a_robots_txt_that_cannot_be_downloaded_allows_nothing(server, raqib: Raqib) -> None:
    """A robots.txt past the download limit, or too slow to arrive, allowed
    every page of a host whose rules said "Disallow: /": nothing is fetched
    there, and the fetch log says why."""
    big = b"User-agent: *\nDisallow: /\n" + b"#" * (2 * 1024 * 1024)
    _site(server, raqib, robots=Route(big, headers=TEXT))
    with (raqib.home / "raqib.toml").open("a", encoding="utf-8") as f:
        f.write("max_size_mb = 1\n")
    assert _pass(server, raqib, 0) == (1, set())
    detail = raqib("log", f"{server.base}/news/0", "--json").json()[-1]["detail"]
    assert detail.startswith("robots.txt could not be read (") and "size" in detail, detail
    # Too slow to arrive: the download timeout ends it, and nothing is fetched either.
    server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /\n", headers=TEXT, delay=5)
    with (raqib.home / "raqib.toml").open("a", encoding="utf-8") as f:
        f.write("timeout = 1\n")
    assert _pass(server, raqib, 1) == (1, set())
    detail = raqib("log", f"{server.base}/news/0", "--json").json()[-1]["detail"]
    assert detail.startswith("robots.txt could not be read (") and "Timeout" in detail, detail


def test_crawler_processes_keep_and_use_the_answers(server, raqib: Raqib) -> None:
    """A pass split across crawler processes: each process asks once, keeps
    the answer, and the next split pass asks nothing and obeys it."""
    _site(
        server, raqib, processes=2,
        robots=Route(b"User-agent: *\nDisallow: /news/2\n", headers=TEXT),
    )  # fmt: skip
    asked, pages = _pass(server, raqib, 0)
    assert 1 <= asked <= 2 and pages == {"/news/0", "/news/1"}
    assert _pass(server, raqib, 30) == (0, {"/news/0", "/news/1"})


def test_a_ttl_of_zero_asks_every_pass(server, raqib: Raqib) -> None:
    _site(server, raqib, ttl="0", robots=Route(b"User-agent: *\nDisallow: /news/2\n", headers=TEXT))
    assert _pass(server, raqib, 0) == (1, {"/news/0", "/news/1"})
    assert _pass(server, raqib, 1) == (1, {"/news/0", "/news/1"})


def test_the_feed_read_and_the_articles_of_a_pass_share_one_answer(server, raqib: Raqib) -> None:
    """The feed read and the article crawl of one pass ask the host once
    (and nothing else goes to the host until the answer came)."""
    items = "".join(
        f"<item><title>a{i}</title><link>{server.base}/news/{i}</link></item>" for i in range(3)
    )
    rss = f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'
    server.routes["/feed.xml"] = Route(
        rss.encode(), headers={"Content-Type": "application/rss+xml"}
    )
    server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /news/2\n", headers=TEXT)
    for i in range(3):
        server.routes[f"/news/{i}"] = Route(render(VERSIONS[0], server.base))
    raqib.home.mkdir(parents=True, exist_ok=True)  # nothing kept: the pass's crawls share parsers
    (raqib.home / "raqib.toml").write_text('[fetch]\nrobots_ttl = "0"\n', encoding="utf-8")
    raqib("outlet", "add", "one-host", "--feed", server.base + "/feed.xml")
    raqib.proc("check")
    paths = [p for p, _headers in server.requests]
    assert paths[0] == "/robots.txt"
    assert sorted(paths) == ["/feed.xml", "/news/0", "/news/1", "/robots.txt"]


def test_a_ttl_over_a_day_is_refused(raqib: Raqib) -> None:
    raqib.home.mkdir(parents=True, exist_ok=True)
    (raqib.home / "raqib.toml").write_text('[fetch]\nrobots_ttl = "2d"\n', encoding="utf-8")
    err = raqib("watches", expect=None).err
    assert "fetch.robots_ttl" in err and "24h" in err


def test_the_store_keeps_the_newest_answer_and_forgets_old_ones(raqib: Raqib) -> None:
    raqib.home.mkdir(parents=True, exist_ok=True)
    storage = raqib.open_storage()
    try:
        repo, hour = storage.robots, timedelta(hours=1)
        repo.put({"https://a": (b"old", T0), "https://b": (b"b", T0)}, older_than=T0 - hour)
        repo.put({"https://a": (b"new", T0 + hour)}, older_than=T0 - hour)
        repo.put({"https://a": (b"late", T0)}, older_than=T0 - hour)  # another worker, behind
        assert repo.fresh(since=T0, until=T0 + hour) == {
            "https://a": (b"new", T0 + hour),
            "https://b": (b"b", T0),
        }
        assert repo.fresh(since=T0 - hour, until=T0) == {"https://b": (b"b", T0)}  # a is ahead
        repo.put({"https://c": (b"c", T0 + 2 * hour)}, older_than=T0 + hour)  # b is too old
        assert set(repo.fresh(since=T0 - hour, until=T0 + 3 * hour)) == {"https://a", "https://c"}
    finally:
        storage.close()


class _Repo:
    """A store that keeps what it is given, or fails when told to."""

    def __init__(self, fail: bool = False) -> None:
        self.kept: dict[str, tuple[bytes, datetime]] = {}
        self.fail = fail

    def fresh(self, *, since: datetime, until: datetime) -> dict[str, tuple[bytes, datetime]]:
        if self.fail:
            raise OSError("database gone")
        return {o: (b, at) for o, (b, at) in self.kept.items() if since <= at <= until}

    def put(self, answers: dict[str, tuple[bytes, datetime]], *, older_than: datetime) -> None:
        if self.fail:
            raise OSError("database gone")
        self.kept.update(answers)


def test_what_is_kept_and_a_failing_store_costs_only_a_request(caplog) -> None:
    from raqib.crawler.robots import MAX_BODY, RobotsMemory, origin

    repo, hour = _Repo(), timedelta(hours=1)
    now = [T0]
    memory = RobotsMemory.load(repo, lambda: now[0], hour)
    rules = b"User-agent: *\nDisallow: /x\n"
    for status, host in ((200, "a"), (404, "b"), (500, "c"), (503, "d"), (429, "e")):
        memory.learn(f"https://{host}", status, rules)
    memory.learn("https://big", 200, b"#" * (MAX_BODY + 1))
    memory.learn("https://" + "h" * 300, 200, rules)
    memory.save()
    assert sorted(repo.kept) == ["https://a", "https://b"]
    assert memory.recall("https://a") is None  # read when a pass starts, not during it
    again = RobotsMemory.load(repo, lambda: now[0], hour)
    assert again.recall("https://a") == rules
    now[0] = T0 + 2 * hour
    assert again.recall("https://a") is None  # expired while the pass ran
    assert RobotsMemory.load(repo, lambda: now[0], hour).recall("https://a") is None
    assert RobotsMemory.load(repo, lambda: T0, timedelta(0)).recall("https://a") is None
    assert origin("HTTPS", "user:secret@Example.org:8443") == "https://example.org:8443"

    broken = RobotsMemory.load(_Repo(fail=True), lambda: T0, hour)  # logged, not raised
    assert broken.recall("https://a") is None  # ask the host instead
    broken.learn("https://a", 200, b"")
    broken.save()  # logged, not raised: the next pass asks again
    assert "could not be read" in caplog.text and "could not be kept" in caplog.text
