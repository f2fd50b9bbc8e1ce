"""WARC capture, evidence per version, exports and gc."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from raqib.archive.export import read_jsonl
from raqib.archive.warc import Exchange, Previous, WarcArchive
from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import Route
from tests.conftest import Raqib, replay_corpus

pytestmark = pytest.mark.backends

WARCIO = [sys.executable, "-m", "warcio.cli"]


def warcio(*args: str) -> str:
    """The real warcio client, as archivists run it."""
    exe = Path(sys.executable).with_name("warcio")
    cmd = [str(exe)] if exe.exists() else WARCIO
    p = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def index(warc_dir: Path) -> list[dict[str, str]]:
    files = sorted(str(p) for p in warc_dir.glob("*.warc.gz"))
    assert files, "no WARC files"
    for f in files:
        warcio("check", f)
    out = warcio(
        "index",
        "-f",
        "warc-type,warc-target-uri,http:status,warc-profile,warc-refers-to-target-uri,offset,filename",
        *files,
    )
    return [json.loads(line) for line in out.splitlines()]


def checked_at(raqib: Raqib, when: datetime) -> None:
    """A pass under a simulated clock (in the past), the WARC files it wrote
    dated as it says: gc judges a file by its last write too."""
    raqib.proc("check", "--all", env={"RAQIB_NOW": when.isoformat()})
    for f in (raqib.home / "warc").glob("*.warc.gz"):
        if f.stat().st_mtime > when.timestamp():  # written now, not in an earlier simulated pass
            os.utime(f, (when.timestamp(), when.timestamp()))


@pytest.mark.scenario
def test_replayed_corpus_is_archived(server, raqib: Raqib, manifest) -> None:
    urls = replay_corpus(server, raqib, manifest)
    rows = index(raqib.home / "warc")
    assert sum(1 for r in rows if r["warc-type"] == "warcinfo") == len(
        list((raqib.home / "warc").glob("*.warc.gz"))
    )
    article_rows = [r for r in rows if r.get("warc-target-uri") in urls.values()]
    logs = {url: raqib("log", url, "--json").json() for url in urls.values()}
    for url, log in logs.items():
        mine = [r for r in article_rows if r["warc-target-uri"] == url]
        captured = [r for r in mine if r["warc-type"] in ("response", "revisit")]
        requests = [r for r in mine if r["warc-type"] == "request"]
        assert len(captured) == len(log) == len(requests), url  # every fetch, each with its request
        ok = [e for e in log if e["status"] == 200]
        assert sum(1 for r in captured if r.get("http:status") == "200") == len(ok)
        revisits = [r for r in captured if r["warc-type"] == "revisit"]
        for r in revisits:
            assert (
                r["warc-profile"].endswith("/revisit/identical-payload-digest")
                and r["warc-refers-to-target-uri"] == url
            )
    # The oil article did not change between its last steps: identical payloads became revisits.
    assert any(
        r["warc-type"] == "revisit" for r in article_rows if r["warc-target-uri"] == urls["oil"]
    )

    # Each version points at a record whose payload is its raw page.
    store = raqib.open_storage(readonly=True)
    try:
        for url in urls.values():
            for v in raqib("versions", url, "--json").json():
                warc = v["warc"]
                assert warc is not None, v["version"]
                with (raqib.home / "warc" / warc["file"]).open("rb") as f:
                    f.seek(warc["offset"])
                    record = next(iter(ArchiveIterator(f)))
                    assert (
                        record.rec_type == "response"
                        and record.rec_headers.get_header("WARC-Target-URI") == url
                    )
                    payload = record.content_stream().read()
                assert payload == store.history.raw_body(v["raw_sha256"])
                assert v["evidence"]["new_first_seen"] == v["first_seen"]
                if v["version"] > 1:
                    # The edit happened after the old text was last seen and before the new one was first seen.
                    assert v["evidence"]["old_last_seen"] < v["first_seen"]
    finally:
        store.close()


def test_304_becomes_a_server_not_modified_revisit(server, raqib: Raqib) -> None:
    server.routes["/a"] = Route(render(VERSIONS[0], server.base), etag='"v1"')
    url = server.base + "/a"
    raqib("watch", "--no-fetch", url)
    raqib.proc("check")
    raqib.proc("check", "--all")
    rows = [
        r
        for r in index(raqib.home / "warc")
        if r.get("warc-target-uri") == url and r["warc-type"] != "request"
    ]
    assert [r["warc-type"] for r in rows] == ["response", "revisit"]
    assert rows[1]["http:status"] == "304"
    assert rows[1]["warc-profile"].endswith("/revisit/server-not-modified")
    assert rows[1]["warc-refers-to-target-uri"] == url


def test_body_is_archived_as_the_server_sent_it(server, raqib: Raqib) -> None:
    html = render(VERSIONS[0], server.base)
    server.routes["/gz"] = Route(
        gzip.compress(html),
        headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
    )
    url = server.base + "/gz"
    raqib("watch", "--no-fetch", url)
    raqib.proc("check")
    v = raqib("versions", url, "--json").json()[0]
    with (raqib.home / "warc" / v["warc"]["file"]).open("rb") as f:
        f.seek(v["warc"]["offset"])
        record = next(iter(ArchiveIterator(f)))
        raw = record.raw_stream.read()
    assert raw[:2] == b"\x1f\x8b"  # still gzip: before decompression
    assert record.http_headers.get_header("Content-Encoding") == "gzip"
    assert gzip.decompress(raw) == html


class _Index:
    def __init__(self) -> None:
        self.seen: dict[str, Previous] = {}

    def last_capture(self, url: str) -> Previous | None:
        return self.seen.get(url)

    def remember_capture(self, url: str, previous: Previous) -> None:
        self.seen[url] = previous


def _exchange(url: str, body: bytes) -> Exchange:
    return Exchange(
        url,
        "GET",
        [("User-Agent", "Raqib")],
        200,
        "OK",
        "HTTP/1.1",
        [("Content-Type", "text/html")],
        body,
    )


def test_files_roll_over_by_size_and_are_named_per_annex_c(tmp_path: Path) -> None:
    archive = WarcArchive(tmp_path, max_bytes=4000, index=_Index(), software="test")
    for i in range(12):
        archive.write(_exchange(f"https://a.example/{i}", bytes(range(256)) * 8 + str(i).encode()))
    archive.close()
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) > 2
    import re

    for i, f in enumerate(files, 1):
        assert re.match(rf"^RAQIB-\d{{17}}-{i:05d}-[^-]+\.warc\.gz$", f.name), f.name
        assert f.stat().st_size < 4000 + 3000
    rows = index(tmp_path)
    assert sum(1 for r in rows if r["warc-type"] == "response") == 12
    assert sum(1 for r in rows if r["warc-type"] == "warcinfo") == len(files)


def test_two_writers_share_a_file_without_tearing_records(tmp_path: Path) -> None:
    a = WarcArchive(tmp_path, max_bytes=1 << 30, index=_Index(), software="a")
    b = WarcArchive(tmp_path, max_bytes=1 << 30, index=_Index(), software="b")
    caps = []
    for i in range(20):
        w = a if i % 2 else b
        caps.append(w.write(_exchange(f"https://a.example/{i}", f"body {i}".encode() * 100)))
    a.close()
    b.close()
    assert len({c.file for c in caps}) == 1
    for i, cap in enumerate(caps):
        with (tmp_path / cap.file).open("rb") as f:
            f.seek(cap.offset)
            rec = next(iter(ArchiveIterator(f)))
            assert rec.rec_headers.get_header("WARC-Target-URI") == f"https://a.example/{i}"
    index(tmp_path)


def test_a_disk_that_fills_mid_record_leaves_no_part_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk full after a record's first bytes left them in the file: every
    later record was then unreadable to a tool that reads from the start
    (`warcio index`, pywb). The file is cut back to where the record began."""
    import errno

    import raqib.archive.warc as warc

    archive = WarcArchive(tmp_path, max_bytes=1 << 30, index=_Index(), software="t")
    first = archive.write(_exchange("https://a.example/1", b"body" * 100))
    real_write = os.write

    def full(fd: int, data: memoryview) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))  # half of it, then no space
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(warc.os, "write", full)
    with pytest.raises(OSError, match="No space"):
        archive.write(_exchange("https://a.example/2", b"body" * 100))
    monkeypatch.setattr(warc.os, "write", real_write)  # space again
    third = archive.write(_exchange("https://a.example/3", b"body" * 100))
    archive.close()
    assert third.file == first.file
    with (tmp_path / first.file).open("rb") as f:
        uris = [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(f)]
    assert [u for u in uris if u] == ["https://a.example/1"] * 2 + ["https://a.example/3"] * 2
    index(tmp_path)


