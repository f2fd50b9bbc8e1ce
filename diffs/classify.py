"""Judge a change between two versions: cosmetic or substantive, silent or
announced, and what it touched (headline, byline, figures, quotes, negation).

Inputs are any objects with the attributes of storage.models.Version
(title, byline, text, modified, notices); the output is plain data, stored
with the change and shown by `raqib changes --json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from raqib.diffs import facts
from raqib.diffs.align import Item, align, moved_paragraphs
from raqib.diffs.words import changed_chars, word_diff
from raqib.normalize.arabic import compact_key

ANALYZER = "raqib-diff 1"


class VersionLike(Protocol):
    title: str
    byline: str | None
    text: str
    modified: str | None
    notices: list[str]


@dataclass
class Analysis:
    kind: str  # cosmetic | substantive
    silent: bool
    headline_changed: bool
    byline_changed: bool
    signals: list[str]
    counts: dict[str, int]
    facts: dict[str, list[dict[str, Any]]]
    chars_changed: int
    items: list[Item] = field(default_factory=list)
    moved_paragraphs: dict[int, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The analysis as stored and shown (alignment included)."""
        return {
            "kind": self.kind,
            "silent": self.silent,
            "headline_changed": self.headline_changed,
            "byline_changed": self.byline_changed,
            "signals": self.signals,
            "counts": self.counts,
            "facts": self.facts,
            "chars_changed": self.chars_changed,
            "moved_paragraphs": {str(k): v for k, v in self.moved_paragraphs.items()},
            "alignment": [item_json(it) for it in self.items if it.label != "unchanged"],
        }


def item_json(it: Item) -> dict[str, Any]:
    return {
        "label": it.label,
        "old_index": it.old.index if it.old else None,
        "new_index": it.new.index if it.new else None,
        "old_paragraph": it.old.para if it.old else None,
        "new_paragraph": it.new.para if it.new else None,
        "old": it.old.text if it.old else None,
        "new": it.new.text if it.new else None,
        "similarity": it.similarity,
        "words": [[op, text] for op, text in it.ops],
    }


def update_signals(old: VersionLike, new: VersionLike) -> list[str]:
    """What the publisher did to announce an update, if anything."""
    signals = []
    if new.modified and new.modified != old.modified:
        signals.append(f"modified date {old.modified or 'absent'} → {new.modified}")
    old_notices = {compact_key(n) for n in (old.notices or [])}
    for notice in new.notices or []:
        if compact_key(notice) not in old_notices:
            signals.append(f"notice: {notice}")
    return signals


def compare(old: VersionLike, new: VersionLike) -> Analysis:
    items = align(old.text, new.text)
    headline_changed = compact_key(old.title) != compact_key(new.title)
    byline_changed = compact_key(old.byline or "") != compact_key(new.byline or "")
    substantive = (
        headline_changed or byline_changed or compact_key(old.text) != compact_key(new.text)
    )
    signals = update_signals(old, new)
    counts = {
        label: sum(1 for it in items if it.label == label)
        for label in ("add", "delete", "edit", "move", "cosmetic")
    }
    chars = sum(changed_chars(it.ops) for it in items if it.ops)
    chars += sum(len(it.new.text) for it in items if it.label == "add" and it.new)
    chars += sum(len(it.old.text) for it in items if it.label == "delete" and it.old)
    if old.title != new.title:
        chars += changed_chars(word_diff(old.title, new.title))
    counts["chars_changed"] = chars
    return Analysis(
        kind="substantive" if substantive else "cosmetic",
        # A changed headline alone announces nothing: silent unless a signal came with it.
        silent=substantive and not signals,
        headline_changed=headline_changed,
        byline_changed=byline_changed,
        signals=signals,
        counts=counts,
        facts=facts.deltas(items),
        chars_changed=chars,
        items=items,
        moved_paragraphs=moved_paragraphs(items),
    )
