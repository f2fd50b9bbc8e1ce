"""raqib — watch news articles, keep every version, highlight silent edits.

The composition root: every command parses its arguments, opens the home
(database + raqib.toml + clock) and calls one function. Exit codes:
0 success, 1 failure, 2 bad input, 4 unknown watch, 75 another pass is running.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from platformdirs import user_data_dir

from raqib import console

EXIT_FAIL, EXIT_USAGE, EXIT_UNKNOWN, EXIT_BUSY = 1, 2, 4, 75

log = logging.getLogger("raqib")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _fail(message: str, code: int = EXIT_FAIL) -> NoReturn:
    click.echo(f"raqib: {message}", err=True)
    sys.exit(code)


class Ctx:
    def __init__(self, home: Path, verbose: int) -> None:
        self.home = home
        self.verbose = verbose

    @contextmanager
    def app(self, *, readonly: bool = False) -> Iterator[Any]:
        from raqib import app as tasks
        from raqib.config import ConfigError
        from raqib.storage import StoreError, StoreFailure

        try:
            app = tasks.open_app(self.home, readonly=readonly)
        except (tasks.HomeError, ConfigError, ValueError) as exc:
            _fail(str(exc), EXIT_FAIL)
        except Exception as exc:  # a database that cannot be opened or migrated
            _fail(f"{self._disk_hint()}cannot open the database in {self.home}: {_describe(exc)}")
        try:
            yield app
        except StoreError as exc:
            _fail(str(exc))
        except (OSError, StoreFailure, tasks.PassFailed) as exc:
            _fail(self._disk_hint() + _describe(exc))
        finally:
            app.close()

    def _disk_hint(self) -> str:
        """SQLite reports a full disk as a mere I/O error at times: say what it is."""
        import shutil

        try:
            free = shutil.disk_usage(self.home).free
        except OSError:
            return ""
        return f"the disk is full ({free:,} bytes free): " if free < 1_000_000 else ""


def _describe(exc: BaseException) -> str:
    """A one-line description of an error, with the usual disk problems named."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    lowered = text.lower()
    if ("disk" in lowered and "full" in lowered) or "no space" in lowered:
        return f"the disk is full ({text})"
    if "readonly" in lowered or "read-only" in lowered:
        return f"the database or its directory is read-only ({text})"
    return text


