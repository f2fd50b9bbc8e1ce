"""Whole outlets: every new article an outlet lists in its feeds, news
sitemaps or front pages is watched from first sight, until its retention
window ends. The use cases behind `raqib outlet …` and `discover --outlet`,
and the step every `raqib check` takes first."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from raqib import urls
from raqib.app.claims import check_clock
from raqib.app.errors import BadInput, NotFound
from raqib.app.home import App, new_owner
from raqib.config import parse_duration
from raqib.crawler.robots import RobotsMemory
from raqib.domain import Listed, Outlet, SourceKind
from raqib.guard import Guard, network_of
from raqib.loading import importing
from raqib.storage import StoreFailure

# Every pass imports this module, most with no source due: what only OPML files
# and a source's listing need (lxml among it) is imported where it is used.

_NAME = re.compile(r"^[\w][\w.-]{0,99}$")
log = logging.getLogger("raqib")


@dataclass
class ReadReport:
    """What one read of outlets' sources found."""

    sources: list[dict[str, Any]] = field(default_factory=list)
    watched: int = 0  # new watches
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (url, why)
    retired: int = 0
    old: int = 0  # listed as published before the outlet's window: not watched


def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise BadInput(
            f"outlet name {name[:60]!r}: letters, digits, '.', '-' and '_', up to 100 characters"
        )
    return name


def add(
    app: App,
    name: str,
    *,
    feeds: Sequence[str] = (),
    sitemaps: Sequence[str] = (),
    fronts: Sequence[str] = (),
    retain_days: int | None = None,
) -> tuple[Outlet, bool]:
    """Create an outlet (or add sources to one); every URL is checked first."""
    check_name(name)
    if retain_days is not None and not 1 <= retain_days <= 3650:
        raise BadInput("--retain-days is between 1 and 3650")
    sources = []
    for kind, given in (
        (SourceKind.FEED, feeds), (SourceKind.SITEMAP, sitemaps), (SourceKind.FRONT, fronts),
    ):  # fmt: skip
        for raw in given:
            try:
                sources.append((kind.value, urls.normalize(raw)))
            except urls.BadURL as exc:
                raise BadInput(f"{kind.value} {urls.redact(raw)[:120]!r}: {exc}") from None
    one_reader(app, {url: name for _kind, url in sources})
    existing = app.storage.outlets.get(name)
    if existing is None and not sources:
        raise BadInput("a new outlet needs a source: --feed, --sitemap or --front URL")
    return app.storage.outlets.add(name, sources, retain_days=retain_days, now=app.clock())


def one_reader(app: App, wanted: dict[str, str]) -> None:
    """Refuse a source another outlet reads (url → the outlet that would read
    it): two outlets reading one feed watch its articles under either name,
    as an old OPML file or `outlet add OLD` after a rename would."""
    for url, owner in app.storage.outlets.source_owners(list(wanted)).items():
        if owner != wanted[url]:
            raise BadInput(
                f"{urls.redact(url)[:120]!r} is already read by outlet {owner!r} "
                f"(renamed? see `raqib outlet list`); nothing was changed"
            )


def get(app: App, name: str, *, removed: bool = False) -> Outlet:
    """A followed outlet (or, with `removed`, one no longer followed)."""
    found = app.storage.outlets.get(name, removed=removed)
    if found is None:
        raise NotFound(f"no outlet {name!r} (see `raqib outlet list`)")
    return found


def rename(app: App, name: str, new: str) -> Outlet:
    """Rename an outlet (a removed one too), with everything it brought."""
    check_name(new)
    followed = get(app, name, removed=True).removed_at is None
    if new == name:
        raise BadInput(f"{name!r} is already the outlet's name")
    if app.storage.outlets.get(new, removed=True) is not None:
        raise BadInput(f"there is already an outlet {new!r} (removed ones keep their name)")
    per = app.config.outlets.per
    if followed and name in per and new not in per:  # a removed outlet's is the name's
        # Its retention, pace, headers and rendering would silently stop applying.
        raise BadInput(
            f"the configuration's [outlets.{name}] would no longer apply: rename that table "
            f"[outlets.{new}] first, then run this again (nothing was changed)"
        )
    return app.storage.outlets.rename(name, new)


def remove(app: App, name: str) -> int:
    get(app, name)
    return app.storage.outlets.remove(name, now=app.clock())


# --- reading sources -----------------------------------------------------------------


def intervals(app: App) -> dict[str, timedelta]:
    """How often each outlet's sources are read ("" is the default)."""
    cfg = app.config.outlets
    out = {"": parse_duration(cfg.feed_every)}
    for name, s in cfg.per.items():
        if s.feed_every:
            out[name] = parse_duration(s.feed_every)
    return out


def read_now(app: App, outlet: str) -> ReadReport:
    """`raqib discover --outlet`: the outlet's every source, due or not, on a
    clock the database agrees with (what they list is dated by it)."""
    check_clock(app, parse_duration(app.config.schedule.lease))
    return read_sources(app, new_owner(), outlet=outlet, force=True)


