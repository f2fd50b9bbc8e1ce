"""`raqib import`: an export's watches and versions into this home.

Idempotent: a watch already held is matched by its address, a version the
watch already has is skipped (the same number with other text is refused),
and the changes are judged again from the versions, as a pass would, so a
second import of the same file adds nothing. Imported watches that are new
here start paused: importing an archive must not start fetching it (an
unwatched one stays unwatched). Their aliases come along, and their outlet
where this home follows one by that name.
"""

from __future__ import annotations

import itertools
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import jsonschema

from raqib import analysis, urls
from raqib.app.errors import BadInput
from raqib.app.history import check_story, clean_tags, listed
from raqib.app.home import App, ensure_home, load_config
from raqib.clock import parse_instant
from raqib.domain import HIDDEN_STATES, Version, WatchState
from raqib.extract.page import content_hash

SCHEMAS = {
    "watch": "raqib.watch/1", "version": "raqib.version/1", "change": "raqib.change/1",
    "end": "raqib.end/1",
}  # fmt: skip
_COUNTED = {"watch": "watches", "version": "versions", "change": "changes"}  # end record's keys


@dataclass
class ImportReport:
    watches_new: int = 0
    watches_known: int = 0
    versions_new: int = 0
    versions_known: int = 0
    changes: int = 0
    # Outlets the file's watches came from that this home does not follow.
    outlets_missing: dict[str, int] = field(default_factory=dict)
    # (watch URL, number): versions held without the one before them, after
    # an earlier one; the change into each waits for an import that holds it.
    gaps: list[tuple[str, int]] = field(default_factory=list)
    unended: bool = False  # records after the file's last end record, or none at all


def _schema(kind: str) -> Any:
    path = Path(__file__).resolve().parent.parent / "schemas" / f"{kind}-1.json"
    return jsonschema.Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))


# Column widths a foreign record must fit (PostgreSQL refuses longer values).
# A version's fields at most as long as a fetch can make them (text: an 8 MB page's).
_WIDTHS = {
    "published": 64, "modified": 64, "language": 16, "extractor": 200, "url": 2048,
    "title": 100_000, "byline": 100_000, "text": 8_000_000,
}  # fmt: skip


# A line holds one record: a version's 8 MB text, each character escaped at worst.
MAX_LINE = 64 * 1024 * 1024

Reread = Callable[[], AbstractContextManager[BinaryIO]]


@contextmanager
def opened(path: str, stdin: BinaryIO, spool_dir: Path) -> Iterator[Reread]:
    """FILE, to be read from its start as often as needed. A stream ("-",
    stdin; a pipe such as `<(zcat x.jsonl.gz)`) is first copied to a
    temporary file in `spool_dir` (the home: on its disk, where the archive
    is going anyway, not in a temporary directory that may be memory)."""
    file = Path(path)
    if path != "-" and file.is_file():
        yield lambda: file.open("rb")
        return
    if path != "-" and not file.exists():
        raise BadInput(f"{path}: no such file")
    with tempfile.TemporaryFile(dir=ensure_home(spool_dir), prefix=".import-") as spool:
        try:
            with file.open("rb") if path != "-" else nullcontext(stdin) as source:
                shutil.copyfileobj(source, spool, 1024 * 1024)
        except OSError as exc:
            raise BadInput(f"{path}: could not be copied aside to read it again: {exc}") from None

        @contextmanager
        def rewound() -> Iterator[BinaryIO]:
            spool.seek(0)
            yield spool

        yield rewound


