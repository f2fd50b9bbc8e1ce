"""Commands that add watches and read their history back."""

from __future__ import annotations

import dataclasses
import itertools
import sys
from collections.abc import Callable
from typing import Any, TextIO

import click

from raqib.app import change_list, history, manage, preview
from raqib.cli.base import EXIT_USAGE, Ctx, Once, emit, emit_each, emit_json, fail
from raqib.cli.progress import counting
from raqib.domain import ChangeRow
from raqib.present import records as rec
from raqib.present import text


@click.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--story", "stories", metavar="SLUG", multiple=True,
    help="Group these articles under a story (created if new); one at a time.",
)  # fmt: skip
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Tag the watches (repeatable).")
@click.option(
    "--from-csv", "csv_file", type=click.File("r", encoding="utf-8-sig"), metavar="FILE",
    help="Watch every row of a CSV with a 'url' column ('stories' and 'tags' too, "
    "several separated by ';'), as `watches --format csv` writes it. '-' reads stdin.",
)  # fmt: skip
@click.option(
    "--strict", is_flag=True, help='With "-": refuse the whole list if one line is not a URL.'
)
@click.option(
    "--no-fetch",
    is_flag=True,
    help='Only add the watches; the next `raqib check` fetches them (always so with "-").',
)
@click.option(
    "--render/--no-render", default=None,
    help="Fetch through a browser (Chromium), for pages whose scripts build the article; "
    "each new version is also photographed. --no-render goes back to plain fetches.",
)  # fmt: skip
@click.option(
    "--screenshots/--no-screenshots", default=None,
    help="Photograph each new version of a plain watch too (a browser opens only "
    "when the page's bytes changed).",
)  # fmt: skip
@click.option(
    "--allow-private", is_flag=True,
    help='With "-" or --from-csv: accept addresses on this machine or an intranet '
    "(a list names public sites only, since it may come from elsewhere).",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the watches as JSON.")
@click.pass_obj
def watch(
    obj: Ctx,
    urls: tuple[str, ...],
    stories: tuple[str, ...],
    tags: tuple[str, ...],
    csv_file: TextIO | None,
    strict: bool,
    no_fetch: bool,
    render: bool | None,
    screenshots: bool | None,
    allow_private: bool,
    as_json: bool,
) -> None:
    """Start watching articles. Idempotent: watching a URL twice is a no-op.

    URLS are http(s) addresses. Tracking parameters (utm_*, fbclid, …) and
    fragments are removed so one article is one watch. Each new watch is
    fetched at once (its first version) and what Raqib reads in it is shown:
    the headline, the lede, the first words, how many paragraphs, tables and
    words, and the verdict. If the lede or the body is missing, it shows.

    "-" reads URLs from stdin, one per line (blank lines and # comments are
    skipped): a list of any length is imported in short batches, so a running
    pass is never held up; lines that are not web addresses are reported by
    number and the rest imported (--strict refuses the whole list instead).
    A list may come from elsewhere, so it names public sites only: a line on
    localhost or an intranet address is refused unless --allow-private is
    given (a URL typed here may name one).
    Watching a URL again adds the story and tags to its watch, and takes an
    unwatched or retired one back (an outlet's, kept by hand from then on);
    --render/--no-render and --screenshots change how it is fetched from then on.
    """
    if len(set(stories)) > 1:  # click would keep the last one, silently
        raise click.UsageError(
            "one --story at a time: watching a URL again with another --story adds it to that "
            "story too"
        )
    story = stories[0] if stories else None
    mode = history.fetch_mode(render, screenshots)
    if csv_file is not None:
        with obj.app() as app:
            done = manage.import_csv(
                app, csv_file, story=story, tags=tags, on_batch=_progress(as_json), mode=mode,
                allow_private=allow_private or app.config.fetch.allow_private,
            )  # fmt: skip
        _imported(done, 0, as_json)
        return
    if not urls:
        raise click.UsageError("give URLs, '-' to read them from stdin, or --from-csv FILE")
    if "-" in urls:
        first = [u for u in urls if u != "-"]
        _import(obj, first, story, tags, strict, as_json, mode, allow_private)
        return
    with obj.app() as app:
        added = history.add_watches(app, list(urls), story=story, tags=tags)
        app.storage.watches.set_fetch_mode([w.id for w, _c in added], mode)
        if no_fetch:
            data = [rec.document("watched", url=w.url, created=c, id=w.id) for w, c in added]
            emit(data, as_json, text.watched(data))
            return
        preview.fetch_now(app, [w for w, created in added if created])
        shown = preview.previews(app, [w for w, _c in added])
    data = [rec.preview_record(p, created=c) for p, (_w, c) in zip(shown, added, strict=True)]
    lines = [line for d in data for line in (*text.watched([d]), *list(text.preview(d))[1:])]
    emit(data, as_json, lines)


@click.command(name="preview")
@click.argument("urls", nargs=-1, required=True)
@click.option(
    "--render", is_flag=True, help="Through the browser, as `watch --render` fetches (Chromium)."
)
@click.option("--json", "as_json", is_flag=True, help="Print what was read as JSON.")
@click.pass_obj
def preview_cmd(obj: Ctx, urls: tuple[str, ...], render: bool, as_json: bool) -> None:
    """Fetch pages once and show what Raqib would monitor in them; stores nothing.

    For each URL: the headline, the lede, the first words, how many
    paragraphs, tables and words were read, and the verdict (an article, or
    not, and why). Uses this home's settings ([fetch]), never its database.
    """
    shown = preview.preview(obj.home, list(urls), render=render)
    data = [rec.preview_record(p) for p in shown]
    emit(data, as_json, [line for d in data for line in text.preview(d)])


def _import(
    obj: Ctx,
    first: list[str],
    story: str | None,
    tags: tuple[str, ...],
    strict: bool,
    as_json: bool,
    mode: dict[str, bool],
    allow_private: bool,
) -> None:
    lines = itertools.chain(first, sys.stdin)
    with obj.app() as app:
        done = history.import_watches(
            app, lines, story=story, tags=tags, strict=strict, on_batch=_progress(as_json),
            mode=mode, allow_private=allow_private or app.config.fetch.allow_private,
            typed=len(first),
        )  # fmt: skip
    _imported(done, len(first), as_json)


def _progress(as_json: bool) -> Callable[[history.Imported], None]:
    show = sys.stderr.isatty() and not as_json

    def progress(done: history.Imported) -> None:
        if show:
            click.echo(f"\r{done.created + done.existing:,} URLs imported …", nl=False, err=True)

    return progress


def _imported(done: history.Imported, skip: int, as_json: bool) -> None:
    if sys.stderr.isatty() and not as_json:
        click.echo("", err=True)
    for number, why in done.invalid:
        click.echo(f"raqib: line {number - skip}: not imported: {why}", err=True)
    data = rec.document(
        "import",
        created=done.created,
        existing=done.existing,
        invalid=[{"line": n - skip, "error": why} for n, why in done.invalid],
    )
    emit(data, as_json, [text.imported(data)])
    if done.invalid and not (done.created or done.existing):
        raise SystemExit(EXIT_USAGE)  # nothing imported: a script must be able to tell


@click.command()
@click.argument("url", metavar="WATCH")
@click.option("--json", "as_json", is_flag=True, help="Print the versions as a JSON list.")
@click.pass_obj
def versions(obj: Ctx, url: str, as_json: bool) -> None:
    """List the stored versions of an article (WATCH: its id, or any URL it answered to)."""
    with obj.app(readonly=True) as app:
        w, rows, evidence = history.versions(app, url)
    data = [rec.version_record(v, evidence.get(v.id)) for v in rows]
    emit(data, as_json, text.versions(w.url, data))


@click.command()
@click.option("--url", "watch", cls=Once, metavar="WATCH", help="Only this article (id or URL).")
@click.option("--story", cls=Once, metavar="SLUG", help="Only articles of this story.")
@click.option("--outlet", cls=Once, metavar="NAME", help="Only articles of this outlet.")
@click.option("--tag", cls=Once, metavar="TAG", help="Only articles with this tag.")
@click.option("--silent", is_flag=True, help="Only silent changes (no update signal).")
@click.option("--kind", type=click.Choice(["substantive", "cosmetic"]), help="Only this kind.")
@click.option(
    "--facts", multiple=True, type=click.Choice(list(change_list.FACTS)),
    help="Only changes that touched figures, quotes or a negation (repeatable: any of them).",
)  # fmt: skip
@click.option(
    "--since",
    metavar="WHEN",
    help="Only changes detected since WHEN: 30m, 12h, 2d, 1w, today, yesterday or an ISO 8601 time.",
)
@click.option(
    "--search", metavar="TEXT",
    help="Only changes whose edited sentences or headline hold TEXT (spelling variants match).",
)  # fmt: skip
@click.option(
    "--last", type=click.IntRange(1, 10**9), metavar="N",
    help="Only the newest N of them (still listed oldest first); says how many there are.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the changes as a JSON list.")
@click.option(
    "--rejudge", is_flag=True,
    help="Judge again now, and store, every change an older Raqib judged (passes do "
    f"{change_list.REJUDGE_PER_PASS} a pass; a list judges them again each time meanwhile); lists nothing.",
)  # fmt: skip
@click.pass_obj
def changes(
    obj: Ctx, as_json: bool, facts: tuple[str, ...], last: int | None, rejudge: bool,
    **filters: Any,
) -> None:  # fmt: skip
    """List detected changes, oldest first, with their classification.

    Each change says whether it is cosmetic or substantive, silent (no update
    signal) or announced, whether the headline or byline changed, and lists
    the figures, quotations and negations it touched.

    \b
    raqib changes --silent --kind substantive --since 2d
    raqib changes --outlet aljazeera --facts figures --search "الضحايا"
    raqib changes --last 20          # a home of months: the newest twenty
    """
    if rejudge:
        if as_json or facts or last is not None or any(v for v in filters.values()):
            raise click.UsageError("--rejudge judges every change an older Raqib judged: alone")
        with obj.app() as app, counting("judging again", change_list.stale(app)) as advance:
            done = change_list.rejudge(app, progress=advance)
        click.echo(f"raqib: judged {done:,} changes again", err=True)
        return
    if not filters["silent"]:
        filters["silent"] = None
    with obj.app(readonly=True) as app:
        if left := change_list.stale(app):
            click.echo(
                f"raqib: {left:,} changes were judged by an older Raqib: each is judged again "
                f"as it is listed (slower); passes store {change_list.REJUDGE_PER_PASS} a pass, "
                "`raqib changes --rejudge` all of them now",
                err=True,
            )
        f = change_list.ChangeFilter(url=filters.pop("watch"), facts=facts, **filters)
        if last is None:  # a home of months: printed as read, a page of changes at a time
            each = change_list.each_change(app, f)
            emit_each((_record(r) for r in each), as_json, text.changes)
            return
        rows, total = change_list.changes(app, f, first=last, order="newest")
    data = [_record(r) for r in rows]
    emit(data, as_json, text.changes(data))
    if total > len(rows) and not as_json:
        click.echo(f"raqib: the newest {len(rows)} of {total:,} changes", err=True)


def _record(r: ChangeRow) -> dict[str, Any]:
    return rec.change_record(r.change, r.watch, r.from_number, r.to_number)


@click.command(name="log")
@click.argument("url", metavar="WATCH")
@click.option("--json", "as_json", is_flag=True, help="Print the fetch log as a JSON list.")
@click.pass_obj
def log_cmd(obj: Ctx, url: str, as_json: bool) -> None:
    """Show every fetch of an article (id or URL), oldest first, with its outcome.

    Outcomes: new_version, unchanged, not_modified (304), not_article (the
    page was not the article: bot check, error page, empty body), error,
    removed (404/410), restored (back after removal, unchanged).
    """
    with obj.app(readonly=True) as app:
        w, rows = history.fetch_log(app, url)
    data = [rec.fetch_record(f, number) for f, number in rows]
    emit(data, as_json, text.fetch_log(w.url, data))


@click.command()
@click.argument("url", metavar="WATCH")
@click.option(
    "--from", "from_n", type=int, metavar="N", help="Older version (default: the one before --to)."
)
@click.option("--to", "to_n", type=int, metavar="M", help="Newer version (default: the latest).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "html", "json"]), default="text",
    show_default=True,
)  # fmt: skip
@click.option("--context", is_flag=True, help="Text format: show unchanged sentences too.")
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text format (default: when stdout is a terminal).",
)
@click.option(
    "--no-markers",
    is_flag=True,
    help="Text format: drop the [-deleted-] {+inserted+} markers (colour alone shows them; "
    "so with colour only).",
)
@click.option(
    "--isolate/--no-isolate",
    default=None,
    help="Wrap article text in Unicode bidi isolates, for terminals that lay out "
    "right-to-left text (default: when stdout is a terminal).",
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
    no_markers: bool,
    isolate: bool | None,
) -> None:
    """Show what changed between two versions of an article (WATCH: id or URL).

    Sentences are aligned across the versions and labelled added, deleted,
    edited, moved or cosmetic; edited ones show word-level highlights.
    Changed figures, quotations and negations are listed first. The HTML
    format is a standalone right-to-left page; JSON carries everything.
    Consecutive versions show the analysis stored when the change was found.
    """
    from raqib.diffs.render import DiffMeta, to_html, to_text
    from raqib.present import when

    with obj.app(readonly=True) as app:
        d = history.diff(app, url, from_n, to_n)
    meta = DiffMeta(
        url=d.watch.url, from_version=d.old.number, to_version=d.new.number,
        from_seen=rec.iso(d.old.first_seen), to_seen=rec.iso(d.new.first_seen),
        old_title=d.old.title, new_title=d.new.title, language=d.new.language,
    )  # fmt: skip
    # People read local times; JSON keeps ISO UTC.
    shown = dataclasses.replace(
        meta, from_seen=when.local(d.old.first_seen), to_seen=when.local(d.new.first_seen)
    )
    if fmt == "json":
        emit_json(rec.diff_record(meta.to_json(), d.judged.data, d.judged.analyzer))
    elif fmt == "html":
        click.echo(to_html(d.judged.analysis, shown))
    else:
        from rich.console import Console

        use_color = sys.stdout.isatty() if color is None else color
        if no_markers and not use_color:  # neither would show where an edit begins
            fail("--no-markers needs colour to show the edits: add --color", EXIT_USAGE)
        out = Console(
            file=sys.stdout, force_terminal=use_color, no_color=not use_color, highlight=False,
            soft_wrap=True,
        )  # fmt: skip
        view = to_text(
            d.judged.analysis, shown, markers=not no_markers, context=context,
            isolate=sys.stdout.isatty() if isolate is None else isolate,
        )  # fmt: skip
        out.print(view)
