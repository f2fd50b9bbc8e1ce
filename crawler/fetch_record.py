"""What one fetch writes: the record built from the fetch and its verdict
(crawler.record judges and writes it), and the record written when building
it raised, so that no fetch goes unrecorded."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from raqib import urls
from raqib.crawler.workers import AnalysisError
from raqib.diffs.signals import instant
from raqib.domain import Fetched, FetchRecord, Outcome, Task, WatchState
from raqib.extract.judge import Verdict
from raqib.extract.page import Page
from raqib.extract.scripted import scripted
from raqib.normalize.arabic import search_key
from raqib.recording import page_meta

# A watch whose record cannot be built, and whose policy cannot say when to
# fetch it again either, waits this long (the longest error back-off by default).
FALLBACK_DELAY = timedelta(days=1)


class Policy(Protocol):
    def after_fetch(
        self, watch: Any, outcome: str, now: datetime, retry_after: timedelta | None = None
    ) -> Any: ...


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as seconds or as an HTTP date; None when absent or nonsense."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # '²' is a digit to str.isdigit
        return timedelta(seconds=min(int(value), 30 * 86400))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


def aliases_for(task: Task, fetched: Fetched, page: Page | None) -> list[str]:
    """URLs that should find this watch later: after redirects, canonical, AMP;
    only on the watch's own registrable domain. A stranger's page that
    redirects to another site's article would otherwise make that article
    "already watched" as the stranger's, whose address then serves its edits
    (a publisher moved to a new domain is watched anew there)."""
    canonical = page.canonical_url if page is not None else None
    amp = page.amp_url if page is not None else None
    served = fetched.final_url or fetched.url
    if fetched.url == served == task.url and not (fetched.redirects or canonical or amp):
        return []  # served at the watch's own address, normalised already, naming no other
    if _another_story(task, page):
        return []  # a redirect to another story (a takedown's to a newer one): not its address
    primary, others = urls.identity(
        fetched.url,
        final=fetched.final_url,
        redirects=fetched.redirects,
        canonical=canonical,
        amp=amp,
    )
    return [
        u
        for u in (primary, *others)
        if u != task.url and not urls.is_home(u) and urls.same_owner(u, task.url)
    ]


def _another_story(task: Task, page: Page | None) -> bool:
    """Whether the page served is another story than the watch's: published on
    another day than the watch's story was (a story moved to a new slug keeps its
    day; either date unknown or unread, it is the same story)."""
    said = page.snapshot.published if page is not None else (task.meta or {}).get("published")
    was, now = instant(story_published(task, None) or ""), instant(str(said or ""))
    if was is None or now is None:  # no page: the region check vouched for the last one read
        return False
    (a, _), (b, _) = was, now
    if a.date() == b.date():
        return False
    try:  # one moment in two zones across midnight is one day (each read both ways)
        return not (a.tzinfo and b.tzinfo) or a.astimezone(UTC).date() != b.astimezone(UTC).date()
    except (OverflowError, ValueError):  # a stranger's year 9999: no other story to tell
        return False


def story_published(task: Task, page: Page | None) -> str | None:
    """When the watch's story was published: kept in its meta from the first
    fetch that said (a redirect to another story must not make that one's the
    watch's on the next check), else what this page says."""
    meta = task.meta or {}
    kept = meta.get("story_published") or meta.get("published")
    return str(kept) if kept else (page.snapshot.published if page is not None else None)


def advise(task: Task, fetched: Fetched, verdict: Verdict) -> Verdict:
    """What the fetch log should tell the user beyond the outcome: a page whose
    body its scripts build wants `--render`; requests a rendered page made that
    the address guard refused."""
    detail = verdict.detail
    if (
        verdict.outcome == Outcome.NOT_ARTICLE
        and not fetched.rendered
        and fetched.text is not None
        and (detail or "").startswith("no article text found")
        and scripted(fetched.text)
    ):
        detail = f"{detail}; its scripts build the page: try `raqib watch --render {task.url}`"
    if fetched.refused:
        shown = ", ".join(fetched.refused[:3]) + (" …" if len(fetched.refused) > 3 else "")
        note = f"the address guard refused {len(fetched.refused)} of the page's requests: {shown}"
        detail = f"{detail}; {note}" if detail else note
    return verdict if detail == verdict.detail else dataclasses.replace(verdict, detail=detail)


def build_record(
    task: Task, fetched: Fetched, verdict: Verdict, key: str | None, policy: Policy
) -> FetchRecord:
    retry_after = parse_retry_after(fetched.retry_after, fetched.fetched_at)
    nxt = policy.after_fetch(task, verdict.outcome, fetched.fetched_at, retry_after)
    page = verdict.page
    new = verdict.outcome == Outcome.NEW_VERSION
    good = new or verdict.outcome in (Outcome.UNCHANGED, Outcome.RESTORED)
    return FetchRecord(
        watch_id=task.watch_id,
        fetched_at=fetched.fetched_at,
        outcome=verdict.outcome,
        next_check_at=nxt.at,
        new_state=WatchState.REJECTED if verdict.reject else nxt.state,
        error_count=nxt.error_count,
        removed_count=nxt.removed_count,
        status=fetched.status,
        duration_ms=fetched.duration_ms,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        detail=verdict.detail,
        url=fetched.final_url or fetched.url,
        snapshot=page.snapshot if page is not None and new else None,
        raw_body=fetched.body if new else None,
        body_key=key if good else None,
        aliases=aliases_for(task, fetched, page)
        if good or verdict.outcome == Outcome.NOT_MODIFIED
        else [],
        **_archived(fetched),
        # Extracted in full: its region (or {}, none: the old one must not stay).
        region=(page.region or {}) if page is not None and good else None,
        meta={**page_meta(page.snapshot), "story_published": story_published(task, page)}
        if page is not None and good
        else None,
        notices_moved=page is not None
        and good
        and list(page.snapshot.notices) != list((task.meta or {}).get("notices") or []),
        shot=fetched.shot if new else None,
        # Keyed on the crawl's thread, not in an extraction worker: on a first pass
        # the worker is the slower, and the crawl's thread ends up waiting for it
        # (keyed there, a peers' first pass ended 70 ms later; docs/performance-record.md).
        search_key=_search_key(page.snapshot.title, page.snapshot.text)
        if page is not None and new
        else None,
    )


def failure(exc: Exception) -> str:
    """What went wrong, for the fetch log: crawler.workers' errors say it
    themselves; any other is named by its type."""
    if isinstance(exc, AnalysisError):
        return exc.reason
    return f"{type(exc).__name__}: {exc}"


def _search_key(title: str, text: str) -> str | None:
    """None when the key raises on a stranger's text: the version is stored,
    and the search index's refresh keys it (or logs why it cannot)."""
    try:
        return search_key(f"{title}\n{text}")
    except Exception:
        return None


def failed_record(task: Task, fetched: Fetched, detail: str, policy: Policy) -> FetchRecord:
    """An error for a fetch whose record could not be built (a stranger's
    header or link the code did not foresee): the watch backs off as for any
    error, instead of staying unrecorded and first in line on every pass."""
    try:
        nxt = policy.after_fetch(task, Outcome.ERROR, fetched.fetched_at, None)
        at, state, errors, removed = nxt.at, nxt.state, nxt.error_count, nxt.removed_count
    except Exception:
        at, state, errors, removed = fetched.fetched_at + FALLBACK_DELAY, None, None, None
    return FetchRecord(
        watch_id=task.watch_id, fetched_at=fetched.fetched_at, outcome=Outcome.ERROR,
        next_check_at=at, new_state=state, error_count=errors, removed_count=removed,
        status=fetched.status, duration_ms=fetched.duration_ms, detail=detail[:300],
        **_archived(fetched),
    )  # fmt: skip


def _archived(fetched: Fetched) -> dict[str, Any]:
    """The record's WARC fields: where the fetch's record sits and, for a
    revisit, where its original does (crawler.capture)."""
    if not isinstance(fetched.warc, tuple):  # not archived, or the archive failed
        return {}
    file, offset, refers = fetched.warc
    return {"warc_file": file, "warc_offset": offset, "warc_refers": refers}
