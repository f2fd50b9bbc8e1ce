"""Scrapy extension: write every fetch to the WARC archive as it arrives.

It listens to `response_downloaded`, which fires before the downloader
middlewares run, so the body is exactly what the server sent (still gzip- or
brotli-encoded if it was). Requests opt in with meta `raqib_capture=True`;
where the record landed goes back into the request's meta as `raqib_warc`:
(file, offset, and for a revisit where its original sits, if known) for the
fetch log row, or a failed future that the recorder
awaits (a full or read-only disk: no archive, no evidence, the pass stops).

Records are digested, gzipped and appended on the reactor thread, as each
response arrives. They used to be written on a thread of their own, since
hashlib, the deflate and the write release the GIL; but each release hands
the GIL to the reactor and back, and those handoffs cost more than the work
they let overlap. Over 300 small pages (bench/run.py --peers) the writer
thread's share was 0.7 ms of CPU a page where the same writes take 0.13 ms
in one thread, and a churn pass took 1.84 s of CPU instead of 1.57. In order
on one thread, the appends and the capture index need no further care. The
index's batches alone, a database write every 200 captures, go to a thread:
a busy database must not hold the reactor, and every download with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path
from typing import Any

import scrapy
import warcio
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured

from raqib.archive.lock import POLL, ArchiveLock
from raqib.archive.warc import Exchange, Previous, WarcArchive
from raqib.crawler.context import context_of, need
from raqib.crawler.session import signalled
from raqib.domain import Shot
from raqib.storage.archive import ArchiveRepo

log = logging.getLogger(__name__)


def _pairs(headers: Any) -> list[tuple[str, str]]:
    out = []
    for name, values in headers.items():
        for value in values:
            out.append((name.decode("latin-1"), value.decode("latin-1")))
    return out


class CaptureIndex:
    """The archive's memory of last captures, kept in the database.

    A pass loads what it needs in one query and writes what it learnt in
    batches: a lost update only means the next capture of that URL is a full
    response instead of a revisit.
    """

    def __init__(self, archive: ArchiveRepo, batch: int = 200) -> None:
        self.archive = archive
        self.known: dict[str, Previous | None] = {}
        self.dirty: dict[str, Previous] = {}
        self.batch = batch
        self.writer: Executor | None = None  # where full batches are written; None: here

    def preload(self, urls: list[str]) -> None:
        found = self.archive.last_captures(urls)
        for url in urls:
            row = found.get(url)
            self.known[url] = Previous(*row) if row else None

    def last_capture(self, url: str) -> Previous | None:
        if url not in self.known:
            found = self.archive.last_capture(url)
            self.known[url] = Previous(*found) if found else None
        return self.known[url]

    def remember_capture(self, url: str, previous: Previous) -> None:
        self.known[url] = self.dirty[url] = previous
        if len(self.dirty) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.dirty:
            batch, self.dirty = self.dirty, {}
            rows = {u: (p.digest, p.uri, p.date, p.file, p.offset) for u, p in batch.items()}
            if self.writer is None:
                self.archive.remember_captures(rows)
            else:
                self.writer.submit(self.archive.remember_captures, rows).add_done_callback(_logged)
            # Handed over: a crawl that lasts a whole pass holds only what it has
            # yet to capture (asked again, a URL is read back from the database).
            for url in batch:
                self.known.pop(url, None)


def _logged(done: Future[None]) -> None:
    """A batch of the index that could not be written costs revisits, not
    evidence: the next capture of those URLs is a full response. A database
    that fails for good stops the pass through the recorder's own writes."""
    exc = done.exception()
    if exc is not None:
        log.warning("could not remember the last captures: %s", exc)


class ArchiveUnavailable(OSError):
    """The crawl's archive could not be opened: each capture fails with it,
    which stops the pass (crawler.record) as a disk that cannot be written does."""


