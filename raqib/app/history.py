"""Watching articles and reading their history back: the use cases behind
`watch`, `watches`, `versions`, `log`, `diff` and `schedule` (`changes`: change_list)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from raqib import analysis, config, guard, urls
from raqib.app.errors import BadInput, NotFound
from raqib.app.home import App
from raqib.diffs.classify import Judged, judged
from raqib.domain import RESTING_STATES, FetchEntry, Version, Watch

_AGO = re.compile(r"^(\d{1,5})([mhdw])$")
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(
    text: str | None, option: str = "--since", *, now: datetime, zone: str = ""
) -> datetime | None:
    """An ISO 8601 time, a span back from `now` (30m, 12h, 2d, 1w), or `today`
    / `yesterday` (from midnight in the display time zone, `zone`). A time
    without an offset (2026-12-03, 2026-12-03T08:00) is in that zone too, as
    the times the commands show are."""
    if not text:
        return None
    word = text.strip().lower()
    if word in ("today", "yesterday"):
        local = now.astimezone(config.zone(zone))
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        day = midnight - timedelta(days=1) if word == "yesterday" else midnight
        return day.astimezone(UTC)
    ago = _AGO.match(word)
    if ago:
        return now - timedelta(seconds=int(ago[1]) * _UNIT[ago[2]])
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(
            f"{option} {text!r} is not a time: give an ISO 8601 time (2026-11-30T08:00+03:00), "
            "a span back from now (30m, 12h, 2d, 1w), today or yesterday"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=config.zone(zone))
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):  # within a day of year 1 or 9999: as far as times go
        return (
            datetime(1, 1, 2, tzinfo=UTC)
            if value.year < 5000
            else datetime(9999, 12, 30, tzinfo=UTC)
        )


def fetch_mode(render: bool | None, screenshots: bool | None) -> dict[str, bool]:
    """The columns `watch --render/--screenshots` set (None leaves one as it is)."""
    return {k: v for k, v in (("render", render), ("screenshots", screenshots)) if v is not None}


def add_watches(
    app: App, raw_urls: list[str], *, story: str | None, tags: Sequence[str] = ()
) -> list[tuple[Watch, bool]]:
    """Normalise every URL first (all or nothing), then watch them."""
    check_story(story)
    normalized = []
    for u in raw_urls:
        try:
            normalized.append(urls.normalize(u))
        except urls.BadURL as exc:
            raise BadInput(f"cannot watch {urls.redact(u)[:120]!r}: {exc}") from None
    return app.storage.watches.add(
        list(dict.fromkeys(normalized)), now=app.clock(), story=story, tags=clean_tags(tags)
    )


def find_watch(app: App, url: str) -> Watch:
    """The watch for an id (as `raqib watches` prints it, "12" or "#12") or
    for a URL as given, normalised, redirected or re-slugged."""
    ref = url.strip().removeprefix("#")
    if ref.isdigit() and len(ref) < 19:
        found = app.storage.watches.by_id(int(ref))
        if found is None:
            raise NotFound(f"no watch with id {ref} (see `raqib watches`)")
        return found
    w = app.storage.watches.find(url.strip())
    if w is None:
        try:
            w = app.storage.watches.find(urls.normalize(url, allow_credentials=True))
        except urls.BadURL:
            w = None
    if w is None:
        raise NotFound(f"no watch for {url} (see `raqib watches`)")
    return w


def versions(app: App, url: str) -> tuple[Watch, list[Version], dict[int, dict[str, object]]]:
    """A watch's versions, each with its WARC record and the fetches that bracket it."""
    w = find_watch(app, url)
    return w, app.storage.history.versions(w.id), app.storage.archive.evidence(w.id)


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
    if from_v is None and from_n is None:
        raise BadInput(
            f"version {to_v.number} of {watch.url} has none before it to compare with "
            f"(it has {len(versions)}; give --from)"
        )
    if from_v is None:
        raise BadInput(f"no version {from_n} of {watch.url} (it has {len(versions)})")
    if from_v.number == to_v.number:
        raise BadInput(f"--from and --to both name version {to_v.number}: a diff needs two")
    if from_v.number > to_v.number:  # its verdict would call an edit undone a silent one
        raise BadInput(
            f"--from {from_v.number} is after --to {to_v.number}: a diff reads forwards "
            f"(--from {to_v.number} --to {from_v.number})"
        )
    return from_v, to_v