def test_in_a_directory_several_machines_share_each_appends_to_its_own_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Across machines (a network file system), locks and appends are not
    atomic: a writer leaves the newest file alone when another host wrote it."""
    import raqib.archive.warc as warc

    def write_as(host: str, n: int) -> str:
        monkeypatch.setattr(warc.socket, "gethostname", lambda: host)
        archive = WarcArchive(tmp_path, max_bytes=1 << 30, index=_Index(), software=host)
        cap = archive.write(_exchange(f"https://a.example/{host}/{n}", b"body" * 100))
        archive.close()
        return cap.file

    theirs = write_as("worker-b", 1)
    before = (tmp_path / theirs).read_bytes()
    ours = write_as("worker-a", 1)
    assert ours != theirs and ours.endswith("-worker_a.warc.gz")
    assert (tmp_path / theirs).read_bytes() == before
    assert write_as("worker-b", 2) == theirs and write_as("worker-a", 2) == ours
    assert len(index(tmp_path)) == 2 * 5  # each file: a warcinfo, two requests and responses


@pytest.mark.parametrize("deflate", ["isal.isal_zlib", "zlib"])
def test_each_record_is_its_own_gzip_member_whichever_deflate_made_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deflate: str
) -> None:
    import raqib.archive.warc as warc

    monkeypatch.setattr(warc, "_deflate", pytest.importorskip(deflate))
    archive = WarcArchive(tmp_path, max_bytes=1 << 30, index=_Index(), software="t")
    bodies = [f"<p>نص الخبر {i}</p>".encode() * (50 * i + 1) for i in range(4)]
    caps = [archive.write(_exchange(f"https://a.example/{i}", b)) for i, b in enumerate(bodies)]
    archive.close()
    for cap, body in zip(caps, bodies, strict=True):
        with (tmp_path / cap.file).open("rb") as f:
            f.seek(cap.offset)
            member = gzip.GzipFile(fileobj=f).read()  # read on from this record's member
            f.seek(cap.offset)
            rec = next(iter(ArchiveIterator(f)))
            assert rec.content_stream().read() == body
        assert member.startswith(b"WARC/1.1\r\n") and body in member
    assert sum(1 for r in index(tmp_path) if r["warc-type"] == "response") == 4


def test_sigkill_mid_pass_leaves_readable_warcs(server, raqib: Raqib) -> None:
    for i in range(40):
        server.routes[f"/k/{i}"] = Route(render(VERSIONS[i % 5], server.base), delay=0.05)
    raqib("watch", "--no-fetch", *[server.base + f"/k/{i}" for i in range(40)])
    warc_dir = raqib.home / "warc"
    for _ in range(3):
        proc = raqib.popen("check", "--all")
        assert server.hit.wait(30)
        server.hit.clear()
        # Kill once records are being written (the file exists and grows).
        deadline = __import__("time").monotonic() + 30
        while not any(f.stat().st_size > 2000 for f in warc_dir.glob("*.warc.gz")):
            assert __import__("time").monotonic() < deadline and proc.poll() is None
            __import__("time").sleep(0.02)  # polling the file system for the writer's progress
        proc.kill()
        proc.wait(timeout=10)
    rows = index(warc_dir)
    assert any(r["warc-type"] == "response" for r in rows)


@pytest.mark.scenario
def test_exports_round_trip(server, raqib: Raqib, manifest, tmp_path: Path) -> None:
    urls = replay_corpus(server, raqib, manifest, steps=7)
    out = tmp_path / "export.jsonl"
    raqib("export", "--format", "jsonl", "--out", str(out))
    back = read_jsonl(io.StringIO(out.read_text(encoding="utf-8")))
    # Each record also says where its article belongs; a change, its evidence.
    grouping = {"watch_url", "story", "stories", "outlet", "tags"}
    extra = grouping | {"evidence"}
    for url in urls.values():
        exported = [
            {k: v for k, v in rec.items() if k not in grouping}
            for rec in back["version"]
            if rec["watch_url"] == url
        ]
        assert exported == raqib("versions", url, "--json").json()
        assert {rec["story"] for rec in back["version"] if rec["watch_url"] == url} <= {
            w["story"] for w in manifest["watches"]
        }
    key = lambda c: (c["url"], c["to_version"])  # noqa: E731
    plain = [{k: v for k, v in c.items() if k not in extra} for c in back["change"]]
    assert sorted(plain, key=key) == sorted(raqib("changes", "--json").json(), key=key)
    assert all(c["evidence"]["new_first_seen"] for c in back["change"])
    assert {w["url"] for w in back["watch"]} == set(urls.values())
    # --since keeps what was first seen from then on.
    changes = raqib("changes", "--json").json()
    cut = changes[-1]["detected_at"]
    since = tmp_path / "since.jsonl"
    raqib("export", "--format", "jsonl", "--out", str(since), "--since", cut)
    kept = read_jsonl(io.StringIO(since.read_text(encoding="utf-8")))["change"]
    kept = [{k: v for k, v in c.items() if k not in extra} for c in kept]
    assert sorted(kept, key=key) == sorted((c for c in changes if c["detected_at"] >= cut), key=key)
    # Imported elsewhere, it holds what judges each of those changes (the
    # version before the first one since), and only the watches that have any.
    elsewhere = Raqib(tmp_path / "since-home")
    elsewhere("import", "--allow-private", str(since))
    verdict = lambda c: tuple(c[k] for k in ("url", "from_version", "to_version", "kind", "silent"))  # noqa: E731
    assert kept and sorted(map(verdict, elsewhere("changes", "--json").json())) == sorted(
        map(verdict, kept)
    )
    held = {w["url"] for w in elsewhere("watches", "--json").json()}
    assert held == {c["url"] for c in kept} != set(urls.values())

    table = tmp_path / "export.csv"
    raqib("export", "--format", "csv", "--out", str(table))
    import csv

    rows = list(csv.DictReader(table.open(encoding="utf-8-sig")))
    assert sum(1 for r in rows if r["record"] == "change") == len(changes)
    assert any(r["figures_added"] == "2500" for r in rows)

    story = manifest["watches"][0]["story"]
    warc = tmp_path / "story.warc.gz"
    raqib("export", "--format", "warc", "--story", story, "--out", str(warc))
    rows = index_file(warc)
    responses = [r for r in rows if r["warc-type"] in ("response", "revisit")]
    fetches = sum(len(raqib("log", u, "--json").json()) for u in urls.values())
    assert len(responses) == fetches and rows[0]["warc-type"] == "warcinfo"


def index_file(path: Path) -> list[dict[str, str]]:
    warcio("check", str(path))
    out = warcio("index", "-f", "warc-type,warc-target-uri", str(path))
    return [json.loads(line) for line in out.splitlines()]


def test_gc_removes_only_unused_bodies(server, raqib: Raqib, monkeypatch) -> None:
    """And rewrites the database (VACUUM: 8 s for 360 MB) only when it
    removed something."""
    from raqib.storage.archive import ArchiveRepo

    compacted: list[bool] = []
    monkeypatch.setattr(ArchiveRepo, "compact", lambda self: compacted.append(True))
    server.routes["/g"] = Route(render(VERSIONS[0], server.base))
    url = server.base + "/g"
    raqib("watch", "--no-fetch", url)
    raqib.proc("check")
    assert "0 stored page bodies" in raqib("gc", "--dry-run").out
    assert "removed 0 unused" in raqib("gc").out and compacted == []
    store = raqib.open_storage()
    try:
        with store.db.session() as s:
            from raqib.storage.models import Blob

            s.add(Blob(hash="0" * 64, size=3, data=b"xyz"))
    finally:
        store.close()
    assert "1 stored page bodies" in raqib("gc", "--dry-run").out
    assert "removed 1 unused" in raqib("gc").out and compacted == [True]
    v = raqib("versions", url, "--json").json()[0]
    store = raqib.open_storage(readonly=True)
    try:
        assert store.history.raw_body(v["raw_sha256"]) is not None
    finally:
        store.close()


@pytest.mark.parametrize(
    "bad",
    [
        "--format warc --since 2d",
        "--format jsonl --since someday",
        "--format wacz --story a --outlet b",
    ],
)
def test_export_bad_input(raqib: Raqib, tmp_path: Path, bad: str) -> None:
    raqib("watch", "--no-fetch", "https://a.example/x")
    r = raqib("export", *bad.split(), "--out", str(tmp_path / "x"), expect=2)
    assert r.err.startswith("raqib:")


def test_gc_older_than_applies_retention_to_bodies_and_warcs(server, raqib: Raqib) -> None:
    from datetime import UTC, timedelta

    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    url = server.base + "/r"
    raqib.home.mkdir(parents=True)
    # Files roll over at once: each pass writes its own (a real archive rolls at 1 GB).
    (raqib.home / "raqib.toml").write_text("[archive]\nmax_file_mb = 0.0001\n", encoding="utf-8")
    raqib("watch", "--no-fetch", url)
    for day, v in ((0, 0), (10, 3), (20, 4)):  # three versions, ten days apart
        server.routes["/r"] = Route(render(VERSIONS[v], server.base))
        checked_at(raqib, t0 + timedelta(days=day))
    before = raqib("versions", url, "--json").json()
    assert all(v["raw_sha256"] and v["warc"] for v in before)
    files = [raqib.home / "warc" / v["warc"]["file"] for v in before]
    assert len(set(files)) == 3 and all(f.exists() for f in files)

    raqib.env["RAQIB_NOW"] = (t0 + timedelta(days=20, hours=1)).isoformat()
    dry = raqib("gc", "--older-than", "5d", "--dry-run").out
    assert "2 old versions would give up their raw body" in dry and "2 WARC files" in dry
    assert all(f.exists() for f in files)
    assert all(v["raw_sha256"] for v in raqib("versions", url, "--json").json())
    out = raqib("gc", "--older-than", "5d").out
    assert "2 old versions gave up their raw body" in out and "2 WARC files" in out
    assert [f.exists() for f in files] == [False, False, True]  # the newest pass's file stays
    after = raqib("versions", url, "--json").json()
    # Versions and changes are never dropped; only the old raw bodies and WARC references.
    assert [v["content_hash"] for v in after] == [v["content_hash"] for v in before]
    assert [v["raw_sha256"] is None for v in after] == [True, True, False]
    assert [v["warc"] is None for v in after] == [True, True, False]
    assert len(raqib("changes", "--url", url, "--json").json()) == 2
    assert raqib("diff", url, "--from", "1", "--to", "2", "--format", "json").json()["kind"]
    r = raqib("gc", "--older-than", "soon", expect=2)
    assert "--older-than" in r.err
    # Bare seconds, or under a day: a slip that would empty the archive, refused.
    for slip, said in (("90", "give a unit"), ("1", "give a unit"), ("12h", "at least a day")):
        r = raqib("gc", "--older-than", slip, expect=2)
        assert said in r.err, r.err


@pytest.mark.parametrize("placed", [True, False], ids=["placed", "captured-before-0011"])
def test_gc_keeps_the_original_that_newer_revisits_refer_to(
    server, raqib: Raqib, tmp_path: Path, placed: bool
) -> None:
    """A page unchanged since before the cutoff is archived after it as
    revisits of its last full record: removing that record's file left them
    referring to nothing, and the page could not be replayed from any export.
    Its file is kept; a page that changed since has a full record of its own
    after the cutoff, and its old file goes. A capture an older Raqib made
    recorded no place: its original is searched for among the fetches."""
    from datetime import UTC, timedelta

    from warcio.archiveiterator import ArchiveIterator

    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    stable, changing = server.base + "/stable", server.base + "/changing"
    raqib.home.mkdir(parents=True)
    (raqib.home / "raqib.toml").write_text("[archive]\nmax_file_mb = 0.0001\n", encoding="utf-8")
    raqib("watch", "--no-fetch", stable, changing)
    server.routes["/stable"] = Route(render(VERSIONS[0], server.base))
    for day, v in ((0, 0), (10, 3), (20, 3)):
        server.routes["/changing"] = Route(render(VERSIONS[v], server.base))
        checked_at(raqib, t0 + timedelta(days=day))
    first = {
        u: min(raqib("log", u, "--json").json(), key=lambda f: f["fetched_at"])["warc"]["file"]
        for u in (stable, changing)
    }
    if not placed:
        from sqlalchemy import text

        store = raqib.open_storage()
        with store.db.engine.begin() as conn:
            assert conn.execute(text('UPDATE captures SET file = NULL, "offset" = NULL')).rowcount
            nulled = "UPDATE fetches SET refers_file_id = NULL, refers_offset = NULL"
            assert conn.execute(text(f"{nulled} WHERE refers_file_id IS NOT NULL")).rowcount
        store.close()
    raqib.env["RAQIB_NOW"] = (t0 + timedelta(days=20, hours=1)).isoformat()
    out = raqib("gc", "--older-than", "15d").out
    assert "1 older WARC files kept" in out, out
    warc = raqib.home / "warc"
    assert (warc / first[stable]).exists() and not (warc / first[changing]).exists()
    exported = tmp_path / "all.warc.gz"
    raqib("export", "--format", "warc", "--out", str(exported))
    with exported.open("rb") as f:
        records = [
            (r.rec_type, r.rec_headers.get_header("WARC-Date"),
             r.rec_headers.get_header("WARC-Refers-To-Date"))
            for r in ArchiveIterator(f)
            if r.rec_headers.get_header("WARC-Target-URI") == stable and r.rec_type != "request"
        ]  # fmt: skip
    assert [kind for kind, _d, _r in records] == ["response", "revisit", "revisit"]
    assert {refers for _k, _d, refers in records[1:]} == {records[0][1]}  # replayable


def test_gc_keeps_another_watchs_original_where_the_revisit_says_it_sat(
    server, raqib: Raqib
) -> None:
    """A page reached through another watch's redirect is archived as
    revisits of the first watch's capture. Its file is kept while they refer
    to it, even once the page has a newer capture: found where the revisit's
    fetch row says its original sat, not by searching fetch times near the
    revisit's date (which under a frozen clock, or in a pass of more fetches
    than the search reads, misses another watch's)."""
    from datetime import UTC, timedelta

    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    page, alias = server.base + "/page", server.base + "/alias"
    raqib.home.mkdir(parents=True)
    (raqib.home / "raqib.toml").write_text("[archive]\nmax_file_mb = 0.0001\n", encoding="utf-8")
    server.routes["/page"] = Route(render(VERSIONS[0], server.base))
    server.routes["/alias"] = Route(b"", status=301, headers={"Location": page})
    raqib("watch", "--no-fetch", page)
    checked_at(raqib, t0)
    (original,) = [f["warc"] for f in raqib("log", page, "--json").json()]
    raqib("pause", page)  # from now on, only the alias fetches the page
    raqib("watch", "--no-fetch", alias)
    checked_at(raqib, t0 + timedelta(days=10))
    server.routes["/page"] = Route(render(VERSIONS[3], server.base))  # a newer capture after it
    checked_at(raqib, t0 + timedelta(days=18))
    kept = [f["warc"] for f in raqib("log", alias, "--json").json()]
    warc = raqib.home / "warc"
    heads = []
    for ref in kept:
        with (warc / ref["file"]).open("rb") as f:
            f.seek(ref["offset"])
            heads.append(next(iter(ArchiveIterator(f))))
    assert [h.rec_type for h in heads] == ["revisit", "response"]
    assert heads[0].rec_headers.get_header("WARC-Refers-To-Target-URI") == page

    raqib.env["RAQIB_NOW"] = (t0 + timedelta(days=20, hours=1)).isoformat()
    out = raqib("gc", "--older-than", "15d").out
    assert "1 older WARC files kept" in out, out
    with (warc / original["file"]).open("rb") as f:
        f.seek(original["offset"])
        record = next(iter(ArchiveIterator(f)))
    assert record.rec_type == "response"
    assert (
        record.rec_headers.get_header("WARC-Target-URI"),
        record.rec_headers.get_header("WARC-Date"),
    ) == (page, heads[0].rec_headers.get_header("WARC-Refers-To-Date"))