class _Guarded(click.Group):
    """Unexpected errors become one line on stderr and exit 1 (-v shows the traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (
            click.exceptions.Exit,
            click.ClickException,
            click.Abort,
            SystemExit,
            KeyboardInterrupt,
        ):
            raise
        except Exception as exc:
            if ctx.params.get("verbose"):
                raise
            _fail(f"unexpected error: {_describe(exc)} (run with -v for the details)")


@click.group(
    cls=_Guarded, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="RAQIB_HOME",
    default=lambda: user_data_dir("raqib", appauthor=False),
    show_default="the platform's user data dir",
    help="Where the database (raqib.db), raqib.toml and archives live. Also RAQIB_HOME.",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.version_option(package_name="raqib")
@click.pass_context
def main(ctx: click.Context, home: Path, verbose: int) -> None:
    """Raqib (رقيب) watches news articles, keeps every version and tells
    cosmetic edits from substantive ones — and silent edits from announced ones.

    \b
    Typical use:
      raqib watch https://example.com/news/story --story my-story
      raqib check                 # from cron, or `raqib daemon`
      raqib changes --json        # what changed, classified
      raqib diff URL              # the highlighted edit

    Set RAQIB_NOW=<ISO 8601> to make every command act as if it were that time.
    """
    console.setup(max(logging.WARNING - 10 * verbose, logging.DEBUG))
    ctx.obj = Ctx(home.expanduser(), verbose)


# --- watch ------------------------------------------------------------------------


@main.command()
@click.argument("urls", nargs=-1, required=True)
@click.option(
    "--story", metavar="SLUG", help="Group these articles under a story (created if new)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the watches as JSON.")
@click.pass_obj
def watch(obj: Ctx, urls: tuple[str, ...], story: str | None, as_json: bool) -> None:
    """Start watching articles. Idempotent: watching a URL twice is a no-op.

    URLS are http(s) addresses; "-" reads more, one per line, from stdin.
    Tracking parameters (utm_*, fbclid, …) and fragments are removed so one
    article is one watch. The first check happens on the next `raqib check`.
    """
    from raqib.urls import BadURL, redact

    items: list[str] = []
    for u in urls:
        if u == "-":
            items.extend(
                line.strip() for line in sys.stdin if line.strip() and not line.startswith("#")
            )
        else:
            items.append(u)
    if story is not None and not story.strip():
        _fail("--story needs a non-empty slug", EXIT_USAGE)
    from raqib import app as tasks
    from raqib import urls as urlmod

    for u in items:
        try:
            urlmod.normalize(u)
        except BadURL as exc:
            _fail(f"cannot watch {redact(u)[:120]!r}: {exc}", EXIT_USAGE)
    with obj.app() as app:
        results = tasks.add_watches(app, items, story=story)
    if as_json:
        _emit_json([{"url": r.url, "created": r.created, "id": r.watch_id} for r in results])
        return
    for r in results:
        click.echo(f"{'watching' if r.created else 'already watching'} {r.url}")


# --- check --------------------------------------------------------------------------


@main.command()
@click.option("--all", "all_watches", is_flag=True, help="Check every watch now, due or not.")
@click.option(
    "--wait",
    is_flag=True,
    help="If another pass holds the due watches, wait for it instead of exiting 75.",
)
@click.option(
    "--wait-timeout",
    type=float,
    metavar="SECONDS",
    help="Give up waiting after this long (exit 75).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary line.")
@click.option("--json", "as_json", is_flag=True, help="Print the pass summary as JSON.")
@click.pass_obj
def check(
    obj: Ctx, all_watches: bool, wait: bool, wait_timeout: float | None, quiet: bool, as_json: bool
) -> None:
    """Run one pass over the watches that are due, then exit (for cron).

    Exits 0 when the pass ran — fetch errors are recorded in the log, not
    fatal — and 75 at once when another pass holds the due watches (use
    --wait to wait for it). Prints a progress bar on a terminal and one
    summary line otherwise.
    """
    from raqib import app as tasks

    with obj.app() as app:
        progress = None
        show_bar = not quiet and not as_json and sys.stderr.isatty()
        if show_bar:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            progress = Progress(
                TextColumn("checking"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=True,
            )
        bar: list[Any] = []

        def on_start(n: int) -> None:
            if progress is not None:
                progress.start()
                bar.append(progress.add_task("check", total=n))

        def on_recorded(_task: Any, _rec: Any) -> None:
            if progress is not None and bar:
                progress.advance(bar[0])

        try:
            summary = tasks.run_check(
                app,
                all_watches=all_watches,
                wait=wait,
                wait_timeout=wait_timeout,
                on_start=on_start,
                on_recorded=on_recorded if progress is not None else None,
            )
        except tasks.PassBusy as exc:
            _fail(f"{exc}; nothing to do (use --wait to wait for it)", EXIT_BUSY)
        finally:
            if progress is not None:
                progress.stop()
    if as_json:
        _emit_json(
            {
                "claimed": summary.claimed,
                "processes": summary.processes,
                "outcomes": dict(summary.counts),
                "substantive": summary.substantive,
                "cosmetic": summary.cosmetic,
                "seconds": round(summary.seconds, 3),
            }
        )
    elif not quiet:
        click.echo(summary.line())


# --- reading history ------------------------------------------------------------------


def _watch_or_exit(app: Any, url: str) -> Any:
    from raqib import app as tasks

    w = tasks.find_watch(app, url)
    if w is None:
        _fail(f"no watch for {url} (see `raqib watches`)", EXIT_UNKNOWN)
    return w


@main.command()
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print the versions as a JSON list.")
@click.pass_obj
def versions(obj: Ctx, url: str, as_json: bool) -> None:
    """List the stored versions of an article (by any URL it answered to)."""
    from raqib.present.records import version_record

    with obj.app(readonly=True) as app:
        w = _watch_or_exit(app, url)
        rows = app.store.versions(w.id)
        evidence = app.store.evidence(w.id)
    data = [version_record(v, evidence.get(v.id)) for v in rows]
    if as_json:
        _emit_json(data)
        return
    click.echo(w.url)
    for d in data:
        click.echo(
            f"  v{d['version']}  first seen {d['first_seen']}  last seen {d['last_seen']}  {d['title']}"
        )


@main.command()
@click.option("--url", help="Only this article.")
@click.option("--story", metavar="SLUG", help="Only articles of this story.")
@click.option("--since", metavar="ISO8601", help="Only changes detected at or after this time.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as a JSON list.")
@click.pass_obj
def changes(obj: Ctx, url: str | None, story: str | None, since: str | None, as_json: bool) -> None:
    """List detected changes, oldest first, with their classification.

    Each change says whether it is cosmetic or substantive, silent (no update
    signal) or announced, whether the headline or byline changed, and lists
    the figures, quotations and negations it touched.
    """
    from raqib.clock import parse_instant

    since_dt = None
    if since:
        try:
            since_dt = parse_instant(since)
        except ValueError:
            _fail(f"--since {since!r} is not an ISO 8601 time", EXIT_USAGE)
    with obj.app(readonly=True) as app:
        watch_id = _watch_or_exit(app, url).id if url else None
        rows = app.store.changes(watch_id=watch_id, since=since_dt, story=story)
    from raqib.present.records import change_record

    data = [change_record(c, w, a, b) for c, w, a, b in rows]
    if as_json:
        _emit_json(data)
        return
    if not data:
        click.echo("no changes")
    for d in data:
        flags = [d["kind"]]
        if d["silent"]:
            flags.append("SILENT")
        if d["headline_changed"]:
            flags.append("headline")
        if d["facts"].get("numbers"):
            flags.append("figures")
        if d["facts"].get("quotes"):
            flags.append("quotes")
        click.echo(
            f"{d['detected_at']}  v{d['from_version']}→v{d['to_version']}  {', '.join(flags):40}  {d['url']}"
        )


@main.command(name="log")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print the fetch log as a JSON list.")
@click.pass_obj
def log_cmd(obj: Ctx, url: str, as_json: bool) -> None:
    """Show every fetch of an article, oldest first, with its outcome.

    Outcomes: new_version, unchanged, not_modified (304), not_article (the
    page was not the article: bot check, error page, empty body), error,
    removed (404/410), restored (back after removal, unchanged).
    """
    with obj.app(readonly=True) as app:
        w = _watch_or_exit(app, url)
        rows = app.store.fetches(w.id)
        numbers = {v.id: v.number for v in app.store.versions(w.id)}
    from raqib.present.records import fetch_record

    data = [fetch_record(f, numbers.get(f.version_id) if f.version_id else None) for f in rows]
    if as_json:
        _emit_json(data)
        return
    click.echo(w.url)
    for d in data:
        extra = f"  v{d['version']}" if d["version"] else ""
        click.echo(
            f"  {d['fetched_at']}  {d['status'] or '-':>3}  {d['outcome']:<12}{extra}  {d['detail'] or ''}"
        )


@main.command()
@click.argument("url")
@click.option(
    "--from", "from_n", type=int, metavar="N", help="Older version (default: the one before --to)."
)
@click.option("--to", "to_n", type=int, metavar="M", help="Newer version (default: the latest).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "html", "json"]),
    default="text",
    show_default=True,
)
@click.option("--context", is_flag=True, help="Text format: show unchanged sentences too.")
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text format (default: when stdout is a terminal).",
)
@click.pass_obj
def diff(
    obj: Ctx,
    url: str,
    from_n: int | None,
    to_n: int | None,
    fmt: str,
    context: bool,
    color: bool | None,
) -> None:
    """Show what changed between two versions of an article.

    Sentences are aligned across the versions and labelled added, deleted,
    edited, moved or cosmetic; edited ones show word-level highlights.
    Changed figures, quotations and negations are listed first. The HTML
    format is a standalone right-to-left page; JSON carries everything.
    """
    from raqib import app as tasks
    from raqib.diffs.classify import compare
    from raqib.diffs.render import DiffMeta, to_html, to_json, to_text

    with obj.app(readonly=True) as app:
        w = _watch_or_exit(app, url)
        try:
            old, new = tasks.version_pair(app, w, from_n, to_n)
        except LookupError as exc:
            _fail(str(exc), EXIT_USAGE)
    analysis = compare(old, new)
    meta = DiffMeta(
        url=w.url,
        from_version=old.number,
        to_version=new.number,
        from_seen=_iso(old.first_seen),
        to_seen=_iso(new.first_seen),
        old_title=old.title,
        new_title=new.title,
        language=new.language,
    )
    if fmt == "json":
        _emit_json(to_json(analysis, meta))
    elif fmt == "html":
        click.echo(to_html(analysis, meta))
    else:
        from rich.console import Console

        use_color = sys.stdout.isatty() if color is None else color
        console = Console(
            file=sys.stdout,
            force_terminal=use_color,
            no_color=not use_color,
            highlight=False,
            soft_wrap=True,
        )
        console.print(to_text(analysis, meta, markers=not use_color, context=context))


@main.command(name="watches")
@click.option("--json", "as_json", is_flag=True, help="Print the watches as a JSON list.")
@click.pass_obj
def watches_cmd(obj: Ctx, as_json: bool) -> None:
    """List watched articles with their story, origin and state."""
    with obj.app(readonly=True) as app:
        from raqib.present.records import watch_record

        data = [watch_record(w, slug, app.store.aliases(w.id)) for w, slug in app.store.watches()]
    if as_json:
        _emit_json(data)
        return
    if not data:
        click.echo("no watches yet: raqib watch URL")
    for d in data:
        click.echo(
            f"{d['id']:>5}  {d['state']:<8} v{d['versions']:<3} {d['last_outcome'] or 'never checked':<13} "
            f"{d['story'] or '-':<24} {d['url']}"
        )


@main.group()
def source() -> None:
    """Manage the sources where related coverage of a story is found.

    A source is an RSS or Atom feed, a sitemap (news sitemaps and sitemap
    indexes too), or a search-feed URL template with a {query} placeholder
    that Raqib fills with the story's key terms. Links inside the story's
    watched articles are always followed as well.
    """


@source.command(name="add")
@click.argument("url")
@click.option("--story", metavar="SLUG", required=True, help="The story this source feeds.")
@click.option(
    "--kind",
    type=click.Choice(["rss", "atom", "sitemap", "search"]),
    help="Detected when omitted ({query} in the URL means search).",
)
@click.pass_obj
def source_add(obj: Ctx, url: str, story: str, kind: str | None) -> None:
    """Add a discovery source to a story (idempotent)."""
    from raqib.urls import BadURL, normalize, redact
    from raqib.discovery.feeds import detect_kind

    kind = detect_kind(url, kind)
    if kind == "search" and "{query}" not in url:
        _fail("a search source needs a {query} placeholder in its URL", EXIT_USAGE)
    try:
        checked = normalize(url.replace("{query}", "q"))
    except BadURL as exc:
        _fail(f"cannot add {redact(url)[:120]!r}: {exc}", EXIT_USAGE)
    stored = url.strip() if kind == "search" else checked
    with obj.app() as app:
        src, created = app.store.add_source(stored, story=story, kind=kind, now=app.clock())
    click.echo(
        f"{'added' if created else 'already a source'}: {src.url} ({src.kind}) for story {story}"
    )


@source.command(name="list")
@click.option("--story", metavar="SLUG", help="Only this story's sources.")
@click.option("--json", "as_json", is_flag=True, help="Print the sources as a JSON list.")
@click.pass_obj
def source_list(obj: Ctx, story: str | None, as_json: bool) -> None:
    """List discovery sources with when they were last read and what they gave."""
    with obj.app(readonly=True) as app:
        rows = app.store.sources(story)
    data = [
        {
            "url": src.url,
            "story": slug,
            "kind": src.kind,
            "added_at": _iso(src.added_at),
            "last_checked_at": _iso(src.last_checked_at),
            "last_status": src.last_status,
            "entries": src.entries_seen,
        }
        for src, slug in rows
    ]
    if as_json:
        _emit_json(data)
        return
    if not data:
        click.echo("no sources: raqib source add URL --story SLUG")
    for d in data:
        click.echo(
            f"{d['story']:<24} {d['kind']:<8} {d['url']}  [{d['last_status'] or 'never read'}]"
        )


@source.command(name="remove")
@click.argument("url")
@click.option("--story", metavar="SLUG", help="Only from this story.")
@click.pass_obj
def source_remove(obj: Ctx, url: str, story: str | None) -> None:
    """Remove a discovery source (the articles it found stay watched)."""
    from raqib.urls import BadURL, normalize

    with obj.app() as app:
        n = app.store.remove_source(url.strip(), story)
        if not n:
            try:
                n = app.store.remove_source(normalize(url), story)
            except BadURL:
                n = 0
    if not n:
        _fail(f"no source {url}", EXIT_UNKNOWN)
    click.echo(f"removed {n} source{'s' if n != 1 else ''}")


@main.command()
@click.option("--story", metavar="SLUG", help="Only this story (default: every story).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="Only the summary line.")
@click.pass_obj
def discover(obj: Ctx, story: str | None, as_json: bool, quiet: bool) -> None:
    """Find related coverage now: read sources, judge candidates, watch the related.

    Each candidate is fetched, extracted and scored against the story's seed
    articles (TF-IDF on Arabic-normalised text); those at or above
    discovery.threshold are watched as "discovered". Links to private or
    loopback addresses are refused unless their source lives there too or
    fetch.allow_private is set. The report says what was added and why.
    """
    from raqib import app as tasks

    with obj.app() as app:
        try:
            report = tasks.discover(app, story=story)
        except LookupError as exc:
            _fail(str(exc), EXIT_UNKNOWN)
    if as_json:
        _emit_json(
            {"sources": report.sources, "candidates": report.candidates, "notes": report.notes}
        )
        return
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    added = report.added
    click.echo(
        f"read {len(report.sources)} source document{'s' if len(report.sources) != 1 else ''}, "
        f"judged {len(report.candidates)} candidates, added {len(added)}"
    )
    if quiet:
        return
    for src in report.sources:
        what = src["error"] or f"{src['kind']}, {src['entries']} entries"
        click.echo(f"  source {src['url']}: {what}")
    order = {"added": 0, "rejected": 1, "known": 2, "blocked": 3, "error": 4}
    for c in sorted(
        report.candidates, key=lambda c: (order.get(c["decision"], 9), -(c["score"] or 0))
    ):
        score = f"{c['score']:.3f}" if c["score"] is not None else "  -  "
        terms = (
            f" [{', '.join(c['terms'][:5])}]" if c.get("terms") and c["decision"] == "added" else ""
        )
        click.echo(f"  {c['decision']:<8} {score}  {c['url']}{terms}")
        click.echo(f"           {c['reason']}")


@main.group()
def notify() -> None:
    """Tell the newsroom when an edit lands: apprise URLs or JSON webhooks.

    Each channel has rules (--when) and optionally a story and keywords.
    Messages are queued in the database and delivered with retries, so a
    channel that is down never slows or breaks a pass. The webhook payload
    schema is raqib.event/1 (see the README).
    """


def _redact_secret(url: str) -> str:
    """Channel URLs carry tokens: show the scheme and host only."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***"
    host = rest.split("/", 1)[0].split("@")[-1]
    return f"{scheme}://{host}/…" if "/" in rest or "@" in rest else f"{scheme}://{host}"


