"""The archive's lock: `raqib gc` never removes a WARC file from under a pass
or an export, and a pass never writes beside a gc (raqib.archive.lock)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from raqib.archive import lock
from raqib.archive.warc import Exchange, WarcArchive
from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import PageServer, Route
from tests.conftest import Gate, Raqib

T0 = datetime(2026, 5, 1, tzinfo=UTC)
LATER = T0 + timedelta(days=20)


def _two_pages_captured(server: PageServer, raqib: Raqib) -> Path:
    """Two watches fetched once, 20 days before LATER, into one WARC file."""
    for p in ("/a", "/b"):
        server.routes[p] = Route(render(VERSIONS[0], server.base))
    raqib("watch", "--no-fetch", server.base + "/a", server.base + "/b")
    raqib.proc("check", "--all", env={"RAQIB_NOW": T0.isoformat()})
    (old,) = (raqib.home / "warc").glob("*.warc.gz")
    return old


def _records(warc_dir: Path) -> list[dict[str, str]]:
    out = []
    for f in sorted(warc_dir.glob("*.warc.gz")):
        with f.open("rb") as stream:
            for rec in ArchiveIterator(stream):
                h = rec.rec_headers
                out.append({k: h.get_header(k) or "" for k in _HEADERS})
    return out


_HEADERS = (
    "WARC-Type", "WARC-Target-URI", "WARC-Date", "WARC-Refers-To-Target-URI",
    "WARC-Refers-To-Date",
)  # fmt: skip


def _unreplayable(warc_dir: Path) -> list[str]:
    """Revisits whose original response is in no WARC file of the directory."""
    records = _records(warc_dir)
    responses = {
        (r["WARC-Target-URI"], r["WARC-Date"]) for r in records if r["WARC-Type"] == "response"
    }
    return [
        r["WARC-Target-URI"]
        for r in records
        if r["WARC-Type"] == "revisit"
        and r["WARC-Refers-To-Date"]
        and (r["WARC-Refers-To-Target-URI"], r["WARC-Refers-To-Date"]) not in responses
    ]


def _stderr_lines(proc: subprocess.Popen[str]) -> queue.Queue[str | None]:
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _said(lines: queue.Queue[str | None], text: str) -> list[str]:
    """Every line up to the first holding `text` (the process's end fails it)."""
    seen = []
    while (line := lines.get(timeout=120)) is not None:
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"never said {text!r}: {''.join(seen)}")


def test_gc_removes_no_file_while_a_pass_writes_to_the_archive(
    server: PageServer, raqib: Raqib
) -> None:
    """The pass has loaded the captures it will write revisits of: had gc
    removed their file then, the unchanged page's revisit would refer to
    nothing, and the pass would append to a file gc judged old."""
    old = _two_pages_captured(server, raqib)
    server.routes["/b"] = Route(render(VERSIONS[3], server.base))  # edited; /a unchanged
    gate = server.around = Gate(free=0)
    proc = raqib.popen("check", "--all", env={"RAQIB_NOW": LATER.isoformat()})
    try:
        assert gate.held.wait(60), "the pass sent no request"
        raqib.env["RAQIB_NOW"] = (LATER + timedelta(hours=1)).isoformat()
        r = raqib("gc", "--older-than", "5d", "--wait", "0", expect=75)
        assert "no WARC file was removed" in r.err and "--wait" in r.err
        assert old.exists()
    finally:
        gate.open.set()
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    server.around = None
    assert [r["WARC-Type"] for r in _records(old.parent) if "/a" in r["WARC-Target-URI"]] == [
        "response", "request", "revisit", "request"
    ]  # fmt: skip
    raqib("gc", "--older-than", "5d")  # the file holds the pass's records now: kept
    assert old.exists()
    assert _unreplayable(old.parent) == []


def test_a_pass_waits_for_gc_and_an_export_too(
    server: PageServer, raqib: Raqib, tmp_path: Path
) -> None:
    old = _two_pages_captured(server, raqib)
    before = len(server.requests)
    with lock.exclusive(old.parent, wait=0, waiting=lambda: None):
        proc = raqib.popen("check", "--all", env={"RAQIB_NOW": LATER.isoformat()})
        out = tmp_path / "a.warc.gz"
        export = raqib.popen("export", "--format", "warc", "--out", str(out))
        _said(_stderr_lines(proc), "waiting for `raqib gc` to finish")
        _said(_stderr_lines(export), "waiting for `raqib gc` to finish")
        assert server.requests[before:] == [] and not out.exists()
        assert proc.poll() is None and export.poll() is None
    assert proc.wait(timeout=120) == 0 and export.wait(timeout=120) == 0
    assert {p for p, _h in server.requests[before:]} >= {"/a", "/b"}
    with out.open("rb") as f:
        assert sum(1 for r in ArchiveIterator(f) if r.rec_type == "response") == 2


def test_a_pass_stopped_while_it_waits_for_gc_fetches_nothing(
    server: PageServer, raqib: Raqib
) -> None:
    old = _two_pages_captured(server, raqib)
    before = len(server.requests)
    with lock.exclusive(old.parent, wait=0, waiting=lambda: None):
        proc = raqib.popen("check", "--all", env={"RAQIB_NOW": LATER.isoformat()})
        _said(_stderr_lines(proc), "waiting for `raqib gc` to finish")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 130
    assert server.requests[before:] == []
    assert proc.stdout is not None
    assert "stopped by a signal: checked 0 of 2 watches (2 due again)" in proc.stdout.read()