def test_gc_removes_a_purged_watchs_old_file_by_its_age(server, raqib: Raqib) -> None:
    """`unwatch --purge` leaves no fetch row pointing into the watch's WARC
    files. gc judged a file it knew by those rows alone, so such a file was
    kept for good; it now goes by its own age, as discovery's captures do."""
    from datetime import UTC, timedelta

    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    gone, kept = server.base + "/gone", server.base + "/kept"
    raqib.home.mkdir(parents=True)
    (raqib.home / "raqib.toml").write_text("[archive]\nmax_file_mb = 0.0001\n", encoding="utf-8")
    server.routes["/gone"] = Route(render(VERSIONS[0], server.base))
    server.routes["/kept"] = Route(render(VERSIONS[3], server.base))
    raqib("watch", "--no-fetch", gone)
    checked_at(raqib, t0)
    (purged,) = {f["warc"]["file"] for f in raqib("log", gone, "--json").json()}
    raqib("watch", "--no-fetch", kept)
    raqib("pause", gone)
    checked_at(raqib, t0 + timedelta(days=10))
    (recent,) = {f["warc"]["file"] for f in raqib("log", kept, "--json").json()}
    raqib("unwatch", "--purge", gone)
    warc = raqib.home / "warc"

    raqib.env["RAQIB_NOW"] = (t0 + timedelta(days=20)).isoformat()
    out = raqib("gc", "--older-than", "15d").out
    assert "1 WARC files" in out, out
    assert not (warc / purged).exists() and (warc / recent).exists()
    assert raqib("log", kept, "--json").json()[0]["warc"]["file"] == recent


