"""Commands that show history to people and keep the home tidy: `report`,
`serve`, `feed`, `export`, `gc`, `config` and `demo`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from raqib.app import publish
from raqib.app.errors import describe
from raqib.app.home import load_config
from raqib.cli.base import EXIT_USAGE, Ctx, Once, fail


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory to write the site into (created if missing).",
)
@click.option("--outlet", cls=Once, metavar="NAME", help="Front page: only this outlet's changes.")
@click.option(
    "--tag", cls=Once, metavar="TAG", help="Front page: only changes to watches with this tag."
)
@click.option("--story", cls=Once, metavar="SLUG", help="Front page: only this story's changes.")
@click.option("--silent", is_flag=True, help="Front page: only silent changes.")
@click.option(
    "--kind", type=click.Choice(["substantive", "cosmetic"]), help="Front page: this kind."
)
@click.option(
    "--facts", type=click.Choice(["figures", "quotes", "negation"]),
    help="Front page: only changes that touched these.",
)  # fmt: skip
@click.option(
    "--since", metavar="WHEN", help="Front page: changes since 2d, 12h, yesterday or an ISO time."
)
@click.option("--search", metavar="TEXT", help="Front page: changes whose edited text holds TEXT.")
@click.pass_obj
def report(obj: Ctx, out: Path, **filters: Any) -> None:
    """Write a static, self-contained HTML report: the latest changes across
    everything (silent substantive edits first), each outlet's figures with a
    chart, the failing watches, then stories, articles and changes.

    The filters choose what the front page lists, as in `raqib changes`.
    Works from file:// and offline (no CDN, no scripts). Each change page has
    inline and side-by-side views with word-level highlights, right-to-left
    where the text is, fact deltas above the text and links to the archived
    page source; each article page has a timeline of its versions.
    """
    given = {k: ("1" if v is True else v) for k, v in filters.items() if v}
    with obj.app(readonly=True) as app:
        n, removed = publish.write_report(app, out, given)
    gone = f"; removed {removed} pages of the last report there" if removed else ""
    click.echo(f"wrote {n} files to {out}{gone} (open {out / 'index.html'})")


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind. Anything but loopback requires a token.",
)
@click.option(
    "--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
    help="Port (0: any free port).",
)  # fmt: skip
@click.option(
    "--token",
    envvar="RAQIB_TOKEN",
    help="Required on every request when bound off loopback. Also RAQIB_TOKEN.",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="A host name clients may use to reach the server (repeatable; IP addresses and "
    "localhost always work).",
)
@click.pass_obj
def serve(obj: Ctx, host: str, port: int, token: str | None, allow_hosts: tuple[str, ...]) -> None:
    """Serve the report's views live from the database, read-only.

    Bound to 127.0.0.1 by default. To share it on a network, bind another
    address and give a --token (or RAQIB_TOKEN); clients send it as
    "Authorization: Bearer TOKEN" or open any page once with ?token=TOKEN
    (which sets a cookie and redirects to the URL without it). Requests must
    name the server by IP address, localhost, or a name given with
    --allow-host: another site's page cannot read the report by pointing its
    own name at this machine (DNS rebinding).
    """
    from raqib.report.web import is_loopback

    if not is_loopback(host) and not token:
        fail(
            f"binding {host} exposes the report beyond this machine: give --token (or RAQIB_TOKEN)",
            EXIT_USAGE,
        )
    if token is not None and len(token) < 12:
        fail("the token must be at least 12 characters", EXIT_USAGE)
    with obj.app(readonly=True) as app:
        try:
            publish.serve(
                app, host, port, token, allow_hosts, announce=lambda m: click.echo(m, err=True)
            )
        except OSError as exc:
            fail(f"cannot serve on {host}:{port}: {describe(exc)}")
        except KeyboardInterrupt:
            pass


@click.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write the Atom feed to ('-' for stdout).",
)
@click.option("--story", cls=Once, metavar="SLUG", help="Only changes of this story.")
@click.option(
    "--base-url",
    metavar="URL",
    help="Where the report lives: entry links point at its change pages "
    "(default: [report] base_url; if unset, links are relative to the feed).",
)
@click.pass_obj
def feed(obj: Ctx, out: Path, story: str | None, base_url: str | None) -> None:
    """Write an Atom feed of changes: the latest 200, newest first, each entry
    with the highlighted change (HTML), fact deltas first, labels in Arabic
    and English."""
    with obj.app(readonly=True) as app:
        data = publish.feed(app, story=story, base_url=base_url)
        if not (base_url or app.config.report_base()):  # a reader opens no relative link
            click.echo(
                "raqib: the entries link to change-N.html, relative: a feed reader opens them only "
                "with --base-url or [report] base_url (where `raqib serve` or the report is)",
                err=True,
            )
        if str(out) == "-":
            sys.stdout.buffer.write(data)
            return
        publish.write_file(out, data)
    click.echo(f"wrote {out}")


GAPS_SHOWN = 10  # versions named after an import that left holes in a history


@click.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--allow-private", is_flag=True,
    help="Accept watches on this machine or an intranet (refused by default: an export "
    "may come from elsewhere, and `raqib resume` would fetch them).",
)  # fmt: skip
@click.pass_obj
def import_cmd(obj: Ctx, file: str, allow_private: bool) -> None:
    """Import FILE, an export of `raqib export --format jsonl` ('-': stdin).

    Watches are matched by address and versions by number, so importing the
    same file twice adds nothing; a version whose text differs from the one
    held under its number is refused. Changes are judged again from the
    versions; a version imported after a hole in its history (an earlier
    version held, the one just before it not) is named, as the change into
    it waits for that one. Watches new to this home start paused
    (`raqib resume` starts checking them): importing an archive does not
    start fetching it. An unwatched article stays unwatched. Each watch
    keeps the addresses it answered to (redirects, its AMP page), and its
    outlet where this home follows one by that name (`raqib outlet import
    FILE.opml` first).

    The whole file is checked before anything is stored (one bad record
    refuses it, and so does an export's end record that counts other than
    what came before it; a file that ends without one is imported with a
    warning: it may have been cut short), then read again to store it: an archive larger than memory
    imports; stdin or a pipe is first copied to a temporary file in the
    home. Like any list from elsewhere, it names public sites only unless
    --allow-private is given.
    """
    from raqib.app import imports

    with imports.opened(file, sys.stdin.buffer, obj.home) as reread:
        checked = imports.check_file(obj.home, reread, file, allow_private=allow_private)
        with obj.app() as app:
            r = imports.import_file(
                app, reread, file, checked, on_progress=_progress(), allow_private=allow_private
            )
    click.echo(
        f"watches: {r.watches_new} new (paused), {r.watches_known} already here; "
        f"versions: {r.versions_new} new, {r.versions_known} already here; "
        f"{r.changes} changes judged"
    )
    for name, n in sorted(r.outlets_missing.items()):
        click.echo(
            f"{n} watch{'es' if n != 1 else ''} came from outlet {name}, which this home does not "
            f"follow: imported without it (`raqib outlet import FILE.opml` first to keep it)"
        )
    for url, number in r.gaps[:GAPS_SHOWN]:
        click.echo(
            f"version {number} of {url}: version {number - 1} is not held, so the change into "
            "it is not judged (import an export that holds it)"
        )
    if len(r.gaps) > GAPS_SHOWN:
        click.echo(f"… and {len(r.gaps) - GAPS_SHOWN:,} more versions like it")
    if r.unended:
        click.echo(
            "warning: the file does not end with an export's end record: it may have been cut "
            "short (a broken pipe, a full disk), or written before Raqib wrote one; what it "
            "holds was imported, and importing the whole file later adds the rest",
            err=True,
        )


def _progress() -> Callable[[int, int], None] | None:
    """`import`'s count of records stored, on a terminal only."""
    if not sys.stderr.isatty():
        return None

    def shown(done: int, total: int) -> None:
        if done == total:
            click.echo(f"\r{total:,} records stored; judging the changes …", err=True)
        elif done % 100 == 0:
            click.echo(f"\r{done:,} of {total:,} records stored …", nl=False, err=True)

    return shown


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(publish.FORMATS), required=True,
    help="jsonl/csv: watches, versions and changes; warc: the captures; wacz: the captures "
    "packaged with an index and a page list (ReplayWeb.page, pywb).",
)  # fmt: skip
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="File to write ('-' for stdout, jsonl and csv only).",
)  # fmt: skip
@click.option("--watch", cls=Once, metavar="WATCH", help="Only this watch (its id or URL).")
@click.option("--story", cls=Once, metavar="SLUG", help="Only this story's articles.")
@click.option("--outlet", cls=Once, metavar="NAME", help="Only this outlet's articles.")
@click.option(
    "--since",
    metavar="WHEN",
    help="jsonl/csv: only versions and changes first seen since WHEN: 2d, 12h, yesterday or an ISO 8601 time.",
)
@click.pass_obj
def export(
    obj: Ctx, fmt: str, out: Path, watch: str | None, story: str | None, outlet: str | None,
    since: str | None,
) -> None:  # fmt: skip
    """Export history for hand-off: JSON Lines, CSV, WARC or WACZ, of one watch,
    a story, an outlet or (without --watch, --story, --outlet) everything.

    \b
    JSON Lines holds one record per line, tagged "watch", "version" or
    "change", in the same form as --json output (`raqib import` reads it).
    CSV starts with a byte order mark so that Excel reads the Arabic; each
    change row carries its evidence: when the old text was last seen, when
    the new was first seen, and both fetches' WARC records (file#offset).
    WARC copies every capture (responses, revisits, their requests) byte for
    byte; WACZ packages it with an index for ReplayWeb.page or pywb.
    """
    target = None if str(out) == "-" else out
    with obj.app(readonly=True) as app:
        n = publish.export(
            app, fmt, target, watch=watch, story=story, outlet=outlet, since=since,
            stdout=sys.stdout,
        )  # fmt: skip
    if target is not None:
        what = "captures" if fmt in ("warc", "wacz") else "records"
        click.echo(f"wrote {n} {what} to {out}", err=True)


