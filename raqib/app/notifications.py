"""Notifications: match events against each channel's rules, queue the
messages in the outbox, and deliver them within a time budget."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from raqib import analysis
from raqib.app.claims import clock_problem
from raqib.app.errors import AppError, BadInput, ClockSkew, NotFound
from raqib.app.home import App, new_owner
from raqib.config import parse_duration
from raqib.domain import Change, Channel, Delivery, Message, Watch
from raqib.notify.deliver import LEASE, FlushResult, flush, kind_of, send, valid_apprise
from raqib.notify.rules import wants
from raqib.present.events import (
    change_event,
    coverage_event,
    digest_message,
    event_key,
    failing_event,
    removed_event,
    test_event,
)
from raqib.present.records import shown_channel
from raqib.storage import StoreError

log = logging.getLogger("raqib")


OWNED = "config-channels.json"  # the channels this home's raqib.toml made


def sync_config_channels(app: App) -> None:
    """Channels written in raqib.toml live in the database too (origin
    "config"); one this home's raqib.toml no longer lists stops. Another
    home's raqib.toml (a worker on another machine) keeps its own: every
    worker stopped the channels its file did not list, so a channel added on
    one machine was off whenever another passed, and missed its changes."""
    keep = set()
    for ch in app.config.notify.channels:
        row, _ = app.storage.outbox.add_channel(
            ch["url"].strip(),
            kind=kind_of(ch["url"].strip()),
            story=ch.get("story"),
            when=list(ch.get("when", ["substantive"])),
            keywords=list(ch.get("keywords", [])),
            digest=bool(ch.get("digest", False)),
            origin="config",
            now=app.clock(),
        )
        keep.add(row.id)
    owned = app.home / OWNED
    # Ids of this database's channels: a home pointed at another names none there.
    database = hashlib.sha256(app.storage.safe_url().encode()).hexdigest()[:16]
    try:
        kept = json.loads(owned.read_text(encoding="utf-8"))
        before = {int(i) for i in kept["ids"]} if kept["database"] == database else set()
    except (OSError, ValueError, TypeError, KeyError):
        before = set()  # none yet (or unreadable): stop nothing rather than another's
    app.storage.outbox.disable_config_channels(before - keep)
    if keep == before:
        return
    tmp = owned.with_name(f".{OWNED}.{os.getpid()}")
    try:
        tmp.write_text(json.dumps({"database": database, "ids": sorted(keep)}), encoding="utf-8")
        os.replace(tmp, owned)  # the old list or the new, never half
    except OSError as exc:  # the channels stand; only a later removal is not seen
        log.warning("could not note raqib.toml's channels in %s: %s", owned, exc)


def channels(app: App) -> list[Channel]:
    if not app.readonly:
        sync_config_channels(app)
    return app.storage.outbox.channels()


def add_channel(
    app: App, url: str, *, story: str | None, when: list[str], keywords: list[str], digest: bool
) -> tuple[Channel, bool]:
    url = url.strip()
    if any(not k.strip() for k in keywords):
        raise BadInput("--keyword needs a word (an empty one would match every change)")
    kind = kind_of(url)
    if kind == "apprise" and not valid_apprise(url):
        raise BadInput(
            f"{shown_channel(url)} is not a URL apprise understands "
            "(see https://github.com/caronc/apprise)"
        )
    return app.storage.outbox.add_channel(
        url, kind=kind, story=story, when=when or ["substantive"], keywords=keywords,
        digest=digest, origin="cli", now=app.clock(),
    )  # fmt: skip


def queue_events(
    app: App,
    events: list[dict[str, Any]],
    *,
    batch: str,
    told: Sequence[int] = (),
    of: Mapping[int, int] | None = None,
) -> int:
    """Match events against every channel's rules and queue the messages. The
    changes `told` are marked told in the same transaction; an event of one
    (`of`: id(event) → change id) that another worker marked first is left
    out, as its worker queues it."""
    sync_config_channels(app)
    channels = app.storage.outbox.channels(enabled_only=True)
    of = of or {}

    def items(flipped: set[int]) -> list[tuple[int, str, dict[str, Any]]]:
        mine = [e for e in events if of.get(id(e)) is None or of[id(e)] in flipped]
        out: list[tuple[int, str, dict[str, Any]]] = []
        for ch in channels:
            wanted = [e for e in mine if _wants(ch, e)]
            if wanted and ch.digest:
                out.append((ch.id, f"digest:{batch}", digest_message(wanted)))
            elif wanted:
                out.extend((ch.id, event_key(e), e) for e in wanted)
        return out

    if not events and not told:
        return 0
    return app.storage.outbox.enqueue(items, now=app.clock(), told=told)


def _wants(ch: Channel, event: dict[str, Any]) -> bool:
    """The channel's rules; a rule that cannot be read on this event (a bug on
    a stranger's text) tells it rather than keep a possible edit quiet."""
    try:
        return wants(ch.when, ch.keywords or [], ch.story, event)
    except Exception as exc:
        log.error("notifications: channel %d's rules failed on an event (%s): sent", ch.id, exc)
        return True


