"""Events: what a notification says, as plain data (the webhook schema).

Schema `raqib.event/1`, one object per event:

    id               stable per event ("raqib:…"), also sent as Idempotency-Key
    event            "change" | "removed" | "coverage"
    story, url, headline
    change only:     from_version, to_version, detected_at, kind, silent,
                     headline_changed, byline_changed, old_headline, signals,
                     facts {numbers, quotes, negations}, counts,
                     excerpt [{label, before, after}], link, warc {file, offset},
                     analysis_error (only when the judgement is coarse)
    removed only:    detected_at, status
    coverage only:   detected_at, score, terms, found_via

A digest (one message per pass) is `raqib.digest/1`: {"id", "events": [...]}.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from raqib.domain import Change, Version, Watch
from raqib.present.records import change_record, iso, schema

SCHEMA = schema("event")
DIGEST_SCHEMA = schema("digest")
# What an event repeats of the change record, as it is there.
_FROM_CHANGE = (
    "from_version", "to_version", "detected_at", "kind", "silent", "headline_changed",
    "byline_changed", "signals", "facts", "counts",
)  # fmt: skip
EXCERPT_ITEMS = 3
CONTEXT_WORDS = 12


def _marked(words: list[list[Any]], keep: int) -> str:
    """One side of a word diff, the change marked: keep=-1 old side, 1 new side."""
    out = []
    for op, text in words:
        if op == 0:
            out.append(("same", text))
        elif op == keep:
            out.append(("mark", text))
    # Trim long unchanged stretches to a few words either side of the change.
    parts = []
    for i, (kind, text) in enumerate(out):
        if kind == "mark":
            parts.append(("[−" if keep == -1 else "[+") + text.strip() + "]")
            continue
        words_ = text.split(" ")
        first, last = i == 0, i == len(out) - 1
        if len(words_) > 2 * CONTEXT_WORDS:
            if first:
                text = "… " + " ".join(words_[-CONTEXT_WORDS:])
            elif last:
                text = " ".join(words_[:CONTEXT_WORDS]) + " …"
            else:
                text = " ".join(words_[:CONTEXT_WORDS]) + " … " + " ".join(words_[-CONTEXT_WORDS:])
        parts.append(text)
    return "".join(parts).strip()


def excerpt(alignment: list[dict[str, Any]]) -> list[dict[str, str | None]]:
    """Before/after of the first few changed sentences, changes marked [− ] and [+ ]."""
    out: list[dict[str, str | None]] = []
    for item in alignment:
        if item["label"] in ("unchanged", "cosmetic"):
            continue
        if item["label"] == "add":
            out.append({"label": "add", "before": None, "after": "[+" + (item["new"] or "") + "]"})
        elif item["label"] == "delete":
            out.append(
                {"label": "delete", "before": "[−" + (item["old"] or "") + "]", "after": None}
            )
        elif item["words"]:
            out.append(
                {
                    "label": item["label"],
                    "before": _marked(item["words"], -1),
                    "after": _marked(item["words"], 1),
                }
            )
        else:
            out.append({"label": item["label"], "before": item["old"], "after": item["new"]})
        if len(out) >= EXCERPT_ITEMS:
            break
    return out


def change_event(
    change: Change,
    watch: Watch,
    old: Version,
    new: Version,
    *,
    link_base: str,
    warc: dict[str, Any] | None,
) -> dict[str, Any]:
    """A change as a notification says it: the change record, worded for people."""
    record = change_record(change, watch, old.number, new.number)
    return _identified(
        {
            "schema": SCHEMA,
            "event": "change",
            "story": watch.story,
            "stories": list(watch.stories),
            "url": watch.url,
            "headline": new.title,
            "old_headline": old.title,
            **{k: record[k] for k in _FROM_CHANGE},
            "excerpt": excerpt(record["alignment"]),
            # The change page in the report, where the report is known to live.
            "link": f"{link_base.rstrip('/')}/change-{change.id}.html" if link_base else None,
            "warc": warc,
        }
        # The analyzer failed on it: a coarse judgement (raqib.change/1's analysis_error).
        | ({"analysis_error": record["analysis_error"]} if "analysis_error" in record else {})
    )


def removed_event(watch: Watch, *, at: datetime, status: int | None) -> dict[str, Any]:
    return _identified(
        {
            "schema": SCHEMA,
            "event": "removed",
            "story": watch.story,
            "stories": list(watch.stories),
            "url": watch.url,
            "headline": watch.title,
            "detected_at": iso(at),
            "status": status,
        }
    )


def failing_event(
    watch: Watch, *, at: datetime, failures: int, status: int | None, detail: str | None
) -> dict[str, Any]:
    """A watch that failed `failures` times in a row (errors, not an article),
    and what its last fetch said: an outage's events say what went wrong."""
    return _identified(
        {
            "schema": SCHEMA,
            "event": "failing",
            "story": watch.story,
            "stories": list(watch.stories),
            "url": watch.url,
            "headline": watch.title,
            "detected_at": iso(at),
            "failures": failures,
            "last_outcome": watch.last_outcome,
            "status": status,
            "detail": detail[:300] if detail else None,
        }
    )