def read_sources(
    app: App,
    owner: str,
    *,
    outlet: str | None = None,
    force: bool = False,
    robots: RobotsMemory | None = None,
) -> ReadReport:
    """Read the sources that are due (every source of `outlet`, with force) and
    watch each new article they list; then retire what outlived its window.
    `owner` (the pass) holds their sites while it reads, so that no other
    worker's sweep fetches them meanwhile (storage.sharing), and lets them go
    after. `robots`: the pass's robots.txt parsers, shared with its crawls."""
    if outlet is not None:
        get(app, outlet)
    report = ReadReport()
    now = app.clock()
    sources = app.storage.outlets.claim_sources(
        now=now, every=intervals(app), outlet=outlet, force=force, owner=owner,
        hold=parse_duration(app.config.schedule.lease),
    )  # fmt: skip
    if sources:  # Scrapy is imported only when there is something to read
        try:
            _read(app, owner, sources, report, robots)
        finally:
            app.storage.leases.let_go(owner)
    report.retired = retire(app)
    return report


def _read(
    app: App, owner: str, sources: list[Any], report: ReadReport, robots: RobotsMemory | None
) -> None:
    with importing():
        from raqib.app.passes import crawl_settings, robots_memory
        from raqib.crawler.context import PassContext
        from raqib.crawler.run import collect
        from raqib.crawler.spiders.outlets import OutletJob, OutletSpider, SourceRead

    context = PassContext(
        clock=app.clock,
        outlets=OutletJob(sources),
        guard=Guard(allow_private=app.config.fetch.allow_private),
        robots=robots if robots is not None else robots_memory(app),
        lease=(lease := parse_duration(app.config.schedule.lease)),
        renew_holds=lambda now: app.storage.leases.renew_holds(owner, now=now, lease=lease),
    )
    collected = collect(OutletSpider, crawl_settings(app), context)
    reads = [r for r in collected if isinstance(r, SourceRead)]
    # Listed articles first: a read recorded (its validators, its body's
    # digest) is not taken in again, so a crash in between must not lose them.
    _watch_listed(app, reads, report)
    _record_reads(app, reads, report)


def _record_reads(app: App, reads: list[Any], report: ReadReport) -> None:
    now = app.clock()
    for r in reads:
        if not r.top:
            continue
        entries = sum(len(x.listed) for x in reads if x.source.id == r.source.id)
        status, failed = _with_children(
            r, [x for x in reads if x.source.id == r.source.id], entries
        )
        app.storage.outlets.source_read(
            r.source.id, now=now, status=status, entries=entries, etag=r.etag,
            last_modified=r.last_modified, not_modified=r.not_modified,
            body_sha256=r.body_sha256,
        )  # fmt: skip
        report.sources.append(
            {"outlet": r.source.outlet, "url": r.source.url, "kind": r.source.kind,
             "status": status, "entries": entries, "failed": failed}
        )  # fmt: skip


def _with_children(top: Any, own: list[Any], entries: int) -> tuple[str, bool]:
    """A sitemap index's read as its status says it: what its child sitemaps
    listed and how many failed, and why the first did (an index of children
    all 404 or refused read "ok: sitemapindex, 0 entries"). Failed when
    every child did."""
    kids = [x for x in own if not x.top]
    if not kids:
        return top.status, top.failed
    bad = [x for x in kids if x.failed]
    status = (
        f"{top.status}; its sitemaps: {len(kids) - len(bad)} of {len(kids)} read, {entries} entries"
    )
    if bad:
        status += f"; {len(bad)} failed (first: {bad[0].status})"
    return status[:400], top.failed or len(bad) == len(kids)


def _watch_listed(app: App, reads: list[Any], report: ReadReport) -> None:
    """Each outlet's listed pages: new articles watched now, the rest rejected once."""
    guard = Guard(allow_private=app.config.fetch.allow_private)
    # By the source's outlet now, not by the name it had when claimed: an
    # outlet renamed during the read keeps what it listed; a removed one's
    # sources are gone, and what they listed with them.
    outlet_of = app.storage.outlets.source_outlets([r.source.id for r in reads])
    by_outlet: dict[int, dict[str, Listed]] = {}
    for r in reads:
        if (oid := outlet_of.get(r.source.id)) is None:
            continue
        for item in r.listed:
            try:
                url = urls.normalize(item.url)
            except urls.BadURL:
                continue
            seen = by_outlet.setdefault(oid, {})
            # Only a sitemap's dates rule an entry out (an archive's): a feed or
            # a front page lists what is current, and its listing wins; of two
            # sitemaps' dates, the newer (an unreadable one says nothing).
            when = _newest(item, seen.get(url), sitemap=r.source.kind == SourceKind.SITEMAP)
            if url not in seen or (seen[url].front and not item.front):  # a feed's word wins
                seen[url] = replace(item, url=url, published=when)
            else:
                seen[url] = replace(seen[url], published=when)
    now = app.clock()
    windows = app.storage.outlets.windows(_retain(app)) if by_outlet else {}
    for oid, listed in by_outlet.items():
        try:
            _take_in(app, guard, oid, listed, report, now - windows.get(oid, timedelta(0)))
        except StoreFailure:
            raise  # the database itself: the pass stops
        except Exception as exc:  # one outlet's listing must not cost the pass or the others
            log.error("outlet %d: what its sources listed could not be stored: %s", oid, exc)


