"""Which events a channel wants."""

from __future__ import annotations

from typing import Any

from raqib.normalize.holding import text_holds

TRIGGERS = (
    "substantive", "silent", "headline", "figures", "quotes", "removed", "coverage", "failing",
    "all",
)  # fmt: skip
DEFAULT = ["substantive"]


def _changed_text(event: dict[str, Any]) -> str:
    parts = []
    for e in event.get("excerpt", []):
        parts += [e.get("before") or "", e.get("after") or ""]
    return (
        " ".join(parts)
        + " "
        + (event.get("headline") or "")
        + " "
        + (event.get("old_headline") or "")
    )


def wants(when: list[str], keywords: list[str], story: str | None, event: dict[str, Any]) -> bool:
    # An article can sit in several stories; `story` is only the first of them.
    if story is not None and story not in (event.get("stories") or [event.get("story")]):
        return False
    kind = event["event"]
    if kind == "removed":
        return "removed" in when or "all" in when
    if kind == "coverage":
        return "coverage" in when or "all" in when
    if kind == "failing":  # a watch failed notify.failing_after times in a row
        return "failing" in when or "all" in when
    facts = event.get("facts") or {}
    hit = (
        "all" in when
        or ("substantive" in when and event["kind"] == "substantive")
        or ("silent" in when and event["silent"])
        or ("headline" in when and event["headline_changed"])
        or ("figures" in when and bool(facts.get("numbers")))
        or ("quotes" in when and bool(facts.get("quotes")))
    )
    if hit and keywords:
        text = _changed_text(event)
        hit = any(text_holds([text], k) for k in keywords if k.strip())
    return hit