def change_events(app: App, changes: list[Change]) -> list[dict[str, Any]]:
    """The pass's changes as events. One whose event cannot be built is logged
    and left out: it must not keep the pass's other changes untold."""
    return [e for _c, e in _change_events(app, changes)]


def _change_events(app: App, changes: list[Change]) -> list[tuple[int, dict[str, Any]]]:
    """(change id, event) of each change whose event can be built."""
    events = []
    for c in changes:
        found = app.storage.changes.detail(c.id)
        if found is None:
            continue
        change, old, new = found
        watch = app.storage.watches.get(change.watch_id)
        warc = app.storage.archive.evidence(watch.id).get(new.id, {}).get("warc")
        try:
            change = analysis.current_change(change, old, new)
            event = change_event(
                change, watch, old, new, link_base=app.config.report_base(), warc=warc
            )
        except Exception as exc:
            log.error(
                "notifications: change %d (watch %d, version %d → %d) could not be told: %s: %s",
                change.id, watch.id, old.number, new.number, type(exc).__name__, exc,
            )  # fmt: skip
            continue
        events.append((c.id, event))
    return events


def flush_notifications(
    app: App, *, timeout: float, now: bool = False, strict: bool = False, failed: bool = False
) -> FlushResult:
    """Deliver what is due; with `now`, what waits for a retry too. Nothing
    is sent while this machine's clock is too far off for the flush's claims
    (another worker could send the same messages): ClockSkew when `strict`,
    else logged, the messages counted as waiting. `failed`: the messages given
    up on are queued again first, their attempts counted afresh."""
    problem, _how = clock_problem(app, CLAIM_SKEW)
    if problem is not None:
        if strict:
            raise ClockSkew(problem)
        log.error("notifications wait: %s", problem)
        pending = app.storage.outbox.counts().items()
        return FlushResult(retrying=sum(n for (_c, state), n in pending if state == "pending"))
    n = app.config.notify
    if failed:  # given up on: queued again, due now
        app.storage.outbox.retry_failed(app.clock())
    if now:
        app.storage.outbox.due_now(app.clock())
    return flush(
        app.storage.outbox,
        owner=new_owner(),
        clock=app.clock,
        deadline=time.monotonic() + timeout,
        retry_base=parse_duration(n.retry_base),
        retry_max=parse_duration(n.retry_max),
        max_attempts=n.max_attempts,
        timeout=parse_duration(n.timeout).total_seconds(),
    )


# A live flush's claims run nine tenths of deliver.LEASE ahead at least: two
# workers within this of the database's clock (so within 4 minutes of each
# other) never take them early.
CLAIM_SKEW = LEASE * 2 / 5

UNTOLD = 1000  # changes an earlier pass left untold, told by each pass at most


def _listening(app: App) -> bool:
    """Whether any channel could take a message (else no event is worth building)."""
    return bool(app.config.notify.channels or app.storage.outbox.channels(enabled_only=True))


def _deliver(
    app: App,
    events: list[dict[str, Any]],
    told: Sequence[int] = (),
    of: Mapping[int, int] | None = None,
) -> FlushResult | None:
    if not (events or told) or not _listening(app):
        return None
    queue_events(app, events, batch=new_owner(), told=told, of=of)  # marks `told` even so
    if not events:
        return None
    return flush_notifications(
        app, timeout=parse_duration(app.config.notify.flush_timeout).total_seconds()
    )


