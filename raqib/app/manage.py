"""Managing watches as a newsroom does: refer to them by id or URL, pause,
resume, unwatch, tag, filter, and move lists in and out as CSV."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from raqib import urls
from raqib.app.errors import BadInput, NotFound
from raqib.app.history import (
    IMPORT_BATCH,
    LIST_SEP,
    Imported,
    check_story,
    clean_tags,
    find_watch,
    listed,
)  # fmt: skip
from raqib.app.home import App
from raqib.archive.export import safe_cell
from raqib.domain import RESTING_STATES, Watch, WatchState

# What `watches --format csv` writes; `watch --from-csv` reads url, stories and tags back.
CSV_FIELDS = (
    "id", "url", "title", "state", "outlet", "stories", "tags", "origin", "versions",
    "last_outcome", "last_checked_at", "added_at",
)  # fmt: skip


def resolve(app: App, refs: Sequence[str]) -> list[Watch]:
    """The watches these ids or URLs name, each once; all must exist."""
    found: dict[int, Watch] = {}
    missing = []
    for ref in refs:
        try:
            w = find_watch(app, ref)
        except NotFound:
            missing.append(ref)
            continue
        found.setdefault(w.id, w)
    if missing:
        shown = ", ".join(urls.redact(r)[:120] for r in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise NotFound(f"no watch for {shown}{more} (see `raqib watches`)")
    return list(found.values())


def checkable(app: App, refs: Sequence[str]) -> list[int]:
    """The ids of the watches `raqib check WATCH…` names; one at rest (paused,
    retired, …) is refused, as a pass would leave it unchecked without a word."""
    ws = resolve(app, refs)
    resting = [w for w in ws if w.state in RESTING_STATES]
    if resting:
        shown = ", ".join(f"{w.id} ({w.state})" for w in resting[:5])
        raise BadInput(f"not checked while at rest: watch {shown}; `raqib resume` them first")
    return [w.id for w in ws]


@dataclass(frozen=True)
class StateChange:
    watches: list[Watch]
    state: WatchState
    purged: bool = False


def set_state(app: App, refs: Sequence[str], state: WatchState) -> StateChange:
    """Pause, resume or unwatch. Resuming makes a watch due at once; an
    outlet's article retired past its window, resumed, is kept by hand from
    then on (the next pass retired it again without fetching it)."""
    ws = resolve(app, refs)
    if state == WatchState.ACTIVE:
        app.storage.outlets.keep([w.id for w in ws if w.state == WatchState.RETIRED])
    app.storage.watches.set_state([w.id for w in ws], state, now=app.clock())
    return StateChange([app.storage.watches.get(w.id) for w in ws], state)


def purge(app: App, refs: Sequence[str]) -> StateChange:
    """Unwatch and delete the whole history (versions, changes, fetch log)."""
    ws = resolve(app, refs)
    app.storage.watches.purge([w.id for w in ws])
    return StateChange(ws, WatchState.UNWATCHED, purged=True)


def retag(app: App, refs: Sequence[str], add: Sequence[str], remove: Sequence[str]) -> list[Watch]:
    ws = resolve(app, refs)
    ids = [w.id for w in ws]
    if add:
        app.storage.watches.tag(ids, clean_tags(add))
    if remove:
        app.storage.watches.untag(ids, clean_tags(remove))
    return [app.storage.watches.get(i) for i in ids]


STATES = [s.value for s in WatchState]


def refuse_unknown(
    app: App, *, story: str | None = None, outlet: str | None = None, tag: str | None = None
) -> None:
    """A filter naming no story, outlet or tag says so, rather than listing
    nothing as if nothing matched (a mistyped name looks like a quiet day)."""
    if story and app.storage.watches.story_id(story) is None:
        raise NotFound(f"no story {story!r} (see `raqib watches`: its STORIES column)")
    if outlet and app.storage.outlets.get(outlet, removed=True) is None:
        raise NotFound(f"no outlet {outlet!r} (see `raqib outlet list`)")
    if tag and not app.storage.watches.tag_used(tag):
        raise NotFound(f"no watch has the tag {tag!r} (see `raqib watches`: its TAGS column)")


def listing(
    app: App,
    *,
    outlet: str | None = None,
    tag: str | None = None,
    story: str | None = None,
    states: Sequence[str] = (),
    failing: bool = False,
) -> list[tuple[Watch, list[str]]]:
    """Watches with their aliases, filtered; unwatched and rejected ones only when asked by state."""
    for s in states:
        if s not in STATES:
            raise BadInput(f"--state {s!r}: one of {', '.join(STATES)}")
    refuse_unknown(app, story=story, outlet=outlet, tag=tag)
    rows = app.storage.watches.all(
        outlet=outlet, tag=tag, story=story, states=list(states), failing=failing
    )
    aliases = app.storage.watches.aliases_of([w.id for w in rows])
    return [(w, aliases.get(w.id, [])) for w in rows]


def write_csv(rows: Iterable[dict[str, object]], out: IO[str]) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        row = {k: LIST_SEP.join(v) if isinstance(v, list) else v for k, v in r.items()}  # type: ignore[arg-type]
        row["title"] = safe_cell(row.get("title"))  # a stranger's headline: never a formula
        writer.writerow(row)


def import_csv(
    app: App,
    source: IO[str],
    *,
    story: str | None = None,
    tags: Sequence[str] = (),
    on_batch: Callable[[Imported], None] | None = None,
    mode: dict[str, bool] | None = None,
    allow_private: bool = False,
) -> Imported:
    """Watch every row of a CSV with a `url` column (and optional `stories`,
    `story` and `tags` columns, several values separated by ';'), in short
    transactions. Rows whose URL is not a public site's web address (see
    `history.listed`) are reported by line."""
    reader = csv.DictReader(_decoded(source))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "url" not in header:
        raise BadInput("the CSV has no 'url' column (its first line must name the columns)")
    for name in ("url", "stories", "story", "tags"):
        if (at := [i + 1 for i, h in enumerate(header) if h == name]) and len(at) > 1:
            # csv.DictReader would keep the last one's cells and drop the others unsaid.
            raise BadInput(f"the CSV names its {name!r} column more than once (columns {at})")
    reader.fieldnames = header
    extra_tags = clean_tags(tags)
    done = Imported()
    groups: dict[tuple[str | None, tuple[str, ...]], dict[str, None]] = {}
    joins = 0  # a row's stories past its first

    def write(key: tuple[str | None, tuple[str, ...]]) -> None:
        created, existing = app.storage.watches.add_many(
            list(groups.pop(key)), now=app.clock(), story=key[0], tags=key[1], mode=mode
        )
        done.created += created
        done.existing += existing
        if on_batch is not None:
            on_batch(done)

    for row in reader:
        line = reader.line_num
        raw = (row.get("url") or "").strip()
        if not raw or raw.startswith("#"):
            continue
        try:
            url = listed(raw, allow_private=allow_private)
            row_tags = tuple(clean_tags([*_split(row.get("tags")), *extra_tags]))
            stories: list[str | None] = [*_split(row.get("stories")), *_split(row.get("story"))]
            for slug in stories:
                check_story(slug)
        except (urls.BadURL, BadInput) as exc:
            done.invalid.append((line, f"{urls.redact(raw)[:120]!r}: {exc}"))
            continue
        if story or not stories:
            stories.append(story)
        slugs = dict.fromkeys(stories)
        # The row's URL is added once per story; only one of those adds is the row.
        joins += len(slugs) - 1
        for slug in slugs:
            key = (slug, row_tags)
            groups.setdefault(key, {})[url] = None
            if len(groups[key]) >= IMPORT_BATCH:
                write(key)
    for key in list(groups):
        write(key)
    done.existing = max(done.existing - joins, 0)
    return done


def _decoded(source: IO[str]) -> Iterator[str]:
    """The CSV's lines; a file that is not UTF-8 (Excel's plain "CSV" on an
    Arabic Windows is windows-1256) is bad input."""
    line = 0
    try:
        for line, text in enumerate(source, 1):  # noqa: B007 (said after the loop)
            yield text
    except UnicodeDecodeError:
        # Decoded a block at a time: where in the file is not known, only what was read.
        read = f"its first {line} lines were read" if line else "nothing was read"
        raise BadInput(
            f'the CSV is not UTF-8 (Excel: save it as "CSV UTF-8"); {read}, and watching '
            "them again adds nothing twice"
        ) from None


def _split(cell: str | None) -> list[str]:
    return [p.strip() for p in (cell or "").split(LIST_SEP) if p.strip()]
