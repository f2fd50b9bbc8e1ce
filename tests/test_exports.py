"""Exports an archivist can use: CSV that Excel reads, with the evidence of
each change; WARC of any watch, story, outlet or everything; a WARC pointer
for every fetch; a WACZ that pywb replays; and `raqib import` of an export."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import threading
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from raqib.archive import warc as raqib_warc
from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import Route
from raqib.extract.page import content_hash
from tests import needs
from tests.conftest import Raqib, raqib_command

pytestmark = pytest.mark.backends


def _history(server, raqib: Raqib) -> tuple[str, str]:
    """A story's article edited once (three fetches), and a loose article."""
    a, b = server.base + "/a", server.base + "/b"
    server.routes["/a"] = Route(render(VERSIONS[2], server.base))
    server.routes["/b"] = Route(render(VERSIONS[0], server.base))
    raqib("watch", "--no-fetch", a, "--story", "talks", "--tag", "iraq")
    raqib("watch", "--no-fetch", b)
    raqib.proc("check", "--all")
    raqib.proc("check", "--all")  # unchanged: the old text's last sighting
    server.routes["/a"] = Route(render(VERSIONS[3], server.base))
    raqib.proc("check", "--all")
    return a, b


def _warc_records(path: Path) -> list[Any]:
    with path.open("rb") as f:
        return [
            (r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
            for r in ArchiveIterator(f)
        ]


def _record_at(warc_dir: Path, pointer: dict[str, Any]) -> Any:
    with (warc_dir / pointer["file"]).open("rb") as f:
        f.seek(pointer["offset"])
        record = next(iter(ArchiveIterator(f)))
        return record.rec_type, record.rec_headers.get_header("WARC-Target-URI")


def test_csv_has_a_bom_the_grouping_and_the_evidence(server, raqib: Raqib, tmp_path) -> None:
    a, _b = _history(server, raqib)
    out = tmp_path / "history.csv"
    raqib("export", "--format", "csv", "--out", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Arabic
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    versions = [r for r in rows if r["record"] == "version" and r["watch_url"] == a]
    assert [r["story"] for r in versions] == ["talks", "talks"]
    assert all(r["tags"] == "iraq" for r in versions)
    (change,) = [r for r in rows if r["record"] == "change"]
    assert change["story"] == "talks" and change["url"] == a
    log = raqib("log", a, "--json").json()
    # The old text was last seen by the second fetch, the new first seen by the third.
    assert change["old_last_seen"] == log[1]["fetched_at"]
    assert change["new_first_seen"] == log[2]["fetched_at"]
    assert change["old_last_warc"] == f"{log[1]['warc']['file']}#{log[1]['warc']['offset']}"
    assert change["new_first_warc"] == f"{log[2]['warc']['file']}#{log[2]['warc']['offset']}"


def test_csv_quotes_page_text_a_spreadsheet_would_run(server, raqib: Raqib, tmp_path) -> None:
    from dataclasses import replace

    url = server.base + "/f"
    formula = '=HYPERLINK("http://evil.example/","انقر هنا")'
    server.routes["/f"] = Route(render(replace(VERSIONS[2], title=formula), server.base))
    raqib("watch", "--no-fetch", url)
    raqib.proc("check", "--all")
    out = tmp_path / "f.csv"
    raqib("export", "--format", "csv", "--watch", url, "--out", str(out))
    (row,) = csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")))
    assert row["title"] == "'" + formula  # text to Excel, not a formula
    assert row["url"] == url  # the machine columns are left as they are


def test_every_fetch_in_the_log_points_at_its_warc_record(server, raqib: Raqib) -> None:
    a, _b = _history(server, raqib)
    log = raqib("log", a, "--json").json()
    kinds = [_record_at(raqib.home / "warc", f["warc"]) for f in log]
    # New text: a response; the same text again: a revisit of it.
    assert kinds == [("response", a), ("revisit", a), ("response", a)]


def test_warc_export_of_any_selection(server, raqib: Raqib, tmp_path) -> None:
    _a, b = _history(server, raqib)
    loose = tmp_path / "b.warc.gz"
    out = raqib("export", "--format", "warc", "--watch", b, "--out", str(loose)).err
    assert "wrote 3 captures" in out  # a watch of no story exports too
    targets = {uri for kind, uri, _ in _warc_records(loose) if kind in ("response", "revisit")}
    assert targets == {b}
    everything = tmp_path / "all.warc.gz"
    raqib("export", "--format", "warc", "--out", str(everything))
    records = _warc_records(everything)
    assert records[0][0] == "warcinfo" and b"every watch" in records[0][2]
    assert sum(1 for kind, *_ in records if kind in ("response", "revisit")) == 6
    r = raqib(
        "export", "--format", "warc", "--story", "talks", "--watch", b, "--out", "x", expect=2
    )
    assert "one of --watch, --story and --outlet" in r.err
    r = raqib("export", "--format", "warc", "--outlet", "nowhere", "--out", str(loose), expect=4)
    assert "no outlet 'nowhere'" in r.err
    raqib("unwatch", b)  # named by the user, an unwatched article still exports
    r = raqib("export", "--format", "warc", "--watch", b, "--out", str(loose))
    assert "wrote 3 captures" in r.err


def test_missing_warc_files_are_said_to_be_from_this_machine_only_when_they_are() -> None:
    from raqib.app.publish import _missing

    now = raqib_warc.datetime.now(raqib_warc.UTC)
    here, also = raqib_warc._file_name(7, now), raqib_warc._file_name(8, now)
    there = here.rsplit("-", 1)[0] + "-another_host.warc.gz"
    assert "this machine" not in _missing({there: 2}, Path("/w"))
    assert "; it was written on this machine" in _missing({here: 1}, Path("/w"))
    assert "; all were written on this machine" in _missing({here: 1, also: 1}, Path("/w"))
    assert "; 1 of them was written on this machine" in _missing({here: 1, there: 3}, Path("/w"))


def test_an_export_whose_captures_are_elsewhere_says_where_and_writes_nothing(
    server, raqib: Raqib, tmp_path
) -> None:
    """A worker on another machine keeps its WARC files in its own home: an
    export here stopped at the first missing file with "No such file"."""
    _a, b = _history(server, raqib)
    [first, *_] = raqib("log", b, "--json").json()
    away = tmp_path / first["warc"]["file"]
    (raqib.home / "warc" / first["warc"]["file"]).rename(away)
    for fmt in ("warc", "wacz"):
        out = tmp_path / f"b.{fmt}"
        r = raqib("export", "--format", fmt, "--watch", b, "--out", str(out), expect=1)
        assert f"are in WARC files not in {raqib.home / 'warc'}: {away.name}" in r.err
        # Homes on one machine share its name (an operator's finding): this one wrote it.
        assert "it was written on this machine, by another home on it" in r.err
        assert "nothing was written" in r.err and not out.exists()
    away.rename(raqib.home / "warc" / away.name)
    r = raqib("export", "--format", "warc", "--watch", b, "--out", str(tmp_path / "b.warc.gz"))
    assert "wrote 3 captures" in r.err
    # A file damaged where a capture sits (overwritten, or cut short) is named, with the offset.
    warc = raqib.home / "warc" / first["warc"]["file"]
    whole = warc.read_bytes()
    at = first["warc"]["offset"] + 40
    for damaged in (whole[:at] + b"\xff" * 8 + whole[at + 8 :], whole[:at]):
        warc.write_bytes(damaged)
        for fmt in ("warc", "wacz"):
            out = tmp_path / f"damaged.{fmt}"
            r = raqib("export", "--format", fmt, "--watch", b, "--out", str(out), expect=1)
            said = f"the WARC record at offset {first['warc']['offset']} of {warc.name} is damaged"
            assert said in r.err and "unexpected" not in r.err, r.err
            assert not out.exists()
    warc.write_bytes(whole)


def test_an_export_whose_revisits_lost_their_originals_says_so(
    server, raqib: Raqib, tmp_path
) -> None:
    """gc on one worker while another, with a WARC directory of its own,
    fetched the same pages: that worker's revisits refer to a file gc has
    removed (the archive's lock holds within a directory). The export wrote
    them without their originals and said nothing; it now refuses, saying why."""
    from sqlalchemy import update

    from raqib.storage import models as m

    _a, b = _history(server, raqib)
    storage = raqib.open_storage()
    try:  # the state the race leaves: a revisit's original file forgotten after it was read
        with storage.db.session() as s:
            s.execute(
                update(m.Fetch)
                .where(m.Fetch.refers_file_id.is_not(None))
                .values(refers_file_id=99999)
            )
    finally:
        storage.close()
    for fmt in ("warc", "wacz"):
        out = tmp_path / f"b.{fmt}"
        r = raqib("export", "--format", fmt, "--watch", b, "--out", str(out), expect=1)
        assert "revisits of records in WARC files that `raqib gc --older-than` removed" in r.err
        assert not out.exists()


@pytest.fixture(scope="module")
def pywb_bin() -> Path:
    found = needs.pywb()
    if found is None:
        pytest.fail("pywb could not be installed (python3 tests/needs.py)")
    return found


@pytest.mark.slow
def test_a_wacz_export_replays_in_pywb(server, raqib: Raqib, tmp_path, pywb_bin: Path) -> None:
    a, _b = _history(server, raqib)
    out = tmp_path / "talks.wacz"
    r = raqib("export", "--format", "wacz", "--story", "talks", "--out", str(out))
    assert "wrote 3 captures" in r.err
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        assert "datapackage.json" in names and any(n.startswith("indexes/") for n in names)
        pages = [json.loads(x) for x in z.read("pages/pages.jsonl").splitlines()[1:]]
    assert {p["url"] for p in pages} == {a}
    root = tmp_path / "pywb"
    root.mkdir()
    for step in (["init", "raqib"], ["add", "--unpack-wacz", "raqib", str(out)]):
        subprocess.run(
            [str(pywb_bin / "wb-manager"), *step], cwd=root, check=True, capture_output=True
        )
    proc = subprocess.Popen(
        [str(pywb_bin / "python"), str(Path(__file__).with_name("pywb_serve.py"))],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        # The port is printed once the socket listens (pywb may say other things first).
        port = next(int(x.split()[1]) for x in proc.stdout if x.startswith("listening "))
        log = raqib("log", a, "--json").json()
        before, after = "آلاف الجنود عادوا", "نحو 2500 جندي عادوا"  # the edited figure
        for fetch, shown, gone in ((log[0], before, after), (log[2], after, before)):
            stamp = "".join(ch for ch in fetch["fetched_at"][:19] if ch.isdigit())
            url = f"http://127.0.0.1:{port}/raqib/{stamp}id_/{a}"
            with urllib.request.urlopen(url, timeout=30) as page:
                body = page.read().decode("utf-8")
            assert shown in body and gone not in body, url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_import_of_an_export_is_idempotent(server, raqib: Raqib, tmp_path) -> None:
    a, b = _history(server, raqib)
    dump = tmp_path / "history.jsonl"
    raqib("export", "--format", "jsonl", "--out", str(dump))
    same = raqib(
        "import", "--allow-private", str(dump)
    ).out  # into the home that wrote it: nothing new
    assert "watches: 0 new (paused), 2 already here; versions: 0 new, 3 already here" in same
    other = Raqib(tmp_path / "other")  # SQLite, whichever backend wrote the export
    # An export may come from elsewhere: its 127.0.0.1 watches need the user's word.
    r = other("import", str(dump), expect=2)
    assert "names a loopback address" in r.err and "--allow-private" in r.err
    assert not (other.home / "raqib.db").exists()  # refused before a database was made
    first = other("import", "--allow-private", str(dump)).out
    assert (
        "watches: 2 new (paused), 0 already here; versions: 3 new, 0 already here; 1 changes"
        in first
    )
    again = other("import", "--allow-private", str(dump)).out
    assert "0 new (paused), 2 already here; versions: 0 new, 3 already here; 0 changes" in again

    def strip(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        gone = {"raw_sha256", "warc", "evidence", "watch_id", "moved_paragraphs"}
        return [{k: v for k, v in r.items() if k not in gone} for r in rows]

    for url in (a, b):
        mine = raqib("versions", url, "--json").json()
        theirs = other("versions", url, "--json").json()
        assert strip(theirs) == strip(mine)
        # The edit's window: the old text last seen, as the version before's last_seen says.
        window = [(v["evidence"]["old_last_seen"], v["evidence"]["new_first_seen"]) for v in mine]
        assert [
            (v["evidence"]["old_last_seen"], v["evidence"]["new_first_seen"]) for v in theirs
        ] == window
    assert strip(other("changes", "--json").json()) == strip(raqib("changes", "--json").json())
    assert {w["state"] for w in other("watches", "--json").json()} == {"paused"}
    # When each article was first watched comes along (it was the import's time).
    added = {w["url"]: w["added_at"] for w in raqib("watches", "--json").json()}
    assert {w["url"]: w["added_at"] for w in other("watches", "--json").json()} == added
    other("unwatch", b)
    other(
        "import", "--allow-private", str(dump)
    )  # importing again does not bring an unwatched article back
    gone = other("watches", "--state", "unwatched", "--json").json()
    assert [(w["url"], w["state"]) for w in gone] == [(b, "unwatched")]
    assert other("watches", "--story", "talks", "--json").json()[0]["tags"] == ["iraq"]

    lines = dump.read_text(encoding="utf-8").splitlines()
    forged = [json.loads(x) for x in lines]
    v = next(r for r in forged if r["record"] == "version")
    v["text"] = v["text"].replace("2014", "2015")  # the text no longer matches its hash
    bad = tmp_path / "forged.jsonl"
    bad.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in forged), encoding="utf-8")
    r = other("import", "--allow-private", str(bad), expect=2)
    assert "does not match its content hash" in r.err
    # A version dated impossibly, or numbered outside 1 to 2**31 - 1 (10**30
    # failed after the watch was stored, "unexpected error"; 0 and -1 were
    # stored as given): refused before anything is stored.
    changes = [("first_seen", when) for when in ("9999-12-31T23:59:59-05:00", "yesterday")]
    changes += [("version", number) for number in (0, -1, 10**18, 10**30)]
    for i, (key, value) in enumerate(changes):
        v = json.loads(next(x for x in lines if '"record": "version"' in x))
        changed = [json.loads(x) for x in lines if '"record": "watch"' in x] + [{**v, key: value}]
        bad.write_text(
            "\n".join(json.dumps(r, ensure_ascii=False) for r in changed), encoding="utf-8"
        )
        fresh = Raqib(tmp_path / f"home-{i}", env=other.env)
        said = "first_seen" if key == "first_seen" else "is not a version number"
        assert said in fresh("import", "--allow-private", str(bad), expect=2).err
        assert not (fresh.home / "raqib.db").exists() or fresh("watches", "--json").json() == []
    (tmp_path / "junk.jsonl").write_text('{"hello": 1}\n')
    assert (
        "junk.jsonl:1: not a record" in other("import", str(tmp_path / "junk.jsonl"), expect=2).err
    )
    w = next(r for r in forged if r["record"] == "watch")
    (tmp_path / "bad.jsonl").write_text(json.dumps({**w, "tags": 7}) + "\n")
    r = other("import", "--allow-private", str(tmp_path / "bad.jsonl"), expect=2)
    assert "bad.jsonl:1: tags: 7 is not of type 'array'" in r.err
    orphan = next(json.loads(x) for x in lines if '"record": "version"' in x)
    (tmp_path / "orphan.jsonl").write_text(json.dumps(orphan, ensure_ascii=False) + "\n")
    assert "no watch record for it" in other("import", str(tmp_path / "orphan.jsonl"), expect=2).err


def test_an_archive_keeps_unwatched_articles_their_aliases_and_outlets(
    server, raqib: Raqib, tmp_path
) -> None:
    """Everything is everything: an unwatched article's history is exported,
    and an import keeps it unwatched; the addresses a watch answered to (here a
    redirect) still find it after an import, and so does its outlet, where the
    importing home follows one by that name."""
    old, new, b = server.base + "/old", server.base + "/new", server.base + "/b"
    server.routes["/old"] = Route(status=301, headers={"Location": new})
    server.routes["/new"] = Route(render(VERSIONS[0], server.base))
    server.routes["/b"] = Route(render(VERSIONS[2], server.base))
    raqib.proc("watch", old, b)  # a process of its own, as a crawl needs
    raqib("unwatch", b)
    dump = tmp_path / "all.jsonl"
    raqib("export", "--format", "jsonl", "--out", str(dump))
    records = [json.loads(x) for x in dump.read_text(encoding="utf-8").splitlines()]
    watches = {r["url"]: r for r in records if r["record"] == "watch"}
    assert set(watches) == {old, b} and watches[b]["state"] == "unwatched"
    assert watches[old]["aliases"] == [new]  # known by the address it was watched at
    assert {r["watch_url"] for r in records if r["record"] == "version"} == {old, b}
    wacz = tmp_path / "all.wacz"  # its page list names what can be replayed: where it was served
    raqib("export", "--format", "wacz", "--out", str(wacz))
    with zipfile.ZipFile(wacz) as z:
        pages = [json.loads(x)["url"] for x in z.read("pages/pages.jsonl").splitlines()[1:]]
    assert sorted(pages) == sorted([new, b])
    for r in records[:-1]:  # as an outlet's watches would carry it (the end record aside)
        r["outlet"] = "marsad" if r.get("url") == old else r.get("outlet")
        if r.get("url") == old:  # and a file from elsewhere might add these
            r["aliases"] += ["http://other.example/their-article", server.base + "/"]
            r["state"] = "retired"  # retired where it came from: stays so (it read "paused")
    dump.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")

    other = Raqib(tmp_path / "other")
    other("outlet", "add", "marsad", "--feed", server.base + "/feed.xml")
    other("import", "--allow-private", str(dump))
    assert other("versions", new, "--json").json()[0]["url"] == new  # found by its alias
    moved = other("watches", "--outlet", "marsad", "--json").json()
    assert [(w["url"], w["state"], w["aliases"]) for w in moved] == [(old, "retired", [new])]
    assert [w["url"] for w in other("watches", "--state", "unwatched", "--json").json()] == [b]
    fourth = Raqib(tmp_path / "fourth")  # watches the article by hand already: stays so
    fourth("watch", "--no-fetch", old)
    fourth("outlet", "add", "marsad", "--feed", server.base + "/feed.xml")
    fourth("import", "--allow-private", str(dump))
    mine = next(w for w in fourth("watches", "--json").json() if w["url"] == old)
    assert (mine["origin"], mine["outlet"]) == ("manual", None)
    third = Raqib(tmp_path / "third")  # follows no outlet: told so, and the rest comes in
    out = third("import", "--allow-private", str(dump)).out
    assert "1 watch came from outlet marsad, which this home does not follow" in out
    assert third("versions", new, "--json").json()[0]["url"] == new


def test_import_reads_stdin_in_any_order_and_refuses_what_disagrees(
    server, raqib: Raqib, tmp_path
) -> None:
    """The file is checked whole, then read again to store it: stdin is kept
    aside for that; versions may come before their watch; a version given
    twice with different text, or bytes that are not UTF-8, refuse the file."""
    a, _b = _history(server, raqib)
    dump = tmp_path / "history.jsonl"
    raqib("export", "--format", "jsonl", "--out", str(dump))
    lines = dump.read_text(encoding="utf-8").splitlines()
    upside_down = "\n".join(reversed(lines)) + "\n"  # every version before its watch

    other = Raqib(tmp_path / "other")
    out = other("import", "--allow-private", "-", input=upside_down).out
    assert "watches: 2 new (paused), 0 already here; versions: 3 new, 0 already here" in out
    assert [v["version"] for v in other("versions", a, "--json").json()] == [1, 2]
    fifo = tmp_path / "pipe"  # as `raqib import <(zcat history.jsonl.gz)` gives it
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=(upside_down, "utf-8"))
    writer.start()
    out = other("import", "--allow-private", str(fifo)).out
    writer.join(timeout=30)
    assert "versions: 0 new, 3 already here" in out
    assert not list(other.home.glob(".import-*"))  # the copy it read again is gone

    records = [json.loads(x) for x in lines]
    v = next(r for r in records if r["record"] == "version" and r["watch_url"] == a)
    twin = {**v, "text": v["text"] + " زيادة"}
    twin["content_hash"] = content_hash(twin["title"], twin["text"])
    forged = "\n".join(json.dumps(r, ensure_ascii=False) for r in [*records, twin]) + "\n"
    third = Raqib(tmp_path / "third")
    r = third("import", "--allow-private", "-", input=forged, expect=2)
    assert f"version {v['version']} of {a} is given twice, with different text" in r.err
    assert not (third.home / "raqib.db").exists()  # refused before a database was made
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(lines[0].encode("utf-8") + b"\n" + "é".encode("latin-1") + b"\n")
    assert (
        "latin.jsonl:2: not UTF-8" in third("import", "--allow-private", str(latin), expect=2).err
    )
    assert "no such file" in third("import", str(tmp_path / "nowhere.jsonl"), expect=2).err
    deep = "[" * 200_000 + "]" * 200_000 + "\n"  # "unexpected error: maximum recursion depth"
    assert "-:1: not JSON (nested too deep)" in third("import", "-", input=deep, expect=2).err
    # A watch's stories and tags as `watch --story` / `--tag` take them: on
    # PostgreSQL a slug past its column stopped the import half done.
    w = next(i for i, r in enumerate(records) if r["record"] == "watch" and r["url"] == a)
    for bad, said in (
        ({"story": "s" * 300}, "a story's slug is 1 to"),
        ({"stories": ["a;b"]}, "a story's slug is 1 to"),
        ({"tags": [None]}, "tags: a list of names"),
        ({"stories": [None, "x"]}, "stories: a list of names"),
    ):
        edited = [*records[:w], {**records[w], **bad}, *records[w + 1 :]]
        text = "\n".join(json.dumps(r, ensure_ascii=False) for r in edited) + "\n"
        r = third("import", "--allow-private", "-", input=text, expect=2)
        assert said in r.err and "unexpected" not in r.err, (bad, r.err)
        assert not (third.home / "raqib.db").exists()  # refused before a database was made


def test_an_import_with_a_hole_in_a_history_names_it(server, raqib: Raqib, tmp_path) -> None:
    """A file holding versions 1 and 3 of an article (part of a history, or
    two exports joined) cannot judge the change into 3: the import says so,
    and the import that brings version 2 judges both."""
    a, _b = _history(server, raqib)
    dump = tmp_path / "history.jsonl"
    raqib("export", "--format", "jsonl", "--out", str(dump))
    records = [json.loads(x) for x in dump.read_text(encoding="utf-8").splitlines()]
    second = next(r for r in records if r["record"] == "version" and r["watch_url"] == a
                  and r["version"] == 2)  # fmt: skip
    third = {**second, "version": 3, "text": second["text"] + " زيادة"}
    third["content_hash"] = content_hash(third["title"], third["text"])
    holed = [r for r in records if r is not second and r["record"] != "end"] + [third]
    other = Raqib(tmp_path / "other")
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in holed) + "\n"
    out = other("import", "--allow-private", "-", input=text).out
    assert f"version 3 of {a}: version 2 is not held, so the change into it is not judged" in out
    assert other("changes", "--url", a, "--json").json() == []
    out = other("import", "--allow-private", str(dump)).out
    assert "versions: 1 new" in out and "is not held" not in out
    assert sorted(c["to_version"] for c in other("changes", "--url", a, "--json").json()) == [2, 3]


