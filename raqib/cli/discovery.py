"""Commands for related coverage: `source` and `discover`."""

from __future__ import annotations

from datetime import timedelta

import click

from raqib.app import publish
from raqib.app.discover import discover as run_discovery
from raqib.app.discover import rejudge
from raqib.cli.base import Ctx, Once, emit
from raqib.present import records as rec
from raqib.present import text


@click.group()
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
    with obj.app() as app:
        new_story = app.storage.watches.story_id(story) is None  # or a slug mistyped
        src, created = publish.add_source(app, url, story=story, kind=kind)
    click.echo(
        f"{'added' if created else 'already a source'}: {src.url} ({src.kind}) for story {story}"
        + (" (a new story: check its spelling in `raqib watches`)" if new_story else "")
    )


@source.command(name="list")
@click.option("--story", cls=Once, metavar="SLUG", help="Only this story's sources.")
@click.option("--json", "as_json", is_flag=True, help="Print the sources as a JSON list.")
@click.pass_obj
def source_list(obj: Ctx, story: str | None, as_json: bool) -> None:
    """List discovery sources with when they were last read and what they gave."""
    with obj.app(readonly=True) as app:
        data = [rec.source_record(s) for s in publish.sources(app, story)]
    emit(data, as_json, text.sources(data))


@source.command(name="remove")
@click.argument("url")
@click.option("--story", cls=Once, metavar="SLUG", help="Only from this story.")
@click.pass_obj
def source_remove(obj: Ctx, url: str, story: str | None) -> None:
    """Remove a discovery source (the articles it found stay watched)."""
    with obj.app() as app:
        n = publish.remove_source(app, url, story=story)
    click.echo(f"removed {n} source{'s' if n != 1 else ''}")


@click.command()
@click.option("--story", cls=Once, metavar="SLUG", help="Only this story (default: every story).")
@click.option(
    "--outlet", metavar="NAME",
    help="Read this outlet's sources now (all of them, due or not) and watch its new articles.",
)  # fmt: skip
@click.option(
    "--rejudge", "rejudge_", is_flag=True,
    help="Fetch nothing: judge again the candidates rejected on their text, from the text kept "
    "when each was read (after adding a seed article, or lowering discovery.threshold).",
)  # fmt: skip
@click.option(
    "--skip-read-within", "fresh", metavar="SECONDS", type=click.FloatRange(min=0),
    help="Skip the stories a discovery run (this worker's or another's) took less than SECONDS "
    "ago: the daemon passes half its --discover-every, so several workers share the stories.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="Only the summary line.")
@click.pass_obj
def discover(
    obj: Ctx, story: str | None, outlet: str | None, rejudge_: bool, fresh: float | None,
    as_json: bool, quiet: bool,
) -> None:  # fmt: skip
    """Find related coverage now: read sources, judge candidates, watch the related.

    Each candidate is fetched, extracted and scored against the story's seed
    articles (TF-IDF on Arabic-normalised text); those at or above
    discovery.threshold are watched as "discovered". Links to private or
    loopback addresses are refused unless their source lives there too or
    fetch.allow_private is set. The report says what was added and why.

    With --outlet, the outlet's feeds, sitemaps and front pages are read
    instead, and every new article they list is watched (`raqib check` does
    this for due sources on its own).

    With --rejudge, nothing is fetched: the candidates rejected on their text
    are scored again against the story's seeds as they are now; those at or
    above the threshold are watched (their first check fetches them).

    A story another discovery run is reading (the daemon's, another
    worker's) is skipped, and the report says so; named with --story, it is
    an error (exit 75: try again later).
    """
    if outlet is not None and (rejudge_ or fresh is not None):
        raise click.UsageError(
            "--rejudge and --skip-read-within are for stories; --outlet reads an outlet"
        )
    if rejudge_ and fresh is not None:
        raise click.UsageError("--rejudge fetches nothing: --skip-read-within has no use with it")
    if outlet is not None:
        from raqib.app import outlets

        with obj.app() as app:
            read = outlets.read_now(app, outlet)
        data = rec.document(
            "outlet-read", **rec.outlet_read(read), sources_read=read.sources,
            rejected_pages=[{"url": u, "reason": r} for u, r in read.rejected],
        )  # fmt: skip
        emit(data, as_json, text.outlet_read(data, quiet=quiet))
        return
    with obj.app() as app:
        if rejudge_:
            report = rejudge(app, story=story)
        else:
            within = timedelta(seconds=fresh) if fresh is not None else None
            report = run_discovery(app, story=story, fresh=within)
    data = rec.document(
        "discovery", sources=report.sources, candidates=report.candidates, notes=report.notes
    )
    if not as_json:
        for note in report.notes:
            click.echo(f"note: {note}", err=True)
    emit(data, as_json, text.discovery(data, quiet=quiet))