@click.command()
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@click.option(
    "--older-than",
    metavar="AGE",
    help="Retention: also drop raw bodies of versions first seen longer ago than AGE (90d, 12w: "
    "a unit, and at least 1d; each article's latest kept) and WARC files whose every fetch is "
    "older (but for those holding the original of a page unchanged since, which newer "
    "records refer to).",
)
@click.option(
    "--wait", type=click.FloatRange(min=0), metavar="SECONDS", default=1800, show_default=True,
    help="With --older-than: how long to wait for the passes and exports using the WARC "
    "archive before removing old files from it (passes that start in its last minute wait "
    "for gc); past it, nothing is removed from the archive and gc exits 75.",
)  # fmt: skip
@click.pass_obj
def gc(obj: Ctx, dry_run: bool, older_than: str | None, wait: float) -> None:
    """Remove stored page bodies that no version needs any more, then compact.

    Raw bodies are stored once per content hash and shared between versions;
    a body is removable once no version refers to it. Without --older-than,
    WARC files are never touched: they are the archive. Versions, their text
    and their changes are never dropped, whatever the age. Notifications
    delivered over 30 days ago are removed (their payloads were kept for good).
    """
    with obj.app() as app:
        done = publish.gc(app, dry_run=dry_run, older_than=older_than, wait=wait)
    warcs = f"; {len(done.warc_files)} WARC files ({done.warc_bytes:,} bytes)" if older_than else ""
    if done.warc_originals:
        warcs += (
            f" ({done.warc_originals} older WARC files kept: they hold the originals of pages"
            " unchanged since, which newer records refer to)"
        )
    if done.warc_written_since:
        warcs += (
            f" ({done.warc_written_since} WARC files of older fetches kept: written to since, by"
            " their modification time)"
        )
    if done.messages:
        warcs += f"; {done.messages} notifications delivered over 30 days ago" + (
            " would go" if dry_run else " removed"
        )
    if dry_run:
        old = (
            f"{done.versions_without_body} old versions would give up their raw body (the "
            "bodies this frees are counted by the real run); "
            if older_than
            else ""
        )
        click.echo(f"{old}would remove {done.bodies} stored page bodies used by no version{warcs}")
    else:
        kept = (
            f"{done.versions_without_body} old versions gave up their raw body (a body that "
            "later versions are stored against stays while they need it); "
            if older_than
            else ""
        )
        click.echo(
            f"{kept}removed {done.bodies} unused page bodies ({done.freed:,} compressed bytes){warcs}"
        )


