"""Publishing and upkeep: the report, the feed, exports, the garbage collector
and discovery sources (the use cases behind `report`, `feed`, `export`, `gc`
and `source`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from raqib import urls
from raqib.app.errors import AppError, BadInput, NotFound, describe
from raqib.app.history import parse_since
from raqib.app.home import App, warc_dir
from raqib.domain import Source


def _disk(exc: OSError, what: str) -> AppError:
    return AppError(f"cannot write {what}: {describe(exc)}")


def write_report(app: App, out: Path) -> int:
    from raqib.report.site import write_site

    try:
        return write_site(app.storage, out)
    except OSError as exc:
        raise _disk(exc, f"the report to {out}") from exc


def feed(app: App, *, story: str | None, base_url: str) -> bytes:
    from raqib.report.feed import build

    return build(app.storage, base_url=base_url, story=story)


def serve(
    app: App,
    host: str,
    port: int,
    token: str | None,
    allow_hosts: tuple[str, ...],
    announce: Callable[[str], None],
) -> None:
    """Serve the report's views from the database until interrupted."""
    from raqib.report.web import serve as run_server

    run_server(app.storage, host, port, token, announce=announce, allow_hosts=allow_hosts)


def write_file(path: Path, data: bytes) -> None:
    from raqib.report.site import write_atomic

    try:
        write_atomic(path, data.decode("utf-8"))
    except OSError as exc:
        raise _disk(exc, str(path)) from exc


def export(
    app: App, fmt: str, out: Path | None, *, story: str | None, since: str | None, stdout: TextIO
) -> int:
    """Write jsonl, csv or a story's WARC to `out` (None: stdout); returns the count."""
    from raqib.archive import export as ex

    since_dt: datetime | None = parse_since(since)
    if fmt == "warc" and not story:
        raise BadInput("--format warc needs --story SLUG")
    if fmt == "warc" and out is None:
        raise BadInput("--format warc writes a file; give --out FILE.warc.gz")
    if story and story not in app.storage.watches.story_slugs():
        raise NotFound(f"no story {story!r}")
    try:
        if fmt == "warc":
            assert out is not None and story is not None
            return ex.write_warc(app.storage, warc_dir(app), out, story=story)
        writer = ex.write_jsonl if fmt == "jsonl" else ex.write_csv
        if out is None:
            return writer(app.storage, stdout, story=story, since=since_dt)
        with out.open("w", encoding="utf-8", newline="") as stream:
            return writer(app.storage, stream, story=story, since=since_dt)
    except OSError as exc:
        raise _disk(exc, str(out or "stdout")) from exc


def gc(app: App, *, dry_run: bool) -> tuple[int, int]:
    """Remove page bodies no version needs; returns (how many, compressed bytes freed)."""
    unused = app.storage.archive.unused_blobs()
    if dry_run:
        return len(unused), 0
    freed = app.storage.archive.delete_blobs(unused)
    app.storage.archive.compact()
    return len(unused), freed


def add_source(app: App, url: str, *, story: str, kind: str | None) -> tuple[Source, bool]:
    from raqib.discovery.feeds import detect_kind

    kind = detect_kind(url, kind)
    if kind == "search" and "{query}" not in url:
        raise BadInput("a search source needs a {query} placeholder in its URL")
    try:
        checked = urls.normalize(url.replace("{query}", "q"))
    except urls.BadURL as exc:
        raise BadInput(f"cannot add {urls.redact(url)[:120]!r}: {exc}") from None
    stored = url.strip() if kind == "search" else checked
    return app.storage.discovery.add_source(stored, story=story, kind=kind, now=app.clock())


def sources(app: App, story: str | None) -> list[Source]:
    return app.storage.discovery.sources(story)


def remove_source(app: App, url: str, *, story: str | None) -> int:
    repo = app.storage.discovery
    n = repo.remove_source(url.strip(), story)
    if not n:
        try:
            n = repo.remove_source(urls.normalize(url), story)
        except urls.BadURL:
            n = 0
    if not n:
        raise NotFound(f"no source {url}")
    return n