@notify.command(name="add")
@click.argument("url")
@click.option("--story", metavar="SLUG", help="Only this story's events (default: every story).")
@click.option(
    "--when",
    "when",
    multiple=True,
    type=click.Choice(
        ["substantive", "silent", "headline", "figures", "quotes", "removed", "coverage", "all"]
    ),
    help="What to be told about (repeatable; default: substantive).",
)
@click.option(
    "--keyword",
    "keywords",
    multiple=True,
    metavar="WORD",
    help="Only changes whose changed text contains this word (repeatable; spelling variants match).",
)
@click.option("--digest", is_flag=True, help="One message per pass instead of one per event.")
@click.pass_obj
def notify_add(
    obj: Ctx,
    url: str,
    story: str | None,
    when: tuple[str, ...],
    keywords: tuple[str, ...],
    digest: bool,
) -> None:
    """Add a notification channel: an apprise URL (tgram://, slack://, mailto://,
    json://, …) or an http(s) URL that receives JSON POSTs."""
    from raqib.notify.deliver import kind_of, valid_apprise

    url = url.strip()
    kind = kind_of(url)
    if kind == "apprise" and not valid_apprise(url):
        _fail(
            f"{_redact_secret(url)} is not a URL apprise understands (see https://github.com/caronc/apprise)",
            EXIT_USAGE,
        )
    with obj.app() as app:
        ch, created = app.store.add_channel(
            url,
            kind=kind,
            story=story,
            when=list(when) or ["substantive"],
            keywords=list(keywords),
            digest=digest,
            origin="cli",
            now=app.clock(),
        )
    click.echo(
        f"{'added' if created else 'updated'} channel {ch.id}: {kind} {_redact_secret(url)} when {', '.join(ch.when)}"
    )


