"""What a discovery crawl finds: sources as read and candidate articles."""

from __future__ import annotations

import itertools
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

from raqib.domain import Fetched


@dataclass
class SourceFetched:
    """One discovery source (or a child sitemap) as read."""

    source_id: int
    url: str
    kind: str | None = None
    entries: int = 0
    error: str | None = None


@dataclass
class CandidatePage:
    """A possible piece of related coverage, fetched and extracted (or not)."""

    story_id: int
    url: str  # normalised, as found
    found_via: str
    source_id: int | None = None
    feed_title: str | None = None
    feed_summary: str | None = None
    final_url: str | None = None
    canonical_url: str | None = None
    amp_url: str | None = None
    title: str | None = None
    text: str | None = field(default=None, repr=False)
    skipped: str | None = None  # not fetched: why (already watched, blocked, …)
    error: str | None = None  # fetched but unusable: why
    kept: str | None = None  # its fetch, in the run's Spool: an article, and archived if asked


class Spool:
    """Candidates' fetches, kept on disk until they are judged: a watch that
    discovery adds starts from the page discovery fetched, its version 1 (an
    edit made before its first check would be lost otherwise). A run fetches
    hundreds of candidates; their bodies wait here, not in memory.
    The directory is the run's own (a private temporary one): pickle reads
    back only what this run wrote."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._names = itertools.count()

    def put(self, fetched: Fetched) -> str:
        name = f"{next(self._names)}.pickle.zst"
        data = pickle.dumps(fetched, protocol=pickle.HIGHEST_PROTOCOL)
        (self.directory / name).write_bytes(zstandard.compress(data, 3))
        return name

    def take(self, name: str) -> Fetched:
        data = zstandard.decompress((self.directory / name).read_bytes())
        fetched: Fetched = pickle.loads(data)  # only what put() wrote, in the run's own directory
        return fetched