class WarcCapture:
    def __init__(
        self, directory: Path, max_bytes: int, index: CaptureIndex, preload: list[str]
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.index = index
        self.preload = preload
        self.archive: WarcArchive | None = None
        self.lock: ArchiveLock | None = None
        self.broken: ArchiveUnavailable | None = None  # why the archive could not be opened
        self.cpu = 0.0  # seconds spent writing records, on the crawl's thread

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCapture:
        directory = crawler.settings.get("RAQIB_WARC_DIR")
        if not directory:
            raise NotConfigured
        ctx = context_of(crawler)
        ext = cls(
            Path(directory),
            crawler.settings.getint("RAQIB_WARC_MAX_BYTES", 1 << 30),
            need(ctx.capture_index, "capture index"),
            [t.url for t in ctx.tasks],
        )
        ctx.warc = ext  # the recorder archives each new version's rendering through it
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.downloaded, signal=signals.response_downloaded)
        return ext

    async def opened(self) -> None:
        """Holds the archive (see raqib.archive.lock) before the last captures
        are read; while a `raqib gc` holds it, the crawl waits, its reactor
        free (leases are renewed meanwhile), unless the pass is told to stop.
        An archive that cannot be opened (a lock file that cannot be opened,
        no lock service on a network mount, a database that fails as the
        last captures are read) stops the pass at its first capture, as a
        WARC file that cannot be written does: no archive, no evidence."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            held = self.lock = ArchiveLock(self.directory)
            if not held.try_share():
                log.warning("waiting for `raqib gc` to finish removing old WARC files")
                while not held.try_share():
                    if signalled():  # Scrapy (>= 2.18) closes the crawl before any request
                        raise CloseSpider("the pass was stopped while it waited for gc")
                    await asyncio.sleep(POLL)  # another process's lock: nothing else to await
            self._open()
        except CloseSpider:
            raise
        except Exception as exc:  # Scrapy would only log it, and the crawl go on
            log.error("the WARC archive in %s cannot be opened", self.directory, exc_info=True)
            self.broken = ArchiveUnavailable(f"{type(exc).__name__}: {exc}")
            self.broken.__cause__ = exc

    def _open(self) -> None:
        index = self.index
        if self.preload:
            index.preload(self.preload)
        software = (
            f"Raqib (warcio {getattr(warcio, '__version__', '1.x')}; Scrapy {scrapy.__version__})"
        )
        self.archive = WarcArchive(
            self.directory, max_bytes=self.max_bytes, index=index, software=software
        )
        index.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="raqib-captures")

    def expect(self, urls: list[str]) -> None:
        """URLs handed to the crawl while it runs: their last captures are
        looked up in one query."""
        if self.archive is not None:
            self.index.preload(urls)

    def closed(self) -> None:
        if self.index.writer is not None:
            self.index.writer.shutdown(wait=True)
            self.index.writer = None
        try:
            if self.archive is not None:
                self.archive.close()
                try:
                    self.index.flush()
                except Exception as exc:  # the database gone (restarted): as _logged says
                    log.warning("could not remember the last captures: %s", exc)
        finally:
            if self.lock is not None:
                self.lock.release()  # after the last capture is remembered

    def downloaded(self, response: Any, request: Any) -> None:
        if not request.meta.get("raqib_capture"):
            return
        if self.archive is None:
            if self.broken is not None:
                request.meta["raqib_warc"] = _failed(self.broken)
            return
        started = time.thread_time()
        try:
            self._capture(response, request)
        finally:
            self.cpu += time.thread_time() - started

    def _capture(self, response: Any, request: Any) -> None:
        assert self.archive is not None
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        exchange = Exchange(
            url=response.url,
            method=request.method,
            request_headers=_pairs(request.headers),
            status=response.status,
            reason=reason,
            protocol=getattr(response, "protocol", None) or "HTTP/1.1",
            response_headers=_pairs(response.headers),
            body=response.body,
        )
        try:
            capture = self.archive.write(exchange, basis=request.meta.get("raqib_basis", True))
        except Exception as exc:  # raised where the recorder awaits it, as a thread's would be
            request.meta["raqib_warc"] = _failed(exc)
        else:
            request.meta["raqib_warc"] = (capture.file, capture.offset, capture.refers)

    def rendering(self, url: str, dom: bytes | None, shot: Shot | None) -> Future[tuple[str, int]]:
        """Archive a rendered page's DOM and screenshot, in order with the rest."""
        if self.archive is None:
            return _failed(self.broken or RuntimeError("the archive is not open"))
        image = (shot.data, shot.media_type) if shot is not None else None
        done: Future[tuple[str, int]] = Future()
        started = time.thread_time()
        try:
            done.set_result(self.archive.write_rendering(url, dom, image))
        except Exception as exc:
            return _failed(exc)
        finally:
            self.cpu += time.thread_time() - started
        return done


def _failed(exc: Exception) -> Future[tuple[str, int]]:
    done: Future[tuple[str, int]] = Future()
    done.set_exception(exc)
    return done