@pytest.mark.parametrize("purged", [False, True], ids=["kept", "purged"])
def test_gc_keeps_an_original_a_later_revisit_refers_to(server, raqib: Raqib, purged: bool) -> None:
    """A watch whose first kept fetch is a full record of its own, and whose
    later revisit (its page moved to another watch's) refers to that watch's
    old capture: gc followed only each watch's first kept fetch, and removed
    the original (a reviewing helper's case), whether or not the capturing
    watch was purged since."""
    import os
    from datetime import UTC, timedelta

    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    page, alias = server.base + "/page", server.base + "/alias"
    raqib.home.mkdir(parents=True)
    (raqib.home / "raqib.toml").write_text("[archive]\nmax_file_mb = 0.0001\n", encoding="utf-8")
    server.routes["/page"] = Route(render(VERSIONS[0], server.base))
    server.routes["/alias"] = Route(render(VERSIONS[2], server.base))  # a page of its own first
    raqib("watch", "--no-fetch", page)
    checked_at(raqib, t0)
    (original,) = [f["warc"] for f in raqib("log", page, "--json").json()]
    raqib("pause", page)
    raqib("watch", "--no-fetch", alias)
    checked_at(raqib, t0 + timedelta(days=6))
    server.routes["/alias"] = Route(b"", status=301, headers={"Location": page})
    checked_at(raqib, t0 + timedelta(days=10))
    warc = raqib.home / "warc"
    last = raqib("log", alias, "--json").json()[-1]["warc"]
    with (warc / last["file"]).open("rb") as f:
        f.seek(last["offset"])
        head = next(iter(ArchiveIterator(f)))
    assert head.rec_type == "revisit"
    assert head.rec_headers.get_header("WARC-Refers-To-Target-URI") == page
    if purged:
        raqib("unwatch", "--purge", page)
        os.utime(warc / original["file"], (t0.timestamp(), t0.timestamp()))
    raqib.env["RAQIB_NOW"] = (t0 + timedelta(days=20)).isoformat()
    raqib("gc", "--older-than", "15d")
    assert (warc / original["file"]).exists()


