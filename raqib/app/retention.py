"""Which old WARC files `raqib gc --older-than` may remove.

Those last written before the cutoff whose every fetch is older too (a file
no fetch points into holds discovery's captures, or a purged watch's), but for
the files holding an original record that a kept revisit refers to. A page
unchanged since before the cutoff is archived after it as revisits
(WARC-Refers-To-Target-URI and -Date) of its last full record: removed, that
record would leave them referring to nothing, and no export could replay the
page.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from raqib.app.home import App, warc_dir
from raqib.clock import parse_instant

# A revisit names its original by URI and WARC-Date; a fetch row has its own
# time, a moment after the capture's: the original is looked for among the
# fetches this close to that date, then among the watch's last few hundred
# (each search reads at most that many records).
NEAR = timedelta(minutes=10)
LOOK_BACK = 500
OPEN_FILES = 64  # WARC files held open at once while their records are read
Place = tuple[str, int]  # a record's WARC file and offset


@dataclass
class OldWarcs:
    files: list[str] = field(default_factory=list)  # to remove
    bytes: int = 0  # theirs
    originals: int = 0  # old files kept: they hold originals kept revisits refer to
    written_since: int = 0  # files kept though their fetches are old: written to since
    targets: set[tuple[str, str]] = field(default_factory=set)  # those originals' (URI, WARC-Date)


def old_warcs(app: App, cutoff: datetime) -> OldWarcs:
    """The old WARC files to remove, and those kept (see the module's text)."""
    out = OldWarcs()
    directory = warc_dir(app)
    if not directory.is_dir():
        return out
    # A file's last write (its mtime) counts too: discovery's captures have
    # no fetch rows, and are appended to the file the last pass wrote. (A
    # restore that did not keep modification times keeps every file, and says so.)
    recorded = app.storage.archive.recorded_warc_files()
    names = set()
    for f in directory.glob("*.warc.gz"):
        newest = recorded.get(f.name)
        if newest is None or newest < cutoff:
            if f.stat().st_mtime < cutoff.timestamp():
                names.add(f.name)
            elif newest is not None:
                out.written_since += 1
    needed, out.targets = Originals(app, directory).among(names)
    out.files = [n for n in sorted(names - needed) if (directory / n).is_file()]
    out.originals = len(needed & {n for n in names if (directory / n).is_file()})
    out.bytes = sum((directory / n).stat().st_size for n in out.files)
    return out


class Originals:
    """Reads record headers (never payloads) of the archive's files."""

    def __init__(self, app: App, directory: Path) -> None:
        self.archive = app.storage.archive
        self.directory = directory
        self.handles: OrderedDict[str, BinaryIO] = OrderedDict()

    def among(self, old: set[str]) -> tuple[set[str], set[tuple[str, str]]]:
        """The `old` files holding originals that kept revisits refer to (files
        kept for that hold revisits of their own: until no more are needed),
        and those originals."""
        needed: set[str] = set()
        targets: set[tuple[str, str]] = set()
        try:
            while candidates := sorted(old - needed):
                # Every revisit whose row says where its original sat, then
                # each watch's first kept fetch, for a revisit an older Raqib
                # wrote (its original is searched for).
                more = self.archive.originals_in(candidates)
                for watch_id, name, offset, place in self.archive.first_fetches_outside(candidates):
                    first = self.head(name, offset)
                    if first is None:  # unreadable: whatever it refers to is kept
                        more |= {n for n, _o in self.archive.fetches_in(watch_id, candidates)}
                        continue
                    date = first.get("WARC-Refers-To-Date")
                    if first.get("WARC-Type") == "revisit" and date:  # a 304 may refer to none
                        target = (first.get("WARC-Refers-To-Target-URI") or "", date)
                        targets.add(target)
                        more |= self.original(watch_id, target, candidates, place)
                if not more - needed:
                    break
                needed |= more
        finally:
            for f in self.handles.values():
                f.close()
        return needed, targets

    def original(
        self, watch_id: int, target: tuple[str, str], among: list[str], place: Place | None
    ) -> set[str]:
        """The old file (if any) holding the response record `target` names:
        at `place`, where the revisit's fetch row says its original sat (an
        older Raqib did not say); else looked for near its date among this
        watch's fetches, then every watch's (an original may be another
        watch's, the same page reached by a redirect), then among this watch's
        last few hundred; not found, every old file holding this watch's
        fetches."""
        if place is not None and self.holds(place, target):
            return {place[0]} if place[0] in among else set()  # else in a file kept anyway
        try:
            near: datetime | None = parse_instant(target[1])
        except ValueError:
            near = None
        searches: list[tuple[int | None, datetime | None]] = [(watch_id, None)]  # (whose, near)
        if near is not None:
            searches = [(watch_id, near), (None, near), *searches]
        for whose, when in searches:  # each read only if the ones before found nothing
            where = self.archive.fetches_in(whose, among, near=when, window=NEAR, limit=LOOK_BACK)
            for name, offset in where:
                if self.holds((name, offset), target):
                    return {name}
        return {name for name, _offset in self.archive.fetches_in(watch_id, among)}

    def holds(self, place: Place, target: tuple[str, str]) -> bool:
        """Whether the record at `place` is the response `target` names."""
        h = self.head(*place) or {}
        found = (h.get("WARC-Target-URI"), h.get("WARC-Date")) == target
        return found and h.get("WARC-Type") == "response"

    def head(self, name: str, offset: int) -> dict[str, str] | None:
        """The record's WARC headers; None if it cannot be read."""
        from raqib.archive.warc import record_head

        try:
            f = self.handles.pop(name, None) or (self.directory / name).open("rb")
        except OSError:
            return None
        self.handles[name] = f  # the most recently used last
        while len(self.handles) > OPEN_FILES:
            self.handles.popitem(last=False)[1].close()
        try:
            return record_head(f, offset) or None
        except Exception:  # a damaged record (warcio raises its own kinds)
            return None
