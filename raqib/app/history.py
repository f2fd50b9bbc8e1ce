"""Watching articles and reading their history back: the use cases behind
`watch`, `watches`, `versions`, `changes`, `log`, `diff` and `schedule`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from raqib import analysis, urls
from raqib.app.errors import BadInput, NotFound
from raqib.app.home import App
from raqib.clock import parse_instant
from raqib.diffs.classify import Judged, judged
from raqib.domain import ChangeRow, FetchEntry, Version, Watch, WatchState


def parse_since(text: str | None, option: str = "--since") -> datetime | None:
    if not text:
        return None
    try:
        return parse_instant(text)
    except ValueError:
        raise BadInput(f"{option} {text!r} is not an ISO 8601 time") from None


def add_watches(app: App, raw_urls: list[str], *, story: str | None) -> list[tuple[Watch, bool]]:
    """Normalise every URL first (all or nothing), then watch them."""
    if story is not None and not story.strip():
        raise BadInput("--story needs a non-empty slug")
    normalized = []
    for u in raw_urls:
        try:
            normalized.append(urls.normalize(u))
        except urls.BadURL as exc:
            raise BadInput(f"cannot watch {urls.redact(u)[:120]!r}: {exc}") from None
    return app.storage.watches.add(list(dict.fromkeys(normalized)), now=app.clock(), story=story)


def find_watch(app: App, url: str) -> Watch:
    """The watch for a URL as given, normalised, redirected or re-slugged."""
    w = app.storage.watches.find(url.strip())
    if w is None:
        try:
            w = app.storage.watches.find(urls.normalize(url, allow_credentials=True))
        except urls.BadURL:
            w = None
    if w is None:
        raise NotFound(f"no watch for {url} (see `raqib watches`)")
    return w


def watches(app: App) -> list[tuple[Watch, list[str]]]:
    return [(w, app.storage.watches.aliases(w.id)) for w in app.storage.watches.all()]


def versions(app: App, url: str) -> tuple[Watch, list[Version], dict[int, dict[str, object]]]:
    """A watch's versions, each with its WARC record and the fetches that bracket it."""
    w = find_watch(app, url)
    return w, app.storage.history.versions(w.id), app.storage.archive.evidence(w.id)


def changes(
    app: App, *, url: str | None = None, story: str | None = None, since: str | None = None
) -> list[ChangeRow]:
    """Changes, oldest first, each with the analysis every reader shows."""
    since_dt = parse_since(since)
    watch_id = find_watch(app, url).id if url else None
    rows = app.storage.changes.all(watch_id=watch_id, since=since_dt, story=story)
    return analysis.current_rows(app.storage, rows)


def fetch_log(app: App, url: str) -> tuple[Watch, list[tuple[FetchEntry, int | None]]]:
    """Every fetch of a watch, oldest first, with the version it made."""
    w = find_watch(app, url)
    numbers = {v.id: v.number for v in app.storage.history.versions(w.id)}
    return w, [
        (f, numbers.get(f.version_id) if f.version_id else None)
        for f in app.storage.history.fetches(w.id)
    ]


@dataclass
class Diff:
    watch: Watch
    old: Version
    new: Version
    judged: Judged  # the stored analysis when the versions are consecutive


def diff(app: App, url: str, from_n: int | None, to_n: int | None) -> Diff:
    """Two versions of an article and what changed between them."""
    w = find_watch(app, url)
    old, new = _version_pair(app.storage.history.versions(w.id), w, from_n, to_n)
    stored = app.storage.changes.between(old, new)
    if stored is None:
        return Diff(w, old, new, judged(None, None, old, new))
    _change, j = analysis.current(stored, old, new)
    return Diff(w, old, new, j)


def _version_pair(
    versions: list[Version], watch: Watch, from_n: int | None, to_n: int | None
) -> tuple[Version, Version]:
    if len(versions) < 2 and (from_n is None or to_n is None):
        raise BadInput(f"{watch.url} has {len(versions)} version(s); a diff needs two")
    by_number = {v.number: v for v in versions}
    to_v = by_number.get(to_n) if to_n is not None else versions[-1]
    if to_v is None:
        raise BadInput(f"no version {to_n} of {watch.url} (it has {len(versions)})")
    from_v = by_number.get(from_n) if from_n is not None else by_number.get(to_v.number - 1)
    if from_v is None:
        raise BadInput(f"no version {from_n} of {watch.url} (it has {len(versions)})")
    return from_v, to_v


def schedule(app: App, *, limit: int) -> tuple[list[Watch], int, datetime]:
    """Upcoming checks, soonest first (at most `limit`, 0: all), and how many are retired."""
    everything = app.storage.watches.all()
    active = sorted(
        (w for w in everything if w.state != WatchState.RETIRED), key=lambda w: w.next_check_at
    )
    retired = len(everything) - len(active)
    return (active[:limit] if limit else active), retired, app.clock()


IMPORT_BATCH = 1000  # URLs per transaction: about 0.1 s of write lock each


@dataclass
class Imported:
    created: int = 0
    existing: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)


def import_watches(
    app: App,
    lines: Iterable[str],
    *,
    story: str | None,
    strict: bool = False,
    on_batch: Callable[[Imported], None] | None = None,
) -> Imported:
    """Watch every URL of a (long) list, one per line, in short transactions.

    Lines that are not web addresses are reported by number and the rest are
    imported; with `strict`, one bad line refuses the whole list. Memory stays
    bounded by a batch (by the list, with `strict`).
    """
    if story is not None and not story.strip():
        raise BadInput("--story needs a non-empty slug")
    done = Imported()
    batch: dict[str, None] = {}

    def write(chunk: list[str]) -> None:
        created, existing = app.storage.watches.add_many(chunk, now=app.clock(), story=story)
        done.created += created
        done.existing += existing
        if on_batch is not None:
            on_batch(done)

    for number, line in enumerate(lines, 1):
        raw = line.strip()
        if not raw or raw.startswith("#"):
            continue
        try:
            batch[urls.normalize(raw)] = None
        except urls.BadURL as exc:
            done.invalid.append((number, f"{urls.redact(raw)[:120]!r}: {exc}"))
            continue
        if len(batch) >= IMPORT_BATCH and not strict:
            write(list(batch))
            batch.clear()
    if strict and done.invalid:
        number, why = done.invalid[0]
        raise BadInput(
            f"{len(done.invalid)} line(s) are not web addresses, nothing imported "
            f"(line {number}: {why})"
        )
    pending = list(batch)
    for i in range(0, len(pending), IMPORT_BATCH):
        write(pending[i : i + IMPORT_BATCH])
    return done