def coverage_event(candidate: dict[str, Any], *, at: datetime) -> dict[str, Any]:
    return _identified(
        {
            "schema": SCHEMA,
            "event": "coverage",
            "story": candidate.get("story"),
            "stories": [candidate["story"]] if candidate.get("story") else [],
            "url": candidate["url"],
            "headline": candidate.get("title"),
            "detected_at": iso(at),
            "score": candidate.get("score"),
            "terms": candidate.get("terms"),
            "found_via": candidate.get("found_via"),
        }
    )


def digest_message(events: list[dict[str, Any]]) -> dict[str, Any]:
    """One message for a pass's events (a channel with --digest)."""
    ids = "\n".join(str(e.get("id")) for e in events)
    return {"schema": DIGEST_SCHEMA, "id": _id(f"digest:{ids}"), "events": events}


def _id(key: str) -> str:
    return "raqib:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _identified(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its stable id: the same event always has the same id, so a
    receiver can drop a message delivered twice (delivery is at least once)."""
    return {"id": _id(event_key(event)), **event}


def event_key(event: dict[str, Any]) -> str:
    """Identifies an event, so a message is queued once per channel whatever reruns."""
    if event["event"] == "change":
        # When it was seen tells apart the changes of an article purged and
        # watched again, whose version numbers start over.
        at, a, b = event["detected_at"], event["from_version"], event["to_version"]
        return f"change:{at}:{a}-{b}:{event['url']}"[:200]
    return f"{event['event']}:{event['url']}:{event['detected_at']}"[:200]


def test_event(now: datetime) -> dict[str, Any]:
    """What `raqib notify test` sends: a change event marked as a test."""
    return {
        "id": _id(f"test:{iso(now)}"),
        "schema": SCHEMA,
        "event": "change",
        "test": True,
        "story": None,
        "stories": [],
        "url": "https://example.com/raqib-test",
        "headline": "رسالة تجريبية من رقيب",
        "old_headline": "رسالة تجريبية من رقيب",
        "from_version": 1,
        "to_version": 2,
        "detected_at": iso(now),
        "kind": "substantive",
        "silent": True,
        "headline_changed": False,
        "byline_changed": False,
        "signals": [],
        "facts": {
            "numbers": [{"removed": ["3.5"], "added": ["3.3"]}],
            "quotes": [],
            "negations": [],
        },
        "counts": {},
        "excerpt": [
            {
                "label": "edit",
                "before": "بلغت الصادرات [−3.5] مليون برميل",
                "after": "بلغت الصادرات [+3.3] مليون برميل",
            }
        ],
        "link": "https://example.com/raqib-test",
        "warc": None,
    }
