"""Commands that add watches and read their history back."""

from __future__ import annotations

import itertools
import sys

import click

from raqib.app import history, preview
from raqib.cli.base import Ctx, emit, emit_json
from raqib.present import records as rec
from raqib.present import text


@click.command()
@click.argument("urls", nargs=-1, required=True)
@click.option(
    "--story", metavar="SLUG", help="Group these articles under a story (created if new)."
)
@click.option(
    "--strict", is_flag=True, help='With "-": refuse the whole list if one line is not a URL.'
)
@click.option(
    "--no-fetch",
    is_flag=True,
    help='Only add the watches; the next `raqib check` fetches them (always so with "-").',
)
@click.option("--json", "as_json", is_flag=True, help="Print the watches as JSON.")
@click.pass_obj
def watch(
    obj: Ctx, urls: tuple[str, ...], story: str | None, strict: bool, no_fetch: bool, as_json: bool
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
    """
    if "-" in urls:
        _import(obj, [u for u in urls if u != "-"], story, strict, as_json)
        return
    with obj.app() as app:
        added = history.add_watches(app, list(urls), story=story)
        if no_fetch:
            data = [{"url": w.url, "created": created, "id": w.id} for w, created in added]
            emit(data, as_json, text.watched(data))
            return
        preview.fetch_now(app, [w for w, created in added if created])
        shown = preview.previews(app, [w for w, _c in added])
    data = [rec.preview_record(p, created=c) for p, (_w, c) in zip(shown, added, strict=True)]
    lines = [line for d in data for line in (*text.watched([d]), *list(text.preview(d))[1:])]
    emit(data, as_json, lines)


@click.command(name="preview")
@click.argument("urls", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print what was read as JSON.")
@click.pass_obj
def preview_cmd(obj: Ctx, urls: tuple[str, ...], as_json: bool) -> None:
    """Fetch pages once and show what Raqib would monitor in them; stores nothing.

    For each URL: the headline, the lede, the first words, how many
    paragraphs, tables and words were read, and the verdict (an article, or
    not, and why). Uses this home's settings ([fetch]), never its database.
    """
    shown = preview.preview(obj.home, list(urls))
    data = [rec.preview_record(p) for p in shown]
    emit(data, as_json, [line for d in data for line in text.preview(d)])


def _import(obj: Ctx, first: list[str], story: str | None, strict: bool, as_json: bool) -> None:
    lines = itertools.chain(first, sys.stdin)
    show = sys.stderr.isatty() and not as_json

    def progress(done: history.Imported) -> None:
        if show:
            click.echo(f"\r{done.created + done.existing:,} URLs imported …", nl=False, err=True)

    with obj.app() as app:
        done = history.import_watches(app, lines, story=story, strict=strict, on_batch=progress)
    if show:
        click.echo("", err=True)
    for number, why in done.invalid:
        click.echo(f"raqib: line {number - len(first)}: not imported: {why}", err=True)
    data = rec.document(
        "import",
        created=done.created,
        existing=done.existing,
        invalid=[{"line": n - len(first), "error": why} for n, why in done.invalid],
    )
    emit(data, as_json, [text.imported(data)])


@click.command(name="watches")
@click.option("--json", "as_json", is_flag=True, help="Print the watches as a JSON list.")
@click.pass_obj
def watches_cmd(obj: Ctx, as_json: bool) -> None:
    """List watched articles with their story, origin and state."""
    with obj.app(readonly=True) as app:
        data = [rec.watch_record(w, aliases) for w, aliases in history.watches(app)]
    emit(data, as_json, text.watches(data))


@click.command()
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print the versions as a JSON list.")
@click.pass_obj
def versions(obj: Ctx, url: str, as_json: bool) -> None:
    """List the stored versions of an article (by any URL it answered to)."""
    with obj.app(readonly=True) as app:
        w, rows, evidence = history.versions(app, url)
    data = [rec.version_record(v, evidence.get(v.id)) for v in rows]
    emit(data, as_json, text.versions(w.url, data))


@click.command()
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
    with obj.app(readonly=True) as app:
        rows = history.changes(app, url=url, story=story, since=since)
    data = [rec.change_record(r.change, r.watch, r.from_number, r.to_number) for r in rows]
    emit(data, as_json, text.changes(data))


@click.command(name="log")
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
        w, rows = history.fetch_log(app, url)
    data = [rec.fetch_record(f, number) for f, number in rows]
    emit(data, as_json, text.fetch_log(w.url, data))


@click.command()
@click.argument("url")
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
    Consecutive versions show the analysis stored when the change was found.
    """
    from raqib.diffs.render import DiffMeta, to_html, to_text

    with obj.app(readonly=True) as app:
        d = history.diff(app, url, from_n, to_n)
    meta = DiffMeta(
        url=d.watch.url, from_version=d.old.number, to_version=d.new.number,
        from_seen=rec.iso(d.old.first_seen), to_seen=rec.iso(d.new.first_seen),
        old_title=d.old.title, new_title=d.new.title, language=d.new.language,
    )  # fmt: skip
    if fmt == "json":
        emit_json(rec.diff_record(meta.to_json(), d.judged.data, d.judged.analyzer))
    elif fmt == "html":
        click.echo(to_html(d.judged.analysis, meta))
    else:
        from rich.console import Console

        use_color = sys.stdout.isatty() if color is None else color
        out = Console(
            file=sys.stdout, force_terminal=use_color, no_color=not use_color, highlight=False,
            soft_wrap=True,
        )  # fmt: skip
        out.print(to_text(d.judged.analysis, meta, markers=not use_color, context=context))
