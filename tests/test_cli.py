"""The CLI contract: help on every command, bad input, JSON on stdout only,
conditional requests, redirects remembered, the demo."""

from __future__ import annotations

import json

import click
import pytest

from raqib import cli
from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import Route
from tests.conftest import Raqib, importing_run


def _command(path: tuple[str, ...]) -> click.Command:
    cmd: click.Command = cli.main
    ctx = click.Context(cli.main)
    for part in path:
        assert isinstance(cmd, click.Group)
        found = cmd.get_command(ctx, part)
        assert found is not None, path
        cmd = found
    return cmd


def _commands(prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    group = _command(prefix)
    assert isinstance(group, click.Group)
    out = []
    for name in group.list_commands(click.Context(group)):
        out.append((*prefix, name))
        if isinstance(_command((*prefix, name)), click.Group):
            out.extend(_commands((*prefix, name)))
    return out


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_has_help(raqib: Raqib, command: tuple[str, ...]) -> None:
    r = raqib(*command, "--help")
    assert "Usage:" in r.out
    cmd = _command(command)
    assert cmd.help and len(cmd.help.strip()) > 40, f"{command} needs a docstring that teaches"


def test_top_level_help_lists_the_contract(raqib: Raqib) -> None:
    out = raqib("--help").out
    for name in (
        "watch",
        "check",
        "versions",
        "changes",
        "log",
        "diff",
        "watches",
        "demo",
        "config",
    ):
        assert name in out


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "has no scheme"),
        ("ftp://example.com/a", "unsupported scheme"),
        ("javascript:alert(1)", "unsupported scheme"),
        ("/etc/passwd", "file path"),
        ("https://user:secret@example.com/a", "credentials"),
        ("https://example.com/" + "a" * 10_000, "limit is 2048"),
        ("http://", "no host"),
    ],
)
def test_watch_refuses_bad_urls(raqib: Raqib, url: str, message: str) -> None:
    r = raqib("watch", "--no-fetch", url, expect=2)
    assert message in r.err
    assert "secret" not in r.err and "secret" not in r.out
    assert len(r.err.strip().splitlines()) == 1
    # nothing stored (the home may not even hold a database)
    if (raqib.home / "raqib.db").exists():
        assert raqib("watches", "--json").json() == []


def test_watch_is_idempotent_and_normalises(raqib: Raqib) -> None:
    r1 = raqib(
        "watch", "--no-fetch", "https://Example.COM:443/news/a?utm_source=x&id=3#top", "--json"
    ).json()
    r2 = raqib("watch", "--no-fetch", "https://example.com/news/a?id=3", "--json").json()
    assert r1[0]["url"] == "https://example.com/news/a?id=3" and r1[0]["created"]
    assert r2[0]["url"] == r1[0]["url"] and not r2[0]["created"]


def test_watch_accepts_idn_and_stdin(raqib: Raqib) -> None:
    lines = "https://خبر.com/مقال\n# comment\nnot a url\n\nhttps://b.example/x\n"
    refused = raqib("watch", "--no-fetch", "-", "--strict", input=lines, expect=2)
    assert "line 3" in refused.err and raqib("watches", "--json").json() == []
    r = raqib("watch", "--no-fetch", "-", "--json", input=lines)
    data = r.json()
    assert data["schema"] == "raqib.import/1" and (data["created"], data["existing"]) == (2, 0)
    assert [i["line"] for i in data["invalid"]] == [3] and "line 3: not imported" in r.err
    urls = [w["url"] for w in raqib("watches", "--json").json()]
    assert urls[0].startswith("https://xn--") and urls[1] == "https://b.example/x"
    again = raqib("watch", "--no-fetch", "-", input=lines)
    assert "watching 0 new URLs, 2 already watched; 1 lines" in again.out


def test_a_new_watch_not_found_says_so_and_how_to_drop_it(server, raqib: Raqib) -> None:
    """A mistyped address answered 404 on its first fetch read "removed", a
    page Raqib never saw; it says "not found", and how to unwatch it."""
    url = server.base + "/news/typo"
    out = raqib("watch", url).out
    assert "not found (HTTP 404): watched all the same" in out and f"raqib unwatch {url}" in out
    assert "unwatch" not in raqib("watch", url).out  # already watched: the log's own word


