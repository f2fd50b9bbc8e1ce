"""`raqib notify`: the channels that hear about edits, and their outbox."""

from __future__ import annotations

import click

from raqib.app import notifications
from raqib.cli.base import Ctx, Once, emit
from raqib.notify.rules import TRIGGERS
from raqib.present import records as rec
from raqib.present import text


@click.group()
def notify() -> None:
    """Tell the newsroom when an edit lands: apprise URLs or JSON webhooks.

    Each channel has rules (--when) and optionally a story and keywords.
    Messages are queued in the database and delivered with retries, so a
    channel that is down never slows or breaks a pass. The webhook payload
    schema is raqib.event/1 (see the README).
    """


@notify.command(name="add")
@click.argument("url")
@click.option(
    "--story", cls=Once, metavar="SLUG", help="Only this story's events (default: every story)."
)
@click.option(
    "--when", "when", multiple=True, type=click.Choice(list(TRIGGERS)),
    help="What to be told about (repeatable; default: substantive). failing: a watch failed "
    "notify.failing_after (3) checks in a row.",
)  # fmt: skip
@click.option(
    "--keyword", "keywords", multiple=True, metavar="WORD",
    help="Only changes whose changed text contains this word (repeatable; spelling variants match).",
)  # fmt: skip
@click.option("--digest", is_flag=True, help="One message per pass instead of one per event.")
@click.pass_obj
def notify_add(
    obj: Ctx, url: str, story: str | None, when: tuple[str, ...], keywords: tuple[str, ...],
    digest: bool,
) -> None:  # fmt: skip
    """Add a notification channel: an apprise URL (tgram://, slack://, mailto://,
    json://, …) or an http(s) URL that receives JSON POSTs.

    A URL that is a channel already gets these rules in place of its own
    (the options left out take their defaults): give every rule it keeps."""
    with obj.app() as app:
        ch, created = notifications.add_channel(
            app, url, story=story, when=list(when), keywords=list(keywords), digest=digest
        )
    d = rec.channel_record(ch)
    click.echo(
        f"{'added' if created else 'replaced the rules of'} channel {ch.id}: {ch.kind} "
        f"{d['url']} #{d['fingerprint']}: {text.channel_rules(d)}"
    )


@notify.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print the channels as JSON (URLs redacted).")
@click.pass_obj
def notify_list(obj: Ctx, as_json: bool) -> None:
    """List notification channels (their URLs redacted: they hold tokens)."""
    with obj.app() as app:
        data = [rec.channel_record(c) for c in notifications.channels(app)]
    emit(data, as_json, text.channels(data))


@notify.command(name="remove")
@click.argument("channel")
@click.pass_obj
def notify_remove(obj: Ctx, channel: str) -> None:
    """Remove a channel, by its id (see `raqib notify list`) or its URL."""
    with obj.app() as app:
        n = notifications.remove_channel(app, channel)
    click.echo(f"removed {n} channel{'s' if n != 1 else ''}")


@notify.command(name="status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def notify_status(obj: Ctx, as_json: bool) -> None:
    """Show what was sent, what waits for a retry, and what failed, per channel."""
    with obj.app(readonly=True) as app:
        channels, counts, problems = notifications.delivery_status(app)
    data = rec.delivery_record(channels, counts, problems)
    emit(data, as_json, text.delivery_status(data))


@notify.command(name="flush")
@click.option(
    "--timeout", type=float, default=60.0, show_default=True, help="Stop after this many seconds."
)
@click.option(
    "--now", "right_now", is_flag=True,
    help="Also send the messages that wait for a retry later (past their channel's backoff).",
)  # fmt: skip
@click.option(
    "--retry-failed", is_flag=True,
    help="First queue again the messages given up on (after [notify] max_attempts), due now: "
    "once a channel's outage is over, nothing it missed is lost.",
)  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No summary line.")
@click.pass_obj
def notify_flush(
    obj: Ctx, timeout: float, right_now: bool, retry_failed: bool, quiet: bool
) -> None:
    """Deliver queued messages whose time has come (a retry's included); with
    --now, every queued message, at once; with --retry-failed, those given up on too."""
    with obj.app() as app:
        result = notifications.flush_notifications(
            app, timeout=timeout, now=right_now, strict=True, failed=retry_failed
        )
    if not quiet:
        click.echo(
            f"{result.sent} sent, {result.retrying} to retry later, {result.failed} given up"
        )


@notify.command(name="test")
@click.argument("channel")
@click.pass_obj
def notify_test(obj: Ctx, channel: str) -> None:
    """Send a test message right now to a channel (its id or URL); exit 1 if it fails."""
    with obj.app() as app:
        where = notifications.send_test(app, channel)
    click.echo(f"test message sent to {where}")