def test_an_import_line_is_bounded(monkeypatch) -> None:
    from raqib.app import imports
    from raqib.app.errors import BadInput

    monkeypatch.setattr(imports, "MAX_LINE", 1000)
    f = io.BytesIO(b"\n" + b"x" * 1001 + b"\n")
    with pytest.raises(BadInput, match="<stdin>:2: a line over"):
        list(imports._lines(f, "<stdin>"))


@pytest.mark.scenario
def test_an_export_writes_through_a_symlink_a_pipe_or_a_device(
    server, raqib: Raqib, tmp_path
) -> None:
    """`--out` was replaced by a new regular file whatever it was: a symlink
    (its target kept the old export), a FIFO (its reader waited for ever), a
    device (as root, /dev/null or /dev/stdout became a file), and a private
    file came back readable by all."""
    _history(server, raqib)
    target = tmp_path / "real" / "changes.csv"
    target.parent.mkdir()
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    raqib("export", "--format", "csv", "--out", str(link))
    assert link.is_symlink() and target.read_text(encoding="utf-8-sig").startswith("record,url")
    assert target.stat().st_mode & 0o777 == 0o600
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    raqib("export", "--format", "jsonl", "--out", str(fifo))
    reader.join(timeout=60)
    assert not reader.is_alive() and got[0].count(b"\n") >= 3
    assert fifo.is_fifo()
    # Its own stdout by name: into a pipe, and appended to a file (`>> log` keeps what it held).
    piped = raqib.proc("export", "--format", "jsonl", "--out", "/dev/stdout").out
    assert piped.splitlines()[-1].startswith('{"changes"')  # the end record, last
    log = tmp_path / "log.jsonl"
    log.write_text("kept\n", encoding="utf-8")
    with log.open("a", encoding="utf-8") as appended:
        subprocess.run(
            [*raqib_command(), "--home", str(raqib.home), "export", "--format", "jsonl",
             "--out", "/dev/stdout"],
            stdout=appended, check=True, timeout=120, env={**os.environ, **raqib.env},
        )  # fmt: skip
    assert log.read_text(encoding="utf-8").splitlines()[0] == "kept"
    assert log.read_text(encoding="utf-8").splitlines()[1:] == piped.splitlines()