@click.command(name="config")
@click.option("--defaults", is_flag=True, help="Print the built-in defaults, ignoring raqib.toml.")
@click.pass_obj
def config_cmd(obj: Ctx, defaults: bool) -> None:
    """Print the configuration in effect (raqib.toml over the defaults), as TOML.

    Copy the output to <home>/raqib.toml and edit what you need; unknown
    keys and wrong types are reported with their line number.
    """
    from raqib import config as config_mod

    cfg = config_mod.Config() if defaults else load_config(obj.home)
    click.echo(f"# {obj.home / config_mod.FILE_NAME}")
    for section, values in cfg.to_dict().items():
        tables = values.pop("per", {}) if section == "outlets" else {}
        click.echo(f"\n[{section}]")
        for key, value in values.items():
            click.echo(f"{key} = {config_mod.toml_value(value)}")
        for name, table in tables.items():
            click.echo(f"\n[{section}.{json.dumps(name, ensure_ascii=False)}]")
            for key, value in table.items():
                click.echo(f"{key} = {config_mod.toml_value(value)}")


@click.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the demo's home here (default: a temporary directory).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    help="Port for the local demo server (default: any free port).",
)
@click.option(
    "--serve", "serve_report", is_flag=True,
    help="End by serving the demo's report on 127.0.0.1 and printing its address (Ctrl-C stops).",
)  # fmt: skip
@click.option(
    "--serve-port", type=int, default=8765, show_default=True, help="Port for --serve (0: any)."
)
def demo(keep: Path | None, port: int, serve_report: bool, serve_port: int) -> None:
    """Watch a small evolving copy of the seed article, served on 127.0.0.1.

    No network needed: the pages ship with Raqib. The demo serves five
    versions of an Arabic report (page furniture churn, a cosmetic edit, a
    silent edit, an announced update), runs `raqib check` after each, and
    prints the highlighted diffs. With --keep DIR, its home stays for you to
    explore (`raqib --home DIR changes`); with --serve, it ends by serving
    the report in your browser.
    """
    from raqib.demo.run import run_demo

    if keep is not None and (keep / "raqib.db").exists():  # its pages' server is gone
        fail(f"{keep} holds an earlier demo's home: give --keep a new directory, or remove it", 2)
    sys.exit(
        run_demo(
            home=keep, port=port, out=sys.stdout, serve_port=serve_port if serve_report else None
        )
    )
