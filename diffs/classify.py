"""Judge a change between two versions: cosmetic or substantive, silent or
announced, and what it touched (headline, byline, figures, quotes, negation).

Inputs are any objects with the attributes of raqib.domain.Version
(title, byline, text, modified, notices); the output is plain data, stored
with the change. What every reader shows is that stored analysis
(`Analysis.from_json`); it is recomputed only when an older analyzer made it
(`judged`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Protocol, TypeVar

from raqib.diffs import facts
from raqib.diffs.align import Item, Sentence, align, moved_paragraphs, split
from raqib.diffs.analyzer import ANALYZER, is_current
from raqib.diffs.signals import modified_signal, new_notices, update_signals
from raqib.diffs.words import changed_chars, word_diff
from raqib.domain import ChangeKind, Label
from raqib.normalize.arabic import compact_key

log = logging.getLogger("raqib")
T = TypeVar("T")

_COUNTED = ("add", "delete", "edit", "move", "cosmetic")
MAX_COARSE_PAIRS = 1_000_000  # sentences matched whole: past it, all replaced


class VersionLike(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def byline(self) -> str | None: ...
    @property
    def text(self) -> str: ...
    @property
    def modified(self) -> str | None: ...
    @property
    def notices(self) -> list[str]: ...


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
    error: str | None = None  # the analyzer raised: a coarse judgement (`judge`)

    def to_json(self) -> dict[str, Any]:
        """The analysis as stored: every aligned sentence, in order. Unchanged
        ones are stored by position only (their text is in the versions)."""
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
            "alignment": [item_json(it) for it in self.items],
        } | ({"analysis_error": self.error} if self.error else {})

    @classmethod
    def from_json(cls, data: dict[str, Any], old: VersionLike, new: VersionLike) -> Analysis:
        """The stored analysis of `old` → `new`, with its sentences restored.

        Raises ValueError when the stored alignment does not fit the versions
        (a stored form this analyzer does not know).
        """
        olds, news = split(old.text), split(new.text)
        items = [_item(d, olds, news) for d in data["alignment"]]
        return cls(
            kind=data["kind"],
            silent=data["silent"],
            headline_changed=data["headline_changed"],
            byline_changed=data["byline_changed"],
            signals=list(data["signals"]),
            counts=dict(data["counts"]),
            facts=data["facts"],
            chars_changed=data["chars_changed"],
            items=items,
            moved_paragraphs={int(k): v for k, v in data.get("moved_paragraphs", {}).items()},
            error=data.get("analysis_error"),
        )


def item_json(it: Item) -> dict[str, Any]:
    if it.label == Label.UNCHANGED:
        return {"label": it.label, "old_index": it.old.index, "new_index": it.new.index}  # type: ignore[union-attr]
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


def _sentence(pool: list[Sentence], index: int | None, text: str | None) -> Sentence | None:
    if index is None:
        return None
    if not 0 <= index < len(pool) or (text is not None and pool[index].text != text):
        raise ValueError(f"stored sentence {index} does not match the version")
    return pool[index]


def _item(d: dict[str, Any], olds: list[Sentence], news: list[Sentence]) -> Item:
    return Item(
        label=d["label"],
        old=_sentence(olds, d.get("old_index"), d.get("old")),
        new=_sentence(news, d.get("new_index"), d.get("new")),
        similarity=d.get("similarity", 1.0),
        ops=[(int(op), text) for op, text in d.get("words", [])],
    )


@dataclass
class Judged:
    """A change's analysis as readers show it, and where it came from."""

    analysis: Analysis
    data: dict[str, Any]  # the stored form
    analyzer: str
    reanalyzed_from: str | None = None  # the older analyzer whose judgement was replaced


def judged(
    stored: dict[str, Any] | None, analyzer: str | None, old: VersionLike, new: VersionLike
) -> Judged:
    """The stored analysis when a current analyzer made it, else a fresh one."""
    if stored is not None and analyzer is not None and is_current(analyzer):
        try:
            return Judged(Analysis.from_json(stored, old, new), stored, analyzer)
        except Exception:
            pass  # a stored form this analyzer cannot read (or one it raises on): judge again
    a = judge(old, new)
    data = a.to_json()
    if analyzer is not None:
        data["reanalyzed_from"] = analyzer  # recorded with the new judgement
    return Judged(a, data, ANALYZER, reanalyzed_from=analyzer)


def _body_changed(old_text: str, new_text: str, title: str) -> bool:
    """Whether the text changed, under an unchanged headline (`title`, its key),
    other than by the headline leaving or joining its front: extractors before
    raqib-extract 12 glued it to a short story's text, and took it out when
    the story grew (the headline is judged alone)."""
    a, b = compact_key(old_text), compact_key(new_text)
    return a != b and not (title and (a == title + b or b == title + a))


def _elsewhere(old: VersionLike, new: VersionLike, items: list[Item]) -> str | None:
    """Another page now served at the address (a redirect to another story):
    served from another URL, and no sentence of the old text is left. Not a
    silent rewrite of the article, which is how it read."""
    was, now = getattr(old, "url", None), getattr(new, "url", None)
    if not was or not now or was == now:
        return None
    if any(it.label in ("unchanged", "cosmetic", "move") for it in items):
        return None
    return f"redirect: the address now leads to another page ({now})"


