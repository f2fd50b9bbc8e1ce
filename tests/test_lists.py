"""Lists from elsewhere (stdin, a CSV, an OPML file) name public sites only,
unless the user says the addresses are theirs; and OPML goes out and back in."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Raqib

NOT_PUBLIC = [
    ("http://127.0.0.1:9/news/1", "loopback"),
    ("http://[::1]:9/news/2", "loopback"),
    ("http://0.0.0.0:9/news/3", "loopback"),
    ("http://localhost:9/news/4", "loopback"),
    ("http://10.1.2.3/news/5", "private"),
    ("http://cms.intranet/news/6", "private"),
    ("http://printer/news/7", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://192.0.2.10/news/8", "reserved"),
    # Spellings a resolver reads as addresses (inet_aton), as the fetch guard does.
    ("http://127.1/news/9", "loopback"),
    ("http://0x7f.0.0.1/news/10", "loopback"),
    ("http://2130706433/news/11", "loopback"),
    ("http://10.1/news/12", "private"),
]
PUBLIC = ["https://news.example.com/a/1", "https://خبر.com/مقال"]


def _urls(raqib: Raqib) -> list[str]:
    return [w["url"] for w in raqib("watches", "--json").json()]


def test_a_list_names_public_sites_unless_allowed(raqib: Raqib) -> None:
    lines = "".join(u + "\n" for u in [PUBLIC[0], *(u for u, _ in NOT_PUBLIC), PUBLIC[1]])
    r = raqib("watch", "--no-fetch", "-", "--json", input=lines)
    data = r.json()
    assert data["created"] == 2
    refused = {i["line"]: i["error"] for i in data["invalid"]}
    assert sorted(refused) == list(range(2, 2 + len(NOT_PUBLIC)))
    for n, (_url, network) in enumerate(NOT_PUBLIC, 2):
        assert f"names a {network} address" in refused[n] and "--allow-private" in refused[n]
    assert "line 2: not imported" in r.err
    assert len(_urls(raqib)) == 2

    strict = raqib("watch", "--no-fetch", "-", "--strict", input="http://10.1.2.3/x\n", expect=2)
    assert "1 line(s) refused, nothing imported" in strict.err

    # The user's word: the list's own addresses are theirs.
    r = raqib("watch", "--no-fetch", "-", "--json", "--allow-private", input=lines)
    assert (r.json()["created"], r.json()["existing"], r.json()["invalid"]) == (
        len(NOT_PUBLIC),
        2,
        [],
    )
    assert "http://10.1.2.3/news/5" in _urls(raqib)
    # A URL typed on the command line may name this newsroom's intranet, as before,
    # beside "-" too.
    raqib("watch", "--no-fetch", "http://10.9.9.9/typed")
    raqib("watch", "--no-fetch", "http://10.9.9.8/typed", "-", input="http://10.9.9.7/listed\n")
    assert {"http://10.9.9.9/typed", "http://10.9.9.8/typed"} <= set(_urls(raqib))
    assert "http://10.9.9.7/listed" not in _urls(raqib)


def test_a_csv_names_public_sites_unless_allowed(raqib: Raqib, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("url,tags\nhttp://10.1.2.3/a,x\nhttps://news.example.com/b,y\n", "utf-8")
    r = raqib("watch", "--from-csv", str(path), "--json").json()
    assert r["created"] == 1 and [i["line"] for i in r["invalid"]] == [2]
    assert _urls(raqib) == ["https://news.example.com/b"]
    (raqib.home / "raqib.toml").write_text("[fetch]\nallow_private = true\n", "utf-8")
    r = raqib("watch", "--from-csv", str(path), "--json").json()  # the home's own setting
    assert (r["created"], r["existing"], r["invalid"]) == (1, 1, [])


def _opml(*sources: str) -> str:
    outlines = "".join(f'<outline text="f{i}" xmlUrl="{u}"/>' for i, u in enumerate(sources))
    return (
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        f'<outline text="intranet news">{outlines}</outline>'
        '<outline text="sada" xmlUrl="https://sada.example/rss"/></body></opml>'
    )


def test_opml_round_trip_and_its_sources_public_only(raqib: Raqib, tmp_path: Path) -> None:
    raqib(
        "outlet", "add", "marsad", "--feed", "https://marsad.example/rss.xml",
        "--sitemap", "https://marsad.example/news-sitemap.xml",
        "--front", "https://marsad.example/politics/", "--retain-days", "7",
    )  # fmt: skip
    exported = tmp_path / "outlets.opml"
    raqib("outlet", "export", str(exported))
    other = Raqib(tmp_path / "other-home")
    assert other("outlet", "import", str(exported)).out.strip() == "following marsad (3 sources)"
    mine, theirs = (h("outlet", "list", "--json").json() for h in (raqib, other))
    assert [(s["kind"], s["url"]) for s in theirs[0]["sources"]] == [
        (s["kind"], s["url"]) for s in mine[0]["sources"]
    ]
    assert theirs[0]["retain_days"] == mine[0]["retain_days"] == 7

    # One source on an intranet address refuses the whole file, before anything is stored.
    bad = tmp_path / "bad.opml"
    bad.write_text(_opml("https://ok.example/rss", "http://192.168.1.20/rss"), "utf-8")
    third = Raqib(tmp_path / "third-home")
    r = third("outlet", "import", str(bad), expect=2)
    assert "'http://192.168.1.20/rss': names a private address" in r.err
    assert "nothing imported" in r.err and third("outlet", "list", "--json").json() == []
    r = third("outlet", "import", str(bad), "--allow-private")
    assert "following intranet-news (2 sources)" in r.out and "following sada" in r.out
    # A kind Raqib does not read, or two outlets that would take one name:
    # refused whole (the outlets before them were stored, or merged into one).
    for opml, said in (
        ('<outline text="a"><outline raqibKind="podcast" xmlUrl="https://a.example/p"/>'
         "</outline>", "raqibKind 'podcast' is none of feed, sitemap or front"),
        ('<outline text="الجزيرة"><outline xmlUrl="https://j.example/1"/></outline>'
         '<outline text="الجزيرة!"><outline xmlUrl="https://j.example/2"/></outline>',
         "would both be outlet 'الجزيرة'"),
    ):  # fmt: skip
        fourth = Raqib(tmp_path / f"fourth-{len(opml)}")
        first = '<outline text="first"><outline xmlUrl="https://first.example/rss"/></outline>'
        bad.write_text(f'<opml version="2.0"><body>{first}{opml}</body></opml>', "utf-8")
        r = fourth("outlet", "import", str(bad), expect=2)
        assert said in r.err and "nothing imported" in r.err, r.err
        assert fourth("outlet", "list", "--json").json() == []
    # A stream that never ends is read to the bound, not into memory whole.
    assert "the OPML file is over 5 MB" in third("outlet", "import", "/dev/zero", expect=2).err


def test_a_story_slug_survives_the_csv_and_comes_one_at_a_time(raqib: Raqib, tmp_path) -> None:
    url = "https://news.example.com/a/2"
    for slug in ("iraq;war", "iraq,war"):
        r = raqib("watch", "--no-fetch", url, "--story", slug, expect=2)
        assert "without ';' or ','" in r.err
    r = raqib("watch", "--no-fetch", url, "--story", "elections", "--story", "iraq", expect=2)
    assert "one --story at a time" in r.err and _urls(raqib) == []
    raqib("watch", "--no-fetch", url, "--story", "iraq", "--story", "iraq")  # the same twice: one
    path = tmp_path / "list.csv"
    path.write_text('url,stories\nhttps://news.example.com/b,"a,b"\n', "utf-8")
    r = raqib("watch", "--from-csv", str(path), "--json", expect=2)  # nothing imported
    assert "without ';' or ','" in r.json()["invalid"][0]["error"]


def test_a_csv_that_is_not_utf8_is_bad_input(raqib: Raqib, tmp_path: Path) -> None:
    """Excel's plain "CSV" on an Arabic Windows is windows-1256: it was an
    "unexpected error" (exit 1)."""
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "url,tags\nhttps://news.example.com/a/1,iraq\nhttps://news.example.com/a/2,عراق\n".encode(
            "cp1256"
        )
    )
    r = raqib("watch", "--from-csv", str(path), expect=2)
    assert "the CSV is not UTF-8" in r.err and "unexpected" not in r.err, r.err


def test_a_csv_naming_a_column_twice_is_bad_input(raqib: Raqib, tmp_path: Path) -> None:
    """Two 'url' columns (a sheet's "URL" and "url"): csv.DictReader kept the
    last one's cells, and the first column's addresses were dropped unsaid."""
    path = tmp_path / "two.csv"
    path.write_text(
        "URL,title,url\nhttps://news.example.com/a/1,x,https://news.example.com/a/2\n", "utf-8"
    )
    r = raqib("watch", "--from-csv", str(path), expect=2)
    assert "names its 'url' column more than once (columns [1, 3])" in r.err, r.err
    assert _urls(raqib) == []
