"""WARC 1.1 capture with warcio: one file per writer, rolled over by size.

Each exchange is a `response` record (the body as the server sent it, before
decompression) followed by its `request` record, linked by
WARC-Concurrent-To. A body whose payload digest equals the previous capture of
the same URL becomes a `revisit` (identical-payload-digest profile); a 304
becomes a `revisit` with the server-not-modified profile.

Files are shared: every process on one host (cron passes, daemon sweeps)
appends to the host's newest file until it passes the size limit, then a new
one starts, so an archive is a few large files rather than one per run. In a
directory several machines share, each appends only to files named after it.
Each exchange is built in memory as whole gzip members and appended with one
write() under an exclusive flock(), which also tells the writer its offset.
A killed process (SIGKILL) therefore never leaves half a record behind: a
write() to a local file is not cut short by a signal.
"""

from __future__ import annotations

import fcntl
import glob
import io
import os
import re
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

try:  # ISA-L's deflate: a quarter of zlib's CPU at level 1, for smaller members
    from isal import isal_zlib as _deflate
except ImportError:  # no isal wheel for this machine (see pyproject.toml)
    import zlib as _deflate  # type: ignore[no-redef]

WARC_VERSION = "WARC/1.1"
NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
PREFIX = "RAQIB"
_SKIP_HEADERS = {"transfer-encoding"}  # the body is stored de-chunked


@dataclass(frozen=True)
class Capture:
    file: str  # name of the WARC file, relative to the WARC directory
    offset: int  # where the response or revisit record starts
    record_type: str  # response | revisit
    payload_digest: str | None
    refers: tuple[str, int] | None = None  # a revisit's original: (file, offset), when known


@dataclass(frozen=True)
class Previous:
    digest: str
    uri: str
    date: str  # WARC-Date of the capture a revisit refers to
    file: str | None = None  # where that capture's record sits, when known
    offset: int | None = None

    def place(self) -> tuple[str, int] | None:
        return (
            (self.file, self.offset) if self.file is not None and self.offset is not None else None
        )


class CaptureIndex(Protocol):
    """Remembers the last full capture of each URL, across runs and workers."""

    def last_capture(self, url: str) -> Previous | None: ...

    def remember_capture(self, url: str, previous: Previous) -> None: ...


@dataclass
class Exchange:
    url: str
    method: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    protocol: str
    response_headers: list[tuple[str, str]]
    body: bytes