def _lines(f: BinaryIO, name: str) -> Iterator[tuple[int, str]]:
    """The file's lines as text, each bounded (a stranger's file may hold one
    line of gigabytes)."""
    for n in itertools.count(1):
        raw = f.readline(MAX_LINE + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE:
            raise BadInput(f"{name}:{n}: a line over {MAX_LINE // 2**20} MB")
        try:
            yield n, raw.decode("utf-8-sig" if n == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(f"{name}:{n}: not UTF-8 ({exc.reason})") from None


def _records(f: BinaryIO, name: str, allow_private: bool) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each record of the export with its line number, checked on its own:
    against the schema it names, a version's text against its content hash,
    a watch's addresses normalized, and public unless `allow_private` (an
    export may come from elsewhere: `history.listed`)."""
    validators = {kind: _schema(kind) for kind in SCHEMAS}
    for n, line in _lines(f, name):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as exc:
            raise BadInput(f"{name}:{n}: not JSON ({exc})") from None
        except RecursionError:  # [[[[…: nested past what a reader can follow
            raise BadInput(f"{name}:{n}: not JSON (nested too deep)") from None
        kind = rec.get("record") if isinstance(rec, dict) else None
        if kind not in SCHEMAS or rec.get("schema") != SCHEMAS[kind]:
            raise BadInput(
                f"{name}:{n}: not a record of `raqib export --format jsonl` "
                f"(record {kind!r}, schema {rec.get('schema') if isinstance(rec, dict) else None!r})"
            )
        problem = next(iter(validators[kind].iter_errors(rec)), None)
        if problem is not None:
            where = "/".join(map(str, problem.path)) or "the record"
            raise BadInput(f"{name}:{n}: {where}: {problem.message[:200]}")
        if kind == "version":
            # Numbers count a watch's versions from 1 (and fit every backend's integer).
            if not isinstance(rec["version"], int) or not 1 <= rec["version"] <= 2**31 - 1:
                raise BadInput(f"{name}:{n}: version {str(rec['version'])[:40]} is not a "
                               "version number (1 to 2,147,483,647)")  # fmt: skip
            for key, width in _WIDTHS.items():
                if isinstance(rec.get(key), str) and len(rec[key]) > width:
                    raise BadInput(f"{name}:{n}: {key} is longer than {width} characters")
            for key in ("first_seen", "last_seen"):  # read before anything is stored
                try:
                    parse_instant(rec[key])
                except (ValueError, OverflowError):
                    raise BadInput(f"{name}:{n}: {key} {rec[key][:40]!r} is not a time") from None
            if content_hash(rec["title"], rec["text"]) != rec["content_hash"]:
                raise BadInput(f"{name}:{n}: version {rec['version']} of {rec['watch_url']}: "
                               "its text does not match its content hash")  # fmt: skip
            try:
                rec["watch_url"] = urls.normalize(rec["watch_url"])
            except urls.BadURL as exc:
                raise BadInput(f"{name}:{n}: watch_url: {exc}") from None
        if kind == "watch":
            try:
                rec["url"] = listed(rec["url"], allow_private=allow_private)
                for key in ("tags", "stories"):  # the schema's arrays may hold nulls
                    if not all(isinstance(x, str) for x in rec.get(key) or []):
                        raise BadInput(f"{key}: a list of names (text), not {rec[key]!r:.80}")
                rec["tags"] = clean_tags(rec.get("tags") or [])
                for story in (rec.get("story"), *(rec.get("stories") or [])):
                    check_story(story or None)  # as `watch --story` takes it; "" is none
                try:
                    parse_instant(rec["added_at"])  # kept: when the article was first watched
                except (ValueError, OverflowError):
                    raise BadInput(f"added_at {rec['added_at'][:40]!r} is not a time") from None
                # Only addresses of the article's own site, never a home page: a
                # file from elsewhere must not make another site's article ours.
                rec["aliases"] = [
                    a
                    for a in (urls.normalize(x) for x in rec["aliases"] if x)
                    if urls.same_owner(a, rec["url"]) and not urls.is_home(a)
                ]
            except (urls.BadURL, BadInput) as exc:
                raise BadInput(f"{name}:{n}: {exc}") from None
        yield n, rec


@dataclass
class Checked:
    """What a first read of the whole file found: a key per version, never
    its text, so checking an archive takes memory by its versions' number."""

    records: int = 0  # watches and versions (changes are judged again, not read)
    # (watch URL, version number) -> content hash; stored versions are popped.
    versions: dict[tuple[str, int], str] = field(default_factory=dict)
    unended: bool = False  # the last records have no end record after them


def check(f: BinaryIO, name: str, *, allow_private: bool = False) -> Checked:
    """Read the whole export before anything is stored: every record on its
    own (`_records`), every version against a watch record of the same file,
    and no version given twice with different text."""
    out = Checked()
    watched: set[str] = set()
    holds = dict.fromkeys(_COUNTED.values(), 0)  # the file's records, by kind
    said: dict[str, int] | None = None  # what its end records count (two files joined: two)
    read, ended = 0, False
    for n, rec in _records(f, name, allow_private):
        read += 1
        ended = rec["record"] == "end"
        if ended:
            said = {k: (said or {}).get(k, 0) + rec[k] for k in holds}
            continue
        holds[_COUNTED[rec["record"]]] += 1
        if rec["record"] == "watch":
            out.records += 1
            watched.add(rec["url"])
        elif rec["record"] == "version":
            out.records += 1
            key = _key(rec)
            held = out.versions.setdefault(key, rec["content_hash"])
            if held != rec["content_hash"]:
                raise BadInput(f"{name}:{n}: version {key[1]} of {key[0]} is given twice, "
                               "with different text")  # fmt: skip
    for url, number in out.versions:
        if url not in watched:
            raise BadInput(f"version {number} of {url}: the file has no watch record for it")
    if not read:  # an export of nothing still ends with its end record
        raise BadInput(f"{name}: empty: not an export of `raqib export --format jsonl`")
    # Fewer records than its end records count: some were lost, wherever they
    # were (a file reordered still holds them all). More: a part no end record
    # counts (an older export joined, or one cut short), which is only warned of.
    said = said or dict.fromkeys(holds, 0)
    if any(holds[k] < said[k] for k in holds):
        raise BadInput(
            f"{name}: the file is not whole: its end record counts {_counts(said)}, "
            f"and it holds {_counts(holds)}"
        )
    out.unended = not ended or holds != said
    return out


def _counts(c: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {kind}" for kind, n in c.items())


def _key(rec: dict[str, Any]) -> tuple[str, int]:
    """A version record's (watch URL, normalized by `_records`; number)."""
    return rec["watch_url"], int(rec["version"])


def _version(watch_id: int, r: dict[str, Any]) -> Version:
    return Version(
        id=0, watch_id=watch_id, number=int(r["version"]), title=r["title"], byline=r["byline"],
        published=r["published"], modified=r["modified"], text=r["text"],
        notices=list(r["notices"]), language=r["language"], content_hash=r["content_hash"],
        raw_hash=r["raw_sha256"], url=r["url"], extractor=r["extractor"],
        first_seen=parse_instant(r["first_seen"]), last_seen=parse_instant(r["last_seen"]),
        fetch_id=None, seen_notices=list(r.get("seen_notices") or []) or None,
    )  # fmt: skip


def _conflicts(app: App, checked: Checked) -> None:
    """Refuse the whole file, before writing, if a watch held here has a
    version under the same number with other text."""
    found: dict[str, int | None] = {}
    for (url, number), digest in checked.versions.items():
        if url not in found:
            w = app.storage.watches.find(url)
            found[url] = None if w is None else w.id
        if (watch_id := found[url]) is None:
            continue
        held = app.storage.history.version(watch_id, number)
        if held is not None and held.content_hash != digest:
            raise BadInput(
                f"version {number} of {url} differs from the one held here: "
                "two histories of one article are not merged"
            )


def check_file(home: Path, reread: Reread, name: str, *, allow_private: bool = False) -> Checked:
    """The export checked whole before the home's database is opened: a
    refused file leaves a new home without one (an empty archive made by a
    typo is one more thing to clean up, and it reads as an archive)."""
    allow_private = allow_private or load_config(ensure_home(home)).fetch.allow_private
    with reread() as f:
        return check(f, name, allow_private=allow_private)


def import_file(
    app: App,
    reread: Reread,
    name: str,
    checked: Checked,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    allow_private: bool = False,
) -> ImportReport:
    """Store an export `check_file` checked, reading it again for the
    watches and once more for the versions: an archive larger than memory
    imports. Each watch and each version is its own transaction: a crash
    leaves a prefix, and importing again completes it. `on_progress(done,
    total)` is told as records are stored."""
    allow_private = allow_private or app.config.fetch.allow_private
    _conflicts(app, checked)
    report = ImportReport(unended=checked.unended)
    now = app.clock()
    ids: dict[str, int] = {}
    done = 0
    with reread() as f:
        for _n, rec in _records(f, name, allow_private):
            if rec["record"] != "watch":
                continue
            ids[rec["url"]] = _watch(app, rec, now, report)
            done += 1
            if on_progress is not None:
                on_progress(done, checked.records)
    report.watches_known = len(ids) - report.watches_new
    pending = checked.versions
    with reread() as f:
        for _n, rec in _records(f, name, allow_private):
            if rec["record"] != "version":
                continue
            done += 1
            url, number = _key(rec)
            # Not pending: given twice in the file (two exports concatenated).
            if (checked_hash := pending.pop((url, number), None)) is not None:
                watch_id = ids.get(url)
                if watch_id is None or checked_hash != rec["content_hash"]:
                    raise BadInput(f"{name}: the file changed while it was imported")
                if app.storage.history.import_version(watch_id, _version(watch_id, rec)):
                    report.versions_new += 1
                else:
                    report.versions_known += 1
            if on_progress is not None:
                on_progress(done, checked.records)
    report.changes = analysis.judge_imported(app.storage)
    url_of = {watch_id: url for url, watch_id in reversed(ids.items())}  # a watch's first URL
    report.gaps = [(url_of[w], n) for w, n in app.storage.history.gaps(list(url_of))]
    from raqib.app import search

    search.index(app)
    return report


def _watch(app: App, rec: dict[str, Any], now: datetime, report: ImportReport) -> int:
    """One watch record stored (every story it is in); its id here."""
    stories = rec.get("stories") or ([rec["story"]] if rec.get("story") else [None])
    # An unwatched, rejected or retired article stays so (a retired one read
    # "paused", and `raqib resume` would have checked it again); any other
    # starts paused.
    kept = (*HIDDEN_STATES, WatchState.RETIRED)
    state = WatchState(rec["state"]) if rec["state"] in kept else WatchState.PAUSED
    made = False
    for story in stories:
        ((w, created),) = app.storage.watches.add(
            [rec["url"]], now=now, story=story, tags=rec["tags"], state=state, revive=False,
        )  # fmt: skip
        report.watches_new += created
        made = made or created
    added_at = parse_instant(rec["added_at"]) if rec.get("added_at") else None
    if not app.storage.watches.adopt(
        w.id, rec["aliases"], rec["outlet"], made=made, added_at=added_at
    ):
        missing = report.outlets_missing
        missing[rec["outlet"]] = missing.get(rec["outlet"], 0) + 1
    return w.id