@notify.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print the channels as JSON (URLs redacted).")
@click.pass_obj
def notify_list(obj: Ctx, as_json: bool) -> None:
    """List notification channels (their URLs redacted: they hold tokens)."""
    with obj.app() as app:
        from raqib import app as tasks

        tasks.sync_config_channels(app)
        rows = app.store.channels()
    data = [
        {
            "id": c.id,
            "url": _redact_secret(c.url),
            "kind": c.kind,
            "story": slug,
            "when": c.when,
            "keywords": c.keywords,
            "digest": c.digest,
            "origin": c.origin,
            "enabled": c.enabled,
        }
        for c, slug in rows
    ]
    if as_json:
        _emit_json(data)
        return
    if not data:
        click.echo("no channels: raqib notify add URL")
    for d in data:
        state = "" if d["enabled"] else " (disabled)"
        click.echo(
            f"{d['id']:>3}  {d['kind']:<8} {d['url']:<40} {', '.join(d['when'])}  story={d['story'] or '*'}{state}"
        )


@notify.command(name="remove")
@click.argument("channel")
@click.pass_obj
def notify_remove(obj: Ctx, channel: str) -> None:
    """Remove a channel, by its id (see `raqib notify list`) or its URL."""
    with obj.app() as app:
        n = app.store.remove_channel(channel.strip())
    if not n:
        _fail(f"no channel {channel}", EXIT_UNKNOWN)
    click.echo(f"removed {n} channel{'s' if n != 1 else ''}")