@dataclass
class Upcoming:
    """`raqib schedule`: the next checks, the latest failure of each failing
    watch (its reason), and how many watches are retired."""

    watches: list[Watch]
    failures: dict[int, FetchEntry]
    resting: dict[str, int]  # watches not scheduled, by state (paused, retired, …)
    now: datetime


def schedule(app: App, *, limit: int) -> Upcoming:
    """Upcoming checks, soonest first (at most `limit`, 0: all)."""
    everything = app.storage.watches.all()
    active = sorted(
        (w for w in everything if w.state not in RESTING_STATES), key=lambda w: w.next_check_at
    )
    shown = active[:limit] if limit else active
    failing = [w.id for w in shown if w.error_count]
    return Upcoming(
        watches=shown,
        failures=app.storage.history.last_fetches(failing) if failing else {},
        resting=dict(Counter(str(w.state) for w in everything if w.state in RESTING_STATES)),
        now=app.clock(),
    )


MAX_TAG = 64
LIST_SEP = ";"  # between stories or tags in one CSV cell


def check_story(story: str | None) -> None:
    """A story's slug: what `watches --format csv` can write in a list cell."""
    if story is None:
        return
    if not story.strip():
        raise BadInput("--story needs a non-empty slug")
    if len(story) > MAX_TAG or LIST_SEP in story or "," in story:
        raise BadInput(
            f"story {story[:80]!r}: a story's slug is 1 to {MAX_TAG} characters, without ';' or ','"
        )


def clean_tags(tags: Iterable[str]) -> list[str]:
    out = []
    for t in tags:
        tag = t.strip()
        if not tag or len(tag) > MAX_TAG or LIST_SEP in tag or "," in tag:
            raise BadInput(
                f"tag {t[:80]!r}: a tag is 1 to {MAX_TAG} characters, without ';' or ','"
            )
        out.append(tag)
    return list(dict.fromkeys(out))


IMPORT_BATCH = 1000  # URLs per transaction: about 0.1 s of write lock each


def listed(raw: str, *, allow_private: bool) -> str:
    """A URL of a list (a file, stdin, an OPML outline), normalized. A list may
    come from elsewhere, so it names public sites only: a typed URL may name
    this newsroom's intranet, a list needs the user's word (`allow_private`)."""
    url = urls.normalize(raw)
    network = guard.network_of(url)
    if network != guard.PUBLIC and not allow_private:
        raise urls.BadURL(
            f"names a {network} address, and a list may name public sites only "
            "(--allow-private accepts it)"
        )
    return url


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
    tags: Sequence[str] = (),
    strict: bool = False,
    on_batch: Callable[[Imported], None] | None = None,
    mode: dict[str, bool] | None = None,
    allow_private: bool = False,
    typed: int = 0,
) -> Imported:
    """Watch every URL of a (long) list, one per line, in short transactions.
    Its first `typed` lines were typed on the command line, not listed.

    Lines that are not web addresses of public sites (see `listed`) are
    reported by number and the rest are imported; with `strict`, one bad line
    refuses the whole list. Memory stays bounded by a batch (by the list, with
    `strict`).
    """
    check_story(story)
    tagged = clean_tags(tags)
    done = Imported()
    batch: dict[str, None] = {}

    def write(chunk: list[str]) -> None:
        created, existing = app.storage.watches.add_many(
            chunk, now=app.clock(), story=story, tags=tagged, mode=mode
        )
        done.created += created
        done.existing += existing
        if on_batch is not None:
            on_batch(done)

    for number, line in enumerate(lines, 1):
        raw = line.strip()
        if not raw or raw.startswith("#"):
            continue
        try:
            batch[listed(raw, allow_private=allow_private or number <= typed)] = None
        except urls.BadURL as exc:
            done.invalid.append((number, f"{urls.redact(raw)[:120]!r}: {exc}"))
            continue
        if len(batch) >= IMPORT_BATCH and not strict:
            write(list(batch))
            batch.clear()
    if strict and done.invalid:
        number, why = done.invalid[0]
        raise BadInput(
            f"{len(done.invalid)} line(s) refused, nothing imported (line {number}: {why})"
        )
    pending = list(batch)
    for i in range(0, len(pending), IMPORT_BATCH):
        write(pending[i : i + IMPORT_BATCH])
    return done
