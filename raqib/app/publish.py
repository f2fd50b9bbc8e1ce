"""Publishing and upkeep: the report, the feed, exports, the garbage collector
and discovery sources (the use cases behind `report`, `feed`, `export`, `gc`
and `source`)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from raqib import urls
from raqib.app import retention
from raqib.app.errors import AppError, ArchiveBusy, BadInput, NotFound, describe
from raqib.app.history import check_story, find_watch, parse_since
from raqib.app.home import App, warc_dir
from raqib.archive import lock
from raqib.config import parse_duration, web_base
from raqib.domain import Source

log = logging.getLogger(__name__)
GC_WAIT = 1800.0  # seconds gc waits for the crawls and exports holding the archive
EXPORT_WAIT = 3600.0  # seconds an export waits for a gc (which never waits for more than itself)


def _disk(exc: OSError, what: str) -> AppError:
    return AppError(f"cannot write {what}: {describe(exc)}")


def write_report(app: App, out: Path, filters: dict[str, str] | None = None) -> tuple[int, int]:
    """The static site; its front page lists the latest changes (filtered).
    Returns the files written, and the last report's pages removed."""
    from raqib.app.newsroom import newsroom
    from raqib.report.site import write_site

    news = newsroom(app, filters or {})
    if news.error:
        raise BadInput(news.error)
    try:
        return write_site(app.storage, out, news=news)
    except OSError as exc:
        raise _disk(exc, f"the report to {out}") from exc


def feed(app: App, *, story: str | None, base_url: str | None) -> bytes:
    """The Atom feed; links start with `base_url` (None: [report] base_url)."""
    from raqib.report.feed import build

    base = app.config.report_base() if base_url is None else base_url
    if base and not web_base(base):  # as [report] base_url is checked
        raise BadInput(f"--base-url must be an http(s) address, got {base[:80]!r}")
    if story and app.storage.watches.story_id(story) is None:
        raise NotFound(f"no story {story!r} (see `raqib watches`: its STORIES column)")
    return build(app.storage, base_url=base, story=story, now=app.clock())


def serve(
    app: App,
    host: str,
    port: int,
    token: str | None,
    allow_hosts: tuple[str, ...],
    announce: Callable[[str], None],
) -> None:
    """Serve the report's views from the database until interrupted."""
    from raqib.app.newsroom import provider
    from raqib.report.web import serve as run_server

    run_server(
        app.storage, host, port, token, announce=announce, allow_hosts=allow_hosts,
        newsroom=provider(app),
    )  # fmt: skip


def write_file(path: Path, data: bytes) -> None:
    from raqib.report.site import write_atomic

    try:
        write_atomic(path, data.decode("utf-8"))
    except OSError as exc:
        raise _disk(exc, str(path)) from exc


FORMATS = ("jsonl", "csv", "warc", "wacz")


