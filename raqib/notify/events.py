"""Events: what a notification says, as plain data (the webhook schema).

Schema `raqib.event/1`, one object per event:

    event            "change" | "removed" | "coverage"
    story, url, headline
    change only:     from_version, to_version, detected_at, kind, silent,
                     headline_changed, byline_changed, old_headline, signals,
                     facts {numbers, quotes, negations}, counts,
                     excerpt [{label, before, after}], link, warc {file, offset}
    removed only:    detected_at, status
    coverage only:   detected_at, score, terms, found_via

A digest (one message per pass) is `raqib.digest/1`: {"events": [...]}.
"""

from __future__ import annotations

from typing import Any

from raqib.present.records import iso

SCHEMA = "raqib.event/1"
DIGEST_SCHEMA = "raqib.digest/1"
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
    change: Any,
    watch: Any,
    story: str | None,
    old: Any,
    new: Any,
    *,
    link_base: str,
    warc: dict[str, Any] | None,
) -> dict[str, Any]:
    a = change.analysis
    return {
        "schema": SCHEMA,
        "event": "change",
        "story": story,
        "url": watch.url,
        "headline": new.title,
        "old_headline": old.title,
        "from_version": old.number,
        "to_version": new.number,
        "detected_at": iso(change.detected_at),
        "kind": change.kind,
        "silent": change.silent,
        "headline_changed": change.headline_changed,
        "byline_changed": change.byline_changed,
        "signals": a.get("signals", []),
        "facts": a.get("facts", {}),
        "counts": a.get("counts", {}),
        "excerpt": excerpt(a.get("alignment", [])),
        "link": f"{link_base.rstrip('/')}/change-{change.id}.html",
        "warc": warc,
    }


def removed_event(watch: Any, story: str | None, *, at: Any, status: int | None) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "event": "removed",
        "story": story,
        "url": watch.url,
        "headline": watch.title,
        "detected_at": iso(at),
        "status": status,
    }


def coverage_event(candidate: dict[str, Any], *, at: Any) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "event": "coverage",
        "story": candidate.get("story"),
        "url": candidate["url"],
        "headline": candidate.get("title"),
        "detected_at": iso(at),
        "score": candidate.get("score"),
        "terms": candidate.get("terms"),
        "found_via": candidate.get("found_via"),
    }


def event_key(event: dict[str, Any]) -> str:
    """Identifies an event, so a message is queued once per channel whatever reruns."""
    if event["event"] == "change":
        return f"change:{event['url']}:{event['from_version']}-{event['to_version']}"[:200]
    return f"{event['event']}:{event['url']}:{event['detected_at']}"[:200]