def test_an_export_stopped_by_sigterm_leaves_no_temporary_file(tmp_path) -> None:
    """SIGTERM (kill, a timeout, a container stopping) killed an export at
    once and left its temporary file, as large as the export, beside it."""
    import sys

    code = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from raqib.report.site import atomic\n"
        "with atomic(Path(sys.argv[1])) as f:\n"
        "    f.write(b'x' * 1000)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    f.write(b'never')\n"
    )
    out = tmp_path / "export.jsonl"
    p = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, timeout=60)
    assert p.returncode == 143, p.stderr
    assert list(tmp_path.iterdir()) == []  # neither the export nor its temporary file
    # Only while it writes: the handler it found is put back after.
    import signal

    from raqib.report.site import atomic

    before = signal.getsignal(signal.SIGTERM)
    with atomic(out) as f:
        f.write(b"x")
    assert signal.getsignal(signal.SIGTERM) == before and out.read_bytes() == b"x"


@pytest.mark.scenario
def test_an_export_cut_short_is_told_from_a_whole_one(server, raqib: Raqib, tmp_path) -> None:
    """JSON Lines marked nowhere where they ended: an export cut at a line's
    end (a pipe broken, a disk full) imported as if whole, and an empty file
    as an export of nothing. An export now ends with a record counting what
    came before it."""
    _history(server, raqib)
    dump = tmp_path / "history.jsonl"
    raqib("export", "--format", "jsonl", "--out", str(dump))
    lines = dump.read_text(encoding="utf-8").splitlines()
    end = json.loads(lines[-1])
    kinds = [json.loads(x)["record"] for x in lines[:-1]]
    assert end == {
        "record": "end", "schema": "raqib.end/1", "watches": kinds.count("watch"),
        "versions": kinds.count("version"), "changes": kinds.count("change"),
    }  # fmt: skip
    whole = Raqib(tmp_path / "whole")
    r = whole("import", "--allow-private", str(dump))
    assert "warning" not in r.err
    cut = Raqib(tmp_path / "cut")
    r = cut("import", "--allow-private", "-", input="\n".join(lines[:3]) + "\n")
    assert "does not end with an export's end record: it may have been cut short" in r.err
    # An end record that counts more than the file holds: refused, nothing stored.
    lost = "\n".join([*lines[:2], lines[3], lines[-1]]) + "\n"
    refused = Raqib(tmp_path / "refused")
    r = refused("import", "--allow-private", "-", input=lost, expect=2)
    assert "the file is not whole: its end record counts" in r.err
    assert "empty" in refused("import", "-", input="", expect=2).err
    assert not (refused.home / "raqib.db").exists() and not list(refused.home.iterdir())
    # Two exports joined: each end record counts its own part.
    joined = Raqib(tmp_path / "joined")
    r = joined("import", "--allow-private", "-", input="\n".join(lines + lines) + "\n")
    assert "warning" not in r.err and "0 already here; versions:" in r.out
    # A whole export joined to one without an end record (older, or cut short):
    # imported, with the warning, whichever comes first.
    for i, parts in enumerate((lines + lines[:-1], lines[:-1] + lines)):
        again = Raqib(tmp_path / f"parts-{i}")
        r = again("import", "--allow-private", "-", input="\n".join(parts) + "\n")
        assert "may have been cut short" in r.err