def _file_name(serial: int, now: datetime) -> str:
    """Annex C of the WARC spec: Prefix-Timestamp-Serial-Crawlhost.warc.gz."""
    stamp = now.strftime("%Y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}"
    return f"{PREFIX}-{stamp}-{serial:05d}-{_host()}.warc.gz"


def _host() -> str:
    return socket.gethostname().replace("-", "_").replace("/", "_")[:64] or "localhost"


def written_here(name: str) -> bool:
    """Whether a WARC file's name says this machine wrote it (its last part)."""
    return name.endswith(f"-{_host()}.warc.gz")


_SERIAL = re.compile(rf"^{PREFIX}-\d{{17}}-(\d{{5,}})-.*\.warc\.gz$")


def _serial_of(name: str) -> int:
    m = _SERIAL.match(name)
    return int(m.group(1)) if m else 0


class WarcArchive:
    def __init__(
        self, directory: Path, *, max_bytes: int, index: CaptureIndex, software: str
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.index = index
        self.software = software
        self.fd: int | None = None
        self.name: str | None = None
        self.lock = threading.Lock()

    # --- files ------------------------------------------------------------------

    def _newest(self) -> str | None:
        """This host's newest file. Only this host appends to the files named after it: in a
        directory several machines share, their locks and appends would not be atomic."""
        names = [
            p.name
            for p in self.directory.glob(f"{PREFIX}-*-{glob.escape(_host())}.warc.gz")
            if _serial_of(p.name)
        ]
        return max(names, key=_serial_of) if names else None

    def _open(self) -> None:
        """Append to this host's newest file, or start the next one."""
        self.directory.mkdir(parents=True, exist_ok=True)
        newest = self._newest()
        if newest is not None and (self.directory / newest).stat().st_size < self.max_bytes:
            self.fd = os.open(self.directory / newest, os.O_WRONLY | os.O_APPEND)
            self.name = newest
            return
        self._create(_serial_of(newest) + 1 if newest else 1)

    def _create(self, serial: int) -> None:
        while True:
            name = _file_name(serial, datetime.now(UTC))
            try:
                self.fd = os.open(
                    self.directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644
                )
            except FileExistsError:
                serial += 1
                continue
            self.name = name
            break

    def _warcinfo(self) -> bytes:
        writer, buf = self._writer()
        info = {
            "software": self.software,
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
            "robots": "obey",
            "description": "Raqib: refetches of watched news articles and discovery sources",
        }
        writer.write_record(writer.create_warcinfo_record(self.name, info))
        return buf.getvalue()

    def _writer(self) -> tuple[WARCWriter, _Members]:
        buf = _Members()
        return WARCWriter(buf, gzip=False, warc_version=WARC_VERSION), buf

    def _append(self, data: bytes) -> tuple[str, int]:
        """Under an exclusive lock on the file: roll over if full, then one write()."""
        while True:
            if self.fd is None:
                self._open()
            assert self.fd is not None and self.name is not None
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            try:
                size = os.fstat(self.fd).st_size
                if size >= self.max_bytes:
                    serial = _serial_of(self.name) + 1
                    # Unlocked before the close, which drops the lock only if no
                    # forked process (an extraction worker) shares the descriptor.
                    fcntl.flock(self.fd, fcntl.LOCK_UN)
                    os.fsync(self.fd)  # its records are on disk before their rows (sync)
                    os.close(self.fd)
                    self.fd = None
                    self._create(serial)
                    continue
                header = self._warcinfo() if size == 0 else b""
                view = memoryview(header + data)
                try:
                    while view:
                        n = os.write(self.fd, view)
                        view = view[n:]
                except BaseException:
                    # Part of a record (a disk full after its first bytes) would
                    # leave every later record unreadable to a tool that reads
                    # the file from its start: cut back to where it began.
                    os.ftruncate(self.fd, size)
                    raise
                return self.name, size + len(header)
            finally:
                if self.fd is not None:
                    fcntl.flock(self.fd, fcntl.LOCK_UN)

    def sync(self) -> None:
        """Put what was written on disk: called before the rows that point at
        it commit, so that a power cut never leaves a row pointing at bytes
        the disk never had (the rows may be lost with it: the records are then
        only unreferenced)."""
        with self.lock:
            if self.fd is not None:
                os.fsync(self.fd)

    def close(self) -> None:
        with self.lock:
            if self.fd is not None:
                os.fsync(self.fd)
                os.close(self.fd)
                self.fd = None

    # --- records ------------------------------------------------------------------

    def write(self, ex: Exchange, *, basis: bool = True) -> Capture:
        """The exchange's records; `basis`: later fetches of the URL may be
        written as revisits of this one. Not so for a fetch no watch owns (a
        discovery candidate's): an export holds a watch's own fetches only,
        and a revisit of a record outside it could not be replayed."""
        with self.lock:
            data, record_type, digest, date, previous = self._records(ex)
            name, offset = self._append(data)
        if basis and record_type == "response" and ex.status == 200 and digest:
            self.index.remember_capture(ex.url, Previous(digest, ex.url, date, name, offset))
        refers = previous.place() if record_type == "revisit" and previous is not None else None
        return Capture(name, offset, record_type, digest, refers)

    def write_rendering(
        self, url: str, dom: bytes | None, shot: tuple[bytes, str] | None
    ) -> tuple[str, int]:
        """A rendered page's DOM (a `conversion` record of the URL: the server's
        document after its scripts ran) and its screenshot (a `resource`
        record, urn:screenshot:URL, as Browsertrix names them); returns where
        the first record starts."""
        writer, buf = self._writer()
        if dom is not None:
            writer.write_record(writer.create_warc_record(
                url, "conversion", payload=io.BytesIO(dom), length=len(dom),
                warc_content_type="text/html; charset=utf-8",
            ))  # fmt: skip
        if shot is not None:
            data, media_type = shot
            writer.write_record(writer.create_warc_record(
                f"urn:screenshot:{url}", "resource", payload=io.BytesIO(data), length=len(data),
                warc_content_type=media_type,
            ))  # fmt: skip
        with self.lock:
            return self._append(buf.getvalue())

    def _records(self, ex: Exchange) -> tuple[bytes, str, str | None, str, Previous | None]:
        """The response (or revisit) and request records of one exchange,
        gzipped, and the capture a revisit would refer to."""
        writer, buf = self._writer()
        resp_headers = StatusAndHeaders(
            f"{ex.status} {ex.reason}".strip(),
            [(k, v) for k, v in ex.response_headers if k.lower() not in _SKIP_HEADERS],
            protocol=ex.protocol or "HTTP/1.1",
        )
        previous = self.index.last_capture(ex.url)
        digest: str | None
        if ex.status == 304:
            record = writer.create_warc_record(ex.url, "revisit", http_headers=resp_headers)
            record.rec_headers.add_header("WARC-Profile", NOT_MODIFIED_PROFILE)
            if previous is not None:
                record.rec_headers.add_header("WARC-Refers-To-Target-URI", previous.uri)
                record.rec_headers.add_header("WARC-Refers-To-Date", previous.date)
            record_type, digest = "revisit", None
        else:
            record = writer.create_warc_record(
                ex.url,
                "response",
                payload=io.BytesIO(ex.body),
                length=len(ex.body),
                http_headers=resp_headers,
            )
            digest = record.rec_headers.get_header("WARC-Payload-Digest")
            record_type = "response"
            if previous is not None and digest and digest == previous.digest and ex.status == 200:
                record = writer.create_revisit_record(
                    ex.url, digest, previous.uri, previous.date, http_headers=resp_headers
                )
                record_type = "revisit"
        request = writer.create_warc_record(
            ex.url,
            "request",
            http_headers=StatusAndHeaders(
                f"{ex.method} {_target(ex.url)} HTTP/1.1", ex.request_headers, is_http_request=True
            ),
        )
        writer.write_request_response_pair(request, record)
        date = record.rec_headers.get_header("WARC-Date")
        return buf.getvalue(), record_type, digest, date, previous


class _Members:
    """A write target for warcio that gzips each record as its own member, at
    level 1: warcio's own wrapper uses level 9, which costs ten times the CPU
    for a few percent of size — and a pass writes a record per fetch. The
    members are standard gzip whichever deflate made them."""

    LEVEL = 1

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.current: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.current.append(data)
        return len(data)

    def flush(self) -> None:
        # warcio flushes after each record: that closes one gzip member.
        if self.current:
            c = _deflate.compressobj(self.LEVEL, _deflate.DEFLATED, 16 + _deflate.MAX_WBITS)
            self.parts.append(c.compress(b"".join(self.current)) + c.flush())
            self.current = []

    def getvalue(self) -> bytes:
        self.flush()
        return b"".join(self.parts)


def _target(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def record_head(f: BinaryIO, offset: int) -> dict[str, str]:
    """The WARC headers of the record at `offset` of an open WARC file (its
    payload is not read)."""
    from warcio.archiveiterator import ArchiveIterator

    f.seek(offset)
    for record in ArchiveIterator(f):
        return dict(record.rec_headers.headers)
    return {}
