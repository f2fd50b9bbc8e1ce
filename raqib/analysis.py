"""The diff stage: judge each new version against the one before, store that
judgement once, and give every reader the stored judgement.

`diff`, the report, the feed, exports and notifications all read a change
through `current`: the analysis as stored, recomputed only when an older
analyzer made it (and then marked `reanalyzed_from`). A pass re-stores such
changes (`upgrade_stale`), so a database moves to the running analyzer once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from raqib.diffs.analyzer import ANALYZER, is_current
from raqib.domain import Change, ChangeRow, Judgement, Version
from raqib.storage import Storage

if TYPE_CHECKING:  # the analyzer is imported when there is something to judge:
    from raqib.diffs.classify import Analysis, Judged  # not by a pass with nothing due

log = logging.getLogger("raqib")

BATCH = 500
WATCHES_A_QUERY = 5000  # a pass's own watches, named in one query's IN list


def current(change: Change, old: Version, new: Version) -> tuple[Change, Judged]:
    """The change with the analysis readers show, and that analysis restored."""
    from raqib.diffs.classify import judged

    j = judged(change.analysis, change.analyzer, old, new)
    if j.analyzer == change.analyzer:
        return change, j
    return _rejudged(change, j), j


def judgement(a: Analysis, data: dict[str, Any], analyzer: str) -> Judgement:
    """What is stored with a change: the verdict, and the analysis whole."""
    return Judgement(
        kind=a.kind,
        silent=a.silent,
        headline_changed=a.headline_changed,
        byline_changed=a.byline_changed,
        chars_changed=a.chars_changed,
        analysis=data,
        analyzer=analyzer,
    )


def _rejudged(change: Change, j: Judged) -> Change:
    return dataclasses.replace(
        change, **dataclasses.asdict(judgement(j.analysis, j.data, j.analyzer))
    )


def current_change(change: Change, old: Version, new: Version) -> Change:
    """`current` for a reader of the stored verdict only: a current
    analyzer's change is shown as stored, without restoring its sentences."""
    return change if is_current(change.analyzer) else current(change, old, new)[0]


def current_rows(storage: Storage, rows: list[ChangeRow]) -> list[ChangeRow]:
    """Listed changes, each with the analysis readers show (stale ones re-judged)."""
    out = []
    for row in rows:
        if is_current(row.change.analyzer):
            out.append(row)
            continue
        found = storage.changes.detail(row.change.id)
        if found is None:
            continue
        change, _ = current(*found)
        out.append(dataclasses.replace(row, change=change))
    return out


def analyze_pending(
    storage: Storage, *, watches: Iterable[int] | None = None, before: datetime | None = None
) -> list[tuple[Change, Version]]:
    """Judge new versions against their predecessors and store the changes:
    every one, or (a pass) those of `watches` and those first seen before
    `before`, which a stopped pass left; returns each change stored, with
    the version it leads to. Two passes ending together judged every pair
    twice, and each counted only the changes it stored first."""
    out: list[tuple[Change, Version]] = []
    if watches is None and before is None:
        while (batch := _analyze_batch(storage)) is not None:
            out.extend(batch)
        return out
    ids = sorted(set(watches or ()))
    for i in range(0, max(len(ids), 1), WATCHES_A_QUERY):
        chunk = ids[i : i + WATCHES_A_QUERY]
        while (batch := _analyze_batch(storage, watch_ids=chunk, before=before)) is not None:
            out.extend(batch)
    return out


def judge_imported(storage: Storage) -> int:
    """`analyze_pending` for an import: only the versions imports stored (a
    pass judges, counts and tells its own), none kept in memory; how many."""
    done = 0
    while (batch := _analyze_batch(storage, imported=True)) is not None:
        done += len(batch)
    return done


def _analyze_batch(
    storage: Storage, *, imported: bool = False, **which: Any
) -> list[tuple[Change, Version]] | None:
    """One batch judged and stored (None: nothing was left to judge)."""
    pairs = storage.changes.unanalyzed(limit=BATCH, imported=imported, **which)
    if not pairs:
        return None
    from raqib.diffs.classify import judge

    judged = []
    for old, new in pairs:
        a = judge(old, new)
        if a.error:
            log.error(
                "watch %d, version %d → %d: the analyzer failed (%s); stored a coarse "
                "judgement, whole sentences and no figures (see `raqib diff`)",
                new.watch_id, old.number, new.number, a.error,
            )  # fmt: skip
        judged.append((old, new, judgement(a, a.to_json(), ANALYZER)))
    leads_to = {new.id: new for _old, new in pairs}
    return [(c, leads_to[c.to_version_id]) for c in storage.changes.save_many(judged)]


def upgrade_stale(storage: Storage, *, limit: int = BATCH) -> int:
    """Re-judge and re-store up to `limit` changes an older analyzer made.

    A change a newer analyzer made (a newer Raqib shares the database) stays
    as it is: the newest judgement stands.
    """
    return _upgrade(storage, storage.changes.analyzed_by_other(ANALYZER, limit=limit))


def rejudge_all(storage: Storage, progress: Callable[[int], None] | None = None) -> int:
    """`upgrade_stale` of every such change now, a batch at a time (`progress`
    told each batch's size); how many were stored again."""
    done, after = 0, 0
    while batch := storage.changes.analyzed_by_other(ANALYZER, limit=BATCH, after=after):
        after = batch[-1][0].id  # past a newer analyzer's, which stay as they are
        done += _upgrade(storage, batch)
        if progress is not None:
            progress(len(batch))
    return done


def _upgrade(storage: Storage, rows: list[tuple[Change, Version, Version]]) -> int:
    if not rows:
        return 0
    from raqib.diffs.classify import judged

    done = 0
    for change, old, new in rows:
        if is_current(change.analyzer):
            continue
        j = judged(change.analysis, change.analyzer, old, new)
        if storage.changes.replace(
            change.id,
            expected_analyzer=change.analyzer,
            judgement=judgement(j.analysis, j.data, j.analyzer),
        ):
            done += 1
    if done:
        log.info("re-judged %d changes stored by an older analyzer", done)
    return done
