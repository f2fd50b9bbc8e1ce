"""Deliver queued messages: JSON webhooks (POST) and apprise URLs.

Nothing here may break a pass: every failure is recorded on its outbox row
and retried with exponential backoff until max_attempts (a message whose
content the receiver refuses: REFUSED_ATTEMPTS), then marked failed (visible
in `raqib notify status`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from raqib.notify import messages
from raqib.urls import redact

log = logging.getLogger("raqib")

TIMEOUT = 10.0
# A flush's claim on its messages (and one send's timeout): renewed on a
# channel's messages yet to be sent every RENEW, so a slow channel keeps
# them, nine tenths of LEASE ahead at least, and a flush that died frees them
# within LEASE.
LEASE = timedelta(minutes=5)
RENEW = LEASE / 10
# A message whose content the receiver refuses at this try or a later one (of
# any outcome before) is marked failed: the same bytes would be refused the
# same way for max_attempts (about 5 hours by default).
REFUSED_ATTEMPTS = 3
USER_AGENT = "Raqib notifications (+https://github.com/raqib-news/raqib)"


class DeliveryError(Exception):
    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        # The receiver refused this message's content: the message's own
        # problem, not the channel's (whose others go on).
        self.refused = refused


def _refused(status: int) -> bool:
    """400, 413, 415, 422: the content; 401, 403, 404, 410 (a revoked token, a
    deleted hook) and the rest are the channel's, which backs off whole."""
    return status in (400, 413, 415, 422)


def kind_of(url: str) -> str:
    return "webhook" if url.lower().startswith(("http://", "https://")) else "apprise"


def valid_apprise(url: str) -> bool:
    import apprise

    return bool(apprise.Apprise().add(url))


class _Unfollowed(urllib.request.HTTPRedirectHandler):
    """A webhook answers at its own address. A redirect is not followed: a
    receiver that turned hostile (or an open redirect on it) would aim this
    machine at a cloud's metadata address or an intranet, the message too."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str):  # type: ignore[no-untyped-def]
        fp.close()  # the answer is read no further: its socket goes now
        raise DeliveryError(
            f"HTTP {code}: redirected to {redact(newurl)[:200]}, not followed "
            "(a webhook must answer at its own address)"
        )


_OPENER = urllib.request.build_opener(_Unfollowed)


def _post(url: str, payload: dict[str, Any], timeout: float) -> None:
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            # The same event always carries the same id: a receiver drops repeats.
            "Idempotency-Key": str(payload.get("id", "")),
        },
    )
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            if not 200 <= resp.status < 300:
                raise DeliveryError(f"HTTP {resp.status}", refused=_refused(resp.status))
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}", refused=_refused(exc.code)) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{type(exc).__name__}: {reason}") from exc


def _apprise(url: str, title: str, body: str) -> None:
    import apprise

    a = apprise.Apprise()
    if not a.add(url):
        raise DeliveryError("not a URL apprise understands")
    # Text: apprise escapes it for HTML and Markdown targets (e-mail, Telegram),
    # where a page's own markup in a headline would be a stranger's pixel or link.
    if not a.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT):
        raise DeliveryError("apprise could not deliver (see -v for its log)")


def send(kind: str, url: str, payload: dict[str, Any], timeout: float = TIMEOUT) -> None:
    """One message: the payload as JSON to a webhook, or worded for apprise."""
    if kind == "webhook":
        _post(url, payload, timeout)
        return
    if payload.get("schema") == "raqib.digest/1":
        title, body = messages.digest(payload["events"])
    else:
        title, body = messages.title(payload), messages.body(payload)
    _apprise(url, title, body)


@dataclass
class FlushResult:
    sent: int = 0
    failed: int = 0
    retrying: int = 0


def _backoff(attempts: int, base: timedelta, most: timedelta) -> timedelta:
    # In seconds, the exponent capped: a timedelta overflows past 999,999,999 days.
    seconds = base.total_seconds() * 2.0 ** min(max(attempts - 1, 0), 60)
    return min(timedelta(seconds=min(seconds, most.total_seconds())), most)


def flush(
    outbox: Any,
    *,
    owner: str,
    clock: Any,
    deadline: float,
    retry_base: timedelta,
    retry_max: timedelta,
    max_attempts: int,
    timeout: float = TIMEOUT,
) -> FlushResult:
    """Deliver what is due until nothing is left or the deadline (monotonic) passes.

    Each channel is delivered on its own thread, in order, each message with
    `timeout`: a slow or dead channel holds up nothing but itself. When a
    message fails, its channel backs off as a whole (its other messages wait
    as long), unless the receiver refused that message's content (400, 413,
    415, 422): it waits for its retry (REFUSED_ATTEMPTS in all), and the
    channel's next message goes.
    Delivery is at least once: a message whose answer never came is sent
    again later, with the same id (`Idempotency-Key`).
    """
    result = FlushResult()
    lock = threading.Lock()
    tried: list[int] = []  # one attempt per message per flush, however soon its retry is due
    lease = LEASE + timedelta(seconds=timeout)  # outlasts the send under way when renewed

    def deliver(items: list[tuple[Any, Any]]) -> None:
        renewed = clock()  # the claims' own clock: the one other flushes read them by
        for i, (row, channel) in enumerate(items):
            left = deadline - time.monotonic()
            if left <= 0:
                outbox.release([r.id for r, _c in items[i:]])  # for the next flush
                return
            if clock() - renewed > RENEW:
                renewed = clock()
                outbox.renew([r.id for r, _c in items[i:]], owner, now=renewed, lease=lease)
            try:
                send(channel.kind, channel.url, row.payload, timeout=min(timeout, max(left, 1.0)))
            except Exception as exc:
                attempts = row.attempts + 1
                refused = getattr(exc, "refused", False)  # this message only: the next one goes
                if attempts >= (min(max_attempts, REFUSED_ATTEMPTS) if refused else max_attempts):
                    outbox.failed(row.id, now=clock(), error=str(exc), retry_at=None)
                    # Said where the daemon's log shows it (its flushes are --quiet).
                    log.warning(
                        "a message to channel %s was given up after %d attempts: %s "
                        "(`raqib notify flush --retry-failed` sends it again)",
                        channel.id, attempts, str(exc)[:200],
                    )  # fmt: skip
                    with lock:
                        result.failed += 1
                    continue
                retry_at = clock() + _backoff(attempts, retry_base, retry_max)
                outbox.failed(row.id, now=clock(), error=str(exc), retry_at=retry_at)
                if refused:
                    with lock:
                        result.retrying += 1
                    continue
                rest = [r.id for r, _c in items[i + 1 :]]
                outbox.defer(rest, until=retry_at)
                with lock:
                    result.retrying += 1 + len(rest)
                return
            outbox.delivered(row.id, now=clock())
            with lock:
                result.sent += 1

    while time.monotonic() < deadline:
        batch = outbox.claim(owner, now=clock(), lease=lease, limit=500, exclude=tried)
        if not batch:
            break
        tried.extend(row.id for row, _c in batch)
        by_channel: dict[int, list[tuple[Any, Any]]] = {}
        for row, channel in batch:
            by_channel.setdefault(channel.id, []).append((row, channel))
        workers = [
            threading.Thread(target=deliver, args=(items,), name=f"raqib-notify-{cid}", daemon=True)
            for cid, items in by_channel.items()
        ]
        for w in workers:
            w.start()
        for w in workers:
            # A send never outlives the deadline by more than its minimum timeout.
            w.join(max(deadline - time.monotonic(), 0) + 1.5)
        if len(batch) < 500:
            break
    return result