def test_unknown_watch_exit_code(raqib: Raqib) -> None:
    raqib("watch", "--no-fetch", "https://a.example/x")
    r = raqib("versions", "https://a.example/other", "--json", expect=4)
    assert r.out == "" and "no watch" in r.err


def test_conditional_requests_and_304(server, raqib: Raqib) -> None:
    path = "/news/1"
    server.routes[path] = Route(
        render(VERSIONS[0], server.base), etag='"v1"', last_modified="Thu, 25 Jan 2024 15:00:00 GMT"
    )
    url = server.base + path
    raqib("watch", "--no-fetch", url)
    assert raqib("log", url).out.splitlines()[1] == (
        "  no fetch yet here (imported from an export, or not checked yet)"
    )
    raqib.proc("check", "--all")
    raqib.proc("check", "--all")
    log = raqib("log", url, "--json").json()
    assert [e["outcome"] for e in log] == ["new_version", "not_modified"]
    assert log[1]["status"] == 304
    sent = [h for p, h in server.requests if p == path]
    assert "If-None-Match" not in sent[0]
    assert (
        sent[1]["If-None-Match"] == '"v1"'
        and sent[1]["If-Modified-Since"] == "Thu, 25 Jan 2024 15:00:00 GMT"
    )
    assert all("Raqib" in h["User-Agent"] for _, h in server.requests)
    # Scrapy's HTTP cache would have answered without asking: both fetches reached the server.
    assert len(sent) == 2


def test_check_says_where_its_cpu_went_when_asked(server, raqib: Raqib) -> None:
    server.routes["/news/1"] = Route(render(VERSIONS[0], server.base))
    raqib("watch", "--no-fetch", server.base + "/news/1")
    for asked in (["check", "--all", "--cpu"], ["-v", "check", "--all"]):
        out = raqib.proc(*asked).out.splitlines()
        assert out[-1].startswith("CPU: "), out
        assert "s in this process; analysis " in out[-1] and "s, fetching " in out[-1], out
    assert "CPU:" not in raqib.proc("check", "--all").out  # the summary line alone
    quiet = raqib.proc("check", "--all", "-q", "--cpu").out.splitlines()
    assert len(quiet) == 1 and quiet[0].startswith("CPU: "), quiet  # asked for, even with -q
    assert raqib.proc("check", "--all", "-q").out == ""


def test_redirected_url_still_finds_its_watch(server, raqib: Raqib) -> None:
    server.routes["/old-slug"] = Route(b"", 301, {"Location": "/new-slug"})
    server.routes["/new-slug"] = Route(render(VERSIONS[0], server.base))
    raqib("watch", "--no-fetch", server.base + "/old-slug")
    raqib.proc("check", "--all")
    by_new = raqib("versions", server.base + "/new-slug", "--json").json()
    by_old = raqib("versions", server.base + "/old-slug", "--json").json()
    assert len(by_new) == 1 and by_new == by_old
    assert by_new[0]["url"] == server.base + "/new-slug"


def test_a_redirect_to_another_story_does_not_make_it_this_watchs(server, raqib: Raqib) -> None:
    """A story taken down with a redirect to a newer one on the same site made
    the newer one an alias: "already watching" it, under the old address."""
    first = render(VERSIONS[0], server.base)
    other = render(VERSIONS[2], server.base).replace(b"2024-01-25T18:00", b"2024-03-01T09:00")
    assert other.count(b"2024-03-01T09:00") == 1
    server.routes["/a"] = Route(first)
    raqib("watch", "--no-fetch", server.base + "/a")
    raqib.proc("check", "--all")
    server.routes["/a"] = Route(b"", 301, {"Location": "/b"})
    server.routes["/b"] = Route(other)
    raqib.proc("check", "--all")
    raqib.proc("check", "--all")  # the third review's: on the next check too
    out = raqib("watch", "--no-fetch", server.base + "/b").out
    assert "already" not in out
    assert len(raqib("watches", "--json").json()) == 2


def test_json_output_is_pure(server, raqib: Raqib) -> None:
    server.routes["/a"] = Route(render(VERSIONS[0], server.base))
    raqib("watch", "--no-fetch", server.base + "/a")
    r = raqib.proc("-vv", "check", "--all", "--json")
    assert json.loads(r.out)["outcomes"] == {"new_version": 1}
    assert "DEBUG" in r.err or "INFO" in r.err  # logs went to stderr