def export(
    app: App,
    fmt: str,
    out: Path | None,
    *,
    watch: str | None = None,
    story: str | None = None,
    outlet: str | None = None,
    since: str | None = None,
    stdout: TextIO,
) -> int:
    """Write the selection (one watch, a story, an outlet, or everything) as
    jsonl, csv, WARC or WACZ to `out` (None: stdout, jsonl and csv only);
    returns how many records or captures were written."""
    from raqib.archive import export as ex
    from raqib.report.site import atomic

    if sum(x is not None for x in (watch, story, outlet)) > 1:
        raise BadInput("choose one of --watch, --story and --outlet (or none: everything)")
    since_dt: datetime | None = parse_since(
        since, now=app.clock(), zone=app.config.display.timezone
    )
    if fmt in ("warc", "wacz") and out is None:
        raise BadInput(f"--format {fmt} writes a file; give --out FILE")
    if fmt in ("warc", "wacz") and since_dt is not None:
        raise BadInput(f"--since applies to jsonl and csv; a {fmt} export holds every capture")
    if story is not None and story not in app.storage.watches.story_slugs():
        raise NotFound(f"no story {story!r}")
    if outlet is not None and app.storage.outlets.get(outlet, removed=True) is None:
        raise NotFound(f"no outlet {outlet!r}")
    sel = ex.Selection(
        watch_id=find_watch(app, watch).id if watch is not None else None,
        story=story,
        outlet=outlet,
    )
    try:
        if fmt in ("warc", "wacz"):
            assert out is not None
            # Its files stay while they are copied: a gc under way is waited for.
            gc_done = _waiting("`raqib gc` to finish removing old WARC files")
            with lock.shared(warc_dir(app), wait=EXPORT_WAIT, waiting=gc_done):
                if fmt == "wacz":
                    return _wacz(app, out, sel)
                with atomic(out) as binary:
                    return ex.write_warc(app.storage, warc_dir(app), binary, sel, name=out.name)
        writer = ex.write_jsonl if fmt == "jsonl" else ex.write_csv
        if out is None:
            return writer(app.storage, stdout, sel, since=since_dt)
        with atomic(out) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            n = writer(app.storage, text, sel, since=since_dt)
            text.flush()
            text.detach()  # atomic() closes the file itself
            return n
    except ex.MissingCaptures as exc:
        raise AppError(_missing(exc.files, warc_dir(app))) from None
    except ex.OrphanRevisits as exc:
        raise AppError(
            f"{exc.n} captures of the selection are revisits of records in WARC files that "
            "`raqib gc --older-than` removed while they were written (gc on one worker while "
            "another, with a WARC directory of its own, fetched the same pages: the archive's "
            "lock holds within one directory); nothing was written. Export a selection "
            "without them, or share archive.directory between the workers"
        ) from None
    except ex.DamagedCapture as exc:
        raise AppError(
            f"{exc}: nothing was exported. Restore that file from a backup, or export a "
            "selection whose captures are elsewhere (--watch, --story, --outlet)"
        ) from None
    except lock.Busy:
        raise ArchiveBusy(
            f"`raqib gc` held the archive for {EXPORT_WAIT:g} s: nothing was exported (try again)"
        ) from None
    except BrokenPipeError:
        raise  # `| head`: the reader has what it wanted
    except OSError as exc:
        raise _disk(exc, str(out or "stdout")) from exc


def _missing(files: dict[str, int], directory: Path) -> str:
    names = sorted(files)
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return (
        f"{sum(files.values())} captures of the selection are in WARC files not in {directory}: "
        f"{shown} (each name ends with the host that wrote it){_here(names)}. A worker keeps its "
        "WARC files in its own home unless archive.directory names one every worker shares: "
        "copy them here, or export where they are; nothing was written"
    )


def _here(names: list[str]) -> str:
    """Homes on one machine share its name: a file this host wrote is elsewhere on it."""
    from raqib.archive.warc import written_here

    here = sum(1 for name in names if written_here(name))
    if not here:
        return ""
    which = (
        "it was"
        if len(names) == 1
        else (
            "all were" if here == len(names) else f"{here} of them {'was' if here == 1 else 'were'}"
        )
    )
    return (
        f"; {which} written on this machine, by another home on it or into an "
        "archive.directory since changed"
    )


def _wacz(app: App, out: Path, sel: Any) -> int:
    from raqib.archive.wacz import WaczError, write_wacz

    try:
        return write_wacz(app.storage, warc_dir(app), out, sel)
    except WaczError as exc:
        raise AppError(str(exc)) from exc


@dataclass
class Collected:
    bodies: int = 0  # stored page bodies removed
    freed: int = 0  # their compressed bytes
    versions_without_body: int = 0  # versions whose raw body retention dropped
    warc_files: list[str] = field(default_factory=list)  # removed WARC files
    warc_bytes: int = 0
    warc_originals: int = 0  # old WARC files kept: newer revisits refer to records in them
    warc_written_since: int = 0  # WARC files of old fetches kept: written to since the cutoff
    messages: int = 0  # delivered notifications older than SENT_KEPT, removed