def compare(old: VersionLike, new: VersionLike) -> Analysis:
    items = align(old.text, new.text)
    title = compact_key(new.title)
    headline_changed = compact_key(old.title) != title
    byline_changed = compact_key(old.byline or "") != compact_key(new.byline or "")
    substantive = headline_changed or byline_changed or _body_changed(old.text, new.text, title)
    signals = update_signals(old, new)
    if headline_changed and (elsewhere := _elsewhere(old, new, items)):
        signals.append(elsewhere)
    counts = {label: sum(1 for it in items if it.label == label) for label in _COUNTED}
    chars = sum(changed_chars(it.ops) for it in items if it.ops)
    chars += sum(len(it.new.text) for it in items if it.label == "add" and it.new)
    chars += sum(len(it.old.text) for it in items if it.label == "delete" and it.old)
    if old.title != new.title:
        chars += changed_chars(word_diff(old.title, new.title))
    counts["chars_changed"] = chars
    return Analysis(
        kind=ChangeKind.SUBSTANTIVE if substantive else ChangeKind.COSMETIC,
        # A changed headline alone announces nothing: silent unless a signal came with it.
        silent=substantive and not signals,
        headline_changed=headline_changed,
        byline_changed=byline_changed,
        signals=signals,
        counts=counts,
        facts=facts.deltas(items, (old.title, new.title) if headline_changed else None),
        chars_changed=chars,
        items=items,
        moved_paragraphs=moved_paragraphs(items),
    )


def judge(old: VersionLike, new: VersionLike) -> Analysis:
    """`compare`, or, when it raises, a coarse judgement carrying the error.

    A bug the analyzer hits on one stranger's text must not stop the changes
    after it from being judged and told: the pair would stay first in line
    on every pass. A newer analyzer judges it again (`upgrade_stale`).
    """
    try:
        return compare(old, new)
    except Exception as e:
        log.debug("the analyzer raised", exc_info=True)
        return coarse(old, new, f"{type(e).__name__}: {e}"[:300])


def _attempt(f: Callable[[], T], fallback: T) -> T:
    try:
        return f()
    except Exception:
        return fallback


def coarse(old: VersionLike, new: VersionLike, error: str) -> Analysis:
    """Sentences kept or replaced whole, with the verdicts that can still be
    read (cosmetic or substantive, the signals, the figures); what cannot be
    read counts as changed and unannounced, so a failure never hides an edit."""
    none: list[Sentence] = []
    olds = _attempt(lambda: split(old.text), none)
    news = _attempt(lambda: split(new.text), none)
    items: list[Item] = []
    matched: list[tuple[str, int, int, int, int]] = [("replace", 0, len(olds), 0, len(news))]
    if len(olds) * len(news) <= MAX_COARSE_PAIRS:  # the matcher's time grows with both
        a, b = [s.text for s in olds], [s.text for s in news]
        matched = list(SequenceMatcher(None, a, b, autojunk=False).get_opcodes())
    for op, i1, i2, j1, j2 in matched:
        if op == "equal":
            items += [
                Item(Label.UNCHANGED, o, n) for o, n in zip(olds[i1:i2], news[j1:j2], strict=True)
            ]
            continue
        items += [Item(Label.DELETE, old=o) for o in olds[i1:i2]]
        items += [Item(Label.ADD, new=n) for n in news[j1:j2]]
    headline_changed = _attempt(
        lambda: compact_key(old.title) != compact_key(new.title), old.title != new.title
    )
    byline_changed = _attempt(
        lambda: compact_key(old.byline or "") != compact_key(new.byline or ""),
        (old.byline or "").strip() != (new.byline or "").strip(),
    )
    body_changed = _attempt(
        lambda: _body_changed(old.text, new.text, compact_key(new.title)), old.text != new.text
    )
    substantive = headline_changed or byline_changed or body_changed
    signals = _coarse_signals(old, new)
    counts = {label: sum(1 for it in items if it.label == label) for label in _COUNTED}
    chars = sum(len(it.sentence.text) for it in items if it.label != Label.UNCHANGED)
    counts["chars_changed"] = chars
    headline = (old.title, new.title) if headline_changed else None
    empty: dict[str, list[dict[str, Any]]] = {"numbers": [], "quotes": [], "negations": []}
    return Analysis(
        kind=ChangeKind.SUBSTANTIVE if substantive else ChangeKind.COSMETIC,
        silent=substantive and not signals,
        headline_changed=headline_changed,
        byline_changed=byline_changed,
        signals=signals,
        counts=counts,
        facts=_attempt(lambda: facts.deltas(items, headline), empty),
        chars_changed=chars,
        items=items,
        error=error,
    )


def _coarse_signals(old: VersionLike, new: VersionLike) -> list[str]:
    """`update_signals`, or what of it can be read: the modified date, and the
    new notices by key, or as written when the key cannot be made."""
    try:
        return update_signals(old, new)
    except Exception:
        pass
    said = _attempt(lambda: modified_signal(old, new), None)
    notices = _attempt(lambda: new_notices(old, new, compact_key), None)
    if notices is None:  # as written; and nothing, if even that raises
        written: list[str] = []
        notices = _attempt(lambda: new_notices(old, new, lambda t: t), written)
    return ([said] if said else []) + notices
