"""The use cases the CLI and the daemon share: open a home, watch URLs, run a
pass (claim → crawl → analyse), and read history back.

Data flows one way: crawler (fetch, extract, normalise, store) → diffs
(analyse stored versions) → presentation. This module wires those stages; it
holds no logic of its own beyond the order of the steps.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from raqib import config as config_mod
from raqib.clock import Clock
from raqib.clock import from_env as clock_from_env
from raqib.config import Config, parse_duration
from raqib import urls
from raqib.diffs.classify import ANALYZER, compare
from raqib.scheduler import RevisitPolicy
from raqib.storage import Store, Task, open_store, sqlite
from raqib.storage.models import Change, Version, Watch

log = logging.getLogger("raqib")

DB_NAME = "raqib.db"


class HomeError(Exception):
    """The home directory cannot be created or written."""


class PassFailed(Exception):
    """A pass that had to stop: the database or the archive could not be written."""


class PassBusy(Exception):
    """Another live pass holds the due watches."""

    def __init__(self, holders: dict[str, int]) -> None:
        self.holders = holders
        desc = ", ".join(
            f"{n} watch{'es' if n != 1 else ''} held by {owner}" for owner, n in holders.items()
        )
        super().__init__(f"another raqib pass is running ({desc})")


@dataclass
class App:
    home: Path
    config: Config
    store: Store
    clock: Clock

    def close(self) -> None:
        self.store.close()


def ensure_home(home: Path) -> Path:
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HomeError(f"cannot create the home directory {home}: {exc.strerror or exc}") from exc
    try:
        read_only = bool(os.statvfs(home).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        raise HomeError(f"the home directory {home} is on a read-only file system")
    if not os.access(home, os.W_OK | os.X_OK):
        raise HomeError(f"the home directory {home} is not writable")
    return home


def database_url(home: Path) -> str:
    """RAQIB_DATABASE_URL (e.g. postgresql+psycopg://…) or <home>/raqib.db."""
    return os.environ.get("RAQIB_DATABASE_URL") or sqlite.url_for(home / DB_NAME)


def open_app(home: Path, *, readonly: bool = False, clock: Clock | None = None) -> App:
    if readonly:
        if not (home / DB_NAME).exists() and "RAQIB_DATABASE_URL" not in os.environ:
            raise HomeError(f"no Raqib database in {home} (run `raqib watch URL` first)")
    else:
        ensure_home(home)
    cfg = config_mod.load(home)
    store = open_store(database_url(home), readonly=readonly)
    return App(home=home, config=cfg, store=store, clock=clock or clock_from_env())


# --- watching ------------------------------------------------------------------


@dataclass
class WatchResult:
    url: str
    created: bool
    watch_id: int


def add_watches(app: App, raw_urls: list[str], *, story: str | None) -> list[WatchResult]:
    """Normalise every URL first (all-or-nothing), then store them."""
    normalized = [urls.normalize(u) for u in raw_urls]
    rows = app.store.add_watches(list(dict.fromkeys(normalized)), now=app.clock(), story=story)
    return [WatchResult(w.url, created, w.id) for w, created in rows]


def find_watch(app: App, url: str) -> Watch | None:
    """The watch for a URL as given, normalised, redirected or re-slugged."""
    w = app.store.find_watch(url.strip())
    if w is None:
        try:
            w = app.store.find_watch(urls.normalize(url, allow_credentials=True))
        except urls.BadURL:
            return None
    return w


# --- one pass ------------------------------------------------------------------


@dataclass
class PassSummary:
    claimed: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    substantive: int = 0
    cosmetic: int = 0
    seconds: float = 0.0
    lease_lost: int = 0
    processes: int = 1  # crawler processes the pass ran in
    notified: int = 0  # messages delivered before the pass ended
    notify_pending: int = 0  # queued, still to deliver (retried later)

    @property
    def errors(self) -> int:
        return self.counts["error"] + self.counts["not_article"]

    def line(self) -> str:
        c = self.counts
        return (
            f"checked {self.claimed} watch{'es' if self.claimed != 1 else ''}: "
            f"{c['new_version']} new versions ({self.substantive} substantive, {self.cosmetic} cosmetic), "
            f"{c['unchanged'] + c['not_modified']} unchanged, {c['removed']} removed, {c['restored']} restored, "
            f"{c['error']} errors, {c['not_article']} not articles in {self.seconds:.1f}s"
            + (f" ({self.processes} crawler processes)" if self.processes > 1 else "")
            + (f"; {self.notified} notifications sent" if self.notified else "")
            + (f", {self.notify_pending} waiting" if self.notify_pending else "")
        )


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_alive(owner: str) -> bool:
    """False only when the owner is a process on this host that no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine: trust its lease until it expires
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_dead_leases(store: Store, now: datetime) -> None:
    for owner in store.lease_holders(now=now, due_only=False):
        if not _owner_alive(owner):
            log.info("releasing watches leased by dead process %s", owner)
            store.release(owner)


def claim(
    app: App,
    owner: str,
    *,
    all_watches: bool,
    wait: bool,
    wait_timeout: float | None,
    watch_ids: list[int] | None = None,
) -> list[Task]:
    """Claim due watches, or raise PassBusy / wait while another pass holds them."""
    s = app.config.schedule
    lease = parse_duration(s.lease)
    deadline = None if wait_timeout is None else time.monotonic() + wait_timeout
    while True:
        now = app.clock()
        reap_dead_leases(app.store, now)
        holders = {
            o: n
            for o, n in app.store.lease_holders(now=now, due_only=not all_watches).items()
            if o != owner
        }
        if wait and holders:
            # Waiting means waiting for the other pass to end, not taking the
            # watches it has finished with one by one while it still runs.
            if deadline is not None and time.monotonic() > deadline:
                raise PassBusy(holders)
            time.sleep(1.0)  # polling the database is the lock wait: leases live there
            continue
        tasks = app.store.claim(
            owner,
            now=now,
            lease=lease,
            limit=s.claim_batch,
            due_only=not all_watches,
            watch_ids=watch_ids,
        )
        if tasks:
            return tasks
        if not holders:
            return []
        if not wait:
            raise PassBusy(holders)


def warc_dir(app: App) -> Path:
    return (
        Path(app.config.archive.directory).expanduser()
        if app.config.archive.directory
        else app.home / "warc"
    )


def crawl_settings(app: App) -> dict[str, Any]:
    """Scrapy settings for this home: [fetch] plus where the WARC files go."""
    from raqib.crawler.settings import from_config

    settings = from_config(app.config.fetch)
    if app.config.archive.warc:
        settings["RAQIB_WARC_DIR"] = str(warc_dir(app))
        settings["RAQIB_WARC_MAX_BYTES"] = int(app.config.archive.max_file_mb * 1024 * 1024)
    return settings


def run_check(
    app: App,
    *,
    all_watches: bool = False,
    wait: bool = False,
    wait_timeout: float | None = None,
    watch_ids: list[int] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_recorded: Callable[[Task, Any], None] | None = None,
) -> PassSummary:
    """One pass: claim due watches, fetch each once, record, analyse new versions."""
    from raqib.crawler.pool import extraction_pool  # Scrapy is imported only by passes
    from raqib.crawler.shards import crawl_here, crawl_sharded, shard_count

    started = time.monotonic()
    owner = new_owner()
    summary = PassSummary()
    tasks = claim(
        app,
        owner,
        all_watches=all_watches,
        wait=wait,
        wait_timeout=wait_timeout,
        watch_ids=watch_ids,
    )
    summary.claimed = len(tasks)
    if not tasks:
        summary.seconds = time.monotonic() - started
        return summary
    if on_start is not None:
        on_start(len(tasks))
    common: dict[str, Any] = {
        "owner": owner,
        "policy": RevisitPolicy(app.config.schedule),
        "clock": app.clock,
        "overrides": crawl_settings(app),
        "lease_seconds": parse_duration(app.config.schedule.lease).total_seconds(),
        "on_recorded": on_recorded,
    }
    shards = summary.processes = shard_count(len(tasks), app.config.fetch.processes)
    pool = extraction_pool(len(tasks)) if shards == 1 else None
    try:
        if shards > 1:
            outcome = crawl_sharded(tasks, shards=shards, database_url=app.store.url(), **common)
        else:
            outcome = crawl_here(app.store, tasks, pool=pool, **common)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        # Whatever was not recorded (a signal stopped the crawl) is free again.
        # If the database cannot be written, the leases simply expire.
        try:
            app.store.release(owner)
        except Exception as exc:
            log.warning("could not release leases: %s", exc)
    if outcome.fatal is not None:
        raise PassFailed(f"the pass stopped: {outcome.fatal}") from outcome.fatal
    summary.counts = outcome.counts
    summary.lease_lost = outcome.lease_lost
    changes = analyze_pending(app)
    for change in changes:
        if change.kind == "substantive":
            summary.substantive += 1
        else:
            summary.cosmetic += 1
    notify_pass(app, summary, changes=changes, removed=outcome.removed_now)
    summary.seconds = time.monotonic() - started
    return summary


# --- notifications -------------------------------------------------------------------


def sync_config_channels(app: App) -> None:
    """Channels written in raqib.toml live in the database too (origin "config")."""
    from raqib.notify.deliver import kind_of

    keep = set()
    for ch in app.config.notify.channels:
        row, _ = app.store.add_channel(
            ch["url"].strip(),
            kind=kind_of(ch["url"].strip()),
            story=ch.get("story"),
            when=list(ch.get("when", ["substantive"])),
            keywords=list(ch.get("keywords", [])),
            digest=bool(ch.get("digest", False)),
            origin="config",
            now=app.clock(),
        )
        keep.add(row.id)
    app.store.disable_config_channels(keep)


def queue_events(app: App, events: list[dict[str, Any]], *, batch: str) -> int:
    """Match events against every channel's rules and queue the messages."""
    from raqib.notify.events import DIGEST_SCHEMA, event_key
    from raqib.notify.rules import wants

    sync_config_channels(app)
    items: list[tuple[int, str, dict[str, Any]]] = []
    for ch, slug in app.store.channels(enabled_only=True):
        mine = [e for e in events if wants(ch.when, ch.keywords or [], slug, e)]
        if not mine:
            continue
        if ch.digest:
            items.append((ch.id, f"digest:{batch}", {"schema": DIGEST_SCHEMA, "events": mine}))
        else:
            items.extend((ch.id, event_key(e), e) for e in mine)
    return app.store.enqueue(items, now=app.clock()) if items else 0


def change_events(app: App, changes: list[Change]) -> list[dict[str, Any]]:
    from raqib.notify.events import change_event

    events = []
    for c in changes:
        found = app.store.change_detail(c.id)
        if found is None:
            continue
        change, watch, old, new = found
        warc = app.store.evidence(watch.id).get(new.id, {}).get("warc")
        events.append(
            change_event(
                change,
                watch,
                app.store.story_of(watch),
                old,
                new,
                link_base=app.config.notify.report_url,
                warc=warc,
            )
        )
    return events


def flush_notifications(app: App, *, timeout: float) -> Any:
    from raqib.notify.deliver import flush

    n = app.config.notify
    return flush(
        app.store,
        owner=new_owner(),
        clock=app.clock,
        deadline=time.monotonic() + timeout,
        retry_base=parse_duration(n.retry_base),
        retry_max=parse_duration(n.retry_max),
        max_attempts=n.max_attempts,
    )


def notify_pass(
    app: App, summary: PassSummary, *, changes: list[Change], removed: list[Any]
) -> None:
    """Queue what this pass found and deliver it, within notify.flush_timeout.

    Never raises: a notification problem is logged and the messages wait in
    the outbox for `raqib notify flush` or the daemon.
    """
    from raqib.notify.events import removed_event

    try:
        events = change_events(app, changes)
        for watch_id, status, at in removed:
            w = app.store.get_watch(watch_id)
            events.append(removed_event(w, app.store.story_of(w), at=at, status=status))
        if not events or (
            not app.store.channels(enabled_only=True) and not app.config.notify.channels
        ):
            return
        queue_events(app, events, batch=new_owner())
        result = flush_notifications(
            app, timeout=parse_duration(app.config.notify.flush_timeout).total_seconds()
        )
        summary.notified = result.sent
        summary.notify_pending = result.retrying
    except Exception as exc:
        log.warning("notifications: %s", exc)


# --- analysis ------------------------------------------------------------------


def analyze_pending(app: App) -> list[Change]:
    """Judge every new version against its predecessor and store the change."""
    out: list[Change] = []
    while True:
        pairs = app.store.unanalyzed(limit=500)
        if not pairs:
            return out
        for old, new in pairs:
            a = compare(old, new)
            change = app.store.save_change(
                old=old,
                new=new,
                kind=a.kind,
                silent=a.silent,
                headline_changed=a.headline_changed,
                byline_changed=a.byline_changed,
                chars_changed=a.chars_changed,
                analysis=a.to_json(),
                analyzer=ANALYZER,
            )
            if change is not None:
                out.append(change)


def version_pair(
    app: App, watch: Watch, from_n: int | None, to_n: int | None
) -> tuple[Version, Version]:
    versions = app.store.versions(watch.id)
    if len(versions) < 2 and (from_n is None or to_n is None):
        raise LookupError(f"{watch.url} has {len(versions)} version(s); a diff needs two")
    by_number = {v.number: v for v in versions}
    to_v = by_number.get(to_n) if to_n is not None else versions[-1]
    if to_v is None:
        raise LookupError(f"no version {to_n} of {watch.url} (it has {len(versions)})")
    from_v = by_number.get(from_n) if from_n is not None else by_number.get(to_v.number - 1)
    if from_v is None:
        raise LookupError(f"no version {from_n} of {watch.url} (it has {len(versions)})")
    return from_v, to_v


# --- discovery of related coverage -------------------------------------------------


@dataclass
class DiscoveryReport:
    sources: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def added(self) -> list[dict[str, Any]]:
        return [c for c in self.candidates if c["decision"] == "added"]


def _decode(raw: bytes) -> str:
    from w3lib.encoding import html_to_unicode

    return html_to_unicode(None, raw)[1]


def _identity(
    url: str, final: str | None, canonical: str | None, amp: str | None
) -> tuple[str, list[str]]:
    """The watch URL of a candidate (its canonical address) and its aliases."""
    from urllib.parse import urljoin, urlsplit

    def norm(u: str | None) -> str | None:
        if not u:
            return None
        try:
            return urls.normalize(urljoin(final or url, u), allow_credentials=True)
        except urls.BadURL:
            return None

    found = [u for u in (norm(url), norm(final)) if u]
    canon = norm(canonical)
    # A canonical link is trusted when it names an article on the same site;
    # a link to the home page or to another site is a CMS mistake or a trick.
    if canon and urlsplit(canon).path not in ("", "/") and urls.same_site(canon, found[-1]):
        primary = canon
    else:
        primary = found[-1]
    aliases = [u for u in dict.fromkeys([*found, norm(amp)]) if u and u != primary]
    return primary, aliases


def discover(app: App, *, story: str | None = None) -> DiscoveryReport:
    """Read every source of the story (or of all stories), judge what they list,
    watch what belongs to the story. Returns what was added and why."""
    from raqib.crawler.capture import StoreCaptureIndex
    from raqib.crawler.run import run_spider
    from raqib.crawler.spiders.discover import DiscoverSpider, LinkTask, SourceTask
    from raqib.discovery import feeds
    from raqib.discovery.guard import Guard
    from raqib.discovery.links import article_links
    from raqib.discovery.relate import Corpus, StoryModel, document

    report = DiscoveryReport()
    cfg = app.config.discovery
    slugs = [story] if story else app.store.story_slugs()
    if story and story not in app.store.story_slugs():
        raise LookupError(
            f"no story {story!r} (stories are created by `raqib watch URL --story SLUG`)"
        )
    corpus = Corpus(document(t, x) for t, x in app.store.corpus_texts())
    seeds: dict[int, list[tuple[str, Any]]] = {}
    slug_of: dict[int, str] = {}
    source_tasks: list[SourceTask] = []
    link_tasks: list[LinkTask] = []
    for slug in slugs:
        sid = app.store.story_id_of(slug)
        if sid is None:
            continue
        slug_of[sid] = slug
        manual = app.store.story_articles(slug, origin="manual")
        if not manual:
            report.notes.append(
                f"{slug}: no seed article with a stored version yet; run `raqib check` first"
            )
            continue
        seeds[sid] = [(w.url, document(v.title, v.text)) for w, v in manual]
        model = StoryModel(corpus, seeds[sid])
        for src, _ in app.store.sources(slug):
            url = feeds.search_url(src.url, model.key_terms()) if src.kind == "search" else src.url
            source_tasks.append(SourceTask(src.id, sid, url, src.url))
        for w, v in app.store.story_articles(slug):
            raw = app.store.raw_body(v.raw_hash) if v.raw_hash else None
            if raw:
                for link, anchor in article_links(_decode(raw), v.url, v.text):
                    link_tasks.append(LinkTask(sid, link, w.url, anchor))
    if not source_tasks and not link_tasks:
        return report

    known = app.store.known_urls()
    judged = {sid: app.store.judged(slug) for sid, slug in slug_of.items()}
    prefilter: dict[tuple[int, str], Any] = {}

    def want(story_id: int, url: str, title: str | None, summary: str | None) -> str | None:
        if url in known:
            return "already watched"
        if url in judged.get(story_id, {}):
            return f"judged before ({judged[story_id][url]})"
        if title and summary and story_id in seeds:
            j = StoryModel(corpus, seeds[story_id]).judge(document(title, summary))
            if j.score < cfg.threshold * 0.25:
                prefilter[(story_id, url)] = j
                return f"unrelated by its feed title and summary (score {j.score:.3f})"
        if not cfg.fetch_candidates and title and story_id in seeds:
            prefilter[(story_id, url)] = StoryModel(corpus, seeds[story_id]).judge(
                document(title, summary or "")
            )
            return "judged on its feed title and summary"
        return None

    from raqib.crawler.items import CandidatePage, SourceFetched

    collected: list[Any] = []
    run_spider(
        DiscoverSpider,
        crawl_settings(app),
        capture_index=StoreCaptureIndex(app.store),
        sources=source_tasks,
        links=link_tasks,
        want=want,
        guard=Guard(allow_private=app.config.fetch.allow_private),
        max_candidates=cfg.max_candidates,
        collector=collected,
    )
    now = app.clock()
    pages = [c for c in collected if isinstance(c, CandidatePage)]
    for c in pages:
        if c.text:
            corpus.add(document(c.title, c.text))  # everything seen teaches the weights
    models = {sid: StoryModel(corpus, docs) for sid, docs in seeds.items()}
    for item in collected:
        if isinstance(item, SourceFetched):
            status = item.error or f"ok: {item.kind}, {item.entries} entries"
            app.store.source_checked(
                item.source_id, now=now, status=status, kind=item.kind, entries=item.entries
            )
            report.sources.append(
                {"url": item.url, "kind": item.kind, "entries": item.entries, "error": item.error}
            )
    results: list[dict[str, Any]] = []
    for c in pages:
        r: dict[str, Any] = {
            "story": slug_of.get(c.story_id),
            "story_id": c.story_id,
            "url": c.url,
            "found_via": c.found_via,
            "title": c.title or c.feed_title,
            "score": None,
            "terms": None,
            "text": c.text,
        }
        if c.skipped:
            if c.skipped.startswith("judged before"):
                continue  # nothing new to say about it
            j = prefilter.get((c.story_id, c.url))
            decision = (
                "known"
                if c.skipped == "already watched"
                else "blocked"
                if c.skipped.startswith("blocked")
                else "rejected"
            )
            if j is not None and c.skipped.startswith("judged on"):
                decision = "added" if j.score >= cfg.threshold else "rejected"
            if j is not None:
                r.update(score=j.score, terms=j.terms)
            r.update(decision=decision, reason=c.skipped)
        elif c.error:
            r.update(decision="error", reason=c.error)
        else:
            primary, aliases = _identity(c.url, c.final_url, c.canonical_url, c.amp_url)
            if primary in known or any(a in known for a in aliases):
                r.update(decision="known", reason=f"already watched as {primary}")
            else:
                j = models[c.story_id].judge(document(c.title, c.text or ""))
                related = j.score >= cfg.threshold
                r.update(
                    url=primary,
                    aliases=aliases,
                    score=j.score,
                    terms=j.terms,
                    decision="added" if related else "rejected",
                    reason=(
                        f"score {j.score:.3f} {'≥' if related else '<'} threshold {cfg.threshold:g}"
                        + (f"; closest to {j.against}" if j.against else "")
                    ),
                )
        results.append(r)
    for r, watch in app.store.record_candidates(results, now=now):
        entry = {k: v for k, v in r.items() if k not in ("text", "story_id", "aliases")}
        entry["watch_id"] = watch.id if watch is not None else None
        report.candidates.append(entry)
    if report.added:
        try:
            from raqib.notify.events import coverage_event

            queue_events(app, [coverage_event(c, at=now) for c in report.added], batch=new_owner())
            flush_notifications(
                app, timeout=parse_duration(app.config.notify.flush_timeout).total_seconds()
            )
        except Exception as exc:
            log.warning("notifications: %s", exc)
    return report