def test_the_capture_index_forgets_what_it_has_written() -> None:
    """A crawl lasts a whole pass: its memory of last captures holds what it
    has yet to capture, and a URL asked for again is read back as written."""
    from raqib.crawler.capture import CaptureIndex

    class Repo:
        def __init__(self) -> None:
            self.rows: dict[str, tuple[str, str, str]] = {"http://a/1": ("d0", "u0", "t0")}
            self.reads = 0

        def last_captures(self, urls: list[str]) -> dict[str, tuple[str, str, str]]:
            self.reads += 1
            return {u: self.rows[u] for u in urls if u in self.rows}

        def last_capture(self, url: str) -> tuple[str, str, str] | None:
            self.reads += 1
            return self.rows.get(url)

        def remember_captures(self, rows: dict[str, tuple[str, str, str]]) -> None:
            self.rows.update(rows)

    repo = Repo()
    index = CaptureIndex(repo, batch=2)  # type: ignore[arg-type]
    index.preload(["http://a/1", "http://a/2", "http://a/3"])
    assert index.last_capture("http://a/1") == Previous("d0", "u0", "t0") and repo.reads == 1
    index.remember_capture("http://a/1", Previous("d1", "u1", "t1"))
    assert index.last_capture("http://a/1") == Previous("d1", "u1", "t1")  # not yet written
    index.remember_capture("http://a/2", Previous("d2", "u2", "t2"))  # a batch of two: written
    assert set(index.known) == {"http://a/3"}
    assert index.last_capture("http://a/2") == Previous("d2", "u2", "t2") and repo.reads == 2