@notify.command(name="status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def notify_status(obj: Ctx, as_json: bool) -> None:
    """Show what was sent, what waits for a retry, and what failed, per channel."""
    with obj.app(readonly=True) as app:
        counts = app.store.outbox_counts()
        channels = app.store.channels()
        recent = [
            (o, c) for o, c in app.store.outbox(limit=200) if o.status != "sent" and o.last_error
        ]
    data = {
        "channels": [
            {
                "id": c.id,
                "url": _redact_secret(c.url),
                "sent": counts.get((c.id, "sent"), 0),
                "pending": counts.get((c.id, "pending"), 0),
                "failed": counts.get((c.id, "failed"), 0),
            }
            for c, _slug in channels
        ],
        "problems": [
            {
                "channel": c.id,
                "status": o.status,
                "attempts": o.attempts,
                "next_attempt_at": _iso(o.next_attempt_at) if o.status == "pending" else None,
                "error": o.last_error,
                "event": o.key,
            }
            for o, c in recent[:50]
        ],
    }
    if as_json:
        _emit_json(data)
        return
    for ch in data["channels"]:
        click.echo(
            f"channel {ch['id']} {ch['url']}: {ch['sent']} sent, {ch['pending']} pending, {ch['failed']} failed"
        )
    for p in data["problems"]:
        when = f", next try {p['next_attempt_at']}" if p["next_attempt_at"] else ""
        click.echo(
            f"  {p['status']:<8} after {p['attempts']} attempts{when}: {p['error']}  [{p['event']}]"
        )


@notify.command(name="flush")
@click.option(
    "--timeout", type=float, default=60.0, show_default=True, help="Stop after this many seconds."
)
@click.option("--quiet", "-q", is_flag=True, help="No summary line.")
@click.pass_obj
def notify_flush(obj: Ctx, timeout: float, quiet: bool) -> None:
    """Deliver queued messages now (including those waiting for a retry that is due)."""
    from raqib import app as tasks

    with obj.app() as app:
        result = tasks.flush_notifications(app, timeout=timeout)
    if not quiet:
        click.echo(
            f"{result.sent} sent, {result.retrying} to retry later, {result.failed} given up"
        )


@notify.command(name="test")
@click.argument("channel")
@click.pass_obj
def notify_test(obj: Ctx, channel: str) -> None:
    """Send a test message right now to a channel (its id or URL); exit 1 if it fails."""
    from raqib.notify.deliver import kind_of, send
    from raqib.notify.events import SCHEMA

    with obj.app() as app:
        rows = app.store.channels()
        match = [c for c, _ in rows if str(c.id) == channel.strip() or c.url == channel.strip()]
        url = match[0].url if match else channel.strip()
        kind = match[0].kind if match else kind_of(url)
        now = _iso(app.clock())
    payload = {
        "schema": SCHEMA,
        "event": "change",
        "test": True,
        "story": None,
        "url": "https://example.com/raqib-test",
        "headline": "رسالة تجريبية من رقيب",
        "old_headline": "رسالة تجريبية من رقيب",
        "from_version": 1,
        "to_version": 2,
        "detected_at": now,
        "kind": "substantive",
        "silent": True,
        "headline_changed": False,
        "byline_changed": False,
        "signals": [],
        "facts": {
            "numbers": [{"removed": ["3.5"], "added": ["3.3"]}],
            "quotes": [],
            "negations": [],
        },
        "counts": {},
        "excerpt": [
            {
                "label": "edit",
                "before": "بلغت الصادرات [−3.5] مليون برميل",
                "after": "بلغت الصادرات [+3.3] مليون برميل",
            }
        ],
        "link": "https://example.com/raqib-test",
        "warc": None,
    }
    try:
        send(kind, url, payload)
    except Exception as exc:
        _fail(f"test message to {_redact_secret(url)} failed: {exc}")
    click.echo(f"test message sent to {_redact_secret(url)}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the schedule as a JSON list.")
@click.option(
    "--limit", type=int, default=50, show_default=True, help="Show at most this many (0: all)."
)
@click.pass_obj
def schedule(obj: Ctx, as_json: bool, limit: int) -> None:
    """List upcoming checks, soonest first, with why each is due then.

    A watch's interval follows the age of its last change (the curve in
    `raqib config`), backs off after errors, and stops once it is retired.
    """
    with obj.app(readonly=True) as app:
        now = app.clock()
        rows = [(w, slug) for w, slug in app.store.watches() if w.state != "retired"]
        rows.sort(key=lambda r: r[0].next_check_at)
        retired = sum(1 for w, _ in app.store.watches() if w.state == "retired")
    if limit:
        rows = rows[:limit]
    data = [
        {
            "url": w.url,
            "story": slug,
            "state": w.state,
            "next_check_at": _iso(w.next_check_at),
            "due": w.next_check_at <= now,
            "in_seconds": max(0, int((w.next_check_at - now).total_seconds())),
            "last_checked_at": _iso(w.last_checked_at),
            "last_change_at": _iso(w.last_change_at),
            "last_outcome": w.last_outcome,
            "error_count": w.error_count,
        }
        for w, slug in rows
    ]
    if as_json:
        _emit_json(data)
        return
    if not data:
        click.echo("nothing scheduled")
    for d in data:
        when = "due now" if d["due"] else f"in {_human(d['in_seconds'])}"
        errors = f"  ({d['error_count']} errors)" if d["error_count"] else ""
        click.echo(f"{d['next_check_at']}  {when:<14} {d['state']:<8} {d['url']}{errors}")
    if retired:
        click.echo(f"({retired} retired watch{'es' if retired != 1 else ''} not shown)")


def _human(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds}s"


@main.command()
@click.option(
    "--every",
    type=float,
    metavar="SECONDS",
    help="Seconds between sweeps (default: schedule.sweep_every, 60).",
)
@click.option(
    "--discover-every",
    type=float,
    metavar="SECONDS",
    help="Seconds between discovery runs (default: schedule.discover_every; 0 turns discovery off).",
)
@click.option(
    "--jitter",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Random delay added to each run (default: a tenth of the interval, at most 30s).",
)
@click.pass_obj
def daemon(
    obj: Ctx, every: float | None, discover_every: float | None, jitter: float | None
) -> None:
    """Run forever: a sweep over due watches every minute, discovery on its own interval.

    Each sweep is a `raqib check` in a child process, so a crash in one sweep
    never stops the daemon and memory stays flat. SIGTERM or Ctrl-C lets the
    running sweep finish its in-flight fetches (each is one transaction) and
    exits 0. Safe to run beside cron: overlapping passes share work per watch.
    """
    from raqib import config as config_mod
    from raqib import app as tasks
    from raqib.scheduler import Daemon, DaemonOptions

    try:
        tasks.ensure_home(obj.home)
        cfg = config_mod.load(obj.home)
    except (tasks.HomeError, config_mod.ConfigError) as exc:
        _fail(str(exc))
    sweep = (
        every
        if every is not None
        else config_mod.parse_duration(cfg.schedule.sweep_every).total_seconds()
    )
    disc = (
        discover_every
        if discover_every is not None
        else config_mod.parse_duration(cfg.schedule.discover_every).total_seconds()
    )
    if sweep <= 0:
        _fail("--every must be positive", EXIT_USAGE)
    log.setLevel(min(log.getEffectiveLevel(), logging.INFO))
    logging.getLogger("raqib.daemon").setLevel(logging.INFO)
    for h in logging.root.handlers:
        h.setLevel(min(h.level, logging.INFO))
    opts = DaemonOptions(
        home=obj.home,
        every=sweep,
        discover_every=disc or None,
        jitter=jitter if jitter is not None else min(sweep / 10, 30.0),
    )
    from raqib import app as tasks_mod

    try:
        app = tasks_mod.open_app(obj.home)
    except Exception as exc:
        _fail(f"cannot open the database in {obj.home}: {_describe(exc)}")
    try:
        code = Daemon(opts, due=lambda: app.store.count_due(now=app.clock())).run()
    finally:
        app.close()
    sys.exit(code)


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory to write the site into (created if missing).",
)
@click.pass_obj
def report(obj: Ctx, out: Path) -> None:
    """Write a static, self-contained HTML report: stories, articles, changes.

    Works from file:// and offline (no CDN, no scripts). Each change page has
    inline and side-by-side views with word-level highlights, right-to-left
    where the text is, fact deltas above the text and links to the archived
    page source; each article page has a timeline of its versions.
    """
    from raqib.report.site import write_site

    with obj.app(readonly=True) as app:
        try:
            n = write_site(app.store, out)
        except OSError as exc:
            _fail(f"cannot write the report to {out}: {_describe(exc)}")
    click.echo(f"wrote {n} files to {out} (open {out / 'index.html'})")


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind. Anything but loopback requires a token.",
)
@click.option("--port", default=8765, show_default=True, type=int, help="Port (0: any free port).")
@click.option(
    "--token",
    envvar="RAQIB_TOKEN",
    help="Required on every request when bound off loopback. Also RAQIB_TOKEN.",
)
@click.pass_obj
def serve(obj: Ctx, host: str, port: int, token: str | None) -> None:
    """Serve the report's views live from the database, read-only.

    Bound to 127.0.0.1 by default. To share it on a network, bind another
    address and give a --token (or RAQIB_TOKEN); clients send it as
    "Authorization: Bearer TOKEN" or open any page once with ?token=TOKEN.
    """
    from raqib.report.web import is_loopback
    from raqib.report.web import serve as run_server

    if not is_loopback(host) and not token:
        _fail(
            f"binding {host} exposes the report beyond this machine: give --token (or RAQIB_TOKEN)",
            EXIT_USAGE,
        )
    if token is not None and len(token) < 12:
        _fail("the token must be at least 12 characters", EXIT_USAGE)
    with obj.app(readonly=True) as app:
        try:
            run_server(app.store, host, port, token, announce=lambda m: click.echo(m, err=True))
        except OSError as exc:
            _fail(f"cannot serve on {host}:{port}: {_describe(exc)}")
        except KeyboardInterrupt:
            pass