def test_diff_formats(server, raqib: Raqib) -> None:
    server.routes["/a"] = Route(render(VERSIONS[2], server.base))
    url = server.base + "/a"
    raqib("watch", "--no-fetch", url)
    raqib.proc("check", "--all")
    server.routes["/a"] = Route(render(VERSIONS[3], server.base))
    raqib.proc("check", "--all")
    text = raqib("diff", url, "--no-color").out
    assert "[edited" in text and "{+نحو 2500 جندي+}" in text and "SILENT" in text
    html = raqib("diff", url, "--format", "html").out
    assert html.startswith("<!DOCTYPE html>") and 'dir="rtl"' in html and "<ins" in html
    data = raqib("diff", url, "--format", "json").json()
    assert data["kind"] == "substantive" and data["silent"] is True
    assert any(a["label"] == "add" for a in data["alignment"])
    r = raqib("diff", url, "--from", "7", expect=2)
    assert "no version 7" in r.err
    r = raqib("diff", url, "--from", "2", "--to", "2", expect=2)
    assert "both name version 2: a diff needs two" in r.err
    r = raqib("diff", url, "--from", "2", "--to", "1", expect=2)  # had a verdict: "SILENT"
    assert "--from 2 is after --to 1: a diff reads forwards (--from 1 --to 2)" in r.err


def test_check_named_watches_checks_just_those_now(server, raqib: Raqib) -> None:
    """`raqib check WATCH…`, as the README says of a pass that names its
    watches: those watches now, due or not, by id or URL, and nothing else
    (not the others, not the outlets' feeds)."""
    paths = ["/named/1", "/named/2", "/named/3"]
    for path in paths:
        server.routes[path] = Route(render(VERSIONS[0], server.base))
    raqib("watch", "--no-fetch", *(server.base + p for p in paths))
    server.routes["/feed.xml"] = Route(b"<rss><channel></channel></rss>")
    raqib("outlet", "add", "own", "--feed", server.base + "/feed.xml")
    r = raqib.proc("check", "1", server.base + paths[2], "--json")
    assert r.json()["claimed"] == 2 and r.json()["outlets"] is None
    assert sorted(p for p, _h in server.requests if p != "/robots.txt") == [paths[0], paths[2]]
    again = raqib.proc("check", "1", "--json")  # not due: checked all the same
    assert again.json()["outcomes"] == {"unchanged": 1}
    from datetime import UTC, datetime, timedelta

    storage = raqib.open_storage()  # another worker is checking watch 3: said, not skipped quietly
    try:
        held = storage.leases.claim(
            "elsewhere:1:1",
            now=datetime.now(UTC),
            lease=timedelta(minutes=5),
            limit=1,
            only=[3],
            due_only=False,
        )
        assert [t.watch_id for t in held] == [3]
        r = raqib.proc("check", "1", "3", "--json")
        assert r.json()["claimed"] == 1
        assert "1 of the named watches not checked: another raqib pass holds them" in r.err
        # --wait waits for the pass holding what it names, not for any pass at all.
        r = raqib.proc("check", "1", "--wait", "--wait-timeout", "20", "--json")
        assert r.json()["claimed"] == 1
    finally:
        storage.leases.release("elsewhere:1:1")
        storage.close()
    raqib("pause", "2")
    r = raqib.proc("check", "2", expect=2)
    assert "not checked while at rest: watch 2 (paused)" in r.err
    assert "no watch for 9" in raqib.proc("check", "9", expect=4).err
    assert "or --all, not both" in raqib.proc("check", "--all", "1", expect=2).err


def _nothing_due(raqib: Raqib) -> None:
    """A home whose one watch is paused: a pass has nothing to do."""
    raqib("watch", "--no-fetch", "https://example.com/news/1")
    raqib("pause", "1")


def test_check_with_nothing_to_do(raqib: Raqib) -> None:
    """A mistyped home in a cron line made a new empty home and passed, every
    time, quietly: a pass says there is no database there, and makes none."""
    r = raqib.proc("check", "-q", expect=1)
    assert f"no Raqib database in {raqib.home}" in r.err and "mistyped" in r.err
    assert not raqib.home.exists()
    raqib.home.mkdir()
    (raqib.home / "raqib.toml").write_text("[display]\ntimezone = 'UTC'\n", encoding="utf-8")
    assert "no Raqib database" in raqib.proc("check", expect=1).err  # past the quick look
    assert not (raqib.home / "raqib.db").exists()
    _nothing_due(raqib)
    assert "checked 0 watches" in raqib.proc("check").out