def test_the_capture_index_writes_its_batches_beside_the_reactor(caplog) -> None:
    """A crawl hands each full batch to the index's writer thread (a busy
    database must not hold the reactor); a batch that cannot be written is
    logged, and only costs the next capture its revisit."""
    import logging
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from raqib.crawler.capture import CaptureIndex

    class Repo:
        def __init__(self, fail: bool) -> None:
            self.rows: dict[str, tuple[str, str, str]] = {}
            self.threads: set[str] = set()
            self.fail = fail

        def last_capture(self, url: str) -> tuple[str, str, str] | None:
            return self.rows.get(url)

        def remember_captures(self, rows: dict[str, tuple[str, str, str]]) -> None:
            self.threads.add(threading.current_thread().name)
            if self.fail:
                raise OSError("database is locked")
            self.rows.update(rows)

    for fail in (False, True):
        repo = Repo(fail)
        index = CaptureIndex(repo, batch=2)  # type: ignore[arg-type]
        index.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="raqib-captures")
        with caplog.at_level(logging.WARNING, logger="raqib.crawler.capture"):
            index.remember_capture("http://a/1", Previous("d1", "u1", "t1"))
            index.remember_capture("http://a/2", Previous("d2", "u2", "t2"))  # full: handed over
            assert index.known == {} and index.dirty == {}
            index.writer.shutdown(wait=True)
        assert repo.threads == {"raqib-captures_0"}
        if fail:
            assert repo.rows == {} and "database is locked" in caplog.text
            assert index.last_capture("http://a/1") is None  # a full response next time
        else:
            assert index.last_capture("http://a/2") == Previous("d2", "u2", "t2")