@main.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write the Atom feed to ('-' for stdout).",
)
@click.option("--story", metavar="SLUG", help="Only changes of this story.")
@click.option(
    "--base-url",
    default="http://127.0.0.1:8765/",
    show_default=True,
    help="Where the report lives: entry links point at its change pages.",
)
@click.pass_obj
def feed(obj: Ctx, out: Path, story: str | None, base_url: str) -> None:
    """Write an Atom feed of changes: one entry per change, fact deltas in the summary."""
    from raqib.report.feed import build

    with obj.app(readonly=True) as app:
        data = build(app.store, base_url=base_url, story=story)
    if str(out) == "-":
        sys.stdout.buffer.write(data)
        return
    from raqib.report.site import write_atomic

    try:
        write_atomic(out, data.decode("utf-8"))
    except OSError as exc:
        _fail(f"cannot write {out}: {_describe(exc)}")
    click.echo(f"wrote {out}")


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "warc"]),
    required=True,
    help="jsonl/csv: versions and changes; warc: the captures of one story.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write ('-' for stdout, jsonl and csv only).",
)
@click.option("--story", metavar="SLUG", help="Only this story (required for --format warc).")
@click.option(
    "--since", metavar="ISO8601", help="Only versions and changes first seen at or after this time."
)
@click.pass_obj
def export(obj: Ctx, fmt: str, out: Path, story: str | None, since: str | None) -> None:
    """Export history for hand-off: JSON Lines, CSV, or one story's WARC captures.

    JSON Lines holds one record per line, tagged "watch", "version" or
    "change", in the same form as --json output. The WARC export copies every
    capture of the story's articles (responses, revisits, their requests)
    into one file that pywb or ReplayWeb.page can open.
    """
    from raqib.archive import export as ex
    from raqib.clock import parse_instant

    since_dt = None
    if since:
        try:
            since_dt = parse_instant(since)
        except ValueError:
            _fail(f"--since {since!r} is not an ISO 8601 time", EXIT_USAGE)
    if fmt == "warc" and not story:
        _fail("--format warc needs --story SLUG", EXIT_USAGE)
    if fmt == "warc" and str(out) == "-":
        _fail("--format warc writes a file; give --out FILE.warc.gz", EXIT_USAGE)
    from raqib import app as tasks

    with obj.app(readonly=True) as app:
        if story and story not in app.store.story_slugs():
            _fail(f"no story {story!r}", EXIT_UNKNOWN)
        try:
            if fmt == "warc":
                n = ex.write_warc(app.store, tasks.warc_dir(app), out, story=story or "")
                click.echo(f"wrote {n} captures to {out}", err=True)
                return
            stream = sys.stdout if str(out) == "-" else out.open("w", encoding="utf-8", newline="")
            try:
                writer = ex.write_jsonl if fmt == "jsonl" else ex.write_csv
                n = writer(app.store, stream, story=story, since=since_dt)
            finally:
                if stream is not sys.stdout:
                    stream.close()
        except OSError as exc:
            _fail(f"cannot write {out}: {_describe(exc)}")
    if str(out) != "-":
        click.echo(f"wrote {n} records to {out}", err=True)


