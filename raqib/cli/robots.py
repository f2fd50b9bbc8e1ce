"""`raqib robots`: the robots.txt answers kept between passes."""

from __future__ import annotations

import click

from raqib.app import robots as use
from raqib.cli.base import Ctx, emit
from raqib.present import records as rec
from raqib.present import text


@click.group()
def robots() -> None:
    """The robots.txt answers kept between passes.

    A pass asks each host for robots.txt once, and later passes use that
    answer for [fetch] robots_ttl (1 hour by default, a day at most) instead
    of asking again. A site that has just changed its rules need not wait:
    forget its answer and the next pass asks.

    \b
      raqib robots list
      raqib robots show example.com
      raqib robots forget example.com
    """


@robots.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print the answers as a JSON list.")
@click.pass_obj
def robots_list(obj: Ctx, as_json: bool) -> None:
    """List the kept answers: when each came, and until when passes use it."""
    with obj.app(readonly=True) as app:
        ttl, now = use.ttl(app), app.clock()
        data = [rec.robots_record(a, use.used_until(a, ttl), now) for a in use.kept(app)]
        shown = app.config.fetch.robots_ttl
    emit(data, as_json, text.robots(data, shown))


@robots.command(name="show")
@click.argument("where", metavar="HOST|URL")
@click.pass_obj
def robots_show(obj: Ctx, where: str) -> None:
    """Print the robots.txt a host answered, as kept."""
    with obj.app(readonly=True) as app:
        origin, body = use.body(app, where)
    click.echo(f"# {origin}/robots.txt, as kept", err=True)
    for line in text.robots_body(body):
        click.echo(line)


@robots.command(name="forget")
@click.argument("wheres", nargs=-1, metavar="HOST|URL...")
@click.option("--all", "everything", is_flag=True, help="Forget every kept answer.")
@click.pass_obj
def robots_forget(obj: Ctx, wheres: tuple[str, ...], everything: bool) -> None:
    """Forget kept answers: the next pass asks those hosts again.

    A bare host names its answers under http and https, on any port; a URL
    names its own scheme, host and port.
    """
    with obj.app() as app:
        gone = use.forget(app, list(wheres), everything=everything)
    for origin in gone:
        click.echo(f"forgot {origin}")
    if not gone:
        click.echo("nothing kept for " + (", ".join(wheres) or "any host"))