def _newest(item: Listed, was: Listed | None, *, sitemap: bool) -> str | None:
    """The date an entry listed twice goes by (ISO 8601): None, no date to rule
    it out, once any listing gives none."""
    when = _latest(item.published) if sitemap else None
    if was is not None:
        before = _latest(was.published)
        when = None if before is None or when is None else max(when, before)
    return when.isoformat() if when is not None else None


def _latest(value: str | None) -> datetime | None:
    """A listing's date as its latest moment: a day without its time is its end
    (read as its midnight, an article of that evening was history by morning)."""
    from raqib.discovery.feeds import dated

    when = dated(value)
    day = when is not None and len((value or "").strip()) <= 10
    return when + timedelta(days=1) if when is not None and day else when


def _take_in(
    app: App, guard: Guard, oid: int, listed: dict[str, Listed], report: ReadReport,
    since: datetime,
) -> None:  # fmt: skip
    """One outlet's listing: new articles watched, the rest rejected once. One
    a sitemap dates a day or more before `since` (the outlet's window; the day
    for a date without a time, or a zone) is history, not new: not watched,
    nor remembered (a later date, an update, may list it again); an archive's
    sitemaps would otherwise make a first pass of thousands."""
    from raqib.discovery.feeds import dated
    from raqib.discovery.outlets import refusal

    now = app.clock()
    fresh = app.storage.outlets.unseen(oid, list(listed))
    keep, refuse = [], []
    for url in fresh:
        item = listed[url]
        if (when := dated(item.published)) is not None and when < since - timedelta(days=1):
            report.old += 1
            continue
        why = refusal(url, front=item.front)
        if why is None and not guard.allow_private:
            if network_of(url) not in guard.allowed(item.found_via):
                why = (
                    f"refused: a {network_of(url)} address listed by a "
                    f"{network_of(item.found_via)} source"
                )
        if why is None:
            keep.append(item)
        else:
            refuse.append((url, why))
    app.storage.outlets.reject(oid, refuse, now=now)
    report.rejected.extend(refuse)
    report.watched += app.storage.outlets.watch(oid, keep, now=now)


def retire(app: App) -> int:
    """Retire each outlet's articles once its retention window has passed."""
    return app.storage.outlets.retire_expired(now=app.clock(), retain=_retain(app))


def _retain(app: App) -> dict[str, timedelta]:
    return {
        name: parse_duration(s.retain) for name, s in app.config.outlets.per.items() if s.retain
    }


def rejected(app: App, name: str) -> list[tuple[str, str, Any]]:
    get(app, name, removed=True)  # what a removed outlet listed is its record, as its stats
    return app.storage.outlets.rejected(name)


# --- figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutletStats:
    """The figures newsroom-edit studies publish, for one outlet."""

    outlet: str
    articles: int  # watched and read as articles (rejected pages not counted)
    edited: int  # with at least one substantive edit
    edited_silently: int  # with at least one silent substantive edit
    edits: int  # substantive edits in all
    # From first sight to the first substantive edit, in seconds: medians of
    # the evidence bracket's ends (last seen unedited, first seen edited).
    median_first_edit_after: float | None
    median_first_edit_before: float | None

    @property
    def share_edited(self) -> float:
        return self.edited / self.articles if self.articles else 0.0

    @property
    def share_silent(self) -> float:
        return self.edited_silently / self.articles if self.articles else 0.0

    @property
    def edits_per_article(self) -> float:
        return self.edits / self.articles if self.articles else 0.0


def stats(app: App, name: str) -> OutletStats:
    from statistics import median

    get(app, name, removed=True)  # a removed outlet's articles keep their history
    facts = app.storage.outlets.edit_facts(name)
    edited = [f for f in facts if f.substantive]
    lows = [
        ((f.first_edit_after or f.added_at) - f.added_at).total_seconds()
        for f in edited
        if f.first_edit_before is not None
    ]
    highs = [
        (f.first_edit_before - f.added_at).total_seconds()
        for f in edited
        if f.first_edit_before is not None
    ]
    return OutletStats(
        outlet=name,
        articles=len(facts),
        edited=len(edited),
        edited_silently=sum(1 for f in facts if f.silent),
        edits=sum(f.substantive for f in facts),
        median_first_edit_after=median(lows) if lows else None,
        median_first_edit_before=median(highs) if highs else None,
    )