def _still_there(app: App, watch_id: int) -> Watch | None:
    """The watch, unless it was purged while the pass ran (its event goes with it)."""
    try:
        return app.storage.watches.get(watch_id)
    except StoreError:
        return None


def notify_pass(
    app: App,
    *,
    changes: list[Change],
    removed: list[tuple[int, int | None, datetime]],
    failing: Sequence[tuple[int, int, datetime]] = (),
) -> tuple[int, int]:
    """Queue what a pass found and deliver it, within notify.flush_timeout.

    Returns (sent, still waiting). Never raises: a notification problem is
    logged and the messages wait in the outbox for `raqib notify flush` or
    the daemon.
    """
    try:
        # And what a pass stopped between storing its changes and queueing left
        # untold: older than a lease, so that no pass still running is raced.
        mine = {c.id for c in changes}
        before = app.clock() - parse_duration(app.config.schedule.lease)
        changes = [
            *changes,
            *(
                c
                for c in app.storage.changes.untold(limit=UNTOLD, before=before)
                if c.id not in mine
            ),
        ]
        told = [c.id for c in changes]
        if not _listening(app):  # told no one: a channel added later gets no backlog
            app.storage.outbox.enqueue([], now=app.clock(), told=told)
            return 0, 0
        pairs = _change_events(app, changes)
        of = {id(e): cid for cid, e in pairs}
        events = [e for _c, e in pairs]
        for watch_id, status, at in removed:
            if (gone := _still_there(app, watch_id)) is not None:
                events.append(removed_event(gone, at=at, status=status))
        after = app.config.notify.failing_after
        # Once, when the run of failures reaches the rule's length.
        now_failing = [(w, at) for w, errors, at in failing if errors == after]
        last = app.storage.history.last_fetches([w for w, _at in now_failing])
        for watch_id, at in now_failing:
            if (watch := _still_there(app, watch_id)) is not None:
                said = last.get(watch_id)
                status, detail = (said.status, said.detail) if said else (None, None)
                events.append(
                    failing_event(watch, at=at, failures=after, status=status, detail=detail)
                )
        result = _deliver(app, events, told, of)
    except Exception as exc:
        log.warning("notifications: %s", exc)
        return 0, 0
    return (result.sent, result.retrying) if result is not None else (0, 0)


def notify_coverage(app: App, added: list[dict[str, Any]], *, at: datetime) -> None:
    """Tell the channels about newly found related coverage; never raises."""
    try:
        _deliver(app, [coverage_event(c, at=at) for c in added])
    except Exception as exc:
        log.warning("notifications: %s", exc)


def send_test(app: App, channel: str) -> str:
    """Send a test message now to a channel (its id or URL); returns where it went."""
    ref = channel.strip()
    match = [c for c in app.storage.outbox.channels() if str(c.id) == ref or c.url == ref]
    if not match and ref.isdigit():  # an id, and no channel has it: no URL to try
        raise NotFound(f"no channel {ref} (see `raqib notify list`)")
    url = match[0].url if match else ref
    kind = match[0].kind if match else kind_of(url)
    try:
        send(kind, url, test_event(app.clock()))
    except Exception as exc:
        raise AppError(f"test message to {shown_channel(url)} failed: {exc}") from exc
    return shown_channel(url)


def remove_channel(app: App, ref: str) -> int:
    n = app.storage.outbox.remove_channel(ref.strip())
    if not n:
        raise NotFound(f"no channel {ref}")
    return n


def delivery_status(
    app: App, *, recent: int = 200
) -> tuple[list[Channel], dict[tuple[int, str], int], list[tuple[Message, Channel]]]:
    """Every channel, its message counts by status, and the recent messages
    that failed (waiting for a retry, or given up)."""
    outbox = app.storage.outbox
    problems = [
        (m, c) for m, c in outbox.recent(limit=recent) if m.status != Delivery.SENT and m.last_error
    ]
    return outbox.channels(), outbox.counts(), problems
