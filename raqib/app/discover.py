"""Related coverage: read each story's sources, fetch what they list, judge
it against the story's seed articles, and watch what belongs to the story.

Three steps: plan (what to read, from storage), crawl (the discovery spider),
decide and store (raqib.discovery.judge, then one transaction).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from raqib.app.discovery_runs import holding
from raqib.app.errors import NotFound
from raqib.app.first_versions import first_versions, spooling
from raqib.app.home import App
from raqib.app.notifications import notify_coverage
from raqib.app.passes import crawl_settings, robots_memory
from raqib.discovery import feeds
from raqib.discovery.findings import CandidatePage, SourceFetched, Spool
from raqib.discovery.judge import (
    JUDGED_BEFORE,
    JUDGED_ON_FEED,
    KNOWN_BEFORE,
    UNJUDGED,
    decide,
    unjudged,
)
from raqib.discovery.links import article_links
from raqib.discovery.relate import Corpus, Judgement, StoryModel, document
from raqib.domain import Decision, Origin
from raqib.guard import Guard

log = logging.getLogger("raqib")
# A feed entry left unfetched (fetch_candidates off) whose title cannot be read.
UNREADABLE_ENTRY = f"{UNJUDGED}: its feed title is unreadable"
RETRY_FAILED = timedelta(hours=1)
MIN_ENTRY_TERMS = 8  # distinct terms a feed entry needs before it can rule its article out


@dataclass
class DiscoveryReport:
    sources: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def added(self) -> list[dict[str, Any]]:
        return [c for c in self.candidates if c["decision"] == Decision.ADDED]


class _Texts:
    """Term counts of texts. A text whose reading raises is None, and logged
    once a run by its address: one text must not cost every story's run, and
    a seed is read as part of the corpus too."""

    def __init__(self) -> None:
        self.unreadable: set[str] = set()

    def terms(self, title: str | None, text: str, url: str) -> Counter[str] | None:
        try:
            return document(title, text)
        except Exception as exc:
            if url not in self.unreadable:
                self.unreadable.add(url)
                log.error("discover: the text of %s could not be read: %r", url, exc)
            return None


@dataclass
class Plan:
    corpus: Corpus
    texts: _Texts
    seeds: dict[int, list[tuple[str, Any]]] = field(default_factory=dict)
    slug_of: dict[int, str] = field(default_factory=dict)
    sources: list[Any] = field(default_factory=list)  # SourceTask
    links: list[Any] = field(default_factory=list)  # LinkTask


def _decode(raw: bytes) -> str:
    from raqib.extract.decoding import decoded

    return decoded(raw)


def plan(app: App, slugs: list[str], report: DiscoveryReport, *, reading: bool = True) -> Plan:
    """What to read for each story: its sources and the links in its articles
    (not `reading`: its seeds alone, and the corpus)."""
    from raqib.crawler.spiders.discover import LinkTask, SourceTask

    repo = app.storage.discovery
    texts = _Texts()
    corpus = Corpus(d for t, x, u in repo.corpus_texts() if (d := texts.terms(t, x, u)) is not None)
    p = Plan(corpus, texts)
    for slug in slugs:
        sid = app.storage.watches.story_id(slug)
        if sid is None:
            continue
        p.slug_of[sid] = slug
        # Seeds: what the user put in the story, by hand or from an outlet.
        manual = repo.story_articles(slug, origins=(Origin.MANUAL, Origin.OUTLET))
        if not manual:
            report.notes.append(
                f"{slug}: no seed article with a stored version yet; run `raqib check` first"
            )
            continue
        seeds = [(w.url, texts.terms(v.title, v.text, w.url)) for w, v in manual]
        p.seeds[sid] = [(url, d) for url, d in seeds if d is not None]
        if not p.seeds[sid]:
            del p.seeds[sid]
            report.notes.append(f"{slug}: no seed article's text could be read (see the log)")
            continue
        if not reading:
            continue
        model = StoryModel(p.corpus, p.seeds[sid])
        for src in repo.sources(slug):
            url = feeds.search_url(src.url, model.key_terms()) if src.kind == "search" else src.url
            p.sources.append(SourceTask(src.id, sid, url, src.url))
        for w, v in repo.story_articles(slug):
            raw = app.storage.history.raw_body(v.raw_hash) if v.raw_hash else None
            if not raw:
                continue
            try:
                found = article_links(_decode(raw), v.url, v.text)
            except Exception as exc:  # one article's links must not cost every story's run
                log.error("discover: the links of %s could not be read: %s", w.url, exc)
                continue
            p.links.extend(LinkTask(sid, link, w.url, anchor) for link, anchor in found)
    return p


def crawl(
    app: App, p: Plan, spool: Spool | None = None
) -> tuple[list[Any], dict[tuple[int, str], Judgement]]:
    """Fetch the sources and the candidates worth fetching; returns the findings
    and the candidates judged on their feed entry alone."""
    from raqib.crawler.capture import CaptureIndex
    from raqib.crawler.context import PassContext
    from raqib.crawler.run import run_spider
    from raqib.crawler.spiders.discover import DiscoverSpider, DiscoveryJob

    cfg = app.config.discovery
    # Known to the story: not fetched again. A watch of another story's is
    # judged for this one too, and joins it if it belongs.
    in_story = app.storage.discovery.story_urls()
    # A candidate whose fetch failed (a 503, a timeout) is tried again an hour on.
    retry = app.clock() - RETRY_FAILED
    judged = {
        sid: app.storage.discovery.judged(slug, errors_before=retry)
        for sid, slug in p.slug_of.items()
    }
    # Those tried again come after the new ones, the longest waiting first.
    failed = {
        sid: app.storage.discovery.failed(slug, before=retry) for sid, slug in p.slug_of.items()
    }
    prefilter: dict[tuple[int, str], Judgement] = {}

    def want(story_id: int, url: str, title: str | None, summary: str | None) -> str | None:
        if url in in_story.get(story_id, ()):
            return KNOWN_BEFORE
        if url in judged.get(story_id, {}):
            return f"{JUDGED_BEFORE} ({judged[story_id][url]})"
        if title and story_id in p.seeds and (summary or not cfg.fetch_candidates):
            d = p.texts.terms(title, summary or "", url)
            if d is None:
                return None if cfg.fetch_candidates else UNREADABLE_ENTRY
            j = StoryModel(p.corpus, p.seeds[story_id]).judge(d)
            # Unrelated only by an entry that says enough: "عاجل" over an image, or
            # "فيديو: شاهد التفاصيل", is no evidence against the article it names.
            if summary and j.score < cfg.threshold * 0.25 and len(d) >= MIN_ENTRY_TERMS:
                prefilter[(story_id, url)] = j
                return f"unrelated by its feed title and summary (score {j.score:.3f})"
            if not cfg.fetch_candidates:
                prefilter[(story_id, url)] = j
                return JUDGED_ON_FEED
        return None

    collected: list[Any] = []
    context = PassContext(
        clock=app.clock,
        discovery=DiscoveryJob(
            p.sources,
            p.links,
            want,
            cfg.max_candidates,
            retrying=lambda sid, url: failed.get(sid, {}).get(url),
            spool=spool,
        ),
        collector=collected,
        guard=Guard(allow_private=app.config.fetch.allow_private),
        capture_index=CaptureIndex(app.storage.archive),
        robots=robots_memory(app),
    )
    run_spider(DiscoverSpider, crawl_settings(app), context)
    return collected, prefilter


def discover(
    app: App, *, story: str | None = None, fresh: timedelta | None = None
) -> DiscoveryReport:
    """Read every source of the story (or of all stories), judge what they list,
    watch what belongs to the story. Returns what was added and why.

    Not a story another run is reading (two would fetch every candidate twice,
    and race to watch what they find), nor, with `fresh`, one a run took within
    it (the daemons of several workers share the stories so)."""
    report = DiscoveryReport()
    with holding(app, _slugs(app, story), report.notes, fresh=fresh, asked=story) as slugs:
        p = plan(app, slugs, report)
        if p.sources or p.links:
            with spooling(app.home) as spool:
                collected, prefilter = crawl(app, p, spool)
                _judge_and_store(app, p, report, collected, prefilter, spool)
    return report


def _slugs(app: App, story: str | None) -> list[str]:
    slugs = app.storage.watches.story_slugs()
    if story and story not in slugs:
        raise NotFound(
            f"no story {story!r} (stories are created by `raqib watch URL --story SLUG`)"
        )
    return [story] if story else slugs


def rejudge(app: App, *, story: str | None = None) -> DiscoveryReport:
    """Judge again the candidates rejected on their text, from the text kept
    when each was read (nothing is fetched): after a story gained a seed
    article, or discovery.threshold was lowered. Those now related are watched;
    the rest are left as they were."""
    report = DiscoveryReport()
    with holding(app, _slugs(app, story), report.notes, asked=story, reading=False) as slugs:
        _rejudge(app, slugs, report)
    return report


def _rejudge(app: App, slugs: list[str], report: DiscoveryReport) -> None:
    p = plan(app, slugs, report, reading=False)
    threshold = app.config.discovery.threshold
    results = []
    for sid, seeds in p.seeds.items():
        slug, model, judged = p.slug_of[sid], StoryModel(p.corpus, seeds), 0
        for c in app.storage.discovery.rejected_on_text(slug):
            if (d := p.texts.terms(c.title, c.text, c.url)) is None:
                continue
            judged += 1
            if (j := model.judge(d)).score >= threshold:
                results.append({
                    # Watched as the address it was judged at (its canonical, where
                    # it was served), as its source listed it besides.
                    "story": slug, "story_id": sid, "url": c.address or c.url,
                    "aliases": [c.url] if c.address and c.address != c.url else [],
                    "listed": c.url, "address": c.address,  # its row, judged again
                    "found_via": c.found_via,
                    "title": c.title, "score": j.score, "terms": j.terms, "text": c.text,
                    "decision": Decision.ADDED.value,
                    "reason": f"score {j.score:.3f} ≥ threshold {threshold:g}, judged again on "
                    f"its text as read {c.seen_at:%Y-%m-%d %H:%M} UTC",
                })  # fmt: skip
        report.notes.append(
            f"{slug}: {judged} rejected candidate{'s' if judged != 1 else ''} judged again from "
            f"the text kept when read, {sum(r['story_id'] == sid for r in results)} now related"
        )
    now = app.clock()
    for r, watch in app.storage.discovery.record_candidates(results, now=now):
        hidden = ("text", "story_id", "aliases", "listed", "address")
        entry = {k: v for k, v in r.items() if k not in hidden}
        watch_id = watch.id if watch else None
        report.candidates.append(dict(entry, watch_id=watch_id, first_version=False))
    if report.added:
        notify_coverage(app, report.added, at=now)


def _judge_and_store(
    app: App,
    p: Plan,
    report: DiscoveryReport,
    collected: list[Any],
    prefilter: dict[tuple[int, str], Judgement],
    spool: Spool,
) -> None:
    now = app.clock()
    pages = [c for c in collected if isinstance(c, CandidatePage)]
    for c in pages:
        if c.text and (d := p.texts.terms(c.title, c.text, c.url)) is not None:
            p.corpus.add(d)  # everything seen teaches the weights
    models = {sid: StoryModel(p.corpus, docs) for sid, docs in p.seeds.items()}
    for item in collected:
        if isinstance(item, SourceFetched):
            status = item.error or f"ok: {item.kind}, {item.entries} entries"
            app.storage.discovery.source_checked(
                item.source_id, now=now, status=status, kind=item.kind, entries=item.entries
            )
            report.sources.append(
                {"url": item.url, "kind": item.kind, "entries": item.entries, "error": item.error}
            )
    in_story = app.storage.discovery.story_urls()
    results = []
    for c in pages:
        try:
            r = decide(
                c,
                slug=p.slug_of.get(c.story_id),
                model=models.get(c.story_id),
                threshold=app.config.discovery.threshold,
                known=in_story.get(c.story_id, set()),
                prefiltered=prefilter.get((c.story_id, c.url)),
            )
        except Exception as exc:  # one candidate must not cost the run every other one
            log.error("discover: candidate %s could not be judged: %s", c.url, exc)
            r = unjudged(c, p.slug_of.get(c.story_id), exc)
        if r is not None:
            results.append(r)
    firsts: dict[int, str] = {}  # a new watch → the fetch its version 1 is to be
    entries = []
    for r, watch in app.storage.discovery.record_candidates(results, now=now):
        hidden = ("text", "story_id", "aliases", "kept", "address")
        entry = {k: v for k, v in r.items() if k not in hidden}
        entry["watch_id"] = watch.id if watch is not None else None
        if watch is not None and watch.version_count == 0 and r.get("kept"):
            firsts.setdefault(watch.id, r["kept"])
        entries.append((entry, r.get("kept")))
    stored = first_versions(app, spool, firsts) if firsts else set()
    for entry, kept in entries:
        # One article found for two stories: the fetch that made it is the one said.
        entry["first_version"] = entry["watch_id"] in stored and firsts[entry["watch_id"]] == kept
        report.candidates.append(entry)
    if report.added:
        notify_coverage(app, report.added, at=now)