def test_what_a_killed_export_left_is_swept_by_the_next(server, raqib: Raqib, tmp_path) -> None:
    """kill -9 mid-export left its temporary file (13 MB of JSON Lines) or its
    WACZ's temporary directory beside the target, and nothing removed them.
    The next export into that directory removes Raqib's that are a day old;
    a fresh one (a live export's) and anything not Raqib's stay."""
    _history(server, raqib)
    out = tmp_path / "exports"
    out.mkdir()
    old = 3 * 86400
    stale_file, fresh_file = out / ".raqib-tmp-abc.jsonl", out / ".raqib-tmp-def.jsonl"
    stale_dir, foreign = out / ".raqib-wacz-xyz", out / ".tmp-other.jsonl"
    for p in (stale_file, fresh_file, foreign):
        p.write_bytes(b"{}")
    stale_dir.mkdir()
    (stale_dir / "raqib.warc.gz").write_bytes(b"x")
    for p in (stale_file, stale_dir, foreign):
        t = os.stat(p).st_mtime - old
        os.utime(p, (t, t))
    raqib("export", "--format", "jsonl", "--out", str(out / "e.jsonl"))
    assert not stale_file.exists() and fresh_file.exists() and foreign.exists()
    assert stale_dir.exists()  # a WACZ's own directory: swept by a WACZ export
    raqib("export", "--format", "wacz", "--out", str(out / "e.wacz"))
    assert sorted(p.name for p in out.iterdir()) == [
        ".raqib-tmp-def.jsonl",
        ".tmp-other.jsonl",
        "e.jsonl",
        "e.wacz",
    ]


def test_a_report_lists_its_directory_once(tmp_path, monkeypatch) -> None:
    """A report's 33,000 pages each listed the whole directory for leftovers
    first (13,303 directory reads in 15 s; the second run of a report of
    months took three times the first): once a directory, once a process."""
    from raqib.archive import leftovers
    from raqib.report.site import write_atomic

    listed: list[str] = []
    scandir = os.scandir

    def counting(path):  # type: ignore[no-untyped-def]
        listed.append(str(path))
        return scandir(path)

    monkeypatch.setattr(leftovers.os, "scandir", counting)
    for n in range(50):
        write_atomic(tmp_path / f"page-{n}.html", "<p>صفحة</p>")
    assert listed == [str(tmp_path)] and len(list(tmp_path.iterdir())) == 50
