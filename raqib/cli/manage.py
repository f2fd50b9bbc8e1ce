"""Commands that manage watches: list and filter them, pause, resume,
unwatch and tag them. Every WATCH is an id from `raqib watches` or a URL."""

from __future__ import annotations

import sys

import click

from raqib.app import manage
from raqib.cli.base import Ctx, Once, emit
from raqib.domain import WatchState
from raqib.present import records as rec
from raqib.present import text

refs = click.argument("watches", nargs=-1, required=True, metavar="WATCH...")
json_opt = click.option("--json", "as_json", is_flag=True, help="Print the watches as JSON.")


@click.command(name="watches")
@click.option("--outlet", cls=Once, metavar="NAME", help="Only watches of this outlet.")
@click.option("--tag", cls=Once, metavar="TAG", help="Only watches with this tag.")
@click.option("--story", cls=Once, metavar="SLUG", help="Only watches in this story.")
@click.option(
    "--state", "states", multiple=True, type=click.Choice(manage.STATES),
    help="Only watches in this state (repeatable). Unwatched ones show only this way.",
)  # fmt: skip
@click.option(
    "--failing", is_flag=True,
    help="Only watches whose last check failed (error, not an article) or that were removed.",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text",
    show_default=True, help="csv writes what `watch --from-csv` reads back.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.pass_obj
def watches_cmd(
    obj: Ctx,
    outlet: str | None,
    tag: str | None,
    story: str | None,
    states: tuple[str, ...],
    failing: bool,
    fmt: str,
    as_json: bool,
) -> None:
    """List watched articles: id, state, versions, last outcome, stories and
    tags, title and URL. The id is accepted wherever a URL is.

    \b
    raqib watches --failing            # what needs a look
    raqib watches --tag elections --format csv > elections.csv
    """
    with obj.app(readonly=True) as app:
        rows = manage.listing(
            app, outlet=outlet, tag=tag, story=story, states=states, failing=failing
        )
    data = [rec.watch_record(w, aliases) for w, aliases in rows]
    if fmt == "csv":
        manage.write_csv(data, sys.stdout)
        return
    filtered = bool(outlet or tag or story or states or failing)
    emit(data, as_json or fmt == "json", text.watches(data, filtered=filtered))


@click.command()
@refs
@click.option(
    "--purge", is_flag=True,
    help="Also delete every version, change and fetch of these watches (cannot be undone).",
)  # fmt: skip
@json_opt
@click.pass_obj
def unwatch(obj: Ctx, watches: tuple[str, ...], purge: bool, as_json: bool) -> None:
    """Stop watching articles for good. Their history is kept (and still in
    `changes`, exports and the report) unless --purge; `raqib watch URL`
    takes one back."""
    with obj.app() as app:
        done = (
            manage.purge(app, watches)
            if purge
            else manage.set_state(app, watches, WatchState.UNWATCHED)
        )
    _show(done, as_json)


@click.command()
@refs
@json_opt
@click.pass_obj
def pause(obj: Ctx, watches: tuple[str, ...], as_json: bool) -> None:
    """Stop checking articles until `raqib resume`; nothing else changes."""
    with obj.app() as app:
        _show(manage.set_state(app, watches, WatchState.PAUSED), as_json)


@click.command()
@refs
@json_opt
@click.pass_obj
def resume(obj: Ctx, watches: tuple[str, ...], as_json: bool) -> None:
    """Check paused (or retired, rejected, unwatched) articles again, starting
    with the next pass."""
    with obj.app() as app:
        _show(manage.set_state(app, watches, WatchState.ACTIVE), as_json)


@click.command()
@refs
@click.option("--add", "add", multiple=True, metavar="TAG", help="Add this tag (repeatable).")
@click.option(
    "--remove", "remove", multiple=True, metavar="TAG", help="Remove this tag (repeatable)."
)
@json_opt
@click.pass_obj
def tag(
    obj: Ctx, watches: tuple[str, ...], add: tuple[str, ...], remove: tuple[str, ...], as_json: bool
) -> None:
    """Add or remove tags on watches (`raqib watch URL --tag T` tags new ones)."""
    if not add and not remove:
        raise click.UsageError("say --add TAG or --remove TAG")
    with obj.app() as app:
        changed = manage.retag(app, watches, add, remove)
    data = [rec.watch_record(w, []) for w in changed]
    emit(data, as_json, text.watches(data))


def _show(done: manage.StateChange, as_json: bool) -> None:
    data = [{**rec.watch_record(w, []), "purged": done.purged} for w in done.watches]
    verb = {
        WatchState.UNWATCHED: "purged" if done.purged else "unwatched",
        WatchState.PAUSED: "paused",
        WatchState.ACTIVE: "resumed",
    }.get(done.state, str(done.state))
    emit(data, as_json, [f"{verb} {d['id']} {d['url']}" for d in data])