def test_a_pass_with_nothing_due_imports_no_crawler(raqib: Raqib) -> None:
    """Start-up is paid only for work that needs it: with no watch and no
    outlet source due, `raqib check` loads neither Scrapy nor trafilatura."""
    _nothing_due(raqib)
    out, loaded = importing_run(raqib, "check")
    assert "checked 0 watches" in out
    assert "raqib.storage" in loaded  # the measurement sees Raqib's own imports
    assert not {m for m in loaded if m.split(".")[0] in ("scrapy", "trafilatura", "twisted")}
    # Nor the analyzer, nor lxml (an outlet's listing, OPML): nothing to judge or read.
    assert not {m for m in loaded if m == "raqib.diffs.classify" or m.startswith("lxml")}


def test_a_pass_that_only_reads_a_feed_imports_no_extractor(raqib: Raqib, server) -> None:
    """A pass whose only work is an outlet's feed, listing nothing new,
    imports Scrapy to read it but not trafilatura: extraction is loaded for
    pages, and most of a daemon's passes only read feeds."""
    rss = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    server.routes["/feed.xml"] = Route(rss, headers={"Content-Type": "application/rss+xml"})
    raqib.proc("outlet", "add", "quiet", "--feed", server.base + "/feed.xml")
    out, loaded = importing_run(raqib, "check", "--json")
    assert json.loads(out)["outlets"]["sources"] == 1
    assert "/feed.xml" in [path for path, _headers in server.requests]
    assert "scrapy.crawler" in loaded  # the measurement sees the feed read's imports
    assert not {m for m in loaded if m.split(".")[0] == "trafilatura"}


def test_a_refetch_that_passes_the_region_check_imports_no_extractor(raqib: Raqib, server) -> None:
    """A page whose counter changed but whose article did not is settled by
    the region check, which parses the page without trafilatura: a pass of
    such refetches (most passes) never imports the extractor."""
    import dataclasses

    server.routes["/news/1"] = Route(render(VERSIONS[0], server.base))
    url = server.base + "/news/1"
    raqib("watch", "--no-fetch", url)
    raqib.proc("check", "--all")
    churned = dataclasses.replace(VERSIONS[0], views=VERSIONS[0].views + 7)
    server.routes["/news/1"] = Route(render(churned, server.base))
    out, loaded = importing_run(raqib, "check", "--all", "--json")
    assert json.loads(out)["outcomes"] == {"unchanged": 1}
    assert [e["outcome"] for e in raqib("log", url, "--json").json()] == [
        "new_version",
        "unchanged",
    ]
    assert "raqib.extract.region" in loaded  # the measurement sees the check's imports
    assert not {m for m in loaded if m.split(".")[0] == "trafilatura"}


def test_a_pass_on_sqlite_imports_no_postgresql_dialect(raqib: Raqib, server) -> None:
    """A first fetch on SQLite writes with INSERT … ON CONFLICT (the page's
    body, the site's robots.txt answer) in SQLite's own dialect; PostgreSQL's
    (40 ms of imports) is left alone."""
    server.routes["/news/1"] = Route(render(VERSIONS[0], server.base))
    raqib("watch", "--no-fetch", server.base + "/news/1")
    out, loaded = importing_run(raqib, "check", "--all", "--json")
    assert json.loads(out)["outcomes"] == {"new_version": 1}  # its body went through insert_new
    assert "sqlalchemy.dialects.sqlite.dml" in loaded  # the measurement sees dialect imports
    assert not {m for m in loaded if m.startswith("sqlalchemy.dialects.postgresql")}


def test_a_command_collects_garbage_again_once_started(raqib: Raqib) -> None:
    """Imports and opening the home run without garbage collection (start-up);
    the command's own work runs with it, whether opening succeeded or not."""
    import gc
    import importlib

    from raqib.loading import importing

    assert gc.isenabled()
    _nothing_due(raqib)
    raqib("check")  # in this process: imports, opens the home, runs a pass
    assert gc.isenabled()
    (raqib.home / "raqib.toml").write_text("[fetch\n", encoding="utf-8")
    assert "raqib.toml" in raqib("watches", expect=None).err  # the home cannot be opened
    assert gc.isenabled()
    with pytest.raises(ImportError), importing():
        assert not gc.isenabled()
        importlib.import_module("raqib.no_such_module")
    assert gc.isenabled()


