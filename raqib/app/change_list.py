"""Changes as the listings read them (`raqib changes`, the front page, the
feed's filters): filtered, in SQL where the database can, ranked, and read a
page at a time so a history of months is never held whole."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from raqib import analysis
from raqib.app import manage
from raqib.app.errors import BadInput
from raqib.app.history import find_watch, parse_since
from raqib.app.home import App
from raqib.diffs.analyzer import ANALYZER, is_current
from raqib.domain import FACT_MARKS, ChangeRow
from raqib.normalize.holding import text_holds

FACTS = {"figures": "numbers", "quotes": "quotes", "negation": "negations"}


@dataclass(frozen=True)
class ChangeFilter:
    url: str | None = None
    story: str | None = None
    outlet: str | None = None
    tag: str | None = None
    silent: bool | None = None
    kind: str | None = None
    facts: tuple[str, ...] = ()  # figures, quotes, negation: changes touching any of them
    since: str | None = None  # ISO 8601 or a span: 2d, 12h
    search: str | None = None  # words in the changed sentences or the headline


PAGE = 500  # changes read at a time, so a listing of months holds one page of analyses


def changes(
    app: App,
    f: ChangeFilter = ChangeFilter(),
    *,
    first: int,
    order: str = "priority",
) -> tuple[list[ChangeRow], int]:
    """The newest `first` changes, each with the analysis every reader shows,
    and how many there are: in the front page's order ("priority": silent
    substantive edits first, newest first in each), or listed oldest first
    ("newest"); read in SQL unless a filter needs each change's analysis, and
    then kept `first` at a time as the rest stream past. The newest are taken
    before they are ordered: taken by priority, a year's silent edits would
    hide every later edit from the front page."""
    watch_id, where, sifted = _where(app, f)
    if not sifted:
        top = app.storage.changes.all(watch_id=watch_id, **where, newest=first)
        total = app.storage.changes.count(watch_id=watch_id, **where)
        kept = analysis.current_rows(app.storage, top)[::-1]
    else:
        counted = _Counted(_stream(app, f, watch_id, where))
        kept, total = list(deque(counted, maxlen=first)), counted.n
    return (kept if order == "newest" else sorted(kept, key=priority)), total


def each_change(app: App, f: ChangeFilter = ChangeFilter()) -> Iterator[ChangeRow]:
    """Every change the filter lets through, oldest first, read a page at a
    time: memory stays one page however long the history. The filter is
    checked before the first is read, so a mistyped name raises at once."""
    watch_id, where, _sifted = _where(app, f)
    return _stream(app, f, watch_id, where)


def _where(app: App, f: ChangeFilter) -> tuple[int | None, dict[str, Any], bool]:
    """The filter checked (a mistyped name says it names nothing, rather than
    showing "no changes"), as storage's arguments, and whether some of it is
    applied to each change's analysis after reading."""
    since_dt = parse_since(f.since, now=app.clock(), zone=app.config.display.timezone)
    for fact in f.facts:
        if fact not in FACTS:
            raise BadInput(f"--facts {fact!r}: one of {', '.join(FACTS)}")
    watch_id = find_watch(app, f.url).id if f.url else None
    manage.refuse_unknown(app, story=f.story, outlet=f.outlet, tag=f.tag)
    # Changes an older analyzer judged are re-judged as they are read: while
    # any wait for a pass to store them again, kind, silence and facts are
    # filtered on the verdicts shown, not the stored ones.
    stale = (f.kind is not None or f.silent is not None or bool(f.facts)) and bool(
        app.storage.changes.analyzed_by_other(ANALYZER, limit=1)
    )
    where: dict[str, Any] = dict(
        since=since_dt, story=f.story, outlet=f.outlet, tag=f.tag,
        silent=None if stale else f.silent, kind=None if stale else f.kind,
        facts=0 if stale else sum(FACT_MARKS[FACTS[x]] for x in set(f.facts)),
    )  # fmt: skip
    return watch_id, where, stale or bool(f.search)


def _stream(
    app: App, f: ChangeFilter, watch_id: int | None, where: dict[str, Any]
) -> Iterator[ChangeRow]:
    after, more = None, True
    while more:
        page = app.storage.changes.all(watch_id=watch_id, **where, after=after, limit=PAGE)
        more = len(page) == PAGE
        if page:
            after = (page[-1].change.detected_at, page[-1].change.id)
        for r in analysis.current_rows(app.storage, page):
            if _passes(r, f):
                yield r


def _passes(r: ChangeRow, f: ChangeFilter) -> bool:
    """The filter's parts storage cannot apply: on the verdicts shown, the
    facts and the words of each change."""
    c = r.change
    if (f.kind is not None and c.kind != f.kind) or (f.silent is not None and c.silent != f.silent):
        return False
    if f.facts and not any(c.analysis.get("facts", {}).get(FACTS[x]) for x in f.facts):
        return False
    return not f.search or mentions(r, f.search)


class _Counted:
    """An iterator that counts what passed through it."""

    def __init__(self, rows: Iterator[ChangeRow]) -> None:
        self.rows, self.n = rows, 0

    def __iter__(self) -> Iterator[ChangeRow]:
        for r in self.rows:
            self.n += 1
            yield r


def priority(row: ChangeRow) -> tuple[int, float, int]:
    """Silent substantive edits first, then other substantive ones, then
    cosmetic ones; newest first within each (as storage.changes orders them)."""
    c = row.change
    rank = 0 if c.kind == "substantive" and c.silent else 1 if c.kind == "substantive" else 2
    return rank, -c.detected_at.timestamp(), -c.id


def mentions(row: ChangeRow, words: str) -> bool:
    """Whether a change's edited sentences or its versions' headlines hold these
    words, compared by matching key so spelling variants (hamza, ta marbuta,
    digits) match."""
    texts = [t for t in dict.fromkeys(row.headlines) if t]
    for a in row.change.analysis.get("alignment", []):
        texts.extend(t for t in (a.get("old"), a.get("new")) if t)
    return text_holds(texts, words)


REJUDGE_PER_PASS = analysis.BATCH  # a pass stores again this many an older analyzer judged


def stale(app: App) -> int:
    """How many changes an older analyzer judged: each reader judges them again
    (`analysis.current`) until a pass, or `rejudge`, stores the new judgement."""
    counts = app.storage.changes.count_by_other(ANALYZER)
    return sum(n for analyzer, n in counts.items() if not is_current(analyzer))  # not a newer


def rejudge(app: App, progress: Callable[[int], None] | None = None) -> int:
    """Judge again now, and store, every change an older analyzer judged."""
    return analysis.rejudge_all(app.storage, progress)