SENT_KEPT = timedelta(days=30)  # a delivered notification, for `notify status` and a look back


def gc(
    app: App, *, dry_run: bool, older_than: str | None = None, wait: float = GC_WAIT
) -> Collected:
    """Remove page bodies no version needs. With `older_than` (e.g. "90d"),
    first apply retention: raw bodies of versions first seen before then
    (each watch's latest kept) and WARC files whose every fetch is older.
    Versions, their text and their changes are never dropped. WARC files are
    judged and removed while no crawl or export holds the archive: waited
    for up to `wait` seconds (see raqib.archive.lock)."""
    out = Collected()
    cutoff = None
    if older_than:
        # What it removes cannot be had back: an age in bare seconds ("90")
        # is a slip of the finger, and under a day no retention policy.
        if older_than.strip().replace(".", "", 1).isdigit():
            raise BadInput(f"--older-than {older_than}: give a unit, as in 90d or 12w")
        try:
            age = parse_duration(older_than)
        except ValueError as exc:
            raise BadInput(f"--older-than: {exc}") from None
        if age < timedelta(days=1):
            raise BadInput(f"--older-than {older_than}: at least a day (1d)")
        cutoff = app.clock() - age
    if cutoff is not None:
        out.versions_without_body = app.storage.archive.drop_raw_before(cutoff, dry_run=dry_run)
        with _archive_held(app, dry_run=dry_run, wait=wait):
            old = retention.old_warcs(app, cutoff)
            out.warc_files, out.warc_bytes, out.warc_originals = old.files, old.bytes, old.originals
            out.warc_written_since = old.written_since
            if not dry_run:
                for name in out.warc_files:
                    (warc_dir(app) / name).unlink(missing_ok=True)
                if out.warc_files:
                    app.storage.archive.forget_warc_files(
                        out.warc_files, captured_before=cutoff_iso(cutoff), keep=old.targets
                    )
    out.messages = app.storage.outbox.drop_sent(app.clock() - SENT_KEPT, dry_run=dry_run)
    unused = app.storage.archive.unused_blobs()
    out.bodies = len(unused)
    if dry_run:
        return out
    out.freed = app.storage.archive.delete_blobs(unused)
    if out.freed or out.warc_files:  # VACUUM rewrites the whole file: not for nothing removed
        app.storage.archive.compact()
    return out


@contextmanager
def _archive_held(app: App, *, dry_run: bool, wait: float) -> Iterator[None]:
    """The archive held exclusively (a dry run only reads, and holds nothing)."""
    directory = warc_dir(app)
    if dry_run or not directory.is_dir():
        yield
        return
    waiting = _waiting(f"the passes and exports that hold the archive to end (up to {wait:g} s)")
    with ExitStack() as held:
        try:
            held.enter_context(lock.exclusive(directory, wait=wait, waiting=waiting))
        except lock.Busy:
            raise ArchiveBusy(
                f"passes or exports held the archive for {wait:g} s: no WARC file was removed "
                "(run gc again, or give --wait longer)"
            ) from None
        except OSError as exc:
            raise AppError(f"cannot lock the WARC archive in {directory}: {describe(exc)}") from exc
        yield


def _waiting(what: str) -> Callable[[], None]:
    return lambda: log.warning("waiting for %s", what)


def cutoff_iso(cutoff: datetime | None) -> str:
    return cutoff.strftime("%Y-%m-%dT%H:%M:%S") if cutoff else ""


def add_source(app: App, url: str, *, story: str, kind: str | None) -> tuple[Source, bool]:
    from raqib.discovery.feeds import detect_kind

    check_story(story)
    kind = detect_kind(url, kind)
    if kind == "search" and "{query}" not in url:
        raise BadInput("a search source needs a {query} placeholder in its URL")
    if kind != "search" and "{query}" in url:  # it was stored with "q" in its place
        raise BadInput(
            f"{{query}} is a search source's placeholder: give --kind search, not {kind}"
        )
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
