"""Discovery: the sources of each story, the candidates judged from them,
and the texts that term weights are learned from."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

from raqib.domain import RESTING_STATES, Decision, Origin, Source, Version, Watch
from raqib.storage import models as m
from raqib.storage.db import Database, rowcount, to_domain
from raqib.storage.watches import (
    add_alias,
    as_watch,
    ensure_story,
    find,
    join_story,
    load,
    new_watch,
)

_KINDS = {"rss": "rss", "atom": "atom", "sitemap": "sitemap", "sitemapindex": "sitemap"}


@dataclass
class Taken:
    """The stories a discovery run took, and those it did not, by slug."""

    stories: list[str] = field(default_factory=list)
    held: dict[str, tuple[datetime | None, datetime]] = field(default_factory=dict)  # since, until
    fresh: dict[str, datetime] = field(default_factory=dict)  # taken by a run then


class DiscoveryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- sources ------------------------------------------------------------------

    def add_source(self, url: str, *, story: str, kind: str, now: datetime) -> tuple[Source, bool]:
        with self.db.session() as s:
            sid = ensure_story(s, story, now)
            existing = s.scalar(
                select(m.Source).where(m.Source.story_id == sid, m.Source.url == url)
            )
            created = existing is None
            if existing is None:
                existing = m.Source(story_id=sid, url=url, kind=kind, added_at=now, entries_seen=0)
                s.add(existing)
                s.flush()
            return to_domain(Source, existing, story=story), created

    def sources(self, story: str | None = None) -> list[Source]:
        with self.db.session() as s:
            q = (
                select(m.Source, m.Story.slug)
                .join(m.Story, m.Story.id == m.Source.story_id)
                .order_by(m.Source.id)
            )
            if story is not None:
                q = q.where(m.Story.slug == story)
            return [to_domain(Source, src, story=slug) for src, slug in s.execute(q).all()]

    def remove_source(self, url: str, story: str | None = None) -> int:
        with self.db.session() as s:
            q = select(m.Source).where(m.Source.url == url)
            if story is not None:
                q = q.join(m.Story, m.Story.id == m.Source.story_id).where(m.Story.slug == story)
            found = list(s.scalars(q))
            for src in found:
                s.delete(src)
            return len(found)

    def source_checked(
        self, source_id: int, *, now: datetime, status: str, kind: str | None, entries: int
    ) -> None:
        with self.db.session() as s:
            src = s.get(m.Source, source_id)
            if src is None:
                return
            src.last_checked_at = now
            src.last_status = status[:500]
            src.entries_seen = entries
            if kind in _KINDS and src.kind == "auto":
                src.kind = _KINDS[kind]

    # --- what a story is about ---------------------------------------------------------

    def story_articles(
        self, story: str, *, origins: Sequence[Origin] | None = None
    ) -> list[tuple[Watch, Version]]:
        """The latest version of each watched article of a story."""
        with self.db.session() as s:
            q = (
                select(m.Watch, m.Version)
                .join(m.WatchStory, m.WatchStory.watch_id == m.Watch.id)
                .join(m.Story, m.Story.id == m.WatchStory.story_id)
                .join(
                    m.Version,
                    and_(
                        m.Version.watch_id == m.Watch.id,
                        m.Version.number == m.Watch.version_count,
                    ),
                )
                .where(m.Story.slug == story)
                .order_by(m.Watch.id)
            )
            if origins is not None:
                q = q.where(m.Watch.origin.in_([o.value for o in origins]))
            rows = s.execute(q).all()
            watches = load(s, [w for w, _v in rows])
            return [(d, to_domain(Version, v)) for d, (_w, v) in zip(watches, rows, strict=True)]

    def corpus_texts(self, limit: int = 5000) -> list[tuple[str, str, str]]:
        """(title, text, address) of recent articles and candidates: what term weights are learned from."""
        with self.db.session() as s:
            versions = s.execute(
                select(m.Version.title, m.Version.text, m.Watch.url)
                .join(
                    m.Watch,
                    and_(
                        m.Watch.id == m.Version.watch_id,
                        m.Watch.version_count == m.Version.number,
                    ),
                )
                .order_by(m.Version.id.desc())
                .limit(limit)
            ).all()
            cands = s.execute(
                select(m.Candidate.title, m.Candidate.text, m.Candidate.url)
                .where(m.Candidate.text.is_not(None))
                .order_by(m.Candidate.id.desc())
                .limit(limit)
            ).all()
            return [(t or "", x or "", u) for t, x, u in [*versions, *cands]]

    # --- runs ------------------------------------------------------------------------

    def take_stories(
        self, slugs: Sequence[str], *, owner: str, now: datetime, hold: timedelta,
        fresh: timedelta | None = None, reading: bool = True,
    ) -> Taken:  # fmt: skip
        """Take the stories no other discovery run holds (with `fresh`, nor one
        a run took within it), for `owner`, until `now + hold` (renewed) or
        until let go: two runs never read one story at once. Each is taken by
        a compare-and-set on its row, so two workers never both win it, on
        either backend. Not `reading` (a rejudge): the time a run last took it
        stays, and with it the daemons' turns."""
        out = Taken()
        with self.db.session() as s:
            for slug in slugs:
                cond = [
                    m.Story.slug == slug,
                    or_(m.Story.discovery_until.is_(None), m.Story.discovery_until <= now),
                ]
                if fresh is not None:
                    cond.append(
                        or_(m.Story.discovery_at.is_(None), m.Story.discovery_at <= now - fresh)
                    )
                won = rowcount(
                    s.execute(
                        update(m.Story)
                        .where(*cond)
                        .values(
                            discovery_owner=owner,
                            discovery_until=now + hold,
                            **({"discovery_at": now} if reading else {}),
                        )
                        .execution_options(synchronize_session=False)
                    )
                )
                if won:
                    out.stories.append(slug)
                    continue
                row = s.execute(
                    select(m.Story.discovery_until, m.Story.discovery_at).where(
                        m.Story.slug == slug
                    )
                ).first()
                if row is None:
                    continue  # removed meanwhile
                if row.discovery_until is not None and row.discovery_until > now:
                    out.held[slug] = (row.discovery_at, row.discovery_until)
                else:
                    out.fresh[slug] = row.discovery_at
        return out

    def renew_stories(self, owner: str, *, now: datetime, hold: timedelta) -> int:
        """Hold `owner`'s stories `hold` longer; how many it still holds."""
        with self.db.session() as s:
            return rowcount(
                s.execute(
                    update(m.Story)
                    .where(m.Story.discovery_owner == owner, m.Story.discovery_until > now)
                    .values(discovery_until=now + hold)
                    .execution_options(synchronize_session=False)
                )
            )

    def let_go(self, owner: str) -> None:
        """`owner`'s run has ended: its stories are free (not another's it lost them to)."""
        with self.db.session() as s:
            s.execute(
                update(m.Story)
                .where(m.Story.discovery_owner == owner)
                .values(discovery_owner=None, discovery_until=None)
                .execution_options(synchronize_session=False)
            )

    # --- candidates -----------------------------------------------------------------------

    def failed(self, story: str, *, before: datetime) -> dict[str, datetime]:
        """URL → when, of the story's candidates whose fetch failed before `before`."""
        with self.db.session() as s:
            rows = s.execute(
                select(m.Candidate.url, m.Candidate.seen_at)
                .join(m.Story, m.Story.id == m.Candidate.story_id)
                .where(
                    m.Story.slug == story,
                    m.Candidate.decision == Decision.ERROR.value,
                    m.Candidate.seen_at < before,
                )
            ).all()
            return {u: seen for u, seen in rows}

    def rejected_on_text(self, story: str) -> Iterator[Any]:
        """The story's candidates read and scored below the threshold, with the
        text kept when they were read (url, address, found_via, title, text,
        seen_at);
        streamed, oldest first: a story may have thousands."""
        with self.db.session() as s:
            yield from s.execute(
                select(
                    m.Candidate.url,
                    m.Candidate.address,
                    m.Candidate.found_via,
                    m.Candidate.title,
                    m.Candidate.text,
                    m.Candidate.seen_at,
                )
                .join(m.Story, m.Story.id == m.Candidate.story_id)
                .where(
                    m.Story.slug == story,
                    m.Candidate.decision == Decision.REJECTED.value,
                    m.Candidate.text.is_not(None),
                    m.Candidate.score.is_not(None),
                )
                .order_by(m.Candidate.id)
                .execution_options(yield_per=200)
            )

    def judged(self, story: str, *, errors_before: datetime | None = None) -> dict[str, str]:
        """URL → decision of the candidates already judged for a story; not one
        whose fetch failed before `errors_before` (a 503, a timeout: tried again)."""
        with self.db.session() as s:
            rows = s.execute(
                select(m.Candidate.url, m.Candidate.decision, m.Candidate.seen_at)
                .join(m.Story, m.Story.id == m.Candidate.story_id)
                .where(m.Story.slug == story)
            ).all()
            return {
                u: d
                for u, d, seen in rows
                if not (d == Decision.ERROR and errors_before is not None and seen < errors_before)
            }

    def story_urls(self) -> dict[int, set[str]]:
        """Each story's watches' URLs and aliases (a watch may be in several)."""
        out: dict[int, set[str]] = {}
        with self.db.session() as s:
            by_watch = select(m.WatchStory.story_id, m.Watch.url).join(
                m.Watch, m.Watch.id == m.WatchStory.watch_id
            )
            by_alias = select(m.WatchStory.story_id, m.Alias.url).join(
                m.Alias, m.Alias.watch_id == m.WatchStory.watch_id
            )
            for story_id, url in (*s.execute(by_watch), *s.execute(by_alias)):
                out.setdefault(story_id, set()).add(url)
        return out

    def record_candidates(
        self, results: list[dict[str, Any]], *, now: datetime
    ) -> list[tuple[dict[str, Any], Watch | None]]:
        """Store judged candidates; those with decision "added" become discovered watches.

        One transaction for the run: the watches added and the judgements that
        justify them are written together.
        """
        out: list[tuple[dict[str, Any], Watch | None]] = []
        with self.db.session() as s:
            for r in results:
                watch = None
                if r["decision"] == Decision.ADDED:
                    existing = find(s, r["url"])
                    for alias in r.get("aliases", []):
                        existing = existing or find(s, alias)
                    if existing is not None and (
                        _in_story(s, existing.id, r["story_id"])
                        or existing.state in _RESTING  # unwatched, paused: left so
                    ):
                        r["decision"] = Decision.KNOWN.value
                        r["reason"] = f"already watched as {existing.url}" + (
                            f" ({existing.state}: not joined)" if existing.state in _RESTING else ""
                        )
                    elif existing is not None:  # another story's coverage: this one's too
                        join_story(s, existing, r["story_id"])
                        watch = existing
                        r["reason"] = f"already watched as {existing.url}; joined this story"
                    else:
                        watch = new_watch(
                            r["url"], story_id=None, now=now,
                            origin=Origin.DISCOVERED.value, found_via=r["found_via"][:2048],
                            score=r.get("score"), matched_terms=r.get("terms"), title=r.get("title"),
                        )  # fmt: skip
                        s.add(watch)
                        s.flush()
                        join_story(s, watch, r["story_id"])
                        s.add(m.Alias(url=r["url"], watch_id=watch.id))
                        for alias in r.get("aliases", []):
                            add_alias(s, alias, watch.id)
                self._judgement(s, r, watch, now)
                out.append((r, as_watch(s, watch) if watch is not None else None))
        return out

    @staticmethod
    def _judgement(s: Any, r: dict[str, Any], watch: m.Watch | None, now: datetime) -> None:
        # A candidate judged again (`discover --rejudge`) is its row, under the
        # address its source listed, whatever it is watched as.
        url = r.get("listed") or r["url"]
        cand = s.scalar(
            select(m.Candidate).where(m.Candidate.story_id == r["story_id"], m.Candidate.url == url)
        )
        if cand is None:
            cand = m.Candidate(
                story_id=r["story_id"], url=url, found_via=r["found_via"][:2048],
                seen_at=now, decision=r["decision"],
            )  # fmt: skip
            s.add(cand)
        cand.title = r.get("title")
        cand.address = (r.get("address") or None) and r["address"][:2048]
        cand.text = (r.get("text") or None) and r["text"][:50_000]
        cand.score = r.get("score")
        cand.matched_terms = r.get("terms")
        cand.decision = str(r["decision"])
        cand.reason = (r.get("reason") or None) and r["reason"][:500]
        cand.seen_at = now
        cand.watch_id = watch.id if watch is not None else cand.watch_id


def _in_story(s: Any, watch_id: int, story_id: int) -> bool:
    return s.get(m.WatchStory, (watch_id, story_id)) is not None


_RESTING = frozenset(st.value for st in RESTING_STATES)