@main.command()
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@click.pass_obj
def gc(obj: Ctx, dry_run: bool) -> None:
    """Remove stored page bodies that no version needs any more, then compact.

    Raw bodies are stored once per content hash and shared between versions;
    a body is removable once no version refers to it. WARC files are never
    touched: they are the archive.
    """
    from raqib.storage import sqlite

    with obj.app() as app:
        unused = app.store.unused_blobs()
        if dry_run:
            click.echo(f"{len(unused)} stored page bodies are used by no version")
            return
        freed = app.store.delete_blobs(unused)
        if sqlite.is_sqlite(str(app.store.engine.url)):
            sqlite.vacuum(app.store.engine)
    click.echo(f"removed {len(unused)} unused page bodies ({freed:,} compressed bytes)")


@main.command(name="config")
@click.option("--defaults", is_flag=True, help="Print the built-in defaults, ignoring raqib.toml.")
@click.pass_obj
def config_cmd(obj: Ctx, defaults: bool) -> None:
    """Print the configuration in effect (raqib.toml over the defaults), as TOML.

    Copy the output to <home>/raqib.toml and edit what you need; unknown
    keys and wrong types are reported with their line number.
    """
    from raqib import config as config_mod

    if defaults:
        cfg = config_mod.Config()
    else:
        try:
            cfg = config_mod.load(obj.home)
        except config_mod.ConfigError as exc:
            _fail(str(exc))
    click.echo(f"# {obj.home / config_mod.FILE_NAME}")
    for section, values in cfg.to_dict().items():
        click.echo(f"\n[{section}]")
        for key, value in values.items():
            click.echo(f"{key} = {json.dumps(value, ensure_ascii=False)}")


@main.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the demo's home here (default: a temporary directory).",
)
@click.option(
    "--port", type=int, default=0, help="Port for the local demo server (default: any free port)."
)
@click.pass_obj
def demo(obj: Ctx, keep: Path | None, port: int) -> None:
    """Watch a small evolving copy of the seed article, served on 127.0.0.1.

    No network needed: the pages ship with Raqib. The demo serves five
    versions of an Arabic report (page furniture churn, a cosmetic edit, a
    silent edit, an announced update), runs `raqib check` after each, and
    prints the highlighted diffs.
    """
    from raqib.demo.run import run_demo

    code = run_demo(home=keep, port=port, out=sys.stdout)
    sys.exit(code)


if __name__ == "__main__":
    main()