def test_a_pass_that_cannot_hold_the_archive_stops(server: PageServer, raqib: Raqib) -> None:
    """As one whose WARC file cannot be written: no archive, no evidence."""
    old = _two_pages_captured(server, raqib)
    (old.parent / lock.TURN).unlink()
    (old.parent / lock.TURN).mkdir()  # stands in for a lock no file system will give
    r = raqib.proc("check", "--all", env={"RAQIB_NOW": LATER.isoformat()}, expect=1)
    assert "the pass stopped" in r.err and lock.TURN in r.err, r.err
    assert [w["versions"] for w in raqib("watches", "--json").json()] == [1, 1]
    (old.parent / lock.ARCHIVE).unlink()
    (old.parent / lock.ARCHIVE).mkdir()
    r = raqib("gc", "--older-than", "5d", expect=1)
    assert "cannot lock the WARC archive" in r.err and lock.ARCHIVE in r.err, r.err


def test_an_export_that_outwaits_gc_says_so(raqib: Raqib, server: PageServer, monkeypatch) -> None:
    from raqib.app import publish

    old = _two_pages_captured(server, raqib)
    monkeypatch.setattr(publish, "EXPORT_WAIT", 0.0)
    out = old.parent.parent / "x.warc.gz"
    with lock.exclusive(old.parent, wait=0, waiting=lambda: None):
        r = raqib("export", "--format", "warc", "--out", str(out), expect=75)
    assert "`raqib gc` held the archive" in r.err and not out.exists()


def test_a_file_is_old_once_its_last_write_is(server: PageServer, raqib: Raqib) -> None:
    """Discovery's captures have no fetch rows: appended to a file whose
    fetches are all old, they are as new as the file's last write."""
    old = _two_pages_captured(server, raqib)
    os.utime(old, (T0.timestamp(), T0.timestamp()))  # written then, as RAQIB_NOW said
    feed = Exchange(
        url=server.base + "/feed.xml", method="GET", request_headers=[], status=200,
        reason="OK", protocol="HTTP/1.1", response_headers=[], body=b"<rss/>",
    )  # fmt: skip
    archive = WarcArchive(old.parent, max_bytes=1 << 30, index=_NoIndex(), software="test")
    assert archive.write(feed, basis=False).file == old.name  # as a discovery crawl appends
    archive.close()
    raqib.env["RAQIB_NOW"] = LATER.isoformat()
    out = raqib("gc", "--older-than", "5d").out
    assert "0 WARC files" in out and "1 WARC files of older fetches kept: written to since" in out
    assert old.exists()
    os.utime(old, (T0.timestamp(), T0.timestamp()))
    assert "1 WARC files" in raqib("gc", "--older-than", "5d").out


class _NoIndex:
    def last_capture(self, url: str) -> None:
        return None

    def remember_capture(self, url: str, previous: object) -> None:
        return None


def test_gc_holds_back_new_passes_only_once_it_takes_its_turn(tmp_path: Path) -> None:
    running, gc, late = (lock.ArchiveLock(tmp_path) for _ in range(3))
    assert running.try_share()
    assert not gc.try_take(turn=False)  # most of gc's wait: a pass may still start ...
    assert late.try_share()
    late.release()
    assert not gc.try_take()  # ... its last minute: none may
    assert not late.try_share()
    running.release()
    assert gc.try_take()
    gc.release()


def test_a_waiting_gc_goes_before_passes_that_start_after_it(tmp_path: Path) -> None:
    first, second, gc = (lock.ArchiveLock(tmp_path) for _ in range(3))
    assert first.try_share() and second.try_share()  # crawls share the archive
    assert not gc.try_take()  # gc waits for them ...
    second.release()
    late = lock.ArchiveLock(tmp_path)
    assert not late.try_share()  # ... and a crawl that starts meanwhile waits behind it
    first.release()
    assert gc.try_take()
    assert not late.try_share()
    gc.release()
    assert late.try_share()
    late.release()


def test_a_forked_child_does_not_hold_the_archive_on(tmp_path: Path) -> None:
    """An extraction worker or a forkserver forked mid-crawl outlives its
    crawl: gc must not wait for it."""
    crawl = lock.ArchiveLock(tmp_path)
    assert crawl.try_share()
    read, write = os.pipe()
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if (
        pid == 0
    ):  # the child runs (its fork hooks have run) and holds on until the parent has looked
        os.close(write)
        os.write(ready_write, b".")
        os.read(read, 1)
        os._exit(0)
    try:
        os.close(read)
        os.close(ready_write)
        assert os.read(ready_read, 1) == b"."
        crawl.release()
        gc = lock.ArchiveLock(tmp_path)
        assert gc.try_take()
        gc.release()
    finally:
        os.close(write)
        os.close(ready_read)
        os.waitpid(pid, 0)


def test_a_crawl_whose_database_went_away_still_lets_go_of_the_archive(
    tmp_path: Path, caplog
) -> None:
    """The last captures are remembered as the crawl closes: a database that
    went away meanwhile (PostgreSQL restarted) printed a traceback and kept
    the crawl's hold on the archive, which gc waits for. It costs revisits
    only: a warning, and the archive let go."""
    import asyncio

    from raqib.archive.warc import Previous
    from raqib.crawler.capture import CaptureIndex, WarcCapture

    class Gone:
        def last_captures(self, urls: list[str]) -> dict:
            return {}

        def remember_captures(self, rows: dict) -> None:
            raise ConnectionError("server closed the connection unexpectedly")

    capture = WarcCapture(tmp_path, 1 << 20, CaptureIndex(Gone()), ["https://a.example/"])  # type: ignore[arg-type]
    asyncio.run(capture.opened())
    assert capture.archive is not None and capture.broken is None
    capture.index.remember_capture("https://a.example/", Previous("sha1:X", "urn:uuid:1", "d"))
    capture.closed()
    assert "could not remember the last captures: server closed" in caplog.text
    gc = lock.ArchiveLock(tmp_path)
    assert gc.try_take(turn=False)  # no crawl holds it
    gc.release()
