"""Scrapy extension: write every fetch to the WARC archive as it arrives.

It listens to `response_downloaded`, which fires before the downloader
middlewares run, so the body is exactly what the server sent (still gzip- or
brotli-encoded if it was). Requests opt in with meta `raqib_capture=True`;
where the record landed goes back into the request's meta as `raqib_warc`
(file, offset), for the fetch log row.
"""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from typing import Any

import scrapy
import warcio
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from archive.warc import Exchange, Previous, WarcArchive


def _pairs(headers: Any) -> list[tuple[str, str]]:
    out = []
    for name, values in headers.items():
        for value in values:
            out.append((name.decode("latin-1"), value.decode("latin-1")))
    return out


class StoreCaptureIndex:
    """The archive's memory of last captures, kept in the database."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def last_capture(self, url: str) -> Previous | None:
        found = self.store.last_capture(url)
        return Previous(*found) if found else None

    def remember_capture(self, url: str, previous: Previous) -> None:
        self.store.remember_capture(url, previous.digest, previous.uri, previous.date)


class WarcCapture:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.archive: WarcArchive | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCapture:
        directory = crawler.settings.get("RAQIB_WARC_DIR")
        if not directory:
            raise NotConfigured
        ext = cls(Path(directory), crawler.settings.getint("RAQIB_WARC_MAX_BYTES", 1 << 30))
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.downloaded, signal=signals.response_downloaded)
        return ext

    def opened(self, spider: Any) -> None:
        index = getattr(spider, "capture_index", None)
        if index is None:
            return
        software = (
            f"Raqib (warcio {getattr(warcio, '__version__', '1.x')}; Scrapy {scrapy.__version__})"
        )
        self.archive = WarcArchive(
            self.directory, max_bytes=self.max_bytes, index=index, software=software
        )

    def closed(self, spider: Any) -> None:
        if self.archive is not None:
            self.archive.close()

    def downloaded(self, response: Any, request: Any, spider: Any) -> None:
        if self.archive is None or not request.meta.get("raqib_capture"):
            return
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        try:
            capture = self.archive.write(
                Exchange(
                    url=response.url,
                    method=request.method,
                    request_headers=_pairs(request.headers),
                    status=response.status,
                    reason=reason,
                    protocol=getattr(response, "protocol", None) or "HTTP/1.1",
                    response_headers=_pairs(response.headers),
                    body=response.body,
                )
            )
        except OSError as exc:
            # No archive, no evidence: a full or read-only disk stops the pass.
            recorder = getattr(spider, "recorder", None)
            if recorder is not None:
                recorder.fail(exc)
            raise
        request.meta["raqib_warc"] = (capture.file, capture.offset)