def test_the_raqib_program_freezes_what_it_imported_and_a_host_does_not(tmp_path) -> None:
    """`raqib` freezes what its start-up imported (later collections, in a
    pass, skip it); a process that only hosts Raqib, such as this test run,
    keeps its garbage collectable."""
    import gc
    import subprocess
    import sys

    from raqib.loading import importing

    (tmp_path / "raqib_probe_fresh.py").write_text("made = [[] for _ in range(100)]\n")
    sys.path.insert(0, str(tmp_path))
    try:
        before = gc.get_freeze_count()
        with importing():  # a module this process has not loaded: a real burst
            __import__("raqib_probe_fresh")
        assert gc.get_freeze_count() == before
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("raqib_probe_fresh", None)
    home = str(tmp_path / "home")
    for command in (["watch", "--no-fetch", "https://example.com/news/1"], ["pause", "1"]):
        made = subprocess.run(
            [sys.executable, "-P", "-m", "raqib", "--home", home, *command],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
    probe = (
        "import atexit, gc, sys, raqib.cli\n"
        "atexit.register(lambda: print(gc.get_freeze_count(), gc.isenabled()))\n"
        f"sys.argv = ['raqib', '--home', {str(tmp_path / 'home')!r}, 'check', '-q']\n"
        "raqib.cli.run()\n"
    )
    p = subprocess.run(
        [sys.executable, "-P", "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    frozen, enabled = p.stdout.split()[-2:]
    assert int(frozen) > 50_000  # SQLAlchemy and the models, at least
    assert enabled == "True"
    # A burst that finds its modules loaded (a pass's next batch) freezes
    # nothing: the garbage the last batch left stays collectable.
    probe = (
        "import gc\n"
        "from raqib import loading\n"
        "loading.own_process()\n"
        "with loading.importing():\n"
        "    import sqlalchemy\n"
        "first = gc.get_freeze_count()\n"
        "leftovers = [[] for _ in range(1000)]  # what a batch leaves behind\n"
        "with loading.importing():\n"
        "    import sqlalchemy\n"
        "print(first, gc.get_freeze_count())\n"
    )
    p = subprocess.run(
        [sys.executable, "-P", "-c", probe], capture_output=True, text=True, timeout=60
    )
    first, second = map(int, p.stdout.split())
    assert first > 10_000 and second == first


def test_the_forkserver_imports_frozen_and_leaves_collections_on() -> None:
    """Crawler processes fork from the forkserver with what it imported frozen
    (their collections do not copy those pages) and with collections on (a
    crawler process without them would keep every cycle a page makes)."""
    import subprocess
    import sys

    p = subprocess.run(
        [sys.executable, "-P", "-c",
         "import gc, raqib.crawler.warm; print(gc.isenabled(), gc.get_freeze_count())"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    enabled, frozen = p.stdout.split()
    assert enabled == "True"
    assert int(frozen) > 100_000  # Scrapy, Twisted, SQLAlchemy, trafilatura


def test_demo_runs_offline_and_serves_its_report(raqib: Raqib, tmp_path) -> None:
    import urllib.request

    keep = tmp_path / "demo-home"
    p = raqib.popen("demo", "--keep", str(keep), "--serve", "--serve-port", "0")
    try:
        assert p.stdout is not None
        seen = []
        for line in p.stdout:  # the address is printed once the report is served
            seen.append(line)
            if line.startswith("── the report of this demo: "):
                break
        out = "".join(seen)
        assert "SILENT" in out and "cosmetic" in out and "moved" in out
        assert "{+نحو 2500 جندي+}" in out
        address = line.split(": ", 1)[1].split()[0]
        assert address.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(address, timeout=30) as page:
            html = page.read().decode("utf-8")
        assert "واشنطن وبغداد" in html and 'dir="rtl"' in html
    finally:
        p.terminate()
        p.wait(timeout=30)
    assert (keep / "raqib.db").exists()  # --keep: the home stays
    with pytest.raises(OSError):  # the report's server stopped with the demo
        urllib.request.urlopen(address, timeout=10)
    # A second demo in that home mixed the first's article (its server gone) into its own.
    r = raqib("demo", "--keep", str(keep), expect=2)
    assert "holds an earlier demo's home" in r.err and not r.out


def test_ports_and_unwritable_outputs_are_bad_input(raqib: Raqib, tmp_path) -> None:
    for port in ("70000", "-1"):
        r = raqib("serve", "--port", port, expect=2)
        assert "0<=x<=65535" in r.err or "0 to 65535" in r.err, r.err
    raqib("outlet", "add", "marsad", "--feed", "https://marsad.example/rss.xml")
    r = raqib("outlet", "export", str(tmp_path / "missing" / "o.opml"), expect=1)
    assert r.err.startswith("raqib: cannot write") and "unexpected" not in r.err


def test_listing_options_out_of_range_are_bad_input(server, raqib: Raqib) -> None:
    """`schedule --limit -38` hid the last 38 rows; `search --limit 2**63` was
    the database's overflow ("unexpected error"); `diff --to 1` said "no
    version None"."""
    server.routes["/one"] = Route(render(VERSIONS[0], server.base))
    url = server.base + "/one"
    raqib.proc("watch", url)
    for args in (("schedule", "--limit", "-38"), ("search", "x", "--limit", str(2**63))):
        r = raqib(*args, expect=2)
        assert "--limit" in r.err and "unexpected" not in r.err, r.err
    server.routes["/one"] = Route(render(VERSIONS[3], server.base))  # a silent edit
    raqib.proc("check", "--all")
    r = raqib("diff", url, "--to", "1", expect=2)
    assert "version 1 of" in r.err and "none before it" in r.err and "None" not in r.err, r.err


def test_an_argument_that_is_not_utf8_is_bad_input(raqib: Raqib) -> None:
    """Bytes from a terminal or script in another encoding reach Python as
    lone surrogates: `versions`, `tag` and `changes --story` said "unexpected
    error: 'utf-8' codec can't encode …" and exited 1."""
    import os
    import subprocess

    from tests.conftest import raqib_command

    raqib("watch", "--no-fetch", "https://a.example/news/1")
    for args in (
        [b"versions", b"\xff\xfe"], [b"tag", b"1", b"--add", b"\xff"],
        [b"changes", b"--story", b"\xd8"],
    ):  # fmt: skip
        argv = [os.fsencode(a) for a in raqib_command()] + [b"--home", bytes(raqib.home), *args]
        p = subprocess.run(argv, capture_output=True, timeout=60, env={**os.environ, **raqib.env})
        assert p.returncode == 2, (args, p.stderr)
        assert b"text that is not UTF-8 (b'\\x" in p.stderr and b"unexpected" not in p.stderr


def test_the_daemons_intervals_are_bounded(raqib: Raqib) -> None:
    """A negative --discover-every was taken: APScheduler then computed run
    times without end (memory growing 15 MB a second, a daemon SIGTERM could
    not stop); --every nan ended in an unexpected error."""
    raqib("watch", "--no-fetch", "https://example.com/news/a")  # a home (none: refused first)
    for args, said in (
        (["--discover-every", "-5"], "--discover-every -5: seconds from 0 to"),
        (["--every", "nan"], "--every nan: seconds from 1 to"),
        (["--every", "0"], "--every 0: seconds from 1 to"),
        (["--jitter", "-1"], "--jitter -1: seconds from 0 to"),
    ):
        r = raqib.proc("daemon", *args, expect=2, timeout=60)
        assert said in r.err and "unexpected" not in r.err, (args, r.err)


def test_a_pass_stopped_by_a_lock_held_past_its_timeout_is_busy(tmp_path) -> None:
    """The database locked mid-pass (a sqlite3 shell, a backup) stopped the
    pass with exit 1 and three lines of driver text; a lock at its start gave
    75 and one line, as the README says of both."""
    import sqlite3

    from raqib.app.errors import PassFailed
    from raqib.cli.base import Ctx

    with pytest.raises(SystemExit) as stopped, Ctx(tmp_path / "home", 0).app():
        raise PassFailed(
            "the pass stopped: (sqlite3.OperationalError) database is locked\\n[SQL: …]"
        ) from (sqlite3.OperationalError("database is locked"))
    assert stopped.value.code == 75
