"""`raqib outlet …`: follow whole outlets, and their figures."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from raqib.app import opml, outlets
from raqib.cli.base import Ctx, emit
from raqib.present import records as rec
from raqib.present import text


@click.group()
def outlet() -> None:
    """Watch everything an outlet publishes, from the moment it appears.

    An outlet is a name and the places it lists its new articles: RSS or
    Atom feeds, (news) sitemaps, and front or section pages. Every `raqib
    check` (and the daemon) reads each source on its own interval
    (outlets.feed_every, 10 minutes by default, with ETag/Last-Modified) and
    watches each new article at once, with origin "outlet". Tag, section,
    author, gallery and listing pages are refused by their URL; videos and
    live pages when they declare it (og:type, JSON-LD). Articles are
    refetched on the age curve and retired after the retention window.

    \b
    raqib outlet add aljazeera --feed https://www.aljazeera.net/rss --retain-days 30
    raqib outlet stats aljazeera
    """


@outlet.command(name="add")
@click.argument("name")
@click.option("--feed", "feeds", multiple=True, metavar="URL", help="An RSS or Atom feed.")
@click.option(
    "--sitemap", "sitemaps", multiple=True, metavar="URL", help="A (news) sitemap or sitemap index."
)
@click.option(
    "--front", "fronts", multiple=True, metavar="URL",
    help="A front or section page: its links to the same site are read.",
)  # fmt: skip
@click.option(
    "--retain-days", type=int, metavar="DAYS",
    help="Watch each article this long after first sight (default 30; [outlets.NAME] retain wins).",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the outlet as JSON.")
@click.pass_obj
def outlet_add(
    obj: Ctx,
    name: str,
    feeds: tuple[str, ...],
    sitemaps: tuple[str, ...],
    fronts: tuple[str, ...],
    retain_days: int | None,
    as_json: bool,
) -> None:
    """Follow an outlet (or add sources to one). Its sources are read by the
    next `raqib check`, or now with `raqib discover --outlet NAME`."""
    with obj.app() as app:
        o, created = outlets.add(
            app, name, feeds=feeds, sitemaps=sitemaps, fronts=fronts, retain_days=retain_days
        )
    data = rec.outlet_record(o)
    emit(
        data, as_json, [f"{'following' if created else 'updated'} {o.name}", *text.outlets([data])]
    )


@outlet.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print the outlets as a JSON list.")
@click.pass_obj
def outlet_list(obj: Ctx, as_json: bool) -> None:
    """List outlets with their sources, when each was read and what it gave."""
    with obj.app(readonly=True) as app:
        data = [rec.outlet_record(o) for o in app.storage.outlets.all()]
    emit(data, as_json, text.outlets(data))


@outlet.command(name="remove")
@click.argument("name")
@click.pass_obj
def outlet_remove(obj: Ctx, name: str) -> None:
    """Stop following an outlet. Its articles are retired (listed, never
    fetched again) and keep their history, which its name still finds
    (`raqib changes --outlet NAME`, `raqib outlet stats NAME`). `raqib outlet
    add NAME --feed URL` follows it again."""
    with obj.app() as app:
        n = outlets.remove(app, name)
    click.echo(f"removed {name}; {n} of its watches retired, their history kept")


@outlet.command(name="rename")
@click.argument("name")
@click.argument("new")
@click.pass_obj
def outlet_rename(obj: Ctx, name: str, new: str) -> None:
    """Give an outlet a new name. Its sources, its watches and their history
    go with it: `--outlet NEW` finds them all, and `--outlet NAME` none. A
    removed outlet can be renamed too (to free its name for another). A
    `[outlets.NAME]` table in the configuration is renamed first, by hand."""
    with obj.app() as app:
        o = outlets.rename(app, name, new)
    click.echo(f"renamed {name} to {o.name}")


@outlet.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True))
@click.option(
    "--allow-private", is_flag=True,
    help="Accept sources on this machine or an intranet (refused by default: "
    "an OPML file may come from elsewhere).",
)  # fmt: skip
@click.pass_obj
def outlet_import(obj: Ctx, file: Path, allow_private: bool) -> None:
    """Follow the outlets of an OPML file ("-": stdin): each top-level outline
    is an outlet, the feeds inside it its sources (a lone feed is an outlet).
    Every source must be a public site's address, or nothing is imported."""
    data = _read(file)
    with obj.app() as app:
        done = opml.import_opml(app, data, allow_private=allow_private)
    for o, created in done:
        click.echo(f"{'following' if created else 'updated'} {o.name} ({len(o.sources)} sources)")


@outlet.command(name="export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True))
@click.pass_obj
def outlet_export(obj: Ctx, file: Path) -> None:
    """Write every outlet and its sources as OPML ("-": stdout), for
    `raqib outlet import` elsewhere or a feed reader."""
    with obj.app(readonly=True) as app:
        data = opml.export_opml(app)
        if str(file) == "-":
            sys.stdout.buffer.write(data)
        else:
            from raqib.app.publish import write_file

            write_file(file, data)  # whole or not at all; "cannot write …" if it cannot


@outlet.command(name="stats")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_obj
def outlet_stats(obj: Ctx, name: str, as_json: bool) -> None:
    """The figures newsroom-edit studies publish, for one outlet: articles
    watched, the share edited (substantively), the share edited silently,
    edits per article, and the median time from first sight to the first
    substantive edit, bracketed by the fetches that saw it (last seen
    unedited, first seen edited)."""
    with obj.app(readonly=True) as app:
        data = rec.outlet_stats_record(outlets.stats(app, name))
    emit(data, as_json, text.outlet_stats(data))


@outlet.command(name="rejected")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print them as a JSON list.")
@click.pass_obj
def outlet_rejected(obj: Ctx, name: str, as_json: bool) -> None:
    """Pages an outlet listed that are not articles, newest first, each with
    why: refused by its URL (a tag or section page …) or by what the page
    declared itself when first fetched (a video, a live page …)."""
    with obj.app(readonly=True) as app:
        rows = outlets.rejected(app, name)
    data = [rec.document("rejected", url=u, reason=r, at=rec.iso(at)) for u, r, at in rows]
    emit(data, as_json, [f"{d['at'] or '-'}  {d['url']}  {d['reason']}" for d in data] or ["none"])


def _read(file: Path) -> bytes:
    """At most one byte past the bound, which read_opml refuses: /dev/zero, or
    a stream that never ends, is not read into memory whole."""
    from raqib.discovery.outlets import MAX_OPML_BYTES

    try:
        if str(file) == "-":
            return sys.stdin.buffer.read(MAX_OPML_BYTES + 1)
        with file.open("rb") as f:
            return f.read(MAX_OPML_BYTES + 1)
    except OSError as exc:
        raise click.BadParameter(f"cannot read {file}: {exc.strerror}") from None
