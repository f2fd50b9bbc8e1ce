"""Commands that run passes: `check` (cron), `daemon`, and `schedule`."""

from __future__ import annotations

import os
import sys

import click

from raqib.app import warmup
from raqib.app.errors import PassBusy, no_database
from raqib.cli.base import EXIT_STOPPED, Ctx, emit, fail, stopped_by_signals
from raqib.loading import importing
from raqib.present import records as rec
from raqib.present import text


@click.command()
@click.argument("watches", nargs=-1, metavar="[WATCH]...")
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
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    metavar="N",
    help="Check at most N watches (default: every due one, batch after batch).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary line.")
@click.option("--json", "as_json", is_flag=True, help="Print the pass summary as JSON.")
@click.option(
    "--cpu", "show_cpu", is_flag=True,
    help="Also print where the pass's CPU went, by stage (-v does too; --cpu even with -q).",
)  # fmt: skip
@click.pass_obj
def check(
    obj: Ctx,
    watches: tuple[str, ...],
    all_watches: bool,
    wait: bool,
    wait_timeout: float | None,
    limit: int | None,
    quiet: bool,
    as_json: bool,
    show_cpu: bool,
) -> None:
    """Run one pass over the watches that are due, then exit (for cron).

    Exits 0 when the pass ran — fetch errors are recorded in the log, not
    fatal — 75 at once when another pass holds the due watches (use --wait
    to wait for it), and 130 when a signal (Ctrl-C, SIGTERM) stopped it: what
    it had fetched is recorded, and the rest is due again. Watches are claimed in batches of
    schedule.claim_batch until none is due; --limit caps the pass. Prints a progress bar on a terminal and one
    summary line otherwise.

    WATCH (an id or URL, as `raqib watches` lists them) checks just those
    watches now, due or not, without reading the outlets' feeds.
    """
    if watches and all_watches:
        fail("give WATCH ids or URLs, or --all, not both", 2)
    with stopped_by_signals(
        "stopped by a signal: what the pass recorded is kept, and the rest is due again "
        "(the next pass judges and tells what this one had not)"
    ):
        _check(obj, watches, all_watches, wait, wait_timeout, limit, quiet, as_json, show_cpu)


def _check(
    obj: Ctx, watches: tuple[str, ...], all_watches: bool, wait: bool,
    wait_timeout: float | None, limit: int | None, quiet: bool, as_json: bool, show_cpu: bool,
) -> None:  # fmt: skip
    if not any((obj.home / f).exists() for f in ("raqib.db", "raqib.toml")) and not os.environ.get(
        "RAQIB_DATABASE_URL"
    ):  # a new or mistyped home: said before a worker starts (open_app says it otherwise)
        fail(no_database(obj.home))
    warmup.before_pass(obj.home, limit=limit)  # before the imports below: they overlap
    with importing():
        from raqib.app import passes

    bar = None
    if not quiet and not as_json and sys.stderr.isatty():
        from raqib.cli.progress import PassProgress

        bar = PassProgress()
    with obj.app(existing=True) as app:
        only = None
        if watches:
            from raqib.app import manage

            only = manage.checkable(app, watches)
        try:
            s = passes.run_check(
                app, all_watches=all_watches or only is not None, only=only, wait=wait,
                wait_timeout=wait_timeout, limit=limit,
                on_start=bar.claimed if bar is not None else None,
                on_recorded=bar.recorded if bar is not None else None,
            )  # fmt: skip
        except PassBusy as exc:
            fail(f"{exc}; nothing to do (use --wait to wait for it)", exc.exit_code)
        finally:
            if bar is not None:
                bar.stop()
    data = rec.document(
        "pass", claimed=s.claimed, processes=s.processes, workers=s.workers,
        worker_deaths=s.worker_deaths, outcomes=dict(s.counts),
        first_captures=s.first_captures, substantive=s.substantive, cosmetic=s.cosmetic, seconds=round(s.seconds, 3),
        notified=s.notified, notify_pending=s.notify_pending,
        outlets=rec.outlet_read(s.outlets) if s.outlets is not None else None,
        cpu_seconds=s.cpu, stopped=s.stopped, left=s.left, leases_lost=s.lease_lost,
    )  # fmt: skip
    lines = [] if quiet else [text.pass_summary(data)]
    if show_cpu or (obj.verbose and not quiet):  # --cpu even with -q: it was asked for
        lines.append(text.pass_cpu(s.cpu))
    if lines or as_json:
        emit(data, as_json, lines)
    if only is not None and s.claimed < len(only) and not (limit and s.claimed >= limit):
        skipped = len(only) - s.claimed  # leased by another pass: it checks them now
        click.echo(
            f"raqib: {skipped} of the named watches not checked: another raqib pass holds "
            "them (it is checking them now; --wait waits for it)",
            err=True,
        )
    if s.stopped:
        raise SystemExit(EXIT_STOPPED)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the schedule as a JSON list.")
@click.option(
    "--limit",
    type=click.IntRange(0, 10**9),
    default=50,
    show_default=True,
    help="Show at most this many (0: all).",
)
@click.pass_obj
def schedule(obj: Ctx, as_json: bool, limit: int) -> None:
    """List upcoming checks, soonest first, with why each is due then.

    A watch's interval follows the age of its last change (the curve in
    `raqib config`), backs off after errors, and stops once it is retired.
    """
    with obj.app(readonly=True) as app:
        from raqib.app import history  # not for `check`: a pass with nothing due starts fast

        up = history.schedule(app, limit=limit)
    data = [rec.schedule_record(w, up.now, up.failures.get(w.id)) for w in up.watches]
    emit(data, as_json, text.schedule(data, up.resting))


@click.command()
@click.option(
    "--every", type=float, metavar="SECONDS",
    help="Seconds between sweeps (default: schedule.sweep_every, 60).",
)  # fmt: skip
@click.option(
    "--discover-every", type=float, metavar="SECONDS",
    help="Seconds between discovery runs (default: schedule.discover_every; 0 turns discovery off).",
)  # fmt: skip
@click.option(
    "--jitter", type=float, default=None, metavar="SECONDS",
    help="Random delay added to each run (default: a tenth of the interval, at most 30s).",
)  # fmt: skip
@click.pass_obj
def daemon(
    obj: Ctx, every: float | None, discover_every: float | None, jitter: float | None
) -> None:
    """Run forever: a sweep over due watches every minute, discovery on its own interval.

    Each sweep is a `raqib check` in a child process, so a crash in one sweep
    never stops the daemon and memory stays flat. SIGTERM or Ctrl-C lets the
    running sweep finish its in-flight fetches (each is one transaction) and
    exits 0; SIGHUP is logged and ignored (each sweep reads raqib.toml anew).
    Safe to run beside cron: overlapping passes share work per watch.
    With -v, each sweep also logs where its CPU went (`check --cpu`).
    """
    from raqib import console
    from raqib.app import passes

    console.at_least_info()
    with obj.app(existing=True) as app:  # a mistyped home: said, not swept forever
        code = passes.run_daemon(
            app, every=every, discover_every=discover_every, jitter=jitter, verbose=obj.verbose
        )
    sys.exit(code)
