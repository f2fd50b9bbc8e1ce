"""Deliver queued messages: JSON webhooks (POST) and apprise URLs.

Nothing here may break a pass: every failure is recorded on its outbox row
and retried with exponential backoff until max_attempts, then marked failed
(visible in `raqib notify status`).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from raqib.notify import messages

TIMEOUT = 10.0
USER_AGENT = "Raqib notifications (+https://github.com/raqib-news/raqib)"


class DeliveryError(Exception):
    pass


def kind_of(url: str) -> str:
    return "webhook" if url.lower().startswith(("http://", "https://")) else "apprise"


def valid_apprise(url: str) -> bool:
    import apprise

    return bool(apprise.Apprise().add(url))


def _post(url: str, payload: dict[str, Any], timeout: float) -> None:
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            if not 200 <= resp.status < 300:
                raise DeliveryError(f"HTTP {resp.status}")
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{type(exc).__name__}: {reason}") from exc


def _apprise(url: str, title: str, body: str) -> None:
    import apprise

    a = apprise.Apprise()
    if not a.add(url):
        raise DeliveryError("not a URL apprise understands")
    if not a.notify(title=title, body=body):
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


def flush(
    outbox: Any,
    *,
    owner: str,
    clock: Any,
    deadline: float,
    retry_base: timedelta,
    retry_max: timedelta,
    max_attempts: int,
) -> FlushResult:
    """Deliver what is due until nothing is left or the deadline (monotonic) passes."""
    result = FlushResult()
    tried: list[int] = []  # one attempt per message per flush, however soon its retry is due
    while time.monotonic() < deadline:
        batch = outbox.claim(
            owner, now=clock(), lease=timedelta(minutes=5), limit=20, exclude=tried
        )
        if not batch:
            break
        for i, (row, channel) in enumerate(batch):
            if time.monotonic() >= deadline:
                outbox.release([r.id for r, _c in batch[i:]])  # for the next flush
                break
            tried.append(row.id)
            try:
                send(
                    channel.kind,
                    channel.url,
                    row.payload,
                    timeout=min(TIMEOUT, max(deadline - time.monotonic(), 1.0)),
                )
            except Exception as exc:
                attempts = row.attempts + 1
                if attempts >= max_attempts:
                    outbox.failed(row.id, now=clock(), error=str(exc), retry_at=None)
                    result.failed += 1
                else:
                    delay = min(retry_base * (2 ** (attempts - 1)), retry_max)
                    outbox.failed(row.id, now=clock(), error=str(exc), retry_at=clock() + delay)
                    result.retrying += 1
            else:
                outbox.delivered(row.id, now=clock())
                result.sent += 1
    return result
