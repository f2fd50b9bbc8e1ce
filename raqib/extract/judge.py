"""Judge one fetch: which outcome of the fixed vocabulary it records.

Two steps, both pure: `before_extraction` settles what the response alone
decides (errors, 304, 404/410, not HTML, an identical body); `after_extraction`
judges the extracted page against the last version.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from raqib.domain import Fetched, Origin, Outcome, Task, WatchState
from raqib.extract.page import Page, Same
from raqib.extract.results import BOT_CHECK, REMOVED_NOTICE, NotArticle
from raqib.recording import meta_change, page_meta

COLLAPSE_RATIO = 0.2  # a page keeping under a fifth of the last version's words collapsed
COLLAPSE_MIN_WORDS = 100

_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    detail: str | None = None
    page: Page | None = None
    reject: bool = False  # an outlet's listed page that is not an article: stop watching it


REJECT_AFTER = 3  # an outlet's page that is never an article in this many fetches is dropped


def _newcomer(task: Task) -> bool:
    """An outlet's listed page not yet seen as an article."""
    return task.origin == Origin.OUTLET and task.version_count == 0


def _same(task: Task) -> Outcome:
    return Outcome.RESTORED if task.state == WatchState.REMOVED else Outcome.UNCHANGED


def before_extraction(task: Task, fetched: Fetched, key: str | None) -> Verdict | None:
    """The verdict when the response settles it; None when the page must be read."""
    if fetched.error:
        return Verdict(Outcome.ERROR, fetched.error)
    status = fetched.status or 0
    if status == 304:
        if not task.content_hash:
            return Verdict(Outcome.ERROR, "304 Not Modified for a page never seen")
        return Verdict(
            Outcome.RESTORED if task.state == WatchState.REMOVED else Outcome.NOT_MODIFIED
        )
    if status in (404, 410):
        return Verdict(Outcome.REMOVED, f"HTTP {status}")
    if status == 429 or status >= 400:
        return Verdict(Outcome.ERROR, f"HTTP {status}")
    if not 200 <= status < 300:
        return Verdict(Outcome.ERROR, f"HTTP {status}")
    ctype = (fetched.content_type or "").split(";")[0].strip().lower()
    if fetched.text is None or (ctype and not ctype.startswith(_HTML_TYPES)):
        return Verdict(Outcome.NOT_ARTICLE, f"not an HTML page ({ctype or 'no content type'})")
    if not fetched.body.strip():
        return Verdict(Outcome.NOT_ARTICLE, "empty body")
    if key is not None and key == task.body_key and task.content_hash:
        return Verdict(_same(task))
    return None


def outlet_verdict(task: Task, verdict: Verdict) -> Verdict:
    """An outlet brings whatever its sources list; a page that declares itself
    something else (a video, a live page, a section) is rejected on its first
    fetch, one that never reads as an article after a few tries too. A bot
    check is the site's for a while, not the page's: it never rejects (the
    watch backs off, and reads the article once the wall is down)."""
    if not _newcomer(task):
        return verdict
    kind = verdict.page.kind if verdict.page is not None else None
    if verdict.outcome == Outcome.NEW_VERSION and kind not in (None, "article"):
        return Verdict(
            Outcome.NOT_ARTICLE, f"not an article: the page declares itself a {kind} page",
            reject=True,
        )  # fmt: skip
    if (
        verdict.outcome == Outcome.NOT_ARTICLE
        and verdict.detail != BOT_CHECK
        and task.error_count + 1 >= REJECT_AFTER
    ):
        return dataclasses.replace(verdict, reject=True)
    return verdict


def after_extraction(task: Task, result: Page | NotArticle | Same) -> Verdict:
    if isinstance(result, Same):
        return Verdict(_same(task))  # (no detail: an unchanged fetch must stay a small row)
    if isinstance(result, NotArticle):
        if result.reason.startswith(REMOVED_NOTICE):  # as a 404 would say
            return Verdict(Outcome.REMOVED, result.reason)
        return Verdict(Outcome.NOT_ARTICLE, result.reason)
    snap = result.snapshot
    broken = snap.text.count("\ufffd")
    if broken > task.last_replacements:
        # Bytes the declared charset cannot decode, inside the article: the
        # page is damaged or mislabelled, not edited. The first fetch too: a
        # damaged first version would make every later fetch look edited.
        return Verdict(
            Outcome.NOT_ARTICLE,
            f"undecodable bytes in the article text ({broken} replacement characters)",
        )
    words = len(snap.text.split())
    if task.last_words >= COLLAPSE_MIN_WORDS and words < task.last_words * COLLAPSE_RATIO:
        return Verdict(
            Outcome.NOT_ARTICLE,
            f"extraction collapsed: {words} words where the last version had {task.last_words}",
        )
    if snap.content_hash == task.content_hash:
        # The same text and headline: a changed byline or date is said, not versioned.
        return Verdict(_same(task), meta_change(task.meta, page_meta(snap)), page=result)
    return Verdict(Outcome.NEW_VERSION, page=result)
